// upload.test.mjs - the upload page in headless Chromium against the real
// server: a generated H.264/AAC clip goes through tus-js-client with a
// progress bar that reaches 100% and lands in this week's grid; an upload
// interrupted by a reload resumes where it stopped (one tus creation, not
// two) and the published duration matches the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, startServer, addUser, signedInPage, makeClip, waitReady } from './lib.mjs';

let srv;
let browser;

before(async () => {
  srv = await startServer({ workers: 1 });
  await addUser(srv, 'uma@example.com', 'Uma Uploader');
  await addUser(srv, 'rei@example.com', 'Rei Resumer');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

test('upload a generated file through the upload page: the progress bar reaches 100% and the update appears in this week\'s grid', async () => {
  const clip = makeClip({ seconds: 3, name: 'upload-3s.mp4' });
  const page = await signedInPage(browser, srv, 'uma@example.com');
  await page.goto(`${srv.url}/upload`);
  await page.setInputFiles('#file-input', clip);
  await page.fill('#upload-title', 'Uploaded from the browser test');
  // The page is a single-page app: window state survives the move to /watch.
  await page.evaluate(() => {
    const bar = document.querySelector('#upload-progress');
    window.maxPct = 0;
    new MutationObserver(() => {
      window.maxPct = Math.max(window.maxPct, bar.value);
      window.pctText = document.querySelector('#upload-percent').textContent;
    }).observe(bar, { attributes: true });
  });
  await page.click('#upload-start');
  await page.waitForURL(/\/watch\/\d+$/, { timeout: 30000 });
  const { maxPct, pctText } = await page.evaluate(() => ({ maxPct: window.maxPct, pctText: window.pctText }));
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  assert.ok(id > 0);
  assert.equal(maxPct, 100, 'the progress bar reached 100%');
  assert.equal(pctText, '100%');
  const u = await waitReady(page, id);
  assert.equal(u.status, 'ready', `update failed: ${u.error}`);
  await page.goto(`${srv.url}/`);
  const card = page.locator(`#week-grid [data-update-id="${id}"]`);
  await card.waitFor();
  assert.match(await card.innerText(), /Uploaded from the browser test/);
  assert.match(await card.innerText(), /Uma Uploader/);
  assert.ok(Math.abs(u.duration - 3) <= 1, `duration ${u.duration}`);
});

test('reload in the middle of an upload: choosing the file again resumes it and the published duration matches', async () => {
  const clip = makeClip({ seconds: 4, name: 'upload-big-4s.mp4', extra: ['-b:v', '8M', '-maxrate', '8M', '-bufsize', '8M', '-x264-params', 'nal-hrd=cbr'] });
  const page = await signedInPage(browser, srv, 'rei@example.com');
  // Small chunks and a slow server path, so that the reload lands mid-upload.
  await page.evaluate(() => localStorage.setItem('hubcast.uploadChunkSize', String(256 * 1024)));
  let creations = 0;
  let patches = 0;
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/uploads') creations++;
    if (r.method() === 'PATCH' && r.url().includes('/api/uploads/')) patches++;
  });
  await page.route('**/api/uploads/*', async (route) => {
    if (route.request().method() === 'PATCH') await new Promise((r) => setTimeout(r, 150));
    await route.continue();
  });
  await page.goto(`${srv.url}/upload`);
  await page.setInputFiles('#file-input', clip);
  await page.fill('#upload-title', 'Resumed upload');
  await page.click('#upload-start');
  await page.waitForFunction(() => {
    const v = document.querySelector('#upload-progress').value;
    return v >= 20 && v < 80;
  }, null, { timeout: 30000 });
  const before = patches;
  await page.reload();
  await page.locator('#upload-interrupted').waitFor();
  await page.setInputFiles('#file-input', clip);
  await page.click('#upload-start');
  await page.locator('#upload-status', { hasText: /Resuming/ }).waitFor();
  await page.waitForURL(/\/watch\/\d+$/, { timeout: 60000 });
  assert.equal(creations, 1, 'the upload was resumed, not created again');
  assert.ok(before > 1 && patches > before);
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  const u = await waitReady(page, id);
  assert.equal(u.status, 'ready', `update failed: ${u.error}`);
  assert.ok(Math.abs(u.duration - 4) <= 1, `duration ${u.duration}`);
});
