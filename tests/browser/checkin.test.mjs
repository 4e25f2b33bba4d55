// checkin.test.mjs - the ritual around the video, in the browser against the
// real server: the check-in prompts beside the preview while recording and
// the answers published with the update (watch page, week card); the kind
// chosen at Publish set without sending the recording twice; downloads and
// changing the kind on the watch page; @mention autocomplete in a comment
// (keyboard only) making a link and a kudo on the person's page; search from
// the header box opening the watch page at the comment's time; the admin's
// prompts editor. Every new state: no serious or critical axe-core
// violation, nothing wider than a phone at 390x844.
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

test('the check-in prompts are beside the preview while recording; the answers typed are published and shown on the watch page and the week card', async () => {
  const errors = [];
  const page = await signedInPage(browser, srv, 'mia@example.com', { errors });
  await recordFor(page, 2);
  // While recording: the preview and the prompts side by side.
  const prompts = page.locator('#checkin-prompts label');
  assert.deepEqual(await prompts.allTextContents(), ['What I did', 'What I learned', 'Where I\'m going']);
  assert.equal(await page.locator('#checkin').isVisible(), true);
  assert.equal(await page.locator('#record-stop').isVisible(), true, 'still recording');
  const stage = await page.locator('.rec-stage').boundingBox();
  const aside = await page.locator('#checkin').boundingBox();
  assert.ok(aside.x >= stage.x + stage.width - 1, `the prompts sit beside the preview (${JSON.stringify({ stage, aside })})`);
  await page.getByLabel('What I did').fill('Shipped the new onboarding flow');
  await page.getByLabel('Where I\'m going').fill('Accessibility review next week');
  await page.fill('#record-title', 'Onboarding week');
  const id = await publishAndOpen(page);

  await page.locator('#answers').waitFor({ timeout: 60000 });
  assert.deepEqual(await page.locator('#answers dt').allTextContents(), ['What I did', 'Where I\'m going']);
  assert.deepEqual(await page.locator('#answers dd').allTextContents(),
    ['Shipped the new onboarding flow', 'Accessibility review next week']);
  // Under the title, before the video.
  const order = await page.evaluate(() => {
    const a = document.querySelector('#answers').getBoundingClientRect().top;
    return { title: document.querySelector('#watch-title').getBoundingClientRect().top < a,
      video: !document.querySelector('#video') || document.querySelector('#video').getBoundingClientRect().top > a };
  });
  assert.deepEqual(order, { title: true, video: true });
  const u = await waitReady(page, id);
  assert.equal(u.title, 'Onboarding week');
  assert.deepEqual(u.answers, [{ prompt: 'What I did', text: 'Shipped the new onboarding flow' },
    { prompt: 'Where I\'m going', text: 'Accessibility review next week' }]);

  // Another member skims it on the week's card.
  const other = await signedInPage(browser, srv, 'ada@example.com', { errors });
  await other.goto(`${srv.url}/`);
  const card = other.locator(`[data-update-id="${id}"] .card-answer`);
  await card.waitFor();
  assert.match(await card.innerText(), /What I did\s*Shipped the new onboarding flow/);
  assert.deepEqual(errors, []);
});

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

test('on the watch page the author and admins get downloads; an admin changes the kind; others see neither', async () => {
  // The author (a member): downloads, no kind to choose for a weekly update.
  const author = await signedInPage(browser, srv, 'mia@example.com');
  await author.goto(`${srv.url}/watch/${clip.id}`);
  await author.locator('#download-original').waitFor();
  assert.equal(await author.locator('#download-mp4').getAttribute('href'), `/api/updates/${clip.id}/download.mp4`);
  const res = await author.context().request.get(`${srv.url}/api/updates/${clip.id}/original`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-disposition'] || '', /^attachment/);
  await author.click('details.manage summary');
  assert.equal(await author.locator('#edit-kind').count(), 0);

  // Someone else: neither.
  const other = await signedInPage(browser, srv, 'max@example.com');
  await other.goto(`${srv.url}/watch/${clip.id}`);
  await other.locator('#comments').waitFor();
  assert.equal(await other.locator('#download-original, #download-mp4, details.manage').count(), 0);

  // An admin makes it all-hands, then weekly again.
  const admin = await signedInPage(browser, srv, 'ada@example.com');
  await admin.goto(`${srv.url}/watch/${clip.id}`);
  await admin.click('details.manage summary');
  assert.equal(await admin.locator('#kind-badge').isVisible(), false);
  await admin.selectOption('#edit-kind', 'allhands');
  await admin.click('#edit-form button[type=submit]');
  await admin.locator('#kind-badge').waitFor({ state: 'visible' });
  assert.equal((await mia.req('GET', `/api/updates/${clip.id}`)).data.update.kind, 'allhands');
  await admin.selectOption('#edit-kind', 'weekly');
  await admin.click('#edit-form button[type=submit]');
  await admin.locator('#kind-badge').waitFor({ state: 'hidden' });
  assert.equal((await mia.req('GET', `/api/updates/${clip.id}`)).data.update.kind, 'weekly');
});

test('an @mention typed with the autocomplete (keyboard only) in a comment becomes a link and a kudo on the person\'s page', async () => {
  const errors = [];
  const page = await signedInPage(browser, srv, 'max@example.com', { errors });
  await page.goto(`${srv.url}/watch/${clip.id}`);
  const box = page.locator('#comment-body');
  await box.waitFor();
  await box.click();
  await page.keyboard.type('Thanks @mi');
  const list = page.locator('[role=listbox]');
  await list.waitFor({ state: 'visible' });
  assert.equal(await box.getAttribute('aria-controls'), await list.getAttribute('id'));
  const active = await box.getAttribute('aria-activedescendant');
  assert.match(await page.locator(`#${active}`).innerText(), /Mia Member/);
  assert.equal(await page.locator(`#${active}`).getAttribute('aria-selected'), 'true');
  assert.deepEqual(await axeViolations(page), [], 'the open list');
  await page.keyboard.press('Enter');
  await list.waitFor({ state: 'hidden' });
  await page.keyboard.type('for the mockups');
  assert.equal(await box.inputValue(), 'Thanks @Mia for the mockups');
  await page.keyboard.press('Escape');
  await page.click('#comment-form button[type=submit]');
  const link = page.locator('#comments .comment a.mention');
  await link.waitFor();
  assert.equal(await link.innerText(), '@Mia');
  assert.equal(await link.getAttribute('href'), `/people/${mia.user.id}`);

  await link.click();
  await page.waitForURL(`${srv.url}/people/${mia.user.id}`);
  const kudo = page.locator('#kudos .kudo').first();
  await kudo.waitFor();
  assert.match(await kudo.innerText(), /Max Other/);
  assert.match(await kudo.innerText(), /Thanks @Mia for the mockups/);
  assert.match(await kudo.locator('a[href^="/watch/"]').first().getAttribute('href'), new RegExp(`^/watch/${clip.id}#comment-\\d+$`));
  assert.deepEqual(errors, []);
});

test('search from the header finds a word of a comment and opens the watch page at the comment\'s time', async () => {
  const r = await ada.req('POST', `/api/updates/${clip.id}/comments`,
    { json: { body: 'The <b>zeppelin</b> & the blimp at this point', at_seconds: 3.5 } });
  assert.equal(r.status, 201, r.text);
  const page = await signedInPage(browser, srv, 'max@example.com');
  await page.goto(`${srv.url}/`);
  const search = page.getByRole('search');
  await search.getByLabel('Search updates and comments').fill('zeppelin');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/search\?q=zeppelin$/);
  const result = page.locator('#search-results .result').first();
  await result.waitFor();
  // The words found are marked; the server's text stays text.
  assert.deepEqual(await result.locator('.result-snippet mark').allTextContents(), ['zeppelin']);
  assert.match(await result.locator('.result-snippet').innerText(), /<b>zeppelin<\/b> & the blimp/);
  assert.equal(await result.locator('.result-snippet b').count(), 0);
  assert.match(await result.innerText(), /comment at 0:04|comment at 0:03/);
  await result.locator('a.result-link').click();
  await page.waitForURL(new RegExp(`/watch/${clip.id}\\?t=3\\.5`));
  await page.waitForFunction(() => {
    const v = document.querySelector('#video');
    return v && v.readyState >= 1 && Math.abs(v.currentTime - 3.5) < 0.6;
  }, null, { timeout: 20000 });
});

test('the admin sets the check-in prompts; the record page shows them', async () => {
  const admin = await signedInPage(browser, srv, 'ada@example.com');
  await admin.goto(`${srv.url}/admin`);
  const box = admin.getByRole('textbox', { name: 'Prompts' });
  await box.waitFor();
  await admin.waitForFunction(() => document.querySelector('#prompts-text').value.includes('What I did'));
  await box.fill('What I shipped\nWhat blocks me\n');
  await admin.click('#prompts-form button[type=submit]');
  await admin.locator('#prompts-form .form-status', { hasText: 'Saved.' }).waitFor();
  assert.deepEqual((await mia.req('GET', '/api/prompts')).data.prompts, ['What I shipped', 'What blocks me']);

  const page = await signedInPage(browser, srv, 'mia@example.com');
  await page.goto(`${srv.url}/record`);
  await page.locator('#checkin-prompts label').first().waitFor();
  assert.deepEqual(await page.locator('#checkin-prompts label').allTextContents(), ['What I shipped', 'What blocks me']);
});

// The states this file adds, for axe-core and the phone width.
function states() {
  return [
    { name: 'record-prompts-camera-on', who: 'mia', path: '/record', ready: '#checkin-prompts label',
      then: async (p) => { await p.click('#record-enable'); await p.locator('#record-start').waitFor({ state: 'visible' }); } },
    { name: 'watch-answers-author', who: 'mia', path: '/watch/ANSWERED', ready: '#answers',
      then: async (p) => { await p.click('details.manage summary'); await p.locator('#edit-answers textarea').first().waitFor(); } },
    { name: 'watch-admin', who: 'ada', path: `/watch/${clip.id}`, ready: '#download-mp4',
      then: async (p) => { await p.click('details.manage summary'); } },
    { name: 'watch-mention-list', who: 'ada', path: `/watch/${clip.id}`, ready: '#comment-body',
      then: async (p) => { await p.click('#comment-body'); await p.keyboard.type('@ma'); await p.locator('#comment-form [role=listbox]').waitFor({ state: 'visible' }); } },
    { name: 'person-kudos', who: 'ada', path: `/people/${mia.user.id}`, ready: '#kudos .kudo' },
    { name: 'search-results', who: 'mia', path: '/search?q=zeppelin', ready: '#search-results .result' },
    { name: 'search-nothing', who: 'mia', path: '/search?q=nothinglikethis', ready: '#search-status:not(:empty)' },
    { name: 'admin-prompts', who: 'ada', path: '/admin', ready: '#prompts-text' },
  ];
}

for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
  test(`new states at ${size} size: no serious or critical axe-core violation${size === 'phone' ? ', nothing scrolls sideways' : ''}`, async () => {
    const answered = (await mia.req('GET', `/api/updates?author=${mia.user.id}`)).data.updates.find((u) => u.answers.length);
    assert.ok(answered, 'an update with answers (from the first test)');
    const errors = [];
    const pages = {
      mia: await signedInPage(browser, srv, 'mia@example.com', { viewport, errors }),
      ada: await signedInPage(browser, srv, 'ada@example.com', { viewport, errors }),
    };
    const found = [];
    const wide = [];
    for (const s of states()) {
      const page = pages[s.who];
      await page.goto(`${srv.url}${s.path.replace('ANSWERED', answered.id)}`);
      await page.locator(s.ready).first().waitFor({ timeout: 20000 });
      await page.waitForLoadState('networkidle');
      if (s.then) await s.then(page);
      for (const v of await axeViolations(page)) found.push(`${s.name}: ${v}`);
      if (size === 'phone') {
        const r = await sideways(page);
        if (r.over) wide.push(`${s.name}: scrollWidth ${r.scrollWidth} > ${r.innerWidth}`);
        await page.screenshot({ path: `${artifactsDir()}phone-${s.name}.png`, fullPage: true });
      }
    }
    assert.deepEqual(found, []);
    assert.deepEqual(wide, []);
    assert.deepEqual(errors, []);
  });
}
