// smtp-tls.test.mjs - mail to a server that is not on this host's loopback
// must use TLS: Hubcast refuses to send in clear text to it unless
// --smtp-allow-plaintext says so; STARTTLS and smtps:// deliver when the
// server's certificate is trusted (--smtp-ca) and not otherwise. The
// "remote" SMTP servers run on a test host of our own: a network namespace
// made for this test, joined to this one by a veth pair on a private /30,
// removed at the end. The certificate is made at test time. Needs root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser } from './lib/server.mjs';

const id = process.pid % 10000;
const ns = `hcsmtp${id}`;
const hostIf = `hcv${id}`;
const peerIf = `hcp${id}`;
const net = `10.231.${id % 250}`;
const peer = `${net}.2`;
const canRun = process.getuid && process.getuid() === 0 &&
  spawnSync('ip', ['-V']).status === 0;
let smtp, certDir;
const received = [];

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

before(async () => {
  if (!canRun) return;
  ip('netns', 'add', ns);
  ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf);
  ip('link', 'set', peerIf, 'netns', ns);
  ip('addr', 'add', `${net}.1/30`, 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${peer}/30`, 'dev', peerIf);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', peerIf, 'up');
  // A certificate for the test host's address, made now.
  certDir = mkdtempSync(join(tmpdir(), 'hubcast-tls-'));
  const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=smtp.test', '-addext', `subjectAltName=IP:${peer}`,
    '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { encoding: 'utf8' });
  if (cert.status !== 0) throw new Error(`openssl: ${cert.stderr}`);
  // Three SMTP servers on the test host, reporting what they get: plain
  // (no STARTTLS) on 2525, STARTTLS on 2526, implicit TLS on 2465.
  const script = `
    const fs = require('node:fs');
    const { SMTPServer } = require('smtp-server');
    const key = fs.readFileSync(${JSON.stringify(join(certDir, 'key.pem'))});
    const cert = fs.readFileSync(${JSON.stringify(join(certDir, 'cert.pem'))});
    const onData = (port) => (stream, session, cb) => {
      stream.on('data', () => {});
      stream.on('end', () => { console.log(JSON.stringify({ port, secure: session.secure, to: session.envelope.rcptTo.map((r) => r.address) })); cb(); });
    };
    const servers = [
      [2525, new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, onData: onData(2525) })],
      [2526, new SMTPServer({ authOptional: true, key, cert, logger: false, onData: onData(2526) })],
      [2465, new SMTPServer({ authOptional: true, secure: true, key, cert, logger: false, onData: onData(2465) })],
    ];
    let up = 0;
    for (const [port, s] of servers) {
      s.on('error', () => {});
      s.listen(port, '${peer}', () => { if (++up === servers.length) console.log('ready'); });
    }`;
  smtp = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script],
    { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    smtp.stdout.on('data', (d) => {
      for (const line of String(d).split('\n').filter(Boolean)) {
        if (line === 'ready') resolve();
        else received.push(JSON.parse(line));
      }
    });
    smtp.on('exit', (code) => reject(new Error(`the test SMTP server exited (${code})`)));
  });
});

after(() => {
  if (!canRun) return;
  smtp?.kill('SIGKILL');
  spawnSync('ip', ['link', 'del', hostIf]);
  spawnSync('ip', ['netns', 'del', ns]);
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

// Start a server mailing through url, invite `email`, and return whether the
// invite reached the test host (and the outbox as JSON text).
async function inviteThrough(url, email, extra = [], wait = 10000) {
  const srv = await startServer({ args: ['--smtp-url', url, '--mail-from', 'hubcast@example.com', ...extra] });
  try {
    const admin = await addUser(srv, 'ceo@example.com', 'Ceo', 'admin');
    const inv = await admin.req('POST', '/api/people/invite', { json: { email, name: 'Someone' } });
    assert.equal(inv.status, 201);
    let box = '';
    for (const end = Date.now() + wait; Date.now() < end;) {
      if (received.some((m) => m.to.includes(email))) break;
      box = JSON.stringify((await admin.req('GET', '/api/admin/outbox')).data);
      if (/"last_error":"[^"]+"/.test(box)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { delivered: received.find((m) => m.to.includes(email)), box };
  } finally {
    await srv.cleanup();
  }
}

test('mail to a remote server that offers no STARTTLS is not sent in clear text', { skip: !canRun && 'needs root and iproute2' }, async () => {
  const r = await inviteThrough(`smtp://${peer}:2525`, 'tls@example.com');
  assert.equal(r.delivered, undefined);
  assert.match(r.box, /STARTTLS|TLS|SSL/i, 'the outbox says why the mail waits');
});

test('with --smtp-allow-plaintext the same server gets the mail', { skip: !canRun && 'needs root and iproute2' }, async () => {
  const r = await inviteThrough(`smtp://${peer}:2525`, 'plain@example.com', ['--smtp-allow-plaintext']);
  assert.ok(r.delivered, `the invite arrived (outbox: ${r.box})`);
});

test('STARTTLS to a remote server whose certificate is trusted with --smtp-ca delivers the mail encrypted', { skip: !canRun && 'needs root and iproute2' }, async () => {
  const r = await inviteThrough(`smtp://${peer}:2526`, 'starttls@example.com', ['--smtp-ca', join(certDir, 'cert.pem')]);
  assert.ok(r.delivered, `delivered (outbox: ${r.box})`);
  assert.equal(r.delivered.secure, true);
});

test('smtps:// delivers over TLS from the first byte', { skip: !canRun && 'needs root and iproute2' }, async () => {
  const r = await inviteThrough(`smtps://${peer}:2465`, 'smtps@example.com', ['--smtp-ca', join(certDir, 'cert.pem')]);
  assert.ok(r.delivered, `delivered (outbox: ${r.box})`);
  assert.equal(r.delivered.secure, true);
});

test('a server certificate nobody vouches for is refused and the mail waits', { skip: !canRun && 'needs root and iproute2' }, async () => {
  const r = await inviteThrough(`smtp://${peer}:2526`, 'untrusted@example.com');
  assert.equal(r.delivered, undefined);
  assert.match(r.box, /certificate|SSL|TLS/i);
});
