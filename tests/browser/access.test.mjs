// access.test.mjs - who may see what, and in which language, in headless
// Chromium against the real server: anonymous visitors are sent to sign in,
// a member cannot open the admin page nor see admin data, and a French
// browser gets French labels until someone signs in; then the person's
// language setting (or the language switch, which saves it) decides.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, startServer, addUser, signedInPage } from './lib.mjs';

let srv;
let browser;
let ada;

before(async () => {
  srv = await startServer({ workers: 0 });
  ada = await addUser(srv, 'ada@example.com', 'Ada Admin', 'admin');
  await addUser(srv, 'max@example.com', 'Max Member');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

test('an anonymous visitor is sent to sign in from every app page', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const p of ['/', '/record', '/upload', '/watch/1', '/people', '/purpose', '/admin', '/settings', '/week/2026-W01']) {
    await page.goto(`${srv.url}${p}`);
    await page.locator('#signin-form').waitFor();
    const url = new URL(page.url());
    assert.equal(url.pathname, '/signin', p);
    if (p !== '/') assert.equal(url.searchParams.get('next'), p);
  }
  // Signing in then goes to the page that was asked for.
  await page.goto(`${srv.url}/people`);
  await page.fill('#signin-form input[name=email]', 'max@example.com');
  await page.fill('#signin-form input[name=password]', 'a good password');
  await page.click('#signin-form button[type=submit]');
  await page.waitForURL(/\/people$/);
  await page.locator('#directory').waitFor();
  await context.close();
});

test('a member cannot open admin pages: "only administrators" and no admin data', async () => {
  const page = await signedInPage(browser, srv, 'max@example.com');
  const apiCalls = [];
  page.on('request', (r) => { if (r.url().includes('/api/')) apiCalls.push(new URL(r.url()).pathname); });
  await page.goto(`${srv.url}/admin`);
  await page.locator('#forbidden').waitFor();
  assert.match(await page.locator('h1').innerText(), /Only administrators/);
  assert.equal(await page.locator('#admin-people, #invite-person-form').count(), 0);
  assert.equal(await page.locator('#nav a[href="/admin"]').count(), 0, 'no Admin link for members');
  assert.deepEqual(apiCalls.filter((p) => p.startsWith('/api/admin') || p === '/api/people/invite'), []);
  // The server agrees.
  const st = await page.evaluate(async () => (await fetch('/api/admin/schedule')).status);
  assert.equal(st, 403);
  await page.context().close();
});

test('the French interface shows French labels (from the browser language, the person\'s setting, and the switch)', async () => {
  const anon = await (await browser.newContext({ locale: 'fr-FR' })).newPage();
  await anon.goto(`${srv.url}/signin`);
  await anon.locator('#signin-form').waitFor();
  assert.equal(await anon.locator('html').getAttribute('lang'), 'fr');
  assert.equal(await anon.locator('h1').innerText(), 'Connexion');
  await anon.context().close();
  // Signed in, the person's language is the interface's.
  assert.equal((await ada.req('PATCH', '/api/me', { json: { lang: 'fr' } })).status, 200);
  const page = await signedInPage(browser, srv, 'ada@example.com', { locale: 'fr-FR' });
  await page.goto(`${srv.url}/`);
  await page.locator('#record-cta').waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  assert.match(await page.locator('#record-cta').innerText(), /Enregistrer votre vidéo/);
  assert.match(await page.locator('#nav').innerText(), /Cette semaine/);
  assert.match(await page.locator('#nav').innerText(), /Réglages/);
  await page.goto(`${srv.url}/upload`);
  assert.match(await page.locator('h1').innerText(), /Téléverser une vidéo/);
  // Switch to English and back; the choice is remembered across a reload.
  await page.selectOption('#lang-select', 'en');
  await page.locator('h1', { hasText: 'Upload a video' }).waitFor();
  await page.reload();
  await page.locator('h1', { hasText: 'Upload a video' }).waitFor();
  await page.selectOption('#lang-select', 'fr');
  await page.locator('h1', { hasText: 'Téléverser une vidéo' }).waitFor();
  await page.context().close();
});
