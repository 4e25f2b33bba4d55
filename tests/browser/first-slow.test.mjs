// first-slow.test.mjs - the author of a 4K recording is told, on the page
// the upload and record pages lead to (/watch/{id}), that its first
// rendition takes longer than the video's own length to prepare, and once
// the pass has measured its pace when it plays without pauses: a status
// message (role=status, aria-live) beside the processing progress, in
// English and in French. The recording (made with the ffmpeg program)
// arrives through a deferred-length tus upload that stops at two thirds,
// so its first pass is still running whatever the machine's speed; the
// message is there because of the source's size, and only the presence of
// an estimate is checked, not its value.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, startServer, addUser, signedInPage, makeUhdRecording, axeViolations } from './lib.mjs';
import { apiToken } from '../e2e/lib/server.mjs';

let srv, browser, uhd;
const errors = [];

before(async () => {
  uhd = readFileSync(makeUhdRecording());
  srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

// A deferred-length tus upload of bytes, as a phone's app would stream it.
async function startUpload(token, title, bytes) {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const tus = { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' };
  let r = await fetch(`${srv.url}/api/uploads`, { method: 'POST', headers: { ...tus,
    'upload-defer-length': '1',
    'upload-metadata': `filename ${b64('phone.mkv')},filetype ${b64('video/x-matroska')},title ${b64(title)}` } });
  assert.equal(r.status, 201, await r.text());
  const url = new URL(r.headers.get('location'), srv.url).href;
  r = await fetch(url, { method: 'PATCH', body: bytes, headers: { ...tus,
    'content-type': 'application/offset+octet-stream', 'upload-offset': '0' } });
  assert.equal(r.status, 204, await r.text());
  return url;
}

test('the author of a 4K recording is told it takes longer than its length to prepare, and when it plays without pauses',
     { timeout: 300000 }, async () => {
  const ann = await addUser(srv, 'ann@example.com', 'Ann Author');
  const token = apiToken(srv, 'ann@example.com');
  await startUpload(token, 'Site visit in 4K', uhd.subarray(0, Math.floor(uhd.length * 2 / 3)));
  const list = await (await fetch(`${srv.url}/api/updates?status=uploading`,
    { headers: { authorization: `Bearer ${token}` } })).json();
  const u = list.updates.find((x) => x.title === 'Site visit in 4K');
  assert.ok(u, JSON.stringify(list));

  const page = await signedInPage(browser, srv, 'ann@example.com', { errors });
  await page.goto(`${srv.url}/watch/${u.id}`);
  const note = page.locator('#first-slow');
  await note.waitFor({ state: 'visible', timeout: 120000 });
  assert.equal(await note.getAttribute('role'), 'status');
  assert.equal(await note.getAttribute('aria-live'), 'polite');
  assert.match(await note.textContent(), /takes longer than its own length to prepare/);
  // The estimate, once the pass has measured its pace.
  await page.waitForFunction(() => /plays without pauses in (less than a minute|about \d+ min)/
    .test(document.querySelector('#first-slow')?.textContent ?? ''), null, { timeout: 120000 });
  console.log(`# ${await note.textContent()}`);
  assert.deepEqual(await axeViolations(page), []);

  // The same in French.
  assert.equal((await ann.req('PATCH', '/api/me', { json: { lang: 'fr' } })).status, 200);
  const fr = await signedInPage(browser, srv, 'ann@example.com', { locale: 'fr-FR', errors });
  await fr.goto(`${srv.url}/watch/${u.id}`);
  await fr.waitForFunction(() => /plus de temps que sa propre durée.*lecture sans pause dans (moins d'une minute|environ \d+ min)/
    .test(document.querySelector('#first-slow')?.textContent ?? ''), null, { timeout: 120000 });
  console.log(`# ${await fr.locator('#first-slow').textContent()}`);
  await fr.context().close();
  await page.context().close();
  assert.deepEqual(errors, []);
});
