// diskfull.test.mjs - the server on a data folder whose disk fills up
// mid-run (a small tmpfs mounted for the test; CI runs as root), and with
// its catalog unreachable (the test-only HUBCAST_CATALOG_FAULT hook):
// writes answer 507 (full disk) or 503 (catalog) with a JSON error, reads
// keep serving, a worker that finishes meanwhile keeps its output and
// reports it later, nothing is deleted, and once space is back everything
// completes by itself.
//
// Run: node --test tests/e2e/diskfull.test.mjs  (as root, for mount;
// HUBCAST_BIN overrides the binary path; ffmpeg must be on PATH).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, statSync,
         openSync, writeSync, closeSync, unlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken } from './lib/server.mjs';
import { api } from './lib/api.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let dir, mnt, mounted = false, why = '';
const fx = {};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-full-'));
  mnt = join(dir, 'disk');
  mkdirSync(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mnt], { encoding: 'utf8' });
  mounted = m.status === 0;
  why = mounted ? '' : `cannot mount a tmpfs here (${(m.stderr || m.error?.message || '').trim()}): ` +
    'this test needs root (CI runs it as root)';
  const ff = (name, secs) => {
    fx[name] = join(dir, name);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=320x240:r=25:d=${secs}`,
      '-f', 'lavfi', '-i', `sine=d=${secs}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-shortest', fx[name]]);
  };
  ff('a.mp4', 2);
  ff('b.mp4', 6);
});

after(() => {
  if (mounted) spawnSync('umount', ['-l', mnt]);
  rmSync(dir, { recursive: true, force: true });
});

async function waitStatus(srv, token, id, want, ms = 90000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await api(srv, 'GET', `/api/updates/${id}`, token);
    if (r.status === 200 && want.includes(r.data.update.status)) return r.data.update;
    assert.ok(Date.now() < end, `update ${id} never became ${want}: ${r.text}\n${srv.output.slice(-3000)}`);
    await sleep(200);
  }
}

// Fill the disk: a file grown until the file system refuses more.
function fill(path) {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(256 * 1024, 0x5a);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  }
  // The last bytes a partial block could not take.
  try { for (;;) writeSync(fd, block.subarray(0, 4096)); } catch { /* full */ }
  closeSync(fd);
}

const oneshot = (srv, token, file, title) => api(srv, 'POST', `/api/updates?title=${title}`, token,
  readFileSync(file), { 'content-type': 'video/mp4' });

test('a full disk: writes answer 507 JSON, reads keep serving, nothing is lost, and all completes once space is back',
  { timeout: 240000 }, async (t) => {
    if (!mounted) { t.skip(why); return; }
    const data = join(mnt, 'data');
    const filler = join(mnt, 'filler');
    const srv = await startServer({ data, workers: 1, args: ['--preset', 'ultrafast', '--max-upload', '16M'] });
    try {
      await addUser(srv, 'ann@example.com', 'Ann', 'member');
      const tok = apiToken(srv, 'ann@example.com');
      // Something published, to be read while the disk is full.
      const a = (await oneshot(srv, tok, fx['a.mp4'], 'Before')).data.update;
      const ready = await waitStatus(srv, tok, a.id, ['ready']);
      const poster = Buffer.from(await (await fetch(srv.url + ready.poster_url)).arrayBuffer());
      // A tus upload half way.
      const hdr = { 'tus-resumable': '1.0.0' };
      const bBytes = readFileSync(fx['b.mp4']);
      const half = Math.floor(bBytes.length / 2);
      const c = await api(srv, 'POST', '/api/uploads', tok, undefined,
        { ...hdr, 'upload-length': String(bBytes.length), 'upload-metadata': `title ${Buffer.from('Resumed').toString('base64')}` });
      assert.equal(c.status, 201);
      const up = c.headers.get('location');
      const part = join(data, 'uploads', `${up.split('/').pop()}.part`);
      const patch = (offset, body) => api(srv, 'PATCH', up, tok, body,
        { ...hdr, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) });
      assert.equal((await patch(0, bBytes.subarray(0, half))).status, 204);
      // A transcode under way when the disk fills.
      const w = (await oneshot(srv, tok, fx['b.mp4'], 'During')).data.update;
      await waitStatus(srv, tok, w.id, ['processing', 'ready']);

      fill(filler);

      // Writes: 507 with a JSON error, and a refused PATCH leaves no byte behind.
      const p = await patch(half, bBytes.subarray(half));
      assert.equal(p.status, 507, p.text);
      assert.equal(p.data.error.code, 'storage_full');
      assert.equal(statSync(part).size, half);
      const o = await oneshot(srv, tok, fx['a.mp4'], 'Refused');
      assert.equal(o.status, 507, o.text);
      assert.equal(o.data.error.code, 'storage_full');
      // Catalog writes: refused with 507 JSON, or (when SQLite still had
      // room in its log) saved for real; never a 500 or a 404.
      for (let i = 0; i < 5; i++) {
        const e = await api(srv, 'PATCH', `/api/updates/${a.id}`, tok, { description: `edit ${i}` });
        assert.ok(e.status === 507 || e.status === 200, e.text);
        if (e.status === 507) assert.equal(e.data.error.code, 'storage_full');
        else assert.equal(e.data.update.description, `edit ${i}`);
      }
      // Reads keep serving.
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
      const g = await api(srv, 'GET', `/api/updates/${a.id}`, tok);
      assert.equal(g.status, 200);
      assert.equal((await api(srv, 'GET', '/api/updates', tok)).status, 200);
      assert.deepEqual(Buffer.from(await (await fetch(srv.url + ready.poster_url)).arrayBuffer()), poster);
      const h = await api(srv, 'HEAD', up, tok, undefined, hdr);
      assert.equal(h.headers.get('upload-offset'), String(half));
      await sleep(3000);   // the worker meets the full disk meanwhile

      // Nothing was deleted.
      assert.ok(existsSync(join(data, 'media', String(a.id), 'master.m3u8')));
      assert.equal(statSync(part).size, half);

      // Space comes back: everything completes by itself.
      unlinkSync(filler);
      const done = await waitStatus(srv, tok, w.id, ['ready', 'failed']);
      assert.equal(done.status, 'ready', done.error);
      assert.ok(existsSync(join(data, 'media', String(w.id), 'master.m3u8')));
      const rest = await patch(half, bBytes.subarray(half));
      assert.equal(rest.status, 204, rest.text);
      const finished = await api(srv, 'GET', up, tok);
      const r = await waitStatus(srv, tok, finished.data.upload.update_id, ['ready', 'failed']);
      assert.equal(r.status, 'ready', r.error);
      assert.equal(statSync(join(data, 'uploads', `${up.split('/').pop()}.part`)).size, bBytes.length);
      assert.equal((await oneshot(srv, tok, fx['a.mp4'], 'After')).status, 201);
    } finally {
      await srv.cleanup();
    }
  });

test('with the catalog unreachable: media links answer 503 JSON, a finished worker keeps its output and reports it later',
  { timeout: 180000 }, async () => {
    const fault = join(dir, 'catalog-fault');
    const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast', '--test-clock'],
      env: { HUBCAST_CATALOG_FAULT: fault } });
    try {
      await addUser(srv, 'ann@example.com', 'Ann', 'member');
      const tok = apiToken(srv, 'ann@example.com');
      const a = (await oneshot(srv, tok, fx['a.mp4'], 'Published')).data.update;
      const ready = await waitStatus(srv, tok, a.id, ['ready']);
      const w = (await oneshot(srv, tok, fx['b.mp4'], 'Finishing')).data.update;
      await waitStatus(srv, tok, w.id, ['processing']);

      writeFileSync(fault, '');
      const m = await fetch(srv.url + ready.poster_url);
      assert.equal(m.status, 503);
      assert.equal((await m.json()).error.code, 'catalog_unavailable');
      // The worker finishes its transcode, cannot report it, keeps it.
      const end = Date.now() + 90000;
      while (!/job \d+ finished but not recorded/.test(srv.output)) {
        assert.ok(Date.now() < end, `the worker never finished:\n${srv.output.slice(-3000)}`);
        await sleep(200);
      }
      await sleep(1500);
      assert.ok(existsSync(join(srv.dir, 'media', String(w.id), 'master.m3u8')), 'finished output was removed');

      unlinkSync(fault);
      const done = await waitStatus(srv, tok, w.id, ['ready', 'failed']);
      assert.equal(done.status, 'ready', done.error);
      assert.equal(done.renditions.length > 0, true);
      assert.equal((await fetch(srv.url + done.poster_url)).status, 200);
    } finally {
      if (existsSync(fault)) unlinkSync(fault);
      await srv.cleanup();
    }
  });

test('with the catalog unreachable, API reads and writes answer 503 JSON (not 401, 404 or 500)',
  async () => {
    const fault = join(dir, 'catalog-fault-api');
    const srv = await startServer({ args: ['--test-clock'], env: { HUBCAST_CATALOG_FAULT: fault } });
    try {
      await addUser(srv, 'ann@example.com', 'Ann', 'member');
      const tok = apiToken(srv, 'ann@example.com');
      const u = (await oneshot(srv, tok, fx['a.mp4'], 'Queued')).data.update;
      writeFileSync(fault, '');
      for (const [method, path, body] of [
        ['GET', '/api/updates'], ['GET', `/api/updates/${u.id}`], ['GET', `/api/weeks/current`],
        ['PATCH', `/api/updates/${u.id}`, { title: 'x' }], ['POST', `/api/updates/${u.id}/comments`, { body: 'x' }],
        ['DELETE', `/api/updates/${u.id}`]]) {
        const r = await api(srv, method, path, tok, body);
        assert.equal(r.status, 503, `${method} ${path}: ${r.status} ${r.text}`);
        assert.equal(r.data.error.code, 'catalog_unavailable');
      }
      unlinkSync(fault);
      assert.equal((await api(srv, 'GET', `/api/updates/${u.id}`, tok)).status, 200);
    } finally {
      if (existsSync(fault)) unlinkSync(fault);
      await srv.cleanup();
    }
  });
