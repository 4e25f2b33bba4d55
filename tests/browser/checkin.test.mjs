// checkin.test.mjs - the ritual around the video, in the browser against the
// real server: the kind chosen at Publish set without sending the recording
// twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, startServer, addUser, signedInPage, postClip, waitReady, axeViolations, sideways, artifactsDir, PHONE, DESKTOP,
} from './lib.mjs';

let srv;
let browser;
let ada;
let mia;
let clip;

before(async () => {
  srv = await startServer({ workers: 1 });
  ada = await addUser(srv, 'ada@example.com', 'Ada Admin', 'admin');
  mia = await addUser(srv, 'mia@example.com', 'Mia Member');
  await addUser(srv, 'max@example.com', 'Max Other');
  browser = await launch();
  clip = await postClip(mia, { title: 'Mia\'s mockups', seconds: 6 });
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
});

// Enable the fake camera, start recording and wait `sec` seconds of it.
async function recordFor(page, sec) {
  await page.goto(`${srv.url}/record`);
  await page.click('#record-enable');
  await page.locator('#record-start').waitFor({ state: 'visible' });
  await page.click('#record-start');
  await page.locator('#record-stop').waitFor({ state: 'visible', timeout: 10000 });
  await page.waitForFunction((s) => {
    const [m, ss] = document.querySelector('#record-timer').textContent.split(':').map(Number);
    return m * 60 + ss >= s;
  }, sec, { timeout: (sec + 10) * 1000 });
}

async function publishAndOpen(page) {
  await page.click('#record-stop');
  await page.locator('#record-publish').waitFor({ state: 'visible' });
  await page.click('#record-publish');
  await page.waitForURL(/\/watch\/\d+/, { timeout: 30000 });
  return Number(new URL(page.url()).pathname.split('/').pop());
}

test('choosing All-hands after recording has started publishes an all-hands with one upload of the recording', async () => {
  const page = await signedInPage(browser, srv, 'ada@example.com');
  const creations = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/uploads') creations.push(r.url());
  });
  await recordFor(page, 3);
  await page.selectOption('#record-kind', 'allhands');
  await page.fill('#record-title', 'Quarter plan');
  const id = await publishAndOpen(page);
  const u = await waitReady(page, id);
  assert.equal(u.kind, 'allhands');
  assert.equal(u.title, 'Quarter plan');
  assert.equal(creations.length, 1, 'the recording is uploaded once');
  const mine = await ada.req('GET', `/api/updates?author=${ada.user.id}`);
  assert.equal(mine.data.total, 1, JSON.stringify(mine.data.updates.map((x) => [x.id, x.kind, x.status])));
});

