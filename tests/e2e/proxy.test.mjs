// proxy.test.mjs - behind a reverse proxy or load balancer: with
// --trusted-proxies, per-address limits (the sign-in throttle) and the
// request log take the client from X-Forwarded-For, as the rightmost
// address that is not a trusted proxy, so a forged entry on the left does
// not escape the limit; without it the header is ignored.
//
// Run: node --test tests/e2e/proxy.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, freePort, BIN } from './lib/server.mjs';

// A failed sign-in for a new email each time (the per-account limit is
// separate), sent as if through a proxy that set X-Forwarded-For.
let n = 0;
async function failSignIn(srv, xff) {
  const res = await fetch(`${srv.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: srv.url, 'x-forwarded-for': xff },
    body: JSON.stringify({ email: `nobody${n++}@example.com`, password: 'not the password' }),
  });
  const data = await res.json();
  return { status: res.status, code: data?.error?.code };
}

// The sign-in throttle allows 20 failures per address in 15 minutes.
const PER_ADDRESS = 20;

test('behind a trusted proxy, limits and logs use the rightmost untrusted X-Forwarded-For address', async () => {
  const srv = await startServer({ args: ['--trusted-proxies', '10.0.0.0/8, 127.0.0.1', '--verbose'] });
  try {
    for (let i = 0; i < PER_ADDRESS; i++) {
      const r = await failSignIn(srv, i % 2 ? '203.0.113.5' : `198.51.100.${i}, 203.0.113.5, 10.1.2.3`);
      assert.equal(r.status, 401, `attempt ${i}: ${r.code}`);
    }
    // That address is now throttled, whatever the client puts on the left.
    assert.equal((await failSignIn(srv, '203.0.113.5')).code, 'too_many_attempts');
    assert.equal((await failSignIn(srv, '203.0.113.77, 203.0.113.5')).code, 'too_many_attempts');
    // Another client through the same proxy is not.
    assert.equal((await failSignIn(srv, '203.0.113.6')).status, 401);
    assert.equal((await failSignIn(srv, '203.0.113.5, 203.0.113.6')).status, 401);
    // The proxy itself, with no header, is one more address.
    const direct = await fetch(`${srv.url}/api/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: srv.url },
      body: JSON.stringify({ email: 'direct@example.com', password: 'x' }) });
    assert.equal(direct.status, 401);

    await new Promise((r) => setTimeout(r, 200));
    assert.match(srv.output, /POST \/api\/session 429 .* from 203\.0\.113\.5\b/);
    assert.match(srv.output, /POST \/api\/session 401 .* from 203\.0\.113\.6\b/);
    assert.match(srv.output, /POST \/api\/session 401 .* from 127\.0\.0\.1\b/);
    assert.doesNotMatch(srv.output, /from 198\.51\.100\.|from 10\.1\.2\.3/);
  } finally {
    await srv.cleanup();
  }
});

test('without --trusted-proxies, X-Forwarded-For is ignored', async () => {
  const srv = await startServer({ args: ['--verbose'] });
  try {
    for (let i = 0; i < PER_ADDRESS; i++)
      assert.equal((await failSignIn(srv, `203.0.113.${i}`)).status, 401);
    // Every request came from 127.0.0.1, whatever the header says.
    assert.equal((await failSignIn(srv, '203.0.113.200')).code, 'too_many_attempts');
    await new Promise((r) => setTimeout(r, 200));
    assert.match(srv.output, /POST \/api\/session 429 .* from 127\.0\.0\.1\b/);
    assert.doesNotMatch(srv.output, /from 203\.0\.113\./);
  } finally {
    await srv.cleanup();
  }
});

test('a --trusted-proxies value that is not a CIDR list stops serve with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-proxy-test-'));
  try {
    const r = spawnSync(BIN, ['serve', '--data', dir, '--listen', `127.0.0.1:${await freePort()}`,
      '--workers', '0', '--trusted-proxies', '10.0.0.0/8,lb.example.com'], { encoding: 'utf8', timeout: 20000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr + r.stdout, /--trusted-proxies: "lb\.example\.com" is not an address or CIDR block/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
