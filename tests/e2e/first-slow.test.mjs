// first-slow.test.mjs - a first-playable pass that is slower than real
// time says so: a 4K HEVC recording (made with the ffmpeg program at test
// time, as phones record) is streamed through a deferred-length tus upload, and
// while its first pass waits for the rest of it the update says
// `first_slow: true` (from the source's size, before the pass has worked
// long enough to trust its own pace) with a `playable_eta` measured from
// the pace of the pass so far; once the pass is done both are gone. A
// small VP8 recording never says it. Nothing here depends on how fast the
// machine is: the flag comes from the source's size, and only the presence
// of the estimate is checked, not its value.
//
// Run: node --test tests/e2e/first-slow.test.mjs (HUBCAST_BIN overrides
// the binary; ffmpeg with libx265 or libx264 must be on PATH).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken, sql, BIN } from './lib/server.mjs';
import { makeUhdRecording } from '../browser/lib.mjs';

const fx = {};
let uhdPath;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(() => {
  uhdPath = makeUhdRecording();
  fx.uhd = readFileSync(uhdPath);
  fx.vp8 = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=30:d=2',
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-f', 'webm', '-'],
  { maxBuffer: 1 << 26 });
});

async function api(srv, token, method, path, { body, headers = {} } = {}) {
  const r = await fetch(srv.url + path, {
    method, headers: { authorization: `Bearer ${token}`, ...headers }, body,
  });
  const text = await r.text();
  let data = null;
  try { data = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, data, headers: r.headers, text };
}

// Poll until pred(update) or the time is up; returns every update seen.
async function watch(srv, token, id, pred, ms = 120000) {
  const seen = [];
  for (const end = Date.now() + ms; ;) {
    const r = await api(srv, token, 'GET', `/api/updates/${id}`);
    if (r.status === 200) {
      seen.push(r.data.update);
      if (pred(r.data.update)) return seen;
    }
    assert.ok(Date.now() < end, `timed out; last: ${JSON.stringify(r.data?.update ?? r.status)}\n${srv.output}`);
    await sleep(100);
  }
}

// A deferred-length tus upload driven by hand: create(), send(bytes, last).
function liveUpload(srv, token, title) {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const tus = { 'tus-resumable': '1.0.0' };
  const up = { offset: 0, url: null };
  up.create = async () => {
    const r = await api(srv, token, 'POST', '/api/uploads', { headers: { ...tus,
      'upload-defer-length': '1',
      'upload-metadata': `filename ${b64('phone.mkv')},filetype ${b64('video/x-matroska')},title ${b64(title)}` } });
    assert.equal(r.status, 201, r.text);
    up.url = new URL(r.headers.get('location'), srv.url).pathname;
  };
  up.send = async (bytes, last = false) => {
    const headers = { ...tus, 'content-type': 'application/offset+octet-stream',
      'upload-offset': String(up.offset) };
    if (last) headers['upload-length'] = String(up.offset + bytes.length);
    const r = await api(srv, token, 'PATCH', up.url, { body: bytes, headers });
    assert.equal(r.status, 204, r.text);
    up.offset += bytes.length;
  };
  return up;
}

// The update a live upload made (its author's list shows it uploading).
async function liveUpdate(srv, token, title) {
  for (const end = Date.now() + 20000; ;) {
    const r = await api(srv, token, 'GET', '/api/updates?status=uploading');
    const u = r.data.updates.find((x) => x.title === title);
    if (u) return u;
    assert.ok(Date.now() < end, `no uploading update "${title}" in ${r.text}`);
    await sleep(100);
  }
}

test('a 4K recording says its first pass is slower than real time, with an estimate measured from its pace',
     { timeout: 300000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'ann@example.com', 'Ann');
    const tok = apiToken(srv, 'ann@example.com');
    const up = liveUpload(srv, tok, 'from my phone');
    await up.create();
    // Two thirds of it: the pass reads what is there, then waits for the
    // rest, so it is still running whatever the machine's speed.
    const part = Math.floor(fx.uhd.length * 2 / 3);
    await up.send(fx.uhd.subarray(0, part));
    const u0 = await liveUpdate(srv, tok, 'from my phone');
    assert.equal(typeof u0.first_slow, 'boolean');
    assert.ok('playable_eta' in u0, JSON.stringify(u0));
    const seen = await watch(srv, tok, u0.id, (u) => u.first_slow === true && u.playable_eta !== null);
    const slow = seen.at(-1);
    console.log(`# first_slow with playable_eta ${slow.playable_eta} s (status ${slow.status})`);
    assert.ok(Number.isInteger(slow.playable_eta) && slow.playable_eta >= 0, JSON.stringify(slow));
    assert.equal(slow.status, 'uploading');
    // Flagged before the pass measured anything (its size said so).
    assert.match(srv.output, /first lane: job \d+: slower than real time \(expected from its size and rate\)/);
    assert.equal(sql(srv.dir, `SELECT slow FROM jobs WHERE update_id = ${u0.id} AND kind = 'first'`), '1');
    // Never an estimate without the flag.
    for (const u of seen) assert.ok(u.first_slow || u.playable_eta === null, JSON.stringify(u));

    await up.send(fx.uhd.subarray(part), true);
    // Once the first pass is done (the rendition complete) nothing is slow.
    for (const end = Date.now() + 180000; ;) {
      const state = sql(srv.dir, `SELECT state FROM jobs WHERE update_id = ${u0.id} AND kind = 'first'`);
      if (state === 'done') break;
      assert.notEqual(state, 'failed', srv.output);
      assert.ok(Date.now() < end, `first job ${state}\n${srv.output}`);
      await sleep(200);
    }
    const after = (await watch(srv, tok, u0.id, (u) => u.playable)).at(-1);
    assert.equal(after.first_slow, false, JSON.stringify(after));
    assert.equal(after.playable_eta, null);
    const ready = (await watch(srv, tok, u0.id, (u) => u.status === 'ready' || u.status === 'failed', 240000)).at(-1);
    assert.equal(ready.status, 'ready', ready.error);
    assert.equal(ready.first_slow, false);
    assert.equal(ready.playable_eta, null);
  } finally {
    await srv.cleanup();
  }
});

test('`hubcast transcode --first-playable --json` says a 4K source is expected to be slow before it decodes anything',
     { timeout: 180000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'hubcast-first-slow-'));
  try {
    const stdout = execFileSync(BIN, ['transcode', uhdPath, out, '--first-playable', '--json', '--threads', '1'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    assert.deepEqual(events[0], { event: 'slow', slow: true, pace: 0 }, stdout);
    assert.equal(events.at(-1).event, 'done', stdout);
    assert.equal(events.at(-1).mode, 'progressive');
    assert.ok(events.findIndex((e) => e.event === 'segment') > 0, 'the verdict comes before any segment');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a small VP8 recording never says its first pass is slow', { timeout: 180000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'ann@example.com', 'Ann');
    const tok = apiToken(srv, 'ann@example.com');
    const r = await api(srv, tok, 'POST', `/api/updates?title=small`,
      { body: fx.vp8, headers: { 'content-type': 'video/webm' } });
    assert.equal(r.status, 201, r.text);
    const seen = await watch(srv, tok, r.data.update.id, (u) => u.status === 'ready' || u.status === 'failed');
    assert.equal(seen.at(-1).status, 'ready', seen.at(-1).error);
    assert.ok(seen.some((u) => u.playable && u.status !== 'ready'), 'playable before ready');
    for (const u of seen) {
      assert.equal(u.first_slow, false, JSON.stringify(u));
      assert.equal(u.playable_eta, null);
    }
    assert.doesNotMatch(srv.output, /slower than real time/);
  } finally {
    await srv.cleanup();
  }
});
