// s3.test.mjs - the S3 client (src/s3.c, src/sigv4.c) against a real S3
// server that checks SigV4 signatures: Ceph's radosgw on a one-node test
// cluster (tests/e2e/lib/ceph.sh). Each call goes through `hubcast s3`:
// objects round-trip with their type, cache policy and byte ranges; a
// multipart upload of three parts (5 MiB, 5 MiB and a tail) reads back
// whole, and an aborted one is gone; a presigned GET works with plain curl
// and is refused once expired or tampered with; a wrong secret is refused
// with 403 SignatureDoesNotMatch, and our error says so.
//
// Run: node --test tests/e2e/s3.test.mjs  (needs the Ceph packages; see
// build-aux/deps.sh test).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubcast } from './lib/server.mjs';
import { startCeph, cephSkipReason } from './lib/ceph.mjs';

const skip = cephSkipReason() ?? false;
let ceph;
let dir;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'hubcast-s3-test-'));
  // Object listings in pages of 3 keys: a few objects take the client
  // across pages (s3_list and s3_mpu_list share the loop that follows them).
  ceph = await startCeph({ page: 3 });
  console.log(`# Ceph test cluster (mon, osd on memstore, radosgw) answered S3 after ${ceph.seconds.toFixed(1)} s`);
});

after(async () => {
  if (ceph) await ceph.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// `hubcast s3 ARGS` against the test store; env overrides ours.
function s3(args, env = {}) {
  return hubcast(['s3', ...args], { env: { ...ceph.env, ...env } });
}

function ok(args, env) {
  const r = s3(args, env);
  assert.equal(r.status, 0, `hubcast s3 ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function file(name, bytes) {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

// GET url with curl: { status, body }.
function curl(url) {
  const out = join(dir, `curl-${randomBytes(4).toString('hex')}`);
  const status = execFileSync('curl', ['-s', '-o', out, '-w', '%{http_code}', url], { encoding: 'utf8' });
  return { status: Number(status), body: readFileSync(out) };
}

function headOf(key) {
  return Object.fromEntries(ok(['head', key]).trim().split('\n').map((l) => l.split(/ (.*)/s).slice(0, 2)));
}

test('the test cluster starts in about 30 s', { skip }, () => {
  // The issue expects about 30 s; allow for a busy machine.
  assert.ok(ceph.seconds < 120, `started in ${ceph.seconds} s`);
});

test('an object round-trips with its type, cache policy and byte ranges, then is deleted', { skip }, () => {
  const bytes = randomBytes(300000);
  const src = file('obj.bin', bytes);
  ok(['put', 'u/1/poster.jpg', src, 'image/jpeg', 'public, max-age=31536000, immutable']);

  const h = headOf('u/1/poster.jpg');
  assert.equal(h.size, String(bytes.length));
  assert.equal(h.type, 'image/jpeg');
  assert.equal(h.cache, 'public, max-age=31536000, immutable');
  assert.match(h.etag, /^"[0-9a-f]{32}"$/);

  const whole = join(dir, 'whole.out');
  ok(['get', 'u/1/poster.jpg', whole]);
  assert.ok(readFileSync(whole).equals(bytes));
  const part = join(dir, 'range.out');
  ok(['get', 'u/1/poster.jpg', part, '1000', '1999']);
  assert.ok(readFileSync(part).equals(bytes.subarray(1000, 2000)));
  ok(['get', 'u/1/poster.jpg', part, '299990']);
  assert.ok(readFileSync(part).equals(bytes.subarray(299990)));

  const beyond = s3(['get', 'u/1/poster.jpg', part, '400000']);
  assert.equal(beyond.status, 1);
  assert.match(beyond.stderr, /range not satisfiable \(416 InvalidRange/);

  ok(['rm', 'u/1/poster.jpg']);
  const gone = s3(['head', 'u/1/poster.jpg']);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /not found \(404/);
  const missing = s3(['get', 'u/1/poster.jpg', part]);
  assert.match(missing.stderr, /not found \(404 NoSuchKey/);
  ok(['rm', 'u/1/poster.jpg']);   // deleting what is gone is not an error
});

test('deleting a prefix deletes every object under it and nothing else', { skip }, () => {
  const src = file('small.txt', 'segment');
  for (const k of ['u/7/a/seg0.ts', 'u/7/a/seg1.ts', 'u/7/a/720p/seg0.ts', 'u/7/ab.txt', 'u/8/x.ts'])
    ok(['put', k, src, 'video/mp2t']);
  assert.equal(ok(['rm-prefix', 'u/7/a/']).trim(), '3');
  assert.equal(s3(['head', 'u/7/a/seg0.ts']).status, 1);
  assert.equal(headOf('u/7/ab.txt').size, '7');
  assert.equal(headOf('u/8/x.ts').size, '7');
});

test('a multipart upload of 5 MiB, 5 MiB and a tail reads back whole', { skip }, () => {
  const MiB = 1024 * 1024;
  const bytes = randomBytes(10 * MiB + 123457);
  const src = file('upload.bin', bytes);
  const key = 'uploads/abc/source';
  const id = ok(['mpu-create', key, 'video/mp4']).trim();
  assert.ok(id.length > 0);
  const listed = ok(['mpu-list', 'uploads/']);
  assert.match(listed, new RegExp(`^${key} ${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\d+$`, 'm'));

  const parts = [[1, 0, 5 * MiB], [2, 5 * MiB, 5 * MiB], [3, 10 * MiB, bytes.length - 10 * MiB]];
  const etags = parts.map(([n, off, len]) =>
    `${n}:${ok(['mpu-part', key, id, String(n), src, String(off), String(len)]).trim()}`);
  // What a server taking the upload over would read back.
  assert.deepEqual(ok(['mpu-parts', key, id]).trim().split('\n').map((l) => l.split(' ')),
    parts.map(([n, , len], i) => [String(n), etags[i].slice(etags[i].indexOf(':') + 1), String(len)]));
  ok(['mpu-complete', key, id, ...etags]);

  const h = headOf(key);
  assert.equal(h.size, String(bytes.length));
  assert.equal(h.type, 'video/mp4');
  assert.match(h.etag, /-3"$/);
  const out = join(dir, 'upload.out');
  ok(['get', key, out]);
  assert.ok(readFileSync(out).equals(bytes));
  assert.doesNotMatch(ok(['mpu-list', 'uploads/']), new RegExp(id));
});

test('an aborted multipart upload is gone from the listing', { skip }, () => {
  const src = file('part.bin', randomBytes(5 * 1024 * 1024));
  const key = 'uploads/def/source';
  const id = ok(['mpu-create', key]).trim();
  ok(['mpu-part', key, id, '1', src, '0', String(5 * 1024 * 1024)]);
  assert.match(ok(['mpu-list']), new RegExp(`^${key} `, 'm'));
  ok(['mpu-abort', key, id]);
  assert.doesNotMatch(ok(['mpu-list']), new RegExp(`^${key} `, 'm'));
  // (AWS says NoSuchUpload here, radosgw NoSuchKey: both are 404.)
  assert.match(s3(['mpu-parts', key, id]).stderr, /not found \(404 /);
  const again = s3(['mpu-abort', key, id]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /not found \(404 NoSuchUpload/);
  assert.equal(s3(['head', key]).status, 1);
});

test('listings follow their pages: every object and every multipart upload is listed once, in order',
  { skip }, () => {
    // 8 objects are 3 pages here; the multipart uploads one page (radosgw).
    const keys = Array.from({ length: 8 }, (_, i) => `paged/k${i}`);
    const src = file('small.txt', 'a small object\n');
    for (const k of keys) ok(['put', k, src, 'text/plain']);
    assert.deepEqual(ok(['ls', 'paged/']).trim().split('\n').map((l) => l.split(' ')[0]), keys);
    const ids = keys.map((k) => [k, ok(['mpu-create', k]).trim()]);
    const listed = ok(['mpu-list', 'paged/']).trim().split('\n').map((l) => l.split(' ').slice(0, 2));
    assert.deepEqual(listed.map(([k]) => k), keys);
    assert.deepEqual(listed.sort(), ids.sort());
    for (const [k, id] of ids) ok(['mpu-abort', k, id]);
    assert.equal(ok(['rm-prefix', 'paged/']).trim(), '8');
    assert.equal(ok(['ls', 'paged/']).trim(), '');
  });

test('a presigned GET works with plain curl, and not once expired or tampered with', { skip }, () => {
  const bytes = randomBytes(4096);
  ok(['put', 'u/2/seg 0.ts', file('seg.ts', bytes), 'video/mp2t']);
  const url = ok(['presign', 'u/2/seg 0.ts', '300']).trim();
  assert.match(url, /X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}$/);
  const good = curl(url);
  assert.equal(good.status, 200);
  assert.ok(good.body.equals(bytes));

  const last = url.at(-1);
  const tampered = curl(url.slice(0, -1) + (last === '0' ? '1' : '0'));
  assert.equal(tampered.status, 403);
  assert.match(tampered.body.toString(), /<Code>SignatureDoesNotMatch<\/Code>/);

  const other = curl(url.replace('seg%200.ts', 'seg%201.ts'));
  assert.equal(other.status, 403);

  // Valid for 60 s, signed an hour ago.
  const expired = curl(ok(['presign', 'u/2/seg 0.ts', '60', '3600']).trim());
  assert.equal(expired.status, 403);
  assert.match(expired.body.toString(), /<Code>AccessDenied<\/Code>/);
});

test('virtual-host style addresses the bucket by name', { skip }, () => {
  // radosgw's rgw_dns_name is "localhost"; curl sends *.localhost to loopback.
  const vhost = { HUBCAST_S3_ENDPOINT: ceph.endpoint.replace('http://127.0.0.1', 'vhost+http://localhost') };
  const bytes = randomBytes(1000);
  ok(['put', 'u/3/v.txt', file('v.txt', bytes)], vhost);
  const out = join(dir, 'v.out');
  ok(['get', 'u/3/v.txt', out]);   // read back path-style: the same object
  assert.ok(readFileSync(out).equals(bytes));
  const url = ok(['presign', 'u/3/v.txt', '300'], vhost).trim();
  assert.match(url, new RegExp(`^http://${ceph.bucket}\\.localhost:`));
  assert.equal(curl(url).status, 200);
});

test('a wrong secret is refused with 403 SignatureDoesNotMatch, shown in our error', { skip }, () => {
  ok(['put', 'u/4/a.txt', file('a.txt', 'a')]);
  const r = s3(['get', 'u/4/a.txt', join(dir, 'a.out')], { AWS_SECRET_ACCESS_KEY: `${ceph.secretKey}x` });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /access denied \(403 SignatureDoesNotMatch/);
  const k = s3(['put', 'u/4/b.txt', file('b.txt', 'b')], { AWS_ACCESS_KEY_ID: 'HCNOSUCHKEY0000' });
  assert.match(k.stderr, /access denied \(403 InvalidAccessKeyId/);
  assert.equal(s3(['head', 'u/4/b.txt']).status, 1);
});

test('credentials are never taken from the command line', { skip }, () => {
  const r = s3(['--aws-secret-access-key', 'x', 'head', 'a'], { AWS_SECRET_ACCESS_KEY: '' });
  assert.equal(r.status, 2);
  const none = s3(['head', 'a'], { AWS_SECRET_ACCESS_KEY: '', AWS_ACCESS_KEY_ID: '' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no credentials/);
  // From the config file instead.
  const conf = file('hubcast.conf', `s3-access-key-id = ${ceph.accessKey}\ns3-secret-access-key = ${ceph.secretKey}\n`);
  ok(['--config', conf, 'head', 'u/4/a.txt'], { AWS_SECRET_ACCESS_KEY: '', AWS_ACCESS_KEY_ID: '' });
  // The other commands read the same file and let these two lines be.
  const m = hubcast(['migrate', '--data', join(dir, 'data'), '--config', conf]);
  assert.equal(m.status, 0, m.stderr);
});
