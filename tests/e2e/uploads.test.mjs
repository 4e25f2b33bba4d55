// uploads.test.mjs - getting a video in and out, end to end: tus-js-client
// (the real client) and curl against the real server, the stored bytes
// compared with the source, the transcoded result served back with Range,
// validators and access checks, and every traversal trick refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, symlinkSync, mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import * as tus from 'tus-js-client';
import { startServer, addUser, apiToken } from './lib/server.mjs';
import { api as request } from './lib/api.mjs';

let srv, admin, member, other, tokMember, tokOther, tokAdmin, dir;
const fx = {};

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-up-'));
  fx.small = join(dir, 'small.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=2', '-f', 'lavfi', '-i', 'sine=d=2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', fx.small]);
  fx.big = join(dir, 'big.mp4');   // ~2.5 MB so that chunked uploads take many requests
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=25:d=4', '-f', 'lavfi', '-i', 'sine=d=4',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '5M', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-shortest', fx.big]);
  srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast', '--max-upload', '8M',
    '--max-open-uploads', '6', '--cors-origins', 'http://app.example'] });
  admin = await addUser(srv, 'ceo@example.com', 'Ceo', 'admin');
  member = await addUser(srv, 'm@example.com', 'Mia Member', 'member');
  other = await addUser(srv, 'o@example.com', 'Oscar Other', 'member');
  tokMember = apiToken(srv, 'm@example.com');
  tokOther = apiToken(srv, 'o@example.com');
  tokAdmin = apiToken(srv, 'ceo@example.com');
});

after(async () => {
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (buf) => createHash('sha256').update(buf).digest('hex');

function tusUpload(source, opts = {}) {
  return new Promise((resolve, reject) => {
    const up = new tus.Upload(source, {
      endpoint: `${srv.url}/api/uploads`,
      headers: { authorization: `Bearer ${opts.token ?? tokMember}` },
      metadata: { filename: 'clip.mp4', filetype: 'video/mp4', title: 'A tus upload', kind: 'weekly', ...opts.metadata },
      chunkSize: opts.chunkSize ?? Infinity,
      retryDelays: null,
      uploadUrl: opts.uploadUrl,
      uploadLengthDeferred: opts.deferred ?? false,
      onError: reject,
      onProgress: (sent, total) => {
        if (opts.abortAt && sent > total * opts.abortAt && !up.stopped) {
          up.stopped = true;
          up.abort().then(() => resolve({ aborted: true, url: up.url }));
        }
      },
      onSuccess: () => resolve(up),
    });
    up.start();
  });
}

const api = (method, path, token = tokMember, body) => request(srv, method, path, token, body);

async function waitReady(id, token = tokMember, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await api('GET', `/api/updates/${id}`, token);
    if (r.data?.update?.status === 'ready' || r.data?.update?.status === 'failed') return r.data.update;
    if (Date.now() > end) throw new Error(`update ${id} not ready: ${r.text}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

function uploadIdOf(url) {
  return url.split('/').pop();
}

function storedPart(id) {
  return readFileSync(join(srv.dir, 'uploads', `${id}.part`));
}

// A raw HTTP request with the path sent exactly as written (fetch would
// normalise "..").
function raw(path, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('OPTIONS advertises tus 1.0.0, its extensions, the size limit and checksum algorithms', async () => {
  const r = await fetch(`${srv.url}/api/uploads`, { method: 'OPTIONS' });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('tus-version'), '1.0.0');
  for (const ext of ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration', 'checksum'])
    assert.ok(r.headers.get('tus-extension').split(',').includes(ext), ext);
  assert.equal(r.headers.get('tus-max-size'), String(8 * 1024 * 1024));
  assert.equal(r.headers.get('tus-checksum-algorithm'), 'sha1,sha256');
});

test('tus-js-client uploads a whole file: stored byte for byte, and it becomes a ready update', async () => {
  const src = readFileSync(fx.small);
  const up = await tusUpload(src, { metadata: { title: 'Week 48: shipped uploads' } });
  const id = uploadIdOf(up.url);
  assert.equal(sha(storedPart(id)), sha(src));
  const info = await api('GET', `/api/uploads/${id}`);
  assert.equal(info.status, 200);
  assert.equal(info.data.upload.offset, src.length);
  assert.ok(info.data.update, 'the upload names its update');
  assert.equal(info.data.update.title, 'Week 48: shipped uploads');
  const ready = await waitReady(info.data.update.id);
  assert.equal(ready.status, 'ready');
  assert.ok(ready.renditions.length >= 1);
  assert.match(ready.playback_url, /^\/media\/t\/[^/]+\/\d+\/master\.m3u8$/);
  assert.ok(ready.duration > 1.5 && ready.duration < 2.5);
});

test('an upload aborted by the client resumes from where the server has it', async () => {
  const src = readFileSync(fx.big);
  const first = await tusUpload(src, { chunkSize: 256 * 1024, abortAt: 0.4 });
  assert.equal(first.aborted, true);
  const url = first.url;
  const id = uploadIdOf(url);
  const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${tokMember}`, 'tus-resumable': '1.0.0' } });
  const offset = Number(head.headers.get('upload-offset'));
  assert.ok(offset > 0 && offset < src.length, `offset ${offset}`);
  await tusUpload(src, { uploadUrl: url, chunkSize: 256 * 1024 });
  assert.equal(sha(storedPart(id)), sha(src));
});

test('an upload survives the server being SIGKILLed mid-way and restarted', async () => {
  const s = await startServer({ workers: 0 });
  try {
    await addUser(s, 'k@example.com', 'Kim', 'member');
    const tok = apiToken(s, 'k@example.com');
    const src = readFileSync(fx.big);
    let url;
    const first = new Promise((resolve) => {
      const up = new tus.Upload(src, {
        endpoint: `${s.url}/api/uploads`, headers: { authorization: `Bearer ${tok}` },
        metadata: { filename: 'k.mp4', title: 'Killed' }, chunkSize: 128 * 1024, retryDelays: null,
        onProgress: (sent, total) => {
          url = up.url;
          if (sent > total / 2 && !s.exited) s.proc.kill('SIGKILL');
        },
        onError: () => resolve('error'),
        onSuccess: () => resolve('success'),
      });
      up.start();
    });
    assert.equal(await first, 'error');
    await s.exit;
    const s2 = await startServer({ data: s.dir, workers: 0 });
    try {
      const id = uploadIdOf(url);
      const url2 = `${s2.url}/api/uploads/${id}`;
      const head = await fetch(url2, { method: 'HEAD', headers: { authorization: `Bearer ${tok}`, 'tus-resumable': '1.0.0' } });
      assert.equal(head.status, 200);
      const offset = Number(head.headers.get('upload-offset'));
      assert.ok(offset > 0 && offset < src.length);
      await new Promise((resolve, reject) => {
        const up = new tus.Upload(src, {
          endpoint: `${s2.url}/api/uploads`, uploadUrl: url2, headers: { authorization: `Bearer ${tok}` },
          chunkSize: 128 * 1024, retryDelays: null, onError: reject, onSuccess: resolve,
        });
        up.start();
      });
      assert.equal(sha(readFileSync(join(s.dir, 'uploads', `${id}.part`))), sha(src));
      const info = await fetch(`${s2.url}/api/uploads/${id}`, { headers: { authorization: `Bearer ${tok}` } });
      assert.ok((await info.json()).update.id > 0);
    } finally {
      await s2.stop();
    }
  } finally {
    await s.cleanup();
  }
});

test('a recording of unknown length uploads in chunks with Upload-Defer-Length', async () => {
  const src = readFileSync(fx.big);
  const parts = [];
  for (let i = 0; i < src.length; i += 300 * 1024) parts.push(src.subarray(i, i + 300 * 1024));
  const stream = Readable.from(parts);
  const up = await tusUpload(stream, { deferred: true, chunkSize: 300 * 1024, metadata: { title: 'Recorded' } });
  const id = uploadIdOf(up.url);
  assert.equal(sha(storedPart(id)), sha(src));
  const info = await api('GET', `/api/uploads/${id}`);
  assert.equal(info.data.upload.length, src.length);
  assert.ok(info.data.update);
});

async function createUpload(length, token = tokMember, extra = {}) {
  const r = await fetch(`${srv.url}/api/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(length), ...extra },
  });
  return { status: r.status, location: r.headers.get('location'), body: await r.text() };
}

test('a chunk whose checksum does not match is refused with 460 and discarded', async () => {
  const src = readFileSync(fx.small);
  const c = await createUpload(src.length);
  assert.equal(c.status, 201);
  const url = srv.url + c.location;
  const chunk = src.subarray(0, 4096);
  const wrong = createHash('sha1').update('something else').digest('base64');
  const bad = await fetch(url, {
    method: 'PATCH', body: chunk,
    headers: { authorization: `Bearer ${tokMember}`, 'tus-resumable': '1.0.0', 'upload-offset': '0',
      'content-type': 'application/offset+octet-stream', 'upload-checksum': `sha1 ${wrong}` },
  });
  assert.equal(bad.status, 460);
  const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${tokMember}`, 'tus-resumable': '1.0.0' } });
  assert.equal(head.headers.get('upload-offset'), '0');
  const right = createHash('sha256').update(chunk).digest('base64');
  const good = await fetch(url, {
    method: 'PATCH', body: chunk,
    headers: { authorization: `Bearer ${tokMember}`, 'tus-resumable': '1.0.0', 'upload-offset': '0',
      'content-type': 'application/offset+octet-stream', 'upload-checksum': `sha256 ${right}` },
  });
  assert.equal(good.status, 204);
  assert.equal(good.headers.get('upload-offset'), '4096');
  await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${tokMember}`, 'tus-resumable': '1.0.0' } });
});

test('an abandoned upload expires: HEAD answers 404 or 410 and its bytes are removed', async () => {
  const s = await startServer({ args: ['--upload-expiry', '1'] });
  try {
    await addUser(s, 'e@example.com', 'Eve', 'member');
    const tok = apiToken(s, 'e@example.com');
    const r = await fetch(`${s.url}/api/uploads`, {
      method: 'POST', headers: { authorization: `Bearer ${tok}`, 'tus-resumable': '1.0.0', 'upload-length': '1000' },
    });
    assert.equal(r.status, 201);
    assert.ok(r.headers.get('upload-expires'));
    const id = r.headers.get('location').split('/').pop();
    await new Promise((res) => setTimeout(res, 2500));
    const head = await fetch(`${s.url}/api/uploads/${id}`, { method: 'HEAD', headers: { authorization: `Bearer ${tok}`, 'tus-resumable': '1.0.0' } });
    assert.ok([404, 410].includes(head.status), `status ${head.status}`);
    // The scheduler sweeps every few seconds.
    for (let i = 0; i < 50 && existsSync(join(s.dir, 'uploads', `${id}.part`)); i++)
      await new Promise((res) => setTimeout(res, 200));
    assert.equal(existsSync(join(s.dir, 'uploads', `${id}.part`)), false);
  } finally {
    await s.cleanup();
  }
});

test('termination deletes an unfinished upload', async () => {
  const c = await createUpload(5000);
  const url = srv.url + c.location;
  const id = uploadIdOf(url);
  assert.ok(existsSync(join(srv.dir, 'uploads', `${id}.part`)));
  const d = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${tokMember}`, 'tus-resumable': '1.0.0' } });
  assert.equal(d.status, 204);
  assert.equal(existsSync(join(srv.dir, 'uploads', `${id}.part`)), false);
  const h = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${tokMember}`, 'tus-resumable': '1.0.0' } });
  assert.equal(h.status, 404);
});

test('someone else\'s upload answers 404 to HEAD, PATCH, GET and DELETE', async () => {
  const c = await createUpload(5000);
  const url = srv.url + c.location;
  const h = { authorization: `Bearer ${tokOther}`, 'tus-resumable': '1.0.0' };
  assert.equal((await fetch(url, { method: 'HEAD', headers: h })).status, 404);
  assert.equal((await fetch(url, { headers: h })).status, 404);
  assert.equal((await fetch(url, { method: 'PATCH', headers: { ...h, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: Buffer.alloc(10) })).status, 404);
  assert.equal((await fetch(url, { method: 'DELETE', headers: h })).status, 404);
  const mine = await fetch(url, { method: 'HEAD', headers: { ...h, authorization: `Bearer ${tokMember}` } });
  assert.equal(mine.status, 200);
  await fetch(url, { method: 'DELETE', headers: { ...h, authorization: `Bearer ${tokMember}` } });
});

test('an upload larger than the limit is refused with 413 before its bytes are read', async () => {
  const c = await createUpload(9 * 1024 * 1024);
  assert.equal(c.status, 413);
  assert.match(JSON.parse(c.body).error.message, /limit/);
});

test('a PATCH refused past the size limit (deferred length) leaves no byte past the stored offset', async () => {
  const { statSync } = await import('node:fs');
  const hdr = { authorization: `Bearer ${tokMember}`, 'tus-resumable': '1.0.0' };
  const c = await fetch(`${srv.url}/api/uploads`, { method: 'POST', headers: { ...hdr, 'upload-defer-length': '1' } });
  assert.equal(c.status, 201);
  const url = srv.url + c.headers.get('location');
  const id = uploadIdOf(url);
  const patch = (offset, body) => fetch(url, { method: 'PATCH', body,
    headers: { ...hdr, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) } });
  const head = readFileSync(fx.big).subarray(0, 1024 * 1024);
  const first = await patch(0, head);
  assert.equal(first.status, 204);
  assert.equal(statSync(join(srv.dir, 'uploads', `${id}.part`)).size, head.length);
  // 8 MB more would pass --max-upload 8M: refused, and the bytes of the
  // refused request do not stay on disk.
  const tooMuch = await patch(head.length, Buffer.alloc(8 * 1024 * 1024, 7));
  assert.equal(tooMuch.status, 413);
  assert.equal((await tooMuch.json()).error.code, 'too_large');
  assert.equal(statSync(join(srv.dir, 'uploads', `${id}.part`)).size, head.length);
  const h = await fetch(url, { method: 'HEAD', headers: hdr });
  assert.equal(h.headers.get('upload-offset'), String(head.length));
  // The upload carries on from the stored offset.
  const more = await patch(head.length, Buffer.alloc(1000, 1));
  assert.equal(more.status, 204);
  assert.equal(statSync(join(srv.dir, 'uploads', `${id}.part`)).size, head.length + 1000);
  assert.equal((await fetch(url, { method: 'DELETE', headers: hdr })).status, 204);
});

test('a PATCH refused for sending past the declared length keeps only the stored bytes', async () => {
  const { statSync } = await import('node:fs');
  const hdr = { authorization: `Bearer ${tokMember}`, 'tus-resumable': '1.0.0' };
  const c = await fetch(`${srv.url}/api/uploads`, { method: 'POST', headers: { ...hdr, 'upload-length': '200000' } });
  const url = srv.url + c.headers.get('location');
  const id = uploadIdOf(url);
  const body = Buffer.concat([readFileSync(fx.small).subarray(0, 4096), Buffer.alloc(300000, 3)]);
  const r = await fetch(url, { method: 'PATCH', body,
    headers: { ...hdr, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' } });
  assert.equal(r.status, 400);
  assert.equal(statSync(join(srv.dir, 'uploads', `${id}.part`)).size, 0);
  assert.equal((await fetch(url, { method: 'DELETE', headers: hdr })).status, 204);
});

test('a member cannot post an all-hands update', async () => {
  const meta = `kind ${Buffer.from('allhands').toString('base64')}`;
  const c = await createUpload(1000, tokMember, { 'upload-metadata': meta });
  assert.equal(c.status, 403);
  const one = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${tokMember}`,
    '-H', 'Content-Type: video/mp4', '--data-binary', `@${fx.small}`, `${srv.url}/api/updates?title=x&kind=allhands`], { encoding: 'utf8' });
  assert.equal(one.stdout, '403');
});

function curlUpload(file, query, token = tokMember, extra = []) {
  const r = spawnSync('curl', ['-s', '-w', '\n%{http_code}', '-H', `Content-Type: video/mp4`,
    ...(token ? ['-H', `Authorization: Bearer ${token}`] : []), ...extra,
    '--data-binary', `@${file}`, `${srv.url}/api/updates?${query}`], { encoding: 'utf8' });
  const lines = r.stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  let data = null;
  try { data = JSON.parse(lines.join('\n')); } catch { /* not JSON */ }
  return { status, data };
}

test('curl uploads a clip in one request and gets the update back with 201', async () => {
  const r = curlUpload(fx.small, 'title=Week+48&description=From+curl');
  assert.equal(r.status, 201);
  assert.equal(r.data.update.title, 'Week 48');
  assert.equal(r.data.update.description, 'From curl');
  assert.equal(r.data.update.status, 'queued');
  assert.match(r.data.update.iso_week, /^\d{4}-W\d{2}$/);
  const ready = await waitReady(r.data.update.id);
  assert.equal(ready.status, 'ready');
});

test('curl refusals: too large, not a video, a playlist, no auth', async () => {
  const { readdirSync } = await import('node:fs');
  const before = readdirSync(join(srv.dir, 'uploads')).sort();
  const big = join(dir, 'toobig.mp4');
  writeFileSync(big, Buffer.concat([readFileSync(fx.small).subarray(0, 64), Buffer.alloc(9 * 1024 * 1024)]));
  const tooBig = curlUpload(big, 'title=big');
  assert.equal(tooBig.status, 413);
  const html = join(dir, 'page.mp4');
  writeFileSync(html, '<!DOCTYPE html><html><body>hello</body></html>');
  const notVideo = curlUpload(html, 'title=html');
  assert.equal(notVideo.status, 415);
  assert.match(notVideo.data.error.message, /not a video/);
  const m3u = join(dir, 'list.mp4');
  writeFileSync(m3u, '#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/seg.ts\n');
  const playlist = curlUpload(m3u, 'title=pl');
  assert.equal(playlist.status, 415);
  assert.equal(playlist.data.error.message, 'this file is a playlist, not a video');
  const anon = curlUpload(fx.small, 'title=anon', null);
  assert.equal(anon.status, 401);
  const empty = join(dir, 'empty.mp4');
  writeFileSync(empty, '');
  assert.equal(curlUpload(empty, 'title=empty').status, 400);
  // Nothing of the refused uploads is left behind: no file, no update.
  assert.deepEqual(readdirSync(join(srv.dir, 'uploads')).sort(), before);
  const rows = (await api('GET', '/api/updates?limit=200', tokMember)).data.updates.filter((u) => ['big', 'html', 'pl', 'anon', 'empty'].includes(u.title));
  assert.equal(rows.length, 0);
});

test('too many unfinished uploads are refused with 429', async () => {
  const s = await startServer({ args: ['--max-open-uploads', '2'] });
  try {
    await addUser(s, 'q@example.com', 'Quinn', 'member');
    const tok = apiToken(s, 'q@example.com');
    const mk = () => fetch(`${s.url}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'tus-resumable': '1.0.0', 'upload-length': '100' } });
    assert.equal((await mk()).status, 201);
    assert.equal((await mk()).status, 201);
    const third = await mk();
    assert.equal(third.status, 429);
    assert.match((await third.json()).error.message, /unfinished uploads/);
  } finally {
    await s.cleanup();
  }
});

// ---- media delivery ----

let published;   // a ready update

async function readyUpdate() {
  if (published) return published;
  const r = curlUpload(fx.small, 'title=Media+test');
  published = await waitReady(r.data.update.id);
  return published;
}

test('media: the master playlist, segments, poster and storyboard have the right types', async () => {
  const u = await readyUpdate();
  const base = u.playback_url.replace(/master\.m3u8$/, '');
  const master = await fetch(srv.url + u.playback_url);
  assert.equal(master.status, 200);
  assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.match(master.headers.get('cache-control'), /no-cache/);
  const text = await master.text();
  const variant = text.split('\n').find((l) => l.endsWith('.m3u8') && !l.startsWith('#'));
  const vtext = await (await fetch(srv.url + base + variant)).text();
  const seg = vtext.split('\n').find((l) => l.endsWith('.m4s'));
  const vdir = variant.split('/')[0];
  const s = await fetch(`${srv.url}${base}${vdir}/${seg}`);
  assert.equal(s.status, 200);
  assert.equal(s.headers.get('content-type'), 'video/mp4');
  assert.match(s.headers.get('cache-control'), /immutable/);
  const poster = await fetch(srv.url + u.poster_url);
  assert.equal(poster.headers.get('content-type'), 'image/jpeg');
  const vtt = await fetch(srv.url + u.storyboard_url);
  assert.match(vtt.headers.get('content-type'), /^text\/vtt/);
  assert.match(await vtt.text(), /^WEBVTT/);
});

test('media: Range requests get 206 with the right bytes, and a bad range 416', async () => {
  const u = await readyUpdate();
  const url = srv.url + u.poster_url;
  const full = Buffer.from(await (await fetch(url)).arrayBuffer());
  const part = await fetch(url, { headers: { range: 'bytes=10-109' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 10-109/${full.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), full.subarray(10, 110));
  const tail = await fetch(url, { headers: { range: 'bytes=-50' } });
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), full.subarray(full.length - 50));
  const bad = await fetch(url, { headers: { range: `bytes=${full.length + 10}-` } });
  assert.equal(bad.status, 416);
});

test('media: ETag and Last-Modified revalidate with 304', async () => {
  const u = await readyUpdate();
  const url = srv.url + u.poster_url;
  const first = await fetch(url);
  const etag = first.headers.get('etag');
  assert.ok(etag);
  const again = await fetch(url, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  const since = await fetch(url, { headers: { 'if-modified-since': first.headers.get('last-modified') } });
  assert.equal(since.status, 304);
});

test('media: anonymous requests get 401, members and valid tokens get the file, forged tokens do not', async () => {
  const u = await readyUpdate();
  const plain = `/media/${u.id}/poster.jpg`;
  assert.equal((await raw(plain)).status, 401);
  assert.equal((await raw(plain, { authorization: `Bearer ${tokOther}` })).status, 200);
  assert.equal((await raw(plain, { cookie: member.cookie })).status, 200);
  assert.equal((await raw(u.poster_url)).status, 200);
  const forged = u.poster_url.replace(/\/t\/(\d+)\.[^/]+\//, '/t/$1.AAAAAAAAAAAAAAAAAAAAAA/');
  assert.equal((await raw(forged)).status, 401);
  const otherId = u.poster_url.replace(/\/(\d+)\/poster\.jpg$/, (m, id) => `/${Number(id) + 1000}/poster.jpg`);
  assert.notEqual((await raw(otherId)).status, 200);
  const expired = u.poster_url.replace(/\/t\/\d+\./, '/t/1000.');
  assert.equal((await raw(expired)).status, 401);
});

test('media: no path escapes the media folder', async () => {
  const u = await readyUpdate();
  const auth = { authorization: `Bearer ${tokMember}` };
  // A symlink planted inside the published folder must not be followed.
  symlinkSync('/etc/passwd', join(srv.dir, 'media', String(u.id), 'planted.jpg'));
  symlinkSync(join(srv.dir), join(srv.dir, 'media', String(u.id), 'up'));
  const tricks = [
    `/media/${u.id}/../../hubcast.db`,
    `/media/${u.id}/%2e%2e/%2e%2e/hubcast.db`,
    `/media/${u.id}/%252e%252e/%252e%252e/hubcast.db`,
    `/media/${u.id}/..%2f..%2fhubcast.db`,
    `/media/${u.id}/%2fetc%2fpasswd`,
    `/media/${u.id}//etc/passwd`,
    `/media/${u.id}/planted.jpg`,
    `/media/${u.id}/up/hubcast.db`,
    `/media/${u.id}/.%2e/.%2e/hubcast.db`,
    `/media/..%2f..%2fetc/passwd`,
    `${u.poster_url.replace('poster.jpg', '')}../../hubcast.db`,
  ];
  for (const p of tricks) {
    const r = await raw(p, auth);
    assert.ok(r.status === 404 || r.status === 400, `${p} -> ${r.status}`);
    assert.ok(!r.body.includes('root:') && !r.body.includes('SQLite format'), p);
  }
});

test('media and uploads answer CORS only for configured origins', async () => {
  const u = await readyUpdate();
  const ok = await raw(u.poster_url, { origin: 'http://app.example' });
  assert.equal(ok.headers['access-control-allow-origin'], 'http://app.example');
  const no = await raw(u.poster_url, { origin: 'http://evil.example' });
  assert.equal(no.headers['access-control-allow-origin'], undefined);
  const pre = await raw('/api/uploads', { origin: 'http://app.example', 'access-control-request-method': 'PATCH' }, 'OPTIONS');
  assert.equal(pre.status, 204);
  assert.match(pre.headers['access-control-allow-headers'], /Upload-Offset/);
  const opt = await raw('/api/uploads', { origin: 'http://app.example' }, 'OPTIONS');
  assert.match(opt.headers['access-control-expose-headers'], /Upload-Offset/);
});

// ---- the updates API ----

test('updates: list by week, author and kind; the week view says who posted and who has not', async () => {
  const u = await readyUpdate();
  const week = u.iso_week;
  const list = await api('GET', `/api/updates?week=${week}&author=${u.author.id}&status=ready`);
  assert.equal(list.status, 200);
  assert.ok(list.data.updates.some((x) => x.id === u.id));
  assert.ok(list.data.total >= 1);
  const none = await api('GET', `/api/updates?week=2020-W01`);
  assert.equal(none.data.updates.length, 0);
  assert.equal((await api('GET', '/api/updates?week=nonsense')).status, 400);
  assert.equal((await api('GET', '/api/updates?limit=0')).status, 400);
  const w = await api('GET', `/api/weeks/${week}`, tokOther);
  assert.equal(w.status, 200);
  assert.ok(w.data.posted.some((p) => p.name === 'Mia Member'));
  assert.ok(w.data.missing.some((p) => p.name === 'Oscar Other'));
  assert.ok(!w.data.missing.some((p) => p.name === 'Mia Member'));
  const cur = await api('GET', '/api/weeks/current');
  assert.equal(cur.status, 200);
  assert.match(cur.data.week, /^\d{4}-W\d{2}$/);
});

test('updates: an all-hands update by an admin is listed first in its week', async () => {
  const r = curlUpload(fx.small, 'title=All+hands&kind=allhands', tokAdmin);
  assert.equal(r.status, 201);
  const ah = await waitReady(r.data.update.id, tokAdmin);
  const w = await api('GET', `/api/weeks/${ah.iso_week}`, tokOther);
  assert.equal(w.data.allhands[0].id, ah.id);
  const list = await api('GET', `/api/updates?week=${ah.iso_week}`, tokOther);
  assert.equal(list.data.updates[0].kind, 'allhands');
});

test('updates: only the author or an admin edits; others get 403; bad fields 400', async () => {
  const u = await readyUpdate();
  assert.equal((await api('PATCH', `/api/updates/${u.id}`, tokOther, { title: 'Hijacked' })).status, 403);
  assert.equal((await api('PATCH', `/api/updates/${u.id}`, tokMember, { title: 7 })).status, 400);
  assert.equal((await api('PATCH', `/api/updates/${u.id}`, tokMember, { colour: 'red' })).status, 400);
  const ok = await api('PATCH', `/api/updates/${u.id}`, tokMember, { title: 'Renamed', description: 'Details' });
  assert.equal(ok.status, 200);
  assert.equal(ok.data.update.title, 'Renamed');
  const byAdmin = await api('PATCH', `/api/updates/${u.id}`, tokAdmin, { description: 'Edited by admin' });
  assert.equal(byAdmin.data.update.description, 'Edited by admin');
  assert.equal((await api('GET', '/api/updates/999999')).status, 404);
});

test('updates: views record the furthest position; only the author and admins see who watched', async () => {
  const u = await readyUpdate();
  assert.equal((await api('POST', `/api/updates/${u.id}/views`, tokOther, { position: 0.5 })).status, 200);
  assert.equal((await api('POST', `/api/updates/${u.id}/views`, tokOther, { position: 0.2 })).data.viewed.position, 0.5);
  const done = await api('POST', `/api/updates/${u.id}/views`, tokOther, { position: u.duration });
  assert.equal(done.data.viewed.completed, true);
  assert.equal((await api('POST', `/api/updates/${u.id}/views`, tokOther, { position: -1 })).status, 400);
  assert.equal((await api('GET', `/api/updates/${u.id}/views`, tokOther)).status, 403);
  const views = await api('GET', `/api/updates/${u.id}/views`, tokMember);
  assert.equal(views.status, 200);
  const o = views.data.views.find((v) => v.user.name === 'Oscar Other');
  assert.equal(o.completed, true);
  const seen = await api('GET', `/api/updates/${u.id}`, tokOther);
  assert.equal(seen.data.update.viewed.completed, true);
});

test('updates: comments at a time in the video; reactions; only one\'s own are deleted', async () => {
  const u = await readyUpdate();
  const c = await api('POST', `/api/updates/${u.id}/comments`, tokOther, { body: 'Nice demo at 1s', at_seconds: 1.2 });
  assert.equal(c.status, 201);
  assert.equal(c.data.comment.user.name, 'Oscar Other');
  assert.equal(c.data.comment.at_seconds, 1.2);
  assert.equal((await api('POST', `/api/updates/${u.id}/comments`, tokOther, { body: '' })).status, 400);
  assert.equal((await api('POST', `/api/updates/${u.id}/comments`, tokOther, { body: 'x', at_seconds: 'soon' })).status, 400);
  const list = await api('GET', `/api/updates/${u.id}/comments`, tokMember);
  assert.ok(list.data.comments.some((x) => x.body === 'Nice demo at 1s'));
  assert.equal((await api('DELETE', `/api/comments/${c.data.comment.id}`, tokMember)).status, 403);
  assert.equal((await api('DELETE', `/api/comments/${c.data.comment.id}`, tokOther)).status, 200);
  const r1 = await api('POST', `/api/updates/${u.id}/reactions`, tokOther, { emoji: '🎉', at_seconds: 0.5 });
  assert.equal(r1.status, 201);
  const r2 = await api('POST', `/api/updates/${u.id}/reactions`, tokOther, { emoji: '🎉' });
  assert.equal(r2.status, 200);   // the same reaction twice is one reaction
  assert.equal((await api('POST', `/api/updates/${u.id}/reactions`, tokOther, { emoji: '<b>x</b>' })).status, 400);
  const rs = await api('GET', `/api/updates/${u.id}/reactions`, tokMember);
  assert.equal(rs.data.reactions.filter((x) => x.emoji === '🎉').length, 1);
  assert.equal((await api('DELETE', `/api/reactions/${r1.data.reaction.id}`, tokMember)).status, 403);
  assert.equal((await api('DELETE', `/api/reactions/${r1.data.reaction.id}`, tokOther)).status, 200);
});

test('updates: deleting an update removes it and its media', async () => {
  const r = curlUpload(fx.small, 'title=To+delete');
  const u = await waitReady(r.data.update.id);
  const mediaDir = join(srv.dir, 'media', String(u.id));
  assert.ok(existsSync(mediaDir));
  assert.equal((await api('DELETE', `/api/updates/${u.id}`, tokOther)).status, 403);
  assert.equal((await api('DELETE', `/api/updates/${u.id}`, tokMember)).status, 200);
  assert.equal(existsSync(mediaDir), false);
  assert.equal((await api('GET', `/api/updates/${u.id}`)).status, 404);
  assert.equal((await raw(u.poster_url)).status, 404);
});

test('updates: a deleted update\'s signed media links never play the next upload', async () => {
  // The newest update is deleted, so a catalog that reuses ids would give
  // its id to the next upload, and the old signed links would play it.
  const a = await waitReady(curlUpload(fx.small, 'title=Deleted+first').data.update.id);
  const oldPoster = a.poster_url, oldMaster = a.playback_url;
  assert.equal((await raw(oldPoster)).status, 200);
  assert.equal((await api('DELETE', `/api/updates/${a.id}`, tokMember)).status, 200);
  const b = await waitReady(curlUpload(fx.big, 'title=Uploaded+next', tokOther).data.update.id, tokOther);
  assert.equal(b.status, 'ready');
  assert.notEqual(b.id, a.id, 'an update id was given out twice');
  assert.equal((await raw(oldPoster)).status, 404);
  assert.equal((await raw(oldMaster)).status, 404);
  // The link of the new update plays, and a link with the new id but the
  // old token does not.
  assert.equal((await raw(b.poster_url)).status, 200);
  const tokA = oldPoster.split('/')[3];
  assert.notEqual((await raw(`/media/t/${tokA}/${b.id}/poster.jpg`)).status, 200);
});
