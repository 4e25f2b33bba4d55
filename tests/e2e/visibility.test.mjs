// visibility.test.mjs - one visibility rule for updates, end to end: a
// member sees an update when it is ready, and always their own; an
// administrator sees all. Lists (with every filter), GET by id, the week,
// views, comments and reactions all answer by the same rule: what a member
// may not see answers 404, as if it did not exist.
//
// Run: node --test tests/e2e/visibility.test.mjs  (HUBCAST_BIN overrides
// the binary path; ffmpeg must be on PATH).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken, sql } from './lib/server.mjs';
import { api as request } from './lib/api.mjs';

let srv, dir, tokA, tokB, tokAdmin;
const ids = {};   // status -> id of one of A's updates in that state

const api = (method, path, token, body) => request(srv, method, path, token, body);

async function upload(title, token) {
  const r = await fetch(`${srv.url}/api/updates?title=${encodeURIComponent(title)}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' },
    body: readFileSync(join(dir, 'clip.mp4')),
  });
  assert.equal(r.status, 201);
  return (await r.json()).update.id;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-vis-'));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=10:d=1',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', join(dir, 'clip.mp4')]);
  // No workers: updates stay where the test puts them.
  srv = await startServer({ workers: 0 });
  await addUser(srv, 'a@example.com', 'Ann Author', 'member');
  await addUser(srv, 'b@example.com', 'Ben Bystander', 'member');
  await addUser(srv, 'boss@example.com', 'Bo Boss', 'admin');
  tokA = apiToken(srv, 'a@example.com');
  tokB = apiToken(srv, 'b@example.com');
  tokAdmin = apiToken(srv, 'boss@example.com');
  for (const status of ['queued', 'processing', 'failed', 'ready']) {
    ids[status] = await upload(`Ann ${status}`, tokA);
    // The catalog is put in each state directly: no transcode is needed
    // to check who may see what.
    sql(srv.dir, `UPDATE updates SET status = '${status}' WHERE id = ${ids[status]}`);
  }
});

after(async () => {
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const hidden = ['queued', 'processing', 'failed'];

test('a status filter never lists another member\'s unfinished updates', async () => {
  for (const status of [...hidden, 'ready']) {
    const r = await api('GET', `/api/updates?status=${status}`, tokB);
    assert.equal(r.status, 200);
    const listed = r.data.updates.map((u) => u.id);
    if (status === 'ready') assert.deepEqual(listed, [ids.ready]);
    else assert.deepEqual(listed, [], `status=${status} listed someone else's update`);
    assert.equal(r.data.total, listed.length);
  }
  const all = await api('GET', '/api/updates', tokB);
  assert.deepEqual(all.data.updates.map((u) => u.id), [ids.ready]);
  const byAuthor = await api('GET', `/api/updates?author=${all.data.updates[0].author.id}&status=failed`, tokB);
  assert.deepEqual(byAuthor.data.updates, []);
});

test('the author sees their own updates in every state, filtered or not', async () => {
  for (const status of [...hidden, 'ready']) {
    const r = await api('GET', `/api/updates?status=${status}`, tokA);
    assert.deepEqual(r.data.updates.map((u) => u.id), [ids[status]]);
    assert.equal((await api('GET', `/api/updates/${ids[status]}`, tokA)).status, 200);
  }
  assert.equal((await api('GET', '/api/updates', tokA)).data.total, 4);
});

test('an administrator sees every update', async () => {
  for (const status of [...hidden, 'ready']) {
    const r = await api('GET', `/api/updates?status=${status}`, tokAdmin);
    assert.deepEqual(r.data.updates.map((u) => u.id), [ids[status]]);
    assert.equal((await api('GET', `/api/updates/${ids[status]}`, tokAdmin)).status, 200);
    assert.equal((await api('GET', `/api/updates/${ids[status]}/comments`, tokAdmin)).status, 200);
  }
});

test('GET by id, comments, views and reactions of an unfinished update answer 404 to another member', async () => {
  for (const status of hidden) {
    const id = ids[status];
    const calls = [
      ['GET', `/api/updates/${id}`],
      ['GET', `/api/updates/${id}/comments`],
      ['POST', `/api/updates/${id}/comments`, { body: 'peeking' }],
      ['POST', `/api/updates/${id}/views`, { position: 0 }],
      ['GET', `/api/updates/${id}/reactions`],
      ['POST', `/api/updates/${id}/reactions`, { emoji: '👀' }],
      ['GET', `/api/updates/${id}/views`],
    ];
    for (const [method, path, body] of calls) {
      const r = await api(method, path, tokB, body);
      assert.equal(r.status, 404, `${method} ${path} (${status}) answered ${r.status}`);
      assert.equal(r.data.error.code, 'not_found');
    }
  }
  // Nothing was written by the refused calls.
  assert.equal(sql(srv.dir, 'SELECT COUNT(*) FROM comments'), '0');
  assert.equal(sql(srv.dir, 'SELECT COUNT(*) FROM views'), '0');
  assert.equal(sql(srv.dir, 'SELECT COUNT(*) FROM reactions'), '0');
});

test('a ready update is open to every member: GET, comments, views, reactions', async () => {
  const id = ids.ready;
  assert.equal((await api('GET', `/api/updates/${id}`, tokB)).status, 200);
  assert.equal((await api('POST', `/api/updates/${id}/comments`, tokB, { body: 'Nice' })).status, 201);
  assert.equal((await api('POST', `/api/updates/${id}/views`, tokB, { position: 0 })).status, 200);
  assert.equal((await api('POST', `/api/updates/${id}/reactions`, tokB, { emoji: '🎉' })).status, 201);
  assert.equal((await api('GET', `/api/updates/${id}/comments`, tokB)).data.comments.length, 1);
});

test('the week view shows another member only ready updates', async () => {
  const week = (await api('GET', `/api/updates/${ids.ready}`, tokA)).data.update.iso_week;
  const w = await api('GET', `/api/weeks/${week}`, tokB);
  assert.deepEqual(w.data.updates.map((u) => u.id), [ids.ready]);
  const own = await api('GET', `/api/weeks/${week}`, tokA);
  assert.equal(own.data.updates.length, 4);
});
