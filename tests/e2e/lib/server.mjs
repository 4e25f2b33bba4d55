// server.mjs - start the real hubcast binary for a test: a free port on
// loopback, a temporary data folder, its output captured; plus people made
// with the real command line and signed in through the real API.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { keyValues } from './daemon.mjs';

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

// With HUBCAST_TEST_BACKEND=postgresql, the catalog of every data folder is
// a database of its own on a throwaway PostgreSQL 15: the one tests/run.sh
// started for the whole run (HUBCAST_TEST_PGURL and PGPASSWORD, as
// tests/unit/pg-run.sh gives them), or else one for this test file
// (lib/postgres.sh), started on first use and stopped at exit. hubcast
// runs and servers get HUBCAST_DATABASE and PGPASSWORD for it, and sql()
// runs psql on it.
export const BACKEND = process.env.HUBCAST_TEST_BACKEND === 'postgresql' ? 'postgresql' : 'sqlite';
const PG_BACKEND = BACKEND === 'postgresql';
const PG_SCRIPT = new URL('./postgres.sh', import.meta.url).pathname;
let pg = null;
const pgDatabases = new Map();

function pgServer() {
  if (pg) return pg;
  const shared = process.env.HUBCAST_TEST_PGURL?.match(/^postgresql:\/\/hubcast@127\.0\.0\.1:(\d+)\//);
  if (shared && process.env.PGPASSWORD) {
    pg = { port: shared[1], password: process.env.PGPASSWORD };
    return pg;
  }
  for (let attempt = 0; attempt < 5 && !pg; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'hubcast-pg-'));
    const port = 20000 + Math.floor(Math.random() * 30000);
    const r = spawnSync('sh', [PG_SCRIPT, 'start', dir, String(port)], { encoding: 'utf8', timeout: 90000 });
    if (r.status !== 0) {
      spawnSync('sh', [PG_SCRIPT, 'stop', dir]);
      if (attempt === 4) throw new Error(`the PostgreSQL test server did not start: ${r.stderr}`);
      continue;
    }
    const kv = keyValues(r.stdout);
    pg = { dir, port: kv.port, password: kv.password };
    process.once('exit', () => spawnSync('sh', [PG_SCRIPT, 'stop', dir], { timeout: 30000 }));
  }
  return pg;
}

// psql on database db: statement, or with statement null the script input.
function psql(db, statement, input) {
  const s = pgServer();
  return spawnSync('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', s.port,
    '-U', 'hubcast', db, ...(statement === null ? ['-f', '-'] : ['-c', statement])],
  { input, encoding: 'utf8', env: { ...process.env, PGPASSWORD: s.password } });
}

// The environment that points hubcast at dir's catalog: {} on SQLite, and
// also when the test chose its catalog itself (HUBCAST_DATABASE set, as in
// postgres.test.mjs, where two servers share one).
export function catalogEnv(dir) {
  if (!PG_BACKEND || !dir || process.env.HUBCAST_DATABASE) return {};
  const s = pgServer();
  if (!pgDatabases.has(dir)) {
    const name = `t${process.pid}_${pgDatabases.size + 1}`;   // unique on a shared server
    const r = psql('hubcast', `CREATE DATABASE ${name}`);
    if (r.status !== 0) throw new Error(`cannot create database ${name}: ${r.stderr}`);
    pgDatabases.set(dir, name);
  }
  return {
    HUBCAST_DATABASE: `postgresql://hubcast@127.0.0.1:${s.port}/${pgDatabases.get(dir)}`,
    PGPASSWORD: s.password,
  };
}

function dataArg(args) {
  const i = args.indexOf('--data');
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith('--data='));
  return eq ? eq.slice(7) : null;
}

// Run `hubcast ARGS` to completion: { status, stdout, stderr }; killed
// after timeout ms (status null).
export function hubcast(args, { input, env, timeout = 60000 } = {}) {
  const r = spawnSync(BIN, args, {
    input, encoding: 'utf8', env: { ...process.env, ...catalogEnv(dataArg(args)), ...env }, timeout,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

export async function startServer({ args = [], env = {}, data, workers = 0 } = {}) {
  const port = await freePort();
  const dir = data ?? mkdtempSync(join(tmpdir(), 'hubcast-test-'));
  const proc = spawn(BIN, ['serve', '--data', dir, '--listen', `127.0.0.1:${port}`,
    '--workers', String(workers), ...args], {
    env: { ...process.env, ...catalogEnv(dir), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
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

// Run SQL on a data folder's catalog with the sqlite3 program (psql on
// PostgreSQL), for situations the API cannot make (updates in past weeks).
// Returns stdout: rows on lines, columns separated by |, on both.
export function sql(dir, statement) {
  if (PG_BACKEND) {
    catalogEnv(dir);
    const r = psql(pgDatabases.get(dir), statement);
    if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
    return r.stdout.trim();
  }
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', join(dir, 'hubcast.db'), statement], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

// Run a script of SQL statements (a migration file of the backend's own
// set: db/ or db/pg/) on a data folder's catalog. Returns stdout.
export function sqlScript(dir, script) {
  if (PG_BACKEND) {
    catalogEnv(dir);
    const r = psql(pgDatabases.get(dir), null, script);
    if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
    return r.stdout.trim();
  }
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', join(dir, 'hubcast.db')], { input: script, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

// The folder of the catalog's migrations for the backend under test.
export const MIGRATIONS = new URL(PG_BACKEND ? '../../../db/pg/' : '../../../db/', import.meta.url).pathname;

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
