// daemon.mjs - a throwaway server for tests, run by a shell script of this
// folder (postgres.sh, ceph.sh) that takes two commands:
//   SCRIPT start DIR ARGS...  starts it in DIR and prints KEY=VALUE lines
//                             once it answers
//   SCRIPT stop DIR           stops what start started
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The KEY=VALUE lines of a script's output as an object (a value may
// itself hold "=").
export function keyValues(text) {
  return Object.fromEntries(text.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
}

function run(script, args, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn('sh', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

// `script start DIR ...args` in a new folder DIR directly in the temporary
// folder (named prefix + random letters), given timeoutMs to answer.
// Returns { dir, kv, seconds, stop() }: kv the printed values, seconds how
// long the start took; stop() runs `script stop DIR` and removes DIR, and
// runs by itself when the test process ends without calling it. A failed
// start is stopped, then thrown as "`what` did not start", with the
// script's error output.
export async function startDaemon(script, { prefix, args = [], timeoutMs, what }) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const t0 = Date.now();
  const r = await run(script, ['start', dir, ...args.map(String)], timeoutMs);
  const seconds = (Date.now() - t0) / 1000;
  const onExit = () => spawnSync('sh', [script, 'stop', dir], { timeout: 30000 });
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    await run(script, ['stop', dir], 30000);
    rmSync(dir, { recursive: true, force: true });
  };
  if (r.code !== 0) {
    await stop();
    throw new Error(`${what} did not start (exit ${r.code ?? r.signal}):\n${r.err}`);
  }
  return { dir, kv: keyValues(r.out), seconds, stop };
}
