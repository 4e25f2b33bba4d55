// instant.test.mjs - "watchable the moment the recording stops" as a member
// observes it through the API, with the real binary and the real tus
// client: recordings streamed through a deferred-length tus upload at
// real-time pace (a PATCH about every second, as the recorder sends) are
// playable before their upload ends and can be watched to the end within
// 2 s after it; a Friday burst of eight 60 s H.264 uploads posted at once
// is each playable within 5 s of its upload's end; an abandoned live upload
// ends failed and publishes nothing.
//
// "Playable" is the issue's definition: GET /api/updates/{id} says
// playable: true and its playback_url answers a playlist that lists at
// least one segment (a master playlist is followed to its first variant).
// Every measured time is logged (# lines in the TAP output).
//
// Run: HUBCAST_BIN=src/hubcast node --test tests/e2e/instant.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tus from 'tus-js-client';
import { startServer, addUser, apiToken } from './lib/server.mjs';
import { api as request } from './lib/api.mjs';
import { PacedSource } from './lib/paced.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => (ms / 1000).toFixed(2);
const RECORDING = 24;   // seconds, the streamed recordings
const BURST = 8;        // uploads posted at once
const BURST_SECONDS = 60;

let dir, srv;
const fx = {};

// ffmpeg writing to a pipe, as a browser's recorder does: no duration, no
// cues, keyframes every 2 s (30 fps, -g 60).
function recording(out, { seconds, codec }) {
  const src = ['-f', 'lavfi', '-i', `testsrc2=s=1280x720:r=30:d=${seconds}`,
    '-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${seconds}`];
  const video = codec === 'vp8'
    ? ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1500k', '-g', '60', '-keyint_min', '60', '-f', 'webm']
    : ['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '60', '-keyint_min', '60',
      '-sc_threshold', '0', '-b:v', '1500k', '-maxrate', '2000k', '-bufsize', '4000k', '-f', 'matroska'];
  const data = execFileSync('ffmpeg', ['-v', 'error', ...src, ...video.slice(0, -2), '-c:a', 'libopus', '-b:a', '96k',
    ...video.slice(-2), '-live', '1', '-'], { maxBuffer: 1 << 28 });
  writeFileSync(out, data);
  return out;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-instant-e2e-'));
  fx.vp8 = recording(join(dir, 'rec-vp8.webm'), { seconds: RECORDING, codec: 'vp8' });
  fx.h264 = recording(join(dir, 'rec-h264.mkv'), { seconds: RECORDING, codec: 'h264' });
  fx.burst = recording(join(dir, 'burst-h264.mkv'), { seconds: BURST_SECONDS, codec: 'h264' });
  srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
});

after(async () => {
  if (srv) await srv.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const api = (s, token, method, path) => request(s, method, path, token);

// Start a tus upload of `source` (a PacedSource, deferred length, as the
// recorder sends) or of a Buffer (a finished file). Returns
// { up, url(), ended } where `ended` resolves to Date.now() when the
// server has confirmed the last byte.
function upload(s, token, source, metadata) {
  let resolve, reject;
  const ended = new Promise((a, b) => { resolve = a; reject = b; });
  const live = source instanceof PacedSource;
  const up = new tus.Upload(source, {
    endpoint: `${s.url}/api/uploads`,
    headers: { authorization: `Bearer ${token}` },
    metadata: { kind: 'weekly', ...metadata },
    uploadLengthDeferred: live,
    chunkSize: live ? 64 * 1024 * 1024 : Infinity,
    retryDelays: null,
    ...(live ? { fileReader: { openFile: async () => source } } : {}),
    onError: reject,
    onSuccess: () => resolve(Date.now()),
  });
  if (live) source.start();
  up.start();
  return { up, url: () => up.url, ended };
}

// The playlist at `url` as a player reads it: a master playlist is
// followed to its first variant. { ok, segments, seconds, ended, text }.
async function playlist(s, token, url) {
  const get = async (u) => {
    const r = await fetch(new URL(u, s.url), { headers: { authorization: `Bearer ${token}` } });
    return { status: r.status, text: r.ok ? await r.text() : '', url: r.url };
  };
  let r = await get(url);
  if (r.status !== 200 || !r.text.startsWith('#EXTM3U')) return { ok: false, segments: 0, seconds: 0, ended: false, text: r.text };
  if (r.text.includes('#EXT-X-STREAM-INF')) {
    const lines = r.text.split('\n').map((l) => l.trim());
    const variant = lines[lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF')) + 1];
    r = await get(new URL(variant, new URL(url, s.url)).href);
  }
  const durations = [...r.text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
  return {
    ok: r.status === 200 && durations.length > 0,
    segments: durations.length,
    seconds: durations.reduce((a, b) => a + b, 0),
    ended: r.text.includes('#EXT-X-ENDLIST'),
    text: r.text,
  };
}

// The update an upload makes, once the server names it (null until then):
// GET /api/uploads/{id} names it once the upload has ended; while a live
// recording still uploads, its author finds it among their uploading
// updates (by its title, unique in these tests).
async function updateOf(s, token, uploadUrl, title) {
  if (!uploadUrl) return null;
  const r = await api(s, token, 'GET', `/api/uploads/${uploadUrl.split('/').pop()}`);
  if (r.data && r.data.update) return r.data.update.id;
  if (!title) return null;
  const l = await api(s, token, 'GET', '/api/updates?status=uploading');
  const u = l.data && l.data.updates && l.data.updates.find((x) => x.title === title);
  return u ? u.id : null;
}

// Is update `id` playable for `token` now? { playable, update, list }.
async function playableNow(s, token, id) {
  const r = await api(s, token, 'GET', `/api/updates/${id}`);
  const u = r.data && r.data.update;
  if (!u || u.playable !== true || !u.playback_url) return { playable: false, update: u, status: r.status };
  const list = await playlist(s, token, u.playback_url);
  return { playable: list.ok, update: u, list };
}

// Watch an upload (its url() known once created) every 200 ms until
// stop(): when it was first playable, and when its playlist first
// covered the whole recording and was complete (ENDLIST).
function watch(s, token, up, seconds, title) {
  const seen = { id: null, playable: null, whole: null, last: null, polls: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      seen.polls++;
      try {
        if (!seen.id) seen.id = await updateOf(s, token, up.url(), title);
        if (seen.id) {
          const p = await playableNow(s, token, seen.id);
          seen.last = { status: p.update && p.update.status, playable: p.update && p.update.playable, list: p.list && { segments: p.list.segments, seconds: p.list.seconds, ended: p.list.ended } };
          const now = Date.now();
          if (p.playable && !seen.playable) seen.playable = now;
          if (p.playable && !seen.whole && p.list.ended && p.list.seconds >= seconds - 1) seen.whole = now;
          if (seen.whole) break;
        }
      } catch { /* the next poll tells */ }
      await sleep(200);
    }
  })();
  return { seen, stop: async () => { running = false; await loop; } };
}

for (const [name, file] of [['a VP8 WebM', 'vp8'], ['an H.264 Matroska file', 'h264']]) {
  test(`${name} streamed through a deferred-length tus upload at real-time pace is playable before the upload ends, and watchable to its end within 2 s after it`, async (t) => {
    const member = await addUser(srv, `rec-${file}@example.com`, `Rec ${file}`);
    const token = apiToken(srv, member.user.email);
    await addUser(srv, `sees-${file}@example.com`, `Sees ${file}`);
    const otherToken = apiToken(srv, `sees-${file}@example.com`);
    const data = readFileSync(fx[file]);
    const source = new PacedSource(data, RECORDING, 1000);
    const t0 = Date.now();
    const title = `Streamed ${file}`;
    const up = upload(srv, token, source, { filename: `rec.${file === 'vp8' ? 'webm' : 'mkv'}`, filetype: file === 'vp8' ? 'video/webm' : 'video/x-matroska', title });
    const w = watch(srv, token, up, RECORDING, title);
    const end = await up.ended;
    // Its upload has ended: it is published, another member sees it now.
    const id = await updateOf(srv, token, up.url(), title);
    const seenByOther = await api(srv, otherToken, 'GET', `/api/updates/${id}`);
    // Give the server 2 s, and generous slack to say how late it was.
    const deadline = end + 30000;
    while (!w.seen.whole && Date.now() < deadline) await sleep(100);
    await w.stop();
    const { seen } = w;
    const log = `${file}: upload ${secs(end - t0)} s for ${RECORDING} s of media (${data.length} bytes); ` +
      `playable ${seen.playable ? `${secs(seen.playable - t0)} s after the upload began, ${seen.playable < end ? `${secs(end - seen.playable)} s before` : `${secs(seen.playable - end)} s after`} its end` : 'never'}; ` +
      `whole recording listed ${seen.whole ? `${secs(seen.whole - end)} s after the end` : 'never'}; last seen ${JSON.stringify(seen.last)}`;
    t.diagnostic(log);
    assert.ok(seen.id, `the author never saw the update made by the upload (${log})`);
    assert.equal(seenByOther.status, 200, `another member asking for update ${id} as its upload ended: ${seenByOther.status} ${seenByOther.text}`);
    assert.ok(seen.playable, `never playable (${log})`);
    assert.ok(seen.playable < end, `not playable before the upload ended (${log})`);
    assert.ok(seen.whole, `the playlist never listed the whole recording with its end (${log})`);
    assert.ok(seen.whole - end <= 2000, `the whole recording was listed ${secs(seen.whole - end)} s after the upload's end, more than 2 s (${log})`);
  });
}

test(`eight ${BURST_SECONDS} s H.264 Matroska uploads posted at once are each playable within 5 s of their upload's end`, async (t) => {
  const data = readFileSync(fx.burst);
  const people = [];
  for (let i = 0; i < BURST; i++) {
    const c = await addUser(srv, `friday${i}@example.com`, `Friday ${i}`);
    people.push(apiToken(srv, c.user.email));
  }
  const t0 = Date.now();
  const results = await Promise.all(people.map(async (token, i) => {
    const up = upload(srv, token, data, { filename: `friday${i}.mkv`, filetype: 'video/x-matroska', title: `Friday ${i}` });
    const end = await up.ended;
    const id = await updateOf(srv, token, up.url());
    let playable = null;
    let last = null;
    while (id && Date.now() < end + 120000) {
      const p = await playableNow(srv, token, id);
      last = p.update && { status: p.update.status, playable: p.update.playable };
      if (p.playable) { playable = Date.now(); break; }
      await sleep(200);
    }
    return { i, id, end, playable, wait: playable ? (playable - end) / 1000 : Infinity, last };
  }));
  const waits = results.map((r) => r.wait).sort((a, b) => a - b);
  const median = (waits[3] + waits[4]) / 2;
  for (const r of results) {
    t.diagnostic(`friday ${r.i}: update ${r.id}, upload ended ${secs(r.end - t0)} s after the burst began, ` +
      `playable ${Number.isFinite(r.wait) ? `${r.wait.toFixed(2)} s after its end` : `never (last seen ${JSON.stringify(r.last)})`}`);
  }
  t.diagnostic(`friday peak: median ${median.toFixed(2)} s, max ${waits[waits.length - 1].toFixed(2)} s to playable`);
  for (const r of results) {
    assert.ok(r.id, `upload ${r.i} made no update`);
    assert.ok(r.wait <= 5, `update ${r.id} playable ${r.wait} s after its upload's end, more than 5 s (median ${median}, all: ${waits.join(', ')})`);
  }
});

test('an abandoned live upload ends failed and publishes nothing: no update for anyone else, no media', async (t) => {
  const s = await startServer({ workers: 1, args: ['--preset', 'ultrafast', '--upload-expiry', '4'] });
  try {
    const author = await addUser(s, 'gone@example.com', 'Gone Away');
    const other = await addUser(s, 'stays@example.com', 'Stays Here');
    const token = apiToken(s, 'gone@example.com');
    const otherToken = apiToken(s, 'stays@example.com');
    const source = new PacedSource(readFileSync(fx.h264), RECORDING, 1000);
    const up = upload(s, token, source, { filename: 'rec.mkv', filetype: 'video/x-matroska', title: 'Never finished' });
    up.ended.catch(() => {});
    // Record about 8 s, then the tab is closed: nothing more is sent.
    let id = null;
    const t0 = Date.now();
    while (Date.now() - t0 < 8000) {
      if (!id) id = await updateOf(s, token, up.url(), 'Never finished').catch(() => null);
      await sleep(250);
    }
    source.stop();
    await up.up.abort(false);
    const uploadId = up.url().split('/').pop();
    const before = id ? await playableNow(s, token, id) : null;
    t.diagnostic(`abandoned: upload ${uploadId}, update ${id}, after 8 s: ${JSON.stringify(before && before.update && { status: before.update.status, playable: before.update.playable })}`);
    if (id) {
      // While it may still resume, nobody else sees it.
      assert.equal((await api(s, otherToken, 'GET', `/api/updates/${id}`)).status, 404);
    }
    // --upload-expiry 4: expired 4 s after the last PATCH; the scheduler
    // sweeps every few seconds.
    const gone = Date.now() + 40000;
    let head;
    for (;;) {
      head = await fetch(`${s.url}/api/uploads/${uploadId}`, { method: 'HEAD', headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' } });
      const part = existsSync(join(s.dir, 'uploads', `${uploadId}.part`));
      const settled = !id || ['failed', undefined].includes((await api(s, token, 'GET', `/api/updates/${id}`)).data?.update?.status);
      if ([404, 410].includes(head.status) && !part && settled) break;
      if (Date.now() > gone) break;
      await sleep(250);
    }
    t.diagnostic(`abandoned: upload HEAD ${head.status} ${secs(Date.now() - t0)} s after it began`);
    assert.ok([404, 410].includes(head.status), `upload HEAD answers ${head.status}`);
    assert.equal(existsSync(join(s.dir, 'uploads', `${uploadId}.part`)), false, 'the upload\'s bytes are removed');
    if (id) {
      const mine = await api(s, token, 'GET', `/api/updates/${id}`);
      assert.ok(mine.status === 404 || mine.data.update.status === 'failed', `the author sees ${mine.status} ${mine.text}`);
      assert.ok(mine.status === 404 || !mine.data.update.playback_url, 'nothing to play');
      assert.equal((await api(s, otherToken, 'GET', `/api/updates/${id}`)).status, 404);
      if (before && before.update && before.update.playback_url) {
        const r = await fetch(new URL(before.update.playback_url, s.url), { headers: { authorization: `Bearer ${token}` } });
        assert.ok(r.status >= 400, `its first playlist still answers ${r.status}`);
      }
    }
    // Published nowhere: not in any list another member reads, no media.
    const list = await api(s, otherToken, 'GET', `/api/updates?author=${author.user.id}`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.data.updates.map((u) => u.id), []);
    const week = await api(s, otherToken, 'GET', '/api/weeks/current');
    assert.equal(week.status, 200);
    assert.ok(!JSON.stringify(week.data.updates).includes('Never finished'), 'not on this week\'s page');
    const media = join(s.dir, 'media');
    const left = existsSync(media) ? readdirSync(media) : [];
    assert.deepEqual(left, [], `media left behind: ${left.join(', ')}`);
    assert.ok(other);
  } finally {
    await s.cleanup();
  }
});
