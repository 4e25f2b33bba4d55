// postgres.mjs - a real PostgreSQL 15 for tests: Debian's server started by
// postgres.sh in a temporary folder (its own cluster, loopback port,
// password authentication), with a database "hubcast" owned by the role
// "hubcast". env holds what hubcast needs to use it: the URL without the
// password (HUBCAST_DATABASE) and the password in PGPASSWORD.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.mjs';

const SCRIPT = new URL('./postgres.sh', import.meta.url).pathname;
const BIN = process.env.HUBCAST_PG_BIN || '/usr/lib/postgresql/15/bin';

// Why the server cannot start here, or null: only a missing package is a
// reason to skip (build-aux/deps.sh test installs it).
export function postgresSkipReason() {
  const missing = ['initdb', 'pg_ctl', 'postgres'].filter((b) => !existsSync(join(BIN, b)));
  if (missing.length === 0) return null;
  return `PostgreSQL 15 is not installed (missing ${missing.join(', ')} in ${BIN}; ` +
    'Debian package postgresql-15, see build-aux/deps.sh test)';
}

function run(args, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn('sh', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

// Start a server. Returns { url, port, user, database, password, env,
// seconds, stop(), psql(sql) }.
export async function startPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-pg-'));
  const port = await freePort();
  const t0 = Date.now();
  const r = await run(['start', dir, String(port)], 90000);
  const seconds = (Date.now() - t0) / 1000;
  const onExit = () => spawnSync('sh', [SCRIPT, 'stop', dir], { timeout: 30000 });
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    await run(['stop', dir], 30000);
    rmSync(dir, { recursive: true, force: true });
  };
  if (r.code !== 0) {
    await stop();
    throw new Error(`the PostgreSQL test server did not start (exit ${r.code ?? r.signal}):\n${r.err}`);
  }
  const kv = Object.fromEntries(r.out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  const env = { HUBCAST_DATABASE: kv.url, PGPASSWORD: kv.password };
  // psql for assertions, when the client is installed (postgresql-client-15).
  const psql = (sql) => execFileSync('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
    '-h', '127.0.0.1', '-p', kv.port, '-U', kv.user, kv.database, '-c', sql],
  { env: { ...process.env, PGPASSWORD: kv.password }, encoding: 'utf8' }).trim();
  return {
    url: kv.url, port: Number(kv.port), user: kv.user, database: kv.database,
    password: kv.password, env, seconds, dir, stop, psql,
  };
}
