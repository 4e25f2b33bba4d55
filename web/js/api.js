// api.js - the one way the app talks to the server: fetch with JSON, the
// X-CSRF-Token header (from /api/me or sign-in) on every state-changing
// request, and server errors ({"error":{"code","message"}}) shown to the
// person in the interface language, by their code (errorText); the app
// decides what to do by the error's code, never its text. Also the
// signed-in user (me) shared by all pages, whose language setting is the
// interface's.
import { t, has, lang, setLang, isLang } from './i18n.js';

let csrf = null;
let me = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function currentUser() { return me; }
export function csrfToken() { return csrf; }
export function isAdmin() { return !!me && me.role === 'admin'; }

// A hint (not a secret: the session cookie is HttpOnly) that this browser
// has signed in, so an anonymous visitor's first page does not ask /api/me
// and get a 401 logged in the console.
const HINT = 'hubcast.signedIn';

function setHint(on) {
  try {
    if (on) localStorage.setItem(HINT, '1');
    else localStorage.removeItem(HINT);
  } catch { /* storage off */ }
}

function hasHint() {
  try { return localStorage.getItem(HINT) === '1'; } catch { return true; }
}

// Keep who is signed in; their language becomes the interface's at once.
export function setSession(data) {
  me = data && data.user ? data.user : null;
  csrf = data && data.csrf ? data.csrf : null;
  setHint(!!me);
  if (me && isLang(me.lang)) setLang(me.lang);
}

// What to tell the person about an error: the interface's own sentence for
// a code whose meaning is the whole story (err.code.<code> in i18n/), else
// the server's message, which names the field or the limit and is already
// in the person's language; a code nobody knows falls back to it as well.
export function errorText(code, serverMessage) {
  if (code && has(`err.code.${code}`)) return t(`err.code.${code}`);
  return serverMessage || t('err.unknown');
}

// Show a message in the alert banner at the top of the page.
export function flash(message, kind = 'error') {
  const el = document.getElementById('flash');
  if (!el) return;
  el.textContent = message;
  el.className = `flash flash-${kind}`;
  el.hidden = !message;
  if (message && kind !== 'error') {
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { if (el.textContent === message) el.hidden = true; }, 5000);
  }
}

export function clearFlash() { flash(''); }

// api('GET', '/api/me') -> parsed JSON. Throws ApiError; unless opts.quiet,
// the error message is also shown to the person.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': lang() };
  // A file (a picture) goes as it is, with its own type; anything else as JSON.
  const raw = typeof Blob !== 'undefined' && body instanceof Blob;
  if (body !== undefined) headers['Content-Type'] = raw ? (body.type || 'application/octet-stream') : 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined || raw ? body : JSON.stringify(body),
    });
  } catch (e) {
    const err = new ApiError(0, 'network', t('err.network'));
    if (!opts.quiet) flash(err.message);
    throw err;
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const e = data && data.error;
    const code = e ? e.code : `http_${res.status}`;
    if (code === 'unauthenticated' && me) {
      setSession(null);
      window.dispatchEvent(new CustomEvent('hubcast:signedout'));
    }
    // Every error from Hubcast is {"error": {code, message}} (README, "Error
    // codes"); anything else came from something in between (a proxy).
    const err = new ApiError(res.status, code, e ? errorText(code, e.message) : t('err.http', { status: res.status }));
    err.serverMessage = e ? e.message : null;
    if (!opts.quiet) flash(err.message);
    throw err;
  }
  return data;
}

// Ask the server who is signed in; null when nobody.
export async function loadMe() {
  if (!hasHint()) {
    setSession(null);
    return null;
  }
  try {
    const d = await api('GET', '/api/me', undefined, { quiet: true });
    setSession(d);
  } catch (e) {
    if (e.code !== 'unauthenticated') throw e;
    setSession(null);
  }
  return me;
}

