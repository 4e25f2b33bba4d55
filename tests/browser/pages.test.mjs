// pages.test.mjs - every page state of the web app, at desktop size and at
// phone size (390x844), against the real server with a small company in it
// (an all-hands, a weekly update with comments and reactions, someone who
// has not posted): axe-core finds no violation of impact serious or
// critical; at phone size nothing scrolls sideways, the navigation sits
// behind a menu button, admin tables are stacked rows; a screenshot of
// every page at phone size is kept in tests/artifacts/phone-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  launch, startServer, addUser, signedInPage, postClip, axeViolations, sideways, artifactsDir, collectErrors,
  PHONE, DESKTOP,
} from './lib.mjs';
import { sql } from '../e2e/lib/server.mjs';

let srv;
let browser;
let ada;
let mia;
let allhands;
let weekly;
let inviteHash;

before(async () => {
  srv = await startServer({ workers: 1 });
  ada = await addUser(srv, 'ada@example.com', 'Ada Lovelace-Admin', 'admin');
  mia = await addUser(srv, 'mia@example.com', 'Mia Member');
  await addUser(srv, 'max@example.com', 'Max Notposted');
  // The company has existed for ten weeks: participation has a row for each
  // week since its first person joined, none before.
  sql(srv.dir, `UPDATE users SET created_at = created_at - ${70 * 86400}`);
  await ada.req('PATCH', '/api/me', { json: { team: 'Leadership', title: 'CEO' } });
  await mia.req('PATCH', '/api/me', { json: { team: 'Design', title: 'Designer' } });
  await ada.req('PUT', '/api/purpose', { json: { purpose: 'We help teams share where they are.\n\nEvery week.' } });
  allhands = await postClip(ada, { title: 'Quarter plan', kind: 'allhands' });
  weekly = await postClip(mia, { title: 'Mockups for the new onboarding flow', seconds: 4 });
  await ada.req('POST', `/api/updates/${weekly.id}/comments`, { json: { body: 'Lovely work', at_seconds: 1 } });
  await ada.req('POST', `/api/updates/${weekly.id}/reactions`, { json: { emoji: '👍' } });
  await mia.req('POST', `/api/updates/${allhands.id}/views`, { json: { position: 1 } });
  const inv = await ada.req('POST', '/api/people/invite', { json: { email: 'ines@example.com', name: 'Ines Invited' } });
  inviteHash = new URL(inv.data.invite.url).hash;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

// Every page state: who looks, where, and what is done first.
function states() {
  const week = allhands.iso_week;
  const [y, w] = week.split('-W').map(Number);
  const prev = w > 1 ? `${y}-W${String(w - 1).padStart(2, '0')}` : `${y - 1}-W52`;
  return [
    { name: 'signin', who: null, path: '/signin', ready: '#signin-form' },
    { name: 'reset-ask', who: null, path: '/reset', ready: '#reset-ask-form' },
    { name: 'reset-choose', who: null, path: '/reset#token=abc', ready: '#reset-form' },
    { name: 'setup-done', who: null, path: '/setup#token=abc', ready: 'main .notice' },
    { name: 'invite', who: null, path: `/invite${inviteHash}`, ready: '#invite-form' },
    { name: 'home', who: 'mia', path: '/', ready: '#week-grid' },
    { name: 'home-admin', who: 'ada', path: '/', ready: '#week-grid' },
    { name: 'week-past', who: 'mia', path: `/week/${prev}`, ready: '#next-week' },
    { name: 'record', who: 'mia', path: '/record', ready: '#record-enable' },
    { name: 'record-camera-on', who: 'mia', path: '/record', ready: '#record-enable',
      then: async (p) => { await p.click('#record-enable'); await p.locator('#record-start').waitFor({ state: 'visible' }); } },
    { name: 'upload', who: 'mia', path: '/upload', ready: '#upload-form' },
    { name: 'watch', who: 'mia', path: `/watch/${weekly.id}`, ready: '#comments .comment' },
    { name: 'watch-author', who: 'ada', path: `/watch/${allhands.id}`, ready: '#viewers li',
      then: async (p) => { await p.click('details.manage summary'); } },
    { name: 'people', who: 'mia', path: '/people', ready: '#directory .person' },
    { name: 'person', who: 'mia', path: `/people/${mia.user.id}`, ready: '#streak' },
    { name: 'purpose', who: 'mia', path: '/purpose', ready: '#purpose-text' },
    { name: 'purpose-edit', who: 'ada', path: '/purpose', ready: '#purpose-text',
      then: async (p) => { await p.click('details.manage summary'); } },
    { name: 'admin', who: 'ada', path: '/admin', ready: '#participation-chart' },
    { name: 'admin-forbidden', who: 'mia', path: '/admin', ready: '#forbidden' },
    { name: 'settings', who: 'mia', path: '/settings', ready: '#profile-form' },
    { name: 'not-found', who: 'mia', path: '/no/such/page', ready: 'h1' },
  ];
}

// One page per person and size, reused across states.
async function pagesFor(viewport, errors) {
  const anon = await (await browser.newContext({ viewport, locale: 'en-US' })).newPage();
  collectErrors(anon, errors);
  return {
    null: anon,
    mia: await signedInPage(browser, srv, 'mia@example.com', { viewport, errors }),
    ada: await signedInPage(browser, srv, 'ada@example.com', { viewport, errors }),
  };
}

async function visit(page, s) {
  await page.goto(`${srv.url}${s.path}`);
  await page.locator(s.ready).first().waitFor({ timeout: 20000 });
  await page.waitForLoadState('networkidle');
  if (s.then) await s.then(page);
}

test('axe-core: no serious or critical violation on any page state at desktop size', async () => {
  const errors = [];
  const pages = await pagesFor(DESKTOP, errors);
  const found = [];
  for (const s of states()) {
    await visit(pages[s.who], s);
    for (const v of await axeViolations(pages[s.who])) found.push(`${s.name}: ${v}`);
  }
  assert.deepEqual(found, []);
  assert.deepEqual(errors, []);
});

test('axe-core: no serious or critical violation on any page state at phone size, the menu open or closed', async () => {
  const errors = [];
  const pages = await pagesFor(PHONE, errors);
  const found = [];
  for (const s of [...states(), { name: 'menu-open', who: 'mia', path: '/', ready: '#menu-button',
    then: async (p) => { await p.click('#menu-button'); await p.locator('#nav a').first().waitFor({ state: 'visible' }); } }]) {
    await visit(pages[s.who], s);
    for (const v of await axeViolations(pages[s.who])) found.push(`${s.name}: ${v}`);
  }
  assert.deepEqual(found, []);
  assert.deepEqual(errors, []);
});

test('at 390x844 every page fits the width, the navigation is behind a menu button, admin tables are stacked rows; screenshots kept', async () => {
  const pages = await pagesFor(PHONE, []);
  const dir = artifactsDir();
  const wide = [];
  for (const s of states()) {
    const page = pages[s.who];
    await visit(page, s);
    const r = await sideways(page);
    if (r.over) wide.push(`${s.name}: scrollWidth ${r.scrollWidth} > ${r.innerWidth}`);
    await page.screenshot({ path: join(dir, `phone-${s.name}.png`), fullPage: true });
  }
  assert.deepEqual(wide, []);

  // The menu: links hidden until the button opens them; it says so.
  const page = pages.mia;
  await visit(page, { path: '/', ready: '#week-grid' });
  const button = page.locator('#menu-button');
  assert.equal(await button.isVisible(), true);
  assert.equal(await button.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.locator('#nav a[href="/people"]').isVisible(), false);
  await button.click();
  assert.equal(await button.getAttribute('aria-expanded'), 'true');
  await page.locator('#nav a[href="/people"]').waitFor({ state: 'visible' });
  await page.screenshot({ path: join(dir, 'phone-menu-open.png') });
  await page.click('#nav a[href="/people"]');
  await page.locator('#directory').waitFor();
  assert.equal(await page.locator('#nav a[href="/people"]').isVisible(), false, 'the menu closes after choosing');

  // Admin tables: one block per person, each cell labelled.
  const admin = pages.ada;
  await visit(admin, { path: '/admin', ready: '#admin-people tbody tr' });
  const layout = await admin.$eval('#admin-people', (t) => ({
    head: getComputedStyle(t.querySelector('thead')).position,
    row: getComputedStyle(t.querySelector('tbody tr')).display,
    label: getComputedStyle(t.querySelector('tbody td'), '::before').content,
  }));
  assert.equal(layout.head, 'absolute', 'the header row is for screen readers only');
  assert.notEqual(layout.row, 'table-row');
  assert.match(layout.label, /Name/);

  // At desktop size, the navigation is a row of links, no menu button.
  const desk = await signedInPage(browser, srv, 'mia@example.com', { viewport: DESKTOP });
  assert.equal(await desk.locator('#menu-button').isVisible(), false);
  assert.equal(await desk.locator('#nav a[href="/people"]').isVisible(), true);
});

test('avatars (initials on a colour from the name) on cards and in the not-posted list; participation charts on the admin and person pages', async () => {
  const page = await signedInPage(browser, srv, 'ada@example.com');
  await page.goto(`${srv.url}/`);
  await page.locator('#week-grid').waitFor();
  const card = page.locator(`[data-update-id="${weekly.id}"] .avatar`);
  assert.equal(await card.textContent(), 'MM');
  const chip = page.locator('#not-posted .avatar');
  assert.equal(await chip.textContent(), 'MN');
  // The colour comes from the name: the same person has the same colour everywhere.
  const colour = (l) => l.evaluate((e) => getComputedStyle(e).backgroundColor);
  const onCard = await colour(card);
  assert.notEqual(onCard, 'rgba(0, 0, 0, 0)');
  await page.goto(`${srv.url}/people`);
  await page.locator('#directory .person').first().waitFor();
  assert.equal(await colour(page.locator('#directory .person', { hasText: 'Mia Member' }).locator('.avatar')), onCard);

  await page.goto(`${srv.url}/people/${mia.user.id}`);
  await page.locator('#person-weeks svg').waitFor();
  assert.equal(await page.locator('#person-weeks rect.week-on').count(), 1);
  assert.equal(await page.locator('#person-weeks rect').count(), 12);
  assert.match(await page.locator('#person-weeks').innerText(), /Posted in 1 of the last 12 weeks/);

  await page.goto(`${srv.url}/admin`);
  await page.locator('#participation-chart svg').waitFor();
  assert.equal(await page.locator('#participation-chart rect.bar').count(), 8);
  // This week: Ada and Mia posted, Max did not.
  assert.match(await page.locator('#participation-chart svg').innerHTML(), />67%</);
  assert.equal(await page.locator('#team-charts figure').count(), 3);
});
