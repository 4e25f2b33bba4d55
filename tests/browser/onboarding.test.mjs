// onboarding.test.mjs - a new company's first hour, in headless Chromium
// against the real server: the setup names the company and the
// administrator's title and team in the browser's language; the home page
// shows the first-run checklist until it is done; the admin page invites
// several people from a pasted list (each address answered), lists the
// pending invites with send again and withdraw, and renames the company;
// the join page shows the company and the invited address (or says the
// link expired) and asks for title and team; Settings switches the
// language at once and remembers it on the account; errors are shown by
// their code in the interface's language; counts and dates follow the
// locale. Every new page state has no serious or critical axe-core
// violation and does not scroll sideways at 390x844.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  launch, startServer, addUser, signedInPage, collectErrors, makeClip, pageApi, axeViolations, sideways,
  PASSWORD, PHONE, DESKTOP,
} from './lib.mjs';
import { Client, sql } from '../e2e/lib/server.mjs';

let srv;
let browser;
let admin;          // the administrator made by the setup page, as an API client
let inviteUrl;      // a pending invite's link, for the join page states

before(async () => {
  srv = await startServer({ workers: 0 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

// The path and hash of an invite link the server made (its host may differ).
function local(url) {
  const u = new URL(url);
  return `${srv.url}${u.pathname}${u.hash}`;
}

test('setup in a French browser names the company, the admin\'s title and team, in French; then the checklist guides the admin until done', async () => {
  const errors = [];
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  collectErrors(page, errors);
  assert.ok(srv.setupToken, 'the server printed a setup link');
  await page.goto(`${srv.url}/setup#token=${srv.setupToken}`);
  await page.locator('#setup-form').waitFor();
  assert.equal(await page.locator('h1').innerText(), 'Installer Hubcast');
  await page.fill('#setup-form input[name=company_name]', 'Boulangerie Zoë');
  await page.fill('#setup-form input[name=name]', 'Zoë Martin');
  await page.fill('#setup-form input[name=email]', 'zoe@example.com');
  await page.fill('#setup-form input[name=password]', PASSWORD);
  await page.fill('#setup-form input[name=title]', 'Directrice');
  await page.fill('#setup-form input[name=team]', 'Direction');
  await page.click('#setup-form button[type=submit]');
  await page.waitForURL((u) => u.pathname === '/');

  // The account and the company are as typed, in the browser's language.
  const me = await pageApi(page, '/api/me');
  assert.equal(me.data.user.lang, 'fr');
  assert.equal(me.data.user.title, 'Directrice');
  assert.equal(me.data.user.team, 'Direction');
  assert.equal((await pageApi(page, '/api/purpose')).data.company_name, 'Boulangerie Zoë');

  // The checklist: nothing done yet, each step a link to where it is done.
  const list = page.locator('#onboarding');
  await list.waitFor();
  assert.equal(await page.locator('#onboarding-progress').innerText(), '0 étape sur 3 terminée');
  assert.deepEqual(await list.locator('li a').evaluateAll((as) => as.map((a) => new URL(a.href).pathname)),
    ['/purpose', '/admin', '/record']);
  assert.equal(await list.locator('li.done').count(), 0);

  // Write the purpose: one step done (French plural: "1 étape ... terminée").
  await list.locator('li[data-step=purpose] a').click();
  await page.locator('#purpose-text').waitFor();
  await page.click('details.manage summary');
  await page.fill('#purpose-edit', 'Du bon pain, chaque matin.');
  await page.click('#purpose-form button[type=submit]');
  await page.locator('#purpose-text p', { hasText: 'Du bon pain' }).waitFor();
  await page.click('#nav a[href="/"]');
  await page.locator('#onboarding-progress', { hasText: '1 étape sur 3 terminée' }).waitFor();
  assert.equal(await list.locator('li.done').count(), 1);
  assert.equal(await list.locator('li[data-step=purpose]').getAttribute('class'), 'step done');

  // Invite people: the checklist's link opens the admin page at the invites.
  await list.locator('li[data-step=invite] a').click();
  await page.locator('#invite-batch-form').waitFor();
  assert.equal(new URL(page.url()).hash, '#invite');
  // The invitations are written in the administrator's language unless
  // the form says otherwise.
  assert.equal(await page.inputValue('#invite-batch-form select[name=lang]'), 'fr');
  assert.equal(await page.inputValue('#invite-person-form select[name=lang]'), 'fr');
  await page.fill('#invite-batch-form textarea[name=emails]',
    'bea@example.com, Carl Dupont <carl@example.com>\nnot-an-address\nzoe@example.com');
  await page.click('#invite-batch-form button[type=submit]');
  await page.locator('#invite-results li').first().waitFor();
  const results = await page.locator('#invite-results li').evaluateAll((lis) => lis.map((li) => [
    li.dataset.status, li.querySelector('.result-email').textContent, li.querySelector('.result').textContent]));
  assert.deepEqual(results, [
    ['invited', 'bea@example.com', 'Invitation envoyée'],
    ['invited', 'carl@example.com', 'Invitation envoyée'],
    ['invalid', 'not-an-address', 'Pas une adresse e-mail'],
    ['member', 'zoe@example.com', 'Déjà membre'],
  ]);
  assert.equal(await page.locator('#invite-batch-form .form-status').innerText(), '2 invitations envoyées.');
  assert.equal(sql(srv.dir, "SELECT subject FROM outbox WHERE kind = 'invite' AND to_addr = 'bea@example.com'"),
    'Zoë Martin vous invite sur Hubcast');
  // What still needs attention stays in the box.
  assert.equal(await page.inputValue('#invite-batch-form textarea[name=emails]'), 'not-an-address');
  await page.locator('#pending-invites tbody tr').nth(1).waitFor();
  assert.equal(await page.locator('#pending-count').innerText(), '2 invitations attendent une réponse.');

  // The last step: a first update (sent through the API; recording is
  // tested elsewhere). The checklist goes away once everything is done.
  admin = new Client(srv);
  assert.equal((await admin.login('zoe@example.com', PASSWORD)).status, 200);
  const up = await admin.req('POST', '/api/updates?title=Premier', {
    body: readFileSync(makeClip({ seconds: 2, name: 'onboarding-2s.mp4' })), headers: { 'content-type': 'video/mp4' },
  });
  assert.equal(up.status, 201, up.text);
  await page.click('#nav a[href="/"]');
  await page.locator('#record-cta').waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.locator('#onboarding').count(), 0, 'no checklist once it is done');
  assert.equal((await pageApi(page, '/api/onboarding')).data.done, true);
  assert.deepEqual(errors, []);
  await context.close();
});

test('pending invites: dates in the interface\'s locale, send again gives a new link, withdraw asks first and the old link then says it expired', async () => {
  const page = await signedInPage(browser, srv, 'zoe@example.com', { locale: 'fr-FR' });
  await page.goto(`${srv.url}/admin`);
  const rows = page.locator('#pending-invites tbody tr');
  await rows.nth(1).waitFor();
  const invites = (await admin.req('GET', '/api/invites')).data.invites;
  const bea = invites.find((i) => i.email === 'bea@example.com');
  const beaRow = page.locator(`#pending-invites tr[data-invite-id="${bea.id}"]`);
  // Dates as the French say them, from the server's Unix times.
  const want = await page.evaluate((ts) => new Intl.DateTimeFormat('fr', { dateStyle: 'long' }).format(new Date(ts * 1000)), bea.expires_at);
  assert.match(want, /^\d{1,2} [a-zéû]+\.? \d{4}$/);
  assert.equal(await beaRow.locator('td[data-label="Lien valable jusqu\'au"]').innerText(), want);
  assert.equal(await beaRow.locator('td[data-label="Envoyée par"]').innerText(), 'Zoë Martin');

  // Send again: a new link is shown; the old one no longer opens the form.
  const old = (await admin.req('POST', `/api/invites/${bea.id}/resend`, { json: {} })).data.invite.url;
  await beaRow.locator('button[data-action=resend]').click();
  await page.locator('#pending-status', { hasText: 'Un nouveau lien a été envoyé à bea@example.com' }).waitFor();
  const fresh = await page.inputValue('#resent-url');
  assert.notEqual(fresh, old);
  inviteUrl = fresh;

  // Withdraw: asked first; "no" keeps it, "yes" removes it.
  const carl = invites.find((i) => i.email === 'carl@example.com');
  const carlRow = page.locator(`#pending-invites tr[data-invite-id="${carl.id}"]`);
  page.once('dialog', (d) => d.dismiss());
  await carlRow.locator('button[data-action=revoke]').click();
  await page.waitForTimeout(300);
  assert.equal(await carlRow.count(), 1, 'kept when the confirmation is refused');
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  const carlUrl = (await admin.req('POST', `/api/invites/${carl.id}/resend`, { json: {} })).data.invite.url;
  await page.reload();
  await page.locator(`#pending-invites tr[data-invite-id="${carl.id}"] button[data-action=revoke]`).click();
  await page.locator('#pending-status', { hasText: 'carl@example.com' }).waitFor();
  assert.match(asked, /carl@example\.com/);
  assert.equal(await page.locator(`#pending-invites tr[data-invite-id="${carl.id}"]`).count(), 0);
  assert.equal(await page.locator('#pending-count').innerText(), '1 invitation attend une réponse.');

  // The withdrawn link, opened: a clear message, no form.
  const anon = await (await browser.newContext({ locale: 'en-US' })).newPage();
  await anon.goto(local(carlUrl));
  await anon.locator('#invite-expired').waitFor();
  assert.match(await anon.locator('#invite-expired').innerText(), /expired, was withdrawn or was already used/);
  assert.equal(await anon.locator('#invite-form').count(), 0);
  await anon.context().close();

  // The company's name is edited here and shown where it belongs.
  await page.fill('#company-form input[name=company_name]', 'Boulangerie Zoë & fils');
  await page.click('#company-form button[type=submit]');
  await page.locator('#company-form .form-status.ok').waitFor();
  await page.click('#nav a[href="/purpose"]');
  await page.locator('h1', { hasText: 'Boulangerie Zoë & fils' }).waitFor();
  await page.context().close();
});

test('the join page shows the company and the invited address, asks for title and team, and the new member arrives in the browser\'s language', async () => {
  assert.ok(inviteUrl, 'the previous test left a pending invite');
  const errors = [];
  const context = await browser.newContext({ locale: 'en-GB' });
  const page = await context.newPage();
  collectErrors(page, errors);
  await page.goto(local(inviteUrl));
  await page.locator('#invite-form').waitFor();
  assert.equal(await page.locator('h1').innerText(), 'Join Boulangerie Zoë & fils on Hubcast');
  assert.match(await page.locator('#invite-for').innerText(), /This invitation is for bea@example\.com\./);
  assert.equal(await page.inputValue('#invite-email'), 'bea@example.com');
  // The expiry in British English ("12 March 2026").
  assert.match(await page.locator('#invite-for').innerText(), /works until \d{1,2} [A-Z][a-z]+ \d{4}\./);
  await page.fill('#invite-form input[name=name]', 'Béa Leroy');
  await page.fill('#invite-form input[name=password]', PASSWORD);
  await page.fill('#invite-form input[name=title]', 'Boulangère');
  await page.fill('#invite-form input[name=team]', 'Fournil');
  await page.click('#invite-form button[type=submit]');
  await page.locator('#record-cta').waitFor();
  const me = (await pageApi(page, '/api/me')).data.user;
  assert.deepEqual([me.email, me.name, me.title, me.team, me.lang], ['bea@example.com', 'Béa Leroy', 'Boulangère', 'Fournil', 'en']);
  // Members see no checklist.
  await page.waitForLoadState('networkidle');
  assert.equal(await page.locator('#onboarding').count(), 0);
  assert.deepEqual(errors, []);
  // The used link now says so (the browser logs the 410 it got).
  await page.click('#signout');
  await page.waitForURL(/\/signin/);
  await page.goto(local(inviteUrl));
  await page.locator('#invite-expired').waitFor();
  await context.close();
});

test('Settings: the language is saved to the account and applied at once; the header switch saves it too; signed out, the browser keeps it', async () => {
  await addUser(srv, 'max@example.com', 'Max Muller');
  const page = await signedInPage(browser, srv, 'max@example.com', { locale: 'en-US' });
  await page.goto(`${srv.url}/settings`);
  await page.locator('#profile-form').waitFor();
  assert.equal(await page.inputValue('#settings-lang'), 'en');
  await page.selectOption('#settings-lang', 'fr');
  await page.click('#profile-form button[type=submit]');
  await page.locator('h1', { hasText: 'Réglages' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  assert.equal(await page.inputValue('#lang-select'), 'fr');
  assert.equal(await page.inputValue('#settings-lang'), 'fr');
  assert.equal((await pageApi(page, '/api/me')).data.user.lang, 'fr');
  // Applied to everything, after a reload too.
  await page.reload();
  await page.locator('h1', { hasText: 'Réglages' }).waitFor();
  assert.match(await page.locator('#nav').innerText(), /Cette semaine/);

  // The header's switch is the same setting.
  await page.selectOption('#lang-select', 'en');
  await page.locator('h1', { hasText: 'Settings' }).waitFor();
  assert.equal((await pageApi(page, '/api/me')).data.user.lang, 'en');
  await page.selectOption('#lang-select', 'fr');
  await page.locator('h1', { hasText: 'Réglages' }).waitFor();
  assert.equal((await pageApi(page, '/api/me')).data.user.lang, 'fr');

  // Signed out in an English browser, the sign-in page stays in French;
  // signing in as someone who reads English switches to English.
  await page.click('#signout');
  await page.locator('#signin-form').waitFor();
  assert.equal(await page.locator('h1').innerText(), 'Connexion');
  await page.fill('#signin-form input[name=email]', 'bea@example.com');
  await page.fill('#signin-form input[name=password]', PASSWORD);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#record-cta', { hasText: 'Record your update' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.context().close();
});

test('errors are told by their code in the interface\'s language; an unknown code shows the server\'s own message', async () => {
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  await page.goto(`${srv.url}/signin`);
  await page.fill('#signin-form input[name=email]', 'zoe@example.com');
  await page.fill('#signin-form input[name=password]', 'not the password');
  await page.click('#signin-form button[type=submit]');
  const status = page.locator('#signin-form .form-status.error');
  await status.waitFor();
  assert.equal(await status.innerText(), 'L\'adresse e-mail ou le mot de passe est incorrect.');

  // The text comes from the code, whatever the server's words.
  await page.route('**/api/session', (r) => r.fulfill({
    status: 401, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'bad_credentials', message: 'words that may change' } }),
  }));
  await page.click('#signin-form button[type=submit]');
  await page.locator('#signin-form .form-status.error', { hasText: 'L\'adresse e-mail ou le mot de passe est incorrect.' }).waitFor();
  // A code the app does not know: the server's message (already in the
  // person's language) is shown as it is.
  await page.unroute('**/api/session');
  await page.route('**/api/session', (r) => r.fulfill({
    status: 400, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'some_new_code', message: 'un message du serveur' } }),
  }));
  await page.click('#signin-form button[type=submit]');
  await page.locator('#signin-form .form-status.error', { hasText: 'un message du serveur' }).waitFor();
  await page.unroute('**/api/session');

  await context.close();
});

// The new page states, each at desktop and phone size.
function states() {
  return [
    { name: 'join', who: null, path: () => new URL(local(doraUrl)).pathname + new URL(local(doraUrl)).hash, ready: '#invite-form' },
    { name: 'join-expired', who: null, path: () => '/invite#token=no-such-token', ready: '#invite-expired' },
    { name: 'admin-invites', who: 'zoe', path: () => '/admin', ready: '#pending-invites tbody tr',
      then: async (p) => {
        await p.fill('#invite-batch-form textarea[name=emails]', 'eve@example.com\nbad\nzoe@example.com');
        await p.click('#invite-batch-form button[type=submit]');
        await p.locator('#invite-results li').nth(2).waitFor();
      } },
    { name: 'home-checklist', who: 'ivy', path: () => '/', ready: '#onboarding' },
    { name: 'settings-lang', who: 'zoe', path: () => '/settings', ready: '#settings-lang' },
  ];
}

let doraUrl;

test('the new page states have no serious or critical axe-core violation and fit 390x844', async () => {
  // Another admin, with nothing done, sees the checklist.
  await addUser(srv, 'ivy@example.com', 'Ivy Admin', 'admin');
  const ivy = new Client(srv);
  await ivy.login('ivy@example.com', PASSWORD);
  const r = await admin.req('POST', '/api/people/invite', { json: { email: 'dora2@example.com', name: 'Dora' } });
  assert.equal(r.status, 201, r.text);
  doraUrl = r.data.invite.url;
  // The checklist for Ivy is computed for the company, except her update.
  const ob = (await ivy.req('GET', '/api/onboarding')).data;
  assert.equal(ob.done, false);

  const found = [];
  const wide = [];
  const errors = [];
  for (const viewport of [DESKTOP, PHONE]) {
    const anon = await (await browser.newContext({ viewport, locale: 'en-US' })).newPage();
    collectErrors(anon, errors);
    const pages = {
      null: anon,
      zoe: await signedInPage(browser, srv, 'zoe@example.com', { viewport, errors }),
      ivy: await signedInPage(browser, srv, 'ivy@example.com', { viewport, errors }),
    };
    for (const s of states()) {
      const page = pages[s.who];
      await page.goto(`${srv.url}${s.path()}`);
      await page.locator(s.ready).first().waitFor({ timeout: 20000 });
      await page.waitForLoadState('networkidle');
      if (s.then) await s.then(page);
      for (const v of await axeViolations(page)) found.push(`${s.name} ${viewport.width}: ${v}`);
      if (viewport === PHONE) {
        const w = await sideways(page);
        if (w.over) wide.push(`${s.name}: scrollWidth ${w.scrollWidth} > ${w.innerWidth}`);
      }
    }
    for (const p of Object.values(pages)) await p.context().close();
  }
  // The setup form, on a server nobody has set up yet.
  const fresh = await startServer({ workers: 0 });
  try {
    for (const viewport of [DESKTOP, PHONE]) {
      const page = await (await browser.newContext({ viewport, locale: 'fr-FR' })).newPage();
      collectErrors(page, errors);
      await page.goto(`${fresh.url}/setup#token=${fresh.setupToken}`);
      await page.locator('#setup-form').waitFor();
      await page.waitForLoadState('networkidle');
      for (const v of await axeViolations(page)) found.push(`setup ${viewport.width}: ${v}`);
      const w = await sideways(page);
      if (w.over) wide.push(`setup ${viewport.width}: scrollWidth ${w.scrollWidth} > ${w.innerWidth}`);
      await page.context().close();
    }
  } finally {
    await fresh.cleanup();
  }
  assert.deepEqual(found, []);
  assert.deepEqual(wide, []);
  // The expired link's look-up answers 410, which the browser logs.
  assert.deepEqual(errors.filter((e) => !/status of 410 .*\/api\/invites\/lookup\?token=no-such-token/.test(e)), []);
});
