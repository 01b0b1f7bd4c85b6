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
// form left in localStorage); anywhere else the person presses "Continue".
import {
  CognitoError, ConfigError, clearTokens, cognito, jwtClaims,
  loadConfig, loadTokens, newLinkHref, saveTokens, show, wasRequested,
} from './common.js';

// Read and drop the fragment before anything else can fail, so the
// challenge does not linger in the address bar, history or screenshots.
const fragment = location.hash.slice(1);
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
};

let link = parseLink(fragment);

function fail(kind, email) {
  const e = ERRORS[kind] || ERRORS.network;
  document.getElementById('error-title').textContent = e.title;
  document.getElementById('error-text').textContent = e.text;
  const retry = Boolean(e.retry && link && link.answer);
  document.getElementById('retry').hidden = !retry;
  const newLink = document.getElementById('new-link');
  newLink.href = newLinkHref(email);
  newLink.classList.toggle('secondary', retry); // one primary action at a time
  document.body.dataset.state = 'error-' + kind;
  show('view-error');
}

function classify(err) {
  if (err instanceof ConfigError) return 'config';
  if (err instanceof CognitoError) {
    switch (err.type) {
      case 'NotAuthorizedException':
      case 'UserNotFoundException':
      case 'CodeMismatchException':
      case 'ExpiredCodeException':
      case 'UserNotConfirmedException':
      case 'UnexpectedChallenge':
        return 'used';
      case 'TooManyRequestsException':
      case 'LimitExceededException':
        return 'throttled';
      case 'ResourceNotFoundException':
      case 'InvalidParameterException':
      case 'InvalidUserPoolConfigurationException':
        return 'config';
      default:
        return 'network'; // 5xx and the unexpected: worth a retry
    }
  }
  return 'network'; // fetch's TypeError: offline, DNS, CORS, …
}

let busy = false;

async function signIn() {
  if (busy || !link || !link.answer) return; // a double click spends nothing twice
  busy = true;
  document.body.dataset.state = 'working';
  show('view-working');
  const { email, answer } = link;
  try {
    const cfg = await loadConfig();
    const started = await cognito(cfg, 'InitiateAuth', {
      AuthFlow: 'CUSTOM_AUTH',
      ClientId: cfg.clientId,
      AuthParameters: { USERNAME: email },
    });
    if (started.ChallengeName !== 'CUSTOM_CHALLENGE' || !started.Session) {
      throw new CognitoError('UnexpectedChallenge', String(started.ChallengeName));
    }
    const params = started.ChallengeParameters || {};
    const done = await cognito(cfg, 'RespondToAuthChallenge', {
      ChallengeName: 'CUSTOM_CHALLENGE',
      ClientId: cfg.clientId,
      Session: started.Session,
      // Cognito names the user by its own username (the sub when addresses
      // are usernames); answering with it is what the SDKs do.
      ChallengeResponses: { USERNAME: params.USERNAME || email, ANSWER: answer },
    });
    if (!done.AuthenticationResult) {
      // Another challenge: the answer was wrong, i.e. not a live link.
      throw new CognitoError('UnexpectedChallenge', String(done.ChallengeName));
    }
    saveTokens(done.AuthenticationResult);
    // The marker stays (it expires by itself): this browser opening the
    // link again should hear at once that it is used.
    link = null; // spent; forget the challenge
    await showSignedIn();
  } catch (err) {
    fail(classify(err), email);
  } finally {
    busy = false;
  }
}

function confirm() {
  document.getElementById('confirm-email').textContent = link.email;
  document.getElementById('continue-email').textContent = link.email;
  document.body.dataset.state = 'confirm';
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
document.getElementById('retry').addEventListener('click', signIn);
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
