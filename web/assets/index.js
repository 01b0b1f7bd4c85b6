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
  classify, loadConfig, rememberRequest, retryAfterMs, show, signInWithAnswer, t,
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
// The buttons' own words, in the page's language, to put back after
// "Sending…" and "Signing in…".
const submitLabel = submit.textContent;
const codeSubmitLabel = codeSubmit.textContent;

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
    setFieldError(fieldError, input, email ? t('emailInvalid') : t('emailMissing'));
    input.focus();
    return;
  }
  setFieldError(fieldError, input, '');
  submit.disabled = true;
  submit.textContent = t('sending');
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
      // The server's message is English; the page says it in its own words.
      setFieldError(fieldError, input, t('emailRefused'));
      input.focus();
    } else if (res.status === 429) {
      setStatus(t('throttled'), 'error');
    } else {
      setStatus(t('sendFailed'), 'error');
    }
  } catch {
    setStatus(t('offline'), 'error');
  } finally {
    submit.disabled = false;
    submit.textContent = submitLabel;
  }
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
    waitStatus.textContent = t('waiting');
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
    waitStatus.textContent = t('waitingOffline');
    schedule(w, nextDelay(w));
    return;
  }
  if (res.status === 200 && body && body.status === 'approved' && typeof body.answer === 'string' && body.answer) {
    w.answer = body.answer; // told once: keep it in case signing in must be retried
    clearTimeout(w.timer);
    waitStatus.textContent = t('approved');
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
  waitStatus.textContent = t('waiting');
  schedule(w, nextDelay(w)); // pending, or a passing server error
}

// ended: the request can no longer be approved — it expired, a wrong number
// voided it, or the link or code was used. The code and the link may still
// work; say all of it plainly.
function ended() {
  stopWaiting();
  document.getElementById('number-panel').hidden = true;
  const codes = !codeForm.hidden;
  setEnd((codes ? t('endedCodes') : t('endedNoCodes')) + ' ' + t('alreadyUsed'));
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
      ? t('codeInvalid')
      : t('codeMissing'));
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
  codeSubmit.textContent = t('signingIn');
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
        setFieldError(codeError, codeInput, t('codeWrong'));
      } else if (kind === 'throttled') {
        setFieldError(codeError, codeInput, t('codeThrottled'));
      } else {
        setFieldError(codeError, codeInput, t('codeOffline'));
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
      setEnd(t('approvalEnded'));
      setState('ended');
    } else {
      // Not spent yet: the same answer works once the service answers.
      setEnd(kind === 'throttled' ? t('approvedThrottled') : t('approvedOffline'), true);
      setState('error-' + kind);
    }
  } finally {
    finishing = false;
    codeSubmit.disabled = false;
    codeSubmit.textContent = codeSubmitLabel;
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
