// load.mjs - the loopback load test of bench/load (issue 13): one hubcast
// serve with the limits given as flags, then at once for BENCH_SECONDS:
//   - BENCH_VIEWERS HLS viewers from 127.0.0.1 (master, variant playlist,
//     then one segment per segment duration, i.e. at playback pace, each
//     on its own kept-alive connection), signed in with an API token;
//   - BENCH_UPLOADS uploaders sending a 20 s clip again and again at
//     BENCH_UPLOAD_RATE (2 MiB/s each; one-request upload), which keeps
//     the two workers transcoding;
//   - BENCH_SLOW slow connections from 127.0.0.2-6 that trickle a header
//     line every 5 s and reconnect at once when closed;
//   - a sign-in (POST /api/session) every 2 s on a new connection.
// An error is any answer other than 2xx/3xx/304, or none within 10 s.
// Prints viewers' requests, errors, p50/p99; uploads; sign-ins; how often
// the server cut slow connections; the server's RSS. Bounded: stops
// everything it started and removes its folder.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';

const BIN = process.env.HUBCAST_BIN ?? new URL('../src/hubcast', import.meta.url).pathname;
const SECONDS = +(process.env.BENCH_SECONDS ?? 60);
const VIEWERS = +(process.env.BENCH_VIEWERS ?? 500);
const UPLOADS = +(process.env.BENCH_UPLOADS ?? 10);
const SLOW = +(process.env.BENCH_SLOW ?? 1000);
const FLAGS = (process.env.BENCH_FLAGS ?? '--conn-limit 4096 --workers 2').split(/\s+/).filter(Boolean);
const UPLOAD_RATE = +(process.env.BENCH_UPLOAD_RATE ?? 2 * 1048576);   // bytes/s per upload
const LIMIT_MS = 10000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => process.stderr.write(`== ${s}\n`);
const dir = mkdtempSync(join(tmpdir(), 'hubcast-load-'));
let server;

function cleanup() {
  if (server && server.exitCode === null) server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function rssKiB(pid) {
  try {
    return +readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1];
  } catch { return 0; }
}

// One request with the 10 s limit: { status, ms } or { error, ms }.
function request(agent, port, method, path, { headers = {}, body, localAddress, pace } = {}) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers, localAddress,
                               timeout: LIMIT_MS }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0 }));
      res.on('error', (e) => resolve({ error: e.code ?? String(e), ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (e) => resolve({ error: e.code ?? e.message, ms: performance.now() - t0 }));
    if (!pace || !body) {
      req.end(body);
      return;
    }
    // Send the body at `pace` bytes a second, as a browser on a network would.
    req.setHeader('content-length', body.length);
    const chunk = 65536;
    let off = 0;
    const next = () => {
      if (req.destroyed) return;
      if (off >= body.length) { req.end(); return; }
      req.write(body.subarray(off, off + chunk));
      off += chunk;
      setTimeout(next, (chunk / pace) * 1000);
    };
    next();
  });
}

// 2xx/3xx (304 included) within the 10 s limit; the socket timeout above
// only catches silence, so the total time is checked here.
const good = (r) => r.status && r.status >= 200 && r.status < 400 && r.ms <= LIMIT_MS;
const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(a.length * p))] : NaN);

async function main() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  say(`clip: 20 s 640x360 with sound (ffmpeg)`);
  const clip = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '20', '-c:v', 'libx264', '-preset', 'veryfast',
    '-b:v', '1500k', '-c:a', 'aac', '-shortest', clip]);
  const clipBytes = readFileSync(clip);
  const data = join(dir, 'data');
  say(`hubcast serve ${FLAGS.join(' ')} on ${url}`);
  server = spawn(BIN, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--preset', 'ultrafast',
    ...FLAGS], { stdio: ['ignore', 'ignore', 'pipe'] });
  let serverLog = '';
  server.stderr.on('data', (d) => { serverLog += d; });
  for (let i = 0; ; i++) {
    const r = await request(undefined, port, 'GET', '/healthz');
    if (r.status === 200) break;
    if (i > 200) throw new Error(`the server did not start:\n${serverLog}`);
    await sleep(100);
  }
  const cli = (args, input) => {
    const r = spawnSync(BIN, [...args, '--data', data], { input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  cli(['user', 'add', 'viewer@example.com', '--name', 'Viewer', '--password-stdin'], 'a good password\n');
  const token = cli(['user', 'token', 'viewer@example.com']);
  const auth = { authorization: `Bearer ${token}` };

  say('the video the viewers watch: upload, then wait until it is ready');
  const up = await request(undefined, port, 'POST', '/api/updates?title=Watched',
    { headers: { ...auth, 'content-type': 'video/mp4' }, body: clipBytes });
  if (up.status !== 201) throw new Error(`upload: ${up.status ?? up.error}`);
  let id;
  for (let i = 0; ; i++) {
    const list = await fetch(`${url}/api/updates`, { headers: auth }).then((r) => r.json());
    const u = list.updates[0];
    id = u.id;
    if (u.status === 'ready') break;
    if (u.status === 'failed' || i > 600) throw new Error(`the video did not become ready: ${u.error}`);
    await sleep(500);
  }
  const base = `/media/${id}`;
  const master = await fetch(`${url}${base}/master.m3u8`, { headers: auth }).then((r) => r.text());
  const variant = master.split('\n').find((l) => l && !l.startsWith('#'));
  const vdir = variant.split('/')[0];
  const vtext = await fetch(`${url}${base}/${variant}`, { headers: auth }).then((r) => r.text());
  const segs = vtext.split('\n').filter((l) => l && !l.startsWith('#'));
  const segSeconds = +(vtext.match(/#EXTINF:([\d.]+)/)?.[1] ?? 4);
  say(`${VIEWERS} viewers of ${variant} (${segs.length} segments of ${segSeconds} s), ${UPLOADS} uploaders, ` +
      `${SLOW} slow connections, sign-in every 2 s, for ${SECONDS} s`);

  const rss0 = rssKiB(server.pid);
  const end = Date.now() + SECONDS * 1000;
  const lat = [];
  const errors = {};
  let vreq = 0, verr = 0;
  const err = (what) => { verr++; errors[what] = (errors[what] ?? 0) + 1; };

  async function viewer(i) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await sleep((i / VIEWERS) * segSeconds * 1000);       // spread the starts
    const get = async (path) => {
      const r = await request(agent, port, 'GET', path, { headers: auth });
      vreq++;
      if (good(r)) lat.push(r.ms); else err(r.ms > LIMIT_MS ? 'over 10 s' : r.status ?? r.error);
    };
    while (Date.now() < end) {
      await get(`${base}/master.m3u8`);
      await get(`${base}/${variant}`);
      for (const s of segs) {
        if (Date.now() >= end) break;
        const t = Date.now();
        await get(`${base}/${vdir}/${s}`);
        await sleep(Math.max(0, segSeconds * 1000 - (Date.now() - t)));
      }
    }
    agent.destroy();
  }

  let upOk = 0, upErr = 0, upBytes = 0;
  const upErrors = {};
  async function uploader() {
    while (Date.now() < end) {
      const r = await request(undefined, port, 'POST', '/api/updates?title=Load',
        { headers: { ...auth, 'content-type': 'video/mp4' }, body: clipBytes, pace: UPLOAD_RATE });
      if (r.status === 201) { upOk++; upBytes += clipBytes.length; } else {
        upErr++;
        upErrors[r.status ?? r.error] = (upErrors[r.status ?? r.error] ?? 0) + 1;
      }
    }
  }

  let slowOpened = 0, slowCut = 0;
  const slowSockets = new Set();
  function slow(i) {
    if (Date.now() >= end) return;
    const s = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % 5)}` });
    slowSockets.add(s);
    let timer;
    s.on('connect', () => {
      slowOpened++;
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      timer = setInterval(() => s.write(`X-Slow: ${Date.now()}\r\n`), 5000);
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      slowSockets.delete(s);
      if (Date.now() < end) { slowCut++; setTimeout(() => slow(i), 10); }
    });
  }

  const signins = [];
  async function signer() {
    while (Date.now() < end) {
      const r = await request(undefined, port, 'POST', '/api/session', {
        headers: { 'content-type': 'application/json', origin: url },
        body: JSON.stringify({ email: 'viewer@example.com', password: 'a good password' }) });
      signins.push(r);
      await sleep(2000);
    }
  }

  for (let i = 0; i < SLOW; i++) slow(i);
  let peak = rss0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(server.pid)); }, 1000);
  await Promise.all([
    ...Array.from({ length: VIEWERS }, (_, i) => viewer(i)),
    ...Array.from({ length: UPLOADS }, () => uploader()),
    signer(),
  ]);
  clearInterval(sampler);
  for (const s of slowSockets) s.destroy();
  const rss1 = rssKiB(server.pid);
  lat.sort((a, b) => a - b);
  const transcoded = (await fetch(`${url}/api/updates?status=ready&limit=1`, { headers: auth })
    .then((r) => r.json())).total;
  const sOk = signins.filter((r) => r.status === 200);
  const sLat = sOk.map((r) => r.ms).sort((a, b) => a - b);

  console.log(`viewers: ${VIEWERS}, requests ${vreq}, errors ${verr}` +
              (verr ? ` ${JSON.stringify(errors)}` : '') +
              `, latency p50 ${pct(lat, 0.5).toFixed(1)} ms, p99 ${pct(lat, 0.99).toFixed(1)} ms, ` +
              `max ${lat.length ? lat[lat.length - 1].toFixed(0) : '-'} ms`);
  console.log(`uploads: ${upOk} answered 201 (${(upBytes / 1048576).toFixed(0)} MiB), ${upErr} refused or failed` +
              (upErr ? ` ${JSON.stringify(upErrors)}` : ''));
  console.log(`transcodes: ${transcoded} updates ready at the end (${upOk + 1} uploaded)`);
  console.log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`sign-in: ${sOk.length} of ${signins.length} answered 200, p50 ${pct(sLat, 0.5).toFixed(0)} ms, ` +
              `max ${sLat.length ? sLat[sLat.length - 1].toFixed(0) : '-'} ms`);
  console.log(`slow connections: ${SLOW} kept up, ${slowOpened} opened, ${slowCut} closed by the server`);
  console.log(`server RSS: ${(rss0 / 1024).toFixed(0)} MiB before, peak ${(peak / 1024).toFixed(0)} MiB, ` +
              `${(rss1 / 1024).toFixed(0)} MiB after`);
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
}

main().catch((e) => { console.error(`bench: ${e.stack ?? e}`); process.exitCode = 1; });
