// trim.test.mjs - trimming in headless Chromium with the fake camera
// against the real server: record 30 s, cut 5 s at each end with the trim
// editor below the preview, publish, and the published video lasts 20 s
// (±0.5: update.duration and the duration the player reports for the
// published HLS); the original stays the whole recording. On the watch
// page the author trims a published update over its original and the page
// plays the new version once it is made; nobody else is offered it. The
// trim editor has no serious or critical axe-core violation, at desktop
// and phone size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  launch, startServer, addUser, signedInPage, waitReady, pageApi, axeViolations, artifactsDir, postClip, sideways, PHONE,
} from './lib.mjs';

let srv;
let browser;
let tia;

before(async () => {
  srv = await startServer({ workers: 1 });
  tia = await addUser(srv, 'tia@example.com', 'Tia Trimmer');
  await addUser(srv, 'otto@example.com', 'Otto Other');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

test('record 30 s, trim 10 s off (5 s at each end), publish: the published video lasts 20 s', async () => {
  const errors = [];
  const page = await signedInPage(browser, srv, 'tia@example.com', { errors });
  await page.goto(`${srv.url}/record`);
  await page.click('#record-enable');
  await page.locator('#record-start').waitFor({ state: 'visible' });
  await page.click('#record-start');
  await page.locator('#record-stop').waitFor({ state: 'visible', timeout: 10000 });
  await page.waitForFunction(() => {
    const [m, s] = document.querySelector('#record-timer').textContent.split(':').map(Number);
    return m * 60 + s >= 30;
  }, null, { timeout: 45000 });
  await page.click('#record-stop');
  await page.locator('#record-publish').waitFor({ state: 'visible' });
  await page.locator('#record-trim').waitFor({ state: 'visible' });
  const recorded = Number(await page.inputValue('#record-trim-end'));
  assert.ok(recorded >= 29.5 && recorded <= 33, `the editor's end is the recording's length: ${recorded}`);
  // "Set start here" takes the preview's time; then the exact values typed.
  await page.evaluate(() => new Promise((res) => {
    const v = document.querySelector('#record-live');
    v.pause();
    if (v.currentTime === 0) { res(); return; }
    v.addEventListener('seeked', res, { once: true });
    v.currentTime = 0;
  }));
  await page.click('#record-trim-set-start');
  assert.equal(Number(await page.inputValue('#record-trim-start')), 0);
  await page.fill('#record-trim-start', '5');
  await page.fill('#record-trim-end', String(Math.round((recorded - 5) * 10) / 10));
  const expected = Math.round((recorded - 5) * 10) / 10 - 5;
  await page.waitForFunction(() => /0:2\d/.test(document.querySelector('#record-trim-length').textContent));
  assert.deepEqual(await axeViolations(page), [], 'the trim editor');
  await page.screenshot({ path: join(artifactsDir(), 'record-trim.png'), fullPage: true });
  await page.fill('#record-title', 'Trimmed in the browser');
  await page.click('#record-publish');
  await page.waitForURL(/\/watch\/\d+$/, { timeout: 60000 }).catch(async (e) => {
    const said = await page.evaluate(() => ['#record-status', '#record-error']
      .map((s) => document.querySelector(s)?.textContent).join(' | '));
    throw new Error(`not published (${said}): ${e.message}`);
  });
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  const u = await waitReady(page, id, 180000);
  assert.equal(u.status, 'ready', `update failed: ${u.error}`);
  console.log(`# recorded ${recorded} s, trimmed to ${expected} s: published duration ${u.duration} s`);
  assert.ok(Math.abs(u.duration - expected) <= 0.5, `duration ${u.duration}, expected ${expected}`);
  assert.ok(Math.abs(u.duration - 20) <= 0.5 + Math.abs(expected - 20), `duration ${u.duration}`);
  assert.ok(u.trim && Math.abs(u.trim.start - 5) < 0.01, JSON.stringify(u.trim));

  // Every published playlist lists the trimmed length.
  const lengths = await page.evaluate(async (url) => {
    const master = await (await fetch(url)).text();
    const base = url.replace(/master\.m3u8$/, '');
    const uris = [...master.matchAll(/^([^#\s][^\s]*\.m3u8)$/gm)].map((m) => m[1])
      .concat([...master.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]));
    const out = {};
    for (const u of uris) {
      const text = await (await fetch(base + u)).text();
      out[u] = [...text.matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    }
    return out;
  }, u.playback_url);
  console.log(`# published playlists: ${JSON.stringify(lengths)}`);
  for (const [name, d] of Object.entries(lengths)) assert.ok(Math.abs(d - expected) <= 0.5, `${name}: ${d} s`);

  // The player reports the published length too.
  await page.goto(`${srv.url}/watch/${id}`);
  await page.locator('#btn-play').waitFor();
  await page.waitForFunction(() => Number.isFinite(document.querySelector('#video').duration) &&
    document.querySelector('#video').duration > 0, null, { timeout: 20000 });
  const played = await page.evaluate(() => document.querySelector('#video').duration);
  console.log(`# the player's duration: ${played} s`);
  assert.ok(Math.abs(played - expected) <= 0.5, `player duration ${played}`);
  // The original is the whole recording.
  const orig = await pageApi(page, `/api/updates/${id}`);
  assert.ok(orig.data.update.source_duration === null || orig.data.update.source_duration >= 29,
    `source_duration ${orig.data.update.source_duration}`);
  assert.deepEqual(errors, []);
});

test('the author trims a published update on the watch page; the new version plays once made', async () => {
  const errors = [];
  const clip = await postClip(tia, { title: 'Trim me later', seconds: 8 });
  const other = await signedInPage(browser, srv, 'otto@example.com', { errors });
  await other.goto(`${srv.url}/watch/${clip.id}`);
  await other.locator('#btn-play').waitFor();
  assert.equal(await other.locator('#trim-box').count(), 0, 'only the author is offered the trim');

  const page = await signedInPage(browser, srv, 'tia@example.com', { errors });
  await page.goto(`${srv.url}/watch/${clip.id}`);
  await page.locator('#trim-box summary').click();
  await page.locator('#watch-trim-start').waitFor({ state: 'visible' });
  assert.ok(Math.abs(Number(await page.inputValue('#watch-trim-end')) - 8) <= 0.5, 'the end is the original\'s length');
  await page.fill('#watch-trim-start', '2');
  await page.fill('#watch-trim-end', '6');
  assert.deepEqual(await axeViolations(page), [], 'the open trim box');
  await page.setViewportSize(PHONE);
  assert.equal((await sideways(page)).over, false, 'nothing scrolls sideways at phone size');
  assert.deepEqual(await axeViolations(page), [], 'the open trim box at phone size');
  await page.screenshot({ path: join(artifactsDir(), 'watch-trim-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  const oldUrl = (await pageApi(page, `/api/updates/${clip.id}`)).data.update.playback_url;
  await page.click('#trim-save');
  await page.waitForFunction(() => /\S/.test(document.querySelector('#trim-status').textContent));
  // The page plays the new version once it is published.
  await page.waitForFunction((old) => {
    const v = document.querySelector('#video');
    return v && Number.isFinite(v.duration) && v.duration > 0 && v.duration < 7 && old;
  }, oldUrl, { timeout: 120000 });
  const u = (await pageApi(page, `/api/updates/${clip.id}`)).data.update;
  console.log(`# trimmed on the watch page to 2..6: published duration ${u.duration} s, the player's ${await page.evaluate(() => document.querySelector('#video').duration)} s`);
  assert.equal(u.media_version, 1);
  assert.ok(Math.abs(u.duration - 4) <= 0.5, `duration ${u.duration}`);
  assert.notEqual(u.playback_url, oldUrl);
  assert.deepEqual(u.trim, { start: 2, end: 6 });
  assert.deepEqual(errors, []);
});
