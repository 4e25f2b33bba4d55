// avatar.test.mjs - a picture chosen in Settings, in headless Chromium
// against the real server: "Change picture" sends the file, the preview
// and the header show the picture at once, another member sees it on the
// person page, "Remove picture" brings the initials back; axe-core finds
// no serious or critical violation, in English and in French.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, startServer, addUser, signedInPage, axeViolations, collectErrors } from './lib.mjs';

let srv, browser, dir, png, ada;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-avatar-ui-'));
  png = join(dir, 'me.png');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=400x300', '-frames:v', '1', png]);
  srv = await startServer({ workers: 0 });
  ada = await addUser(srv, 'ada@example.com', 'Ada Lovelace');
  await addUser(srv, 'max@example.com', 'Max Member');
  const zoe = await addUser(srv, 'zoe@example.com', 'Zoé Martin');
  assert.equal((await zoe.req('PATCH', '/api/me', { json: { lang: 'fr' } })).status, 200);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('Settings changes the picture; the header and the person page show it; Remove brings the initials back', async () => {
  const errors = [];
  const page = await signedInPage(browser, srv, 'ada@example.com', { errors });
  await page.goto(`${srv.url}/settings`);
  await page.locator('#avatar-change').waitFor();
  assert.equal(await page.locator('#avatar-remove').isHidden(), true);
  assert.deepEqual(await axeViolations(page), []);
  await page.setInputFiles('#avatar-file', png);
  await page.locator('#avatar-status', { hasText: 'Picture changed.' }).waitFor();
  const src = await page.locator('#avatar-preview img').getAttribute('src');
  assert.match(src, /^\/api\/avatars\//);
  assert.equal(await page.locator('#account img.avatar').getAttribute('src'), src);
  assert.equal(await page.locator('#avatar-preview img').evaluate((i) => i.complete && i.naturalWidth), 256);
  assert.deepEqual(await axeViolations(page), []);
  // After a reload too.
  await page.reload();
  await page.locator('#account img.avatar').waitFor();

  const max = await signedInPage(browser, srv, 'max@example.com');
  await max.goto(`${srv.url}/people/${ada.user.id}`);
  const img = max.locator('.person-head img.avatar');
  await img.waitFor();
  assert.equal(await img.getAttribute('src'), src);
  assert.equal(await img.evaluate((i) => i.complete && i.naturalWidth), 256);
  assert.deepEqual(await axeViolations(max), []);

  await page.goto(`${srv.url}/settings`);
  await page.click('#avatar-remove');
  await page.locator('#avatar-status', { hasText: 'Picture removed.' }).waitFor();
  assert.equal(await page.locator('#avatar-preview img').count(), 0);
  assert.equal(await page.locator('#account img.avatar').count(), 0);
  assert.deepEqual(errors, []);
  await page.context().close();
  await max.context().close();
});

test('in French, the buttons are French and a file that is not a picture says why', async () => {
  const page = await signedInPage(browser, srv, 'zoe@example.com', { locale: 'fr-FR' });
  await page.goto(`${srv.url}/settings`);
  await page.locator('#avatar-change', { hasText: 'Changer de photo' }).waitFor();
  await page.setInputFiles('#avatar-file', { name: 'x.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
  await page.locator('#avatar-status', { hasText: 'image JPEG ou PNG' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.context().close();
});
