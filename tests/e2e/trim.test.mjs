// trim.test.mjs - trimming an update, end to end: `hubcast transcode
// --trim` makes a ladder of exactly the span; the author trims a published
// 30 s update to 5..25 and, once the new ladder is published, it lasts
// 20 s (ffprobe of the published playlists and update.duration), its media
// URLs name a new version while the old version's files are still served
// unchanged, the original is still the 30 s upload and the MP4 download is
// the trimmed one; bad trims get 400 with their codes, anyone but the
// author 403; a second trim removes the version before the one it
// replaces.
//
// Run: HUBCAST_BIN=src/hubcast node --test tests/e2e/trim.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startServer, addUser, apiToken, hubcast } from './lib/server.mjs';

let srv, dir, tokA, tokB, tokAdmin, id, v0;
const CLIP_SECONDS = 30;
const sha = (b) => createHash('sha256').update(b).digest('hex');
const get = (path, token) => fetch(path.startsWith('http') ? path : srv.url + path,
  { headers: token ? { authorization: `Bearer ${token}` } : {} });
const patch = (token, body) => fetch(`${srv.url}/api/updates/${id}`, {
  method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const update = async (token) => (await (await get(`/api/updates/${id}`, token)).json()).update;

// Wait until pred(update) holds (or the update failed).
async function until(token, pred, what) {
  const deadline = Date.now() + 180000;
  for (;;) {
    const u = await update(token);
    if (pred(u)) return u;
    if (u.status === 'failed') throw new Error(`update failed: ${u.error}`);
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}: ${JSON.stringify(u)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

function duration(file) {
  return Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0',
    file], { encoding: 'utf8' }).trim());
}

// The published playlists of one media version: every rung and the audio.
function playlists(version) {
  const base = join(srv.dir, 'media', String(id), version ? `v${version}` : '');
  return readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(base, e.name, 'index.m3u8')))
    .map((e) => join(base, e.name, 'index.m3u8'));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-trim-'));
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
  const r = await fetch(`${srv.url}/api/updates?title=Trim%20me`, {
    method: 'POST', headers: { authorization: `Bearer ${tokA}`, 'content-type': 'video/mp4' },
    body: readFileSync(join(dir, 'clip.mp4')),
  });
  assert.equal(r.status, 201);
  id = (await r.json()).update.id;
  v0 = await until(tokA, (u) => u.status === 'ready', 'ready');
});

after(async () => {
  await srv?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('hubcast transcode --trim 5:25 makes a 20 s ladder, video and audio', () => {
  const out = join(dir, 'cli');
  const res = hubcast(['transcode', '--json', '--preset', 'ultrafast', '--trim', '5:25', join(dir, 'clip.mp4'), out]);
  assert.equal(res.status, 0, res.stderr);
  const j = JSON.parse(res.stdout);
  assert.ok(Math.abs(j.duration - 20) <= 0.5, `duration ${j.duration}`);
  for (const name of [...j.rungs.map((x) => x.name), 'audio']) {
    const d = duration(join(out, name, 'index.m3u8'));
    console.log(`# transcode --trim 5:25: ${name} lasts ${d} s`);
    assert.ok(Math.abs(d - 20) <= 0.5, `${name}: ${d} s`);
  }
  assert.equal(hubcast(['transcode', '--trim', '9:3', join(dir, 'clip.mp4'), join(dir, 'cli2')]).status, 2);
});

test('an untrimmed update says so: version 0, no trim, the original\'s length', () => {
  assert.equal(v0.media_version, 0);
  assert.equal(v0.trim, null);
  assert.equal(v0.trimming, null);
  assert.ok(Math.abs(v0.duration - CLIP_SECONDS) <= 0.5, `duration ${v0.duration}`);
  assert.ok(Math.abs(v0.source_duration - CLIP_SECONDS) <= 0.5, `source_duration ${v0.source_duration}`);
  assert.doesNotMatch(v0.playback_url, /\/v\d+\//);
});

test('bad trims are refused with their codes, and nothing changes', async () => {
  const cases = [
    [{ start: -1, end: 5 }, 'bad_trim'],
    [{ start: 5 }, 'bad_trim'],
    [{ start: '1', end: 5 }, 'bad_trim'],
    ['5-25', 'bad_trim'],
    [{ start: 9, end: 3 }, 'bad_trim'],
    [{ start: 5, end: 5.5 }, 'trim_too_short'],
    [{ start: 0, end: 45 }, 'trim_out_of_range'],
  ];
  for (const [trim, code] of cases) {
    const r = await patch(tokA, { trim });
    assert.equal(r.status, 400, JSON.stringify(trim));
    assert.equal((await r.json()).error.code, code, JSON.stringify(trim));
  }
  const u = await update(tokA);
  assert.equal(u.trim, null);
  assert.equal(u.media_version, 0);
});

test('only the author trims: another member and an administrator get 403', async () => {
  for (const tok of [tokB, tokAdmin]) {
    const r = await patch(tok, { trim: { start: 5, end: 25 } });
    assert.equal(r.status, 403);
    assert.equal((await r.json()).error.code, 'forbidden');
  }
  assert.equal((await update(tokA)).trim, null);
});

test('trimmed to 5..25: the new version lasts 20 s, the old one stays as it was', async () => {
  const oldMaster = await get(v0.playback_url);
  assert.equal(oldMaster.status, 200);
  const oldText = await oldMaster.text();
  const seg = readdirSync(join(srv.dir, 'media', String(id), 'audio')).find((f) => f.endsWith('.m4s'));
  const segUrl = v0.playback_url.replace(/master\.m3u8$/, `audio/${seg}`);
  const segBefore = sha(Buffer.from(await (await get(segUrl)).arrayBuffer()));

  const r = await patch(tokA, { trim: { start: 5, end: 25 } });
  assert.equal(r.status, 200, await r.clone().text());
  const during = (await r.json()).update;
  // Still watchable while the new ladder is made: the same status and URLs.
  assert.equal(during.status, 'ready');
  assert.deepEqual(during.trim, { start: 5, end: 25 });
  assert.equal(during.playback_url.replace(/\/t\/[^/]+\//, '/'), v0.playback_url.replace(/\/t\/[^/]+\//, '/'));

  const u = await until(tokA, (x) => x.media_version >= 1, 'the trimmed version');
  assert.equal(u.media_version, 1);
  assert.equal(u.status, 'ready');
  assert.equal(u.trimming, null);
  console.log(`# trimmed update.duration: ${u.duration} s`);
  assert.ok(Math.abs(u.duration - 20) <= 0.5, `duration ${u.duration}`);
  assert.ok(Math.abs(u.source_duration - CLIP_SECONDS) <= 0.5, `source_duration ${u.source_duration}`);
  assert.match(u.playback_url, new RegExp(`/${id}/v1/master\\.m3u8$`));
  assert.match(u.poster_url, /\/v1\/poster\.jpg$/);
  const files = playlists(1);
  assert.ok(files.length >= 2, 'a rung and the audio');
  for (const f of files) {
    const d = duration(f);
    console.log(`# published ${f.split('/').slice(-3).join('/')}: ${d} s`);
    assert.ok(Math.abs(d - 20) <= 0.5, `${f}: ${d} s`);
  }
  // The new master plays over HTTP as a member sees it.
  assert.equal((await get(u.playback_url, tokB)).status, 200);
  // The old version was not overwritten: same playlist, same segment bytes.
  const again = await get(v0.playback_url);
  assert.equal(again.status, 200);
  assert.equal(await again.text(), oldText);
  assert.equal(sha(Buffer.from(await (await get(segUrl)).arrayBuffer())), segBefore);
  assert.match((await get(segUrl)).headers.get('cache-control'), /immutable/);
});

test('the original stays the 30 s upload; the MP4 download is the trimmed video', async () => {
  const orig = await get(`/api/updates/${id}/original`, tokA);
  assert.equal(orig.status, 200);
  const body = Buffer.from(await orig.arrayBuffer());
  assert.equal(sha(body), sha(readFileSync(join(dir, 'clip.mp4'))));
  writeFileSync(join(dir, 'original.mp4'), body);
  assert.ok(Math.abs(duration(join(dir, 'original.mp4')) - CLIP_SECONDS) <= 0.5);
  const dl = await get(`/api/updates/${id}/download.mp4`, tokA);
  assert.equal(dl.status, 200, await dl.clone().text());
  writeFileSync(join(dir, 'download.mp4'), Buffer.from(await dl.arrayBuffer()));
  const d = duration(join(dir, 'download.mp4'));
  console.log(`# download.mp4 after the trim: ${d} s`);
  assert.ok(Math.abs(d - 20) <= 0.5, `download ${d} s`);
});

test('a second trim publishes version 2, keeps version 1 and removes version 0', async () => {
  const r = await patch(tokA, { trim: { start: 0, end: 10 } });
  assert.equal(r.status, 200);
  const u = await until(tokA, (x) => x.media_version >= 2, 'version 2');
  assert.ok(Math.abs(u.duration - 10) <= 0.5, `duration ${u.duration}`);
  assert.match(u.playback_url, /\/v2\/master\.m3u8$/);
  const base = join(srv.dir, 'media', String(id));
  assert.ok(existsSync(join(base, 'v1', 'master.m3u8')), 'version 1 is kept for whoever watches it');
  assert.ok(!existsSync(join(base, 'master.m3u8')), 'version 0 is removed');
  assert.equal((await get(v0.playback_url)).status, 404);
  // Untrimmed again: trim null is version 3, the whole recording.
  assert.equal((await patch(tokA, { trim: null })).status, 200);
  const w = await until(tokA, (x) => x.media_version >= 3, 'version 3');
  assert.equal(w.trim, null);
  assert.ok(Math.abs(w.duration - CLIP_SECONDS) <= 0.5, `duration ${w.duration}`);
});
