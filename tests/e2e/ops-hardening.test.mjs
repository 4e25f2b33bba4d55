// ops-hardening.test.mjs - operational weak points of `hubcast serve`
// found by the attack run (issue 13): connections that never finish their
// headers, two servers on one data folder or one port, and what the
// server does about them; and `hubcast transcode` into a folder named
// with a %. Real sockets on loopback
// only; the slow clients come from 127.0.0.2-6 and the normal requests
// from 127.0.0.1, as they would from other machines.
//
// Run: HUBCAST_BIN=$PWD/src/hubcast node --test tests/e2e/ops-hardening.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';

import { BIN, BACKEND, startServer, freePort } from './lib/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One slow client: sends a request line, then a header line every
// `every` ms, and never ends its headers. Resolves `closed` when the
// server closes the connection (with the time it took).
function slowConnection(port, localAddress, every = 2000) {
  const s = net.connect({ port, host: '127.0.0.1', localAddress });
  const c = { socket: s, connected: false, t0: Date.now() };
  c.closed = new Promise((resolve) => {
    s.on('close', () => resolve(Date.now() - c.t0));
  });
  s.on('error', () => {});
  s.on('connect', () => {
    c.connected = true;
    c.t0 = Date.now();
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    c.timer = setInterval(() => {
      if (!s.destroyed) s.write(`X-Slow-${Date.now() % 1000}: ${'a'.repeat(8)}\r\n`);
    }, every);
  });
  c.end = () => { clearInterval(c.timer); s.destroy(); };
  return c;
}

// GET path with a time limit; resolves { status } or { error }.
async function timedGet(url, ms) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(ms) });
    await r.text();
    return { status: r.status };
  } catch (e) {
    return { error: String(e) };
  }
}

test('1,100 slow connections from five addresses do not lock out /healthz', async () => {
  // The defaults: nothing in the flags helps the server here.
  const srv = await startServer();
  const slow = [];
  try {
    for (let a = 2; a <= 6; a++) {
      for (let i = 0; i < 220; i++) slow.push(slowConnection(srv.port, `127.0.0.${a}`));
      await sleep(200);
    }
    await sleep(2500);   // all of them are in and have trickled a line
    const r = await timedGet(`${srv.url}/healthz`, 5000);
    assert.equal(r.status, 200, `GET /healthz from 127.0.0.1: ${JSON.stringify(r)}`);
  } finally {
    slow.forEach((c) => c.end());
    await srv.cleanup();
  }
});

test('a connection that has not finished its headers within --header-timeout is closed', async () => {
  const srv = await startServer({ args: ['--header-timeout', '3'] });
  try {
    const c = slowConnection(srv.port, '127.0.0.2', 500);
    // Meanwhile normal requests are answered.
    for (let i = 0; i < 3; i++) {
      const r = await timedGet(`${srv.url}/healthz`, 2000);
      assert.equal(r.status, 200, JSON.stringify(r));
      await sleep(500);
    }
    const took = await Promise.race([c.closed, sleep(8000).then(() => -1)]);
    c.end();
    assert.ok(took > 0, 'the slow connection was still open after 8 s');
    assert.ok(took >= 2500 && took <= 5500, `closed after ${took} ms, expected about 3 s`);
  } finally {
    await srv.cleanup();
  }
});

test('a keep-alive connection answers requests past --header-timeout while it keeps asking', async () => {
  const srv = await startServer({ args: ['--header-timeout', '2'] });
  try {
    // One connection, a complete request every 700 ms for 4 s: every
    // request finishes its headers at once, so none is cut.
    const s = net.connect({ port: srv.port, host: '127.0.0.1' });
    let got = '';
    s.on('data', (d) => { got += d; });
    await new Promise((r) => s.on('connect', r));
    for (let i = 0; i < 6; i++) {
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(700);
    }
    s.destroy();
    assert.equal((got.match(/HTTP\/1\.1 200/g) || []).length, 6, got);
  } finally {
    await srv.cleanup();
  }
});

test('past three quarters of --conn-limit, the connections waiting longest for their headers give way', async () => {
  // One address may take every connection here: only the room kept for
  // prompt clients lets /healthz in.
  const srv = await startServer({ args: ['--conn-limit', '200', '--per-ip-limit', '200'] });
  const slow = [];
  try {
    for (let i = 0; i < 250; i++) slow.push(slowConnection(srv.port, '127.0.0.2'));
    await sleep(2000);
    for (let i = 0; i < 3; i++) {
      const r = await timedGet(`${srv.url}/healthz`, 5000);
      assert.equal(r.status, 200, `GET /healthz from 127.0.0.1: ${JSON.stringify(r)}`);
    }
    const open = slow.filter((c) => c.connected && !c.socket.destroyed && c.socket.readyState === 'open');
    assert.ok(open.length <= 150, `${open.length} slow connections still open, at most 150 expected`);
  } finally {
    slow.forEach((c) => c.end());
    await srv.cleanup();
  }
});

// Start `hubcast ARGS` and wait up to `ms` for it to exit by itself:
// { code, output } or { running: true, output } (then it is killed).
function runFor(args, ms) {
  return new Promise((resolve) => {
    const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d) => { output += d; });
    p.stderr.on('data', (d) => { output += d; });
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      resolve({ running: true, output });
    }, ms);
    p.on('exit', (code) => { clearTimeout(t); resolve({ code, output }); });
  });
}

// The data-folder lock guards a local SQLite catalog (README: "Running on
// several machines"); servers sharing a PostgreSQL catalog share the rest.
test('a second serve on the same data folder refuses to start and the first keeps serving',
  { skip: BACKEND !== 'sqlite' && 'the data-folder lock is for a local SQLite catalog' }, async () => {
  const srv = await startServer();
  try {
    // Same folder, same address: today SO_REUSEPORT lets it in.
    const same = await runFor(['serve', '--data', srv.dir, '--listen', `127.0.0.1:${srv.port}`,
                               '--workers', '0'], 6000);
    assert.ok(!same.running, `the second server started:\n${same.output}`);
    assert.notEqual(same.code, 0);
    assert.match(same.output, /data folder .* is in use by another hubcast serve/i);
    // Same folder, another port.
    const other = await runFor(['serve', '--data', srv.dir, '--listen', `127.0.0.1:${await freePort()}`,
                                '--workers', '0'], 6000);
    assert.ok(!other.running, `the second server started:\n${other.output}`);
    assert.notEqual(other.code, 0);
    assert.match(other.output, /data folder .* is in use by another hubcast serve/i);
    // Every request still reaches the first one.
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  } finally {
    await srv.cleanup();
  }
  // Once it has stopped, the folder can be served again.
  const again = await startServer({ data: srv.dir });
  await again.stop();
  rmSync(srv.dir, { recursive: true, force: true });
});

test('with a PostgreSQL catalog, a second serve on the same data folder and catalog starts beside the first',
  { skip: BACKEND !== 'postgresql' && 'runs on the PostgreSQL catalog' }, async () => {
  const srv = await startServer();
  try {
    const second = await startServer({ data: srv.dir });   // same folder, same catalog
    try {
      assert.equal((await fetch(`${second.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
    } finally {
      await second.stop();
    }
  } finally {
    await srv.cleanup();
  }
});

test('serve refuses a port another process listens on, with a clear message', async () => {
  const holder = net.createServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nholder'));
  await new Promise((r) => holder.listen(0, '127.0.0.1', r));
  const { port } = holder.address();
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-test-'));
  try {
    const r = await runFor(['serve', '--data', dir, '--listen', `127.0.0.1:${port}`, '--workers', '0'], 6000);
    assert.ok(!r.running, `hubcast started on a port in use:\n${r.output}`);
    assert.notEqual(r.code, 0);
    assert.match(r.output, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: another process is already listening`));
  } finally {
    holder.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hubcast transcode writes into an output folder whose name has % in it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-pct-'));
  try {
    const clip = join(dir, 'clip.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast',
      '-c:a', 'aac', '-shortest', clip]);
    // Printf patterns, the muxer's own %v, a literal %%, and a % in a parent.
    const names = ['100% done', 'a%d', 'b%05d', 'c%v', 'd%%', join('e%3v', 'f%s')];
    mkdirSync(join(dir, 'e%3v'));
    for (const name of names) {
      const out = join(dir, name);
      const r = await runFor(['transcode', clip, out, '--preset', 'ultrafast'], 120000);
      assert.equal(r.code, 0, `transcode into "${name}":\n${r.output}`);
      const master = readFileSync(join(out, 'master.m3u8'), 'utf8');
      for (const uri of master.split('\n').filter((l) => l && !l.startsWith('#'))) {
        const pl = readFileSync(join(out, uri), 'utf8');
        const segs = pl.split('\n').filter((l) => l && !l.startsWith('#'));
        assert.ok(segs.length > 0, `${name}/${uri} lists no segment`);
        for (const s of segs) assert.ok(existsSync(join(out, dirname(uri), s)), `${name}: ${s} is missing`);
      }
    }
    // Nothing was written anywhere else.
    assert.deepEqual(readdirSync(dir).sort(), ['100% done', 'a%d', 'b%05d', 'c%v', 'clip.mp4', 'd%%', 'e%3v']);
    assert.deepEqual(readdirSync(join(dir, 'e%3v')), ['f%s']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
