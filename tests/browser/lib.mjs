// lib.mjs - helpers for the browser tests: the real server (through the e2e
// helpers), headless Debian Chromium through playwright-core with the fake
// camera and microphone, signed-in pages, console-error collection, and
// generated media fixtures (ffmpeg lavfi).
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startServer, addUser, hubcast } from '../e2e/lib/server.mjs';

export { startServer, addUser, hubcast };

export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
export const PASSWORD = 'a good password';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required'],
  });
}

// A new browser context signed in as email (through the real sign-in page).
export async function signedInPage(browser, srv, email, { locale = 'en-US', errors, viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ locale, viewport });
  await context.grantPermissions(['camera', 'microphone'], { origin: srv.url });
  const page = await context.newPage();
  if (errors) collectErrors(page, errors);
  await page.goto(`${srv.url}/signin`);
  await page.fill('#signin-form input[name=email]', email);
  await page.fill('#signin-form input[name=password]', PASSWORD);
  await page.click('#signin-form button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  return page;
}

// Console errors and uncaught exceptions, as strings, into `out`.
export function collectErrors(page, out) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location() && m.location().url ? ` [${m.location().url}]` : '';
    out.push(`${page.url()}: console: ${m.text()}${where}`);
  });
  page.on('pageerror', (e) => out.push(`${page.url()}: pageerror: ${e.message}`));
}

// Make a short H.264/AAC test clip; returns its path.
export function makeClip({ seconds = 3, width = 640, height = 360, name = 'clip.mp4', extra = [] } = {}) {
  const dir = join(tmpdir(), 'hubcast-browser-fixtures');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, name);
  if (existsSync(out)) return out;
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast', ...extra, '-c:a', 'aac', '-shortest', '-movflags', '+faststart', out]);
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return out;
}

// A 4K (3840x2160, 15 fps) recording as a phone makes one: HEVC when this
// ffmpeg has libx265 (else H.264, which above 1080p is encoded by the
// first pass too, not copied), Opus audio, in Matroska with its duration
// and cues in front. Its first-playable pass is expected to be slower than
// real time (its size says so). Made once; returns its path.
export function makeUhdRecording({ seconds = 3 } = {}) {
  const dir = join(tmpdir(), 'hubcast-browser-fixtures');
  mkdirSync(dir, { recursive: true });
  const encoders = spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' }).stdout ?? '';
  const hevc = /libx265/.test(encoders);
  const out = join(dir, `uhd-${hevc ? 'hevc' : 'h264'}-${seconds}s.mkv`);
  if (existsSync(out)) return out;
  const video = hevc ? ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error']
    : ['-c:v', 'libx264', '-preset', 'ultrafast'];
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=3840x2160:rate=15:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    ...video, '-pix_fmt', 'yuv420p', '-g', '15', '-c:a', 'libopus',
    '-f', 'matroska', '-cues_to_front', '1', `${out}.tmp`]);
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  renameSync(`${out}.tmp`, out);
  return out;
}

// Fetch JSON from the API inside the page (with its session cookie).
export function pageApi(page, path) {
  return page.evaluate(async (p) => {
    const r = await fetch(p, { headers: { Accept: 'application/json' } });
    return { status: r.status, data: await r.json().catch(() => null) };
  }, path);
}

// Poll GET /api/updates/{id} until ready (or failed); returns the update.
export async function waitReady(page, id, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await pageApi(page, `/api/updates/${id}`);
    const u = r.data && (r.data.update || r.data);
    if (u && (u.status === 'ready' || u.status === 'failed')) return u;
    if (Date.now() > deadline) throw new Error(`update ${id} not ready: ${JSON.stringify(r.data)}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

export function artifactsDir() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}

// Wait (from Node, with a signed-in Client) until an update is ready.
export async function clientWaitReady(client, id, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await client.req('GET', `/api/updates/${id}`);
    const u = r.data && r.data.update;
    if (u && (u.status === 'ready' || u.status === 'failed')) return u;
    if (Date.now() > deadline) throw new Error(`update ${id} not ready: ${r.text}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

// Post a generated clip as `client` with the one-request API and wait until
// it is ready; returns the update.
export async function postClip(client, { title, kind = 'weekly', seconds = 3 } = {}) {
  const q = new URLSearchParams({ title, kind });
  const r = await client.req('POST', `/api/updates?${q}`, {
    body: readFileSync(makeClip({ seconds, name: `clip-${seconds}s.mp4` })), headers: { 'content-type': 'video/mp4' },
  });
  if (r.status !== 201) throw new Error(`upload failed: ${r.status} ${r.text}`);
  const u = await clientWaitReady(client, r.data.update.id);
  if (u.status !== 'ready') throw new Error(`update failed: ${u.error}`);
  return u;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Run axe-core on the page as it is now. Returns the violations of impact
// serious or critical, each as "rule: target (summary)". Rules tagged
// experimental (label-content-name-mismatch) are switched on as well.
export async function axeViolations(page, { only } = {}) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async (opts) => window.axe.run(document, opts), only
    ? { runOnly: { type: 'rule', values: only } }
    : { rules: { 'label-content-name-mismatch': { enabled: true } } });
  const out = [];
  for (const v of result.violations) {
    if (v.impact !== 'serious' && v.impact !== 'critical') continue;
    for (const n of v.nodes) out.push(`${v.id}: ${n.target.join(' ')} (${n.failureSummary.replace(/\s+/g, ' ').slice(0, 200)})`);
  }
  return out;
}

// Is the page wider than the window (sideways scrolling)?
export function sideways(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    over: document.documentElement.scrollWidth > window.innerWidth,
  }));
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };
