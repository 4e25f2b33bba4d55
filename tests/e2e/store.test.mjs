// store.test.mjs - the S3 media store (src/store.c, src/media_s3.c)
// against a real S3 server that checks SigV4 signatures: Ceph's radosgw on
// a one-node test cluster (tests/e2e/lib/ceph.sh). A `hubcast serve
// --workers 0` and a separate `hubcast worker` with a data folder of its
// own share only the catalog and the store: a clip uploaded to the server
// lands in the store as uploads/<id> (nothing of it left on the server's
// disk), the worker downloads it, transcodes it and uploads its first
// rendition and its ladder under media/<id>/; the server streams the
// master playlist and a segment from the store (whole, and a Range), or
// with --media-redirect answers 302 to a presigned URL that serves the
// same bytes (playlists still pass through). Neither data folder holds
// media afterwards, and deleting the update deletes its objects.
//
// Run: node --test tests/e2e/store.test.mjs  (needs the Ceph packages;
// see build-aux/deps.sh test; ffmpeg on PATH).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer, addUser, apiToken, hubcast, catalogEnv } from './lib/server.mjs';
import { startCeph, cephSkipReason } from './lib/ceph.mjs';

const skip = cephSkipReason() ?? false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let ceph;
let dir;            // fixtures and the two data folders
let srv;            // hubcast serve
let worker;         // hubcast worker: { proc, output, exit }
let lane;           // a first lane of its own, when a test starts one
let token;
let clip;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'hubcast-store-test-'));
  clip = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=30:d=6', '-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=6',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip]);
  ceph = await startCeph({ prefix: 'hubcast' });
  console.log(`# Ceph test cluster answered S3 after ${ceph.seconds.toFixed(1)} s`);
});

after(async () => {
  if (lane && lane.exited === null) {
    lane.proc.kill('SIGTERM');
    await lane.exit;
  }
  if (worker && worker.exited === null) {
    worker.proc.kill('SIGTERM');
    await worker.exit;
  }
  if (srv) await srv.cleanup();
  if (ceph) await ceph.stop();
  if (dir && !process.env.HUBCAST_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

// `hubcast s3 ARGS` against the test store.
function s3(args) {
  const r = hubcast(['s3', ...args], { env: ceph.env });
  assert.equal(r.status, 0, `hubcast s3 ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// The objects under prefix: Map key -> size.
function ls(prefix) {
  return new Map(s3(['ls', prefix]).trim().split('\n').filter(Boolean)
    .map((l) => { const [k, n] = l.split(' '); return [k, Number(n)]; }));
}

// The unfinished multipart uploads under prefix: "key upload-id" strings.
function mpus(prefix) {
  return s3(['mpu-list', prefix]).trim().split('\n').filter(Boolean).map((l) => l.split(' ').slice(0, 2).join(' '));
}

// Every regular file below d (relative paths).
function filesBelow(d, rel = '') {
  let out = [];
  let names = [];
  try { names = readdirSync(join(d, rel)); } catch { return out; }
  for (const n of names) {
    const p = join(rel, n);
    const st = statSync(join(d, p));
    if (st.isDirectory()) out = out.concat(filesBelow(d, p));
    else out.push(p);
  }
  return out;
}

async function startStoreServer(args = [], env = {}) {
  const s = await startServer({ data: join(dir, 'server'), env: { ...ceph.env, ...env }, args });
  return s;
}

function startWorker(extra = [], extraEnv = {}, name = 'worker') {
  const data = join(dir, name);
  const env = { ...process.env, ...ceph.env, ...catalogEnv(srv.dir), ...extraEnv };
  const args = ['worker', '--data', data, ...extra];
  // SQLite: the server's catalog file, shared by path (two processes on
  // one SQLite file in WAL mode); PostgreSQL: catalogEnv gave its URL.
  if (!env.HUBCAST_DATABASE) args.push('--database', join(srv.dir, 'hubcast.db'));
  const proc = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const w = { proc, data, output: '', exited: null };
  proc.stdout.on('data', (d) => { w.output += d; });
  proc.stderr.on('data', (d) => { w.output += d; });
  w.exit = new Promise((resolve) => proc.on('exit', (code, signal) => {
    w.exited = { code, signal };
    resolve(w.exited);
  }));
  return w;
}

// Stop the worker and start another on the same data folder.
async function restartWorker(extra, extraEnv) {
  worker.proc.kill('SIGTERM');
  await worker.exit;
  worker = startWorker(extra, extraEnv);
}

async function get(path, headers = {}) {
  const r = await fetch(srv.url + path, { headers: { authorization: `Bearer ${token}`, ...headers },
    redirect: 'manual' });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

// The network namespaces of the worker's job children seen so far.
const childNets = new Set();
function sampleChildren() {
  try {
    for (const tid of readdirSync(`/proc/${worker.proc.pid}/task`)) {
      for (const p of readFileSync(`/proc/${worker.proc.pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) {
        if (p && readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1] === 'job-child')
          childNets.add(readlinkSync(`/proc/${p}/ns/net`));
      }
    }
  } catch { /* a process ended meanwhile */ }
}

async function settle(id, ms = 180000) {
  const t0 = Date.now();
  for (;;) {
    sampleChildren();
    const r = await get(`/api/updates/${id}`);
    assert.equal(r.status, 200);
    const u = JSON.parse(r.body).update;
    if (u.status === 'ready' || u.status === 'failed') {
      console.log(`# update ${id} ${u.status} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return u;
    }
    if (Date.now() - t0 > ms || worker.exited)
      assert.fail(`update ${id} still ${u.status}\nserver:\n${srv.output}\nworker:\n${worker.output}`);
    await sleep(50);
  }
}

let update;         // the update made from the clip
let sourceKey;      // its upload's object
let segPath;        // a segment of its ladder, relative to /media/<id>/
let segBytes;

test('a worker sharing no folder with the server transcodes an upload through the store', { skip }, async () => {
  srv = await startStoreServer();
  await addUser(srv, 'ana@example.com', 'Ana Lima', 'admin');
  token = apiToken(srv, 'ana@example.com');
  worker = startWorker();

  const before = ls('uploads/');
  const r = await fetch(`${srv.url}/api/updates?title=Stored`, {
    method: 'POST', body: readFileSync(clip),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' },
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  update = JSON.parse(text).update;

  // The source is the object uploads/<upload-id>, its bytes those sent.
  const added = [...ls('uploads/').keys()].filter((k) => !before.has(k));
  assert.equal(added.length, 1, `new source objects: ${added}`);
  sourceKey = added[0];
  assert.match(sourceKey, /^uploads\/[A-Za-z0-9_-]+$/);
  assert.equal(ls('uploads/').get(sourceKey), statSync(clip).size);
  assert.deepEqual(filesBelow(join(srv.dir, 'uploads')), [], 'the server keeps no copy of the upload');

  const u = await settle(update.id);
  assert.equal(u.status, 'ready', `${u.error}\n${worker.output}`);
  // The worker kept the network (it reached the store); its job children did not.
  const own = readlinkSync('/proc/self/ns/net');
  assert.equal(readlinkSync(`/proc/${worker.proc.pid}/ns/net`), own, 'the worker keeps the network');
  console.log(`# job children seen: ${childNets.size} network namespace(s)`);
  assert.ok(childNets.size >= 1, 'a job child was seen');
  assert.ok(!childNets.has(own), 'job children have a network namespace of their own');
  for (const line of worker.output.split('\n').filter((l) => /in the media store/.test(l)))
    console.log(`# ${line.replace(/^.*worker \S+: /, '')}`);
  assert.ok(u.renditions.length >= 1);

  const objects = ls(`media/${update.id}/`);
  const keys = [...objects.keys()].map((k) => k.slice(`media/${update.id}/`.length));
  for (const f of ['master.m3u8', 'poster.jpg', 'first/master.m3u8'])
    assert.ok(keys.includes(f), `${f} is in the store: ${keys.join(' ')}`);
  assert.ok(keys.some((k) => /\.m4s$/.test(k)), 'segments are in the store');
  assert.ok(keys.some((k) => k.startsWith('first/') && /\.m4s$/.test(k)), 'the first rendition\'s segments too');
});

test('the server streams playlists and segments from the store, whole and by range', { skip }, async () => {
  assert.ok(update, 'the upload test ran');
  const id = update.id;
  const master = await get(`/media/${id}/master.m3u8`);
  assert.equal(master.status, 200);
  assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.match(master.headers.get('cache-control'), /no-cache/);
  const text = master.body.toString();
  assert.match(text, /^#EXTM3U/);
  const variant = text.split('\n').find((l) => l && !l.startsWith('#'));
  assert.ok(variant, text);

  const vp = await get(`/media/${id}/${variant}`);
  assert.equal(vp.status, 200);
  const seg = vp.body.toString().split('\n').find((l) => l && !l.startsWith('#'));
  const vdir = variant.includes('/') ? variant.slice(0, variant.lastIndexOf('/') + 1) : '';
  segPath = vdir + seg;

  const whole = await get(`/media/${id}/${segPath}`);
  assert.equal(whole.status, 200);
  assert.match(whole.headers.get('cache-control'), /immutable/);
  assert.ok(whole.headers.get('etag'));
  segBytes = whole.body;
  const copy = join(dir, 'seg.copy');
  s3(['get', `media/${id}/${segPath}`, copy]);
  assert.ok(readFileSync(copy).equals(segBytes), 'the bytes served are the object\'s');
  assert.ok(segBytes.length > 1000);

  const part = await get(`/media/${id}/${segPath}`, { range: 'bytes=100-1099' });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 100-1099/${segBytes.length}`);
  assert.ok(part.body.equals(segBytes.subarray(100, 1100)));

  const tail = await get(`/media/${id}/${segPath}`, { range: `bytes=${segBytes.length - 10}-` });
  assert.equal(tail.status, 206);
  assert.ok(tail.body.equals(segBytes.subarray(segBytes.length - 10)));

  const again = await get(`/media/${id}/${segPath}`, { 'if-none-match': whole.headers.get('etag') });
  assert.equal(again.status, 304);

  // The signed link a player gets works the same way.
  const u = JSON.parse((await get(`/api/updates/${id}`)).body).update;
  const viaToken = await fetch(srv.url + u.playback_url);
  assert.equal(viaToken.status, 200);
  assert.match(await viaToken.text(), /^#EXTM3U/);

  assert.equal((await get(`/media/${id}/nothing.m4s`)).status, 404);
  assert.equal((await get(`/media/${id}/..%2Fx`)).status, 404);
  // The first rendition is served from the store too.
  assert.equal((await get(`/media/${id}/first/master.m3u8`)).status, 200);
});

test('neither the server nor the worker keeps media on disk', { skip }, async () => {
  assert.ok(update, 'the upload test ran');
  assert.deepEqual(filesBelow(join(srv.dir, 'media')), [], 'server media folder');
  assert.deepEqual(filesBelow(join(srv.dir, 'uploads')), [], 'server uploads folder');
  // The worker removes its scratch once the job is recorded.
  const t0 = Date.now();
  while (filesBelow(join(worker.data, 'media')).length && Date.now() - t0 < 10000) await sleep(100);
  assert.deepEqual(filesBelow(join(worker.data, 'media')), [], 'worker scratch');
  assert.deepEqual(filesBelow(join(worker.data, 'uploads')), [], 'worker uploads folder');
});

// Upload the file at path in one request; its update's id once ready.
async function uploadReady(path, type, title) {
  const r = await fetch(`${srv.url}/api/updates?title=${title}`, {
    method: 'POST', body: readFileSync(path),
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  const id = JSON.parse(text).update.id;
  const u = await settle(id);
  assert.equal(u.status, 'ready', `${u.error}\n${worker.output}`);
  return id;
}

// Upload the H.264 Matroska file mkv in one request; its update once ready,
// and the ladder job's number.
async function uploadCopyable(mkv, title) {
  const id = await uploadReady(mkv, 'video/x-matroska', title);
  // The worker fetched the copy and offered it; the job child took it over.
  const offered = worker.output.match(new RegExp(
    `job (\\d+): transcoding update ${id} \\(its first rendition is a copy: offered as the top rung\\)`));
  assert.ok(offered, worker.output);
  const job = offered[1];
  assert.match(worker.output, new RegExp(`job ${job}: the top rung is the first rendition, copied`));
  return { id, job };
}

test('an H.264 Matroska recording: the ladder takes its first rendition over from the store as its top rung',
  { skip }, async () => {
    assert.ok(update, 'the upload test ran');
    // 854x480: a ladder of two rungs (480p, 360p), the copy within the 480p rung's maxrate.
    const mkv = join(dir, 'rec480.mkv');
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=s=854x480:r=30:d=8', '-f', 'lavfi', '-i', 'sine=frequency=440:d=8',
      '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-b:v', '600k', '-maxrate', '800k',
      '-bufsize', '1600k', '-pix_fmt', 'yuv420p', '-c:a', 'libopus', '-f', 'matroska', mkv]);
    // The job child tries to write into the copy it is given (the test-only probe): refused.
    await restartWorker(['--test-clock'], { HUBCAST_TEST_JOBCHILD_PROBE: 'writefirst:video/seg_00000.m4s' });
    const { id, job } = await uploadCopyable(mkv, 'Reused');
    assert.match(worker.output, /job child: test probe writefirst:video\/seg_00000\.m4s: .*Permission denied/);
    const cpu = worker.output.match(new RegExp(`job ${job}: the job child used ([\\d.]+) CPU s`));
    assert.ok(cpu, worker.output);
    console.log(`# ladder of update ${id} (top rung copied from the store): ${cpu[1]} CPU s`);

    // In the store, the 480p rung is first/video: the same init and segments, byte for byte.
    const objects = [...ls(`media/${id}/`).keys()].map((k) => k.slice(`media/${id}/`.length));
    const below = (d) => objects.filter((k) => k.startsWith(d) && !k.endsWith('.m3u8'))
      .map((k) => k.slice(d.length)).sort();
    const first = below('first/video/');
    assert.ok(first.length >= 3 && first.includes('init.mp4'), objects.join(' '));
    assert.deepEqual(below('480p/'), first, 'the same init and segments');
    const fetched = (key) => { const f = join(dir, 'obj.copy'); rmSync(f, { force: true }); s3(['get', key, f]);
      return readFileSync(f); };
    for (const name of first)
      assert.ok(fetched(`media/${id}/480p/${name}`).equals(fetched(`media/${id}/first/video/${name}`)),
        `480p/${name} is not first/video/${name}`);
    // Listed as VOD with the copy's own segment lengths; the other rung encoded.
    const inf = (t) => t.match(/#EXTINF:[\d.]+/g);
    const firstList = fetched(`media/${id}/first/video/index.m3u8`).toString();
    const topList = fetched(`media/${id}/480p/index.m3u8`).toString();
    assert.deepEqual(inf(topList), inf(firstList));
    assert.match(topList, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.ok(objects.includes('360p/index.m3u8'), objects.join(' '));
    // What the server serves to a player lists both rungs.
    const master = (await get(`/media/${id}/master.m3u8`)).body.toString();
    assert.match(master, /RESOLUTION=854x480/);
    assert.match(master, /RESOLUTION=640x360/);

    // The copy fetched for the job child went with the job's scratch.
    const t0 = Date.now();
    while (filesBelow(join(worker.data, 'media')).length && Date.now() - t0 < 10000) await sleep(100);
    assert.deepEqual(filesBelow(join(worker.data, 'media')), [], 'worker scratch');

    // Nor can it hard-link the copy into its work folder (a file it could write).
    await restartWorker(['--test-clock'], { HUBCAST_TEST_JOBCHILD_PROBE: 'linkfirst:video/init.mp4' });
    const again = await uploadCopyable(mkv, 'Reused again');
    assert.match(worker.output, /job child: test probe linkfirst:video\/init\.mp4: .*Operation not permitted/);
    await restartWorker();

    for (const gone of [id, again.id]) {
      const d = await fetch(`${srv.url}/api/updates/${gone}`, { method: 'DELETE',
        headers: { authorization: `Bearer ${token}` } });
      assert.equal(d.status, 200);
    }
  });

// Upload a VP8/Opus WebM of w x h at fps for seconds; its update once settled.
async function uploadVp8(name, w, h, fps, seconds) {
  const webm = join(dir, name);
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=s=${w}x${h}:r=${fps}:d=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=440:d=${seconds}`,
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1000k', '-g', String(2 * fps),
    '-c:a', 'libopus', '-f', 'webm', webm]);
  return uploadReady(webm, 'video/webm', 'Encoded');
}

async function deleteUpdate(id) {
  const d = await fetch(`${srv.url}/api/updates/${id}`, { method: 'DELETE',
    headers: { authorization: `Bearer ${token}` } });
  assert.equal(d.status, 200);
}

test('a VP8 recording at 480p: the pass encodes the top rung at the ladder\'s settings, and the ladder takes it over from the store',
  { skip }, async () => {
    assert.ok(update, 'the upload test ran');
    const id = await uploadVp8('rec480.webm', 854, 480, 30, 4);
    assert.ok(!ls(`media/${id}/first/`).has(`media/${id}/first/.encoding`), 'no marker: the ladder waits for it');
    const job = worker.output.match(new RegExp(
      `job (\\d+): transcoding update ${id} \\(its first rendition was encoded as the top rung: offered\\)`));
    assert.ok(job, worker.output);
    assert.match(worker.output, new RegExp(`job ${job[1]}: the top rung is the first rendition, encoded by the first pass`));
    // The rung the player gets is the pass's rendition, byte for byte.
    for (const name of ['init.mp4', 'seg_00000.m4s', 'seg_00001.m4s']) {
      const first = await get(`/media/${id}/first/video/${name}`);
      const top = await get(`/media/${id}/480p/${name}`);
      assert.equal(first.status, 200, name);
      assert.ok(first.body.equals(top.body), `480p/${name} is not first/video/${name}`);
    }
    await deleteUpdate(id);
  });

test('a VP8 recording at 720p60: the pass keeps its own faster preset, marked so in the store, and the ladder encodes every rung',
  { skip }, async () => {
    assert.ok(update, 'the upload test ran');
    const id = await uploadVp8('rec720p60.webm', 1280, 720, 60, 2);
    // A ladder on another machine reads the marker and does not wait.
    assert.ok(ls(`media/${id}/first/`).has(`media/${id}/first/.encoding`), 'the marker is in the store');
    assert.equal((await get(`/media/${id}/first/.encoding`)).status, 404, 'the marker is never served');
    const job = worker.output.match(new RegExp(`job (\\d+): transcoding update ${id}\\b(.*)`));
    assert.ok(job, worker.output);
    assert.equal(job[2], '', 'no first rendition is offered');
    assert.doesNotMatch(worker.output, new RegExp(`job ${job[1]}: the top rung is the first rendition`));
    const cpu = worker.output.match(new RegExp(`job ${job[1]}: the job child used ([\\d.]+) CPU s`));
    assert.ok(cpu, worker.output);
    await deleteUpdate(id);
  });

test('a first lane and a ladder worker apart: the ladder waits for the copy in the store and takes it over',
  { skip }, async () => {
    assert.ok(update, 'the upload test ran');
    // As on two machines: data folders of their own, only the catalog and the store shared.
    worker.proc.kill('SIGTERM');
    await worker.exit;
    lane = startWorker(['--lane', 'first'], {}, 'lane');
    worker = startWorker(['--lane', 'ladder'], {}, 'ladder');
    try {
      const { id, job } = await uploadCopyable(join(dir, 'rec480.mkv'), 'Apart');
      assert.match(lane.output, new RegExp(`first lane: job \\d+: first rendition of update ${id}`));
      assert.doesNotMatch(worker.output, /first lane:/, 'the ladder worker ran no first pass');
      const waited = new RegExp(`job ${job}: waiting for the first pass of update ${id}`).test(worker.output);
      console.log(`# the ladder ${waited ? 'waited for' : 'found'} the first pass's copy in the store`);
      const d = await fetch(`${srv.url}/api/updates/${id}`, { method: 'DELETE',
        headers: { authorization: `Bearer ${token}` } });
      assert.equal(d.status, 200);
    } finally {
      lane.proc.kill('SIGTERM');
      await lane.exit;
      await restartWorker();
    }
    // Both stopped by now: each removed its scratch once its part was in the store.
    for (const name of ['lane', 'ladder'])
      assert.deepEqual(filesBelow(join(dir, name, 'media')), [], `${name} scratch`);
  });

// PATCH the update as its author: the response.
async function patchUpdate(id, body) {
  const r = await fetch(`${srv.url}/api/updates/${id}`, { method: 'PATCH', body: JSON.stringify(body),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  return { status: r.status, text: await r.text() };
}

async function untilVersion(id, version, ms = 180000) {
  const t0 = Date.now();
  for (;;) {
    const u = JSON.parse((await get(`/api/updates/${id}`)).body).update;
    if (u.media_version >= version && !u.trimming) {
      console.log(`# update ${id} version ${u.media_version} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return u;
    }
    if (Date.now() - t0 > ms || worker.exited)
      assert.fail(`update ${id} still at version ${u.media_version}\nworker:\n${worker.output}`);
    await sleep(250);
  }
}

test('trims publish versions in the store; a second trim deletes the version before the one it replaces',
  { skip }, async () => {
    assert.ok(segBytes, 'the streaming test ran');
    const id = update.id;
    const top = () => [...ls(`media/${id}/`).keys()].map((k) => k.slice(`media/${id}/`.length));

    let r = await patchUpdate(id, { trim: { start: 1, end: 5 } });
    assert.equal(r.status, 200, r.text);
    let u = await untilVersion(id, 1);
    assert.match(u.playback_url, new RegExp(`/${id}/v1/master\\.m3u8$`));
    assert.equal((await fetch(srv.url + u.playback_url)).status, 200);
    let keys = top();
    assert.ok(keys.includes('v1/master.m3u8') && keys.includes('v1/poster.jpg'), keys.join(' '));
    assert.ok(keys.includes('master.m3u8'), 'version 0 stays for whoever still watches it');

    r = await patchUpdate(id, { trim: { start: 2, end: 5 } });
    assert.equal(r.status, 200, r.text);
    u = await untilVersion(id, 2);
    keys = top();
    assert.ok(keys.includes('v2/master.m3u8'), keys.join(' '));
    assert.ok(keys.includes('v1/master.m3u8'), 'the version it replaced stays');
    assert.ok(!keys.includes('master.m3u8') && !keys.includes(segPath), 'version 0 is gone');
    assert.ok(keys.some((k) => k.startsWith('first/')), 'the first rendition stays');
    const seg = await get(`/media/${id}/${segPath}`);
    assert.equal(seg.status, 404, 'a deleted object is 404 through the server');
    // What follows fetches this version's segment.
    const master = (await get(`/media/${id}/v2/master.m3u8`)).body.toString();
    const variant = master.split('\n').find((l) => l && !l.startsWith('#'));
    const vp = (await get(`/media/${id}/v2/${variant}`)).body.toString();
    const vdir = variant.includes('/') ? variant.slice(0, variant.lastIndexOf('/') + 1) : '';
    segPath = `v2/${vdir}${vp.split('\n').find((l) => l && !l.startsWith('#'))}`;
    segBytes = (await get(`/media/${id}/${segPath}`)).body;
    assert.ok(segBytes.length > 1000);
    assert.deepEqual(filesBelow(join(srv.dir, 'media')), [], 'server media folder');
  });

test('download.mp4 is made from the store once, kept there, and served with a range', { skip }, async () => {
  assert.ok(segBytes, 'the trim test ran');
  const id = update.id;
  const version = segPath.split('/')[0];
  const t0 = Date.now();
  const r = await get(`/api/updates/${id}/download.mp4`);
  console.log(`# download.mp4 made from the store in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(r.status, 200, r.body.toString().slice(0, 300));
  assert.equal(r.headers.get('content-type'), 'video/mp4');
  assert.match(r.headers.get('content-disposition'), /^attachment; filename="Stored\.mp4"/);
  assert.equal(r.body.subarray(4, 8).toString(), 'ftyp');
  const keys = ls(`media/${id}/`);
  assert.equal(keys.get(`media/${id}/${version}/download.mp4`), r.body.length);
  assert.deepEqual(filesBelow(join(srv.dir, 'media')), [], 'nothing left on the server\'s disk');
  const part = await get(`/api/updates/${id}/download.mp4`, { range: 'bytes=0-99' });
  assert.equal(part.status, 206);
  assert.ok(part.body.equals(r.body.subarray(0, 100)));
});

test('profile pictures live in the store too', { skip }, async () => {
  const png = join(dir, 'me.png');
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:s=64x64',
    '-frames:v', '1', png]);
  const post = await fetch(`${srv.url}/api/me/avatar`, { method: 'POST', body: readFileSync(png),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' } });
  const text = await post.text();
  assert.equal(post.status, 200, text);
  const url = JSON.parse(text).user.avatar_url;
  const name = url.split('/').pop();
  assert.ok(ls('avatars/').has(`avatars/${name}`), 'the picture is an object');
  assert.deepEqual(filesBelow(join(srv.dir, 'avatars')).filter((f) => !f.startsWith('.')), [],
    'no picture on the server\'s disk');
  const pic = await get(url);
  assert.equal(pic.status, 200);
  assert.equal(pic.headers.get('content-type'), 'image/jpeg');
  assert.equal(pic.body[0], 0xff, 'a JPEG');
  const del = await fetch(`${srv.url}/api/me/avatar`, { method: 'DELETE',
    headers: { authorization: `Bearer ${token}` } });
  assert.equal(del.status, 200);
  assert.ok(!ls('avatars/').has(`avatars/${name}`), 'the object went with the picture');
  assert.equal((await get(url)).status, 404);
});

test('a live recording\'s first rendition starts once its upload is complete in the store', { skip }, async () => {
  const tus = { 'tus-resumable': '1.0.0', authorization: `Bearer ${token}` };
  const b64 = (x) => Buffer.from(x).toString('base64');
  const bytes = readFileSync(clip);
  const c = await fetch(`${srv.url}/api/uploads`, { method: 'POST', headers: { ...tus,
    'upload-defer-length': '1', 'upload-metadata': `filename ${b64('rec.mp4')},title ${b64('Live')}` } });
  assert.equal(c.status, 201, await c.text());
  const url = new URL(c.headers.get('location'), srv.url).href;
  const patch = async (from, to, last) => {
    const h = { ...tus, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(from) };
    if (last) h['upload-length'] = String(bytes.length);
    const r = await fetch(url, { method: 'PATCH', headers: h, body: bytes.subarray(from, to) });
    assert.equal(r.status, 204, await r.text());
  };
  const half = bytes.length >> 1;
  await patch(0, half, false);
  const info = JSON.parse((await get(new URL(url).pathname)).body);
  const id = info.update?.id;
  assert.ok(id, `the live upload has its update: ${JSON.stringify(info)}`);

  // The worker holds the first job but starts nothing while bytes arrive.
  const waiting = new RegExp(`update ${id}, waiting for its upload to be complete in the store`);
  const t0 = Date.now();
  while (!waiting.test(worker.output) && Date.now() - t0 < 60000) await sleep(100);
  assert.match(worker.output, waiting);
  await sleep(1000);
  let u = JSON.parse((await get(`/api/updates/${id}`)).body).update;
  assert.equal(u.status, 'uploading');
  assert.equal(u.playable, false);
  assert.equal(ls(`media/${id}/`).size, 0, 'nothing in the store before the upload ends');

  await patch(half, bytes.length, true);
  u = await settle(id);
  assert.equal(u.status, 'ready', `${u.error}\n${worker.output}`);
  const keys = [...ls(`media/${id}/`).keys()];
  assert.ok(keys.includes(`media/${id}/first/master.m3u8`), keys.join(' '));
  assert.ok(keys.includes(`media/${id}/master.m3u8`), keys.join(' '));
  const first = await get(`/media/${id}/first/master.m3u8`);
  assert.equal(first.status, 200);
  assert.deepEqual(filesBelow(join(worker.data, 'media')), [], 'worker scratch');

  const d = await fetch(`${srv.url}/api/updates/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.equal(d.status, 200);
  assert.equal(ls(`media/${id}/`).size, 0);
});

test('a one-request upload whose update cannot be recorded leaves nothing in the store', { skip }, async () => {
  assert.ok(update, 'the upload test ran');
  // The catalog fails (the test-only hook) once the body is on its way:
  // the bytes are all in the store when the update's row cannot be written.
  const fault = join(dir, 'catalog-fault');
  await srv.stop();
  srv = await startStoreServer(['--test-clock'], { HUBCAST_CATALOG_FAULT: fault });
  const objects = ls('uploads/');
  const started = mpus('uploads/');
  const bytes = readFileSync(clip);
  const req = request(`${srv.url}/api/updates?title=Unrecorded`, { method: 'POST', headers: {
    authorization: `Bearer ${token}`, 'content-type': 'video/mp4', 'content-length': bytes.length } });
  const answer = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
  });
  req.write(bytes.subarray(0, bytes.length >> 1));
  // Its multipart upload exists once the server took the request on.
  const t0 = Date.now();
  let mine = [];
  while (!(mine = mpus('uploads/').filter((m) => !started.includes(m))).length) {
    if (Date.now() - t0 > 60000) assert.fail(`no multipart upload was started\n${srv.output}`);
    await sleep(100);
  }
  assert.equal(mine.length, 1, mine.join(', '));
  writeFileSync(fault, '');
  req.end(bytes.subarray(bytes.length >> 1));
  const r = await answer;
  rmSync(fault);
  assert.equal(r.status, 503, r.body);
  assert.equal(JSON.parse(r.body).error.code, 'catalog_unavailable', r.body);
  // Neither the object its parts became nor the multipart upload stays.
  const key = mine[0].split(' ')[0];
  assert.ok(!ls('uploads/').has(key), `${key} is left in the store`);
  assert.deepEqual([...ls('uploads/').keys()].filter((k) => !objects.has(k)), [], 'no new object');
  assert.deepEqual(mpus('uploads/').filter((m) => !started.includes(m)), [], 'no multipart upload left');
  // The catalog answers again: the upload was never an update.
  const list = JSON.parse((await get('/api/updates?status=queued')).body);
  assert.ok(!JSON.stringify(list).includes('Unrecorded'), 'no update was recorded');
});

test('with --media-redirect, segments are a 302 to a presigned URL; playlists pass through', { skip }, async () => {
  assert.ok(segBytes, 'the streaming test ran');
  await srv.stop();
  srv = await startStoreServer(['--media-redirect', '60']);
  const id = update.id;

  const seg = await get(`/media/${id}/${segPath}`);
  assert.equal(seg.status, 302);
  const loc = seg.headers.get('location');
  assert.match(loc, /^http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=/);
  assert.match(loc, /X-Amz-Expires=60/);
  const r = await fetch(loc);
  assert.equal(r.status, 200);
  assert.ok(Buffer.from(await r.arrayBuffer()).equals(segBytes), 'the presigned URL serves the segment');
  const ranged = await fetch(loc, { headers: { range: 'bytes=0-99' } });
  assert.equal(ranged.status, 206);
  assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(segBytes.subarray(0, 100)));

  const cur = JSON.parse((await get(`/api/updates/${id}`)).body).update;
  const master = await fetch(srv.url + cur.playback_url, { redirect: 'manual' });
  assert.equal(master.status, 200, 'playlists are not redirected (their relative URIs)');
  assert.match(await master.text(), /^#EXTM3U/);

  // Access is checked before any redirect.
  const anon = await fetch(`${srv.url}/media/${id}/${segPath}`, { redirect: 'manual' });
  assert.equal(anon.status, 401);
});

test('deleting the update deletes its objects and its source', { skip }, async () => {
  assert.ok(update, 'the upload test ran');
  const id = update.id;
  assert.ok(ls(`media/${id}/`).size > 0);
  const r = await fetch(`${srv.url}/api/updates/${id}`, { method: 'DELETE',
    headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  assert.equal(ls(`media/${id}/`).size, 0, 'no media object left');
  assert.ok(!ls('uploads/').has(sourceKey), 'the source object is gone');
});
