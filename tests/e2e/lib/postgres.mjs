// postgres.mjs - a real PostgreSQL 15 for tests: Debian's server started by
// postgres.sh in a temporary folder (its own cluster, loopback port,
// password authentication), with a database "hubcast" owned by the role
// "hubcast". env holds what hubcast needs to use it: the URL without the
// password (HUBCAST_DATABASE) and the password in PGPASSWORD.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './server.mjs';
import { startDaemon } from './daemon.mjs';

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

// Start a server. Returns { url, port, user, database, password, env,
// seconds, stop(), psql(sql) }.
export async function startPostgres() {
  const { dir, kv, seconds, stop } = await startDaemon(SCRIPT, {
    prefix: 'hubcast-pg-', args: [await freePort()], timeoutMs: 90000, what: 'the PostgreSQL test server',
  });
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
