// GET /sign-in: the page the link opens (DESIGN.md "Contract: the link").
//
// The link's fragment is "<url.QueryEscape(email)>,<challenge>". The page
// drops it from the address bar at once, then signs in with Cognito's public
// API: InitiateAuth (CUSTOM_AUTH) and RespondToAuthChallenge with the
// challenge as ANSWER.
//
// Mail scanners open links, some in headless browsers that run JavaScript,
// and would spend a one-time link before the person clicks. So the link is
// spent on page load only in the browser that asked for it (the marker the
// form left in localStorage); anywhere else the person chooses: sign in on
// this device, or approve the sign-in waiting on the other device with the
// number it shows (POST /approve) — where the deployment offers approvals.
// In an in-app browser (a link tapped in Instagram, LINE, …) a sign-in would
// stay inside that app, so the page leads with approving and offers to open
// the link in the system browser.
import {
  CognitoError, classify, clearTokens, cognito, jwtClaims, loadConfig,
  loadTokens, newLinkHref, postJSON, show, signInWithAnswer, wasRequested,
} from './common.js';

// Read and drop the fragment before anything else can fail, so the
// challenge does not linger in the address bar, history or screenshots.
let fragment = location.hash.slice(1);
if (location.hash) history.replaceState(null, '', location.pathname + location.search);

const EMAIL_RE = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
const ANSWER_RE = /^[A-Za-z0-9_-]{22,512}$/;

// parseLink splits at the last comma; the address part was encoded with Go's
// url.QueryEscape, which writes spaces as '+'.
export function parseLink(s) {
  if (!s) return { error: 'missing' };
  const i = s.lastIndexOf(',');
  if (i <= 0) return { error: 'malformed' };
  let email;
  try {
    email = decodeURIComponent(s.slice(0, i).replace(/\+/g, ' ')).trim().toLowerCase();
  } catch {
    return { error: 'malformed' };
  }
  const answer = s.slice(i + 1);
  if (email.length > 254 || !EMAIL_RE.test(email)) return { error: 'malformed' };
  if (!ANSWER_RE.test(answer)) return { error: 'malformed', email };
  return { email, answer };
}

// What each failure tells the person. "Expired" and "already used" are one
// message on purpose: Cognito answers both the same way, and so do we.
// retry: offer Try again (the last action); signIn: offer "Sign in on this
// device" (the link still works).
const ERRORS = {
  used: {
    title: 'This link has expired or was already used',
    text: 'Each sign-in link works once, for a short time. Ask for a new one and open the newest email.',
  },
  malformed: {
    title: 'This link is incomplete',
    text: 'Part of the link seems to be missing or changed — some email apps break long links. Ask for a new link, or copy the whole link from the email into the address bar.',
  },
  missing: {
    title: 'Open the link from your email',
    text: 'This page finishes signing in from the link we email you. Ask for a link to get started.',
  },
  network: {
    title: 'We could not reach the sign-in service',
    text: 'Check your connection and try again. If it keeps failing, ask for a new link.',
    retry: true,
  },
  throttled: {
    title: 'Too many attempts right now',
    text: 'Wait a minute, then try again.',
    retry: true,
  },
  config: {
    title: 'Sign-in is not set up here yet',
    text: 'The site is missing part of its sign-in configuration. Please try again later.',
    retry: true,
  },
  ended: {
    title: 'Your session has ended',
    text: 'For your security, sessions last a limited time. Ask for a new link to sign in again.',
  },
  'wrong-number': {
    title: "That number didn't match",
    text: "That sign-in request can't be approved any more; ask for a new link there, or sign in here.",
    signIn: true,
  },
  'no-approvals': {
    title: 'Approving from here is not available',
    text: 'This site cannot approve a sign-in on another device right now. Sign in on this device instead, or ask for a new link there.',
    signIn: true,
  },
};

let link = parseLink(fragment);
let config = null; // /config.json, once read
let retryAction = null; // what Try again repeats
let confirmState = 'confirm'; // the choice view's state, to go back to

function fail(kind, email) {
  const e = ERRORS[kind] || ERRORS.network;
  document.getElementById('error-title').textContent = e.title;
  document.getElementById('error-text').textContent = e.text;
  const live = Boolean(link && link.answer);
  const retry = Boolean(e.retry && live && retryAction);
  const signInHere = Boolean(e.signIn && live);
  document.getElementById('retry').hidden = !retry;
  document.getElementById('error-sign-in').hidden = !signInHere;
  const newLink = document.getElementById('new-link');
  newLink.href = newLinkHref(email);
  newLink.classList.toggle('secondary', retry || signInHere); // one primary action at a time
  document.body.dataset.state = 'error-' + kind;
  show('view-error');
}

// forget drops the challenge once the link is spent (signed in or
// approved): nothing on the page can use or show it any more.
function forget() {
  link = null;
  fragment = '';
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
}

let busy = false;

async function signIn() {
  if (busy || !link || !link.answer) return; // a double click spends nothing twice
  busy = true;
  retryAction = signIn;
  document.body.dataset.state = 'working';
  show('view-working');
  const { email, answer } = link;
  try {
    const cfg = config || await loadConfig();
    await signInWithAnswer(cfg, email, answer);
    // The marker stays (it expires by itself): this browser opening the
    // link again should hear at once that it is used.
    forget();
    await showSignedIn();
  } catch (err) {
    fail(classify(err), email);
  } finally {
    busy = false;
  }
}

// approve sends the number the other device shows (POST /approve). The
// server spends the link when the number matches, and voids that waiting
// request when it does not (the link itself still works).
async function approve(event) {
  if (event) event.preventDefault();
  if (busy || !link || !link.answer) return;
  const input = document.getElementById('number');
  const number = input.value.replace(/\s/g, '');
  if (!/^[0-9]{2}$/.test(number)) {
    setNumberError('Type the two digits your other device shows.');
    input.focus();
    return;
  }
  setNumberError('');
  busy = true;
  retryAction = approve;
  const button = document.getElementById('approve');
  button.disabled = true;
  button.textContent = 'Approving…';
  document.body.dataset.state = 'approving';
  const { email, answer } = link;
  try {
    const { status, body } = await postJSON('approve', { email, challenge: answer, number });
    if (status === 200 && body.status === 'approved') {
      forget();
      document.body.dataset.state = 'approved';
      show('view-approved');
    } else if (status === 409) {
      fail('wrong-number', email);
    } else if (status === 410) {
      forget();
      fail('used', email);
    } else if (status === 404) {
      fail('no-approvals', email);
    } else if (status === 429) {
      fail('throttled', email);
    } else if (status === 400 && body.error === 'invalid_number') {
      document.body.dataset.state = 'approve';
      setNumberError('Type the two digits your other device shows.');
      input.focus();
    } else if (status === 400) {
      fail('malformed', email);
    } else {
      fail('network', email);
    }
  } catch {
    fail('network', email);
  } finally {
    busy = false;
    button.disabled = false;
    button.textContent = 'Approve';
  }
}

function setNumberError(message) {
  const el = document.getElementById('number-error');
  const input = document.getElementById('number');
  el.textContent = message;
  el.hidden = !message;
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function startApprove() {
  if (!link || !link.answer) return;
  document.getElementById('approve-email').textContent = link.email;
  document.body.dataset.state = 'approve';
  show('view-approve');
  document.getElementById('number').focus();
}

// inAppBrowser names the app whose built-in browser this is, "" for a
// browser of its own. By user agent: the apps that say so. Gmail's and
// Outlook's views mostly do not; an Android WebView (";wv)") at least says
// it is one.
export function inAppBrowser(ua) {
  const apps = [
    [/FBAN|FBAV|FB_IAB|FBIOS/, 'Facebook'],
    [/Instagram/, 'Instagram'],
    [/\bLine\//, 'LINE'],
    [/MicroMessenger/, 'WeChat'],
    [/\bGSA\//, 'Google app'],
    [/LinkedInApp/, 'LinkedIn'],
    [/Twitter/, 'X'],
    [/musical_ly|TikTok|BytedanceWebview/, 'TikTok'],
    [/Snapchat/, 'Snapchat'],
    [/Pinterest/, 'Pinterest'],
    [/GmailApp|Outlook-(iOS|Android)/, 'mail app'],
    [/; wv\)/, 'app'],
  ];
  for (const [re, name] of apps) if (re.test(ua)) return name;
  return '';
}

function platform() {
  const ua = navigator.userAgent;
  if (/Android/.test(ua)) return 'android';
  if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)) return 'ios';
  return 'other';
}

// fullLink is the link as mailed: for the system browser or the clipboard
// only, never sent to any server (the challenge stays in the fragment).
function fullLink() {
  return location.origin + location.pathname + '#' + fragment;
}

// setUpOpenElsewhere offers the system browser to someone in an in-app one.
function setUpOpenElsewhere(app, os) {
  const where = app === 'app' || app === 'mail app' ? 'this app' : app;
  document.getElementById('inapp-note').textContent =
    'You opened the link inside ' + where + '. Signing in here keeps you signed in only inside ' + where + '.';
  document.getElementById('inapp-note').hidden = false;
  document.getElementById('open-elsewhere').hidden = false;
  const text = document.getElementById('open-text');
  if (os === 'android') {
    text.textContent = 'Open the link in your usual browser and sign in there.';
    document.getElementById('open-browser').hidden = false;
  } else if (os === 'ios') {
    text.textContent = 'Tap the ⋯ or share button of ' + where + ' and choose “Open in Safari” or “Open in browser”. Or copy the link and paste it into Safari.';
    document.getElementById('open-safari').hidden = false;
    // "Open in Safari" from the app's menu opens the address shown, so the
    // link goes back there — a fragment, which no server sees.
    history.replaceState(null, '', fullLink());
  } else {
    text.textContent = 'Copy the link and paste it into your usual browser.';
  }
}

// Android: an intent: URL hands the link to the system's browser. Android
// splits it at its last '#', so the link's own fragment survives intact.
function openInBrowser() {
  if (!fragment) return;
  const scheme = location.protocol.replace(':', '');
  location.href = 'intent://' + location.host + location.pathname + '#' + fragment +
    '#Intent;scheme=' + scheme + ';action=android.intent.action.VIEW;category=android.intent.category.BROWSABLE;end';
}

// iOS 17 and later open x-safari-https:// links in Safari; older versions
// ignore it, and the instructions on the page still hold.
function openInSafari() {
  if (!fragment) return;
  location.href = 'x-safari-' + fullLink();
}

async function copyLink() {
  const out = document.getElementById('copy-status');
  if (!fragment) return;
  try {
    await navigator.clipboard.writeText(fullLink());
    out.textContent = 'Copied. Paste it into your browser’s address bar.';
  } catch {
    out.textContent = 'This app does not let the page copy. Long-press the link in the email and copy it from there.';
  }
}

// confirm asks a person to choose; nothing is spent before they do.
async function confirm() {
  try {
    config = await loadConfig();
  } catch {
    config = null; // the choices that need it stay hidden; Continue reports the failure
  }
  if (!link || !link.answer) return;
  const cross = Boolean(config && config.crossDevice);
  const app = inAppBrowser(navigator.userAgent);
  document.getElementById('confirm-email').textContent = link.email;
  document.getElementById('continue-email').textContent = link.email;
  const cont = document.getElementById('continue');
  const approveStart = document.getElementById('approve-start');
  approveStart.hidden = !cross;
  document.getElementById('approve-help').hidden = !cross;
  document.getElementById('code-help').hidden = !(config && config.codes);
  if (cross) cont.textContent = 'Sign in on this device';
  if (app) {
    // Lead with what keeps the sign-in out of the app: approving the
    // device that asked, or opening the link in the system browser.
    setUpOpenElsewhere(app, platform());
    // Signing in inside the app comes last, after the ways out of it.
    if (cross) {
      approveStart.classList.remove('secondary');
      cont.classList.add('secondary');
    }
    cont.textContent = 'Sign in here, inside this app';
    document.getElementById('open-elsewhere').after(cont);
  }
  confirmState = app ? 'confirm-inapp' : 'confirm';
  document.body.dataset.state = confirmState;
  show('view-confirm');
}

async function showSignedIn() {
  const tokens = loadTokens();
  if (!tokens) return fail('missing');
  const claims = jwtClaims(tokens.idToken);
  if (tokens.expiresAt <= Date.now()) {
    clearTokens();
    return fail('ended', claims.email);
  }
  document.getElementById('who').textContent = claims.email || 'unknown address';
  const status = document.getElementById('me-status');
  const dl = document.getElementById('me-claims');
  status.textContent = 'Checking with the server…';
  status.hidden = false;
  dl.hidden = true;
  document.body.dataset.state = 'signed-in';
  show('view-signed-in');

  let res;
  try {
    res = await fetch('me', {
      headers: { Authorization: 'Bearer ' + tokens.idToken },
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    status.textContent = 'Could not reach the server to check your session. Reload to try again.';
    return;
  }
  if (res.status === 401) {
    clearTokens();
    return fail('ended', claims.email);
  }
  let me = null;
  try {
    me = await res.json();
  } catch {
    me = null;
  }
  if (!res.ok || !me) {
    status.textContent = 'The server could not check your session just now (' + res.status + '). Reload to try again.';
    return;
  }
  document.getElementById('me-email').textContent = me.email || '—';
  document.getElementById('me-sub').textContent = me.sub || '—';
  status.hidden = true;
  dl.hidden = false;
  document.body.dataset.state = 'signed-in-checked';
}

async function signOut() {
  const button = document.getElementById('sign-out');
  button.disabled = true;
  document.body.dataset.state = 'signing-out';
  const tokens = loadTokens();
  let revoked = true;
  if (tokens) {
    try {
      const cfg = await loadConfig();
      await cognito(cfg, 'GlobalSignOut', { AccessToken: tokens.accessToken });
    } catch (err) {
      // An expired or revoked token is signed out already.
      revoked = err instanceof CognitoError && err.type === 'NotAuthorizedException';
    }
  }
  clearTokens();
  button.disabled = false;
  document.getElementById('signed-out-text').textContent = revoked
    ? 'You have been signed out everywhere this account was signed in.'
    : 'You have been signed out on this device. We could not reach the sign-in service to end your other sessions.';
  document.body.dataset.state = 'signed-out';
  show('view-signed-out');
}

// A second link opened in this same tab changes only the fragment, which
// does not reload the page: reload so it is read like the first.
window.addEventListener('hashchange', () => location.reload());
document.getElementById('continue').addEventListener('click', signIn);
document.getElementById('error-sign-in').addEventListener('click', signIn);
document.getElementById('retry').addEventListener('click', () => (retryAction || signIn)());
document.getElementById('approve-start').addEventListener('click', startApprove);
document.getElementById('approve-form').addEventListener('submit', approve);
document.getElementById('approve-back').addEventListener('click', () => {
  document.body.dataset.state = confirmState;
  show('view-confirm');
});
document.getElementById('open-browser').addEventListener('click', openInBrowser);
document.getElementById('open-safari').addEventListener('click', openInSafari);
document.getElementById('copy-link').addEventListener('click', copyLink);
document.getElementById('sign-out').addEventListener('click', signOut);

if (link.error === 'missing') {
  if (loadTokens()) showSignedIn();
  else fail('missing');
} else if (link.error) {
  fail('malformed', link.email);
} else if (wasRequested(link.email)) {
  signIn(); // this browser asked for the link: a person is here
} else {
  confirm(); // perhaps a scanner: spend the link only on a click
}
