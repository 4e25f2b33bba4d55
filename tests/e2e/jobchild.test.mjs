// jobchild.test.mjs - every transcode job runs in a child process of its
// own, started by the worker for that job alone: the job's CPU budget is
// the child's (not what is left of the worker's), its memory goes back to
// the system when the job ends, and a hostile file that would make the
// pipeline generate frames without end fails with a reason while memory
// stays bounded. Observed the way an operator would: the process table
// and /proc, plus what the uploader sees through the API.
//
// Run: node --test tests/e2e/jobchild.test.mjs (HUBCAST_BIN overrides the
// binary; ffmpeg must be on PATH). Fixtures are made at test time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken } from './lib/server.mjs';

let dir;
const fx = {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { stdio: 'inherit' });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-jobchild-test-'));
  const f = (name) => (fx[name] = join(dir, name));
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=30:d=3',
          '-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=3',
          '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
          '-c:a', 'aac', '-shortest', f('clip.mp4')]);
  // A few frames at 120 frames a second, the last one stamped at 7,100 s:
  // a file of some tens of KB whose frame-rate cap would have to invent
  // some 426,000 frames per rendition to fill the gap.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=120:d=0.1',
          '-vf', "setpts='if(eq(N,11),7100/TB,PTS)'", '-fps_mode', 'passthrough',
          '-c:v', 'libvpx', '-b:v', '100k', f('gap.webm')]);
});

after(() => {
  if (dir && !process.env.HUBCAST_KEEP_TEST_DIR)
    rmSync(dir, { recursive: true, force: true });
});

async function upload(srv, token, path, type = 'video/mp4') {
  const r = await fetch(`${srv.url}/api/updates?title=clip`, {
    method: 'POST', body: readFileSync(path),
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  return JSON.parse(text).update.id;
}

async function getUpdate(srv, token, id) {
  const r = await fetch(`${srv.url}/api/updates/${id}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  return (await r.json()).update;
}

// Children of pid, through every thread.
function children(pid) {
  const out = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
      } catch { /* thread gone */ }
    }
  } catch { /* process gone */ }
  return out;
}

const role = (pid) => {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1]; } catch { return null; }
};
const workers = (srv) => children(srv.proc.pid).filter((p) => role(p) === 'worker');
const jobChildren = (srv) => workers(srv).flatMap(children).filter((p) => role(p) === 'job-child');

// The soft limit named `name` in /proc/PID/limits ("unlimited" or a number).
function softLimit(pid, name) {
  const l = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((x) => x.startsWith(name));
  return l.slice(26).trim().split(/\s+/)[0];
}

test('each job runs in a child of its own whose CPU budget is the whole job\'s', { timeout: 120000 }, async () => {
  const deadline = 40;
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast', '--job-deadline', String(deadline)] });
  try {
    await addUser(srv, 'ana@example.com', 'Ana');
    const token = apiToken(srv, 'ana@example.com');
    const seen = new Map();   // job child pid -> its CPU limit
    for (let i = 0; i < 3; i++) {
      const id = await upload(srv, token, fx['clip.mp4']);
      for (const end = Date.now() + 60000; ;) {
        for (const c of jobChildren(srv)) {
          if (seen.has(c)) continue;
          try { seen.set(c, softLimit(c, 'Max cpu time')); } catch { /* ended */ }
        }
        const u = await getUpdate(srv, token, id);
        if (u.status === 'ready' || u.status === 'failed') {
          assert.equal(u.status, 'ready', u.error);
          break;
        }
        assert.ok(Date.now() < end, `job ${i} still ${u.status}\n${srv.output}`);
        await sleep(20);
      }
    }
    assert.ok(seen.size >= 3, `a new job child for each of the 3 jobs (saw ${seen.size})\n${srv.output}`);
    // Each child gets the full budget of one job, however long its worker
    // has been working, and the worker itself is not the one limited.
    const budget = String(deadline * cpus().length);
    for (const [pid, cpu] of seen) assert.equal(cpu, budget, `job child ${pid}`);
    const [w] = workers(srv);
    assert.equal(softLimit(w, 'Max cpu time'), 'unlimited', 'the worker has no CPU limit of its own');
  } finally {
    await srv.cleanup();
  }
});

// Resident memory (kB) of a process: now, and its peak.
function kb(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

test('a file with one frame stamped at 7,100 s fails with a reason while memory stays bounded',
     { timeout: 180000 }, async () => {
  assert.ok(statSync(fx['gap.webm']).size < 100000, 'a small file');
  const srv = await startServer({ workers: 1, args: ['--preset', 'ultrafast'] });
  try {
    await addUser(srv, 'bo@example.com', 'Bo');
    const token = apiToken(srv, 'bo@example.com');
    const id = await upload(srv, token, fx['gap.webm'], 'video/webm');
    const limitKb = 1024 * 1024;   // 1 GiB for any process of the pool
    let most = 0, u;
    for (const end = Date.now() + 120000; ;) {
      for (const w of workers(srv))
        for (const p of [w, ...children(w)]) most = Math.max(most, kb(p, 'VmRSS'));
      assert.ok(most < limitKb, `a worker process reached ${Math.round(most / 1024)} MB\n${srv.output}`);
      u = await getUpdate(srv, token, id);
      if (u.status === 'ready' || u.status === 'failed') break;
      assert.ok(Date.now() < end, `still ${u.status} after 120 s\n${srv.output}`);
      await sleep(100);
    }
    assert.equal(u.status, 'failed', 'the gap is refused');
    const gap = u.error.match(/no picture for (\d+) seconds/);
    assert.ok(gap && Number(gap[1]) >= 7099 && Number(gap[1]) <= 7100, `the reason names the gap: ${u.error}`);
    // The worker itself never held the frames, and holds nothing now.
    const [w] = workers(srv);
    assert.ok(kb(w, 'VmHWM') < 512 * 1024, `worker peak ${kb(w, 'VmHWM')} kB`);
    assert.ok(kb(w, 'VmRSS') < 256 * 1024, `worker now ${kb(w, 'VmRSS')} kB`);
    // and the pool still works
    const ok = await upload(srv, token, fx['clip.mp4']);
    for (const end = Date.now() + 60000; ;) {
      const v = await getUpdate(srv, token, ok);
      if (v.status === 'ready') break;
      assert.notEqual(v.status, 'failed', v.error);
      assert.ok(Date.now() < end, 'the next clip is processed');
      await sleep(200);
    }
  } finally {
    await srv.cleanup();
  }
});
