// server.mjs - start the real hubcast binary for a test: a free port on
// loopback, a temporary data folder, its output captured; plus people made
// with the real command line and signed in through the real API.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

export const BIN = process.env.HUBCAST_BIN ??
  new URL('../../../src/hubcast', import.meta.url).pathname;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Run `hubcast ARGS` to completion: { status, stdout, stderr }.
export function hubcast(args, { input, env } = {}) {
  const r = spawnSync(BIN, args, {
    input, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

export async function startServer({ args = [], env = {}, data, workers = 0 } = {}) {
  const port = await freePort();
  const dir = data ?? mkdtempSync(join(tmpdir(), 'hubcast-test-'));
  const proc = spawn(BIN, ['serve', '--data', dir, '--listen', `127.0.0.1:${port}`,
    '--workers', String(workers), ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const srv = {
    port, dir, proc, url: `http://127.0.0.1:${port}`, output: '', exited: null,
  };
  proc.stdout.on('data', (d) => { srv.output += d; });
  proc.stderr.on('data', (d) => { srv.output += d; });
  srv.exit = new Promise((resolve) => proc.on('exit', (code, signal) => {
    srv.exited = { code, signal };
    resolve(srv.exited);
  }));
  const deadline = Date.now() + 20000;
  for (;;) {
    if (srv.exited) throw new Error(`hubcast serve exited early:\n${srv.output}`);
    try {
      const r = await fetch(`${srv.url}/healthz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`hubcast serve did not start:\n${srv.output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = srv.output.match(/setup#token=([A-Za-z0-9_-]+)/);
  srv.setupToken = m ? m[1] : null;
  srv.stop = async (signal = 'SIGTERM') => {
    if (!srv.exited) proc.kill(signal);
    return srv.exit;
  };
  srv.cleanup = async () => {
    await srv.stop();
    if (!data) rmSync(dir, { recursive: true, force: true });
  };
  return srv;
}

// A signed-in browser-like client: keeps the session cookie and sends the
// CSRF token and a same-origin Origin on state-changing requests.
export class Client {
  constructor(srv) {
    this.srv = srv;
    this.cookie = null;
    this.csrf = null;
    this.user = null;
  }

  async req(method, path, { json, body, headers = {}, csrf = true } = {}) {
    const h = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (json !== undefined) {
      h['content-type'] = 'application/json';
      body = JSON.stringify(json);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      if (!('origin' in h)) h.origin = this.srv.url;
      if (csrf && this.csrf) h['x-csrf-token'] = this.csrf;
    }
    const res = await fetch(this.srv.url + path, { method, headers: h, body, redirect: 'manual' });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) {
      const m = setCookie.match(/hc_session=([^;]*)/);
      if (m) this.cookie = m[1] ? `hc_session=${m[1]}` : null;
    }
    const text = await res.text();
    let data = null;
    try { data = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, text, data, setCookie };
  }

  async login(email, password) {
    const r = await this.req('POST', '/api/session', { json: { email, password } });
    if (r.status === 200) {
      this.csrf = r.data.csrf;
      this.user = r.data.user;
    }
    return r;
  }
}

// Add a person with the command line, then sign them in.
export async function addUser(srv, email, name, role = 'member', password = 'a good password') {
  const r = hubcast(['user', 'add', email, '--name', name, '--role', role,
    '--password-stdin', '--data', srv.dir], { input: `${password}\n` });
  if (r.status !== 0) throw new Error(`user add failed: ${r.stderr}`);
  const c = new Client(srv);
  const l = await c.login(email, password);
  if (l.status !== 200) throw new Error(`login failed: ${l.status} ${l.text}`);
  return c;
}

// Run SQL on a data folder's catalog with the sqlite3 program, for
// situations the API cannot make (updates in past weeks). Returns stdout.
export function sql(dir, statement) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', join(dir, 'hubcast.db'), statement], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

// The ISO week label ("2026-W48") of instant t on the clock of zone tz.
export function isoWeek(t, tz) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const d = new Date(Date.UTC(+p.year, +p.month - 1, +p.day));
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7));
  const y = d.getUTCFullYear();
  const w = Math.ceil(((d - Date.UTC(y, 0, 1)) / 86400000 + 1) / 7);
  return `${y}-W${String(w).padStart(2, '0')}`;
}

// An API token for email, made with the command line.
export function apiToken(srv, email) {
  const r = hubcast(['user', 'token', email, '--data', srv.dir]);
  if (r.status !== 0) throw new Error(`user token failed: ${r.stderr}`);
  return r.stdout.trim();
}
