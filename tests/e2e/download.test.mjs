// download.test.mjs - downloads of an update, end to end: the author and
// an administrator get the original exactly as uploaded and the top rung
// with its audio as one regular MP4 (checked with ffprobe: video and
// audio streams, the duration of the clip, the index at the front), both
// as attachments named after the title; anyone else gets 404, and the
// cached MP4 is never served through /media.
//
// Run: node --test tests/e2e/download.test.mjs  (ffmpeg and ffprobe on PATH).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startServer, addUser, apiToken } from './lib/server.mjs';

let srv, dir, tokA, tokB, tokAdmin, id;
const CLIP_SECONDS = 6;
const TITLE = 'Équipe / "Q4" review: plans?';
const sha = (b) => createHash('sha256').update(b).digest('hex');

const get = (path, token) => fetch(srv.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });

async function settle(token, updateId) {
  const deadline = Date.now() + 120000;
  for (;;) {
    const r = await get(`/api/updates/${updateId}`, token);
    const u = (await r.json()).update;
    if (u.status === 'ready' || u.status === 'failed') return u;
    if (Date.now() > deadline) throw new Error(`update ${updateId} still ${u.status}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

function probe(file) {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format',
    '-show_streams', file], { encoding: 'utf8' }));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-download-'));
  // A clip with a tone, so that the audio rendition exists.
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=320x240:r=25:d=${CLIP_SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${CLIP_SECONDS}`, '-c:v', 'libx264', '-preset', 'ultrafast',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', join(dir, 'clip.mp4')]);
  srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  await addUser(srv, 'a@example.com', 'Ann Author', 'member');
  await addUser(srv, 'b@example.com', 'Ben Bystander', 'member');
  await addUser(srv, 'boss@example.com', 'Bo Boss', 'admin');
  tokA = apiToken(srv, 'a@example.com');
  tokB = apiToken(srv, 'b@example.com');
  tokAdmin = apiToken(srv, 'boss@example.com');
  const r = await fetch(`${srv.url}/api/updates?title=${encodeURIComponent(TITLE)}`, {
    method: 'POST', headers: { authorization: `Bearer ${tokA}`, 'content-type': 'video/mp4' },
    body: readFileSync(join(dir, 'clip.mp4')),
  });
  assert.equal(r.status, 201);
  id = (await r.json()).update.id;
  const u = await settle(tokA, id);
  assert.equal(u.status, 'ready', u.error);
});

after(async () => {
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function assertAttachment(res, ext) {
  const cd = res.headers.get('content-disposition');
  assert.ok(cd, 'no Content-Disposition');
  assert.match(cd, /^attachment; /);
  const ascii = cd.match(/filename="([^"]*)"/)[1];
  assert.ok(ascii.endsWith(`.${ext}`), cd);
  assert.doesNotMatch(ascii, /[/\\"]/);
  const star = decodeURIComponent(cd.match(/filename\*=UTF-8''(\S+)/)[1]);
  assert.equal(star, `Équipe - -Q4- review- plans-.${ext}`);
}

test('the author downloads the original, byte for byte, as an attachment', async () => {
  const res = await get(`/api/updates/${id}/original`, tokA);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'video/mp4');
  assertAttachment(res, 'mp4');
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(sha(body), sha(readFileSync(join(dir, 'clip.mp4'))));
});

test('the top rung with its audio as one MP4: video and audio, the clip\'s duration, index first', async () => {
  const t0 = Date.now();
  const res = await get(`/api/updates/${id}/download.mp4`, tokA);
  assert.equal(res.status, 200, await res.clone().text());
  const first = Date.now() - t0;
  assert.equal(res.headers.get('content-type'), 'video/mp4');
  assertAttachment(res, 'mp4');
  const body = Buffer.from(await res.arrayBuffer());
  const file = join(dir, 'download.mp4');
  writeFileSync(file, body);
  const p = probe(file);
  const v = p.streams.filter((s) => s.codec_type === 'video');
  const a = p.streams.filter((s) => s.codec_type === 'audio');
  assert.equal(v.length, 1);
  assert.equal(a.length, 1);
  assert.equal(v[0].codec_name, 'h264');
  assert.equal(a[0].codec_name, 'aac');
  const u = (await (await get(`/api/updates/${id}`, tokA)).json()).update;
  assert.equal(v[0].height, Math.max(...u.renditions.map((x) => x.height)), 'not the top rung');
  assert.ok(Math.abs(Number(p.format.duration) - CLIP_SECONDS) < 0.5, `duration ${p.format.duration}`);
  assert.ok(Math.abs(Number(v[0].duration) - CLIP_SECONDS) < 0.5, `video duration ${v[0].duration}`);
  assert.ok(Math.abs(Number(a[0].duration) - CLIP_SECONDS) < 0.5, `audio duration ${a[0].duration}`);
  // +faststart: the moov box comes before mdat.
  assert.ok(body.indexOf('moov') < body.indexOf('mdat'), 'moov after mdat');
  // Made once: the second answer is the same file.
  const again = await get(`/api/updates/${id}/download.mp4`, tokAdmin);
  assert.equal(again.status, 200);
  assert.equal(sha(Buffer.from(await again.arrayBuffer())), sha(body));
  assert.ok(existsSync(join(srv.dir, 'media', String(id), 'download.mp4')));
  console.log(`# download.mp4: ${body.length} bytes, first answer in ${first} ms`);
});

test('an administrator downloads both; another member and a stranger get 404 / 401', async () => {
  assert.equal((await get(`/api/updates/${id}/original`, tokAdmin)).status, 200);
  assert.equal((await get(`/api/updates/${id}/download.mp4`, tokAdmin)).status, 200);
  for (const path of ['original', 'download.mp4']) {
    const r = await get(`/api/updates/${id}/${path}`, tokB);
    assert.equal(r.status, 404, `${path} for another member`);
    assert.equal(r.headers.get('content-disposition'), null);
    assert.equal((await get(`/api/updates/${id}/${path}`)).status, 401);
    assert.equal((await get(`/api/updates/999999/${path}`, tokAdmin)).status, 404);
  }
  // The member may watch it, but not fetch the cached MP4 through /media.
  assert.equal((await get(`/media/${id}/master.m3u8`, tokB)).status, 200);
  for (const p of [`/media/${id}/download.mp4`, `/media/${id}//download.mp4`]) {
    assert.equal((await get(p, tokB)).status, 404, p);
  }
});
