// invite-lang.test.mjs - an invite is written in the language of the person
// invited: the inviter picks it on the invite form (by default their own),
// the invite keeps it, and sending it again uses it again. Read from the
// real SMTP server the real binary delivers to.
//
// Run: node --test tests/e2e/invite-lang.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, addUser, sql } from './lib/server.mjs';
import { startSmtp } from './lib/smtp.mjs';

const NBSP = '\u00a0';
let smtp, srv, camille, nora;

before(async () => {
  smtp = await startSmtp();
  srv = await startServer({ args: ['--smtp-url', smtp.url, '--mail-from', 'hubcast@example.com'] });
  camille = await addUser(srv, 'camille@example.com', 'Camille Martin', 'admin');
  nora = await addUser(srv, 'nora@example.com', 'Nora York', 'admin');
  sql(srv.dir, 'UPDATE users SET notify_reminders = 0');
  const r = await camille.req('PATCH', '/api/me', { json: { lang: 'fr' } });
  assert.equal(r.status, 200, r.text);
});

after(async () => {
  await srv?.cleanup();
  await smtp?.stop();
});

const invitesTo = (addr) => smtp.waitFor((m) => m.rcptTo[0] === addr);

function assertFrench(m) {
  assert.equal(m.subject, 'Camille Martin vous invite sur Hubcast');
  for (const part of [m.text, m.html]) {
    assert.ok(part.includes('Camille Martin vous invite à partager chaque semaine une courte vidéo'), part);
    assert.ok(part.includes('Choisir votre mot de passe'), part);
    assert.ok(part.includes(`Le lien est valable 7${NBSP}jours.`), part);
    assert.doesNotMatch(part, /invited you|Choose your password|The link works/);
  }
  assert.ok(m.html.includes('Invitation à rejoindre Hubcast</h1>'), m.html);
}

function assertEnglish(m, inviter) {
  assert.equal(m.subject, `${inviter} invited you to Hubcast`);
  for (const part of [m.text, m.html]) {
    assert.ok(part.includes(`${inviter} invited you to share a short video update with your team each week.`), part);
    assert.ok(part.includes('Choose your password'), part);
    assert.ok(part.includes('The link works for 7 days.'), part);
    assert.doesNotMatch(part, /vous invite|mot de passe|valable/);
  }
}

test('an invite is written in the inviter\'s language unless the form names another', async () => {
  let r = await camille.req('POST', '/api/people/invite', { json: { email: 'amelie@example.com', name: 'Amélie' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.data.invite.lang, 'fr');
  assertFrench((await invitesTo('amelie@example.com'))[0]);

  r = await camille.req('POST', '/api/people/invite', { json: { email: 'sam@example.com', lang: 'en' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.data.invite.lang, 'en');
  assertEnglish((await invitesTo('sam@example.com'))[0], 'Camille Martin');

  // Several at once, all in the language the form names.
  r = await nora.req('POST', '/api/people/invite', { json: { emails: 'lea@example.com, jules@example.com', lang: 'fr' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.invited, 2);
  assert.ok(r.data.results.every((x) => x.invite.lang === 'fr'));
  for (const addr of ['lea@example.com', 'jules@example.com']) {
    const [m] = await invitesTo(addr);
    assert.equal(m.subject, 'Nora York vous invite sur Hubcast');
  }
});

test('a language Hubcast does not write is refused and nobody is invited', async () => {
  const r = await nora.req('POST', '/api/people/invite', { json: { email: 'hans@example.com', lang: 'de' } });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.data.error.code, 'bad_field');
  assert.equal(sql(srv.dir, "SELECT COUNT(*) FROM invites WHERE email = 'hans@example.com'"), '0');
});

test('the pending invites show their language and a resend keeps it, whoever sends it', async () => {
  const list = (await nora.req('GET', '/api/invites')).data.invites;
  const lang = Object.fromEntries(list.map((i) => [i.email, i.lang]));
  assert.deepEqual(lang, { 'amelie@example.com': 'fr', 'sam@example.com': 'en', 'lea@example.com': 'fr',
    'jules@example.com': 'fr' });
  // Nora (English) sends Amélie's again: still French. Camille (French)
  // sends Sam's again: still English.
  const amelie = list.find((i) => i.email === 'amelie@example.com').id;
  assert.equal((await nora.req('POST', `/api/invites/${amelie}/resend`)).status, 200);
  const sam = list.find((i) => i.email === 'sam@example.com').id;
  assert.equal((await camille.req('POST', `/api/invites/${sam}/resend`)).status, 200);
  const am = await smtp.waitFor((m) => m.rcptTo[0] === 'amelie@example.com', { count: 2 });
  assert.equal(am[1].subject, 'Nora York vous invite sur Hubcast');
  const sm = await smtp.waitFor((m) => m.rcptTo[0] === 'sam@example.com', { count: 2 });
  assertEnglish(sm[1], 'Camille Martin');

  // Inviting a pending address again with another language sends it in that one.
  const again = await nora.req('POST', '/api/people/invite', { json: { email: 'sam@example.com', lang: 'fr' } });
  assert.equal(again.status, 201, again.text);
  assert.equal(again.data.invite.resent, true);
  assert.equal(again.data.invite.lang, 'fr');
  const s3 = await smtp.waitFor((m) => m.rcptTo[0] === 'sam@example.com', { count: 3 });
  assert.equal(s3[2].subject, 'Nora York vous invite sur Hubcast');
});

test('the join form learns the invite\'s language, and joining without a choice of one takes it', async () => {
  const r = await nora.req('POST', '/api/people/invite', { json: { email: 'ines@example.com', lang: 'fr' } });
  const token = r.data.invite.url.split('token=')[1];
  const look = await fetch(`${srv.url}/api/invites/lookup?token=${token}`).then((x) => x.json());
  assert.equal(look.lang, 'fr');
  // A browser in a language Hubcast does not write: the invite's language.
  const res = await fetch(`${srv.url}/api/invites/accept`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'accept-language': 'de-DE,de;q=0.9', origin: srv.url },
    body: JSON.stringify({ token, password: 'ines password' }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  assert.equal(body.user.lang, 'fr');
});
