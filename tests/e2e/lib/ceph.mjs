// ceph.mjs - a real S3 server for tests: Ceph's radosgw on a one-node
// cluster (ceph-mon, one ceph-osd on memstore, radosgw/beast on loopback),
// started by ceph.sh in a temporary folder, with a user of its own and a
// bucket made through `hubcast s3 mb`. It checks SigV4 signatures as AWS
// does, which is the point.
import { spawnSync } from 'node:child_process';
import { BIN, freePort } from './server.mjs';
import { startDaemon } from './daemon.mjs';

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
  const { dir, kv, seconds, stop } = await startDaemon(SCRIPT, {
    prefix: 'hubcast-ceph-', args: [await freePort(), await freePort(), page], timeoutMs: 120000,
    what: 'the Ceph test cluster',
  });
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
