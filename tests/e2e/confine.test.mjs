// confine.test.mjs - the transcode workers started by `hubcast serve` are
// confined as documented: their own network namespace (no network), and
// rlimits on open files, file size and core dumps; and the job child each
// worker starts per job, the only process that reads an upload's bytes,
// runs with no new privileges, no capabilities, as nobody when started as
// root, with a seccomp filter, holding only the descriptors it was handed
// and unable to open anything else; a ladder child given the update's
// copied first rendition reads it and cannot write it, nor link it. Read
// from /proc the way an operator would check them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken } from './lib/server.mjs';

let srv;

before(async () => { srv = await startServer({ workers: 1 }); });
after(async () => {
  await srv.cleanup();
  if (clip) rmSync(join(clip, '..'), { recursive: true, force: true });
});

function children(pid) {
  const out = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch { /* thread gone */ }
  }
  return out;
}

async function workerPid() {
  for (let i = 0; i < 100; i++) {
    const w = children(srv.proc.pid).find((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1] === 'worker'; } catch { return false; }
    });
    // Wait until the worker has confined itself (its namespace differs).
    if (w && readlinkSync(`/proc/${w}/ns/net`) !== readlinkSync(`/proc/${srv.proc.pid}/ns/net`)) return w;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

test('a worker runs in its own network namespace, apart from the server', async () => {
  const w = await workerPid();
  assert.ok(w, `a confined worker process exists:\n${srv.output}`);
  assert.notEqual(readlinkSync(`/proc/${w}/ns/net`), readlinkSync(`/proc/${srv.proc.pid}/ns/net`));
  // Its namespace has no interface but a loopback that is down.
  const dev = readFileSync(`/proc/${w}/net/dev`, 'utf8').split('\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim());
  assert.deepEqual(dev, ['lo']);
});

test('a worker has limits on open files, file size and core dumps', async () => {
  const w = await workerPid();
  const limits = readFileSync(`/proc/${w}/limits`, 'utf8');
  const row = (name) => limits.split('\n').find((l) => l.startsWith(name)).slice(26).trim().split(/\s+/);
  assert.equal(row('Max open files')[0], '256');
  assert.equal(row('Max file size')[0], String(32 * 1024 * 1024 * 1024));
  assert.equal(row('Max core file size')[0], '0');
});

test('workers do not outlive a server killed with SIGKILL', async () => {
  const s = await startServer({ workers: 1 });
  let w = null;
  for (let i = 0; i < 100 && !w; i++) {
    w = children(s.proc.pid).find((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1] === 'worker'; } catch { return false; }
    });
    if (!w) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(w, 'the server started a worker');
  await s.stop('SIGKILL');
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    try { alive = !readFileSync(`/proc/${w}/stat`, 'utf8').split(' ')[2].match(/[ZX]/); } catch { alive = false; }
    if (alive) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(alive, false, 'the worker exited');
  await s.cleanup();
});

// ---- the job child: the one process that reads the bytes of an upload ----

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const role = (pid) => {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1]; } catch { return null; }
};

let clip;   // a clip long enough to watch its job child at work

function makeClip() {
  if (clip) return clip;
  const d = mkdtempSync(join(tmpdir(), 'hubcast-confine-test-'));
  clip = join(d, 'clip.mp4');
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=30:d=12',
    '-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=12', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip], { stdio: 'inherit' });
  return clip;
}

// Start a server with one worker, upload the clip and wait for its job
// child; returns { s, id, token, child, worker }.
async function jobUnderWay({ env = {}, args = [] } = {}) {
  const s = await startServer({ workers: 1, args: ['--preset', 'veryfast', ...args], env });
  await addUser(s, 'ana@example.com', 'Ana');
  const token = apiToken(s, 'ana@example.com');
  const r = await fetch(`${s.url}/api/updates?title=clip`, {
    method: 'POST', body: readFileSync(makeClip()),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' },
  });
  assert.equal(r.status, 201, await r.clone().text());
  const id = (await r.json()).update.id;
  for (let i = 0; i < 600; i++) {
    for (const w of children(s.proc.pid).filter((p) => role(p) === 'worker')) {
      for (const c of children(w).filter((p) => role(p) === 'job-child')) {
        // Confined once it has a filter; before that it is still starting.
        try {
          if (/^Seccomp:\s+2/m.test(readFileSync(`/proc/${c}/status`, 'utf8')))
            return { s, id, token, child: c, worker: w };
        } catch { /* ended */ }
      }
    }
    await sleep(50);
  }
  await s.cleanup();
  assert.fail('no confined job child appeared');
}

async function settle(s, token, id, ms = 120000) {
  for (const end = Date.now() + ms; ;) {
    const r = await fetch(`${s.url}/api/updates/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const u = (await r.json()).update;
    if (u.status === 'ready' || u.status === 'failed') return u;
    assert.ok(Date.now() < end, `update ${id} still ${u.status}\n${s.output}`);
    await sleep(200);
  }
}

const status = (pid) => Object.fromEntries(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')
  .filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));

test('the job child runs with no new privileges, a seccomp filter, no capabilities, as nobody when started as root',
     { timeout: 180000 }, async () => {
  const { s, id, token, child } = await jobUnderWay();
  try {
    const st = status(child);
    assert.equal(st.NoNewPrivs, '1');
    assert.equal(st.Seccomp, '2', 'a seccomp filter');
    assert.equal(st.CapEff, '0000000000000000');
    assert.equal(st.CapPrm, '0000000000000000');
    const uids = st.Uid.split(/\s+/), gids = st.Gid.split(/\s+/);
    if (process.getuid() === 0) {
      const nobody = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim();
      assert.deepEqual(uids, [nobody, nobody, nobody, nobody], 'runs as nobody');
      assert.ok(!gids.includes('0'), `no root group: ${st.Gid}`);
      assert.equal(st.Groups, '', 'no supplementary groups');
    } else {
      assert.deepEqual(uids, Array(4).fill(String(process.getuid())));
    }
    // It has no network: the namespace of the worker, not the server's.
    assert.notEqual(readlinkSync(`/proc/${child}/ns/net`), readlinkSync(`/proc/${s.proc.pid}/ns/net`));
    // Its limits are its own.
    const limits = readFileSync(`/proc/${child}/limits`, 'utf8');
    const row = (name) => limits.split('\n').find((l) => l.startsWith(name)).slice(26).trim().split(/\s+/);
    assert.equal(row('Max core file size')[0], '0');
    assert.equal(row('Max open files')[0], '64');
    assert.equal(row('Max file size')[0], String(32 * 1024 * 1024 * 1024));
    assert.notEqual(row('Max cpu time')[0], 'unlimited');
    assert.equal((await settle(s, token, id)).status, 'ready', 'and the clip still becomes ready');
  } finally {
    await s.cleanup();
  }
});

test('the job child holds only the upload, its work folder and its channel: no catalog', { timeout: 180000 }, async () => {
  const { s, id, token, child } = await jobUnderWay();
  try {
    const fds = {};
    for (const fd of readdirSync(`/proc/${child}/fd`)) {
      try { fds[fd] = readlinkSync(`/proc/${child}/fd/${fd}`); } catch { /* closed meanwhile */ }
    }
    const all = Object.values(fds).join('\n');
    assert.doesNotMatch(all, /hubcast\.db/, `no catalog file:\n${all}`);
    assert.equal(fds['0'], '/dev/null');
    // 1 and 2: the log, as the worker's
    assert.match(fds['3'], new RegExp(`^${s.dir}/uploads/`), `the upload: ${fds['3']}`);
    assert.match(fds['4'], new RegExp(`^${s.dir}/media/${id}\\.work-`), `the work folder: ${fds['4']}`);
    assert.match(fds['5'], /^socket:/, 'the channel to the worker');
    // Past those six, the update's first rendition when it is a copy (fd
    // 6, to take over as the top rung), and files the transcoder writes
    // below its work folder (it opens them relative to fd 4 while it
    // encodes) or reads below the first rendition.
    const work = fds['4'];
    const first = `${s.dir}/media/${id}/first`;
    // fd 6, when it is not a file of the work folder, is the first rendition
    if (fds['6'] !== undefined && !fds['6'].startsWith(`${work}/`)) assert.equal(fds['6'], first, 'fd 6 is the first rendition');
    const others = Object.entries(fds).filter(([fd]) => Number(fd) > 6 || (Number(fd) === 6 && fds['6'] !== first))
      .filter(([, path]) => !path.startsWith(`${work}/`) && !path.startsWith(`${first}/`));
    assert.deepEqual(others, [], `nothing else open:\n${JSON.stringify(fds, null, 1)}`);
    for (const fd of ['0', '1', '2', '3', '4', '5']) assert.ok(fds[fd], `fd ${fd} is open`);
    assert.equal((await settle(s, token, id)).status, 'ready');
  } finally {
    await s.cleanup();
  }
});

test('the job child cannot open the catalog, by its path or from its work folder, nor a file anyone may read',
     { timeout: 240000 }, async () => {
  // /etc/passwd is readable by anyone: only the child's confinement to its
  // work folder (Landlock) stops an absolute name given to openat().
  for (const probe of ['open:CATALOG', 'openat:../../hubcast.db', 'openat:/etc/passwd']) {
    // The data folder is only known once the server has made it.
    const data = mkdtempSync(join(tmpdir(), 'hubcast-test-'));
    const p = probe.replace('CATALOG', join(data, 'hubcast.db'));
    const s = await startServer({ data, workers: 1, args: ['--test-clock', '--preset', 'ultrafast'],
                                  env: { HUBCAST_TEST_JOBCHILD_PROBE: p } });
    try {
      await addUser(s, 'bo@example.com', 'Bo');
      const token = apiToken(s, 'bo@example.com');
      const r = await fetch(`${s.url}/api/updates?title=clip`, {
        method: 'POST', body: readFileSync(makeClip()),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' },
      });
      const id = (await r.json()).update.id;
      assert.equal((await settle(s, token, id)).status, 'ready');
      const m = s.output.match(new RegExp(`job child: test probe ${p.replace(/[.]/g, '\\.')}: (.*)`));
      assert.ok(m, `the probe ran:\n${s.output}`);
      assert.match(m[1], /Permission denied|Operation not permitted/, `${probe}: ${m[1]}`);
    } finally {
      await s.stop();
      rmSync(data, { recursive: true, force: true });
    }
  }
});

test('a job child that asks for a network socket is stopped by its filter and the job is retried, then failed',
     { timeout: 180000 }, async () => {
  const s = await startServer({ workers: 1, args: ['--test-clock', '--preset', 'ultrafast'],
                                env: { HUBCAST_TEST_JOBCHILD_PROBE: 'socket' } });
  try {
    await addUser(s, 'cy@example.com', 'Cy');
    const token = apiToken(s, 'cy@example.com');
    const r = await fetch(`${s.url}/api/updates?title=clip`, {
      method: 'POST', body: readFileSync(makeClip()),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' },
    });
    const id = (await r.json()).update.id;
    const u = await settle(s, token, id);
    assert.equal(u.status, 'failed');
    assert.match(u.error, /stopped unexpectedly three times/);
    assert.doesNotMatch(s.output, /test probe socket: opened/);
    assert.match(s.output, /job child: system call 41 is not allowed/);
    assert.equal((s.output.match(/the job child made a system call its filter does not allow/g) ?? []).length, 3);
    const h = await fetch(`${s.url}/healthz`);
    assert.equal(h.status, 200, 'the server still answers');
  } finally {
    await s.cleanup();
  }
});

// H.264 in Matroska within the 480p rung's maxrate: its first rendition
// is a copy, which the ladder takes over (two rungs: 480p, 360p).
let copyable;
function makeCopyable() {
  if (copyable) return copyable;
  copyable = execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=854x480:r=30:d=8',
    '-f', 'lavfi', '-i', 'sine=frequency=440:d=8', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60',
    '-b:v', '600k', '-maxrate', '800k', '-bufsize', '1600k', '-pix_fmt', 'yuv420p', '-c:a', 'libopus',
    '-f', 'matroska', '-'], { maxBuffer: 1 << 28 });
  return copyable;
}

test('a ladder child given the copied first rendition cannot write into it nor hard-link it out',
     { timeout: 360000 }, async () => {
  for (const [probe, refused] of [['writefirst:master.m3u8', /Permission denied/],
    ['writefirst:video/seg_00000.m4s', /Permission denied/], ['linkfirst:video/init.mp4', /Operation not permitted/]]) {
    const s = await startServer({ workers: 1, args: ['--test-clock', '--preset', 'ultrafast'],
                                  env: { HUBCAST_TEST_JOBCHILD_PROBE: probe } });
    try {
      await addUser(s, 'di@example.com', 'Di');
      const token = apiToken(s, 'di@example.com');
      const r = await fetch(`${s.url}/api/updates?title=copy`, {
        method: 'POST', body: makeCopyable(), headers: { authorization: `Bearer ${token}`, 'content-type': 'video/x-matroska' },
      });
      assert.equal(r.status, 201);
      const id = (await r.json()).update.id;
      assert.equal((await settle(s, token, id, 240000)).status, 'ready');
      assert.match(s.output, /its first rendition is a copy: offered as the top rung/);
      const m = s.output.match(new RegExp(`job child: test probe ${probe.replace(/[.]/g, '\\.')}: (.*)`));
      assert.ok(m, `the probe ran:\n${s.output}`);
      assert.match(m[1], refused, `${probe}: ${m[1]}`);
      // and the ladder still took the copy over, untouched
      assert.match(s.output, /the top rung is the first rendition, copied/);
      const a = readFileSync(join(s.dir, 'media', String(id), 'first', 'video', 'seg_00000.m4s'));
      const b = readFileSync(join(s.dir, 'media', String(id), '480p', 'seg_00000.m4s'));
      assert.ok(a.equals(b));
    } finally {
      await s.cleanup();
    }
  }
});
