// habit.test.mjs - the weekly habit in the API: participation per week and
// per team, and each person's streak, against the real server. Past weeks
// are written into the catalog with sql() (the upload API can only post in
// the current week).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, addUser, sql, isoWeek } from './lib/server.mjs';

let srv, alice, ids = {};


const weeksAgo = (k) => isoWeek(Date.now() - k * 7 * 86400000, 'UTC');

function post(email, k, status = 'ready', kind = 'weekly') {
  const now = Math.floor(Date.now() / 1000) - k * 7 * 86400;
  return Number(sql(srv.dir, `INSERT INTO updates(author_id, kind, iso_week, title, status, created_at, updated_at)
    SELECT id, '${kind}', '${weeksAgo(k)}', 'w${k}', '${status}', ${now}, ${now} FROM users WHERE email = '${email}'
    RETURNING id`));
}

before(async () => {
  srv = await startServer();
  alice = await addUser(srv, 'alice@example.com', 'Alice', 'admin');
  for (const [email, name] of [['bob@example.com', 'Bob'], ['carol@example.com', 'Carol'], ['dan@example.com', 'Dan']]) {
    await addUser(srv, email, name);
  }
  sql(srv.dir, `UPDATE users SET created_at = created_at - 400 * 86400,
    team = CASE WHEN email IN ('alice@example.com', 'bob@example.com') THEN 'Product' ELSE 'Sales' END`);
  // Alice: this week and the three before (and a failed upload that never counts).
  ids.alice = [0, 1, 2, 3].map((k) => post('alice@example.com', k));
  post('alice@example.com', 5, 'failed');
  // Bob: last week and the week before, nothing yet this week; one still processing.
  ids.bob = [post('bob@example.com', 1), post('bob@example.com', 2, 'processing')];
  // Carol: three weeks ago, and this week's is still queued (posted: it counts,
  // as on the week page and in participation).
  ids.carol = [post('carol@example.com', 3)];
  ids.carolNow = post('carol@example.com', 0, 'queued');
});

after(async () => { await srv.cleanup(); });

async function get(path) {
  return alice.req('GET', path);
}

test('a streak counts consecutive weeks posted in (queued, processing or ready), ending this week or last week', async () => {
  const people = (await get('/api/people')).data.people;
  const id = (email) => people.find((p) => p.email === email).id;
  const a = await get(`/api/people/${id('alice@example.com')}/stats`);
  assert.equal(a.status, 200);
  assert.equal(a.data.streak, 4);
  assert.equal(a.data.current_week, weeksAgo(0));
  assert.deepEqual(a.data.weeks.map((w) => w.week), [0, 1, 2, 3].map(weeksAgo));
  assert.deepEqual(a.data.weeks.flatMap((w) => w.updates), ids.alice);
  const b = await get(`/api/people/${id('bob@example.com')}/stats`);
  assert.equal(b.data.streak, 2, 'nothing yet this week: the streak still ends last week');
  const c = await get(`/api/people/${id('carol@example.com')}/stats`);
  assert.equal(c.data.streak, 1, 'this week (queued) counts; last week breaks the streak');
  assert.deepEqual(c.data.weeks, [{ week: weeksAgo(0), updates: [ids.carolNow] }, { week: weeksAgo(3), updates: ids.carol }]);
  const d = await get(`/api/people/${id('dan@example.com')}/stats`);
  assert.deepEqual([d.data.streak, d.data.weeks], [0, []]);
  assert.equal((await get('/api/people/99999/stats')).status, 404);
  assert.equal((await get('/api/people/abc/stats')).status, 404);
});

test('participation per week and per team, oldest first, ending with the current week', async () => {
  const r = await get('/api/participation?weeks=4');
  assert.equal(r.status, 200);
  assert.deepEqual(r.data.weeks.map((w) => w.week), [3, 2, 1, 0].map(weeksAgo));
  const summary = r.data.weeks.map((w) => [w.posted, w.active, w.rate]);
  assert.deepEqual(summary, [[2, 4, 0.5], [2, 4, 0.5], [2, 4, 0.5], [2, 4, 0.5]]);
  const now = r.data.weeks[3];
  assert.deepEqual(now.teams, [
    { team: 'Product', posted: 1, active: 2, rate: 0.5 },
    { team: 'Sales', posted: 1, active: 2, rate: 0.5 },   // Carol's queued update counts as posted
  ]);
  const three = r.data.weeks[0];
  assert.deepEqual(three.teams.map((t) => [t.team, t.posted]), [['Product', 1], ['Sales', 1]]);
  const def = await get('/api/participation');
  assert.equal(def.data.weeks.length, 8);
  assert.equal((await get('/api/participation?weeks=0')).status, 400);
  assert.equal((await get('/api/participation?weeks=x')).status, 400);
  assert.equal((await fetch(`${srv.url}/api/participation`)).status, 401);
});

test('deactivated people leave the participation numbers', async () => {
  sql(srv.dir, "UPDATE users SET deactivated = 1 WHERE email = 'dan@example.com'");
  const r = await get('/api/participation?weeks=1');
  assert.deepEqual([r.data.weeks[0].posted, r.data.weeks[0].active], [2, 3]);
  sql(srv.dir, "UPDATE users SET deactivated = 0 WHERE email = 'dan@example.com'");
});
