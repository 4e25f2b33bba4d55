// instant-transcoder.test.mjs - end-to-end tests of the first-playable pass
// through `hubcast transcode IN OUT --first-playable [--follow]`: recordings
// made with the ffmpeg program the way browsers write them (VP8/Opus WebM
// and H.264 Matroska, streamed, no duration, no cues) are appended to a
// growing file at real-time pace while the real binary follows it; the
// playlists are read as a player would (whole files only, thanks to the
// rename) and the output is decoded with ffmpeg. Hostile files are refused
// as by the ladder. One recording is made by headless Chromium's own
// MediaRecorder (H.264 whose parameter sets are only in its keyframes).
//
// Run: node --test tests/e2e/instant-transcoder.test.mjs (HUBCAST_BIN
// overrides the binary; ffmpeg and ffprobe must be on PATH).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, writeFileSync,
         openSync, writeSync, closeSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from '../browser/lib.mjs';

const BIN = process.env.HUBCAST_BIN ??
  new URL('../../src/hubcast', import.meta.url).pathname;
const SECONDS = 10;  // length of the recordings

let dir;
const fx = {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: 'inherit' });
}

// ffmpeg writing to a pipe, as a recorder does: no duration, no cues.
function ffmpegLive(args, out) {
  const data = execFileSync('ffmpeg', ['-v', 'error', ...args, '-'],
                            { maxBuffer: 1 << 28 });
  writeFileSync(out, data);
}

// Start `hubcast transcode IN OUT --first-playable --json ...extra`.
// Resolves { code, stdout, stderr, events } when it exits.
function start(input, out, extra = []) {
  const p = spawn(BIN, ['transcode', input, out, '--first-playable', '--json',
                        ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  p.stdout.on('data', (d) => { stdout += d; });
  p.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise((resolve) => p.on('close', (code) => resolve({
    code, stdout, stderr,
    events: stdout.split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l)),
  })));
  return { p, done };
}

function run(input, out, extra = []) {
  return start(input, out, extra).done;
}

// What a player polling the playlists sees now.
function look(out) {
  const read = (n) => {
    try { return readFileSync(join(out, 'first', n), 'utf8'); } catch { return null; }
  };
  const video = read('video/index.m3u8');
  return {
    master: read('master.m3u8'),
    video,
    audio: read('audio/index.m3u8'),
    segments: video ? (video.match(/#EXTINF:/g) ?? []).length : 0,
    ended: !!video && video.includes('#EXT-X-ENDLIST'),
  };
}

// Record `seconds` of the fake camera and microphone with headless
// Chromium's MediaRecorder as video/webm;codecs=h264,opus, 2 s keyframes,
// 1 s chunks, as the web app records; write the blob to out.
async function chromiumRecording(out, seconds) {
  const srv = createServer((q, r) => {
    r.setHeader('content-type', 'text/html');
    r.end('<!doctype html><title>rec</title>');
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${srv.address().port}/`);
    const b64 = await page.evaluate(async (ms) => {
      const s = await navigator.mediaDevices.getUserMedia(
        { video: { width: 640, height: 360 }, audio: true });
      const rec = new MediaRecorder(s, {
        mimeType: 'video/webm;codecs=h264,opus',
        videoKeyFrameIntervalDuration: 2000 });
      const chunks = [];
      rec.ondataavailable = (e) => chunks.push(e.data);
      const stopped = new Promise((r) => { rec.onstop = r; });
      rec.start(1000);
      await new Promise((r) => setTimeout(r, ms));
      rec.stop();
      await stopped;
      const b = new Uint8Array(await new Blob(chunks).arrayBuffer());
      let bin = '';
      for (let i = 0; i < b.length; i += 32768)
        bin += String.fromCharCode(...b.subarray(i, i + 32768));
      return btoa(bin);
    }, seconds * 1000);
    writeFileSync(out, Buffer.from(b64, 'base64'));
  } finally {
    await browser.close();
    srv.close();
  }
}

// The tracks of a Matroska file: [{ codec, codecPrivate }], from its
// header (EBML: Segment > Tracks > TrackEntry > CodecID, CodecPrivate).
function matroskaTracks(b) {
  const vint = (o, keep) => {  // [value, length]; keep: the marker bit too
    let len = 1;
    while (len <= 8 && !(b[o] & (0x80 >> (len - 1)))) len++;
    let v = keep ? b[o] : b[o] & (0xff >> len);
    for (let i = 1; i < len; i++) v = v * 256 + b[o + i];
    const unknown = !keep && v === 2 ** (7 * len) - 1;
    return [unknown ? Infinity : v, len];
  };
  const children = (start, end, f) => {
    for (let o = start; o < end && o < b.length;) {
      const [id, il] = vint(o, true);
      const [size, sl] = vint(o + il, false);
      const body = o + il + sl;
      if (f(id, body, Math.min(body + size, end, b.length)) === false) return;
      o = body + size;
    }
  };
  const tracks = [];
  children(0, b.length, (id, s0, e0) => {
    if (id !== 0x18538067) return true;  // Segment
    children(s0, e0, (id1, s1, e1) => {
      if (id1 === 0x1f43b675) return false;  // Cluster: the header is over
      if (id1 !== 0x1654ae6b) return true;  // Tracks
      children(s1, e1, (id2, s2, e2) => {
        if (id2 !== 0xae) return true;  // TrackEntry
        const t = { codec: null, codecPrivate: false };
        children(s2, e2, (id3, s3, e3) => {
          if (id3 === 0x86) t.codec = b.subarray(s3, e3).toString('latin1');
          if (id3 === 0x63a2) t.codecPrivate = true;
        });
        tracks.push(t);
        return true;
      });
      return true;
    });
    return false;
  });
  return tracks;
}

// Seconds of video in path: from its first frame to the end of its last.
function videoSeconds(path) {
  const pk = JSON.parse(execFileSync('ffprobe', ['-v', 'error',
    '-select_streams', 'v', '-show_entries', 'packet=pts_time',
    '-print_format', 'json', path], { encoding: 'utf8' })).packets
    .map((p) => +p.pts_time);
  const t0 = Math.min(...pk), t1 = Math.max(...pk);
  return t1 - t0 + (t1 - t0) / (pk.length - 1);
}

// Append src to dst at real-time pace (its SECONDS spread evenly, a piece
// every 250 ms, as a recorder uploading every second or so), calling
// onTick() after each piece.
async function stream(src, dst, onTick, seconds = SECONDS) {
  const data = readFileSync(src);
  const fd = openSync(dst, 'w');
  const t0 = Date.now();
  let off = 0;
  try {
    while (off < data.length) {
      await sleep(250);
      const want = Math.min(data.length,
        Math.floor(data.length * (Date.now() - t0) / (seconds * 1000)));
      if (want > off) {
        writeSync(fd, data, off, want - off);
        off = want;
      }
      onTick();
    }
  } finally {
    closeSync(fd);
  }
}

function frames(path) {
  const j = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames',
    '-show_entries', 'stream=codec_type,codec_name,nb_read_frames,width,height',
    '-print_format', 'json', path], { encoding: 'utf8' }));
  return j.streams;
}

// Decode every frame of the first rendition: no error, and as many video
// frames as the source has.
function checkPlays(out, src, { width, height, seconds = SECONDS }) {
  const master = join(out, 'first', 'master.m3u8');
  execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', master, '-f', 'null',
                          '-'], { stdio: 'inherit' });
  const got = frames(join(out, 'first', 'video', 'index.m3u8'));
  const want = frames(src).find((s) => s.codec_type === 'video');
  assert.equal(got.length, 1, 'video playlist holds only video');
  assert.equal(got[0].codec_name, 'h264');
  assert.equal(`${got[0].width}x${got[0].height}`, `${width}x${height}`);
  assert.ok(Math.abs(+got[0].nb_read_frames - +want.nb_read_frames) <= 1,
            `${got[0].nb_read_frames} frames decoded, source has ` +
            `${want.nb_read_frames}`);
  const audio = frames(join(out, 'first', 'audio', 'index.m3u8'));
  assert.equal(audio[0].codec_name, 'aac');
  assert.ok(+audio[0].nb_read_frames >= Math.floor(seconds) * 46,
            'audio all there');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-instant-'));
  const f = (n) => (fx[n] = join(dir, n));
  const src = ['-f', 'lavfi', '-i', `testsrc2=s=640x360:r=30:d=${SECONDS}`,
               '-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${SECONDS}`];
  // Chromium's video/webm;codecs=h264: H.264 in Matroska, 2 s keyframes
  ffmpegLive([...src, '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60',
              '-b:v', '600k', '-maxrate', '600k', '-bufsize', '1200k',
              '-pix_fmt', 'yuv420p', '-c:a', 'libopus', '-f', 'matroska'],
             f('rec-h264.mkv'));
  ffmpegLive(['-f', 'lavfi', '-i', `testsrc2=s=854x480:r=30:d=${SECONDS}`,
              '-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${SECONDS}`,
              '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60',
              '-b:v', '800k', '-maxrate', '800k', '-bufsize', '1600k',
              '-pix_fmt', 'yuv420p', '-c:a', 'libopus', '-f', 'matroska'],
             f('rec-h264-480p.mkv'));
  // the default of most browsers: VP8 + Opus WebM (small, so that its
  // progressive encode keeps pace on a busy 2-core test machine)
  ffmpegLive(['-f', 'lavfi', '-i', `testsrc2=s=426x240:r=30:d=${SECONDS}`,
              '-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${SECONDS}`,
              '-c:v', 'libvpx', '-deadline', 'realtime',
              '-cpu-used', '8', '-b:v', '800k', '-c:a', 'libopus',
              '-f', 'webm'], f('rec-vp8.webm'));
  // hostile or broken inputs, as in transcode.test.mjs
  writeFileSync(f('random.webm'), Buffer.from(
    Array.from({ length: 65536 }, (_, i) => (i * 2654435761 >>> 13) & 255)));
  writeFileSync(f('empty.webm'), '');
  writeFileSync(f('playlist.webm'), '#EXTM3U\n#EXTINF:4.0,\n' +
                'http://127.0.0.1:9/segment.ts\n#EXT-X-ENDLIST\n');
  writeFileSync(f('concat.mkv'),
                `ffconcat version 1.0\nfile '${fx['rec-h264.mkv']}'\n`);
  ffmpeg(['-f', 'lavfi', '-i', 'color=s=8192x8192:d=0.1:r=10', '-c:v',
          'mjpeg', '-q:v', '31', f('huge.avi')]);
  await chromiumRecording(f('chromium-h264.webm'), 6);
});

after(() => {
  if (dir && !process.env.HUBCAST_KEEP_TEST_DIR)
    rmSync(dir, { recursive: true, force: true });
});

// Stream name into a growing file followed by hubcast; check what a player
// sees before and after the upload ends. Returns the exit result.
async function followLive(name, mode, seconds = SECONDS) {
  const growing = join(dir, `live-${name}`);
  const out = join(dir, `out-live-${name}`);
  writeFileSync(growing, '');
  const h = start(growing, out, ['--follow']);
  let before = null;  // first look listing a segment while still growing
  await stream(fx[name], growing, () => {
    const l = look(out);
    if (!before && l.master && l.segments > 0)
      before = l;
  }, seconds);
  const tDone = Date.now();
  writeFileSync(`${growing}.done`, '');
  let tEnd = null;
  while (Date.now() - tDone < 30000) {
    if (look(out).ended) {
      tEnd = Date.now();
      break;
    }
    await sleep(20);
  }
  const r = await h.done;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(before, 'a playable playlist with segments before the file ended');
  assert.ok(!before.ended, 'no ENDLIST while the file was still growing');
  assert.match(before.video, /#EXT-X-PLAYLIST-TYPE:EVENT/);
  assert.match(before.master, /^#EXTM3U\n/);
  assert.match(before.master, /video\/index\.m3u8/);
  assert.ok(tEnd !== null, 'ENDLIST written');
  assert.ok(tEnd - tDone <= 2000,
            `ENDLIST ${tEnd - tDone} ms after the file was complete`);
  const doneEv = r.events.at(-1);
  assert.equal(doneEv.event, 'done');
  assert.equal(doneEv.mode, mode);
  assert.ok(Math.abs(doneEv.duration - seconds) < 0.2,
            `${doneEv.duration} s, ${seconds} s recorded`);
  // the segment events came while the file grew, the first one playable
  const playable = r.events.find((e) => e.event === 'segment' && e.playable);
  assert.ok(playable && playable.elapsed < (tDone - 0) / 1000,
            'playable reported during the upload');
  return { out, r };
}

test('H.264 Matroska streamed live is copied: segments while it grows, ENDLIST within 2 s after', async () => {
  const { out } = await followLive('rec-h264.mkv', 'remux');
  checkPlays(out, fx['rec-h264.mkv'], { width: 640, height: 360 });
  // copied, not re-encoded: the segments carry the source's own packets
  const pl = look(out).video;
  assert.match(pl, /#EXT-X-ENDLIST\n$/);
  const durs = [...pl.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => +m[1]);
  assert.ok(durs.slice(0, -1).every((d) => Math.abs(d - 2) < 0.05),
            `cut at the 2 s keyframes: ${durs}`);
});

test('Chromium\'s H.264 recording, parameter sets only in its keyframes, streamed live is copied, not encoded', async () => {
  const src = fx['chromium-h264.webm'];
  // the shape browsers write: no CodecPrivate in the track header, the
  // SPS and PPS Annex B at the head of each keyframe
  const tracks = matroskaTracks(readFileSync(src));
  const avc = tracks.find((t) => t.codec === 'V_MPEG4/ISO/AVC');
  assert.ok(avc, `an H.264 track: ${JSON.stringify(tracks)}`);
  assert.equal(avc.codecPrivate, false, 'the H.264 track has no CodecPrivate');
  const head = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v',
    '-show_packets', '-show_data', '-read_intervals', '%+#1', src],
  { encoding: 'utf8' });
  assert.match(head, /flags=K/);
  assert.match(head, /00000000: 0000 0001 67/, 'SPS in-band, Annex B');
  const seconds = videoSeconds(src);
  const { out, r } = await followLive('chromium-h264.webm', 'remux', seconds);
  checkPlays(out, src, { width: 640, height: 360, seconds });
  const master = look(out).master;
  assert.match(master, /CODECS="avc1\.42[0-9a-f]{4},mp4a\.40\.2"/);
  assert.match(master, /net\.hubcast\.first",VALUE="remux"/);
  // the whole recording, as a player reads the HLS
  const dur = +execFileSync('ffprobe', ['-v', 'error', '-show_entries',
    'format=duration', '-of', 'csv=p=0', join(out, 'first', 'master.m3u8')],
  { encoding: 'utf8' }).trim();
  assert.ok(Math.abs(dur - seconds) < 0.25, `HLS lasts ${dur} s of ${seconds}`);
  // the recording's own packets, made length-prefixed, and an avcC header
  const init = readFileSync(join(out, 'first', 'video', 'init.mp4'));
  assert.ok(init.indexOf('avcC') > 0, 'avcC in init.mp4');
  assert.equal(init[init.indexOf('avcC') + 4], 1, 'avcC version 1');
  const srcBytes = JSON.parse(execFileSync('ffprobe', ['-v', 'error',
    '-select_streams', 'v', '-show_entries', 'packet=size', '-of', 'json',
    src], { encoding: 'utf8' })).packets.reduce((a, p) => a + +p.size, 0);
  assert.ok(r.events.at(-1).video_kbps > 0);
  const copied = JSON.parse(execFileSync('ffprobe', ['-v', 'error',
    '-select_streams', 'v', '-show_entries', 'packet=size', '-of', 'json',
    join(out, 'first', 'video', 'index.m3u8')], { encoding: 'utf8' }))
    .packets.reduce((a, p) => a + +p.size, 0);
  assert.equal(copied, srcBytes, 'the same bytes (4-byte start codes and ' +
               'lengths are the same size)');
});

test('VP8 WebM streamed live is encoded progressively: segments while it grows, ENDLIST within 2 s after', async () => {
  const { out } = await followLive('rec-vp8.webm', 'progressive');
  checkPlays(out, fx['rec-vp8.webm'], { width: 426, height: 240 });
});

test('a finished upload needs no --follow and gives the same playlists', async () => {
  const out = join(dir, 'out-whole');
  const r = await run(fx['rec-vp8.webm'], out);
  assert.equal(r.code, 0, r.stderr);
  const l = look(out);
  assert.ok(l.ended);
  // 1 s, 1 s, then the 2 s grid: a viewer may start once 1 s is encoded
  const durs = [...l.video.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => +m[1]);
  assert.equal(l.segments, SECONDS / 2 + 1, `${durs}`);
  assert.ok(durs.slice(0, 2).every((d) => Math.abs(d - 1) < 0.05), `${durs}`);
  assert.ok(durs.slice(2).every((d) => Math.abs(d - 2) < 0.05), `${durs}`);
  assert.match(l.audio, /^#EXTINF:1\.0\d*,$/m, 'the first audio segment is 1 s too');
  assert.match(l.master, /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
  assert.ok(existsSync(join(out, 'first', 'video', 'init.mp4')));
  // no temporary playlist left behind
  assert.ok(!existsSync(join(out, 'first', 'video', 'index.m3u8.tmp')));
});

test('a recording that stops growing and is given up publishes nothing', async () => {
  const growing = join(dir, 'abandoned.mkv');
  const whole = readFileSync(fx['rec-h264.mkv']);
  writeFileSync(growing, whole.subarray(0, whole.length >> 1));
  const out = join(dir, 'out-abandoned');
  const r = await run(growing, out, ['--follow', '--stall-timeout', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr.trim().split('\n').at(-1),
               /^hubcast: the upload was abandoned$/);
  assert.ok(!existsSync(join(out, 'first')), 'nothing published');
});

test('--length ends a followed file without a marker', async () => {
  const out = join(dir, 'out-length');
  const size = statSync(fx['rec-h264.mkv']).size;
  const r = await run(fx['rec-h264.mkv'], out, ['--follow', '--length',
                                                String(size)]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(look(out).ended);
});

test('the ladder takes a copied first rendition over as its top rung, keyed at its segment starts', async () => {
  const src = fx['rec-h264-480p.mkv'];
  const out = join(dir, 'out-reuse');
  const r = await run(src, out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.events.at(-1).mode, 'remux');
  const first = join(out, 'first');
  const ladder = join(dir, 'out-reuse-ladder');
  const l = await new Promise((resolve) => {
    const p = spawn(BIN, ['transcode', src, ladder, '--preset', 'ultrafast',
                          '--reuse-first', first, '--json'],
                    { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(l.code, 0, l.stderr);
  const master = readFileSync(join(ladder, 'master.m3u8'), 'utf8');
  assert.match(master, /RESOLUTION=854x480[^\n]*\n480p\/index\.m3u8/);
  assert.match(master, /RESOLUTION=640x360[^\n]*\n360p\/index\.m3u8/);
  // the top rung is the copied recording, byte for byte, and ends
  const top = readFileSync(join(ladder, '480p', 'index.m3u8'), 'utf8');
  assert.match(top, /#EXT-X-PLAYLIST-TYPE:VOD/);
  assert.match(top, /#EXT-X-ENDLIST/);
  assert.deepEqual(readFileSync(join(ladder, '480p', 'seg_00001.m4s')),
                   readFileSync(join(first, 'video', 'seg_00001.m4s')));
  // the encoded rung has its keyframes where the top rung's segments start
  // (times from each rung's first frame: the copy keeps the recording's
  // decoding delay, which the encoded rungs' edit lists take out)
  const keys = (pl) => {
    const pk = JSON.parse(execFileSync('ffprobe', ['-v', 'error',
      '-select_streams', 'v', '-show_entries', 'packet=pts_time,flags',
      '-print_format', 'json', pl], { encoding: 'utf8' })).packets;
    const t0 = Math.min(...pk.map((p) => +p.pts_time));
    return pk.filter((p) => p.flags.includes('K'))
      .map((p) => +(+p.pts_time - t0).toFixed(3));
  };
  const k480 = keys(join(ladder, '480p', 'index.m3u8'));
  const k360 = keys(join(ladder, '360p', 'index.m3u8'));
  assert.equal(k360.length, k480.length, `${k360} vs ${k480}`);
  k480.forEach((t, i) => assert.ok(Math.abs(t - k360[i]) < 0.01,
                                    `keyframe ${i}: ${t} vs ${k360[i]}`));
  checkPlays(out, src, { width: 854, height: 480 });
});

const refusals = [
  ['random bytes', 'random.webm', /this file is not a video Hubcast can read/],
  ['an empty file', 'empty.webm', /this file is empty/],
  ['an HLS playlist named .webm', 'playlist.webm',
   /this file is a playlist, not a video/],
  ['an ffconcat script', 'concat.mkv', /this file is a playlist, not a video/],
  ['an 8192x8192 video', 'huge.avi', /the video is larger than 4096×4096/],
];

for (const [what, name, reason] of refusals) {
  for (const follow of [[], ['--follow']]) {
    test(`${what} is refused by the first-playable pass${follow.length ? ' while followed' : ''}`, async () => {
      const input = follow.length ? join(dir, `f-${name}`) : fx[name];
      if (follow.length) {
        writeFileSync(input, readFileSync(fx[name]));
        writeFileSync(`${input}.done`, '');
      }
      const out = join(dir, `out-refused-${follow.length}-${name}`);
      const r = await run(input, out, follow);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr.trim().split('\n').at(-1), reason);
      assert.ok(!existsSync(join(out, 'first')), 'no first rendition');
    });
  }
}
