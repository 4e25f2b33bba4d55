// ritual.test.mjs - the weekly ritual's web bugs, seen in a trial and fixed:
// arrow keys between the recording modes do not start a capture; cards and
// reaction buttons are named by what they show (axe-core
// label-content-name-mismatch); a refused upload is not offered for resuming
// on the next visit; a comment link (#comment-N, as mailed) shows that
// comment; the kind chosen at Publish is the kind published; each update has
// a copy-link button that says it copied.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { launch, startServer, addUser, signedInPage, postClip, axeViolations, waitReady } from './lib.mjs';

let srv;
let browser;
let ada;
let mia;
let clip;

before(async () => {
  srv = await startServer({ workers: 1 });
  ada = await addUser(srv, 'ada@example.com', 'Ada Admin', 'admin');
  mia = await addUser(srv, 'mia@example.com', 'Mia Member');
  browser = await launch();
  clip = await postClip(mia, { title: 'Mia\'s week' });
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

// Count the captures the page asks the browser for.
async function countCaptures(page) {
  await page.addInitScript(() => {
    window.captures = 0;
    const md = navigator.mediaDevices;
    for (const f of ['getUserMedia', 'getDisplayMedia']) {
      if (!md[f]) continue;
      const orig = md[f].bind(md);
      md[f] = (...a) => { window.captures++; return orig(...a); };
    }
  });
}

test('arrow keys move between Camera, Screen and Screen and camera without starting a capture; Enable starts one', async () => {
  const page = await signedInPage(browser, srv, 'mia@example.com');
  await countCaptures(page);
  await page.goto(`${srv.url}/record`);
  await page.locator('#record-enable').waitFor();
  await page.focus('input[name=mode][value=camera]');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.$eval('input[name=mode]:checked', (i) => i.value), 'both');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.$eval('input[name=mode]:checked', (i) => i.value), 'camera');
  await page.waitForTimeout(500);
  assert.equal(await page.evaluate(() => window.captures), 0, 'no capture while choosing');
  assert.ok(await page.locator('#record-enable').isVisible(), 'the explicit action is still offered');
  await page.click('#record-enable');
  await page.locator('#record-start').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => window.captures), 1);
});

test('update cards and reaction buttons are named by what they show (axe label-content-name-mismatch)', async () => {
  const page = await signedInPage(browser, srv, 'ada@example.com');
  await page.goto(`${srv.url}/`);
  await page.locator(`[data-update-id="${clip.id}"]`).waitFor();
  assert.deepEqual(await axeViolations(page, { only: ['label-content-name-mismatch'] }), []);
  await page.goto(`${srv.url}/watch/${clip.id}`);
  await page.locator('#reactions button').first().waitFor();
  await page.click('#reactions button >> nth=0');
  await page.locator('#reactions button[aria-pressed="true"]').waitFor();
  assert.deepEqual(await axeViolations(page, { only: ['label-content-name-mismatch'] }), []);
  // The button still says what it does and how many reacted.
  const name = await page.locator('#reactions button[aria-pressed="true"]').evaluate((b) => b.textContent);
  assert.match(name, /1/);
});

test('after the server refuses an upload, the next visit does not offer to resume it', async () => {
  const bogus = join(tmpdir(), 'hubcast-not-a-video.mp4');
  writeFileSync(bogus, 'this is a text file and not a video at all\n'.repeat(200));
  const page = await signedInPage(browser, srv, 'mia@example.com');
  await page.goto(`${srv.url}/upload`);
  await page.setInputFiles('#file-input', bogus);
  await page.fill('#upload-title', 'Not a video');
  await page.click('#upload-start');
  await page.locator('#upload-status', { hasText: /failed/i }).waitFor({ timeout: 20000 });
  await page.goto(`${srv.url}/upload`);
  await page.locator('#upload-form').waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.locator('#upload-interrupted').count(), 0, 'no resume offered for a refused upload');
});

test('a comment link (#comment-N, as in the comment mail) scrolls to that comment and highlights it', async () => {
  for (let i = 0; i < 12; i++) {
    const r = await ada.req('POST', `/api/updates/${clip.id}/comments`, { json: { body: `Comment number ${i}` } });
    assert.equal(r.status, 201, r.text);
  }
  const r = await ada.req('POST', `/api/updates/${clip.id}/comments`, { json: { body: 'The one the mail links to' } });
  const cid = r.data.comment.id;
  const page = await signedInPage(browser, srv, 'mia@example.com', { viewport: { width: 1280, height: 600 } });
  await page.goto(`${srv.url}/watch/${clip.id}#comment-${cid}`);
  const el = page.locator(`#comment-${cid}`);
  await el.waitFor();
  assert.match(await el.innerText(), /The one the mail links to/);
  await page.waitForFunction((id) => {
    const e = document.getElementById(`comment-${id}`);
    const b = e.getBoundingClientRect();
    return b.top >= 0 && b.bottom <= window.innerHeight;
  }, cid, { timeout: 5000 });
  assert.equal(await el.evaluate((e) => e.classList.contains('is-linked')), true, 'the linked comment is highlighted');
});

test('choosing All-hands after recording has started publishes an all-hands update', async () => {
  const page = await signedInPage(browser, srv, 'ada@example.com');
  await page.goto(`${srv.url}/record`);
  await page.click('#record-enable');
  await page.locator('#record-start').waitFor({ state: 'visible' });
  await page.click('#record-start');
  await page.locator('#record-stop').waitFor({ state: 'visible', timeout: 10000 });
  await page.waitForFunction(() => {
    const [m, s] = document.querySelector('#record-timer').textContent.split(':').map(Number);
    return m * 60 + s >= 3;
  }, null, { timeout: 15000 });
  await page.selectOption('#record-kind', 'allhands');
  await page.click('#record-stop');
  await page.locator('#record-publish').waitFor({ state: 'visible' });
  await page.fill('#record-title', 'Quarter plan');
  await page.click('#record-publish');
  await page.waitForURL(/\/watch\/\d+$/, { timeout: 30000 });
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  const u = await waitReady(page, id);
  assert.equal(u.kind, 'allhands');
  assert.equal(u.title, 'Quarter plan');
  // Only one update came out of that recording.
  const mine = await ada.req('GET', `/api/updates?author=${ada.user.id}`);
  assert.equal(mine.data.total, 1, JSON.stringify(mine.data.updates.map((x) => [x.id, x.kind, x.status])));
});

test('each update has a copy-link button that copies its address and says so', async () => {
  const page = await signedInPage(browser, srv, 'mia@example.com');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
  await page.goto(`${srv.url}/watch/${clip.id}`);
  await page.click('#copy-link');
  await page.locator('#copy-link-status', { hasText: /copied/i }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${srv.url}/watch/${clip.id}`);
});
