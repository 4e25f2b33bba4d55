// instant-peak.mjs - the first-playable pass (issue 9) through a real
// `hubcast serve --workers 2` (its first lane beside the two ladder
// workers), as members observe it through the API, with tus-js-client
// (resolved from tests/node_modules). Run through `bench/instant peak`.
//
// For each codec (H.264 in Matroska as Chromium writes it, 2 s keyframes;
// VP8/Opus WebM), on a fresh server:
//   peak   BENCH_PEAK_N recordings of BENCH_PEAK_SECONDS posted at once,
//          each streamed as a deferred-length tus upload (1 MiB PATCHes as
//          fast as loopback takes them): per recording the seconds from its
//          upload's end to playable and to its whole first rendition
//          (ENDLIST), their median and max, and the minutes from the burst
//          until every ladder is ready (status ready); once per value of
//          BENCH_FIRST_ENCODES (`--first-encodes`, passes encoding at once:
//          0 = the server's default, no cap);
//   live   one BENCH_LIVE_SECONDS recording streamed at real-time pace (a
//          PATCH about every second, as web/js/recupload.js sends): the
//          seconds from the stop (the last bytes handed to the client) and
//          from the upload's end until the whole recording is playable (its
//          playlist lists it all, with ENDLIST), and when it first was.
// "Playable" is the issue's: GET /api/updates/{id} says playable: true and
// the playlist behind playback_url (a master playlist, followed to its
// first variant, video/index.m3u8) lists a segment. Polled every 100 ms.
//
// environment: BENCH_CODECS="h264 vp8", BENCH_PEAK_N=8, BENCH_PEAK_SECONDS=60,
//   BENCH_LIVE_SECONDS=180, BENCH_LADDER_WAIT=900 (seconds to wait for the
//   ladders; 0 skips the wait), BENCH_CASES="peak live",
//   BENCH_FIRST_ENCODES="0" (e.g. "0 2": no cap, as by default, and two at once;
//   the measurement of bench/README.md), BENCH_RECORDINGS=DIR (keep the recordings there and
//   reuse them in later runs: a 60 s VP8 one takes minutes to make on a
//   busy machine), HUBCAST_BIN,
//   BENCH_KEEP=1 keeps the folder. Only 127.0.0.1 is contacted; each server
//   is stopped at the end of its codec.
import { createRequire } from 'node:module';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const require = createRequire(join(ROOT, 'tests', 'package.json'));
const tus = require('tus-js-client');
const { freePort } = await import(join(ROOT, 'tests/e2e/lib/server.mjs'));
const { PacedSource } = await import(join(ROOT, 'tests/e2e/lib/paced.mjs'));
const BIN = process.env.HUBCAST_BIN ?? join(ROOT, 'src', 'hubcast');
const CODECS = (process.env.BENCH_CODECS ?? 'h264 vp8').split(/\s+/).filter(Boolean);
const CASES = (process.env.BENCH_CASES ?? 'peak live').split(/\s+/).filter(Boolean);
const PEAK_N = Number(process.env.BENCH_PEAK_N ?? 8);
const PEAK_SECONDS = Number(process.env.BENCH_PEAK_SECONDS ?? 60);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 180);
const LADDER_WAIT = Number(process.env.BENCH_LADDER_WAIT ?? 900);
const ENCODES = (process.env.BENCH_FIRST_ENCODES ?? '0').split(/\s+/).filter(Boolean).map(Number);
const POLL_MS = 100;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const s2 = (ms) => (ms / 1000).toFixed(2);
const log = (m) => console.error(`== ${m}`);

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// ffmpeg writing to a pipe, as a browser's recorder does: no duration, no
// cues, keyframes every 2 s (30 fps, -g 60); the settings of bench/instant.
function recording(out, seconds, codec) {
  const kept = process.env.BENCH_RECORDINGS && join(process.env.BENCH_RECORDINGS, `${seconds}s-${codec}.rec`);
  if (kept && existsSync(kept)) return readFileSync(kept);
  const video = codec === 'vp8'
    ? ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '2500k', '-g', '60', '-f', 'webm']
    : ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-keyint_min', '60', '-b:v', '2000k',
      '-maxrate', '2500k', '-bufsize', '5000k', '-pix_fmt', 'yuv420p', '-f', 'matroska'];
  const data = execFileSync('ffmpeg', ['-nostdin', '-v', 'error',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-c:a', 'libopus', '-b:a', '128k', ...video, '-live', '1', '-'], { maxBuffer: 1 << 30 });
  writeFileSync(out, data);
  if (kept) {
    mkdirSync(process.env.BENCH_RECORDINGS, { recursive: true });
    writeFileSync(kept, data);
  }
  return data;
}

async function startServer(dir, encodes = 0) {
  const port = await freePort();
  const data = join(dir, 'data');
  const proc = spawn(BIN, ['serve', '--workers', '2', '--first-encodes', String(encodes), '--data', data,
    '--listen', `127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  proc.stderr.on('data', (d) => { output = (output + d).slice(-20000); });
  const srv = { url: `http://127.0.0.1:${port}`, proc, data, output: () => output };
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${srv.url}/healthz`)).ok) break; } catch { /* not yet */ }
    if (i > 400 || proc.exitCode !== null) throw new Error(`hubcast serve did not start:\n${output}`);
    await sleep(50);
  }
  srv.stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    await new Promise((r) => { proc.on('exit', r); setTimeout(r, 15000); });
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  return srv;
}

function member(srv, email) {
  const add = spawnSync(BIN, ['user', 'add', email, '--name', email.split('@')[0],
    '--password-stdin', '--data', srv.data], { input: 'bench password 1\n' });
  if (add.status !== 0) throw new Error(`user add: ${add.stderr}`);
  return execFileSync(BIN, ['user', 'token', email, '--data', srv.data], { encoding: 'utf8' }).trim();
}

async function api(srv, token, path) {
  const r = await fetch(srv.url + path, { headers: { authorization: `Bearer ${token}` } });
  try { return { status: r.status, data: await r.json() }; } catch { return { status: r.status, data: null }; }
}

// A deferred-length tus upload of `source`: { up, ended } where `ended`
// resolves to Date.now() once the server has confirmed the last byte.
function upload(srv, token, source, chunk, metadata) {
  let resolve, reject;
  const ended = new Promise((a, b) => { resolve = a; reject = b; });
  const up = new tus.Upload(source, {
    endpoint: `${srv.url}/api/uploads`,
    headers: { authorization: `Bearer ${token}` },
    metadata: { kind: 'weekly', ...metadata },
    uploadLengthDeferred: true,
    chunkSize: chunk,
    retryDelays: null,
    fileReader: { openFile: async () => source },
    onError: reject,
    onSuccess: () => resolve(Date.now()),
  });
  source.start();
  up.start();
  return { up, ended };
}

// The playlist behind `url` as a player reads it (a master playlist
// followed to its first variant): { segments, seconds, ended }.
async function playlist(srv, token, url) {
  const get = async (u) => {
    const r = await fetch(new URL(u, srv.url), { headers: { authorization: `Bearer ${token}` } });
    return { ok: r.ok, text: r.ok ? await r.text() : '' };
  };
  let r = await get(url);
  if (r.ok && r.text.includes('#EXT-X-STREAM-INF')) {
    const lines = r.text.split('\n').map((l) => l.trim());
    const variant = lines[lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF')) + 1];
    r = await get(new URL(variant, new URL(url, srv.url)).href);
  }
  const d = r.ok ? [...r.text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1])) : [];
  return { segments: d.length, seconds: d.reduce((a, b) => a + b, 0), ended: r.text.includes('#EXT-X-ENDLIST') };
}

// The update made by upload `up`: named by GET /api/uploads/{id} once it
// has ended, found among the author's uploading updates by title before.
async function updateOf(srv, token, up, title) {
  if (!up.url) return null;
  const r = await api(srv, token, `/api/uploads/${up.url.split('/').pop()}`);
  if (r.data?.update) return r.data.update.id;
  const l = await api(srv, token, '/api/updates?status=uploading');
  return l.data?.updates?.find((x) => x.title === title)?.id ?? null;
}

// Poll update `title` of `up` every POLL_MS until done(seen) says so:
// seen.playable (first playable), seen.whole (the playlist lists
// `seconds` - 1 s or more and ENDLIST), seen.ready (status ready).
function watch(srv, token, up, title, seconds, done) {
  const seen = { id: null, playable: null, whole: null, ready: null, last: null };
  let running = true;
  const loop = (async () => {
    while (running && !done(seen)) {
      try {
        if (!seen.id) seen.id = await updateOf(srv, token, up, title);
        if (seen.id) {
          const u = (await api(srv, token, `/api/updates/${seen.id}`)).data?.update;
          const now = Date.now();
          seen.last = u && { status: u.status, playable: u.playable };
          if (u?.status === 'ready' && !seen.ready) seen.ready = now;
          if (u?.playable === true && u.playback_url && !(seen.playable && seen.whole)) {
            const p = await playlist(srv, token, u.playback_url);
            if (p.segments > 0 && !seen.playable) seen.playable = now;
            if (p.ended && p.seconds >= seconds - 1 && !seen.whole) seen.whole = now;
          }
        }
      } catch { /* the next poll tells */ }
      await sleep(POLL_MS);
    }
  })();
  return { seen, stop: async () => { running = false; await loop; } };
}

async function peak(srv, codec, data, t, encodes) {
  const ext = codec === 'vp8' ? 'webm' : 'mkv';
  const type = codec === 'vp8' ? 'video/webm' : 'video/x-matroska';
  const tokens = [];
  for (let i = 0; i < PEAK_N; i++) tokens.push(member(srv, `peak-${codec}-${i}@example.com`));
  log(`${codec} peak: ${PEAK_N} x ${PEAK_SECONDS} s posted at once`);
  const t0 = Date.now();
  const runs = tokens.map((token, i) => {
    const title = `Peak ${codec} ${i}`;
    const u = upload(srv, token, new PacedSource(data, 0), 1 << 20, { filename: `peak${i}.${ext}`, filetype: type, title });
    const w = watch(srv, token, u.up, title, PEAK_SECONDS,
      (s) => s.ready || (s.playable && s.whole && (!LADDER_WAIT || Date.now() > t0 + LADDER_WAIT * 1000)));
    return { i, title, u, w };
  });
  const rs = [];
  for (const r of runs) {
    const end = await r.u.ended;
    rs.push({ ...r, end });
  }
  const waitUntil = t0 + Math.max(LADDER_WAIT, 120) * 1000;
  while (Date.now() < waitUntil &&
         !rs.every((r) => r.w.seen.ready || (!LADDER_WAIT && r.w.seen.playable && r.w.seen.whole))) await sleep(500);
  for (const r of rs) await r.w.stop();
  const waits = [];
  const wholes = [];
  const cap = encodes ? `--first-encodes ${encodes}` : '--first-encodes 0 (default: no cap)';
  for (const r of rs) {
    const { seen } = r.w;
    const wait = seen.playable ? (seen.playable - r.end) / 1000 : Infinity;
    const whole = seen.whole ? (seen.whole - r.end) / 1000 : Infinity;
    waits.push(wait);
    wholes.push(whole);
    console.log(`${codec} peak ${r.i} (${cap}): upload ended ${s2(r.end - t0)} s after the burst began, ` +
      `playable ${!Number.isFinite(wait) ? `never (last seen ${JSON.stringify(seen.last)})`
        : wait < 0 ? `${(-wait).toFixed(2)} s before its end` : `${wait.toFixed(2)} s after its end`}` +
      `, whole first rendition ${Number.isFinite(whole) ? `${whole.toFixed(2)} s after its end` : 'not seen'}` +
      `${seen.ready ? `, ladder ready ${((seen.ready - t0) / 60000).toFixed(2)} min after the burst began` : ''}`);
  }
  const ready = rs.filter((r) => r.w.seen.ready);
  const all = ready.length === rs.length ? ((Math.max(...ready.map((r) => r.w.seen.ready)) - t0) / 60000).toFixed(2) : null;
  const line = `${codec} peak (${cap}): ${PEAK_N} x ${PEAK_SECONDS} s: upload end to playable median ${median(waits).toFixed(2)} s, ` +
    `max ${Math.max(...waits).toFixed(2)} s (target <= 5; negative: playable before the upload ended); ` +
    `to the whole first rendition median ${median(wholes).toFixed(2)} s, max ${Math.max(...wholes).toFixed(2)} s; all ladders ready ` +
    `${all ? `${all} min after the burst began` : `not within ${LADDER_WAIT} s (${ready.length}/${rs.length} ready)`}`;
  console.log(line);
  t.push(line);
}

async function live(srv, codec, data, t) {
  const ext = codec === 'vp8' ? 'webm' : 'mkv';
  const token = member(srv, `live-${codec}@example.com`);
  const title = `Live ${codec}`;
  log(`${codec} live: ${LIVE_SECONDS} s at real-time pace`);
  const source = new PacedSource(data, LIVE_SECONDS);
  const t0 = Date.now();
  const u = upload(srv, token, source, 64 << 20, { filename: `live.${ext}`, filetype: codec === 'vp8' ? 'video/webm' : 'video/x-matroska', title });
  const w = watch(srv, token, u.up, title, LIVE_SECONDS, (s) => s.whole);
  const end = await u.ended;
  const deadline = end + 120000;
  while (!w.seen.whole && Date.now() < deadline) await sleep(50);
  await w.stop();
  const { seen } = w;
  const stop = source.stopped;
  const line = `${codec} live: ${LIVE_SECONDS} s streamed at real-time pace (${(data.length / 1048576).toFixed(1)} MiB): ` +
    `first playable ${seen.playable ? `${s2(seen.playable - t0)} s into the recording` : 'never'}; ` +
    `whole recording playable ${seen.whole ? `${s2(Math.max(0, seen.whole - stop))} s after the stop, ` +
      `${s2(Math.max(0, seen.whole - end))} s after the upload's end (upload ended ${s2(end - stop)} s after the stop)`
      : `never (last seen ${JSON.stringify(seen.last)})`}` +
    `${codec === 'h264' ? ' (target <= 2)' : ''}`;
  console.log(line);
  t.push(line);
}

async function main() {
  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), 'hubcast-bench-'));
  const summary = [];
  let srv = null;
  try {
    console.log(`bench/instant peak: hubcast serve --workers 2 (first lane, default --first-jobs, ` +
      `--first-encodes ${ENCODES.join(', ')}), ` +
      `${PEAK_N} x ${PEAK_SECONDS} s and ${LIVE_SECONDS} s live, 1280x720 30 fps testsrc2 + sine, ` +
      `${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, ` +
      `hubcast ${spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim()}`);
    for (const codec of CODECS) {
      if (!['h264', 'vp8'].includes(codec)) throw new Error(`unknown codec ${codec} (h264, vp8)`);
      const ext = codec === 'vp8' ? 'webm' : 'mkv';
      for (const c of CASES) {
        if (!['peak', 'live'].includes(c)) throw new Error(`unknown case ${c} (peak, live)`);
        const seconds = c === 'peak' ? PEAK_SECONDS : LIVE_SECONDS;
        log(`making the ${seconds} s ${codec} recording`);
        const data = recording(join(dir, `${c}-${codec}.${ext}`), seconds, codec);
        for (const encodes of c === 'peak' ? ENCODES : [ENCODES[0]]) {
          const sdir = mkdtempSync(join(dir, `${c}-${codec}-`));
          srv = await startServer(sdir, encodes);
          try {
            if (c === 'peak') await peak(srv, codec, data, summary, encodes);
            else await live(srv, codec, data, summary);
          } finally {
            await srv.stop();
            srv = null;
          }
          if (!process.env.BENCH_KEEP) rmSync(sdir, { recursive: true, force: true });
        }
      }
    }
    console.log('summary:');
    for (const l of summary) console.log(`  ${l}`);
  } finally {
    if (srv) await srv.stop();
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.error(`== kept ${dir}`);
  }
}

main().catch((e) => { console.error(`bench/instant peak: ${e.stack ?? e.message}`); process.exit(1); });
