// mail.test.mjs - mail end to end: the real server delivering to a real SMTP
// server (npm smtp-server on a free loopback port, with AUTH), every kind of
// message checked as received (recipients, subject, both parts, working
// links, List-Unsubscribe), header injection, an SMTP outage, a restart in
// the middle of delivery, and the weekly reminders of a company spread over
// Paris, New York and Tokyo across the October/November daylight-saving
// changes (driven with `hubcast remind --at`, plus one live run of the
// server on a fake clock).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken, hubcast, sql, isoWeek } from './lib/server.mjs';
import { SMTP_PASS, sleep, startSmtp, decodeWords, links, local } from './lib/smtp.mjs';


// ---- catalog access for setting up situations the API cannot (yet) make ----



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

// A new update by email, turned ready by the server's real worker (which
// queues the notifications in the transaction that marks it ready). Uses
// the one-request upload API when the server has it; otherwise writes the
// update and its job into the catalog the way the upload handler does.
async function postUpdate(srv, email, title, kind = 'weekly') {
  const tok = apiToken(srv, email);
  const q = `title=${encodeURIComponent(title)}${kind === 'allhands' ? '&kind=allhands' : ''}`;
  const { readFileSync } = await import('node:fs');
  const res = await fetch(`${srv.url}/api/updates?${q}`, {
    method: 'POST', body: readFileSync(clip()),
    headers: { authorization: `Bearer ${tok}`, 'content-type': 'video/mp4' },
  });
  let id;
  if (res.status === 404 || res.status === 405) {
    const uid = sql(srv.dir, `SELECT id FROM users WHERE email = '${email}'`);
    const tz = sql(srv.dir, `SELECT time_zone FROM users WHERE id = ${uid}`);
    const input = join(srv.dir, 'uploads', `test-${Date.now()}-${Math.random()}.mp4`);
    copyFileSync(clip(), input);
    const now = Math.floor(Date.now() / 1000);
    id = sql(srv.dir, `INSERT INTO updates(author_id, kind, iso_week, title, status, created_at, updated_at)
      VALUES (${uid}, '${kind}', '${isoWeek(Date.now(), tz)}', '${title.replace(/'/g, "''")}', 'queued', ${now}, ${now})
      RETURNING id`);
    sql(srv.dir, `INSERT INTO jobs(update_id, input_path, priority, created_at, updated_at)
      VALUES (${id}, '${input}', ${kind === 'allhands' ? 10 : 0}, ${now}, ${now})`);
  } else {
    const body = await res.json();
    assert.ok(res.status < 300, JSON.stringify(body));
    id = String(body.update?.id ?? body.id);
  }
  const deadline = Date.now() + 30000;
  while (sql(srv.dir, `SELECT status FROM updates WHERE id = ${id}`) !== 'ready') {
    if (Date.now() > deadline) throw new Error(`update ${id} never became ready:\n${srv.output}`);
    await sleep(100);
  }
  return Number(id);
}

// ---- the shared server ----

let smtp, srv, admin, tokyo, immediate, digest;

before(async () => {
  smtp = await startSmtp();
  srv = await startServer({
    workers: 1,
    args: ['--smtp-url', smtp.url, '--mail-from', 'Hubcast Équipe <hubcast@example.com>'],
  });
  admin = await addUser(srv, 'ceo@example.com', 'Zoë Martin', 'admin');
  immediate = await addUser(srv, 'imm@example.com', 'Imène Immédiat');
  digest = await addUser(srv, 'dig@example.com', 'Dag Digest');
  tokyo = await addUser(srv, 'ken@example.com', 'Ken Tokyo');
  await immediate.req('PATCH', '/api/me', { json: { notify_updates: 'immediate' } });
  await tokyo.req('PATCH', '/api/me', { json: { notify_updates: 'immediate', time_zone: 'Asia/Tokyo' } });
});

after(async () => {
  await srv?.cleanup();
  await smtp?.stop();
});

function checkCommon(m) {
  assert.ok(m.text, 'a text/plain part');
  assert.ok(m.html, 'a text/html part');
  assert.ok(m.types.includes('multipart/alternative'), m.types.join(','));
  assert.match(m.header('message-id'), /^<hubcast\.\d+\.\d+@example\.com>$/);
  assert.match(m.header('date'), /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000$/);
  assert.equal(decodeWords(m.header('from')), 'Hubcast Équipe <hubcast@example.com>');
  assert.equal(m.mailFrom, 'hubcast@example.com');
}

async function checkUnsubscribe(m) {
  const lu = m.header('list-unsubscribe');
  assert.match(lu, /^<http:\/\/localhost:\d+\/api\/unsubscribe\?token=[0-9]+\.[A-Za-z0-9_-]+>$/);
  assert.equal(m.header('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
  const url = lu.slice(1, -1);
  assert.ok(m.text.includes(url), 'the text part has the unsubscribe link');
  const page = await fetch(local(srv, url), { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Unsubscribe/);
  return url;
}

test('an invite arrives with both parts, an encoded French name and a link that opens the invite page', async () => {
  const r = await admin.req('POST', '/api/people/invite', { json: { email: 'elodie@example.com', name: 'Élodie Dupré' } });
  assert.equal(r.status, 201);
  const [m] = await smtp.waitFor((x) => x.rcptTo.includes('elodie@example.com'));
  checkCommon(m);
  assert.equal(m.subject, 'Zoë Martin invited you to Hubcast');
  assert.match(m.header('subject'), /^=\?UTF-8\?B\?/);
  assert.equal(decodeWords(m.header('to')), 'Élodie Dupré <elodie@example.com>');
  assert.match(m.text, /Hello Élodie Dupré/);
  assert.match(m.html, /Élodie Dupré/);
  assert.equal(m.header('list-unsubscribe'), undefined, 'an invite is not a notification');
  const link = links(m.text).find((l) => l.includes('/invite#token='));
  assert.ok(link, m.text);
  assert.ok(m.html.includes(link.replace(/&/g, '&amp;')), 'the same link in the HTML part');
  const page = await fetch(local(srv, link));
  assert.equal(page.status, 200);
  const token = new URL(link).hash.replace('#token=', '');
  const accept = await fetch(`${srv.url}/api/invites/accept`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: 'élodie password 1' }),
  });
  assert.equal(accept.status, 201);
});

test('a password reset always answers 202, mails a link only to a real account, and the link sets a new password', async () => {
  const unknown = await fetch(`${srv.url}/api/password/reset`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'nobody@example.com' }),
  });
  assert.equal(unknown.status, 202);
  const known = await fetch(`${srv.url}/api/password/reset`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'dig@example.com' }),
  });
  assert.equal(known.status, 202);
  const [m] = await smtp.waitFor((x) => x.rcptTo.includes('dig@example.com') && /password/i.test(x.subject));
  checkCommon(m);
  assert.equal(m.subject, 'Reset your Hubcast password');
  const link = links(m.text).find((l) => l.includes('/reset#token='));
  assert.ok(link);
  assert.equal((await fetch(local(srv, link))).status, 200);
  const token = new URL(link).hash.replace('#token=', '');
  const bad = await fetch(`${srv.url}/api/password/reset/confirm`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: 'not-a-token', password: 'another good password' }),
  });
  assert.equal(bad.status, 410);
  const ok = await fetch(`${srv.url}/api/password/reset/confirm`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: 'another good password' }),
  });
  assert.equal(ok.status, 200);
  const again = await fetch(`${srv.url}/api/password/reset/confirm`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: 'a third good password' }),
  });
  assert.equal(again.status, 410, 'a reset link works once');
  assert.equal((await digest.login('dig@example.com', 'another good password')).status, 200);
  assert.equal(smtp.messages.filter((x) => x.rcptTo.includes('nobody@example.com')).length, 0);
});

test('a new weekly update goes at once to members who chose immediate, with a watch link and List-Unsubscribe', async () => {
  const before = smtp.messages.length;
  const id = await postUpdate(srv, 'ceo@example.com', 'Roadmap « Q4 »');
  const got = await smtp.waitFor((x) => x.header('message-id') && x.text?.includes(`/watch/${id}`), { count: 2 });
  const to = got.flatMap((x) => x.rcptTo).sort();
  assert.deepEqual(to, ['imm@example.com', 'ken@example.com']);
  for (const m of got) {
    checkCommon(m);
    assert.equal(m.subject, 'Zoë Martin posted their weekly update: Roadmap « Q4 »');
    const watch = links(m.text).find((l) => l.endsWith(`/watch/${id}`));
    assert.ok(watch);
    assert.ok(m.html.includes(watch));
    assert.equal((await fetch(local(srv, watch))).status, 200);
    await checkUnsubscribe(m);
  }
  await sleep(500);
  const extra = smtp.messages.slice(before).filter((x) => x.text?.includes(`/watch/${id}`));
  assert.equal(extra.length, 2, 'nobody else (digest members wait for their digest; not the author)');
});

test('a comment on your update reaches you (not the commenter) with a link straight to it', async () => {
  const id = await postUpdate(srv, 'ceo@example.com', 'Hiring plan');
  const r = await tokyo.req('POST', `/api/updates/${id}/comments`, { json: { body: 'Très bien <b>done</b> 👏' } });
  assert.equal(r.status, 201, r.text);
  const own = await admin.req('POST', `/api/updates/${id}/comments`, { json: { body: 'my own note' } });
  assert.equal(own.status, 201);
  const [m] = await smtp.waitFor((x) => x.rcptTo.includes('ceo@example.com') && /commented/.test(x.subject));
  checkCommon(m);
  assert.equal(m.subject, 'Ken Tokyo commented on your update: Hiring plan');
  assert.match(m.text, /Très bien <b>done<\/b> 👏/);
  assert.match(m.html, /Très bien &lt;b&gt;done&lt;\/b&gt; 👏/, 'the comment is escaped in HTML');
  const link = links(m.text).find((l) => l.includes(`/watch/${id}#comment-`));
  assert.ok(link);
  assert.equal((await fetch(local(srv, link))).status, 200);
  await checkUnsubscribe(m);
  await sleep(300);
  assert.equal(smtp.messages.filter((x) => /commented/.test(x.subject)).length, 1, 'no mail for your own comment');
});

test('an all-hands update reaches every active member whatever their preference, except the unsubscribed', async () => {
  const d = await addUser(srv, 'off@example.com', 'Olga Off');
  await d.req('PATCH', '/api/me', { json: { notify_updates: 'off' } });
  const gone = await addUser(srv, 'gone@example.com', 'Gaston Gone');
  // Gaston unsubscribes with one click, the way a mail provider does it,
  // from the List-Unsubscribe header of a notification he receives.
  const uid = gone.user.id;
  sql(srv.dir, `UPDATE users SET notify_updates = 'immediate' WHERE id = ${uid}`);
  const idg = await postUpdate(srv, 'dig@example.com', 'For Gaston');
  const [gm] = await smtp.waitFor((x) => x.rcptTo.includes('gone@example.com') && x.text?.includes(`/watch/${idg}`));
  const url = gm.header('list-unsubscribe').slice(1, -1);
  const oneClick = await fetch(local(srv, url), {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  assert.equal(oneClick.status, 200);
  assert.equal((await oneClick.json()).unsubscribed, true);
  assert.equal(sql(srv.dir, `SELECT unsubscribed FROM users WHERE id = ${uid}`), '1');
  const forged = await fetch(local(srv, url.replace(/token=(\d+)\./, (m, n) => `token=${Number(n) - 1}.`)), {
    method: 'POST', body: 'List-Unsubscribe=One-Click',
  });
  assert.equal(forged.status, 400, 'a token is only good for its own person');

  const id = await postUpdate(srv, 'ceo@example.com', 'All-hands: the year ahead', 'allhands');
  const everyone = ['imm@example.com', 'dig@example.com', 'ken@example.com', 'off@example.com', 'elodie@example.com'];
  const got = await smtp.waitFor((x) => x.text?.includes(`/watch/${id}`), { count: everyone.length });
  await sleep(500);
  const all = smtp.messages.filter((x) => x.text?.includes(`/watch/${id}`));
  assert.deepEqual(all.flatMap((x) => x.rcptTo).sort(), everyone.sort());
  for (const m of got) {
    checkCommon(m);
    assert.equal(m.subject, 'All-hands from Zoë Martin: the year ahead', 'the all-hands prefix once');
    await checkUnsubscribe(m);
  }
});

test('a name with CR/LF and non-ASCII characters cannot add headers or recipients', async () => {
  const evil = 'Eve\r\nBcc: victim@evil.example\r\nX-Injected: yes Ünïcode';
  const r = hubcast(['user', 'add', 'eve@example.com', '--name', evil, '--data', srv.dir]);
  assert.equal(r.status, 0, r.stderr);
  sql(srv.dir, "UPDATE users SET notify_updates = 'immediate' WHERE email = 'eve@example.com'");
  const inv = await admin.req('POST', '/api/people/invite', {
    json: { email: 'mallory@example.com', name: 'Mallory\nSubject: pwned' },
  });
  assert.equal(inv.status, 201);
  const id = await postUpdate(srv, 'imm@example.com', 'Title\nBcc: victim2@evil.example');
  const [m] = await smtp.waitFor((x) => x.rcptTo.includes('eve@example.com') && x.text?.includes(`/watch/${id}`));
  const [mi] = await smtp.waitFor((x) => x.rcptTo.includes('mallory@example.com'));
  for (const msg of [m, mi]) {
    assert.equal(msg.rcptTo.length, 1);
    const names = msg.headers.map(([k]) => k);
    assert.ok(!names.includes('bcc') && !names.includes('x-injected'), names.join(','));
    assert.equal(names.filter((n) => n === 'subject').length, 1);
  }
  assert.equal(decodeWords(m.header('to')), 'Eve  Bcc: victim@evil.example  X-Injected: yes Ünïcode <eve@example.com>');
  assert.equal(m.subject, 'Imène Immédiat posted their weekly update: Title Bcc: victim2@evil.example');
  assert.equal(decodeWords(mi.header('to')), '"Mallory Subject: pwned" <mallory@example.com>');
  assert.ok(!smtp.messages.some((x) => x.rcptTo.some((a) => a.includes('evil.example'))));
});

test('the admin sees pending and failed mail, mail settings without the password, and the schedule', async () => {
  const ob = await admin.req('GET', '/api/admin/outbox');
  assert.equal(ob.status, 200);
  assert.ok(Array.isArray(ob.data.messages));
  assert.ok(ob.data.counts.sent > 5);
  assert.equal((await immediate.req('GET', '/api/admin/outbox')).status, 403);

  const m = await admin.req('GET', '/api/admin/mail');
  assert.equal(m.status, 200);
  assert.equal(m.data.enabled, true);
  assert.ok(!m.text.includes(SMTP_PASS), 'the SMTP password is never returned');
  assert.match(m.data.smtp_url, /^smtp:\/\/hubcast:\*+@127\.0\.0\.1:\d+$/);
  const bad = await admin.req('PUT', '/api/admin/mail', { json: { smtp_url: 'http://x' } });
  assert.equal(bad.status, 400);
  const crlf = await admin.req('PUT', '/api/admin/mail', { json: { mail_from: 'a@b.c\nBcc: x@y.z' } });
  assert.equal(crlf.status, 400);
  // Saving the redacted URL back keeps the stored password.
  const put = await admin.req('PUT', '/api/admin/mail', { json: { smtp_url: smtp.url, mail_from: 'Hubcast Équipe <hubcast@example.com>' } });
  assert.equal(put.status, 200);
  const again = await admin.req('PUT', '/api/admin/mail', { json: { smtp_url: put.data.smtp_url } });
  assert.equal(again.status, 200);
  assert.equal(sql(srv.dir, "SELECT value FROM settings WHERE key = 'smtp_url'"), smtp.url);

  const t = await admin.req('POST', '/api/admin/mail/test');
  assert.equal(t.status, 202);
  const [tm] = await smtp.waitFor((x) => x.rcptTo.includes('ceo@example.com') && x.subject === 'Hubcast test message');
  checkCommon(tm);

  const s = await admin.req('GET', '/api/admin/schedule');
  assert.deepEqual(s.data, { reminder_day: 4, reminder_time: '10:00', reminder_second: true, digest_day: 1, digest_time: '08:00' });
  assert.equal((await admin.req('PUT', '/api/admin/schedule', { json: { reminder_time: '25:00' } })).status, 400);
  assert.equal((await admin.req('PUT', '/api/admin/schedule', { json: { reminder_day: 8 } })).status, 400);
  const p = await admin.req('PUT', '/api/admin/schedule', { json: { reminder_day: 3, reminder_time: '09:30', reminder_second: false } });
  assert.equal(p.status, 200);
  assert.equal(p.data.reminder_time, '09:30');
  assert.equal(p.data.reminder_second, false);
  await admin.req('PUT', '/api/admin/schedule', { json: { reminder_day: 4, reminder_time: '10:00', reminder_second: true } });
});

// ---- outages and restarts ----

test('with the SMTP server down nothing is lost: everything arrives once it is back', async () => {
  const box = await startSmtp();
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-mail-'));
  hubcast(['migrate', '--data', dir]);
  sql(dir, "UPDATE settings SET value = '1' WHERE key = 'mail_retry_base'");
  let s = await startServer({ data: dir, args: ['--smtp-url', box.url, '--mail-from', 'hubcast@example.com'] });
  try {
    const a = await addUser(s, 'boss@example.com', 'Boss', 'admin');
    await box.stop();
    for (let i = 0; i < 3; i++) assert.equal((await a.req('POST', '/api/admin/mail/test')).status, 202);
    // They fail and wait for a retry.
    const deadline = Date.now() + 10000;
    for (;;) {
      const ob = await a.req('GET', '/api/admin/outbox');
      if (ob.data.messages.some((m) => m.attempts >= 1 && m.last_error)) break;
      assert.ok(Date.now() < deadline, 'the outage shows in the outbox');
      await sleep(100);
    }
    assert.equal(box.messages.length, 0);
    await sleep(1500);
    await box.start();
    const isTest = (m) => m.subject === 'Hubcast test message';
    const got = await box.waitFor(isTest, { count: 3, timeout: 20000 });
    await sleep(1000);
    assert.equal(box.messages.filter(isTest).length, 3, 'each once');
    assert.equal(new Set(got.map((m) => m.header('message-id'))).size, 3);
    const ob = await a.req('GET', '/api/admin/outbox');
    assert.equal(ob.data.counts.pending, 0);
    assert.equal(Number(sql(dir, "SELECT COUNT(*) FROM outbox WHERE kind = 'test' AND state = 'sent'")), 3);
  } finally {
    await s.stop();
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a server stopped or killed in the middle of delivery sends no duplicates after its restart', async () => {
  const box = await startSmtp();
  box.delay = 400;   // each message takes a while to be accepted
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-mail-'));
  const args = ['--smtp-url', box.url, '--mail-from', 'hubcast@example.com'];
  let s = await startServer({ data: dir, args });
  try {
    const a = await addUser(s, 'boss@example.com', 'Boss', 'admin');
    // No reminders or digests in this test: only the test messages.
    sql(dir, 'UPDATE users SET notify_reminders = 0, notify_updates = \'off\'');
    for (let i = 0; i < 8; i++) await a.req('POST', '/api/admin/mail/test');
    await box.waitFor(() => true, { count: 1 });
    await s.stop('SIGTERM');                 // finishes the message it is sending
    const afterTerm = box.messages.length;
    s = await startServer({ data: dir, args });
    await box.waitFor(() => true, { count: afterTerm + 1 });
    await sleep(150);                        // in the middle of the next one
    await s.stop('SIGKILL');
    assert.match(sql(dir, 'SELECT COUNT(*) FROM outbox WHERE claimed_at IS NOT NULL'), /^[01]$/);
    s = await startServer({ data: dir, args });
    try {
      await box.waitFor(() => true, { count: 8, timeout: 20000 });
    } catch (e) {
      throw new Error(`${e.message}\n${sql(dir, 'SELECT id, state, attempts, next_try, claimed_at, last_error FROM outbox')}\n${s.output}`);
    }
    await sleep(1500);
    const ids = box.messages.map((m) => m.header('message-id'));
    assert.equal(ids.length, 8, ids.join('\n'));
    assert.equal(new Set(ids).size, 8);
    assert.equal(sql(dir, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'"), '8');
  } finally {
    await s.stop();
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- the weekly habit: a company in three time zones across DST ----

const PEOPLE = [
  { email: 'paris@example.com', name: 'Amélie Paris', tz: 'Europe/Paris' },
  { email: 'paris2@example.com', name: 'Bastien Paris', tz: 'Europe/Paris' },
  { email: 'ny@example.com', name: 'Nora York', tz: 'America/New_York' },
  { email: 'tokyo@example.com', name: 'Kenji Tokyo', tz: 'Asia/Tokyo' },
  { email: 'tokyo2@example.com', name: 'Yui Tokyo', tz: 'Asia/Tokyo' },
];

function company() {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-habit-'));
  assert.equal(hubcast(['migrate', '--data', dir]).status, 0);
  for (const p of PEOPLE) {
    const r = hubcast(['user', 'add', p.email, '--name', p.name, '--data', dir]);
    assert.equal(r.status, 0, r.stderr);
    // They joined before the weeks the test plays out.
    sql(dir, `UPDATE users SET time_zone = '${p.tz}', created_at = ${Date.parse('2026-10-01T00:00:00Z') / 1000}
      WHERE email = '${p.email}'`);
  }
  return dir;
}

function post(dir, email, at, title, kind = 'weekly') {
  const p = PEOPLE.find((x) => x.email === email);
  const t = Math.floor(Date.parse(at) / 1000);
  sql(dir, `INSERT INTO updates(author_id, kind, iso_week, title, status, created_at, updated_at, ready_at)
    SELECT id, '${kind}', '${isoWeek(Date.parse(at), p.tz)}', '${title}', 'ready', ${t}, ${t}, ${t}
    FROM users WHERE email = '${email}'`);
}

test('reminders go at 10:00 on each person\'s own clock, only to those who have not posted, once, across DST changes', () => {
  const dir = company();
  try {
    // Who posts when (UTC). Weeks: W43 (EU DST ends Sun 25 Oct), W44 (US DST
    // ends Sun 1 Nov), W45 (everyone on winter time).
    const posts = [
      ['2026-10-20T09:00:00Z', 'paris@example.com', 'Amélie W43'],   // before any reminder
      ['2026-10-22T11:30:00Z', 'tokyo@example.com', 'Kenji W43'],    // after the first, before the second
      ['2026-10-27T03:00:00Z', 'ny@example.com', 'Nora W44'],
      ['2026-10-30T02:30:00Z', 'tokyo2@example.com', 'Yui W44'],     // after the second
      ['2026-11-02T10:00:00Z', 'paris2@example.com', 'Bastien W45'],
    ];
    // Everything the scheduler would do every 15 minutes from Monday 19
    // October 12:00Z (Monday in all three zones) to 9 November: each post
    // counts from its own instant on.
    for (const [at, who, title] of posts) post(dir, who, at, title);
    // 2016 scheduler rounds, several times slower on PostgreSQL (a round
    // trip per statement) than on SQLite: the time is printed, never judged.
    const t0 = Date.now();
    const r = hubcast(['remind', '--at', '2026-10-19T12:00:00Z', '--until', '2026-11-09T00:00:00Z',
      '--step', '900', '--data', dir], { timeout: 600000 });
    console.log(`# remind over three weeks in 15-minute rounds: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(r.status, 0, r.stderr);
    const rows = sql(dir, `SELECT u.email, o.dedupe_key, o.created_at FROM outbox o JOIN users u ON u.id = o.to_user
      WHERE o.kind = 'reminder'`).split('\n').map((l) => {
      const [email, key, at] = l.split('|');
      return `${new Date(Number(at) * 1000).toISOString().slice(0, 16)} ${key.split(':').slice(2).join(':')} ${email}`;
    }).sort();   // by time, week, reminder and address, in code point order (not a collation's)
    const expected = [
      // W43: Thursday 22 Oct 10:00 = 01:00Z Tokyo (JST), 08:00Z Paris (CEST), 14:00Z New York (EDT)
      '2026-10-22T01:00 2026-W43:1 tokyo2@example.com',
      '2026-10-22T01:00 2026-W43:1 tokyo@example.com',
      '2026-10-22T08:00 2026-W43:1 paris2@example.com',
      '2026-10-22T14:00 2026-W43:1 ny@example.com',
      '2026-10-23T01:00 2026-W43:2 tokyo2@example.com',
      '2026-10-23T08:00 2026-W43:2 paris2@example.com',
      '2026-10-23T14:00 2026-W43:2 ny@example.com',
      // W44: Paris is on CET now (09:00Z); New York still EDT (14:00Z)
      '2026-10-29T01:00 2026-W44:1 tokyo2@example.com',
      '2026-10-29T01:00 2026-W44:1 tokyo@example.com',
      '2026-10-29T09:00 2026-W44:1 paris2@example.com',
      '2026-10-29T09:00 2026-W44:1 paris@example.com',
      '2026-10-30T01:00 2026-W44:2 tokyo2@example.com',
      '2026-10-30T01:00 2026-W44:2 tokyo@example.com',
      '2026-10-30T09:00 2026-W44:2 paris2@example.com',
      '2026-10-30T09:00 2026-W44:2 paris@example.com',
      // W45: New York on EST (15:00Z); Bastien posted on Monday
      '2026-11-05T01:00 2026-W45:1 tokyo2@example.com',
      '2026-11-05T01:00 2026-W45:1 tokyo@example.com',
      '2026-11-05T09:00 2026-W45:1 paris@example.com',
      '2026-11-05T15:00 2026-W45:1 ny@example.com',
      '2026-11-06T01:00 2026-W45:2 tokyo2@example.com',
      '2026-11-06T01:00 2026-W45:2 tokyo@example.com',
      '2026-11-06T09:00 2026-W45:2 paris@example.com',
      '2026-11-06T15:00 2026-W45:2 ny@example.com',
    ];
    assert.deepEqual(rows, expected);

    // The dry run shows the same on each person's clock, without queuing anything.
    const before = sql(dir, 'SELECT COUNT(*) FROM outbox');
    const dry = hubcast(['remind', '--dry-run', '--at', '2026-11-12T00:00:00Z', '--data', dir]);
    assert.equal(dry.status, 0);
    assert.match(dry.stdout, /^later +reminder +2026-W46 +2026-11-12T15:00:00Z +Thu 2026-11-12 10:00 -05:00 +America\/New_York +Nora York <ny@example.com>$/m);
    assert.match(dry.stdout, /^later +reminder +2026-W46 +2026-11-12T09:00:00Z +Thu 2026-11-12 10:00 \+01:00 +Europe\/Paris +Amélie Paris <paris@example.com>$/m);
    assert.match(dry.stdout, /^later +reminder +2026-W46 +2026-11-12T01:00:00Z +Thu 2026-11-12 10:00 \+09:00 +Asia\/Tokyo/m);
    const dry2 = hubcast(['remind', '--dry-run', '--at', '2026-11-12T01:00:00Z', '--data', dir]);
    assert.match(dry2.stdout, /^due +reminder +2026-W46 +2026-11-12T01:00:00Z +Thu 2026-11-12 10:00 \+09:00 +Asia\/Tokyo +Kenji Tokyo/m);
    assert.match(dry2.stdout, /^later +reminder +2026-W46 +2026-11-12T09:00:00Z .*paris@example.com/m);
    assert.equal(sql(dir, 'SELECT COUNT(*) FROM outbox'), before);

    // Weekly digests: Monday 08:00 local, last week complete, with the participation rate.
    const dig = sql(dir, `SELECT u.email, o.dedupe_key, o.created_at, o.subject, o.body_text FROM outbox o
      JOIN users u ON u.id = o.to_user WHERE o.kind = 'digest' AND o.dedupe_key LIKE '%2026-W44' ORDER BY u.email`);
    const byUser = Object.fromEntries(dig.split(/\n(?=[a-z0-9]+@)/).map((l) => [l.split('|')[0], l]));
    assert.equal(Object.keys(byUser).length, PEOPLE.length);
    const at = (email) => new Date(Number(byUser[email].split('|')[2]) * 1000).toISOString();
    assert.equal(at('paris@example.com'), '2026-11-02T07:00:00.000Z');   // Mon 2 Nov 08:00 CET
    assert.equal(at('ny@example.com'), '2026-11-02T13:00:00.000Z');      // Mon 2 Nov 08:00 EST
    assert.equal(at('tokyo@example.com'), '2026-11-01T23:00:00.000Z');   // Mon 2 Nov 08:00 JST
    for (const l of Object.values(byUser)) {
      assert.match(l, /Hubcast weekly digest 2026-W44: 2 of 5 posted \(40%\)/);
      assert.match(l, /Nora W44/);
      assert.match(l, /Yui W44/);
      // Only the week's updates are listed (the participation chart above
      // them names the weeks before, by design: tests/e2e/digest-chart).
      const [before, chart, list] = l.split(/(Participation over the last weeks:\n(?:W\d+ .*\n)+)/);
      assert.match(chart, /\nW44 [█░]{10} 2\/5\n$/);
      assert.doesNotMatch(before + list, /W43|W45/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('live: the server on a fake clock sends the reminder at 10:00 Paris time, to non-posters only', async () => {
  const dir = company();
  const box = await startSmtp();
  post(dir, 'paris2@example.com', '2026-10-21T09:00:00Z', 'Bastien early');
  post(dir, 'tokyo2@example.com', '2026-10-21T09:00:00Z', 'Yui early');
  sql(dir, "UPDATE settings SET value = '0' WHERE key = 'reminder_second'");
  const s = await startServer({
    data: dir, args: ['--test-clock', '--smtp-url', box.url, '--mail-from', 'hubcast@example.com'],
    env: { HUBCAST_FAKE_NOW: '2026-10-22T07:59:57Z' },
  });
  try {
    // Tokyo's 10:00 was seven hours ago: Kenji at once; Paris at 08:00Z: Amélie.
    const got = await box.waitFor((m) => /weekly update/.test(m.subject), { count: 2, timeout: 15000 });
    await sleep(2500);
    const rem = box.messages.filter((m) => /weekly update/.test(m.subject));
    assert.deepEqual(rem.map((m) => m.rcptTo[0]).sort(), ['paris@example.com', 'tokyo@example.com']);
    const paris = got.find((m) => m.rcptTo[0] === 'paris@example.com');
    assert.ok(Date.parse(paris.header('date')) >= Date.parse('2026-10-22T08:00:00Z'), paris.header('date'));
    assert.ok(Date.parse(paris.header('date')) < Date.parse('2026-10-22T08:00:30Z'));
    assert.equal(paris.subject, 'Time for your weekly update (2026-W43)');
    assert.ok(links(paris.text).some((l) => l.endsWith('/record')));
    assert.equal((await fetch(local(s, links(paris.text).find((l) => l.endsWith('/record'))))).status, 200);
    // The daily digest of Wednesday's posts went to everyone else, on their own clock.
    const daily = box.messages.filter((m) => /^New on Hubcast/.test(m.subject));
    assert.equal(daily.length, 5, daily.map((m) => m.rcptTo[0]).join());
    for (const m of daily) {
      assert.ok(m.text && m.html && m.header('list-unsubscribe'));
      assert.equal(m.text.includes('Bastien early'), m.rcptTo[0] !== 'paris2@example.com');
      assert.equal(m.text.includes('Yui early'), m.rcptTo[0] !== 'tokyo2@example.com');
    }
  } finally {
    await s.cleanup();
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a digest shows each update\'s poster through a link that works without signing in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-poster-'));
  const box = await startSmtp();
  const args = ['--test-clock', '--smtp-url', box.url, '--mail-from', 'hubcast@example.com'];
  let s = await startServer({ data: dir, workers: 1, args, env: { HUBCAST_FAKE_NOW: '2026-11-25T12:00:00Z' } });
  try {
    await addUser(s, 'poster@example.com', 'Pia Poster');
    await addUser(s, 'reader@example.com', 'Rex Reader');   // daily digest by default
    await postUpdate(s, 'poster@example.com', 'Poster clip');
    await s.stop();
    s = await startServer({ data: dir, args, env: { HUBCAST_FAKE_NOW: '2026-11-26T07:59:57Z' } });
    const [m] = await box.waitFor((x) => x.rcptTo[0] === 'reader@example.com' && /^New on Hubcast/.test(x.subject));
    assert.match(m.text, /Poster clip/);
    const src = (m.html.match(/<img src="([^"]+poster\.jpg)"/) || [])[1];
    assert.ok(src, 'the digest has a poster image');
    const img = await fetch(local(s, src));      // no cookie, no token header
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/jpeg');
  } finally {
    await s.cleanup();
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
