// accounts-hardening.test.mjs - what an attack run found in accounts, each
// checked the way an attacker or a user would see it: an invite link cannot
// make an account for another address, a password reset ends the API tokens
// of the account, the sign-in page only sends people on to pages of this
// site, and the web app's own files are all it serves (no package.json).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, addUser, apiToken, Client, sql } from './lib/server.mjs';
import { launch, PASSWORD } from '../browser/lib.mjs';

let srv, admin;

before(async () => {
  srv = await startServer();
  admin = await addUser(srv, 'boss@example.com', 'Bo Boss', 'admin');
});

after(async () => { await srv.cleanup(); });

const post = (path, json) => fetch(srv.url + path, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json),
});

test('an invite makes an account for the invited address only, whatever address the accept names', async () => {
  const inv = await admin.req('POST', '/api/people/invite', { json: { email: 'invited@example.com', name: 'In Vited' } });
  assert.equal(inv.status, 201);
  const token = inv.data.invite.url.split('token=')[1];

  const other = await new Client(srv).req('POST', '/api/invites/accept',
    { json: { token, email: 'intruder@evil.example', password: 'intruder password' } });
  assert.notEqual(other.status, 201, 'no account is made for another address');
  assert.equal(other.data?.user, undefined);
  assert.equal((await new Client(srv).login('intruder@evil.example', 'intruder password')).status, 401);
  const people = await admin.req('GET', '/api/people');
  assert.equal(people.data.people.filter((p) => p.email === 'intruder@evil.example').length, 0);

  // The invited person can still use the link, and gets the invited address
  // (naming it, in another case, is fine too).
  const ok = await new Client(srv).req('POST', '/api/invites/accept',
    { json: { token, email: 'Invited@Example.com', password: 'invited password' } });
  assert.equal(ok.status, 201);
  assert.equal(ok.data.user.email, 'invited@example.com');
  assert.equal((await new Client(srv).login('invited@example.com', 'invited password')).status, 200);
});

test('a password reset ends every API token of the account, and says how many', async () => {
  const c = await addUser(srv, 'reset-me@example.com', 'Re Set');
  const tok1 = apiToken(srv, 'reset-me@example.com');
  const tok2 = (await c.req('POST', '/api/tokens', { json: { label: 'laptop' } })).data.token;
  const other = apiToken(srv, 'boss@example.com');
  const me = (t) => fetch(srv.url + '/api/me', { headers: { authorization: `Bearer ${t}` } });
  assert.equal((await me(tok1)).status, 200);
  assert.equal((await me(tok2)).status, 200);

  assert.equal((await post('/api/password/reset', { email: 'reset-me@example.com' })).status, 202);
  // The link is in the queued mail (no SMTP server in this test).
  const body = sql(srv.dir, "SELECT body_text FROM outbox WHERE kind = 'reset' AND to_addr = 'reset-me@example.com' ORDER BY id DESC LIMIT 1");
  const token = body.match(/reset#token=([A-Za-z0-9_-]+)/)[1];
  const ok = await post('/api/password/reset/confirm', { token, password: 'a fresh password' });
  assert.equal(ok.status, 200);
  const res = await ok.json();
  assert.equal(res.reset, true);
  assert.equal(res.tokens_revoked, 2);

  assert.equal((await me(tok1)).status, 401, 'a token made before the reset no longer works');
  assert.equal((await me(tok2)).status, 401);
  assert.equal((await c.req('GET', '/api/me')).status, 401, 'the session ended too');
  assert.equal((await me(other)).status, 200, 'other people keep their tokens');
  const fresh = new Client(srv);
  assert.equal((await fresh.login('reset-me@example.com', 'a fresh password')).status, 200);
  assert.deepEqual((await fresh.req('GET', '/api/tokens')).data.tokens, []);
});

test('after sign-in, ?next= only leads to a page of this site (not /\\evil.example nor //evil.example)', async () => {
  await addUser(srv, 'next@example.com', 'Nex T');
  const browser = await launch();
  try {
    for (const next of ['/\\evil.example', '//evil.example', '/\\/evil.example', 'https://evil.example/', '/%5Cevil.example']) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const outside = [];
      page.on('request', (r) => { if (!r.url().startsWith(srv.url)) outside.push(r.url()); });
      await page.goto(`${srv.url}/signin?next=${encodeURIComponent(next)}`);
      await page.fill('#signin-form input[name=email]', 'next@example.com');
      await page.fill('#signin-form input[name=password]', PASSWORD);
      await page.click('#signin-form button[type=submit]');
      await page.waitForURL((u) => !u.pathname.startsWith('/signin'), { timeout: 5000 })
        .catch(() => { /* judged below */ });
      const url = new URL(page.url());
      assert.equal(url.origin, srv.url, `next=${next}`);
      assert.equal(url.pathname, '/', `next=${next} leads home`);
      assert.deepEqual(outside, [], `next=${next}`);
      await context.close();
    }
    // A page of this site is still where sign-in leads.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${srv.url}/signin?next=${encodeURIComponent('/people?x=1')}`);
    await page.fill('#signin-form input[name=email]', 'next@example.com');
    await page.fill('#signin-form input[name=password]', PASSWORD);
    await page.click('#signin-form button[type=submit]');
    await page.waitForURL(/\/people\?x=1$/);
    await context.close();
  } finally {
    await browser.close();
  }
});

test('the web app serves its own files and the two browser libraries, not its package files', async () => {
  for (const p of ['/package.json', '/package-lock.json', '/node_modules/hls.js/package.json',
    '/node_modules/.package-lock.json', '/node_modules/tus-js-client/lib/index.js',
    '/node_modules/hls.js/dist/hls.js']) {
    const r = await fetch(srv.url + p);
    assert.equal(r.status, 404, p);
    const text = await r.text();
    assert.doesNotMatch(text, /"dependencies"|"version"/, p);
  }
  for (const p of ['/', '/app.js', '/app.css', '/js/main.js', '/favicon.svg',
    '/node_modules/hls.js/dist/hls.min.js', '/node_modules/tus-js-client/dist/tus.min.js']) {
    assert.equal((await fetch(srv.url + p)).status, 200, p);
  }
});
