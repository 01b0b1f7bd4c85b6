// Shared by the two pages: the "this browser asked for a link" marker, the
// page configuration, the Cognito call shape and signing in with an answer
// (a link's challenge, a mailed code or an approved request's answer). No
// framework, no build.

// The page's words in the language the server chose for it (<html lang>),
// from the page's JSON data block: the browser never runs a
// type="application/json" script, so the CSP needs no exception for it.
const MESSAGES = (() => {
  try {
    return JSON.parse(document.getElementById('messages').textContent) || {};
  } catch {
    return {};
  }
})();

// t returns the message key of this page, with each {name} replaced by
// vars[name]. A key the catalog lacks shows as itself: visible in a
// screenshot, never an exception (the Go tests keep the catalogs complete).
export function t(key, vars) {
  const s = Object.hasOwn(MESSAGES, key) ? String(MESSAGES[key]) : key;
  return s.replace(/\{([A-Za-z]+)\}/g, (m, name) => (vars && Object.hasOwn(vars, name) ? String(vars[name]) : m));
}

const MARKER_KEY = 'magiclinks.requested';
const TOKENS_KEY = 'magiclinks.tokens';
// The marker only says "this browser asked for a link to this address
// recently"; a mail scanner's browser never has it. An hour covers the
// default link lifetime with room to spare.
const MARKER_TTL_MS = 60 * 60 * 1000;
const MAX_MARKERS = 5;

// Storage can be missing or throw (disabled cookies, some private modes): the
// pages then work without it, asking the person to confirm.
function readJSON(storage, key) {
  try {
    const v = storage.getItem(key);
    return v ? JSON.parse(v) : null;
  } catch {
    return null;
  }
}

function writeJSON(storage, key, value) {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(value));
  } catch {
    // Nothing to do: see readJSON.
  }
}

function liveMarkers(now) {
  const list = readJSON(localStorage, MARKER_KEY);
  if (!Array.isArray(list)) return [];
  return list.filter((m) => m && typeof m.email === 'string' && typeof m.at === 'number' &&
    m.at <= now && now - m.at < MARKER_TTL_MS);
}

// rememberRequest records that this browser asked for a link to email.
export function rememberRequest(email) {
  const now = Date.now();
  const e = email.toLowerCase();
  const list = liveMarkers(now).filter((m) => m.email !== e);
  list.push({ email: e, at: now });
  writeJSON(localStorage, MARKER_KEY, list.slice(-MAX_MARKERS));
}

// wasRequested says whether this browser asked for a link to email within
// the last hour.
export function wasRequested(email) {
  const e = email.toLowerCase();
  return liveMarkers(Date.now()).some((m) => m.email === e);
}

// saveTokens keeps what the pages use: the ID token (for GET /me) and the
// access token (for GlobalSignOut). Not the refresh token: these pages never
// refresh, and a long-lived secret nobody uses is only something to steal.
export function saveTokens(result) {
  writeJSON(sessionStorage, TOKENS_KEY, {
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    expiresAt: Date.now() + (Number(result.ExpiresIn) || 3600) * 1000,
  });
}

export function loadTokens() {
  const t = readJSON(sessionStorage, TOKENS_KEY);
  if (!t || typeof t.idToken !== 'string' || typeof t.accessToken !== 'string') return null;
  if ('refreshToken' in t) { // kept by an older version of this page
    delete t.refreshToken;
    writeJSON(sessionStorage, TOKENS_KEY, t);
  }
  return t;
}

export function clearTokens() {
  writeJSON(sessionStorage, TOKENS_KEY, null);
}

// ConfigError: /config.json answered but sign-in is not set up (or the
// answer is not what this page expects).
export class ConfigError extends Error {}

// CognitoError is an error answer of Cognito's JSON API: type is its
// __type, e.g. NotAuthorizedException.
export class CognitoError extends Error {
  constructor(type, message, status) {
    super(message || type);
    this.type = type;
    this.status = status;
  }
}

// loadConfig reads what the page needs from the server. A fetch TypeError
// (offline) propagates as is.
export async function loadConfig() {
  const res = await fetch('config.json', { credentials: 'same-origin' });
  let body = null;
  try {
    body = await res.json();
  } catch {
    // handled below
  }
  if (res.status >= 500 && !(body && body.error === 'not_configured')) {
    throw new CognitoError('ServerError', 'config.json answered ' + res.status, res.status);
  }
  if (!res.ok || !body || !body.clientId || !body.cognitoEndpoint) {
    throw new ConfigError((body && body.message) || 'sign-in is not configured');
  }
  return body;
}

// cognito calls one operation of Cognito's public user-pool API, exactly as
// the AWS SDKs and Amplify do: AWS JSON 1.1 over POST, no credentials.
export async function cognito(cfg, operation, input) {
  const res = await fetch(cfg.cognitoEndpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'AWSCognitoIdentityProviderService.' + operation,
    },
    body: JSON.stringify(input),
    credentials: 'omit',
    cache: 'no-store',
  });
  let body = {};
  try {
    body = await res.json();
  } catch {
    body = {};
  }
  if (!res.ok) {
    // "NotAuthorizedException", or a namespaced "aws.x#NotAuthorizedException".
    const raw = String(body.__type || res.headers.get('x-amzn-ErrorType') || '');
    const type = raw.split(':')[0].split('#').pop() || 'HTTP' + res.status;
    throw new CognitoError(type, body.message || body.Message || '', res.status);
  }
  return body;
}

// signInWithAnswer signs email in with one ANSWER — a link's challenge, a
// code from the mail, or the answer an approval handed over — and keeps the
// tokens. A fresh InitiateAuth each time: a Cognito session lives only
// minutes, and the answer may be used on another device than the request.
// It throws a CognitoError (UnexpectedChallenge when the answer was refused).
export async function signInWithAnswer(cfg, email, answer) {
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
    // Another challenge: the answer was wrong, spent or expired.
    throw new CognitoError('UnexpectedChallenge', String(done.ChallengeName));
  }
  saveTokens(done.AuthenticationResult);
}

// classify names what went wrong for the messages the pages show: used
// (refused answer), throttled, config, or network (worth a retry).
export function classify(err) {
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

// postJSON posts body to one of our own routes and returns the status, the
// decoded answer ({} when it is not JSON) and the response. A fetch
// TypeError (offline) propagates as is.
export async function postJSON(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  let out = {};
  try {
    out = await res.json();
  } catch {
    out = {};
  }
  return { status: res.status, body: out || {}, res };
}

// retryAfterMs reads Retry-After (seconds) from a 429, within sane bounds.
export function retryAfterMs(res, fallbackMs) {
  const s = Number(res.headers.get('Retry-After'));
  return Number.isFinite(s) && s > 0 ? Math.min(s, 3600) * 1000 : fallbackMs;
}

// jwtClaims decodes a token's payload for display only: the server checks
// tokens, never this page.
export function jwtClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(part),
      (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
    return JSON.parse(json);
  } catch {
    return {};
  }
}

// newLinkHref is where "Email me a new link" goes: the form, with the
// address (never the challenge) in the fragment so it reaches no server log.
export function newLinkHref(email) {
  return email ? './#email=' + encodeURIComponent(email) : './';
}

// show reveals one view of a page, hides the others and moves keyboard and
// screen-reader focus to its heading.
export function show(id) {
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id;
  const h = document.querySelector('#' + id + ' h1');
  if (h) h.focus();
}
