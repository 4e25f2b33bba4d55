// uploader.js - shared tus-js-client plumbing for the upload and record
// pages: options (endpoint, CSRF header, retries), a speed/time-left
// estimator, and turning a finished upload into the update it created
// (GET /api/uploads/{id} names the update once complete).
import { loadScript, TUS_SRC } from './dom.js';
import { api, csrfToken, errorText } from './api.js';

export const ENDPOINT = '/api/uploads';

export async function loadTus() {
  await loadScript(TUS_SRC);
  if (!window.tus || !window.tus.isSupported) throw new Error('tus-js-client is not available');
  return window.tus;
}

// Chunk size for PATCH requests; localStorage 'hubcast.uploadChunkSize'
// overrides it (debugging and the browser tests use small chunks).
export function chunkSize(defaultSize = 8 * 1024 * 1024) {
  try {
    const v = Number(localStorage.getItem('hubcast.uploadChunkSize'));
    if (Number.isFinite(v) && v >= 1024) return v;
  } catch { /* storage off */ }
  return defaultSize;
}

export function tusHeaders() {
  const c = csrfToken();
  return c ? { 'X-CSRF-Token': c } : {};
}

export function uploadIdFromUrl(url) {
  if (!url) return null;
  const m = /\/api\/uploads\/([^/?#]+)/.exec(url);
  return m ? decodeURIComponent(m[1]) : null;
}

// Speed over the last few seconds and the time left.
export class RateMeter {
  constructor() { this.samples = []; }
  add(bytes) {
    const now = performance.now();
    this.samples.push([now, bytes]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
  }
  reset() { this.samples = []; }
  speed() {
    if (this.samples.length < 2) return NaN;
    const [t0, b0] = this.samples[0];
    const [t1, b1] = this.samples[this.samples.length - 1];
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : NaN;
  }
}

// Error codes (README, "Error codes") that say "not now" rather than "no".
const RETRYABLE = new Set(['busy', 'locked', 'storage', 'storage_full', 'catalog_unavailable', 'unavailable', 'internal']);

// What the server said when tus-js-client gave up: {status, code, message,
// refused}. `refused` is a 4xx answer that trying again cannot change (not
// a timeout, a conflict, a lock or a rate limit): such an upload is over.
export function tusFailure(err) {
  const res = err && err.originalResponse;
  const status = res && res.getStatus ? res.getStatus() : 0;
  let code = null;
  let message = (err && err.message) || String(err);
  try {
    const j = JSON.parse(res.getBody());
    if (j && j.error) {
      code = j.error.code;
      message = errorText(code, j.error.message);
    }
  } catch { /* no answer, or not ours */ }
  const refused = status >= 400 && status < 500 && !RETRYABLE.has(code) && ![408, 409, 423, 429].includes(status);
  return { status, code, message, refused };
}

// Forget what tus-js-client remembers (localStorage "tus::...") about the
// upload at `url`, so that no later visit offers to resume it.
export function forgetUpload(url) {
  if (!url) return;
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const k = localStorage.key(i);
      if (!k || !k.startsWith('tus::')) continue;
      let v = null;
      try { v = JSON.parse(localStorage.getItem(k)); } catch { /* malformed: leave it */ }
      if (v && v.uploadUrl && new URL(v.uploadUrl, location.href).href === new URL(url, location.href).href) localStorage.removeItem(k);
    }
  } catch { /* storage off */ }
}

// Wait until the server names the update made from upload `id`.
// Resolves to the update id; rejects after `timeoutMs`.
export async function updateForUpload(id, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // {"upload": {...}, "update": {...} or null until the last byte is in}
    const d = await api('GET', `${ENDPOINT}/${encodeURIComponent(id)}`, undefined, { quiet: true });
    if (d.update) return d.update.id;
    if (Date.now() > deadline) throw new Error('the server did not create the update');
    await new Promise((r) => setTimeout(r, 500));
  }
}
