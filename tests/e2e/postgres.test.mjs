// postgres.test.mjs - two `hubcast serve` processes on one PostgreSQL
// catalog (Debian's PostgreSQL 15 in a temporary folder, see
// lib/postgres.mjs): people made with the command line exist on both, a
// session opened on one works on the other, exactly one of them runs the
// scheduler and one the mail sender, and when the holder is killed with
// SIGKILL the other takes over. The password is in PGPASSWORD, never on a
// command line, and no SQLite file appears in the data folders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, addUser, hubcast, Client } from './lib/server.mjs';
import { startPostgres, postgresSkipReason } from './lib/postgres.mjs';

const skip = postgresSkipReason() ?? false;
let pg;
let a;
let b;

before(async () => {
  if (skip) return;
  pg = await startPostgres();
  Object.assign(process.env, pg.env);    // HUBCAST_DATABASE and PGPASSWORD for every hubcast run
  const m = hubcast(['migrate']);
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stdout, /schema version \d+/);
  a = await startServer();
  b = await startServer();
});

after(async () => {
  await a?.cleanup();
  await b?.cleanup();
  await pg?.stop();
});

const waitFor = async (what, cond, ms = 60000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return (Date.now() - t0) / 1000;
};

test('people and sessions are shared by the servers of one catalog', { skip }, async () => {
  const ann = await addUser(a, 'ann@example.com', 'Ann');
  const onB = new Client(b);
  onB.cookie = ann.cookie;
  const me = await onB.req('GET', '/api/me');
  assert.equal(me.status, 200, me.text);
  assert.equal(me.data.user?.email ?? me.data.email, 'ann@example.com');
  // The address is unique whatever its case, as on SQLite.
  const again = hubcast(['user', 'add', 'ANN@example.com', '--name', 'Ann again', '--data', b.dir]);
  assert.notEqual(again.status, 0);
  assert.equal(pg.psql("SELECT count(*) FROM users WHERE email = 'ann@example.com'"), '1');
  for (const s of [a, b]) assert.ok(!existsSync(join(s.dir, 'hubcast.db')), 'no SQLite catalog is made');
});

test('the password is never on a command line', { skip }, () => {
  for (const s of [a, b]) {
    const cmdline = readFileSync(`/proc/${s.proc.pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(pg.password));
  }
  const r = hubcast(['user', 'list', '--database',
    pg.url.replace('hubcast@', `hubcast:${pg.password}@`)]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /PGPASSWORD|database-password/);
});

test('one scheduler and one mail sender across the servers; a killed leader is replaced', { skip }, async () => {
  const leads = (s, name) => s.output.includes(`now leads ${name}`);
  await waitFor('a scheduler leader', () => leads(a, 'scheduler') || leads(b, 'scheduler'));
  await waitFor('a mail leader', () => leads(a, 'mail') || leads(b, 'mail'));
  // Several rounds later (the scheduler ticks every 2 s), still exactly one.
  await new Promise((r) => setTimeout(r, 5000));
  for (const name of ['scheduler', 'mail']) {
    assert.equal([a, b].filter((s) => leads(s, name)).length, 1, `one ${name} leader`);
  }
  const [leader, rest] = leads(a, 'scheduler') ? [a, b] : [b, a];
  const mailToo = leads(leader, 'mail');
  await leader.stop('SIGKILL');
  const took = await waitFor('the takeover', () => leads(rest, 'scheduler'), 60000);
  console.log(`# the scheduler was taken over ${took.toFixed(1)} s after its leader was killed`);
  if (mailToo) await waitFor('the mail takeover', () => leads(rest, 'mail'), 60000);
  assert.ok(took < 45, `taken over within seconds (took ${took} s)`);
});
