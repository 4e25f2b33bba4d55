// record.test.mjs - recording in headless Chromium with the fake camera and
// microphone against the real server: record 5 s, publish, wait for the
// transcode, play it from another member's session (currentTime advances,
// no player error; screenshot kept in tests/artifacts/watch.png); and a
// reload in the middle of a recording keeps what was recorded, resumes the
// upload, and publishes a video of the recorded duration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { launch, startServer, addUser, signedInPage, waitReady, artifactsDir, collectErrors } from './lib.mjs';

let srv;
let browser;

before(async () => {
  srv = await startServer({ workers: 1 });
  await addUser(srv, 'rita@example.com', 'Rita Recorder');
  await addUser(srv, 'wes@example.com', 'Wes Watcher');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

async function startRecording(page, mode = 'camera') {
  await page.goto(`${srv.url}/record`);
  await page.check(`input[name=mode][value=${mode}]`);
  await page.click('#record-enable');
  await page.locator('#record-start').waitFor({ state: 'visible' });
  await page.click('#record-start');
  await page.locator('#record-stop').waitFor({ state: 'visible', timeout: 10000 });
}

// Stop, publish under title; the update's id (from the watch page's URL).
async function stopAndPublish(page, title) {
  await page.click('#record-stop');
  await page.locator('#record-publish').waitFor({ state: 'visible' });
  await page.fill('#record-title', title);
  await page.click('#record-publish');
  await page.waitForURL(/\/watch\/\d+$/, { timeout: 30000 });
  return Number(new URL(page.url()).pathname.split('/').pop());
}

// Wait until the recorder's own timer shows at least `sec` seconds.
async function recordFor(page, sec) {
  await page.waitForFunction((s) => {
    const [m, ss] = document.querySelector('#record-timer').textContent.split(':').map(Number);
    return m * 60 + ss >= s;
  }, sec, { timeout: (sec + 10) * 1000 });
}

test('record 5 s with the fake camera, publish, wait for ready, and play it from another member\'s session', async () => {
  const errors = [];
  const page = await signedInPage(browser, srv, 'rita@example.com', { errors });
  await startRecording(page);
  await recordFor(page, 5);
  const id = await stopAndPublish(page, 'Recorded in the browser test');
  const u = await waitReady(page, id);
  assert.equal(u.status, 'ready', `update failed: ${u.error}`);
  assert.equal(u.title, 'Recorded in the browser test');
  assert.ok(u.duration >= 4 && u.duration <= 7, `duration ${u.duration}`);

  const viewer = await signedInPage(browser, srv, 'wes@example.com', { errors });
  await viewer.goto(`${srv.url}/watch/${id}`);
  await viewer.locator('#btn-play').waitFor();
  await viewer.waitForFunction(() => document.querySelector('#quality').options.length >= 2, null, { timeout: 15000 });
  await viewer.click('#btn-play');
  await viewer.waitForFunction(() => document.querySelector('#video').currentTime > 1.5, null, { timeout: 20000 });
  const state = await viewer.evaluate(() => ({
    err: document.querySelector('#video').dataset.error || null,
    shown: !document.querySelector('#player-error').hidden,
    w: document.querySelector('#video').videoWidth,
  }));
  assert.equal(state.err, null);
  assert.equal(state.shown, false);
  assert.ok(state.w > 0);
  await viewer.click('#btn-play');
  // Storyboard previews over the seek bar.
  await viewer.waitForFunction(() => Number(document.querySelector('#player').dataset.storyboard) > 0, null, { timeout: 10000 });
  const box = await viewer.locator('#seek').boundingBox();
  await viewer.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await viewer.locator('.sb-preview').waitFor({ state: 'visible' });
  await viewer.screenshot({ path: join(artifactsDir(), 'watch.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

test('reload in the middle of a recording: what was recorded is kept, the upload resumes, and the published duration matches (±1 s)', async () => {
  const page = await signedInPage(browser, srv, 'rita@example.com');
  await startRecording(page);
  await recordFor(page, 7);
  await page.reload();
  await page.locator('#pending-recording').waitFor();
  const kept = Number(await page.locator('#pending-duration').textContent());
  assert.ok(kept >= 4 && kept <= 9, `kept ${kept} s`);
  await page.click('#record-finish');
  await page.waitForURL(/\/watch\/\d+$/, { timeout: 30000 });
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  const u = await waitReady(page, id);
  assert.equal(u.status, 'ready', `update failed: ${u.error}`);
  assert.ok(Math.abs(u.duration - kept) <= 1, `published ${u.duration} s, recorded ${kept} s`);
  // Nothing is left behind on the device.
  await page.goto(`${srv.url}/record`);
  await page.locator('#record-enable').waitFor();
  assert.equal(await page.locator('#pending-recording').count(), 0);
});

test('a screen larger than 1080p is recorded scaled to 1080p, so its first rendition is a copy of the recording', async () => {
  const errors = [];
  const page = await signedInPage(browser, srv, 'rita@example.com', { errors });
  // A 4K monitor: the fake screen gives 3840x2160 when asked for it, as a
  // real one gives its own size whatever is asked.
  await page.addInitScript(() => {
    const real = MediaDevices.prototype.getDisplayMedia;
    MediaDevices.prototype.getDisplayMedia = function (c = {}) {
      const video = { ...(typeof c.video === 'object' ? c.video : {}), width: { ideal: 3840 }, height: { ideal: 2160 } };
      return real.call(this, { ...c, video });
    };
  });
  await startRecording(page, 'screen');
  const size = await page.evaluate(() => {
    const s = document.querySelector('#record-live').srcObject.getVideoTracks()[0].getSettings();
    return `${s.width}x${s.height}`;
  });
  assert.equal(size, '1920x1080', 'the screen is captured at 1080p');
  await recordFor(page, 3);
  const id = await stopAndPublish(page, 'A 4K screen');
  const u = await waitReady(page, id);
  assert.equal(u.status, 'ready', `update failed: ${u.error}`);
  // The browser's H.264 at 1920x1080 was copied, not encoded again at 720p.
  const master = readFileSync(join(srv.dir, 'media', String(id), 'first', 'master.m3u8'), 'utf8');
  assert.match(master, /RESOLUTION=1920x1080/);
  assert.match(master, /DATA-ID="net\.hubcast\.first",VALUE="remux"/);
  assert.deepEqual(errors, []);
});
