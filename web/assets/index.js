// GET /: ask for a link. The answer is the same whatever the account's state,
// so this page says the same words for every well-formed address.
//
// Then it waits (DESIGN.md "Contract: HTTP", cross-device): it shows the
// two-digit number the link's page on another device will ask for, polls GET
// /login/{request} until that device approves, and signs in with the one-time
// answer it hands over — no click needed. Meanwhile the code from the mail
// can be typed here. The request handle lives only in this page's memory and
// the poll's path: never in storage, never in the address bar.
import {
  classify, loadConfig, rememberRequest, retryAfterMs, show, signInWithAnswer,
} from './common.js';

const form = document.getElementById('request-form');
const input = document.getElementById('email');
const fieldError = document.getElementById('email-error');
const submit = document.getElementById('submit');
const status = document.getElementById('status');
const codeForm = document.getElementById('code-form');
const codeInput = document.getElementById('code');
const codeError = document.getElementById('code-error');
const codeSubmit = document.getElementById('code-submit');
const waitStatus = document.getElementById('wait-status');
const sentEnd = document.getElementById('sent-end');
const finishRetry = document.getElementById('finish-retry');

// The configuration says whether this deployment waits for approvals and
// mails codes. Without it (offline, not set up) the page still asks for
// links; it only cannot offer the other two ways.
let config = null;
const configReady = loadConfig().then((c) => { config = c; }, () => { config = null; });

// Polling: fast at first, when the person may already be on the other
// device, then every 5 s; slower after the default link lifetime, for
// deployments with a longer one. The server ends the request (404) when the
// link's lifetime does, so the page never decides that itself.
const POLL_FIRST_MS = 1000;
const POLL_GROWTH = 1.5;
const POLL_MAX_MS = 5000;
const POLL_SLOW_AFTER_MS = 10 * 60 * 1000;
const POLL_SLOW_MS = 30000;

// One waiting request at a time; a new one (or "use another address")
// replaces it and the old one's timers and answers are ignored.
let waiting = null;
// finishing: a sign-in with the code or an approved answer is under way.
let finishing = false;

// "Email me a new link" on the sign-in page brings the address along in the
// fragment (#email=…), which no server sees. A query string is deliberately
// not read: it would put addresses in server and proxy logs.
function prefill() {
  const email = new URLSearchParams(location.hash.slice(1)).get('email');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  if (email) input.value = email.slice(0, 254);
}

function setFieldError(el, field, message) {
  el.textContent = message;
  el.hidden = !message;
  if (message) field.setAttribute('aria-invalid', 'true');
  else field.removeAttribute('aria-invalid');
}

function setStatus(message, kind) {
  status.textContent = message;
  status.hidden = !message;
  status.classList.toggle('error', kind === 'error');
}

function setState(state) {
  document.body.dataset.state = state;
}

async function request(event) {
  event.preventDefault();
  setStatus('');
  const email = input.value.trim().toLowerCase();
  if (!email || !input.validity.valid) {
    setFieldError(fieldError, input, email ? 'Enter an address like name@example.com.' : 'Enter your email address.');
    input.focus();
    return;
  }
  setFieldError(fieldError, input, '');
  submit.disabled = true;
  submit.textContent = 'Sending…';
  try {
    const res = await fetch('login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email }),
      credentials: 'same-origin',
    });
    let body = {};
    try {
      body = await res.json();
    } catch {
      body = {};
    }
    if (res.status === 202) {
      rememberRequest(email);
      await configReady;
      sent(email, body || {});
      return;
    }
    if (res.status === 400 || res.status === 413) {
      setFieldError(fieldError, input, body.message ? capitalise(body.message) + '.' : 'Check the address and try again.');
      input.focus();
    } else if (res.status === 429) {
      setStatus('Too many sign-in requests from this network right now. Please wait a few minutes and try again.', 'error');
    } else {
      setStatus('We could not send the link just now. Please try again in a moment.', 'error');
    }
  } catch {
    setStatus('We could not reach the server. Check your connection and try again.', 'error');
  } finally {
    submit.disabled = false;
    submit.textContent = 'Email me a sign-in link';
  }
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// sent shows "Check your inbox" and, where the deployment offers them, the
// number to approve with on another device and the code box.
function sent(email, body) {
  stopWaiting();
  document.getElementById('sent-email').textContent = email;
  const cross = Boolean(config && config.crossDevice && typeof body.request === 'string' &&
    body.request && /^[0-9]{2}$/.test(String(body.number)));
  const codes = Boolean(config && config.codes);
  document.getElementById('number-panel').hidden = !cross;
  document.getElementById('number').textContent = cross ? body.number : '';
  codeForm.hidden = !codes;
  codeInput.value = '';
  setFieldError(codeError, codeInput, '');
  setEnd('');
  if (cross) {
    waitStatus.textContent = 'Waiting for the other device…';
    waiting = { email, request: body.request, started: Date.now(), delay: POLL_FIRST_MS, timer: 0, inFlight: false, answer: '' };
    schedule(waiting, POLL_FIRST_MS);
  }
  setState(cross ? 'waiting' : 'sent');
  show('view-sent');
}

function setEnd(message, retry) {
  document.getElementById('sent-end-text').textContent = message;
  sentEnd.hidden = !message;
  finishRetry.hidden = !retry;
}

function stopWaiting() {
  if (waiting) clearTimeout(waiting.timer);
  waiting = null;
}

function schedule(w, ms) {
  clearTimeout(w.timer);
  w.timer = setTimeout(() => poll(w), ms);
}

function nextDelay(w) {
  if (Date.now() - w.started > POLL_SLOW_AFTER_MS) return POLL_SLOW_MS;
  w.delay = Math.min(w.delay * POLL_GROWTH, POLL_MAX_MS);
  return w.delay;
}

async function poll(w) {
  if (w !== waiting || w.inFlight || finishing) return;
  w.inFlight = true;
  let res = null;
  let body = {};
  try {
    res = await fetch('login/' + encodeURIComponent(w.request), {
      credentials: 'same-origin',
      cache: 'no-store',
    });
    try {
      body = await res.json();
    } catch {
      body = {};
    }
  } catch {
    res = null; // offline for a moment: keep trying, quietly
  } finally {
    w.inFlight = false;
  }
  // Replaced or finished meanwhile, or a code is being checked (which ends
  // the request when it signs in: the page must not say "ended" then).
  if (w !== waiting || finishing) return;
  if (!res) {
    waitStatus.textContent = 'Waiting for the other device… (the connection dropped; still trying)';
    schedule(w, nextDelay(w));
    return;
  }
  if (res.status === 200 && body && body.status === 'approved' && typeof body.answer === 'string' && body.answer) {
    w.answer = body.answer; // told once: keep it in case signing in must be retried
    clearTimeout(w.timer);
    waitStatus.textContent = 'Approved on your other device. Signing you in…';
    finish(w.email, w.answer, 'approved');
    return;
  }
  if (res.status === 404) {
    ended();
    return;
  }
  if (res.status === 429) {
    schedule(w, Math.max(retryAfterMs(res, POLL_MAX_MS), nextDelay(w)));
    return;
  }
  waitStatus.textContent = 'Waiting for the other device…';
  schedule(w, nextDelay(w)); // pending, or a passing server error
}

// ended: the request can no longer be approved — it expired, a wrong number
// voided it, or the link or code was used. The code and the link may still
// work; say all of it plainly.
function ended() {
  stopWaiting();
  document.getElementById('number-panel').hidden = true;
  const codes = !codeForm.hidden;
  setEnd((codes
    ? 'This sign-in request has ended: it can no longer be approved from another device. Type the code from the email, open the link in this browser, or ask for a new link.'
    : 'This sign-in request has ended: it can no longer be approved from another device. Open the link in this browser, or ask for a new link.') +
    ' Already used the link? Then you are signed in there.');
  setState('ended');
}

// normaliseCode reads what a person typed as the server does: any case,
// dash and spaces optional; the letters Crockford's alphabet leaves out
// (I, L, O, U) are left for the server to read or refuse, except U, which
// never occurs in a code.
export function normaliseCode(s) {
  const c = String(s).toUpperCase().replace(/[\s-]/g, '');
  return /^[0-9A-TV-Z]{6}$/.test(c) ? c : '';
}

async function submitCode(event) {
  event.preventDefault();
  if (document.body.dataset.state === 'working') return;
  const code = normaliseCode(codeInput.value);
  if (!code) {
    setFieldError(codeError, codeInput, codeInput.value.trim()
      ? 'A code is 6 letters and digits, like ABC-123. Check it against the email.'
      : 'Type the code from the email.');
    codeInput.focus();
    return;
  }
  setFieldError(codeError, codeInput, '');
  const email = document.getElementById('sent-email').textContent;
  finish(email, code, 'code');
}

// finish signs in with answer (the code, or the answer an approval handed
// over) and then shows the signed-in page.
async function finish(email, answer, how) {
  if (finishing) return;
  finishing = true;
  if (waiting) clearTimeout(waiting.timer);
  setState('working');
  codeSubmit.disabled = true;
  codeSubmit.textContent = 'Signing in…';
  if (how !== 'code') setEnd('');
  try {
    if (!config) throw new Error('no configuration');
    await signInWithAnswer(config, email, answer);
    stopWaiting();
    // The sign-in page shows who is signed in and what GET /me says, and
    // offers Sign out: the same page a link ends on. The tokens are in this
    // tab's sessionStorage, which the page shares.
    location.replace('sign-in');
    return;
  } catch (err) {
    const kind = config ? classify(err) : 'network';
    if (how === 'code') {
      if (kind === 'used') {
        setFieldError(codeError, codeInput, 'That code did not work. Check it against the newest email: each code works once, for a short time, and only for the address it was sent to.');
      } else if (kind === 'throttled') {
        setFieldError(codeError, codeInput, 'Too many attempts right now. Wait a minute, then try again.');
      } else {
        setFieldError(codeError, codeInput, 'We could not reach the sign-in service. Check your connection and try again.');
      }
      codeInput.focus();
      codeInput.select(); // typing again replaces it
      setState('code-wrong');
      if (waiting) schedule(waiting, 0); // go on waiting for an approval
    } else if (kind === 'used') {
      // The approval was made, but its answer no longer signs in (the link
      // or code was used meanwhile, or it expired).
      stopWaiting();
      document.getElementById('number-panel').hidden = true;
      setEnd('The approval could not be used: this sign-in request has ended. Type the code from the email, open the link in this browser, or ask for a new link.');
      setState('ended');
    } else {
      // Not spent yet: the same answer works once the service answers.
      setEnd(kind === 'throttled'
        ? 'Approved, but there were too many attempts just now. Wait a minute, then try again.'
        : 'Approved, but we could not reach the sign-in service. Check your connection and try again.', true);
      setState('error-' + kind);
    }
  } finally {
    finishing = false;
    codeSubmit.disabled = false;
    codeSubmit.textContent = 'Sign in';
  }
}

finishRetry.addEventListener('click', () => {
  if (waiting && waiting.answer) finish(waiting.email, waiting.answer, 'approved');
});

// A tab in the background gets its timers slowed down by the browser; when
// the person comes back from the other device, ask at once.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && waiting && !waiting.answer) schedule(waiting, 0);
});

document.getElementById('again').addEventListener('click', () => {
  stopWaiting();
  setState('request');
  show('view-request');
  input.focus();
  input.select();
});
form.addEventListener('submit', request);
codeForm.addEventListener('submit', submitCode);
prefill();
// The page's state, for tests and styling: request, then sent (or waiting
// for an approval, then ended or on to the sign-in page).
setState('request');
