// onboarding.test.mjs - a company's first steps, through the real API: the
// setup names the company, the administrator's first-run checklist follows
// what was done, several people are invited at once (a pasted list), the
// pending invites can be sent again (the old link stops working) or
// withdrawn, the join form learns the company and the invited address from
// the link and takes a title and a team. Each person has a language (from
// the browser at sign-up, changeable), and the server's error messages are
// in that language while their codes stay the same.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, Client, sql } from './lib/server.mjs';

const FR = 'fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7';
const EN = 'en-GB,en;q=0.9';
let srv, admin, dir, clip;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-onb-'));
  clip = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=1',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
  srv = await startServer({ args: ['--max-upload', '1M'] });
});

after(async () => {
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const tokenOf = (url) => url.split('token=')[1];
const anon = (path, { method = 'GET', json, lang = EN } = {}) => fetch(srv.url + path, {
  method,
  headers: { 'accept-language': lang, ...(json ? { 'content-type': 'application/json' } : {}) },
  body: json ? JSON.stringify(json) : undefined,
}).then(async (r) => ({ status: r.status, data: await r.json().catch(() => null) }));
const mailsTo = (addr) => Number(sql(srv.dir, `SELECT COUNT(*) FROM outbox WHERE kind = 'invite' AND to_addr = '${addr}'`));
const lastMailTo = (addr) => sql(srv.dir, `SELECT body_text FROM outbox WHERE kind = 'invite' AND to_addr = '${addr}' ORDER BY id DESC LIMIT 1`);
const accept = (json, lang = EN) => new Client(srv).req('POST', '/api/invites/accept',
  { json, headers: { 'accept-language': lang } });

let invites = {};   // email -> token of its current link

test('the setup names the company, takes the language asked for, and the company name can be changed by an administrator', async () => {
  assert.ok(srv.setupToken);
  const bad = await new Client(srv).req('POST', '/api/setup', { json: {
    token: srv.setupToken, email: 'ceo@example.com', name: 'Camille CEO', password: 'a good password',
    company_name: '' } });
  assert.equal(bad.status, 400);
  admin = new Client(srv);
  // A French browser, but the form says English: the form wins.
  const r = await admin.req('POST', '/api/setup', { headers: { 'accept-language': FR }, json: {
    token: srv.setupToken, email: 'ceo@example.com', name: 'Camille CEO', password: 'a good password',
    company_name: 'Acme Robots', lang: 'en' } });
  assert.equal(r.status, 201, r.text);
  admin.csrf = r.data.csrf;
  assert.equal(r.data.user.role, 'admin');
  assert.equal(r.data.user.lang, 'en');
  assert.equal((await admin.req('GET', '/api/purpose')).data.company_name, 'Acme Robots');

  const renamed = await admin.req('PUT', '/api/purpose', { json: { company_name: 'Acme' } });
  assert.equal(renamed.status, 200);
  assert.equal(renamed.data.company_name, 'Acme');
  assert.equal(renamed.data.purpose, '', 'changing the name leaves the purpose as it was');
  assert.equal((await admin.req('PUT', '/api/purpose', { json: { company_name: '' } })).status, 400);
  assert.equal((await admin.req('PUT', '/api/purpose', { json: {} })).data.error.code, 'missing_field');
});

test('the first-run checklist starts empty and is not done', async () => {
  const r = await admin.req('GET', '/api/onboarding');
  assert.equal(r.status, 200);
  assert.deepEqual(r.data, { purpose_written: false, invited_someone: false, recorded_first_update: false, done: false });
  assert.equal((await anon('/api/onboarding')).status, 401);
});

test('a pasted list invites each new address once and says what became of every one', async () => {
  const pasted = 'Zoë Martin <zoe@example.com>, bob@example.com\n  not-an-address ; CEO@example.com\n'
    + 'Bob@Example.com\r\nAnna Dupont anna@example.com';
  const r = await admin.req('POST', '/api/people/invite', { json: { emails: pasted } });
  assert.equal(r.status, 200, r.text);
  const by = Object.fromEntries(r.data.results.map((x) => [x.email.toLowerCase(), x]));
  assert.equal(r.data.results.length, 5, 'bob is listed once');
  assert.equal(by['zoe@example.com'].status, 'invited');
  assert.equal(by['zoe@example.com'].name, 'Zoë Martin');
  assert.equal(by['bob@example.com'].status, 'invited');
  assert.equal(by['anna@example.com'].status, 'invited');
  assert.equal(by['anna@example.com'].name, 'Anna Dupont');
  assert.equal(by['not-an-address'].status, 'invalid');
  assert.equal(by['ceo@example.com'].status, 'member');
  assert.equal(r.data.invited, 3);
  for (const e of ['zoe@example.com', 'bob@example.com', 'anna@example.com']) {
    invites[e] = tokenOf(by[e].invite.url);
    assert.equal(mailsTo(e), 1, `one mail to ${e}`);
  }

  // A list as an array works the same way.
  const arr = await admin.req('POST', '/api/people/invite', { json: { emails: ['dev@example.com', 'nope'] } });
  assert.equal(arr.status, 200);
  assert.deepEqual(arr.data.results.map((x) => x.status), ['invited', 'invalid']);
  invites['dev@example.com'] = tokenOf(arr.data.results[0].invite.url);

  // The one-address form keeps its answers.
  const bad = await admin.req('POST', '/api/people/invite', { json: { email: 'not an email' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.data.error.code, 'bad_field');
  assert.equal((await admin.req('POST', '/api/people/invite', { json: { email: 'ceo@example.com' } })).status, 409);
  assert.equal((await admin.req('POST', '/api/people/invite', { json: { emails: '  ,  ; ' } })).status, 400);
  assert.equal((await admin.req('POST', '/api/people/invite', { json: { emails: 7 } })).status, 400);
  assert.equal((await admin.req('POST', '/api/people/invite',
    { json: { emails: Array.from({ length: 101 }, (_, i) => `p${i}@example.com`) } })).status, 400);

  assert.equal((await admin.req('GET', '/api/onboarding')).data.invited_someone, true);
});

test('the administrator sees the pending invites, with who invited and until when', async () => {
  const r = await admin.req('GET', '/api/invites');
  assert.equal(r.status, 200);
  const emails = r.data.invites.map((i) => i.email).sort();
  assert.deepEqual(emails, ['anna@example.com', 'bob@example.com', 'dev@example.com', 'zoe@example.com']);
  const zoe = r.data.invites.find((i) => i.email === 'zoe@example.com');
  assert.equal(zoe.name, 'Zoë Martin');
  assert.equal(zoe.invited_by.name, 'Camille CEO');
  assert.equal(zoe.expired, false);
  assert.ok(zoe.expires_at - zoe.created_at >= 6 * 86400, 'an invite lasts a week');
});

test('the join form learns the company, the address and the name from the link', async () => {
  const r = await anon(`/api/invites/lookup?token=${invites['zoe@example.com']}`);
  assert.equal(r.status, 200);
  assert.equal(r.data.company, 'Acme');
  assert.equal(r.data.email, 'zoe@example.com');
  assert.equal(r.data.name, 'Zoë Martin');
  assert.equal((await anon('/api/invites/lookup?token=' + 'x'.repeat(43))).status, 410);
  assert.equal((await anon('/api/invites/lookup')).status, 400);
});

test('sending an invite again mails a fresh link and the old one stops working', async () => {
  const old = invites['zoe@example.com'];
  const id = (await admin.req('GET', '/api/invites')).data.invites.find((i) => i.email === 'zoe@example.com').id;
  const r = await admin.req('POST', `/api/invites/${id}/resend`);
  assert.equal(r.status, 200, r.text);
  const fresh = tokenOf(r.data.invite.url);
  assert.notEqual(fresh, old);
  assert.equal(r.data.invite.email, 'zoe@example.com');
  assert.equal(mailsTo('zoe@example.com'), 2, 'a second mail is queued');
  assert.ok(lastMailTo('zoe@example.com').includes(fresh), 'with the new link');

  const lookupOld = await anon(`/api/invites/lookup?token=${old}`);
  assert.equal(lookupOld.status, 410);
  assert.equal(lookupOld.data.error.code, 'link_expired');
  assert.equal((await accept({ token: old, password: 'zoe password' })).status, 410);
  assert.equal((await anon(`/api/invites/lookup?token=${fresh}`)).status, 200);
  invites['zoe@example.com'] = fresh;

  // Inviting a pending address again sends that invite again rather than a second one.
  const again = await admin.req('POST', '/api/people/invite', { json: { email: 'anna@example.com' } });
  assert.equal(again.status, 201);
  assert.equal(again.data.invite.resent, true);
  assert.equal((await anon(`/api/invites/lookup?token=${invites['anna@example.com']}`)).status, 410);
  invites['anna@example.com'] = tokenOf(again.data.invite.url);
  assert.equal((await admin.req('GET', '/api/invites')).data.invites.filter((i) => i.email === 'anna@example.com').length, 1);

  assert.equal((await admin.req('POST', '/api/invites/999999/resend')).status, 404);
});

test('a withdrawn invite link no longer opens the join form nor makes an account', async () => {
  const id = (await admin.req('GET', '/api/invites')).data.invites.find((i) => i.email === 'bob@example.com').id;
  const r = await admin.req('DELETE', `/api/invites/${id}`);
  assert.equal(r.status, 200);
  assert.equal((await anon(`/api/invites/lookup?token=${invites['bob@example.com']}`)).status, 410);
  const acc = await accept({ token: invites['bob@example.com'], password: 'bob password' });
  assert.equal(acc.status, 410);
  assert.equal(acc.data.error.code, 'link_expired');
  assert.ok(!(await admin.req('GET', '/api/invites')).data.invites.some((i) => i.email === 'bob@example.com'));
  assert.equal((await admin.req('DELETE', `/api/invites/${id}`)).status, 404);
  assert.equal((await admin.req('POST', `/api/invites/${id}/resend`)).status, 404);
});

test('joining takes a title and a team, and the language of the browser', async () => {
  const r = await accept({ token: invites['zoe@example.com'], password: 'zoe password', title: 'Designer', team: 'Product' }, FR);
  assert.equal(r.status, 201, JSON.stringify(r.data));
  assert.equal(r.data.user.email, 'zoe@example.com');
  assert.equal(r.data.user.name, 'Zoë Martin');
  assert.equal(r.data.user.title, 'Designer');
  assert.equal(r.data.user.team, 'Product');
  assert.equal(r.data.user.lang, 'fr');
  assert.ok(!(await admin.req('GET', '/api/invites')).data.invites.some((i) => i.email === 'zoe@example.com'),
    'an accepted invite is no longer pending');
  assert.equal((await anon(`/api/invites/lookup?token=${invites['zoe@example.com']}`)).status, 410);

  // An English browser, or a lang named in the form.
  const dev = await accept({ token: invites['dev@example.com'], password: 'dev password' }, EN);
  assert.equal(dev.data.user.lang, 'en');
  const anna = await accept({ token: invites['anna@example.com'], password: 'anna password', lang: 'fr' }, 'de-DE,de;q=0.9');
  assert.equal(anna.data.user.lang, 'fr');
  const none = await accept({ token: 'y'.repeat(43), password: 'x password', lang: 'de' });
  assert.equal(none.status, 400, 'a language we do not have is refused');
});

test('only administrators see the checklist and manage invites', async () => {
  const zoe = new Client(srv);
  assert.equal((await zoe.login('zoe@example.com', 'zoe password')).status, 200);
  for (const [method, path, json] of [['GET', '/api/onboarding'], ['GET', '/api/invites'],
    ['POST', '/api/invites/1/resend'], ['DELETE', '/api/invites/1'],
    ['POST', '/api/people/invite', { emails: 'x@example.com' }], ['PUT', '/api/purpose', { company_name: 'Mine' }]]) {
    const r = await zoe.req(method, path, { json });
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.equal(r.data.error.code, 'forbidden');
  }
  assert.equal((await admin.req('GET', '/api/purpose')).data.company_name, 'Acme');
});

test('a French member reads error messages in French, with the same codes; changing the language changes them', async () => {
  const zoe = new Client(srv);
  await zoe.login('zoe@example.com', 'zoe password');
  const me = await zoe.req('GET', '/api/me', { headers: { 'accept-language': EN } });
  assert.equal(me.data.user.lang, 'fr');

  // The person's setting wins over the browser's header.
  const forbidden = await zoe.req('GET', '/api/invites', { headers: { 'accept-language': EN } });
  assert.equal(forbidden.data.error.code, 'forbidden');
  assert.equal(forbidden.data.error.message, 'seuls les administrateurs peuvent faire ceci');
  const wrong = await zoe.req('PATCH', '/api/me', { json: { password: 'a new password', current_password: 'nope' } });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.data.error.code, 'bad_credentials');
  assert.equal(wrong.data.error.message, 'le mot de passe actuel est incorrect');
  const short = await zoe.req('PATCH', '/api/me', { json: { password: 'short', current_password: 'zoe password' } });
  assert.equal(short.data.error.code, 'bad_password');
  assert.equal(short.data.error.message, 'le mot de passe doit comporter au moins 8 caractères');
  const missing = await zoe.req('GET', '/api/people/999999/stats');
  assert.equal(missing.status, 404);
  assert.equal(missing.data.error.message, 'cette personne n\'existe pas');
  const badEmail = await admin.req('POST', '/api/people/invite', { json: { email: 'no' } });
  assert.equal(badEmail.data.error.message, '"no" is not an email address', 'the English administrator reads English');

  // Uploads refused: not a video (415), too large (413).
  const playlist = await zoe.req('POST', '/api/updates?title=x', { body: '#EXTM3U\n#EXT-X-VERSION:3\n',
    headers: { 'content-type': 'video/mp4' } });
  assert.equal(playlist.status, 415);
  assert.equal(playlist.data.error.code, 'not_a_video');
  assert.equal(playlist.data.error.message, 'ce fichier est une liste de lecture, pas une vidéo');
  // The server answers 413 from the headers and closes the connection
  // without reading the body; curl takes that answer as a browser would,
  // where fetch may fail while it is still sending.
  const bigFile = join(mkdtempSync(join(tmpdir(), 'hubcast-big-')), 'big.mp4');
  writeFileSync(bigFile, Buffer.alloc(2 * 1024 * 1024, 1));
  const out = execFileSync('curl', ['-s', '-w', '\n%{http_code}', '-H', `cookie: ${zoe.cookie}`,
    '-H', `x-csrf-token: ${zoe.csrf}`, '-H', `origin: ${srv.url}`, '-H', 'content-type: video/mp4',
    '--data-binary', `@${bigFile}`, `${srv.url}/api/updates?title=x`], { encoding: 'utf8' });
  const nl = out.lastIndexOf('\n');
  const big = { status: Number(out.slice(nl + 1)), data: JSON.parse(out.slice(0, nl)) };
  assert.equal(big.status, 413);
  assert.equal(big.data.error.code, 'too_large');
  assert.match(big.data.error.message, /^la vidéo dépasse la limite de \d+ Mo$/);

  // Back to English.
  const patch = await zoe.req('PATCH', '/api/me', { json: { lang: 'en' } });
  assert.equal(patch.status, 200);
  assert.equal(patch.data.user.lang, 'en');
  const en = await zoe.req('GET', '/api/invites', { headers: { 'accept-language': FR } });
  assert.equal(en.data.error.message, 'only administrators can do this');
  const bad = await zoe.req('PATCH', '/api/me', { json: { lang: 'de' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.data.error.code, 'bad_field');
  assert.equal((await zoe.req('GET', '/api/me')).data.user.lang, 'en', 'a refused language changes nothing');
});

test('before signing in, messages follow the browser\'s Accept-Language', async () => {
  const fr = await anon('/api/session', { method: 'POST', lang: FR, json: { email: 'zoe@example.com', password: 'wrong one' } });
  assert.equal(fr.status, 401);
  assert.equal(fr.data.error.code, 'bad_credentials');
  assert.equal(fr.data.error.message, 'l\'adresse e-mail ou le mot de passe est incorrect');
  const en = await anon('/api/session', { method: 'POST', lang: EN, json: { email: 'zoe@example.com', password: 'wrong one' } });
  assert.equal(en.data.error.message, 'the email or the password is wrong');
  // English first, French second: English.
  const both = await anon('/api/me', { lang: 'en-US,fr;q=0.5' });
  assert.equal(both.data.error.message, 'sign in first');
  const frMe = await anon('/api/me', { lang: 'de,fr-CA;q=0.8,en;q=0.5' });
  assert.equal(frMe.data.error.message, 'connectez-vous d\'abord');
  const none = await anon('/api/nothing-here', { lang: 'fr' });
  assert.equal(none.status, 404);
  assert.equal(none.data.error.message, 'il n\'y a pas d\'API à cette adresse');
});

test('the checklist is done once the purpose is written and the administrator recorded an update', async () => {
  assert.equal((await admin.req('PUT', '/api/purpose', { json: { purpose: 'Robots that help.' } })).status, 200);
  let r = await admin.req('GET', '/api/onboarding');
  assert.equal(r.data.purpose_written, true);
  assert.equal(r.data.recorded_first_update, false);
  assert.equal(r.data.done, false);
  const up = await admin.req('POST', '/api/updates?title=First', { body: readFileSync(clip),
    headers: { 'content-type': 'video/mp4' } });
  assert.equal(up.status, 201, up.text);
  r = await admin.req('GET', '/api/onboarding');
  assert.deepEqual(r.data, { purpose_written: true, invited_someone: true, recorded_first_update: true, done: true });
});
