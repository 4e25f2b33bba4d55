// confine.test.mjs - the transcode workers started by `hubcast serve` are
// confined as documented: their own network namespace (no network), and
// rlimits on open files, file size and core dumps, read from /proc the way
// an operator would check them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { startServer } from './lib/server.mjs';

let srv;

before(async () => { srv = await startServer({ workers: 1 }); });
after(async () => { await srv.cleanup(); });

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
