// search.test.mjs - GET /api/search end to end on the real server: words
// found in a title, a description and a comment (with the time the comment
// is pinned to), accents and case ignored, the one visibility rule applied
// (another member's unfinished update is never found, its author and an
// administrator find it), edits and deletions followed, and any text a
// person may type answered 200 or 400, never a server error.
//
// Run: node --test tests/e2e/search.test.mjs  (ffmpeg must be on PATH).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken, sql, sqlScript, MIGRATIONS } from './lib/server.mjs';
import { api as request } from './lib/api.mjs';

let srv, dir, tokA, tokB, tokAdmin;
const ids = {};

const api = (method, path, token, body) => request(srv, method, path, token, body);

const search = (q, token = tokB) => api('GET', `/api/search?q=${encodeURIComponent(q)}`, token);

async function upload(title, description, token) {
  const r = await fetch(`${srv.url}/api/updates?title=${encodeURIComponent(title)}` +
    `&description=${encodeURIComponent(description)}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' },
    body: readFileSync(join(dir, 'clip.mp4')),
  });
  assert.equal(r.status, 201);
  return (await r.json()).update.id;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-search-'));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=10:d=1',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', join(dir, 'clip.mp4')]);
  srv = await startServer({ workers: 0 });
  await addUser(srv, 'a@example.com', 'Ann Author', 'member');
  await addUser(srv, 'b@example.com', 'Ben Bystander', 'member');
  await addUser(srv, 'boss@example.com', 'Bo Boss', 'admin');
  tokA = apiToken(srv, 'a@example.com');
  tokB = apiToken(srv, 'b@example.com');
  tokAdmin = apiToken(srv, 'boss@example.com');
  ids.launch = await upload('Launch of the pelican dashboard', 'We shipped the new onboarding flow.', tokA);
  ids.french = await upload('Point d\'étape de l\'équipe', 'Le déploiement du café connecté avance.', tokA);
  ids.hidden = await upload('Secret zeppelin plans', 'Nothing to see yet: marmalade.', tokA);
  // The catalog is put in each state directly: no transcode is needed.
  sql(srv.dir, `UPDATE updates SET status = 'ready' WHERE id IN (${ids.launch}, ${ids.french})`);
  sql(srv.dir, `UPDATE updates SET status = 'processing' WHERE id = ${ids.hidden}`);
  const c1 = await api('POST', `/api/updates/${ids.launch}/comments`, tokB,
    { body: 'Love the quokka animation at this point!', at_seconds: 12.5 });
  assert.equal(c1.status, 201, c1.text);
  ids.comment = c1.data.comment.id;
  const c2 = await api('POST', `/api/updates/${ids.launch}/comments`, tokB, { body: 'A general remark about wombats' });
  assert.equal(c2.status, 201, c2.text);
});

after(async () => {
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('a word of a title finds the update, with the same JSON as GET /api/updates/{id}', async () => {
  const r = await search('pelican');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.results.length, 1);
  const [hit] = r.data.results;
  const one = await api('GET', `/api/updates/${ids.launch}`, tokB);
  assert.deepEqual(Object.keys(hit.update).sort(), Object.keys(one.data.update).sort());
  assert.equal(hit.update.id, ids.launch);
  assert.equal(hit.update.title, one.data.update.title);
  assert.match(hit.snippet, /pelican/);
  assert.match(hit.snippet_html, /<mark>pelican<\/mark>/);
  assert.equal(hit.at_seconds, undefined);
});

test('a word of a description finds the update; the last word may be the start of one', async () => {
  let r = await search('onboarding');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.data.results.map((x) => x.update.id), [ids.launch]);
  assert.match(r.data.results[0].snippet, /onboarding flow/);
  r = await search('shipped onboard');
  assert.deepEqual(r.data.results.map((x) => x.update.id), [ids.launch]);
  // Every word must be there.
  r = await search('onboarding zeppelin');
  assert.deepEqual(r.data.results, []);
});

test('a word of a comment finds it with its time in the video', async () => {
  const r = await search('quokka');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.results.length, 1);
  const [hit] = r.data.results;
  assert.equal(hit.update.id, ids.launch);
  assert.equal(hit.comment_id, ids.comment);
  assert.equal(hit.at_seconds, 12.5);
  assert.match(hit.snippet, /quokka animation/);
  // A comment without a time has no at_seconds.
  const w = await search('wombats');
  assert.equal(w.data.results.length, 1);
  assert.equal(w.data.results[0].at_seconds, undefined);
  assert.ok(w.data.results[0].comment_id);
});

test('accents and case are ignored both ways', async () => {
  for (const q of ['equipe', 'ÉQUIPE', 'deploiement', 'déploiement', 'cafe', 'CAFÉ']) {
    const r = await search(q);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.data.results.map((x) => x.update.id), [ids.french], q);
  }
  const r = await search('Equipe');
  assert.match(r.data.results[0].snippet, /équipe/);
});

test('another member\'s unfinished update is never found; its author and an admin find it', async () => {
  for (const q of ['zeppelin', 'marmalade', 'secret zeppelin']) {
    const r = await search(q, tokB);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.data.results, [], `${q} found an update still processing`);
  }
  assert.deepEqual((await search('zeppelin', tokA)).data.results.map((x) => x.update.id), [ids.hidden]);
  assert.deepEqual((await search('zeppelin', tokAdmin)).data.results.map((x) => x.update.id), [ids.hidden]);
  // The same for its comments: the author comments on their own update.
  const c = await api('POST', `/api/updates/${ids.hidden}/comments`, tokA, { body: 'note about narwhals' });
  assert.equal(c.status, 201, c.text);
  assert.deepEqual((await search('narwhals', tokB)).data.results, []);
  assert.equal((await search('narwhals', tokA)).data.results.length, 1);
});

test('the index follows edits and deletions', async () => {
  const id = await upload('Temporary giraffe', '', tokA);
  sql(srv.dir, `UPDATE updates SET status = 'ready' WHERE id = ${id}`);
  assert.equal((await search('giraffe')).data.results.length, 1);
  const p = await api('PATCH', `/api/updates/${id}`, tokA, { title: 'Permanent okapi' });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual((await search('giraffe')).data.results, []);
  assert.equal((await search('okapi')).data.results.length, 1);
  await api('POST', `/api/updates/${id}/comments`, tokB, { body: 'okapi comment' });
  assert.equal((await search('okapi')).data.results.length, 2);
  const d = await api('DELETE', `/api/updates/${id}`, tokA);
  assert.equal(d.status, 200, d.text);
  assert.deepEqual((await search('okapi')).data.results, []);
});

test('whatever is typed answers 200 or 400, never a server error', async () => {
  const weird = ['"', '""', '"pelican', 'pelican"', 'AND', 'OR', 'NOT', 'pelican AND', 'AND pelican',
    'NEAR(pelican dashboard)', '*', 'pel*', '(', ')', '((pelican)', 'title:pelican', '-pelican', '^pelican',
    '{title description}: pelican', 'pelican +', '\'; DROP TABLE updates; --', '%', '\\', '\u0000',
    '\u0002pelican\u0003', '🙂', 'é', ' ', 'a'.repeat(200), 'a'.repeat(201), 'x '.repeat(100),
    'word '.repeat(5000)];
  for (const q of weird) {
    const r = await search(q);
    assert.ok(r.status === 200 || r.status === 400, `${JSON.stringify(q.slice(0, 40))} answered ${r.status}: ${r.text}`);
    if (r.status === 200) assert.ok(Array.isArray(r.data.results));
    else assert.ok(r.data.error.code);
  }
  // Quotes and operators are plain words: they still find the title.
  assert.equal((await search('"pelican')).data.results.length, 1);
  assert.equal((await search('pelican AND')).data.results.length, 0);   // "and" is not in the text
  assert.equal((await search('(pelican)')).data.results.length, 1);
  // 10 KB of text: refused as too long.
  const big = await search('pelican '.repeat(1300));
  assert.equal(big.status, 400);
  assert.equal(big.data.error.code, 'query_too_long');
  const none = await api('GET', '/api/search', tokB);
  assert.equal(none.status, 400);
  assert.equal((await api('GET', '/api/search?q=pelican&limit=0', tokB)).status, 400);
  assert.equal((await fetch(`${srv.url}/api/search?q=pelican`)).status, 401);
  // The server is still fine.
  assert.equal((await search('pelican')).data.results.length, 1);
});

test('updates and comments written before search existed are found after the upgrade', async () => {
  // A catalog at the schema before 006, with a person, an update and a
  // comment, made with the earlier migrations themselves.
  const old = mkdtempSync(join(tmpdir(), 'hubcast-search-old-'));
  const earlier = readdirSync(MIGRATIONS).filter((f) => /^\d{3}_.*\.sql$/.test(f) && Number(f.slice(0, 3)) < 6).sort();
  try {
    sql(old, 'CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const f of earlier) {
      sqlScript(old, readFileSync(join(MIGRATIONS, f), 'utf8'));
      sql(old, `INSERT INTO schema_version VALUES (${Number(f.slice(0, 3))}, '${f.slice(0, -4)}', 0)`);
    }
    sql(old, `INSERT INTO users(email, name, created_at) VALUES ('old@example.com', 'Olga Old', 0);
      INSERT INTO updates(author_id, iso_week, title, description, status, created_at, updated_at)
        VALUES (1, '2026-W01', 'Ancienne stratégie', 'Écrit avant la recherche', 'ready', 0, 0);
      INSERT INTO comments(update_id, user_id, at_seconds, body, created_at)
        VALUES ((SELECT MAX(id) FROM updates), 1, 3, 'Un commentaire oublié', 0);`);
    const s = await startServer({ data: old, workers: 0 });
    try {
      assert.match(s.output, /applied migration (pg\/)?006_search\n/);
      const tok = apiToken(s, 'old@example.com');
      const get = async (q) => (await (await fetch(`${s.url}/api/search?q=${encodeURIComponent(q)}`,
        { headers: { authorization: `Bearer ${tok}` } })).json()).results;
      assert.equal((await get('strategie')).length, 1);
      assert.equal((await get('ecrit recherche')).length, 1);
      const c = await get('oublie');
      assert.equal(c.length, 1);
      assert.equal(c[0].at_seconds, 3);
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(old, { recursive: true, force: true });
  }
});
