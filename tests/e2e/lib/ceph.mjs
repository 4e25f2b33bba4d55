// ceph.mjs - a real S3 server for tests: Ceph's radosgw on a one-node
// cluster (ceph-mon, one ceph-osd on memstore, radosgw/beast on loopback),
// started by ceph.sh in a temporary folder, with a user of its own and a
// bucket made through `hubcast s3 mb`. It checks SigV4 signatures as AWS
// does, which is the point.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, freePort } from './server.mjs';

const SCRIPT = new URL('./ceph.sh', import.meta.url).pathname;
const NEEDED = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph-authtool', 'ceph'];

// Why the cluster cannot start here, or null: only missing packages are a
// reason to skip (build-aux/deps.sh test installs them).
export function cephSkipReason() {
  const missing = NEEDED.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
  if (missing.length === 0) return null;
  return `Ceph is not installed (missing ${missing.join(', ')}; ` +
    'Debian packages ceph-mon ceph-osd radosgw ceph-common, see build-aux/deps.sh test)';
}

function run(args, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn('sh', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

// Start a cluster and make `bucket` in it. Returns { endpoint, region,
// accessKey, secretKey, bucket, env, seconds, stop() }: env holds what
// `hubcast s3` needs (store, endpoint, region, credentials). page: the
// most keys radosgw puts in one page of an object listing (rgw max
// listing results; S3's own is 1000), so that a test can make the client
// follow pages with a handful of objects (radosgw's listings of multipart
// uploads keep pages of 1000 whatever it says).
export async function startCeph({ bucket = 'hubcast-test', prefix = 'media', page = 1000 } = {}) {
  // The daemons run unprivileged: ceph.sh gives them this folder (and
  // only it), so it sits directly in the temporary folder.
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-ceph-'));
  const [rgwPort, monPort] = [await freePort(), await freePort()];
  const t0 = Date.now();
  const r = await run(['start', dir, String(rgwPort), String(monPort), String(page)], 120000);
  const seconds = (Date.now() - t0) / 1000;
  // Should the test process end without calling stop, the daemons go too.
  const onExit = () => spawnSync('sh', [SCRIPT, 'stop', dir], { timeout: 30000 });
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    await run(['stop', dir], 30000);
    rmSync(dir, { recursive: true, force: true });
  };
  if (r.code !== 0) {
    await stop();
    throw new Error(`the Ceph test cluster did not start (exit ${r.code ?? r.signal}):\n${r.err}`);
  }
  const kv = Object.fromEntries(r.out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  const env = {
    HUBCAST_MEDIA_STORE: `s3://${bucket}/${prefix}`,
    HUBCAST_S3_ENDPOINT: kv.endpoint,
    HUBCAST_S3_REGION: kv.region,
    AWS_ACCESS_KEY_ID: kv.access_key,
    AWS_SECRET_ACCESS_KEY: kv.secret_key,
  };
  const mb = spawnSync(BIN, ['s3', 'mb'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (mb.status !== 0) {
    await stop();
    throw new Error(`cannot create bucket ${bucket}: ${mb.stderr}`);
  }
  return {
    endpoint: kv.endpoint, region: kv.region, accessKey: kv.access_key, secretKey: kv.secret_key,
    bucket, prefix, env, seconds, dir, stop,
  };
}
