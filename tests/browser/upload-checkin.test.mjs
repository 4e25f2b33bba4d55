// upload-checkin.test.mjs - the upload page, in headless Chromium against
// the real server: the check-in prompts are shown beside the file with an
// optional answer each, and the answers typed there are the update's when
// the upload is done (sent with the tus creation); the description and the
// answers offer @mentions as the record and watch pages do. The page with
// its prompts has no serious or critical axe-core violation and does not
// scroll sideways at 390x844.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, startServer, addUser, signedInPage, makeClip, axeViolations, sideways, artifactsDir, PHONE, DESKTOP,
} from './lib.mjs';

let srv;
let browser;
let mia;

before(async () => {
  srv = await startServer({ workers: 0 });
  const ada = await addUser(srv, 'ada@example.com', 'Ada Admin', 'admin');
  mia = await addUser(srv, 'mia@example.com', 'Mia Member');
  await addUser(srv, 'max@example.com', 'Max Other');
  const r = await ada.req('PUT', '/api/prompts', { json: { prompts: ['What I shipped', 'What blocks me', 'Next'] } });
  assert.equal(r.status, 200, r.text);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

test('the check-in answers typed on the upload page are the update\'s answers once the upload is done', async () => {
  const errors = [];
  const page = await signedInPage(browser, srv, 'mia@example.com', { errors });
  await page.goto(`${srv.url}/upload`);
  await page.locator('#upload-checkin label').first().waitFor();
  assert.deepEqual(await page.locator('#upload-checkin label').allTextContents(), ['What I shipped', 'What blocks me', 'Next']);
  await page.setInputFiles('#file-input', makeClip({ seconds: 2, name: 'clip-2s.mp4' }));
  await page.fill('#upload-title', 'Uploaded with answers');
  await page.getByLabel('What I shipped').fill('The uploader <with> answers');
  await page.getByLabel('Next').fill('Trimming');
  await page.click('#upload-start');
  await page.waitForURL(/\/watch\/\d+$/, { timeout: 30000 });
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  const u = (await mia.req('GET', `/api/updates/${id}`)).data.update;
  assert.equal(u.title, 'Uploaded with answers');
  assert.deepEqual(u.answers, [
    { prompt: 'What I shipped', text: 'The uploader <with> answers' },
    { prompt: 'Next', text: 'Trimming' },
  ]);
  assert.deepEqual(errors, []);
});

test('an answer over 1000 bytes is caught on the page before anything is sent', async () => {
  const page = await signedInPage(browser, srv, 'mia@example.com');
  await page.goto(`${srv.url}/upload`);
  await page.locator('#upload-checkin label').first().waitFor();
  await page.setInputFiles('#file-input', makeClip({ seconds: 2, name: 'clip-2s.mp4' }));
  await page.fill('#upload-title', 'Too long');
  // maxlength counts characters; the limit is bytes.
  await page.getByLabel('What blocks me').fill('é'.repeat(600));
  const before = (await mia.req('GET', `/api/updates?author=${mia.user.id}`)).data.total;
  await page.click('#upload-start');
  await page.locator('#upload-status', { hasText: 'An answer is too long' }).waitFor();
  assert.equal(await page.locator('#upload-progress-box').isHidden(), true);
  assert.equal((await mia.req('GET', `/api/updates?author=${mia.user.id}`)).data.total, before);
});

// Type `typed` into box, pick the active person of the list with Enter;
// returns what the list's active option showed.
async function mentionWith(page, box, typed) {
  await box.click();
  await page.keyboard.type(typed);
  const list = box.locator('xpath=..').locator('[role=listbox]');
  await list.waitFor({ state: 'visible' });
  assert.equal(await box.getAttribute('aria-controls'), await list.getAttribute('id'));
  const active = await box.getAttribute('aria-activedescendant');
  const shown = await page.locator(`#${active}`).innerText();
  assert.deepEqual(await axeViolations(page), [], 'the open list');
  await page.keyboard.press('Enter');
  await list.waitFor({ state: 'hidden' });
  return shown;
}

test('the description and the check-in answers offer @mentions by autocomplete; the mentions are published', async () => {
  const errors = [];
  const page = await signedInPage(browser, srv, 'mia@example.com', { errors });
  await page.goto(`${srv.url}/upload`);
  await page.locator('#upload-checkin label').first().waitFor();
  await page.setInputFiles('#file-input', makeClip({ seconds: 2, name: 'clip-2s.mp4' }));
  await page.fill('#upload-title', 'With mentions');

  const desc = page.locator('#upload-description');
  assert.match(await mentionWith(page, desc, 'Thanks @ma'), /Max Other/);
  await page.keyboard.type('for the review');
  assert.equal(await desc.inputValue(), 'Thanks @Max for the review');

  const answer = page.getByLabel('What blocks me');
  assert.match(await mentionWith(page, answer, 'Waiting on @ad'), /Ada Admin/);
  assert.equal(await answer.inputValue(), 'Waiting on @Ada ');

  // Escape closes the list without choosing; the text stays as typed.
  const next = page.getByLabel('Next');
  await next.click();
  await page.keyboard.type('@ma');
  await next.locator('xpath=..').locator('[role=listbox]').waitFor({ state: 'visible' });
  await page.keyboard.press('Escape');
  assert.equal(await next.getAttribute('aria-controls'), null);
  assert.equal(await next.inputValue(), '@ma');
  await next.fill('');

  await page.click('#upload-start');
  await page.waitForURL(/\/watch\/\d+$/, { timeout: 30000 });
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  const u = (await mia.req('GET', `/api/updates/${id}`)).data.update;
  assert.equal(u.description, 'Thanks @Max for the review');
  assert.deepEqual(u.answers, [{ prompt: 'What blocks me', text: 'Waiting on @Ada' }]);
  assert.deepEqual(errors, []);
});

for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
  test(`the upload page with its prompts at ${size} size: no serious or critical axe-core violation${size === 'phone' ? ', nothing scrolls sideways' : ''}`, async () => {
    const page = await signedInPage(browser, srv, 'mia@example.com', { viewport });
    await page.goto(`${srv.url}/upload`);
    await page.locator('#upload-checkin label').first().waitFor();
    await page.waitForLoadState('networkidle');
    assert.deepEqual(await axeViolations(page), []);
    if (size === 'phone') {
      const r = await sideways(page);
      await page.screenshot({ path: `${artifactsDir()}phone-upload-checkin.png`, fullPage: true });
      assert.ok(!r.over, `scrollWidth ${r.scrollWidth} > ${r.innerWidth}`);
    }
  });
}
