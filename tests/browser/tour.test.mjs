// tour.test.mjs - a tour of every page in headless Chromium against the real
// server, collecting console errors and uncaught exceptions: first-run setup
// of the administrator (then the first-run checklist), sign in, this week,
// another week, upload, record, watch (comment, reaction, who watched),
// people, person, purpose (edited; markup shown as text), admin (invite,
// schedule), accept the invite, settings, an unknown page, sign out. No
// page may log an error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, startServer, addUser, makeClip, collectErrors, waitReady } from './lib.mjs';

let srv;
let browser;

before(async () => {
  srv = await startServer({ workers: 1 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

test('no page logs a console error on a tour of every page (setup, invite, and each page of the app)', async () => {
  const errors = [];
  const context = await browser.newContext({ locale: 'en-US' });
  await context.grantPermissions(['camera', 'microphone'], { origin: srv.url });
  const page = await context.newPage();
  collectErrors(page, errors);
  const go = async (path, selector) => {
    await page.goto(`${srv.url}${path}`);
    await page.locator(selector).first().waitFor({ timeout: 15000 });
    await page.waitForLoadState('networkidle');
  };

  // First-run setup creates the administrator and signs them in.
  assert.ok(srv.setupToken, 'the server printed a setup link');
  await go(`/setup#token=${srv.setupToken}`, '#setup-form');
  await page.fill('#setup-form input[name=company_name]', 'Tour Company');
  await page.fill('#setup-form input[name=name]', 'Ada Admin');
  await page.fill('#setup-form input[name=email]', 'ada@example.com');
  await page.fill('#setup-form input[name=password]', 'a good password');
  await page.click('#setup-form button[type=submit]');
  await page.waitForURL((u) => u.pathname === '/');
  await page.locator('#onboarding').waitFor();

  // An update to watch, sent by a member through the one-request API.
  const member = await addUser(srv, 'mia@example.com', 'Mia Member');
  const up = await member.req('POST', '/api/updates?title=Tour+clip', {
    body: readFileSync(makeClip({ seconds: 3, name: 'tour-3s.mp4' })), headers: { 'content-type': 'video/mp4' },
  });
  assert.equal(up.status, 201, up.text);
  const id = (up.data.update || up.data).id;

  await go('/', '#record-cta');
  await go('/week/2026-W01', '#prev-week');
  await page.click('#prev-week');
  await page.locator('h1', { hasText: 'Week 2025-W52' }).waitFor();
  await go('/upload', '#upload-form');
  await go('/record', '#record-enable');
  await page.click('#record-enable');
  await page.locator('#record-start').waitFor({ state: 'visible' });
  await waitReady(page, id);
  await go(`/watch/${id}`, '#btn-play');
  await page.click('#btn-play');
  await page.waitForFunction(() => document.querySelector('#video').currentTime > 0.5, null, { timeout: 15000 });
  await page.keyboard.press('k');
  await page.keyboard.press('.');
  assert.equal(await page.$eval('#video', (v) => v.playbackRate), 1.25);
  await page.fill('#comment-body', 'Nice <b>work</b>');
  await page.click('#comment-form button[type=submit]');
  await page.locator('#comments .comment', { hasText: 'Nice <b>work</b>' }).waitFor();
  await page.click('#reactions button >> nth=0');
  await page.locator('#reactions button[aria-pressed="true"]').waitFor();
  await page.locator('#viewers').waitFor();
  await go('/people', '#directory .person');
  await go('/people/2', '#streak');
  await go('/purpose', '#purpose-text');
  await page.click('details.manage summary');
  await page.fill('#purpose-edit', 'We <script>alert(1)</script> help.\n\nSecond paragraph.');
  await page.click('#purpose-form button[type=submit]');
  await page.locator('#purpose-text p', { hasText: '<script>alert(1)</script>' }).waitFor();
  assert.equal(await page.locator('#purpose-text script').count(), 0);
  await go('/admin', '#invite-person-form');
  await page.fill('#invite-person-form input[name=email]', 'ines@example.com');
  await page.click('#invite-person-form button[type=submit]');
  const inviteUrl = await page.locator('#invite-url').inputValue();
  await page.locator('#schedule-form, #settings-missing').first().waitFor();
  await go('/settings', '#profile-form');
  await page.fill('#profile-form input[name=team]', 'Platform');
  await page.click('#profile-form button[type=submit]');
  await page.locator('#profile-form .form-status.ok').waitFor();
  await go('/no/such/page', 'h1');
  await page.click('#signout');
  await page.waitForURL(/\/signin/);

  // The invite, accepted in a fresh browser.
  const invitee = await (await browser.newContext()).newPage();
  collectErrors(invitee, errors);
  await invitee.goto(new URL(new URL(inviteUrl).pathname + new URL(inviteUrl).hash, srv.url).href);
  await invitee.locator('#invite-form').waitFor();
  await invitee.fill('#invite-form input[name=name]', 'Ines Invited');
  await invitee.fill('#invite-form input[name=password]', 'a good password');
  await invitee.click('#invite-form button[type=submit]');
  await invitee.locator('#record-cta').waitFor();
  await invitee.waitForLoadState('networkidle');

  assert.deepEqual(errors, []);
});
