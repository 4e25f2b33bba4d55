// tus-s3.test.mjs - tus uploads across servers through the S3 store: two
// `hubcast serve --workers 0` processes share a real PostgreSQL catalog
// (lib/postgres.mjs) and a real S3 store (Ceph's radosgw, lib/ceph.mjs),
// each with a data folder of its own. The PATCH requests of one ~20 MB
// upload alternate between them (6 MiB chunks and odd-sized ones, so that
// parts, tails and a part cut in the middle of a request all happen); the
// real tus-js-client uploads through one; a server killed with SIGKILL in
// the middle of a request leaves an upload that the other finishes once
// its lease lapses. Each time the completed object uploads/<id> holds the
// file's bytes, the update is queued with its jobs, nothing of the upload
// is in either data folder, and no multipart upload is left. A DELETE
// aborts the multipart upload and deletes the tail; expiry and the sweep
// of multipart uploads nobody knows do the same on their own. The
// one-request POST /api/updates streams into the store as well.
//
// Run: node --test tests/e2e/tus-s3.test.mjs (needs PostgreSQL 15 and the
// Ceph packages; see build-aux/deps.sh test).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tus from 'tus-js-client';
import { BIN, startServer, Client } from './lib/server.mjs';
import { startPostgres, postgresSkipReason } from './lib/postgres.mjs';
import { startCeph, cephSkipReason } from './lib/ceph.mjs';

const skip = postgresSkipReason() ?? cephSkipReason() ?? false;
const MiB = 1024 * 1024;
let pg;
let ceph;
let env;          // catalog and store, for every hubcast run
let a;
let b;
let aDir;         // A's data folder, kept when A is started again
let killed;       // A before its SIGKILL
let dir;
let token;        // an API token of the uploader
let video;        // the ~20 MB clip
let bytes;

// `hubcast ARGS` on the shared catalog and store: { status, stdout, stderr }.
function hc(args, { input, extra = {} } = {}) {
  const r = spawnSync(BIN, args, { input, env: { ...process.env, ...env, ...extra }, encoding: 'utf8',
    timeout: 120000, maxBuffer: 64 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function serve(extraEnv = {}, args = [], data) {
  return startServer({ workers: 0, env: { ...env, ...extraEnv }, args, data });
}

const sha = (buf) => createHash('sha256').update(buf).digest('hex');

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'hubcast-tus-s3-'));
  video = join(dir, 'clip.mp4');
  // A real clip of about 20 MB: lossless x264, so the size follows the duration.
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=30:d=10',
    '-f', 'lavfi', '-i', 'sine=d=10', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', video]);
  bytes = readFileSync(video);
  const t0 = Date.now();
  [pg, ceph] = await Promise.all([startPostgres(), startCeph()]);
  console.log(`# PostgreSQL after ${pg.seconds.toFixed(1)} s, Ceph after ${ceph.seconds.toFixed(1)} s ` +
    `(${((Date.now() - t0) / 1000).toFixed(1)} s together); the clip has ${bytes.length} bytes`);
  env = { ...pg.env, ...ceph.env };
  const m = hc(['migrate']);
  assert.equal(m.status, 0, m.stderr);
  [a, b] = await Promise.all([serve(), serve()]);
  const add = hc(['user', 'add', 'una@example.com', '--name', 'Una Uploader', '--password-stdin'],
    { input: 'a good password\n' });
  assert.equal(add.status, 0, add.stderr);
  const t = hc(['user', 'token', 'una@example.com']);
  assert.equal(t.status, 0, t.stderr);
  token = t.stdout.trim();
});

after(async () => {
  await a?.cleanup();
  await b?.cleanup();
  await Promise.all([pg?.stop(), ceph?.stop()]);
  for (const d of [dir, aDir]) if (d) rmSync(d, { recursive: true, force: true });
});

// A tus request with the token: { status, headers, text }.
async function tusReq(srv, method, path, { headers = {}, body, duplex } = {}) {
  const res = await fetch(srv.url + path, {
    method, body, duplex,
    headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', ...headers },
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const b64 = (s) => Buffer.from(s).toString('base64');

async function create(srv, length, title) {
  const r = await tusReq(srv, 'POST', '/api/uploads', {
    headers: { 'upload-length': String(length), 'upload-metadata': `filename ${b64('clip.mp4')},title ${b64(title)}` },
  });
  assert.equal(r.status, 201, r.text);
  return r.headers.get('location').split('/').pop();
}

async function patch(srv, id, offset, chunk, headers = {}) {
  return tusReq(srv, 'PATCH', `/api/uploads/${id}`, {
    headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), ...headers },
    body: chunk,
  });
}

async function headOffset(srv, id) {
  const r = await tusReq(srv, 'HEAD', `/api/uploads/${id}`);
  assert.equal(r.status, 200, `HEAD ${id} on ${srv.url}: ${r.status}`);
  return Number(r.headers.get('upload-offset'));
}

const row = (id) => {
  const [parts, tail, tailName, offset] = pg.psql(
    `SELECT s3_parts, s3_tail, s3_tail_name, "offset" FROM uploads WHERE id = '${id}'`).split('|');
  return { parts: Number(parts), tail: Number(tail), tailName, offset: Number(offset) };
};

// The multipart uploads in the store whose key is uploads/<id>.
function multiparts(id) {
  const r = hc(['s3', 'mpu-list', 'uploads/']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.startsWith(`uploads/${id} `));
}

// The completed object's bytes equal the clip, the update is queued with
// its jobs (first-playable and ladder), no multipart upload or tail is
// left, and neither data folder holds anything of the upload.
async function checkFinished(id, tails) {
  const got = join(dir, `${id}.got`);
  const g = hc(['s3', 'get', `uploads/${id}`, got]);
  assert.equal(g.status, 0, g.stderr);
  assert.equal(sha(readFileSync(got)), sha(bytes), 'the object holds the file, byte for byte');
  rmSync(got);
  const updateId = pg.psql(`SELECT update_id FROM uploads WHERE id = '${id}'`);
  assert.match(updateId, /^\d+$/, 'the upload became an update');
  assert.equal(pg.psql(`SELECT status FROM updates WHERE id = ${updateId}`), 'queued');
  assert.equal(pg.psql(`SELECT string_agg(kind || ':' || state, ',' ORDER BY kind) FROM jobs WHERE update_id = ${updateId}`),
    'first:queued,ladder:queued');
  assert.deepEqual(multiparts(id), [], 'the multipart upload is complete');
  for (const name of tails) {
    assert.notEqual(hc(['s3', 'head', `uploads/${id}.tail.${name}`]).status, 0, `tail ${name} is deleted`);
  }
  for (const s of [a, b].filter(Boolean)) noUploadBytes(s.dir);
  return updateId;
}

// Nothing of an upload in a data folder: DATA/uploads is empty and no file
// is anywhere near the size of a chunk.
function noUploadBytes(data) {
  const up = join(data, 'uploads');
  if (existsSync(up)) assert.deepEqual(readdirSync(up), [], `${up} is empty`);
  const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  for (const f of walk(data)) assert.ok(statSync(f).size < MiB, `${f} is not upload bytes`);
}

test('PATCH requests alternating between two servers make one upload in the store', { skip }, async () => {
  const id = await create(a, bytes.length, 'Across servers');
  assert.equal(multiparts(id).length, 1, 'the multipart upload is made with the upload');
  // 6 MiB: a part; odd sizes: a tail, then a tail that grows; 6 MiB onto a
  // 4 MiB tail: an 8 MiB part cut in the middle of the request and a new
  // tail; then a tail again, and the rest: the small last part.
  const sizes = [6 * MiB, MiB + 123, 3 * MiB + 7, 6 * MiB, 2 * MiB + 1];
  sizes.push(bytes.length - sizes.reduce((x, y) => x + y, 0));
  assert.ok(sizes.at(-1) > 0, 'the clip is longer than the chunks');
  const expect = [[1, 0], [1, MiB + 123], [1, 4 * MiB + 130], [2, 2 * MiB + 130], [2, 4 * MiB + 131]];
  const tails = new Set();
  let offset = 0;
  for (const [i, size] of sizes.entries()) {
    const [to, other] = i % 2 ? [b, a] : [a, b];
    assert.equal(await headOffset(other, id), offset, 'the other server knows the offset');
    if (i === 1) {
      // A stale offset is refused on either server, and changes nothing.
      const stale = await patch(other, id, offset - 1, bytes.subarray(offset - 1, offset + 10));
      assert.equal(stale.status, 409, stale.text);
      // A chunk whose checksum does not match is refused and forgotten.
      const bad = await patch(to, id, offset, bytes.subarray(offset, offset + size),
        { 'upload-checksum': `sha1 ${createHash('sha1').update('not these bytes').digest('base64')}` });
      assert.equal(bad.status, 460, bad.text);
      assert.equal(await headOffset(other, id), offset);
    }
    const chunk = bytes.subarray(offset, offset + size);
    const t0 = Date.now();
    const r = await patch(to, id, offset, chunk,
      i === 1 ? { 'upload-checksum': `sha1 ${createHash('sha1').update(chunk).digest('base64')}` } : {});
    assert.equal(r.status, 204, r.text);
    offset += size;
    assert.equal(Number(r.headers.get('upload-offset')), offset);
    console.log(`# PATCH ${i + 1} of ${size} bytes through ${to === a ? 'A' : 'B'}: ${Date.now() - t0} ms`);
    if (i < expect.length) {
      const s = row(id);
      assert.deepEqual([s.parts, s.tail, s.offset], [...expect[i], offset], `parts and tail after PATCH ${i + 1}`);
      if (s.tailName) tails.add(s.tailName);
      for (const srv of [a, b]) noUploadBytes(srv.dir);
    }
  }
  assert.equal(tails.size, 4, 'each stored tail had a name of its own');
  const updateId = await checkFinished(id, tails);
  // Both servers see the finished upload and its update.
  for (const srv of [a, b]) {
    const g = await tusReq(srv, 'GET', `/api/uploads/${id}`);
    assert.equal(g.status, 200, g.text);
    assert.equal(String(JSON.parse(g.text).upload.update_id), updateId);
  }
  const again = await patch(b, id, offset, Buffer.alloc(0));
  assert.equal(again.status, 409, 'a finished upload takes no more bytes');
});

test('a deferred-length upload (the recorder\'s) across both servers is its author\'s update until it ends', { skip }, async () => {
  const r = await tusReq(b, 'POST', '/api/uploads', {
    headers: { 'upload-defer-length': '1', 'upload-metadata': `filename ${b64('rec.webm')},title ${b64('Recorded')}` },
  });
  assert.equal(r.status, 201, r.text);
  const id = r.headers.get('location').split('/').pop();
  const live = JSON.parse((await tusReq(a, 'GET', `/api/uploads/${id}`)).text).update;
  assert.equal(live?.status, 'uploading', 'the update exists, seen by its author');
  assert.equal((await patch(a, id, 0, bytes.subarray(0, 6 * MiB))).status, 204);
  assert.equal((await patch(b, id, 6 * MiB, bytes.subarray(6 * MiB, 9 * MiB))).status, 204);
  assert.equal(row(id).tail, 3 * MiB);
  const end = await patch(a, id, 9 * MiB, bytes.subarray(9 * MiB), { 'upload-length': String(bytes.length) });
  assert.equal(end.status, 204, end.text);
  assert.equal(await checkFinished(id, []), String(live.id), 'the same update, published');
});

test('tus-js-client uploads the clip in one request through one server', { skip }, async () => {
  let url;
  const t0 = Date.now();
  await new Promise((resolve, reject) => {
    const up = new tus.Upload(bytes, {
      endpoint: `${a.url}/api/uploads`,
      headers: { authorization: `Bearer ${token}` },
      metadata: { filename: 'clip.mp4', filetype: 'video/mp4', title: 'With tus-js-client' },
      retryDelays: null,
      onError: reject,
      onSuccess: () => { url = up.url; resolve(); },
    });
    up.start();
  });
  console.log(`# tus-js-client: ${bytes.length} bytes in ${Date.now() - t0} ms`);
  const id = url.split('/').pop();
  // One request of ~20 MB: 8 MiB parts cut as the bytes came, then the last.
  assert.equal(row(id).parts, Math.ceil(bytes.length / (8 * MiB)));
  await checkFinished(id, []);
});

test('the one-request upload streams into the store too; a refused one leaves nothing', { skip }, async () => {
  const post = (body) => fetch(`${b.url}/api/updates?title=One+request`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' }, body,
  });
  const before = hc(['s3', 'mpu-list', 'uploads/']).stdout;
  const res = await post(bytes);
  const text = await res.text();
  assert.equal(res.status, 201, text);
  const updateId = JSON.parse(text).update.id;
  const id = pg.psql(`SELECT id FROM uploads WHERE update_id = ${updateId}`);
  assert.match(id, /^[A-Za-z0-9_-]+$/);
  await checkFinished(id, []);
  const refused = await post(Buffer.alloc(3 * MiB, 'not a video '));
  assert.equal(refused.status, 415, await refused.text());
  assert.equal(hc(['s3', 'mpu-list', 'uploads/']).stdout, before, 'no multipart upload is left');
});

test('a DELETE aborts the multipart upload and deletes the tail', { skip }, async () => {
  const id = await create(b, bytes.length, 'Retaken');
  assert.equal((await patch(b, id, 0, bytes.subarray(0, 6 * MiB))).status, 204);
  assert.equal((await patch(a, id, 6 * MiB, bytes.subarray(6 * MiB, 7 * MiB))).status, 204);
  const { tailName } = row(id);
  assert.ok(tailName, 'a tail is stored');
  assert.equal(hc(['s3', 'head', `uploads/${id}.tail.${tailName}`]).status, 0);
  assert.equal(multiparts(id).length, 1);
  const d = await tusReq(a, 'DELETE', `/api/uploads/${id}`);
  assert.equal(d.status, 204, d.text);
  assert.deepEqual(multiparts(id), [], 'no multipart upload is left');
  assert.notEqual(hc(['s3', 'head', `uploads/${id}.tail.${tailName}`]).status, 0, 'the tail is deleted');
  assert.equal((await tusReq(b, 'HEAD', `/api/uploads/${id}`)).status, 404);
});

test('expiry and the sweep abort what nobody finishes or knows', { skip }, async () => {
  // A server of its own (SQLite catalog, another prefix of the store, so
  // its sweep cannot touch the uploads of the shared catalog).
  const store = { ...ceph.env, HUBCAST_MEDIA_STORE: `s3://${ceph.bucket}/expiry` };
  const c = await startServer({ workers: 0, env: { ...store, HUBCAST_DATABASE: '' }, args: ['--upload-expiry', '4'] });
  try {
    const run = (args, input) => spawnSync(BIN, args[0] === 's3' ? args : [...args, '--data', c.dir],
      { input, env: { ...process.env, ...store, HUBCAST_DATABASE: '' }, encoding: 'utf8' });
    assert.equal(run(['user', 'add', 'eve@example.com', '--name', 'Eve', '--password-stdin'],
      'a good password\n').status, 0);
    const eve = new Client(c);
    assert.equal((await eve.login('eve@example.com', 'a good password')).status, 200);
    const orphan = run(['s3', 'mpu-create', 'uploads/orphan']);
    assert.equal(orphan.status, 0, orphan.stderr);
    // A tail whose upload has no row (its deletion failed, say).
    const tailFile = join(c.dir, 'tail.bin');
    writeFileSync(tailFile, bytes.subarray(0, 1000));
    const tail = run(['s3', 'put', 'uploads/orphantail.tail.x1', tailFile]);
    assert.equal(tail.status, 0, tail.stderr);
    const created = await eve.req('POST', '/api/uploads', {
      headers: { 'tus-resumable': '1.0.0', 'upload-length': String(bytes.length) },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.headers.get('location').split('/').pop();
    const p = await eve.req('PATCH', `/api/uploads/${id}`, {
      headers: { 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
      body: bytes.subarray(0, MiB),
    });
    assert.equal(p.status, 204, p.text);
    const list = () => {
      const l = run(['s3', 'mpu-list', 'uploads/']);
      assert.equal(l.status, 0, l.stderr);
      return l.stdout.trim().split('\n').filter(Boolean);
    };
    assert.equal(list().length, 2, 'the orphan and the upload are in the store');
    const tails = () => {
      const l = run(['s3', 'ls', 'uploads/']);
      assert.equal(l.status, 0, l.stderr);
      return l.stdout.trim().split('\n').filter((k) => k.includes('.tail.'));
    };
    const t0 = Date.now();
    while (list().length > 0 || tails().length > 0) {
      assert.ok(Date.now() - t0 < 60000, `still there after 60 s: ${list()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    console.log(`# expired and swept in ${Date.now() - t0} ms (expiry 4 s)`);
    // The server says so (its log line follows the abort it reports).
    const logged = [/removed abandoned upload/, /aborted the multipart upload of uploads\/orphan that no upload knows/,
      /deleted the tail uploads\/orphantail\.tail\.x1 that no upload knows/];
    while (!logged.every((re) => re.test(c.output))) {
      assert.ok(Date.now() - t0 < 60000, `not logged:\n${c.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The upload's own tail went with its expiry, not as an unknown one.
    assert.doesNotMatch(c.output, new RegExp(`deleted the tail uploads/${id}\\.tail`));
    rmSync(tailFile);
    noUploadBytes(c.dir);
  } finally {
    await c.cleanup();
  }
  assert.deepEqual(c.exited, { code: 0, signal: null });
  assert.doesNotMatch(c.output, /Sanitizer|runtime error/);
});

test('a server killed mid-request: the other finishes the upload once the lease lapses', { skip }, async () => {
  const id = await create(a, bytes.length, 'Survives a crash');
  // A request of 10 MiB, sent slowly: the first 8 MiB become a part the
  // catalog records, then the server dies with the rest in memory.
  let sent = 0;
  let stop;
  const stalled = new Promise((r) => { stop = r; });
  const body = new ReadableStream({
    async pull(ctl) {
      if (sent >= 10 * MiB) { await stalled; ctl.close(); return; }
      const n = Math.min(256 * 1024, 10 * MiB - sent);
      ctl.enqueue(bytes.subarray(sent, sent + n));
      sent += n;
    },
  });
  const pending = tusReq(a, 'PATCH', `/api/uploads/${id}`, {
    headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    body, duplex: 'half',
  }).catch((e) => e);
  const t0 = Date.now();
  while (row(id).parts < 1) {
    assert.ok(Date.now() - t0 < 60000, 'the first part is recorded');
    await new Promise((r) => setTimeout(r, 100));
  }
  await a.stop('SIGKILL');
  const killedAt = Date.now();
  stop();
  await pending;
  // B says where the upload is: the recorded part, not what A held.
  const offset = await headOffset(b, id);
  assert.equal(offset, 8 * MiB);
  // The dead server's lease lapses within seconds; until then, 423 (asked
  // with empty requests: a refused body would be cut off mid-way).
  let r;
  let refused = 0;
  for (;;) {
    r = await patch(b, id, offset, Buffer.alloc(0));
    if (r.status !== 423) break;
    refused++;
    assert.ok(Date.now() - killedAt < 60000, 'the lease lapses');
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(r.status, 204, r.text);
  r = await patch(b, id, offset, bytes.subarray(offset, offset + 6 * MiB));
  assert.equal(r.status, 204, r.text);
  console.log(`# resumed through the other server ${Date.now() - killedAt} ms after the SIGKILL ` +
    `(${refused} PATCH answered 423 meanwhile)`);
  const rest = await patch(b, id, offset + 6 * MiB, bytes.subarray(offset + 6 * MiB));
  assert.equal(rest.status, 204, rest.text);
  aDir = a.dir;
  killed = a;
  a = await serve({}, [], aDir);    // the same folder again, for the checks
  await checkFinished(id, []);
});

test('the servers stop cleanly and logged no sanitizer report', { skip }, async () => {
  for (const s of [a, b]) assert.deepEqual(await s.stop(), { code: 0, signal: null });
  for (const s of [killed, a, b].filter(Boolean)) {
    assert.doesNotMatch(s.output, /Sanitizer|runtime error/, s.output.slice(-4000));
  }
});
