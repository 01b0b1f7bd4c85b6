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
  loadTokens, newLinkHref, postJSON, show, signInWithAnswer, t, wasRequested,
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

// What each failure tells the person: the title and text are the messages
// <kind>Title and <kind>Text. "Expired" and "already used" are one message
// on purpose: Cognito answers both the same way, and so do we.
// retry: offer Try again (the last action); signIn: offer "Sign in on this
// device" (the link still works).
const ERRORS = {
  used: { key: 'used' },
  malformed: { key: 'malformed' },
  missing: { key: 'missing' },
  network: { key: 'network', retry: true },
  throttled: { key: 'throttled', retry: true },
  config: { key: 'config', retry: true },
  ended: { key: 'ended' },
  'wrong-number': { key: 'wrongNumber', signIn: true },
  'no-approvals': { key: 'noApprovals', signIn: true },
};

let link = parseLink(fragment);
let config = null; // /config.json, once read
let retryAction = null; // what Try again repeats
let confirmState = 'confirm'; // the choice view's state, to go back to

function fail(kind, email) {
  const e = ERRORS[kind] || ERRORS.network;
  document.getElementById('error-title').textContent = t(e.key + 'Title');
  document.getElementById('error-text').textContent = t(e.key + 'Text');
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
    setNumberError(t('numberFormat'));
    input.focus();
    return;
  }
  setNumberError('');
  busy = true;
  retryAction = approve;
  const button = document.getElementById('approve');
  const label = button.textContent;
  button.disabled = true;
  button.textContent = t('approving');
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
      setNumberError(t('numberFormat'));
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
    button.textContent = label;
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
  // The app's name as the sentences use it; brands stay as they are.
  let where = app;
  if (app === 'app' || app === 'mail app') where = t('thisApp');
  else if (app === 'Google app') where = t('googleApp');
  document.getElementById('inapp-note').textContent = t('inappNote', { app: where });
  document.getElementById('inapp-note').hidden = false;
  document.getElementById('open-elsewhere').hidden = false;
  const text = document.getElementById('open-text');
  if (os === 'android') {
    text.textContent = t('openAndroid');
    document.getElementById('open-browser').hidden = false;
  } else if (os === 'ios') {
    text.textContent = t('openIOS', { app: where });
    document.getElementById('open-safari').hidden = false;
    // "Open in Safari" from the app's menu opens the address shown, so the
    // link goes back there — a fragment, which no server sees.
    history.replaceState(null, '', fullLink());
  } else {
    text.textContent = t('openOther');
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
    out.textContent = t('copied');
  } catch {
    out.textContent = t('copyFailed');
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
  if (cross) cont.textContent = t('signInHere');
  if (app) {
    // Lead with what keeps the sign-in out of the app: approving the
    // device that asked, or opening the link in the system browser.
    setUpOpenElsewhere(app, platform());
    // Signing in inside the app comes last, after the ways out of it.
    if (cross) {
      approveStart.classList.remove('secondary');
      cont.classList.add('secondary');
    }
    cont.textContent = t('signInInApp');
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
  document.getElementById('who').textContent = claims.email || t('unknownAddress');
  const status = document.getElementById('me-status');
  const dl = document.getElementById('me-claims');
  status.textContent = t('meChecking');
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
    status.textContent = t('meOffline');
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
    status.textContent = t('meFailed', { status: res.status });
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
    ? t('signedOutEverywhere')
    : t('signedOutHere');
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
