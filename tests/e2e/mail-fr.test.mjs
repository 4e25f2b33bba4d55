// mail-fr.test.mjs - mail in each person's language (users.lang), end to
// end: the real server on a fake clock delivers the Thursday reminder to a
// real SMTP server, in French (subject, both parts, French plural and week
// label) to a French member and in English to an English one; then the
// weekly and daily digests that `hubcast remind` queues for the same
// company, with their plurals ("1 mise à jour" / "2 mises à jour").
//
// Then the mention mails, each in the mentioned person's language.
//
// Run: node --test tests/e2e/mail-fr.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, hubcast, sql, isoWeek, apiToken } from './lib/server.mjs';
import { startSmtp, links } from './lib/smtp.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const NBSP = '\u00a0';

const PEOPLE = [
  { email: 'amelie@example.com', name: 'Amélie Paris', lang: 'fr' },
  { email: 'nora@example.com', name: 'Nora York', lang: 'en' },
  { email: 'bastien@example.com', name: 'Bastien Lyon', lang: 'fr' },
];

// A company in Paris whose people joined before the weeks played out; the
// language is set in the catalog (the Settings page that sets it is
// another change).
function company() {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-fr-'));
  assert.equal(hubcast(['migrate', '--data', dir]).status, 0);
  for (const p of PEOPLE) {
    const r = hubcast(['user', 'add', p.email, '--name', p.name, '--data', dir]);
    assert.equal(r.status, 0, r.stderr);
    sql(dir, `UPDATE users SET time_zone = 'Europe/Paris', lang = '${p.lang}',
      created_at = ${Date.parse('2026-10-01T00:00:00Z') / 1000} WHERE email = '${p.email}'`);
  }
  return dir;
}

function post(dir, email, at, title) {
  const t = Math.floor(Date.parse(at) / 1000);
  sql(dir, `INSERT INTO updates(author_id, kind, iso_week, title, status, created_at, updated_at, ready_at)
    SELECT id, 'weekly', '${isoWeek(Date.parse(at), 'Europe/Paris')}', '${title}', 'ready', ${t}, ${t}, ${t}
    FROM users WHERE email = '${email}'`);
}

test('the reminder reaches a French member in French and an English member in English', async () => {
  const dir = company();
  const box = await startSmtp();
  post(dir, 'bastien@example.com', '2026-10-20T09:00:00Z', 'Bastien S43');
  sql(dir, "UPDATE settings SET value = '0' WHERE key = 'reminder_second'");
  const s = await startServer({
    data: dir, args: ['--test-clock', '--smtp-url', box.url, '--mail-from', 'hubcast@example.com'],
    env: { HUBCAST_FAKE_NOW: '2026-10-22T07:59:57Z' },
  });
  try {
    // Thursday 22 October, 10:00 in Paris (08:00Z): week 43.
    const got = await box.waitFor((m) => m.rcptTo[0] !== 'bastien@example.com', { count: 2, timeout: 20000 });
    const fr = got.find((m) => m.rcptTo[0] === 'amelie@example.com');
    const en = got.find((m) => m.rcptTo[0] === 'nora@example.com');
    assert.ok(fr && en, got.map((m) => m.rcptTo[0]).join(','));

    assert.equal(fr.subject, `Votre vidéo de la semaine${NBSP}43`);
    for (const part of [fr.text, fr.html]) {
      assert.ok(part, 'both parts');
      assert.match(part, /Bonjour Amélie Paris,/);
      assert.ok(part.includes('Prenez deux minutes'), part);
      assert.ok(part.includes(`1 personne sur 3 a déjà publié pour la semaine${NBSP}43.`), part);
      assert.ok(part.includes('Enregistrer votre vidéo'), part);
      assert.ok(part.includes('Ne plus recevoir aucun e-mail de Hubcast'), part);
      assert.doesNotMatch(part, /Hello|Record your update|Unsubscribe from|people have posted|2026-W43/);
    }
    assert.ok(fr.html.includes('C’est le moment de votre vidéo de la semaine</h1>'), fr.html);

    assert.equal(en.subject, 'Time for your weekly update (2026-W43)');
    for (const part of [en.text, en.html]) {
      assert.match(part, /Hello Nora York,/);
      assert.ok(part.includes('1 of 3 people have posted for 2026-W43 so far.'), part);
      assert.ok(part.includes('Record your update'), part);
      assert.doesNotMatch(part, /Bonjour|vidéo|semaine/);
    }
    await sleep(1000);
    assert.equal(box.messages.filter((m) => m.rcptTo[0] === 'bastien@example.com').length, 0,
      'no reminder for someone who posted');
  } finally {
    await s.cleanup();
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('digests count in each language: plural forms and week labels', () => {
  const dir = company();
  try {
    // Wednesday 21 October: Bastien posts two updates; Thursday, Nora one.
    post(dir, 'bastien@example.com', '2026-10-21T09:00:00Z', 'Bastien un');
    post(dir, 'bastien@example.com', '2026-10-21T10:00:00Z', 'Bastien deux');
    post(dir, 'nora@example.com', '2026-10-22T09:00:00Z', 'Nora one');
    const r = hubcast(['remind', '--at', '2026-10-21T00:00:00Z', '--until', '2026-10-27T00:00:00Z',
      '--step', '900', '--data', dir]);
    assert.equal(r.status, 0, r.stderr);
    const rows = sql(dir, `SELECT u.email, o.kind, o.subject FROM outbox o JOIN users u ON u.id = o.to_user
      WHERE o.kind IN ('digest', 'daily') ORDER BY o.created_at, u.email`).split('\n').map((l) => l.split('|'));
    const subjects = (email, kind) => rows.filter(([e, k]) => e === email && k === kind).map(([, , s]) => s);

    // The weekly digests: week 42 (nobody: singular in French) and week 43
    // (Monday 26 October: 2 of 3 posted).
    assert.deepEqual(subjects('amelie@example.com', 'digest'),
      [`Résumé Hubcast de la semaine${NBSP}42${NBSP}: 0 sur 3 a publié (0${NBSP}%)`,
        `Résumé Hubcast de la semaine${NBSP}43${NBSP}: 2 sur 3 ont publié (66${NBSP}%)`]);
    assert.deepEqual(subjects('nora@example.com', 'digest'),
      ['Hubcast weekly digest 2026-W42: 0 of 3 posted (0%)', 'Hubcast weekly digest 2026-W43: 2 of 3 posted (66%)']);
    // Daily digests: two updates on Wednesday, one on Thursday.
    const daily = subjects('amelie@example.com', 'daily');
    assert.ok(daily.includes(`Nouveau sur Hubcast${NBSP}: 2 mises à jour de votre équipe`), daily.join('\n'));
    assert.ok(daily.includes(`Nouveau sur Hubcast${NBSP}: 1 mise à jour de votre équipe`), daily.join('\n'));
    const dailyEn = subjects('nora@example.com', 'daily');
    assert.ok(dailyEn.includes('New on Hubcast: 2 updates from your team'), dailyEn.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Someone mentioned by a person who writes in another language reads the
// mail in their own: subject, heading, the sentence that says where, the
// button and the footer.
test('a mention mails a French member in French and an English member in English', async () => {
  const dir = company();
  const box = await startSmtp();
  post(dir, 'nora@example.com', new Date().toISOString(), 'Roadmap');
  const id = sql(dir, "SELECT id FROM updates WHERE title = 'Roadmap'");
  sql(dir, 'UPDATE users SET notify_reminders = 0');   // only the mails the mentions cause
  const s = await startServer({ data: dir, args: ['--smtp-url', box.url, '--mail-from', 'hubcast@example.com'] });
  const as = (email) => ({ authorization: `Bearer ${apiToken(s, email)}`, 'content-type': 'application/json' });
  try {
    let r = await fetch(`${s.url}/api/updates/${id}`, {
      method: 'PATCH', headers: as('nora@example.com'),
      body: JSON.stringify({ description: 'Thanks @amelie for the plan' }),
    });
    assert.equal(r.status, 200, await r.text());
    const [fr] = await box.waitFor((m) => m.rcptTo[0] === 'amelie@example.com', { timeout: 20000 });
    assert.equal(fr.subject, 'Nora York vous a mentionné dans sa vidéo de la semaine');
    for (const part of [fr.text, fr.html]) {
      assert.ok(part.includes('Bonjour Amélie Paris,'), part);
      assert.ok(part.includes(`Nora York vous a mentionné dans sa vidéo de la semaine «${NBSP}Roadmap${NBSP}»${NBSP}:`), part);
      assert.ok(part.includes('Thanks @amelie for the plan'), part);
      assert.ok(part.includes('Voir'), part);
      assert.ok(part.includes('Ne plus recevoir aucun e-mail de Hubcast'), part);
      assert.doesNotMatch(part, /Hello|mentioned you|See it|Unsubscribe from/);
    }
    assert.ok(fr.html.includes('On parle de vous</h1>'), fr.html);
    assert.ok(links(fr.text).some((l) => l.endsWith(`/watch/${id}`)), fr.text);

    r = await fetch(`${s.url}/api/updates/${id}/comments`, {
      method: 'POST', headers: as('amelie@example.com'),
      body: JSON.stringify({ body: 'Avec plaisir @nora, et @bastien aussi' }),
    });
    assert.equal(r.status, 201, await r.text());
    const [en] = await box.waitFor((m) => m.rcptTo[0] === 'nora@example.com' && /mentioned you/.test(m.subject),
      { timeout: 20000 });
    assert.equal(en.subject, 'Amélie Paris mentioned you in a comment');
    assert.ok(en.text.includes('Hello Nora York,'), en.text);
    assert.ok(en.text.includes('Amélie Paris mentioned you in a comment on \u201cRoadmap\u201d:'), en.text);
    assert.doesNotMatch(en.text, /Bonjour|mentionné|Voir/);
    const [bf] = await box.waitFor((m) => m.rcptTo[0] === 'bastien@example.com', { timeout: 20000 });
    assert.equal(bf.subject, 'Amélie Paris vous a mentionné dans un commentaire');
    assert.ok(bf.text.includes(`Amélie Paris vous a mentionné dans un commentaire sur «${NBSP}Roadmap${NBSP}»${NBSP}:`),
      bf.text);
  } finally {
    await s.cleanup();
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
