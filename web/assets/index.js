// GET /: ask for a link. The answer is the same whatever the account's state,
// so this page says the same words for every well-formed address.
import { rememberRequest, show } from './common.js';

const form = document.getElementById('request-form');
const input = document.getElementById('email');
const fieldError = document.getElementById('email-error');
const submit = document.getElementById('submit');
const status = document.getElementById('status');

// "Email me a new link" on the sign-in page brings the address along in the
// fragment (#email=…), which no server sees. A query string is deliberately
// not read: it would put addresses in server and proxy logs.
function prefill() {
  const email = new URLSearchParams(location.hash.slice(1)).get('email');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  if (email) input.value = email.slice(0, 254);
}

function setFieldError(message) {
  fieldError.textContent = message;
  fieldError.hidden = !message;
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function setStatus(message, kind) {
  status.textContent = message;
  status.hidden = !message;
  status.classList.toggle('error', kind === 'error');
}

async function request(event) {
  event.preventDefault();
  setStatus('');
  const email = input.value.trim().toLowerCase();
  if (!email || !input.validity.valid) {
    setFieldError(email ? 'Enter an address like name@example.com.' : 'Enter your email address.');
    input.focus();
    return;
  }
  setFieldError('');
  submit.disabled = true;
  submit.textContent = 'Sending…';
  try {
    const res = await fetch('login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email }),
      credentials: 'same-origin',
    });
    if (res.status === 202) {
      rememberRequest(email);
      document.getElementById('sent-email').textContent = email;
      document.body.dataset.state = 'sent';
      show('view-sent');
      return;
    }
    let body = {};
    try {
      body = await res.json();
    } catch {
      body = {};
    }
    if (res.status === 400 || res.status === 413) {
      setFieldError(body.message ? capitalise(body.message) + '.' : 'Check the address and try again.');
      input.focus();
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

document.getElementById('again').addEventListener('click', () => {
  document.body.dataset.state = 'request';
  show('view-request');
  input.focus();
  input.select();
});
form.addEventListener('submit', request);
prefill();
// The page's state, for tests and styling: request, then sent.
document.body.dataset.state = 'request';
