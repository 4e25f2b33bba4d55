// reset.test.mjs - a forgotten password, as a person lives it: "Forgot your
// password?" on the sign-in page, the reset mail arriving at a real SMTP
// server, its link opened in the browser, a new password chosen, and
// signing in with it (the old one no longer works).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { launch, startServer, addUser, collectErrors } from './lib.mjs';
import { freePort, Client } from '../e2e/lib/server.mjs';

let srv, browser, smtp;
const mails = [];

before(async () => {
  const port = await freePort();
  smtp = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  await new Promise((resolve) => smtp.listen(port, '127.0.0.1', resolve));
  srv = await startServer({ args: ['--smtp-url', `smtp://127.0.0.1:${port}`, '--mail-from', 'hubcast@example.com'] });
  await addUser(srv, 'forgetful@example.com', 'Fran Forgetful');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.cleanup();
  await new Promise((resolve) => smtp.close(resolve));
});

// The reset link from a raw message (quoted-printable soft breaks undone).
function resetLink(raw) {
  const text = raw.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
  const m = text.match(/https?:\/\/[^\s"<>]*\/reset#token=[A-Za-z0-9_-]+/);
  return m ? m[0] : null;
}

test('a forgotten password is reset through the emailed link and the new one signs in', async () => {
  const errors = [];
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  collectErrors(page, errors);
  await page.goto(`${srv.url}/signin`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.waitForURL(/\/reset$/);
  await page.fill('#reset-ask-form input[name=email]', 'forgetful@example.com');
  await page.click('#reset-ask-form button[type=submit]');
  await page.getByText('a link is on its way').waitFor({ timeout: 10000 });

  let link = null;
  for (let i = 0; i < 150 && !link; i++) {
    const m = mails.find((x) => x.to.includes('forgetful@example.com') && resetLink(x.raw));
    if (m) link = resetLink(m.raw);
    else await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(link, `a reset mail arrived (got ${mails.length} mails)`);
  const url = new URL(link);
  await page.goto(`${srv.url}${url.pathname}${url.hash}`);
  await page.fill('#reset-form input[name=password]', 'a brand new password');
  await page.click('#reset-form button[type=submit]');
  await page.waitForURL(/\/signin/);

  assert.equal((await new Client(srv).login('forgetful@example.com', 'a good password')).status, 401);
  await page.fill('#signin-form input[name=email]', 'forgetful@example.com');
  await page.fill('#signin-form input[name=password]', 'a brand new password');
  await page.click('#signin-form button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  assert.deepEqual(errors, []);
  await context.close();
});
