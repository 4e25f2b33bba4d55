// smtp-tls.test.mjs - mail to a server that is not on this host's loopback
// must use STARTTLS: Hubcast refuses to send in clear text to it unless
// --smtp-allow-plaintext says so. The "remote" SMTP server is a test host of
// our own: a network namespace made for this test, joined to this one by a
// veth pair on a private /30, removed at the end. Needs root (CI is).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { startServer, addUser } from './lib/server.mjs';

const id = process.pid % 10000;
const ns = `hcsmtp${id}`;
const hostIf = `hcv${id}`;
const peerIf = `hcp${id}`;
const net = `10.231.${id % 250}`;
const peer = `${net}.2`;
const canRun = process.getuid && process.getuid() === 0 &&
  spawnSync('ip', ['-V']).status === 0;
let smtp;
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
  // An SMTP server without STARTTLS on the test host, reporting what it gets.
  const script = `
    import('smtp-server').then(({ SMTPServer }) => {
      const s = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
        onData(stream, session, cb) {
          const c = []; stream.on('data', (d) => c.push(d));
          stream.on('end', () => { console.log(JSON.stringify({ to: session.envelope.rcptTo.map((r) => r.address) })); cb(); });
        } });
      s.listen(2525, '${peer}', () => console.log('ready'));
    });`;
  smtp = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script],
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
});

async function outboxOf(admin) {
  const r = await admin.req('GET', '/api/admin/outbox');
  return r.data;
}

test('mail to a remote server that offers no STARTTLS is not sent in clear text', { skip: !canRun && 'needs root and iproute2' }, async () => {
  const srv = await startServer({ args: ['--smtp-url', `smtp://${peer}:2525`, '--mail-from', 'hubcast@example.com'] });
  try {
    const admin = await addUser(srv, 'ceo@example.com', 'Ceo', 'admin');
    const inv = await admin.req('POST', '/api/people/invite', { json: { email: 'tls@example.com', name: 'Tess' } });
    assert.equal(inv.status, 201);
    let row;
    for (let i = 0; i < 100; i++) {
      const box = await outboxOf(admin);
      row = JSON.stringify(box);
      if (/STARTTLS|TLS|SSL/i.test(row)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(row, /STARTTLS|TLS|SSL/i, 'the outbox says why the mail waits');
    assert.equal(received.filter((m) => m.to.includes('tls@example.com')).length, 0);
  } finally {
    await srv.cleanup();
  }
});

test('with --smtp-allow-plaintext the same server gets the mail', { skip: !canRun && 'needs root and iproute2' }, async () => {
  const srv = await startServer({ args: ['--smtp-url', `smtp://${peer}:2525`, '--mail-from', 'hubcast@example.com',
    '--smtp-allow-plaintext'] });
  try {
    const admin = await addUser(srv, 'ceo@example.com', 'Ceo', 'admin');
    const inv = await admin.req('POST', '/api/people/invite', { json: { email: 'plain@example.com', name: 'Pat' } });
    assert.equal(inv.status, 201);
    for (let i = 0; i < 100 && !received.some((m) => m.to.includes('plain@example.com')); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(received.some((m) => m.to.includes('plain@example.com')), 'the invite arrived');
  } finally {
    await srv.cleanup();
  }
});
