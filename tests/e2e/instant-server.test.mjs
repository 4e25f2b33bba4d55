// instant-server.test.mjs - first-playable on the server, end to end: the
// real binary with its supervised workers (the first lane beside the
// ladder workers), uploads through the real API (one request, and a
// deferred-length tus upload streamed while "recording"), playlists read
// as a player reads them. An update is `playable` before it is ready and
// its playback_url then names the first rendition; another member sees a
// live recording only once its upload ends; --first-playable off is the
// old behaviour; a first-lane worker killed with SIGKILL has its job
// retried; a retake (tus DELETE) leaves nothing; the ladder takes a first
// rendition over as its top rung when it was copied or encoded at the
// ladder's settings (an encode at the pass's own faster preset it does not);
// passes that encode take turns (--first-encodes), copies never wait.
//
// Run: node --test tests/e2e/instant-server.test.mjs (HUBCAST_BIN overrides
// the binary; ffmpeg must be on PATH).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken, sql } from './lib/server.mjs';
import { api as request } from './lib/api.mjs';

let dir;
const fx = {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Written to a pipe as a recorder does: no duration, no cues.
function ffmpegLive(args) {
  return execFileSync('ffmpeg', ['-v', 'error', ...args, '-'], { maxBuffer: 1 << 28 });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-instant-srv-'));
  // H.264 in Matroska with Opus, as Chromium records with codecs=h264.
  fx.h264 = ffmpegLive(['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=30:d=16',
    '-f', 'lavfi', '-i', 'sine=frequency=440:d=16', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'libopus', '-f', 'matroska']);
  // 854x480: a ladder of two rungs (480p, 360p), so that a copy can be
  // its top rung; within the 480p rung's maxrate.
  fx.h264x480 = ffmpegLive(['-f', 'lavfi', '-i', 'testsrc2=s=854x480:r=30:d=8',
    '-f', 'lavfi', '-i', 'sine=frequency=440:d=8', '-c:v', 'libx264', '-preset', 'veryfast',
    '-g', '60', '-b:v', '600k', '-maxrate', '800k', '-bufsize', '1600k', '-pix_fmt', 'yuv420p',
    '-c:a', 'libopus', '-f', 'matroska']);
  fx.vp8x480 = ffmpegLive(['-f', 'lavfi', '-i', 'testsrc2=s=854x480:r=30:d=8',
    '-f', 'lavfi', '-i', 'sine=frequency=440:d=8', '-c:v', 'libvpx', '-deadline', 'realtime',
    '-cpu-used', '8', '-b:v', '1000k', '-g', '60', '-c:a', 'libopus', '-f', 'webm']);
  // 720p at 60 frames a second: twice the pixels a second the pass encodes
  // at the ladder's settings, so it takes its own faster preset
  fx.vp8x720p60 = ffmpegLive(['-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=60:d=3',
    '-f', 'lavfi', '-i', 'sine=frequency=440:d=3', '-c:v', 'libvpx', '-deadline', 'realtime',
    '-cpu-used', '8', '-b:v', '1500k', '-g', '120', '-c:a', 'libopus', '-f', 'webm']);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const api = (srv, token, method, path, { body, headers } = {}) => request(srv, method, path, token, body, headers);

const getUpdate = async (srv, token, id) => api(srv, token, 'GET', `/api/updates/${id}`);

async function uploadOne(srv, token, bytes, title, type = 'video/x-matroska') {
  const r = await api(srv, token, 'POST', `/api/updates?title=${encodeURIComponent(title)}`,
    { body: bytes, headers: { 'content-type': type } });
  assert.equal(r.status, 201, r.text);
  return r.data.update;
}

// The media playlist a player would end up on (the video one), fetched
// through the signed playback_url: { text, segments }.
async function videoPlaylist(srv, url) {
  const master = await fetch(srv.url + url);
  assert.equal(master.status, 200, `${url} answered ${master.status}`);
  assert.match(master.headers.get('cache-control'), /no-cache/);
  const text = await master.text();
  const line = text.split('\n').find((l) => l && !l.startsWith('#'));
  const base = url.slice(0, url.lastIndexOf('/') + 1);
  const media = await fetch(srv.url + base + line);
  assert.equal(media.status, 200);
  const m = await media.text();
  return { text: m, segments: (m.match(/#EXTINF:/g) ?? []).length };
}

// Poll until pred(update) or the time is up; returns every update seen.
async function watch(srv, token, id, pred, ms = 90000) {
  const seen = [];
  for (const end = Date.now() + ms; ;) {
    const r = await getUpdate(srv, token, id);
    if (r.status === 200) {
      seen.push(r.data.update);
      if (pred(r.data.update)) return seen;
    }
    assert.ok(Date.now() < end, `timed out; last: ${JSON.stringify(r.data?.update ?? r.status)}`);
    await sleep(100);
  }
}

// A deferred-length tus upload driven by hand: create(), send(bytes),
// end() (the last PATCH gives the length), remove() (termination).
function liveUpload(srv, token, title, type = 'video/x-matroska') {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const tus = { 'tus-resumable': '1.0.0' };
  const up = { offset: 0, url: null };
  up.create = async () => {
    const r = await api(srv, token, 'POST', '/api/uploads', { headers: { ...tus,
      'upload-defer-length': '1',
      'upload-metadata': `filename ${b64(type === 'video/webm' ? 'rec.webm' : 'rec.mkv')},filetype ${b64(type)},title ${b64(title)}` } });
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
  up.remove = async () => api(srv, token, 'DELETE', up.url, { headers: tus });
  return up;
}

// The update a live upload made (the author's list shows it uploading).
async function liveUpdate(srv, token, title) {
  const r = await api(srv, token, 'GET', '/api/updates?status=uploading');
  const u = r.data.updates.find((x) => x.title === title);
  assert.ok(u, `no uploading update "${title}" in ${r.text}`);
  return u;
}

// Poll the catalog until the update's first job is done.
async function firstDone(srv, id) {
  for (const end = Date.now() + 60000; ;) {
    const state = sql(srv.dir, `SELECT state FROM jobs WHERE update_id = ${id} AND kind = 'first'`);
    if (state === 'done') return;
    assert.ok(Date.now() < end, `first job ${state}\n${srv.output}`);
    await sleep(200);
  }
}

// Children of the server (through every thread) whose command is cmd.
function childPids(srv, cmd) {
  const pids = new Set();
  const base = `/proc/${srv.proc.pid}/task`;
  for (const tid of readdirSync(base)) {
    try {
      for (const p of readFileSync(`${base}/${tid}/children`, 'utf8').trim().split(/\s+/))
        if (p) pids.add(Number(p));
    } catch { /* the thread ended */ }
  }
  return [...pids].filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1] === cmd; }
    catch { return false; }
  });
}

test('an H.264 Matroska file uploaded in one request is playable before ready, and keeps its first rendition',
     { timeout: 180000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'ann@example.com', 'Ann');
    await addUser(srv, 'ben@example.com', 'Ben');
    const tokA = apiToken(srv, 'ann@example.com');
    const tokB = apiToken(srv, 'ben@example.com');
    const t0 = Date.now();
    const up = await uploadOne(srv, tokA, fx.h264, 'one request');
    assert.equal(typeof up.playable, 'boolean');
    const seen = await watch(srv, tokA, up.id, (u) => u.playable);
    const early = seen.at(-1);
    console.log(`# playable ${Date.now() - t0} ms after the upload ended (status ${early.status})`);
    assert.notEqual(early.status, 'ready', 'playable before the ladder is done');
    assert.ok(['queued', 'processing'].includes(early.status), early.status);
    assert.match(early.playback_url, /\/first\/master\.m3u8$/);
    const pl = await videoPlaylist(srv, early.playback_url);
    assert.ok(pl.segments >= 1, pl.text);
    // Published: another member sees it (and plays it) while the ladder runs.
    const other = await getUpdate(srv, tokB, up.id);
    assert.equal(other.status, 200);
    assert.equal(other.data.update.playable, true);
    const ready = (await watch(srv, tokA, up.id, (u) => u.status !== 'processing' && u.status !== 'queued',
      150000)).at(-1);
    assert.equal(ready.status, 'ready', ready.error);
    assert.equal(ready.playable, true);
    assert.match(ready.playback_url, /\/master\.m3u8$/);
    assert.doesNotMatch(ready.playback_url, /\/first\//);
    // The ladder published beside the first rendition: an early viewer
    // keeps playing it to its end (the pass may still be finishing).
    for (const end = Date.now() + 60000; ;) {
      const kept = await videoPlaylist(srv, early.playback_url);
      if (/#EXT-X-ENDLIST/.test(kept.text)) break;
      assert.ok(Date.now() < end, `the first rendition never ended:\n${kept.text}`);
      await sleep(200);
    }
    assert.ok(existsSync(join(srv.dir, 'media', String(up.id), 'first', 'master.m3u8')));
    await firstDone(srv, up.id);
    const firstJobs = sql(srv.dir, `SELECT kind || ':' || state FROM jobs WHERE update_id = ${up.id} ORDER BY id`);
    assert.deepEqual(firstJobs.split('\n'), ['first:done', 'ladder:done']);
  } finally {
    await srv.cleanup();
  }
});

test('a deferred-length tus upload streamed slowly is playable before it ends and seen by others only once it ends',
     { timeout: 180000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'cy@example.com', 'Cy');
    await addUser(srv, 'di@example.com', 'Di');
    const tokA = apiToken(srv, 'cy@example.com');
    const tokB = apiToken(srv, 'di@example.com');
    const up = liveUpload(srv, tokA, 'live');
    await up.create();
    const u0 = await liveUpdate(srv, tokA, 'live');
    assert.equal(u0.status, 'uploading');
    assert.equal(u0.playable, false);
    assert.equal(u0.playback_url, null);
    const info = await api(srv, tokA, 'GET', up.url);
    assert.equal(info.data.update.id, u0.id, 'the upload names its live update');
    // 16 s of recording in 32 pieces, at twice real time.
    const piece = Math.ceil(fx.h264.length / 32);
    let playableWhileUploading = null;
    for (let at = 0; at < fx.h264.length - piece; at += piece) {
      await up.send(fx.h264.subarray(at, at + piece));
      const me = (await getUpdate(srv, tokA, u0.id)).data.update;
      assert.equal(me.status, 'uploading');
      if (me.playable && !playableWhileUploading) playableWhileUploading = me;
      // Not published: another member cannot see it, listed or by id.
      assert.equal((await getUpdate(srv, tokB, u0.id)).status, 404);
      const list = await api(srv, tokB, 'GET', '/api/updates');
      assert.ok(!list.data.updates.some((x) => x.id === u0.id), 'listed to another member while uploading');
      await sleep(250);
    }
    assert.ok(playableWhileUploading, 'playable before the upload ended');
    assert.match(playableWhileUploading.playback_url, /\/first\/master\.m3u8$/);
    const pl = await videoPlaylist(srv, playableWhileUploading.playback_url);
    assert.ok(pl.segments >= 1);
    // Another member cannot fetch the first rendition either.
    const theirs = await api(srv, tokB, 'GET', `/media/${u0.id}/first/master.m3u8`);
    assert.equal(theirs.status, 404);
    // The end of the upload publishes it.
    const t0 = Date.now();
    await up.send(fx.h264.subarray(up.offset), true);
    const seen = await watch(srv, tokB, u0.id, (u) => u.playable);
    console.log(`# another member sees it playable ${Date.now() - t0} ms after the upload ended`);
    assert.ok(['queued', 'processing'].includes(seen.at(-1).status), seen.at(-1).status);
    // The tail arrives: the first rendition ends, then the ladder.
    const done = (await watch(srv, tokA, u0.id, (u) => u.status === 'ready' || u.status === 'failed',
      150000)).at(-1);
    assert.equal(done.status, 'ready', done.error);
    await firstDone(srv, u0.id);
    const first = readFileSync(join(srv.dir, 'media', String(u0.id), 'first', 'video', 'index.m3u8'), 'utf8');
    assert.match(first, /#EXT-X-ENDLIST/);
    const listed = first.match(/#EXTINF:([\d.]+)/g).map((l) => Number(l.slice(8)));
    const total = listed.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 16) < 1, `the first rendition lists ${total} s of 16`);
  } finally {
    await srv.cleanup();
  }
});

test('--first-playable off: no first pass, playable only once ready', { timeout: 180000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast', '--first-playable', 'off'] });
  try {
    await addUser(srv, 'ed@example.com', 'Ed');
    const tok = apiToken(srv, 'ed@example.com');
    assert.deepEqual(childPids(srv, 'first-lane'), [], 'no first lane');
    const up = await uploadOne(srv, tok, fx.h264, 'off');
    const seen = await watch(srv, tok, up.id, (u) => u.status === 'ready' || u.status === 'failed', 150000);
    assert.equal(seen.at(-1).status, 'ready', seen.at(-1).error);
    for (const u of seen.slice(0, -1)) {
      assert.equal(u.playable, false);
      assert.equal(u.playback_url, null);
    }
    assert.equal(sql(srv.dir, `SELECT kind FROM jobs WHERE update_id = ${up.id} ORDER BY id`), 'ladder');
    assert.ok(!existsSync(join(srv.dir, 'media', String(up.id), 'first')));
    // A live upload is not an update before it ends.
    const live = liveUpload(srv, tok, 'off live');
    await live.create();
    const r = await api(srv, tok, 'GET', '/api/updates?status=uploading');
    assert.deepEqual(r.data.updates, []);
    await live.remove();
  } finally {
    await srv.cleanup();
  }
});

test('a first-lane worker killed with SIGKILL has its job retried', { timeout: 180000 }, async () => {
  // A short lease (test clock only) so the retry comes in seconds.
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast', '--test-clock'],
                                  env: { HUBCAST_JOB_LEASE: '4' } });
  try {
    await addUser(srv, 'flo@example.com', 'Flo');
    const tok = apiToken(srv, 'flo@example.com');
    const up = liveUpload(srv, tok, 'killed');
    await up.create();
    const u0 = await liveUpdate(srv, tok, 'killed');
    const half = Math.floor(fx.h264.length / 2);
    await up.send(fx.h264.subarray(0, half));
    await watch(srv, tok, u0.id, (u) => u.playable, 60000);
    const lanes = childPids(srv, 'first-lane');
    assert.equal(lanes.length, 1, 'one first lane');
    process.kill(lanes[0], 'SIGKILL');
    // Restarted by the supervisor; the lease runs out; the job is claimed again.
    for (const end = Date.now() + 60000; ;) {
      const attempts = Number(sql(srv.dir, `SELECT attempts FROM jobs WHERE update_id = ${u0.id} AND kind = 'first'`));
      const now = childPids(srv, 'first-lane');
      if (attempts >= 2 && now.length === 1 && now[0] !== lanes[0]) break;
      assert.ok(Date.now() < end, `not retried (attempts ${attempts})\n${srv.output}`);
      await sleep(200);
    }
    assert.match(srv.output, new RegExp(`worker ${lanes[0]} was killed by signal 9`));
    await up.send(fx.h264.subarray(half), true);
    const done = (await watch(srv, tok, u0.id, (u) => u.status === 'ready' || u.status === 'failed',
      150000)).at(-1);
    assert.equal(done.status, 'ready', done.error);
    await firstDone(srv, u0.id);
    const first = readFileSync(join(srv.dir, 'media', String(u0.id), 'first', 'video', 'index.m3u8'), 'utf8');
    assert.match(first, /#EXT-X-ENDLIST/);
  } finally {
    await srv.cleanup();
  }
});

test('a retake (tus DELETE of the live upload) leaves nothing', { timeout: 120000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'gus@example.com', 'Gus');
    const tok = apiToken(srv, 'gus@example.com');
    const up = liveUpload(srv, tok, 'retake');
    await up.create();
    const u0 = await liveUpdate(srv, tok, 'retake');
    await up.send(fx.h264.subarray(0, Math.floor(fx.h264.length / 2)));
    await watch(srv, tok, u0.id, (u) => u.playable, 60000);
    const r = await up.remove();
    assert.equal(r.status, 204, r.text);
    assert.equal((await getUpdate(srv, tok, u0.id)).status, 404);
    assert.equal((await api(srv, tok, 'GET', up.url, { headers: { 'tus-resumable': '1.0.0' } })).status, 404);
    // The pass stops and its folder goes; no upload bytes stay.
    for (const end = Date.now() + 20000; ;) {
      const state = sql(srv.dir, `SELECT state FROM jobs WHERE kind = 'first'`);
      const media = existsSync(join(srv.dir, 'media', String(u0.id), 'first'));
      if (state !== 'running' && !media) break;
      assert.ok(Date.now() < end, `left: job ${state}, media ${media}\n${srv.output}`);
      await sleep(200);
    }
    assert.deepEqual(readdirSync(join(srv.dir, 'uploads')).filter((n) => n.endsWith('.part')), []);
    assert.equal(sql(srv.dir, 'SELECT COUNT(*) FROM updates'), '0');
  } finally {
    await srv.cleanup();
  }
});

test('a first-pass job child is confined like a ladder child: no catalog, no file outside its folder',
     { timeout: 180000 }, async () => {
  // Its folder is DATA/media/<id>/first: the catalog is three levels up.
  for (const probe of ['openat:../../../hubcast.db', 'openat:/etc/passwd']) {
    const srv = await startServer({ workers: 1, args: ['--test-clock', '--preset', 'ultrafast'],
                                    env: { HUBCAST_TEST_FIRSTCHILD_PROBE: probe } });
    try {
      await addUser(srv, 'hal@example.com', 'Hal');
      const tok = apiToken(srv, 'hal@example.com');
      const up = await uploadOne(srv, tok, fx.h264, 'probe');
      await watch(srv, tok, up.id, (u) => u.playable);
      const m = srv.output.match(new RegExp(`job child: test probe ${probe.replace(/[.]/g, '\\.')}: (.*)`));
      assert.ok(m, `the probe ran:\n${srv.output}`);
      assert.match(m[1], /Permission denied|Operation not permitted/, `${probe}: ${m[1]}`);
    } finally {
      await srv.cleanup();
    }
  }
});

test('an abandoned live upload ends failed past --upload-expiry and publishes nothing', { timeout: 120000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast', '--upload-expiry', '5'] });
  try {
    await addUser(srv, 'ida@example.com', 'Ida');
    await addUser(srv, 'jo@example.com', 'Jo');
    const tok = apiToken(srv, 'ida@example.com');
    const tokB = apiToken(srv, 'jo@example.com');
    const up = liveUpload(srv, tok, 'abandoned');
    await up.create();
    const u0 = await liveUpdate(srv, tok, 'abandoned');
    await up.send(fx.h264.subarray(0, Math.floor(fx.h264.length / 2)));
    await watch(srv, tok, u0.id, (u) => u.playable, 60000);
    // Nothing more arrives: the scheduler ends it once the expiry passes.
    const end = (await watch(srv, tok, u0.id, (u) => u.status !== 'uploading', 60000)).at(-1);
    assert.equal(end.status, 'failed');
    assert.ok(end.error, 'a reason for its author');
    assert.equal(end.playable, false);
    assert.equal(end.playback_url, null);
    assert.equal((await getUpdate(srv, tokB, u0.id)).status, 404, 'never published');
    for (const until = Date.now() + 20000; ;) {
      const state = sql(srv.dir, `SELECT state FROM jobs WHERE update_id = ${u0.id} ORDER BY id`);
      const media = existsSync(join(srv.dir, 'media', String(u0.id), 'first'));
      if (state === 'failed' && !media) break;
      assert.ok(Date.now() < until, `left: jobs ${state}, media ${media}\n${srv.output}`);
      await sleep(200);
    }
    assert.equal(sql(srv.dir, `SELECT COUNT(*) FROM jobs WHERE kind = 'ladder'`), '0');
  } finally {
    await srv.cleanup();
  }
});

test('once trimmed, the untrimmed first rendition is its author\'s alone', { timeout: 180000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'ann@example.com', 'Ann');
    await addUser(srv, 'ben@example.com', 'Ben');
    const tokA = apiToken(srv, 'ann@example.com');
    const tokB = apiToken(srv, 'ben@example.com');
    const up = await uploadOne(srv, tokA, fx.h264, 'to be trimmed');
    const first = (await watch(srv, tokA, up.id, (u) => u.playable && u.status !== 'ready')).at(-1).playback_url;
    assert.match(first, /\/first\/master\.m3u8$/);
    assert.equal((await fetch(srv.url + first, { headers: { authorization: `Bearer ${tokB}` } })).status, 200,
                 'before the trim another member plays the first rendition');
    // The trim waits for a ladder job to exist (it rides along or makes a version).
    let r;
    for (const end = Date.now() + 60000; ;) {
      r = await api(srv, tokA, 'PATCH', `/api/updates/${up.id}`, {
        body: JSON.stringify({ trim: { start: 2, end: 12 } }), headers: { 'content-type': 'application/json' } });
      if (r.status === 200) break;
      assert.ok(Date.now() < end, r.text);
      await sleep(200);
    }
    const ben = (await getUpdate(srv, tokB, up.id)).data.update;
    assert.ok(!String(ben.playback_url ?? '').includes('/first/'), JSON.stringify(ben));
    if (ben.status !== 'ready') assert.equal(ben.playable, false);
    for (const [tok, want] of [[tokB, 404], [tokA, 200]]) {
      const got = await fetch(srv.url + first, { headers: { authorization: `Bearer ${tok}` } });
      assert.equal(got.status, want, `${tok === tokA ? 'author' : 'member'} asked for ${first}`);
    }
    const ann = (await getUpdate(srv, tokA, up.id)).data.update;
    if (ann.status !== 'ready') assert.match(ann.playback_url, /\/first\//);
  } finally {
    await srv.stop();
  }
});

test('a live upload\'s check-in answers, sent with its creation, are on the update once it is published',
     { timeout: 120000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'ann@example.com', 'Ann');
    const tok = apiToken(srv, 'ann@example.com');
    const b64 = (s) => Buffer.from(s).toString('base64');
    const answers = [{ prompt: 'What I did', text: 'Shipped the first lane' }];
    const tus = { 'tus-resumable': '1.0.0' };
    const c = await api(srv, tok, 'POST', '/api/uploads', { headers: { ...tus, 'upload-defer-length': '1',
      'upload-metadata': `filename ${b64('rec.mkv')},title ${b64('with answers')},answers ${b64(JSON.stringify(answers))}` } });
    assert.equal(c.status, 201, c.text);
    const url = new URL(c.headers.get('location'), srv.url).pathname;
    const half = Math.floor(fx.h264.length / 2);
    for (const [from, to, last] of [[0, half, false], [half, fx.h264.length, true]]) {
      const headers = { ...tus, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(from) };
      if (last) headers['upload-length'] = String(fx.h264.length);
      const r = await api(srv, tok, 'PATCH', url, { body: fx.h264.subarray(from, to), headers });
      assert.equal(r.status, 204, r.text);
    }
    const u = (await api(srv, tok, 'GET', url)).data.update;
    assert.ok(u, 'the upload names its update');
    const got = (await getUpdate(srv, tok, u.id)).data.update;
    assert.deepEqual(got.answers, answers);
  } finally {
    await srv.stop();
  }
});

// The files of a media folder, by name, with their bytes.
function filesOf(path) {
  return Object.fromEntries(readdirSync(path).filter((n) => n.endsWith('.mp4') || n.endsWith('.m4s'))
    .map((n) => [n, readFileSync(join(path, n))]));
}

test('a ladder takes a first rendition over as its top rung: copied (H.264) or encoded at its settings (VP8 480p), not at the pass\'s own preset (VP8 720p60)',
     { timeout: 300000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'fay@example.com', 'Fay');
    const tok = apiToken(srv, 'fay@example.com');
    const made = {};
    for (const [codec, bytes, type] of [['h264', fx.h264x480, 'video/x-matroska'], ['vp8', fx.vp8x480, 'video/webm'],
                                        ['vp8p60', fx.vp8x720p60, 'video/webm']]) {
      const up = await uploadOne(srv, tok, bytes, `reuse ${codec}`, type);
      const done = (await watch(srv, tok, up.id, (u) => u.status === 'ready' || u.status === 'failed', 240000)).at(-1);
      assert.equal(done.status, 'ready', done.error);
      await firstDone(srv, up.id);
      const job = sql(srv.dir, `SELECT id FROM jobs WHERE update_id = ${up.id} AND kind = 'ladder'`);
      made[codec] = { id: up.id, job, media: join(srv.dir, 'media', String(up.id)) };
    }
    // The top rung is the first rendition's video, byte for byte, listed
    // as VOD with its segment lengths; the other rung is encoded.
    const takenOver = (u) => {
      const first = filesOf(join(u.media, 'first', 'video'));
      const top = filesOf(join(u.media, '480p'));
      assert.ok(Object.keys(first).length >= 3, Object.keys(first).join(' '));
      assert.deepEqual(Object.keys(top).sort(), Object.keys(first).sort(), 'the same init and segments');
      for (const [name, bytes] of Object.entries(first))
        assert.ok(bytes.equals(top[name]), `480p/${name} is not first/video/${name}`);
      const inf = (t) => t.match(/#EXTINF:[\d.]+/g);
      const firstList = readFileSync(join(u.media, 'first', 'video', 'index.m3u8'), 'utf8');
      const topList = readFileSync(join(u.media, '480p', 'index.m3u8'), 'utf8');
      assert.deepEqual(inf(topList), inf(firstList));
      assert.match(topList, /#EXT-X-PLAYLIST-TYPE:VOD/);
      assert.ok(existsSync(join(u.media, '360p', 'index.m3u8')), 'the other rung is encoded');
      // The player gets it: the master lists both rungs.
      const master = readFileSync(join(u.media, 'master.m3u8'), 'utf8');
      assert.match(master, /RESOLUTION=854x480/);
      assert.match(master, /RESOLUTION=640x360/);
    };
    const h = made.h264;
    // The worker offered the copy; the job child took it over.
    assert.match(srv.output, new RegExp(`job ${h.job}: transcoding update ${h.id} \\(its first rendition is a copy`));
    assert.match(srv.output, new RegExp(`job ${h.job}: the top rung is the first rendition, copied`));
    takenOver(h);
    // VP8 480p: the pass encoded the top rung with the ladder's preset and
    // CRF (the server's --preset ultrafast), and said so in its master.
    const v = made.vp8;
    const vfirst = readFileSync(join(v.media, 'first', 'master.m3u8'), 'utf8');
    assert.match(vfirst, /DATA-ID="net\.hubcast\.first",VALUE="x264 ultrafast crf 23"/);
    assert.match(srv.output, new RegExp(`job ${v.job}: transcoding update ${v.id} \\(its first rendition was encoded as the top rung`));
    assert.match(srv.output, new RegExp(`job ${v.job}: the top rung is the first rendition, encoded by the first pass`));
    takenOver(v);
    // VP8 720p60: the pass used its own faster preset; the ladder encodes
    // every rung.
    const p = made.vp8p60;
    assert.doesNotMatch(srv.output, new RegExp(`job ${p.job}: transcoding update ${p.id} \\(its first`));
    assert.doesNotMatch(srv.output, new RegExp(`job ${p.job}: the top rung is the first rendition`));
    assert.doesNotMatch(readFileSync(join(p.media, 'first', 'master.m3u8'), 'utf8'), /net\.hubcast\.first/);
    assert.ok(existsSync(join(p.media, 'first', '.encoding')), 'the pass said it encodes');
    assert.ok(!readFileSync(join(p.media, '720p', 'seg_00000.m4s')).equals(
      readFileSync(join(p.media, 'first', 'video', 'seg_00000.m4s'))));
  } finally {
    await srv.cleanup();
  }
});

test('--first-encodes 1: passes that encode take turns, oldest first; a copy does not wait',
     { timeout: 300000 }, async () => {
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast', '--first-encodes', '1'] });
  const waitFor = async (what, pred, ms = 120000) => {
    for (const end = Date.now() + ms; !pred();) {
      assert.ok(Date.now() < end, `timed out waiting for ${what}:\n${srv.output}`);
      await sleep(100);
    }
  };
  const firstJob = (id) => sql(srv.dir, `SELECT id FROM jobs WHERE update_id = ${id} AND kind = 'first'`);
  try {
    await addUser(srv, 'gus@example.com', 'Gus');
    const tok = apiToken(srv, 'gus@example.com');
    assert.match(srv.output, /up to 8 first-playable passes at once, 1 of them encoding/);
    // A: a VP8 recording still uploading; its pass encodes what has come
    // and holds the one turn until its upload ends.
    const upA = liveUpload(srv, tok, 'vp8 a', 'video/webm');
    await upA.create();
    await upA.send(fx.vp8x480.subarray(0, Math.floor(fx.vp8x480.length * 0.8)));
    const a = await liveUpdate(srv, tok, 'vp8 a');
    await watch(srv, tok, a.id, (u) => u.playable, 120000);
    const jobA = firstJob(a.id);
    assert.match(srv.output, new RegExp(`first lane: job ${jobA}: first rendition`));
    // B: a whole VP8 file; it must wait for A.
    const b = await uploadOne(srv, tok, fx.vp8x480, 'vp8 b', 'video/webm');
    await waitFor('B to wait', () => /encodes; it waits for its turn/.test(srv.output));
    const jobB = firstJob(b.id);
    assert.match(srv.output, new RegExp(`first lane: job ${jobB} encodes; it waits for its turn`));
    // H: an H.264 file, copied: it does not wait for A.
    const h = await uploadOne(srv, tok, fx.h264x480, 'h264', 'video/x-matroska');
    await watch(srv, tok, h.id, (u) => u.playable, 120000);
    await firstDone(srv, h.id);
    assert.ok(!srv.output.includes(`first lane: job ${firstJob(h.id)} encodes`), srv.output);
    assert.equal((await getUpdate(srv, tok, b.id)).data.update.playable, false, 'B encoded out of turn');
    assert.ok(!srv.output.includes(`job ${jobB}: its turn`));
    // A ends: its pass finishes, and B's turn comes.
    await upA.send(fx.vp8x480.subarray(upA.offset), true);
    await watch(srv, tok, b.id, (u) => u.playable, 180000);
    await firstDone(srv, b.id);
    const out = srv.output;
    const aDone = out.indexOf(`first lane: job ${jobA} done`);
    const bTurn = out.indexOf(`first lane: job ${jobB}: its turn to encode`);
    assert.ok(aDone > 0 && bTurn > aDone, `B's turn came before A was done:\n${out}`);
  } finally {
    await srv.cleanup();
  }
});
