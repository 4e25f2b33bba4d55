// scale.mjs - one server and one worker against two servers and two
// workers, on this machine, with the parts of a multi-machine setup:
// PostgreSQL 15 (catalog), Ceph's radosgw (S3 media store), nginx (round
// robin) in front of the servers, workers with no folder shared with the
// servers. Run through `bench/scale`.
//
// For each topology, on a fresh catalog and store prefix:
//   burst     BENCH_N recordings (BENCH_SECONDS of 1280x720 30 fps H.264/AAC
//             in MOV, as a phone sends) posted at once through nginx with
//             tus-js-client (8 MiB PATCHes): seconds until every upload has
//             ended, until every update is playable, until every ladder is
//             ready;
//   playback  BENCH_VIEWERS viewers at once, each reading the master
//             playlist, the top variant and all its segments of every
//             update through nginx: requests/s and MB/s.
// Then the ratios (2 x 2 over 1 x 1). On a 2-core machine transcoding is
// CPU-bound either way: expect little gain; the numbers say how much the
// second server and worker cost or bring.
//
// environment: BENCH_N=8, BENCH_SECONDS=20, BENCH_VIEWERS=16,
//   BENCH_TOPOLOGIES="1x1 2x2", HUBCAST_BIN, BENCH_KEEP=1.
import { createRequire } from 'node:module';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const require = createRequire(join(ROOT, 'tests', 'package.json'));
const tus = require('tus-js-client');
const { BIN, startServer } = await import(join(ROOT, 'tests/e2e/lib/server.mjs'));
const { startPostgres } = await import(join(ROOT, 'tests/e2e/lib/postgres.mjs'));
const { startCeph } = await import(join(ROOT, 'tests/e2e/lib/ceph.mjs'));
const { startNginx } = await import(join(ROOT, 'tests/e2e/lib/nginx.mjs'));

const N = Number(process.env.BENCH_N ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 16);
const TOPOLOGIES = (process.env.BENCH_TOPOLOGIES ?? '1x1 2x2').split(/\s+/).filter(Boolean);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => console.error(`== ${m}`);
const s2 = (ms) => (ms / 1000).toFixed(1);

const tmp = mkdtempSync(join(tmpdir(), 'hubcast-bench-scale-'));
const clip = join(tmp, 'phone.mov');
log(`making a ${SECONDS} s 1280x720 H.264/AAC MOV`);
execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=1280x720:r=30:d=${SECONDS}`,
  '-f', 'lavfi', '-i', `sine=d=${SECONDS}`, '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '6M',
  '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-movflags', '+faststart', clip]);
const data = readFileSync(clip);

log('starting PostgreSQL and Ceph');
const ceph = await startCeph();

async function topology(name) {
  const [ns, nw] = name.split('x').map(Number);
  const pg = await startPostgres();
  const env = { ...pg.env, ...ceph.env, HUBCAST_MEDIA_STORE: `s3://hubcast-test/scale-${name}` };
  const servers = [];
  for (let i = 0; i < ns; i++) servers.push(await startServer({ args: ['--trusted-proxies', '127.0.0.1/32'], env }));
  const lb = await startNginx(servers.map((s) => `127.0.0.1:${s.port}`));
  const workers = [];
  for (let i = 0; i < nw; i++) {
    const dir = mkdtempSync(join(tmp, 'worker-'));
    const out = openSync(join(dir, 'worker.log'), 'a');
    workers.push(spawn(BIN, ['worker', '--data', dir], { env: { ...process.env, ...env }, stdio: ['ignore', out, out] }));
  }
  const cmd = (args, input) => execFileSync(BIN, args, { env: { ...process.env, ...env }, input, encoding: 'utf8' });
  cmd(['user', 'add', 'ada@example.com', '--name', 'Ada', '--role', 'admin', '--password-stdin', '--data', servers[0].dir], 'a good password\n');
  const token = cmd(['user', 'token', 'ada@example.com', '--data', servers[0].dir]).trim();
  const auth = { authorization: `Bearer ${token}` };
  const get = async (path) => {
    const r = await fetch(new URL(path, lb.url), { headers: auth });
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
  };

  log(`${name}: ${N} uploads at once`);
  const t0 = Date.now();
  const ends = await Promise.all(Array.from({ length: N }, (_, i) => new Promise((resolve, reject) => {
    const up = new tus.Upload(data, {
      endpoint: `${lb.url}/api/uploads`, headers: auth, chunkSize: 8 * 1024 * 1024,
      metadata: { kind: 'weekly', title: `Update ${i}`, filename: `phone-${i}.mov` },
      retryDelays: [0, 500, 1000],
      onError: reject,
      onSuccess: () => resolve({ at: Date.now(), url: up.url }),
    });
    up.start();
  })));
  const uploaded = Math.max(...ends.map((e) => e.at)) - t0;
  const ids = [];
  for (const e of ends) {
    const r = await get(new URL(e.url).pathname);
    ids.push(JSON.parse(r.body).upload.update_id);
  }
  let playable = 0;
  let ready = 0;
  const state = new Map();
  while (ready === 0) {
    let p = 0;
    let rd = 0;
    for (const id of ids) {
      const r = await get(`/api/updates/${id}`);
      const u = JSON.parse(r.body).update;
      state.set(id, u);
      if (u.playable) p++;
      if (u.status === 'ready') rd++;
      if (u.status === 'failed') throw new Error(`update ${id} failed: ${u.error ?? ''}`);
    }
    if (p === N && !playable) playable = Date.now() - t0;
    if (rd === N) ready = Date.now() - t0;
    if (Date.now() - t0 > 900000) {
      throw new Error(`ladders not ready after 15 min: ${[...state.values()].map((u) => `${u.id}:${u.status}`).join(' ')}; `
        + `logs in ${tmp} (BENCH_KEEP=1 keeps them)`);
    }
    await sleep(250);
  }

  log(`${name}: ${VIEWERS} viewers read every update`);
  const urls = [];
  for (const id of ids) {
    const master = state.get(id).playback_url;
    const m = (await get(master)).body.toString();
    const variant = new URL(m.split('\n').find((l) => l && !l.startsWith('#')), new URL(master, lb.url)).href;
    const v = (await get(variant)).body.toString();
    urls.push(master, variant);
    const maps = [...v.matchAll(/URI="([^"]+)"/g)].map((x) => x[1]);
    for (const s of [...maps, ...v.split('\n').filter((l) => l && !l.startsWith('#'))]) urls.push(new URL(s, variant).href);
  }
  let requests = 0;
  let bytes = 0;
  const p0 = Date.now();
  await Promise.all(Array.from({ length: VIEWERS }, async () => {
    for (const u of urls) {
      const r = await get(u);
      if (r.status !== 200) throw new Error(`${u}: ${r.status}`);
      requests++;
      bytes += r.body.length;
    }
  }));
  const pms = Date.now() - p0;
  const out = {
    name, uploaded, playable, ready, rps: requests / (pms / 1000), mbps: bytes / 1048576 / (pms / 1000),
  };
  console.log(`${name.padEnd(4)} burst ${N} x ${SECONDS} s: uploads ended ${s2(uploaded)} s, all playable ${s2(playable)} s, `
    + `all ladders ready ${s2(ready)} s; playback ${VIEWERS} viewers: ${out.rps.toFixed(0)} requests/s, ${out.mbps.toFixed(1)} MB/s`);
  for (const w of workers) w.kill('SIGTERM');
  await lb.stop();
  for (const s of servers) await s.cleanup();
  await pg.stop();
  return out;
}

const results = [];
try {
  for (const t of TOPOLOGIES) results.push(await topology(t));
  if (results.length === 2) {
    const [a, b] = results;
    console.log(`ratio ${b.name}/${a.name}: uploads ended ${(b.uploaded / a.uploaded).toFixed(2)}, `
      + `all playable ${(b.playable / a.playable).toFixed(2)}, all ready ${(b.ready / a.ready).toFixed(2)}, `
      + `playback requests/s ${(b.rps / a.rps).toFixed(2)} (below 1 is faster for times, above 1 is better for rates)`);
  }
} finally {
  await ceph.stop();
  if (!process.env.BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
}
