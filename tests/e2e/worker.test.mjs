// worker.test.mjs - end-to-end tests of the worker pool: `hubcast serve
// --workers N` with real `hubcast worker` processes, fed through the
// one-request upload (POST /api/updates) and watched through
// GET /api/updates/{id}. A clip becomes ready with renditions; a worker
// killed with SIGKILL mid-job is restarted and the job still finishes;
// hostile files end `failed` with a reason while the server keeps running;
// jobs are taken fairly between members and all-hands updates go first.
//
// Run: node --test tests/e2e/worker.test.mjs  (HUBCAST_BIN overrides the
// binary path; ffmpeg must be on PATH). Fixtures are made with ffmpeg's
// lavfi sources at test time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken } from './lib/server.mjs';

let dir;              // fixtures
const fx = {};        // fixture name -> path

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { stdio: 'inherit' });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-worker-test-'));
  const f = (name) => (fx[name] = join(dir, name));
  const av = (size, rate, secs) => [
    '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=${rate}:d=${secs}`,
    '-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${secs}`];
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
                '-c:a', 'aac', '-shortest'];
  ffmpeg([...av('320x240', 30, 2), ...x264, f('small.mp4')]);
  // long enough at 1280x720 with --preset veryfast to be caught mid-job
  ffmpeg([...av('1280x720', 30, 20), ...x264, f('long.mp4')]);
  ffmpeg([...av('640x360', 30, 4), ...x264, f('whole.mp4')]);
  const whole = readFileSync(fx['whole.mp4']);
  writeFileSync(f('truncated.mp4'), whole.subarray(0, whole.length >> 1));
  ffmpeg(['-f', 'lavfi', '-i', 'color=s=8192x8192:d=0.1:r=10', '-c:v', 'mjpeg',
          '-q:v', '31', f('huge.avi')]);
});

after(() => {
  if (dir && !process.env.HUBCAST_KEEP_TEST_DIR)
    rmSync(dir, { recursive: true, force: true });
});

// POST the file as the body of the one-request upload: { status, data }.
async function upload(srv, token, path, { title = 'a clip', kind, type = 'video/mp4' } = {}) {
  const q = new URLSearchParams({ title });
  if (kind) q.set('kind', kind);
  const r = await fetch(`${srv.url}/api/updates?${q}`, {
    method: 'POST', body: readFileSync(path),
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
  });
  const text = await r.text();
  let data = null;
  try { data = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, data, text };
}

async function getUpdate(srv, token, id) {
  const r = await fetch(`${srv.url}/api/updates/${id}`,
    { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200, `GET /api/updates/${id}`);
  return (await r.json()).update;
}

// Poll until the update is ready or failed (or the time runs out).
async function settle(srv, token, id, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const u = await getUpdate(srv, token, id);
    if (u.status === 'ready' || u.status === 'failed') return u;
    if (Date.now() > end)
      assert.fail(`update ${id} still ${u.status} after ${ms} ms\n${srv.output}`);
    await sleep(200);
  }
}

// Skip (with the reason) when the one-request upload is not there.
async function uploadOne(srv, token, path, opts) {
  const r = await upload(srv, token, path, opts);
  assert.equal(r.status, 201, r.text);
  assert.ok(r.data.update?.id, r.text);
  return r.data.update;
}

// The `hubcast worker` processes of a server: its children, found through
// every thread (the supervisor thread forks them).
function workerPids(srv) {
  const pids = new Set();
  const base = `/proc/${srv.proc.pid}/task`;
  for (const tid of readdirSync(base)) {
    try {
      for (const p of readFileSync(`${base}/${tid}/children`, 'utf8').trim().split(/\s+/))
        if (p) pids.add(Number(p));
    } catch { /* the thread ended */ }
  }
  return [...pids].filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1] === 'worker'; }
    catch { return false; }
  });
}

// CPU time (clock ticks) a process and its running children (a worker's
// job child does the transcoding) have used so far.
function cpuTicks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(
      readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
    let kids = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
          if (c) kids += Math.max(0, cpuTicks(Number(c)));
      } catch { /* the thread ended */ }
    }
    return Number(f[11]) + Number(f[12]) + kids;   // utime + stime
  } catch { return -1; }
}

async function healthy(srv) {
  const r = await fetch(`${srv.url}/healthz`);
  return r.status === 200 && (await r.text()).trim() === 'ok';
}

test('a small clip uploaded in one request becomes ready with renditions', async (t) => {
  const srv = await startServer({ workers: 2, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'ana@example.com', 'Ana');
    const token = apiToken(srv, 'ana@example.com');
    const up = await uploadOne(srv, token, fx['small.mp4'], { title: 'Week 1' });
    assert.ok(['queued', 'processing', 'ready'].includes(up.status), up.status);
    const u = await settle(srv, token, up.id);
    assert.equal(u.status, 'ready', u.error);
    assert.equal(u.renditions.length, 1);
    assert.equal(u.renditions[0].width, 320);
    assert.equal(u.renditions[0].height, 240);
    assert.ok(u.renditions[0].bandwidth > 0);
    assert.ok(Math.abs(u.duration - 2) < 0.2, `duration ${u.duration}`);
    assert.ok(u.playback_url, 'a playback URL');
    assert.equal(workerPids(srv).length, 2, 'two workers running');
  } finally {
    await srv.cleanup();
  }
});

test('a worker killed with SIGKILL mid-job is restarted and the update still becomes ready',
     { timeout: 150000 }, async (t) => {
  // A short lease (test clock only) so the retry comes in seconds, not a minute.
  const srv = await startServer({ workers: 2, args: ['--preset', 'veryfast', '--test-clock'],
                                  env: { HUBCAST_JOB_LEASE: '8' } });
  try {
    await addUser(srv, 'bo@example.com', 'Bo');
    const token = apiToken(srv, 'bo@example.com');
    const up = await uploadOne(srv, token, fx['long.mp4'], { title: 'long' });
    // wait until the job is under way
    let u;
    for (const end = Date.now() + 30000; ;) {
      u = await getUpdate(srv, token, up.id);
      if (u.status === 'processing' && u.progress > 3) break;
      assert.ok(u.status === 'queued' || u.status === 'processing',
                `status ${u.status} ${u.error ?? ''}: the clip must still be processing`);
      assert.ok(Date.now() < end, 'the job never started');
      await sleep(100);
    }
    // the worker doing the job is the one using CPU
    const before = workerPids(srv);
    assert.equal(before.length, 2);
    const t0 = before.map(cpuTicks);
    await sleep(500);
    const used = before.map((p, i) => cpuTicks(p) - t0[i]);
    const victim = before[used.indexOf(Math.max(...used))];
    process.kill(victim, 'SIGKILL');
    u = await getUpdate(srv, token, up.id);
    assert.equal(u.status, 'processing', 'killed while processing');
    // the supervisor notices and starts a new worker
    for (const end = Date.now() + 10000; ;) {
      const now = workerPids(srv);
      if (now.length === 2 && !now.includes(victim)) break;
      assert.ok(Date.now() < end, `no new worker: ${now} (killed ${victim})\n${srv.output}`);
      await sleep(100);
    }
    // and says why (its log line may reach us just after the new pid shows)
    for (const end = Date.now() + 10000; !new RegExp(`worker ${victim} was killed by signal 9`).test(srv.output);) {
      assert.ok(Date.now() < end, `the supervisor did not say the worker was killed:\n${srv.output}`);
      await sleep(50);
    }
    // the lease runs out and a worker takes the job again
    u = await settle(srv, token, up.id, 130000);
    assert.equal(u.status, 'ready', u.error);
    assert.deepEqual(u.renditions.map((r) => r.height).sort((a, b) => b - a), [720, 480, 360]);
    assert.ok(await healthy(srv));
    // the killed attempt's work folder did not stay behind
    const left = readdirSync(join(srv.dir, 'media')).filter((n) => n.includes('.work-'));
    assert.deepEqual(left, [], 'no work folder left in media/');
  } finally {
    await srv.cleanup();
  }
});

test('hostile files end failed with a readable reason and the server keeps running', async (t) => {
  const srv = await startServer({ workers: 2, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'cy@example.com', 'Cy');
    const token = apiToken(srv, 'cy@example.com');
    const cases = [
      ['truncated.mp4', 'video/mp4', /this file is (not a video Hubcast can read|incomplete or damaged)/],
      ['huge.avi', 'video/x-msvideo', /the video is larger than 4096×4096/],
    ];
    for (const [name, type, reason] of cases) {
      const r = await upload(srv, token, fx[name], { title: name, type });
      if (r.status !== 201) {
        // refused at upload time: also fine, with the reason in words
        assert.ok(r.status >= 400 && r.status < 500, `${name}: ${r.status} ${r.text}`);
        assert.match(r.data?.error?.message ?? '', reason, `${name}: ${r.text}`);
        continue;
      }
      const u = await settle(srv, token, r.data.update.id);
      assert.equal(u.status, 'failed', `${name} must fail`);
      assert.match(u.error, reason, name);
      assert.deepEqual(u.renditions ?? [], []);
    }
    assert.ok(await healthy(srv), 'the server still answers');
    assert.equal(workerPids(srv).length, 2, 'the workers are still there');
    // and the pool still works
    const ok = await upload(srv, token, fx['small.mp4'], { title: 'after' });
    assert.equal(ok.status, 201, ok.text);
    assert.equal((await settle(srv, token, ok.data.update.id)).status, 'ready');
  } finally {
    await srv.cleanup();
  }
});

// Queue uploads with no worker running, then start the pool on the same
// data and record the order in which the updates become ready.
async function queueThenRun(t, workers, uploads) {
  const data = mkdtempSync(join(tmpdir(), 'hubcast-test-'));
  let srv = await startServer({ data });
  const ids = [];
  const tokens = {};
  try {
    for (const [email, name, role] of [['dee@example.com', 'Dee', 'member'],
                                       ['eve@example.com', 'Eve', 'member'],
                                       ['ceo@example.com', 'Zoë', 'admin']]) {
      await addUser(srv, email, name, role);
      tokens[email] = apiToken(srv, email);
    }
    for (const [email, opts] of uploads) {
      const up = await uploadOne(srv, tokens[email], fx['small.mp4'], opts);
      assert.equal(up.status, 'queued', 'no worker: it waits');
      ids.push(up.id);
    }
    await srv.stop();
    srv = await startServer({ data, workers, args: ['--preset', 'ultrafast'] });
    // An administrator sees every update in every state (a member sees
    // only ready ones and their own).
    const token = tokens['ceo@example.com'];
    const order = [];
    for (const end = Date.now() + 60000; order.length < ids.length;) {
      for (const id of ids) {
        if (order.includes(id)) continue;
        const u = await getUpdate(srv, token, id);
        assert.notEqual(u.status, 'failed', u.error);
        if (u.status === 'ready') order.push(id);
      }
      assert.ok(Date.now() < end, `not all ready: ${order}\n${srv.output}`);
      await sleep(50);
    }
    return { ids, order };
  } finally {
    await srv.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

test('a member with four queued uploads does not make another member wait behind them all',
     { timeout: 90000 }, async (t) => {
  const weekly = (email, i) => [email, { title: `${email} ${i}` }];
  const r = await queueThenRun(t, 1, [
    weekly('dee@example.com', 1), weekly('dee@example.com', 2),
    weekly('dee@example.com', 3), weekly('dee@example.com', 4),
    weekly('eve@example.com', 1),
  ]);
  const eve = r.ids[4];
  const pos = r.order.indexOf(eve);
  assert.ok(pos < r.ids.length - 1, `Eve's update was processed last: ${r.order}`);
  // one per author in turn: Eve comes right after Dee's first
  assert.equal(pos, 1, `order ${r.order}, Eve's update ${eve}`);
});

test('an all-hands update queued behind weekly ones is processed first',
     { timeout: 90000 }, async (t) => {
  const r = await queueThenRun(t, 1, [
    ['dee@example.com', { title: 'w1' }], ['eve@example.com', { title: 'w2' }],
    ['dee@example.com', { title: 'w3' }],
    ['ceo@example.com', { title: 'All hands', kind: 'allhands' }],
  ]);
  assert.equal(r.order[0], r.ids[3], `order ${r.order}: the all-hands update ${r.ids[3]} first`);
});
