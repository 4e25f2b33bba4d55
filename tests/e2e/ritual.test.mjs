// ritual.test.mjs - the weekly ritual end to end against the real server and
// a real SMTP server: the kind of an update changed after upload (and the
// all-hands mail it sends, once), one rule for "posted" on every page and in
// every mail, nobody counted before they joined, no catch-up reminder, the
// author's own opening not counted as a view, the all-hands prefix written
// once, the comment mail's link to the comment, check-in prompts and their
// answers, and @mentions with their mail and kudos list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken, hubcast, sql, isoWeek, Client } from './lib/server.mjs';
import { sleep, startSmtp, links } from './lib/smtp.mjs';

// ---- helpers ----

let clipPath;
function clip() {
  if (clipPath) return clipPath;
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-clip-'));
  clipPath = join(dir, 'clip.mp4');
  const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=1',
    '-f', 'lavfi', '-i', 'sine=d=1', '-c:v', 'libx264', '-c:a', 'aac', '-shortest', clipPath]);
  if (r.status !== 0) throw new Error('ffmpeg failed');
  return clipPath;
}

// Post a clip with the one-request upload API as email; with ready, wait
// until the server's worker has made it ready. Returns the update's id.
async function postClip(s, email, title, { kind = 'weekly', ready = true, description = '' } = {}) {
  const q = new URLSearchParams({ title, kind });
  if (description) q.set('description', description);
  const res = await fetch(`${s.url}/api/updates?${q}`, {
    method: 'POST', body: readFileSync(clip()),
    headers: { authorization: `Bearer ${apiToken(s, email)}`, 'content-type': 'video/mp4' },
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  const id = body.update.id;
  const deadline = Date.now() + 30000;
  while (ready && sql(s.dir, `SELECT status FROM updates WHERE id = ${id}`) !== 'ready') {
    if (Date.now() > deadline) throw new Error(`update ${id} never became ready:\n${s.output}`);
    await sleep(100);
  }
  return id;
}

const thisWeek = () => isoWeek(Date.now(), 'UTC');
const weeksAgo = (k) => isoWeek(Date.now() - k * 7 * 86400000, 'UTC');

// Next Monday 08:00 UTC (when the weekly digest of this week is due).
function nextMonday8() {
  const d = new Date();
  d.setUTCHours(8, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + ((8 - (d.getUTCDay() || 7)) % 7 || 7));
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

// ---- the shared server: real worker, real SMTP ----

let smtp, srv, zoe, bob, chloe;

before(async () => {
  smtp = await startSmtp();
  srv = await startServer({ workers: 1, args: ['--smtp-url', smtp.url, '--mail-from', 'hubcast@example.com'] });
  zoe = await addUser(srv, 'ceo@example.com', 'Zoë Martin', 'admin');
  bob = await addUser(srv, 'bob@example.com', 'Bob Builder');
  chloe = await addUser(srv, 'chloe@example.com', 'Chloé Dupont');
  // Weekly updates reach nobody at once here (digest), so every mail a test
  // waits for is the one it caused.
  sql(srv.dir, "UPDATE users SET notify_updates = 'digest', notify_reminders = 0");
});

after(async () => {
  await srv?.cleanup();
  await smtp?.stop();
});

const mailsTo = (email, pred) => smtp.messages.filter((m) => m.rcptTo.includes(email) && pred(m));

// ---- bug: the kind at Publish and later ----

test('the kind of an update can be changed after upload; becoming all-hands mails everyone once, never again on flip-flops', async () => {
  const id = await postClip(srv, 'bob@example.com', 'Sprint review');
  // A member may not make an all-hands, even of their own update.
  const denied = await bob.req('PATCH', `/api/updates/${id}`, { json: { kind: 'allhands' } });
  assert.equal(denied.status, 403, denied.text);
  const same = await bob.req('PATCH', `/api/updates/${id}`, { json: { kind: 'weekly' } });
  assert.equal(same.status, 200, same.text);
  assert.equal(same.data.update.kind, 'weekly');
  assert.equal((await bob.req('PATCH', `/api/updates/${id}`, { json: { kind: 'everyone' } })).status, 400);
  // Nobody can make someone else's update all-hands but an admin.
  assert.equal((await chloe.req('PATCH', `/api/updates/${id}`, { json: { kind: 'weekly' } })).status, 403);

  const up = await zoe.req('PATCH', `/api/updates/${id}`, { json: { kind: 'allhands' } });
  assert.equal(up.status, 200, up.text);
  assert.equal(up.data.update.kind, 'allhands');
  const isIt = (m) => m.text?.includes(`/watch/${id}`) && /^All-hands from Bob Builder/.test(m.subject);
  await smtp.waitFor(isIt, { count: 2 });
  const week = await chloe.req('GET', '/api/weeks/current');
  assert.deepEqual(week.data.allhands.map((u) => u.id), [id]);
  assert.ok(!week.data.updates.some((u) => u.id === id));

  assert.equal((await zoe.req('PATCH', `/api/updates/${id}`, { json: { kind: 'weekly' } })).data.update.kind, 'weekly');
  assert.equal((await zoe.req('PATCH', `/api/updates/${id}`, { json: { kind: 'allhands' } })).data.update.kind, 'allhands');
  await sleep(2000);
  const got = smtp.messages.filter(isIt);
  assert.deepEqual(got.flatMap((m) => m.rcptTo).sort(), ['ceo@example.com', 'chloe@example.com'],
    'one all-hands mail to each member but the author');
  assert.equal((await bob.req('GET', `/api/updates/${id}`)).data.update.kind, 'allhands');
});

// ---- bug: the all-hands prefix, once ----

test('an all-hands titled "All-hands: ..." says All-hands once in its mail and in the digest', async () => {
  const id = await postClip(srv, 'ceo@example.com', 'All-hands: the year ahead', { kind: 'allhands' });
  const [m] = await smtp.waitFor((x) => x.rcptTo.includes('bob@example.com') && x.text?.includes(`/watch/${id}`));
  assert.equal(m.subject, 'All-hands from Zoë Martin: the year ahead');
  for (const part of [m.subject, m.text, m.html]) assert.doesNotMatch(part, /All-hands:\s*All-hands/i);
  const r = hubcast(['remind', '--at', nextMonday8(), '--data', srv.dir]);
  assert.equal(r.status, 0, r.stderr);
  const digest = sql(srv.dir, `SELECT body_text || body_html FROM outbox WHERE kind = 'digest'
    AND dedupe_key = 'digest:${bob.user.id}:${thisWeek()}'`);
  assert.match(digest, /the year ahead/);
  assert.doesNotMatch(digest, /All-hands:\s*All-hands/i);
});

// ---- bug: the comment mail's link ----

test('the comment mail links to /watch/ID#comment-N, the id the watch page gives that comment', async () => {
  const id = await postClip(srv, 'ceo@example.com', 'Hiring plan');
  const c = await chloe.req('POST', `/api/updates/${id}/comments`, { json: { body: 'Count me in' } });
  assert.equal(c.status, 201, c.text);
  const cid = c.data.comment.id;
  const [m] = await smtp.waitFor((x) => x.rcptTo.includes('ceo@example.com') && /commented/.test(x.subject)
    && x.text?.includes('Count me in'));
  const want = `${new URL(links(m.text).find((l) => l.includes('/watch/'))).origin}/watch/${id}#comment-${cid}`;
  assert.ok(links(m.text).includes(want), `${want} in\n${m.text}`);
  assert.ok(m.html.includes(`href="${want}"`), 'the same link in the HTML part');
  // The web app's watch route and the id it gives each comment.
  const watch = readFileSync(new URL('../../web/js/main.js', import.meta.url), 'utf8');
  assert.match(watch, /\/\^\\\/watch\\\/\(\\d\+\)\$\//);
  assert.equal((await fetch(`${srv.url}/watch/${id}`)).status, 200);
  const listed = await zoe.req('GET', `/api/updates/${id}/comments`);
  assert.ok(listed.data.comments.some((x) => x.id === cid));
});

// ---- bugs on a server without workers: what counts, joining, views ----

test('an all-hands counts as its author\'s update: week view, participation, stats, reminders and digest agree', async () => {
  const s = await startServer();
  try {
    const ceo = await addUser(s, 'ceo@example.com', 'Zoë Martin', 'admin');
    await addUser(s, 'bob@example.com', 'Bob Builder');
    sql(s.dir, 'UPDATE users SET created_at = created_at - 30 * 86400');
    const id = await postClip(s, 'ceo@example.com', 'All-hands', { kind: 'allhands', ready: false });
    assert.equal(sql(s.dir, `SELECT status FROM updates WHERE id = ${id}`), 'queued');
    const week = await ceo.req('GET', '/api/weeks/current');
    assert.deepEqual(week.data.posted.map((p) => p.name), ['Zoë Martin']);
    assert.deepEqual(week.data.missing.map((p) => p.name), ['Bob Builder']);
    const part = await ceo.req('GET', '/api/participation?weeks=1');
    assert.deepEqual([part.data.weeks[0].posted, part.data.weeks[0].active], [1, 2]);
    const stats = await ceo.req('GET', `/api/people/${ceo.user.id}/stats`);
    assert.deepEqual(stats.data.weeks, [{ week: thisWeek(), updates: [id] }]);
    assert.equal(stats.data.streak, 1);
    const dry = hubcast(['remind', '--dry-run', '--data', s.dir]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /bob@example\.com/);
    assert.doesNotMatch(dry.stdout, /reminder.*ceo@example\.com/);
    hubcast(['remind', '--at', nextMonday8(), '--data', s.dir]);
    const subj = sql(s.dir, `SELECT subject FROM outbox WHERE kind = 'digest' AND to_user = ${ceo.user.id}`);
    assert.match(subj, /1 of 2 posted \(50%\)/);
  } finally {
    await s.cleanup();
  }
});

test('nobody is "not posted" in a week before they joined, and participation starts with the company', async () => {
  const s = await startServer();
  try {
    const ceo = await addUser(s, 'ceo@example.com', 'Zoë Martin', 'admin');
    await addUser(s, 'new@example.com', 'Nina New');
    // Zoë founded the company three weeks ago; Nina joined today.
    sql(s.dir, `UPDATE users SET created_at = created_at - 21 * 86400 WHERE email = 'ceo@example.com'`);
    const last = await ceo.req('GET', `/api/weeks/${weeksAgo(1)}`);
    assert.equal(last.status, 200);
    assert.deepEqual(last.data.missing.map((p) => p.name), ['Zoë Martin']);
    const now = await ceo.req('GET', '/api/weeks/current');
    assert.deepEqual(now.data.missing.map((p) => p.name), ['Nina New', 'Zoë Martin']);
    const before = await ceo.req('GET', `/api/weeks/${weeksAgo(5)}`);
    assert.deepEqual(before.data.missing, []);
    const part = await ceo.req('GET', '/api/participation?weeks=8');
    assert.equal(part.status, 200);
    assert.deepEqual(part.data.weeks.map((w) => w.week), [3, 2, 1, 0].map(weeksAgo));
    assert.deepEqual(part.data.weeks.map((w) => w.active), [1, 1, 1, 2]);
  } finally {
    await s.cleanup();
  }
});

test('the author opening their own update is not a view', async () => {
  const s = await startServer();
  try {
    const b = await addUser(s, 'bob@example.com', 'Bob Builder');
    const c = await addUser(s, 'chloe@example.com', 'Chloé Dupont');
    const id = await postClip(s, 'bob@example.com', 'Mine', { ready: false });
    sql(s.dir, `UPDATE updates SET status = 'ready', duration = 10, ready_at = updated_at WHERE id = ${id}`);
    assert.equal((await b.req('POST', `/api/updates/${id}/views`, { json: { position: 3 } })).status, 200);
    let u = (await b.req('GET', `/api/updates/${id}`)).data.update;
    assert.equal(u.views_count, 0);
    assert.deepEqual((await b.req('GET', `/api/updates/${id}/views`)).data.views, []);
    assert.equal((await c.req('POST', `/api/updates/${id}/views`, { json: { position: 10 } })).status, 200);
    u = (await c.req('GET', `/api/updates/${id}`)).data.update;
    assert.equal(u.views_count, 1);
    const who = (await b.req('GET', `/api/updates/${id}/views`)).data.views;
    assert.deepEqual(who.map((v) => v.user.name), ['Chloé Dupont']);
    const list = (await c.req('GET', '/api/weeks/current')).data.updates;
    assert.equal(list.find((x) => x.id === id).views_count, 1);
  } finally {
    await s.cleanup();
  }
});

// ---- bug: no catch-up reminder ----

test('no reminder for a reminder time that passed before the person joined (setup, then an invitee)', async () => {
  const box = await startSmtp();
  // Thursday 10:00 UTC (the default reminder time) passed 20 seconds ago.
  const s = await startServer({
    args: ['--test-clock', '--smtp-url', box.url, '--mail-from', 'hubcast@example.com'],
    env: { HUBCAST_FAKE_NOW: '2026-10-22T10:00:20Z' },
  });
  try {
    const admin = new Client(s);
    const setup = await admin.req('POST', '/api/setup', {
      json: { token: s.setupToken, email: 'ceo@example.com', name: 'Zoë Martin', password: 'a good password' },
    });
    assert.equal(setup.status, 201, setup.text);
    assert.equal((await admin.login('ceo@example.com', 'a good password')).status, 200);
    await sleep(2500);
    const inv = await admin.req('POST', '/api/people/invite', { json: { email: 'ivy@example.com', name: 'Ivy' } });
    assert.equal(inv.status, 201, inv.text);
    const [im] = await box.waitFor((m) => m.rcptTo.includes('ivy@example.com'));
    const token = new URL(links(im.text).find((l) => l.includes('/invite#token='))).hash.replace('#token=', '');
    const acc = await fetch(`${s.url}/api/invites/accept`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: 'ivy password 1' }),
    });
    assert.equal(acc.status, 201);
    // Someone who was there before 10:00 does get it: the scheduler runs.
    hubcast(['user', 'add', 'old@example.com', '--name', 'Olaf Old', '--data', s.dir]);
    sql(s.dir, `UPDATE users SET created_at = ${Date.parse('2026-10-01T00:00:00Z') / 1000} WHERE email = 'old@example.com'`);
    await box.waitFor((m) => m.rcptTo.includes('old@example.com') && /weekly update/.test(m.subject));
    await sleep(2500);
    const reminders = box.messages.filter((m) => /weekly update|nudge/.test(m.subject));
    assert.deepEqual(reminders.flatMap((m) => m.rcptTo), ['old@example.com']);
  } finally {
    await s.cleanup();
    await box.stop();
  }
});

// ---- check-in prompts and answers ----

test('the admin sets the check-in prompts; an update carries answers, shown in its JSON and in the digest', async () => {
  const def = await bob.req('GET', '/api/prompts');
  assert.equal(def.status, 200);
  assert.deepEqual(def.data.prompts, ['What I did', 'What I learned', "Where I'm going"]);
  assert.equal((await bob.req('PUT', '/api/prompts', { json: { prompts: ['x'] } })).status, 403);
  assert.equal((await zoe.req('PUT', '/api/prompts', { json: { prompts: [''] } })).status, 400);
  assert.equal((await zoe.req('PUT', '/api/prompts', { json: { prompts: ['a\nb'] } })).status, 400);
  assert.equal((await zoe.req('PUT', '/api/prompts', { json: { prompts: 'What I did' } })).status, 400);
  const put = await zoe.req('PUT', '/api/prompts', { json: { prompts: ['What I did', 'What I learned', "Where I'm going", 'Who helped me'] } });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual((await chloe.req('GET', '/api/prompts')).data.prompts.at(-1), 'Who helped me');

  const id = await postClip(srv, 'bob@example.com', 'Uploader week');
  assert.deepEqual((await bob.req('GET', `/api/updates/${id}`)).data.update.answers, []);
  const answers = [
    { prompt: 'What I did', text: 'Shipped the resumable uploader' },
    { prompt: 'What I learned', text: '' },
    { prompt: "Where I'm going", text: 'Trimming <before> publishing' },
  ];
  assert.equal((await chloe.req('PATCH', `/api/updates/${id}`, { json: { answers } })).status, 403);
  assert.equal((await bob.req('PATCH', `/api/updates/${id}`, { json: { answers: [{ prompt: '', text: 'x' }] } })).status, 400);
  assert.equal((await bob.req('PATCH', `/api/updates/${id}`, { json: { answers: [{ prompt: 'p', text: 'x'.repeat(1001) }] } })).status, 400);
  const r = await bob.req('PATCH', `/api/updates/${id}`, { json: { answers } });
  assert.equal(r.status, 200, r.text);
  const want = [answers[0], answers[2]];
  assert.deepEqual(r.data.update.answers, want, 'empty answers are left out');
  assert.deepEqual((await chloe.req('GET', `/api/updates/${id}`)).data.update.answers, want);
  const week = await chloe.req('GET', '/api/weeks/current');
  assert.deepEqual(week.data.updates.find((u) => u.id === id).answers, want);

  // This week's digest, as `hubcast remind` queues it next Monday (an
  // earlier test queued one already: it goes once per week, so start over).
  sql(srv.dir, "DELETE FROM outbox WHERE kind = 'digest'");
  const rr = hubcast(['remind', '--at', nextMonday8(), '--data', srv.dir]);
  assert.equal(rr.status, 0, rr.stderr);
  const key = `digest:${chloe.user.id}:${thisWeek()}`;
  const text = sql(srv.dir, `SELECT body_text FROM outbox WHERE dedupe_key = '${key}'`);
  const html = sql(srv.dir, `SELECT body_html FROM outbox WHERE dedupe_key = '${key}'`);
  assert.match(text, /Uploader week - Bob Builder\n.*\n {2}What I did: Shipped the resumable uploader\n {2}Where I'm going: Trimming <before> publishing\n/);
  assert.match(html, /What I did:<\/strong> Shipped the resumable uploader/);
  assert.match(html, /Trimming &lt;before&gt; publishing/);
});

// ---- recognition: @mentions ----

test('@mentions in an all-hands and in a comment mail the person once per source, and list as kudos', async () => {
  const ac = await bob.req('GET', '/api/people?q=chl');
  assert.equal(ac.status, 200);
  assert.deepEqual(ac.data.people, [{ id: chloe.user.id, name: 'Chloé Dupont', handle: 'chloe' }]);
  assert.deepEqual((await bob.req('GET', '/api/people?q=Zo')).data.people.map((p) => p.handle), ['zoe']);
  assert.deepEqual((await bob.req('GET', '/api/people?q=dup')).data.people.map((p) => p.name), ['Chloé Dupont']);
  assert.ok((await bob.req('GET', '/api/people')).data.people.some((p) => p.email === 'bob@example.com'),
    'without q, the directory as before');

  const id = await postClip(srv, 'ceo@example.com', 'Launch', {
    kind: 'allhands', description: 'Kudos to @chloe for the launch, and thanks @Bob! (write to zoe@bob.example)',
  });
  const [mc] = await smtp.waitFor((x) => x.rcptTo.includes('chloe@example.com') && /mentioned you/.test(x.subject));
  assert.equal(mc.subject, 'Zoë Martin mentioned you in the all-hands');
  assert.match(mc.text, /Kudos to @chloe for the launch/);
  assert.ok(links(mc.text).some((l) => l.endsWith(`/watch/${id}`)));
  await smtp.waitFor((x) => x.rcptTo.includes('bob@example.com') && x.subject === 'Zoë Martin mentioned you in the all-hands');

  const c = await bob.req('POST', `/api/updates/${id}/comments`, { json: { body: 'Thanks @Zoë! And @ChloéDupont, well done. @bob' } });
  assert.equal(c.status, 201);
  const cid = c.data.comment.id;
  const [mz] = await smtp.waitFor((x) => x.rcptTo.includes('ceo@example.com') && /mentioned you/.test(x.subject));
  assert.equal(mz.subject, 'Bob Builder mentioned you in a comment');
  assert.ok(links(mz.text).some((l) => l.endsWith(`/watch/${id}#comment-${cid}`)));
  await smtp.waitFor((x) => x.rcptTo.includes('chloe@example.com') && x.subject === 'Bob Builder mentioned you in a comment');

  // Editing the description with the same mention mails nobody again.
  const e = await zoe.req('PATCH', `/api/updates/${id}`, { json: { description: 'Kudos again to @chloe' } });
  assert.equal(e.status, 200);
  await sleep(2000);
  assert.equal(mailsTo('chloe@example.com', (x) => /mentioned you/.test(x.subject)).length, 2);
  assert.equal(mailsTo('bob@example.com', (x) => /mentioned you/.test(x.subject)).length, 1, 'not by oneself');
  assert.equal(mailsTo('ceo@example.com', (x) => /mentioned you/.test(x.subject)).length, 1);

  const k = await bob.req('GET', `/api/people/${chloe.user.id}/kudos`);
  assert.equal(k.status, 200);
  assert.deepEqual(k.data.kudos.map((x) => [x.update_id, x.comment_id, x.by.name, x.title]),
    [[id, cid, 'Bob Builder', 'Launch'], [id, null, 'Zoë Martin', 'Launch']]);
  assert.match(k.data.kudos[1].excerpt, /Kudos to @chloe for the launch/);
  assert.equal(typeof k.data.kudos[0].at, 'number');
  assert.equal((await bob.req('GET', '/api/people/99999/kudos')).status, 404);
});
