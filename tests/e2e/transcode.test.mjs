// transcode.test.mjs - end-to-end tests of `hubcast transcode`: real
// fixtures made with the ffmpeg program at test time, the real binary, and
// the output checked the way a player sees it (ffprobe on the playlists,
// the master playlist text, the files on disk). Hostile files must be
// refused with exit status 1 and a reason a person can read.
//
// Run: node --test tests/e2e/transcode.test.mjs  (HUBCAST_BIN overrides the
// binary path; ffmpeg and ffprobe must be on PATH).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, existsSync,
         statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import net from 'node:net';

const BIN = process.env.HUBCAST_BIN ??
  new URL('../../src/hubcast', import.meta.url).pathname;

let dir;           // temporary folder for fixtures and outputs
const fx = {};     // fixture name -> path

// Run a program, resolve with { code, stdout, stderr } (never rejects).
function run(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: 'inherit' });
}

function ffprobe(args) {
  return JSON.parse(execFileSync('ffprobe',
    ['-v', 'error', '-print_format', 'json', ...args], { encoding: 'utf8' }));
}

// `hubcast transcode IN OUT --preset ultrafast` into a fresh output path.
let outCount = 0;
async function transcode(input, extra = []) {
  const out = join(dir, `out-${++outCount}`);
  const r = await run(BIN, ['transcode', input, out, '--preset', 'ultrafast',
                            ...extra]);
  return { ...r, out };
}

function streams(path) {
  return ffprobe(['-show_streams', '-show_format', path]);
}

// Parse the master playlist into { lines, media, variants: [{attrs, uri}] }.
function parseMaster(text) {
  const lines = text.split('\n').filter((l) => l !== '');
  const variants = [];
  const media = [];
  const attrs = (s) => Object.fromEntries(
    [...s.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)]
      .map((m) => [m[1], m[2].replace(/^"|"$/g, '')]));
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('#EXT-X-STREAM-INF:'))
      variants.push({ attrs: attrs(lines[i].slice(18)), uri: lines[i + 1] });
    if (lines[i].startsWith('#EXT-X-MEDIA:'))
      media.push(attrs(lines[i].slice(13)));
  }
  return { lines, media, variants };
}

// Segments of a media playlist: [{ duration, uri }].
function segments(playlist) {
  const lines = readFileSync(playlist, 'utf8').split('\n');
  const segs = [];
  for (let i = 0; i < lines.length; i++)
    if (lines[i].startsWith('#EXTINF:'))
      segs.push({ duration: parseFloat(lines[i].slice(8)), uri: lines[i + 1] });
  return segs;
}

// Presentation times of the keyframes of a rung, rounded to milliseconds.
function keyframes(playlist) {
  const j = ffprobe(['-select_streams', 'v', '-show_entries',
                     'packet=pts_time,flags', playlist]);
  return j.packets.filter((p) => p.flags.includes('K'))
    .map((p) => Math.round(parseFloat(p.pts_time) * 1000));
}

function read(out, name) {
  return readFileSync(join(out, name), 'utf8');
}

// No work folder may be left next to the outputs.
function leftovers() {
  return readdirSync(dir).filter((n) => n.includes('.work-'));
}

// Check what every successful output must have; returns the parsed master.
function checkCommon(out, { audio = true } = {}) {
  const master = parseMaster(read(out, 'master.m3u8'));
  assert.equal(master.lines[0], '#EXTM3U');
  assert.ok(master.lines.includes('#EXT-X-VERSION:7'));
  assert.ok(master.lines.includes('#EXT-X-INDEPENDENT-SEGMENTS'));
  assert.ok(master.variants.length >= 1);
  for (const v of master.variants) {
    const a = v.attrs;
    assert.match(a.CODECS, audio ? /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/
                                 : /^avc1\.[0-9a-f]{6}$/);
    assert.match(a['FRAME-RATE'], /^\d+\.\d{3}$/);
    assert.ok(+a.BANDWIDTH >= +a['AVERAGE-BANDWIDTH'],
              'peak bandwidth is at least the average');
    const rung = join(out, dirname(v.uri));
    assert.ok(existsSync(join(rung, 'init.mp4')), 'init segment written');
    const pl = read(rung, 'index.m3u8');
    assert.match(pl, /#EXT-X-MAP:URI="init\.mp4"/);
    assert.match(pl, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.match(pl, /#EXT-X-ENDLIST/);
    // the CODECS string says what the stream really is
    const s = streams(join(rung, 'index.m3u8')).streams;
    const video = s.find((x) => x.codec_type === 'video');
    assert.equal(video.codec_name, 'h264');
    assert.equal(`${video.width}x${video.height}`, a.RESOLUTION);
    assert.equal(parseInt(a.CODECS.slice(9, 11), 16), video.level);
    assert.equal(video.pix_fmt, 'yuv420p');
    // rungs carry no audio of their own: it is a separate rendition
    assert.equal(s.filter((x) => x.codec_type === 'audio').length, 0);
  }
  if (audio) {
    assert.equal(master.media.length, 1);
    assert.equal(master.media[0].TYPE, 'AUDIO');
    assert.equal(master.media[0].URI, 'audio/index.m3u8');
    for (const v of master.variants)
      assert.equal(v.attrs.AUDIO, master.media[0]['GROUP-ID']);
    const a = streams(join(out, 'audio/index.m3u8')).streams;
    assert.equal(a.length, 1);
    assert.equal(a[0].codec_name, 'aac');
    assert.equal(a[0].profile, 'LC');
    assert.equal(a[0].sample_rate, '48000');
    assert.equal(a[0].channels, 2);
  } else {
    assert.equal(master.media.length, 0);
    assert.ok(!existsSync(join(out, 'audio')));
  }
  // poster and storyboard
  const poster = streams(join(out, 'poster.jpg')).streams[0];
  assert.equal(poster.codec_name, 'mjpeg');
  assert.ok(poster.width <= 1280);
  const vtt = read(out, 'storyboard.vtt');
  assert.match(vtt, /^WEBVTT\n/);
  assert.match(vtt, /\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}\n/);
  assert.match(vtt, /storyboard\.jpg#xywh=0,0,\d+,\d+/);
  assert.equal(streams(join(out, 'storyboard.jpg')).streams[0].codec_name,
               'mjpeg');
  assert.deepEqual(leftovers(), []);
  return master;
}

// Keyframes of every rung fall on the same 2 s grid; segments are 4 s but
// the last.
function checkAlignment(out, master, duration) {
  const lists = master.variants.map((v) =>
    keyframes(join(out, dirname(v.uri), 'index.m3u8')));
  for (const l of lists.slice(1))
    assert.deepEqual(l, lists[0], 'keyframes align across rungs');
  const expected = [];
  for (let t = 0; t < duration - 0.01; t += 2)
    expected.push(t * 1000);
  assert.deepEqual(lists[0].map((ms) => Math.round(ms / 100) * 100), expected,
                   'a keyframe every 2 s');
  for (const v of master.variants) {
    const segs = segments(join(out, dirname(v.uri), 'index.m3u8'));
    segs.slice(0, -1).forEach((s) =>
      assert.ok(Math.abs(s.duration - 4) < 0.05, `segment ${s.duration} s`));
    assert.ok(segs.at(-1).duration <= 4.05);
    const total = segs.reduce((a, s) => a + s.duration, 0);
    assert.ok(Math.abs(total - duration) < 0.1, `total ${total} s`);
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-transcode-'));
  const src = (s, r, d) => ['-f', 'lavfi', '-i', `testsrc2=s=${s}:r=${r}:d=${d}`];
  const sine = (d, rate = 48000) =>
    ['-f', 'lavfi', '-i', `sine=d=${d}:sample_rate=${rate}:frequency=440`];
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  const f = (n) => (fx[n] = join(dir, n));

  ffmpeg([...src('1280x720', 30, 6), ...sine(6), ...x264, '-c:a', 'aac',
          f('h264-720p.mp4')]);
  // Chrome's MediaRecorder: live WebM written through a pipe, so there is
  // no duration and no cues (nothing was written back).
  const webm = execFileSync('ffmpeg', ['-v', 'error', ...src('640x360', 30, 5),
    ...sine(5), '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8',
    '-b:v', '600k', '-c:a', 'libopus', '-ac', '2', '-f', 'webm', '-live', '1',
    '-cluster_time_limit', '1000', 'pipe:'], { maxBuffer: 64 << 20 });
  writeFileSync(f('recorder.webm'), webm);
  ffmpeg([...src('640x360', 30, 4), ...sine(4), ...x264, '-c:a', 'aac',
          f('landscape.mp4')]);
  ffmpeg(['-i', fx['landscape.mp4'], '-c', 'copy', '-metadata:s:v:0',
          'rotate=90', f('phone-rotated.mp4')]);
  ffmpeg([...src('720x1280', 30, 3), ...sine(3), ...x264, '-c:a', 'aac',
          f('portrait.mp4')]);
  ffmpeg([...src('641x361', 25, 3), ...sine(3), '-c:v', 'libx264', '-preset',
          'ultrafast', '-pix_fmt', 'yuv444p', '-c:a', 'aac', f('odd.mp4')]);
  ffmpeg([...src('640x360', 30, 3), ...x264, f('silent.mp4')]);
  ffmpeg([...src('640x360', 30, 3), ...sine(3, 44100), '-ac', '1', ...x264,
          '-c:a', 'aac', f('mono44k.mp4')]);
  ffmpeg([...src('640x360', 30, 1), ...sine(1), ...x264, '-c:a', 'aac',
          f('one-second.mp4')]);
  // real interlaced content: fields from a 50 fps source, coded as fields
  ffmpeg([...src('720x576', 50, 4), ...sine(4), '-vf',
          'tinterlace=mode=interleave_top,setfield=tff', '-r', '25',
          '-c:v', 'mpeg2video', '-flags', '+ilme+ildct', '-top', '1',
          '-b:v', '5M', '-c:a', 'mp2', f('interlaced.ts')]);
  // starts black and fades in: the poster must not be the black frame
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=30:d=4,fade=in:st=0:d=1.5',
          ...x264, f('fade-in.mp4')]);
  ffmpeg([...src('640x360', 120, 3), ...x264, f('120fps.mp4')]);
  // hostile or broken inputs
  writeFileSync(f('random.mp4'), Buffer.from(
    Array.from({ length: 65536 }, (_, i) => (i * 2654435761 >>> 13) & 255)));
  writeFileSync(f('empty.mp4'), '');
  writeFileSync(f('concat.mp4'),
    `ffconcat version 1.0\nfile '${fx['landscape.mp4']}'\n`);
  const whole = readFileSync(fx['landscape.mp4']);
  writeFileSync(f('truncated.mp4'), whole.subarray(0, whole.length >> 1));
  ffmpeg(['-f', 'lavfi', '-i', 'color=s=8192x8192:d=0.1:r=10', '-c:v',
          'mjpeg', '-q:v', '31', f('huge.avi')]);
  ffmpeg([...sine(2), '-c:a', 'aac', f('audio-only.m4a')]);
  // 320x240 pixels, each 64 times wider than tall: shown 20480 wide.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=1:r=10', '-vf', 'setsar=64/1',
          '-c:v', 'libx264', '-preset', 'ultrafast', f('wide-pixels.mp4')]);
});

after(() => {
  if (dir && !process.env.HUBCAST_KEEP_TEST_DIR)
    rmSync(dir, { recursive: true, force: true });
});

test('720p H.264 MP4 becomes a 720/480/360 ladder with aligned 2 s keyframes, 4 s segments and measured bandwidth', async () => {
  const r = await transcode(fx['h264-720p.mp4'], ['--json']);
  assert.equal(r.code, 0, r.stderr);
  const master = checkCommon(r.out);
  assert.deepEqual(master.variants.map((v) => v.attrs.RESOLUTION),
                   ['1280x720', '854x480', '640x360']);
  assert.deepEqual(master.variants.map((v) => v.uri),
                   ['720p/index.m3u8', '480p/index.m3u8', '360p/index.m3u8']);
  for (const v of master.variants)
    assert.equal(v.attrs['FRAME-RATE'], '30.000');
  checkAlignment(r.out, master, 6);
  // BANDWIDTH is the measured peak of video + audio segments
  const peak = (pl) => Math.max(...segments(pl).map((s) =>
    statSync(join(dirname(pl), s.uri)).size * 8 / s.duration));
  const audioPeak = peak(join(r.out, 'audio/index.m3u8'));
  for (const v of master.variants) {
    const want = peak(join(r.out, v.uri)) + audioPeak;
    assert.ok(Math.abs(+v.attrs.BANDWIDTH - want) <= 2,
              `${v.attrs.BANDWIDTH} vs ${want}`);
  }
  // the JSON summary tells the same story
  const j = JSON.parse(r.stdout);
  assert.equal(j.width, 1280);
  assert.equal(j.height, 720);
  assert.equal(j.has_audio, true);
  assert.ok(Math.abs(j.duration - 6) < 0.1);
  assert.deepEqual(j.rungs.map((x) => x.name), ['720p', '480p', '360p']);
  assert.equal(j.rungs[0].bandwidth, +master.variants[0].attrs.BANDWIDTH);
  // the poster is the top rung size, and progress was reported
  assert.equal(streams(join(r.out, 'poster.jpg')).streams[0].width, 1280);
  assert.match(r.stderr, /transcoding: \d+% \(eta \d+ s\)/);
  assert.match(r.stderr, /transcoding: 100%/);
});

test('MediaRecorder WebM with no duration and no cues transcodes, with its length estimated', async () => {
  const probe = streams(fx['recorder.webm']);
  assert.equal(probe.format.duration, undefined, 'fixture has no duration');
  const r = await transcode(fx['recorder.webm'], ['--json']);
  assert.equal(r.code, 0, r.stderr);
  const master = checkCommon(r.out);
  assert.deepEqual(master.variants.map((v) => v.attrs.RESOLUTION), ['640x360']);
  checkAlignment(r.out, master, 5);
  const j = JSON.parse(r.stdout);
  assert.ok(Math.abs(j.duration - 5) < 0.2, `duration ${j.duration}`);
  // without a known total, progress reports seconds done, not a percentage
  assert.doesNotMatch(r.stderr, /transcoding: \d+%/);
  assert.match(r.stderr, /transcoding: \d+ s done/);
});

test('phone clip with rotation metadata comes out upright in portrait', async () => {
  const r = await transcode(fx['phone-rotated.mp4']);
  assert.equal(r.code, 0, r.stderr);
  const master = checkCommon(r.out);
  assert.deepEqual(master.variants.map((v) => v.attrs.RESOLUTION), ['360x640']);
  const v = streams(join(r.out, '360p/index.m3u8')).streams[0];
  assert.equal(v.width, 360);
  assert.equal(v.height, 640);
  assert.equal((v.side_data_list ?? []).filter(
    (s) => s.side_data_type === 'Display Matrix').length, 0,
    'no rotation left for the player to apply');
});

test('portrait 720x1280 picks rungs by its width: 720x1280, 480x854, 360x640', async () => {
  const r = await transcode(fx['portrait.mp4']);
  assert.equal(r.code, 0, r.stderr);
  const master = checkCommon(r.out);
  assert.deepEqual(master.variants.map((v) => v.attrs.RESOLUTION),
                   ['720x1280', '480x854', '360x640']);
  checkAlignment(r.out, master, 3);
});

test('odd 641x361 4:4:4 source gets one even-sized 640x360 yuv420p rung', async () => {
  const r = await transcode(fx['odd.mp4']);
  assert.equal(r.code, 0, r.stderr);
  const master = checkCommon(r.out);
  assert.deepEqual(master.variants.map((v) => v.attrs.RESOLUTION), ['640x360']);
  assert.equal(master.variants[0].attrs['FRAME-RATE'], '25.000');
});

test('video without audio gets no audio rendition and plays silently', async () => {
  const r = await transcode(fx['silent.mp4']);
  assert.equal(r.code, 0, r.stderr);
  const master = checkCommon(r.out, { audio: false });
  assert.equal(master.variants.length, 1);
  assert.ok(!master.variants[0].attrs.AUDIO);
});

test('mono 44.1 kHz audio becomes AAC 48 kHz stereo', async () => {
  const r = await transcode(fx['mono44k.mp4']);
  assert.equal(r.code, 0, r.stderr);
  checkCommon(r.out);  // checks aac, LC, 48000, 2 channels
  const segs = segments(join(r.out, 'audio/index.m3u8'));
  const total = segs.reduce((a, s) => a + s.duration, 0);
  assert.ok(Math.abs(total - 3) < 0.1, `audio lasts ${total} s`);
});

test('a 1-second clip gives a single segment of about 1 s', async () => {
  const r = await transcode(fx['one-second.mp4']);
  assert.equal(r.code, 0, r.stderr);
  const master = checkCommon(r.out);
  const segs = segments(join(r.out, '360p/index.m3u8'));
  assert.equal(segs.length, 1);
  assert.ok(Math.abs(segs[0].duration - 1) < 0.05);
  assert.deepEqual(keyframes(join(r.out, master.variants[0].uri)), [0]);
});

test('interlaced MPEG-2 transport stream comes out deinterlaced', async () => {
  const count = (path) => {
    const r = execFileSync('sh', ['-c',
      `ffmpeg -hide_banner -i "${path}" -vf idet -f null - 2>&1 | grep "Multi frame"`],
      { encoding: 'utf8' });
    const m = r.match(/TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)/);
    return { interlaced: +m[1] + +m[2], progressive: +m[3] };
  };
  const src = count(fx['interlaced.ts']);
  assert.ok(src.interlaced > src.progressive, 'fixture really is interlaced');
  const r = await transcode(fx['interlaced.ts']);
  assert.equal(r.code, 0, r.stderr);
  const master = checkCommon(r.out);
  assert.deepEqual(master.variants.map((v) => v.attrs.RESOLUTION),
                   ['600x480', '450x360']);
  const out = count(join(r.out, master.variants[0].uri));
  assert.ok(out.progressive > 10 * Math.max(1, out.interlaced),
            `idet on output: ${JSON.stringify(out)}`);
  checkAlignment(r.out, master, 4);
});

test('the poster of a clip that starts black is a picture, not black', async () => {
  const r = await transcode(fx['fade-in.mp4']);
  assert.equal(r.code, 0, r.stderr);
  checkCommon(r.out, { audio: false });
  const j = ffprobe(['-f', 'lavfi', '-i',
    `movie=${join(r.out, 'poster.jpg')},signalstats`,
    '-show_entries', 'frame_tags=lavfi.signalstats.YAVG,lavfi.signalstats.YMAX']);
  const tags = j.frames[0].tags;
  assert.ok(+tags['lavfi.signalstats.YAVG'] > 60,
            `poster mean luma ${tags['lavfi.signalstats.YAVG']}`);
  assert.ok(+tags['lavfi.signalstats.YMAX'] > 200);
});

test('a 120 fps clip is capped at 60 frames a second', async () => {
  const r = await transcode(fx['120fps.mp4']);
  assert.equal(r.code, 0, r.stderr);
  const master = checkCommon(r.out, { audio: false });
  assert.equal(master.variants[0].attrs['FRAME-RATE'], '60.000');
  const s = ffprobe(['-count_packets', '-show_streams',
                     join(r.out, master.variants[0].uri)]).streams[0];
  assert.equal(s.r_frame_rate, '60/1');
  assert.equal(+s.nb_read_packets, 180);
  checkAlignment(r.out, master, 3);
});

test('an existing output folder is refused and left untouched', async () => {
  const out = join(dir, 'already-there');
  mkdirSync(out);
  writeFileSync(join(out, 'keep.txt'), 'mine');
  const r = await run(BIN, ['transcode', fx['one-second.mp4'], out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^hubcast: the output folder already exists$/m);
  assert.deepEqual(readdirSync(out), ['keep.txt']);
  assert.deepEqual(leftovers(), []);
});

test('an HLS playlist named .mp4 is refused without contacting the URL inside it', async () => {
  let contacted = 0;
  const server = net.createServer((s) => { contacted++; s.destroy(); });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address();
  const pl = join(dir, 'playlist.mp4');
  writeFileSync(pl, '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n' +
    `#EXTINF:4.0,\nhttp://127.0.0.1:${port}/segment.ts\n#EXT-X-ENDLIST\n`);
  try {
    const r = await transcode(pl);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^hubcast: this file is a playlist, not a video$/m);
    assert.ok(!existsSync(r.out));
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(contacted, 0, 'the listener was never contacted');
  } finally {
    server.close();
  }
  assert.deepEqual(leftovers(), []);
});

const refusals = [
  ['an ffconcat script', 'concat.mp4', /this file is a playlist, not a video/],
  ['random bytes', 'random.mp4', /this file is not a video Hubcast can read/],
  ['an empty file', 'empty.mp4', /this file is empty/],
  ['a truncated MP4 (first half of a valid one)', 'truncated.mp4',
   /this file is (not a video Hubcast can read|incomplete or damaged)/],
  ['an 8192x8192 video', 'huge.avi', /the video is larger than 4096×4096/],
  ['a video whose pixel shape makes it 20480 wide', 'wide-pixels.mp4',
   /the video's pixel shape makes it larger than 4096×4096/],
  ['an audio-only file', 'audio-only.m4a',
   /this file has no video; Hubcast needs a video/],
];
for (const [what, name, reason] of refusals) {
  test(`${what} is refused with exit 1 and a reason`, async () => {
    const r = await transcode(fx[name]);
    assert.equal(r.code, 1, r.stderr);
    const last = r.stderr.trim().split('\n').at(-1);
    assert.match(last, /^hubcast: /);
    assert.match(last, reason);
    assert.ok(!existsSync(r.out), 'no output folder');
    assert.deepEqual(leftovers(), []);
  });
}

test('--help documents every option and usage errors exit 2', async () => {
  const h = await run(BIN, ['transcode', '--help']);
  assert.equal(h.code, 0);
  for (const o of ['--preset', '--crf', '--threads', '--max-duration',
                   '--json'])
    assert.ok(h.stdout.includes(o), `--help mentions ${o}`);
  assert.equal((await run(BIN, ['transcode'])).code, 2);
  assert.equal((await run(BIN, ['transcode', 'a', 'b', '--crf', 'x'])).code, 2);
  assert.equal((await run(BIN, ['transcode', 'a', 'b', '--bogus'])).code, 2);
});

test('--max-duration refuses a longer video', async () => {
  const r = await transcode(fx['landscape.mp4'], ['--max-duration', '2']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^hubcast: the video lasts/m);
  assert.ok(!existsSync(r.out));
});
