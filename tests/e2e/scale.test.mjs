// scale.test.mjs - Hubcast on several machines, with real parts: a
// PostgreSQL 15 catalog, Ceph's radosgw as the S3 media store, nginx as a
// round-robin load balancer in front of two `hubcast serve` processes, and
// two `hubcast worker` processes. No two of them share a folder: each has
// a data folder of its own, used for logs and scratch only.
//
// - tus-js-client uploads a clip through nginx; its PATCH requests land on
//   both servers; one server is killed with SIGKILL mid-upload and the
//   upload resumes through the other; a worker transcodes it; the ffmpeg
//   program reads the whole ladder through nginx as a player would, and
//   Chromium plays it on the watch page (hls.js) through nginx; nothing
//   of the upload or its media was written to a server's data folder.
// - A burst of ten uploads with two workers, one killed mid-job: every job
//   completes exactly once and every update is ready.
//
// Run: node --test tests/e2e/scale.test.mjs (needs PostgreSQL, Ceph and
// nginx; see build-aux/deps.sh test).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as tus from 'tus-js-client';
import { BIN, startServer } from './lib/server.mjs';
import { api as request } from './lib/api.mjs';
import { startPostgres, postgresSkipReason } from './lib/postgres.mjs';
import { startCeph, cephSkipReason } from './lib/ceph.mjs';
import { startNginx, nginxSkipReason } from './lib/nginx.mjs';
import { launch, signedInPage } from '../browser/lib.mjs';

const chromiumMissing = existsSync(process.env.CHROMIUM ?? '/usr/bin/chromium') ? null
  : 'Chromium is not installed (Debian package chromium, see build-aux/deps.sh test)';
const skip = postgresSkipReason() ?? cephSkipReason() ?? nginxSkipReason() ?? chromiumMissing ?? false;
let pg;
let ceph;
let env;
let tmp;
const servers = [];
const workers = [];
let lb;
let token;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
}

// `hubcast worker` with its own data folder (scratch), a 4 s lease so a
// killed worker's job is taken over quickly.
function startWorker(name) {
  const dir = mkdtempSync(join(tmp, `worker-${name}-`));
  const proc = spawn(BIN, ['worker', '--data', dir, '--test-clock'], {
    env: { ...process.env, ...env, HUBCAST_JOB_LEASE: '4' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w = { name, dir, proc, output: '', exited: null };
  proc.stdout.on('data', (d) => { w.output += d; });
  proc.stderr.on('data', (d) => { w.output += d; });
  w.exit = new Promise((r) => proc.on('exit', (code, signal) => { w.exited = { code, signal }; r(w.exited); }));
  workers.push(w);
  return w;
}

// Every regular file under dir, relative to it.
function files(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

const api = (method, path, body) => request(lb, method, path, token, body);

async function waitReady(id, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = await api('GET', `/api/updates/${id}`);
    const u = r.data?.update;
    if (r.status === 200 && (u.status === 'ready' || u.status === 'failed')) return u;
    if (Date.now() > deadline) return u ?? r.data;
    await sleep(500);
  }
}

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), 'hubcast-scale-'));
  [pg, ceph] = await Promise.all([startPostgres(), startCeph()]);
  env = { ...pg.env, ...ceph.env };
  for (let i = 0; i < 2; i++) {
    servers.push(await startServer({
      args: ['--trusted-proxies', '127.0.0.1/32', '--verbose', '--upload-expiry', '3600'],
      env,
    }));
  }
  lb = await startNginx(servers.map((s) => `127.0.0.1:${s.port}`));
  const add = spawnSync(BIN, ['user', 'add', 'ada@example.com', '--name', 'Ada', '--role', 'admin',
    '--password-stdin', '--data', servers[0].dir], { input: 'a good password\n', env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
  const tok = spawnSync(BIN, ['user', 'token', 'ada@example.com', '--data', servers[1].dir],
    { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(tok.status, 0, tok.stderr);
  token = tok.stdout.trim().split(/\s+/).pop();
});

after(async () => {
  for (const w of workers) if (!w.exited) w.proc.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exit));
  if (lb) await lb.stop();
  for (const s of servers) await s.cleanup();
  if (ceph) await ceph.stop();
  if (pg) await pg.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('an upload through nginx survives a server killed mid-upload, is transcoded by a worker with no shared disk and plays through nginx', { skip, timeout: 300000 }, async () => {
  const clip = join(tmp, 'across.mp4');
  // About 20 MB: several 6 MiB PATCH requests and a short tail.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=30:d=16', '-f', 'lavfi', '-i', 'sine=d=16',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '10M', '-maxrate', '10M', '-bufsize', '20M',
    '-g', '60', '-c:a', 'aac', '-shortest', clip]);
  const data = readFileSync(clip);
  assert.ok(data.length > 15 * 1024 * 1024, `clip is ${data.length} bytes`);
  startWorker('a');

  let killed = false;
  const chunk = 6 * 1024 * 1024;
  const up = new tus.Upload(data, {
    endpoint: `${lb.url}/api/uploads`,
    headers: { authorization: `Bearer ${token}` },
    metadata: { kind: 'weekly', title: 'Across two servers', filename: 'across.mp4' },
    chunkSize: chunk,
    retryDelays: [0, 300, 1000, 2000, 4000, 8000],
    onChunkComplete: (size, sent) => {
      // Two chunks in, the server that took the second one dies.
      if (!killed && sent >= 2 * chunk) {
        killed = true;
        servers[1].proc.kill('SIGKILL');
      }
    },
  });
  await new Promise((resolve, reject) => {
    up.options.onSuccess = resolve;
    up.options.onError = reject;
    up.start();
  });
  assert.ok(killed, 'a server was killed mid-upload');
  // nginx's access log names the server that answered each request.
  const patches = servers.map((s) => lb.accessLog().split('\n')
    .filter((l) => l.startsWith('PATCH ') && l.endsWith(` 127.0.0.1:${s.port}`)).length);
  assert.ok(patches[0] > 0 && patches[1] > 0, `both servers took PATCH requests (${patches}):\n${lb.accessLog()}`);

  const id = up.url.split('/').pop();
  const info = await api('GET', `/api/uploads/${id}`);
  assert.equal(info.status, 200, info.text);
  const updateId = info.data.upload.update_id;
  assert.ok(updateId, `the upload became an update: ${info.text}`);

  const u = await waitReady(updateId, 240);
  assert.equal(u.status, 'ready', `update ${updateId}: ${JSON.stringify(u)}\n${workers[0].output}`);

  // A player reads the master playlist, a variant, and every segment through nginx.
  const probe = spawnSync('ffmpeg', ['-v', 'error', '-headers', `authorization: Bearer ${token}\r\n`,
    '-i', new URL(u.playback_url, lb.url).href, '-map', '0:v:0', '-f', 'null', '-'], { encoding: 'utf8', timeout: 120000 });
  assert.equal(probe.status, 0, `ffmpeg played the ladder through nginx: ${probe.stderr}`);
  const dur = spawnSync('ffprobe', ['-v', 'error', '-headers', `authorization: Bearer ${token}\r\n`,
    '-show_entries', 'format=duration', '-of', 'csv=p=0', new URL(u.playback_url, lb.url).href], { encoding: 'utf8' });
  assert.ok(Math.abs(Number(dur.stdout) - 16) < 1, `it lasts 16 s: ${dur.stdout} ${dur.stderr}`);

  // And Chromium plays it on the watch page, signed in through nginx.
  const browser = await launch();
  try {
    const page = await signedInPage(browser, { url: lb.url }, 'ada@example.com');
    await page.goto(`${lb.url}/watch/${updateId}`);
    await page.locator('#btn-play').waitFor();
    await page.click('#btn-play');
    await page.waitForFunction(() => document.querySelector('#video').currentTime > 3, null, { timeout: 30000 });
    const state = await page.evaluate(() => ({
      err: document.querySelector('#video').dataset.error || null,
      shown: !document.querySelector('#player-error').hidden,
      w: document.querySelector('#video').videoWidth,
    }));
    assert.equal(state.err, null, 'no player error');
    assert.equal(state.shown, false, 'no error shown');
    assert.ok(state.w > 0, `a picture (${state.w} px wide)`);
  } finally {
    await browser.close();
  }

  // The servers' data folders hold logs at most: no upload bytes, no media.
  for (const s of servers) {
    const left = files(s.dir).filter((f) => !/\.log$/.test(f));
    assert.deepEqual(left, [], `server data folder ${s.dir} holds only logs`);
  }
});

test('ten uploads and two workers, one killed mid-job: every job completes exactly once', { skip, timeout: 300000 }, async () => {
  const clip = join(tmp, 'short.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=25:d=6', '-f', 'lavfi', '-i', 'sine=d=6',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-c:a', 'aac', '-shortest', clip]);
  const data = readFileSync(clip);
  if (workers.length < 2) startWorker('b');
  const ids = [];
  for (let i = 0; i < 10; i++) {
    const meta = `filename ${Buffer.from(`burst-${i}.mp4`).toString('base64')},title ${Buffer.from(`Burst ${i}`).toString('base64')},kind ${Buffer.from('weekly').toString('base64')}`;
    const r = await fetch(`${lb.url}/api/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(data.length),
        'upload-metadata': meta, 'content-type': 'application/offset+octet-stream',
      },
      body: data,
    });
    assert.equal(r.status, 201, await r.text());
    const info = await api('GET', new URL(r.headers.get('location'), lb.url).pathname);
    ids.push(info.data.upload.update_id);
  }
  // Kill the first worker as soon as it runs a job child.
  const victim = workers[0];
  const children = () => {
    try {
      return readFileSync(`/proc/${victim.proc.pid}/task/${victim.proc.pid}/children`, 'utf8').trim();
    } catch { return ''; }
  };
  const deadline = Date.now() + 60000;
  while (!children() && Date.now() < deadline) await sleep(50);
  assert.ok(children(), 'the first worker started a job');
  victim.proc.kill('SIGKILL');
  await victim.exit;

  for (const id of ids) {
    const u = await waitReady(id, 240);
    assert.equal(u.status, 'ready', `update ${id}: ${JSON.stringify(u)}\n${workers[1].output}`);
  }
  const rows = pg.psql(`SELECT update_id, kind, count(*) FILTER (WHERE state = 'done'), count(*), max(attempts)
    FROM jobs WHERE update_id IN (${ids.join(',')}) GROUP BY update_id, kind ORDER BY update_id, kind`);
  const lines = rows.split('\n');
  for (const line of lines) {
    const [, kind, done, all] = line.split('|');
    assert.equal(done, '1', `one ${kind} job done per update: ${rows}`);
    assert.equal(all, '1', `no duplicate ${kind} job: ${rows}`);
  }
  assert.ok(lines.some((l) => Number(l.split('|')[4]) >= 2), `a job was retried after the kill: ${rows}`);
  console.log(`# jobs: ${rows.replace(/\n/g, '; ')}`);
});
