// foundation.test.mjs - the server, the catalog and accounts, end to end:
// the real binary on a random port, spoken to over HTTP as a browser or a
// script would, with the command line used the way an operator would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser, apiToken, hubcast, sql, catalogEnv, Client, freePort, BIN, BACKEND } from './lib/server.mjs';

let srv, admin, member;

before(async () => {
  srv = await startServer();
  admin = await addUser(srv, 'ceo@example.com', 'Zoë Martin', 'admin');
  member = await addUser(srv, 'dev@example.com', 'Dev One', 'member');
});

after(async () => { await srv.cleanup(); });

test('healthz answers ok and every response carries the security headers', async () => {
  for (const path of ['/healthz', '/', '/api/me', '/api/nothing-here', '/missing.css']) {
    const r = await fetch(srv.url + path);
    if (path === '/healthz') {
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'ok\n');
    }
    assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    assert.ok(r.headers.get('referrer-policy'), path);
  }
});

test('the web app is served at / and unknown API paths get a JSON 404', async () => {
  const r = await fetch(srv.url + '/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.match(await r.text(), /Hubcast/);
  const n = await fetch(srv.url + '/api/nothing-here');
  assert.equal(n.status, 404);
  assert.equal((await n.json()).error.code, 'not_found');
});

test('metrics are Prometheus text with requests by route and status and jobs by state', async () => {
  await fetch(srv.url + '/healthz');
  const r = await fetch(srv.url + '/metrics');
  assert.equal(r.status, 200);
  const t = await r.text();
  assert.match(t, /hubcast_http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+/);
  assert.match(t, /hubcast_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+/);
  assert.match(t, /hubcast_jobs\{state="queued"\} 0/);
  assert.match(t, /hubcast_uploads_open 0/);
});

test('sign-in sets an HttpOnly SameSite=Lax cookie and a wrong password is refused', async () => {
  const c = new Client(srv);
  const bad = await c.login('dev@example.com', 'not the password');
  assert.equal(bad.status, 401);
  assert.equal(bad.data.error.code, 'bad_credentials');
  const ok = await c.login('dev@example.com', 'a good password');
  assert.equal(ok.status, 200);
  assert.match(ok.setCookie, /HttpOnly/);
  assert.match(ok.setCookie, /SameSite=Lax/);
  assert.doesNotMatch(ok.setCookie, /Secure/);   // plain http on loopback
  assert.equal(ok.data.user.email, 'dev@example.com');
  assert.equal(ok.data.user.password_hash, undefined);
  const me = await c.req('GET', '/api/me');
  assert.equal(me.status, 200);
  assert.equal(me.data.user.name, 'Dev One');
});

test('each sign-in gets a new session token and sign-out ends only that session', async () => {
  const a = new Client(srv);
  const b = new Client(srv);
  await a.login('dev@example.com', 'a good password');
  await b.login('dev@example.com', 'a good password');
  assert.notEqual(a.cookie, b.cookie);
  const oldCookie = a.cookie;
  const out = await a.req('DELETE', '/api/session');
  assert.equal(out.status, 200);
  assert.match(out.setCookie, /Max-Age=0/);
  const replay = new Client(srv);
  replay.cookie = oldCookie;           // the old cookie replayed by someone
  assert.equal((await replay.req('GET', '/api/me')).status, 401);
  assert.equal((await b.req('GET', '/api/me')).status, 200);
});

test('a cookie session needs the CSRF token and a same-origin request to change anything', async () => {
  const noToken = await member.req('PATCH', '/api/me', { json: { title: 'Hacker' }, csrf: false });
  assert.equal(noToken.status, 403);
  assert.equal(noToken.data.error.code, 'csrf');
  const crossSite = await member.req('PATCH', '/api/me', {
    json: { title: 'Hacker' }, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
  });
  assert.equal(crossSite.status, 403);
  const me = await member.req('GET', '/api/me');
  assert.equal(me.data.user.title, '');
  const ok = await member.req('PATCH', '/api/me', { json: { title: 'Engineer', team: 'Platform', time_zone: 'Europe/Paris' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.data.user.unsubscribed, false);
  assert.equal(ok.data.user.title, 'Engineer');
  assert.equal(ok.data.user.time_zone, 'Europe/Paris');
});

test('someone who unsubscribed from all mail can subscribe again in their settings', async () => {
  const c = await addUser(srv, 'unsub@example.com', 'Una', 'member');
  const off = await c.req('PATCH', '/api/me', { json: { unsubscribed: true, notify_updates: 'off' } });
  assert.equal(off.data.user.unsubscribed, true);
  const on = await c.req('PATCH', '/api/me', { json: { unsubscribed: false, notify_updates: 'immediate' } });
  assert.equal(on.status, 200);
  assert.equal(on.data.user.unsubscribed, false);
  assert.equal(on.data.user.notify_updates, 'immediate');
});

test('repeated wrong passwords are rate limited with 429 and Retry-After', async () => {
  await addUser(srv, 'target@example.com', 'Target', 'member');
  const c = new Client(srv);
  let last;
  for (let i = 0; i < 6; i++) last = await c.login('target@example.com', `wrong-${i}-password`);
  assert.equal(last.status, 429);
  assert.ok(Number(last.headers.get('retry-after')) > 0);
  // Even the right password waits now.
  const right = await c.login('target@example.com', 'a good password');
  assert.equal(right.status, 429);
});

test('user token prints only a token, which works as a Bearer token until deleted', async () => {
  const tok = apiToken(srv, 'dev@example.com');
  assert.match(tok, /^hc_[A-Za-z0-9_-]{40,}$/);
  const me = await fetch(srv.url + '/api/me', { headers: { authorization: `Bearer ${tok}` } });
  assert.equal(me.status, 200);
  // A Bearer token needs no CSRF token: there is no ambient cookie to abuse.
  const patch = await fetch(srv.url + '/api/me', {
    method: 'PATCH', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
    body: JSON.stringify({ team: 'Core' }),
  });
  assert.equal(patch.status, 200);
  const list = await member.req('GET', '/api/tokens');
  const mine = list.data.tokens.at(-1);
  const del = await member.req('DELETE', `/api/tokens/${mine.id}`);
  assert.equal(del.status, 200);
  const after = await fetch(srv.url + '/api/me', { headers: { authorization: `Bearer ${tok}` } });
  assert.equal(after.status, 401);
});

test('POST /api/tokens makes a token for the signed-in person', async () => {
  const r = await member.req('POST', '/api/tokens', { json: { label: 'ci' } });
  assert.equal(r.status, 201);
  const me = await fetch(srv.url + '/api/me', { headers: { authorization: `Bearer ${r.data.token}` } });
  assert.equal((await me.json()).user.email, 'dev@example.com');
  const other = await admin.req('DELETE', `/api/tokens/${r.data.id}`);
  assert.equal(other.status, 404);   // not admin's token
});

// Every route: anonymous callers get 401, members get 403 on admin routes.
const routes = [
  ['GET', '/api/me', 'member'], ['PATCH', '/api/me', 'member'], ['DELETE', '/api/session', 'member'],
  ['GET', '/api/people', 'member'], ['PATCH', '/api/people/1', 'admin'],
  ['POST', '/api/people/invite', 'admin'], ['GET', '/api/purpose', 'member'],
  ['PUT', '/api/purpose', 'admin'], ['GET', '/api/tokens', 'member'],
  ['POST', '/api/tokens', 'member'], ['DELETE', '/api/tokens/1', 'member'],
];

test('every protected route refuses anonymous callers with 401', async () => {
  const anon = new Client(srv);
  for (const [method, path] of routes) {
    const r = await anon.req(method, path, { json: method === 'GET' || method === 'DELETE' ? undefined : {} });
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.equal(r.data.error.code, 'unauthenticated', `${method} ${path}`);
  }
});

test('every admin route refuses members with 403 and changes nothing', async () => {
  for (const [method, path, role] of routes) {
    if (role !== 'admin') continue;
    const r = await member.req(method, path, { json: { role: 'admin', purpose: 'x', email: 'x@example.com' } });
    assert.equal(r.status, 403, `${method} ${path}`);
  }
  const me = await member.req('GET', '/api/me');
  assert.equal(me.data.user.role, 'member');
  const p = await member.req('GET', '/api/purpose');
  assert.equal(p.data.purpose, '');
});

test('malformed JSON, wrong types, missing and unknown fields get clear 400s and change nothing', async () => {
  const cases = [
    [{ body: '{"name": ', headers: { 'content-type': 'application/json' } }, 'bad_json'],
    [{ body: '[1,2]', headers: { 'content-type': 'application/json' } }, 'bad_json'],
    [{ json: { name: 42 } }, 'bad_field'],
    [{ json: { name: '' } }, 'bad_field'],
    [{ json: { time_zone: 'Mars/Olympus' } }, 'bad_field'],
    [{ json: { notify_updates: 'hourly' } }, 'bad_field'],
    [{ json: { notify_reminders: 'yes' } }, 'bad_field'],
    [{ json: { nickname: 'x' } }, 'unknown_field'],
    [{ json: { name: 'x\u0001y' } }, 'bad_field'],
    [{ json: { password: 'short', current_password: 'a good password' } }, 'bad_password'],
  ];
  for (const [opts, code] of cases) {
    const r = await member.req('PATCH', '/api/me', opts);
    assert.equal(r.status, 400, JSON.stringify(opts));
    assert.equal(r.data.error.code, code, JSON.stringify(opts));
    assert.ok(r.data.error.message.length > 10);
  }
  const login = await new Client(srv).req('POST', '/api/session', { json: { email: 'dev@example.com' } });
  assert.equal(login.status, 400);
  assert.equal(login.data.error.code, 'missing_field');
  const me = await member.req('GET', '/api/me');
  assert.equal(me.data.user.name, 'Dev One');
});

test('an oversized body is refused with 413 and nothing changes', async () => {
  const big = { name: 'x'.repeat(70 * 1024) };
  const r = await member.req('PATCH', '/api/me', { json: big });
  assert.equal(r.status, 413);
  assert.equal(r.data.error.code, 'too_large');
  const me = await member.req('GET', '/api/me');
  assert.equal(me.data.user.name, 'Dev One');
});

test('changing the password needs the current one and then signs in with the new one', async () => {
  const c = await addUser(srv, 'pw@example.com', 'Pat', 'member', 'first password');
  const wrong = await c.req('PATCH', '/api/me', { json: { password: 'second password', current_password: 'nope nope' } });
  assert.equal(wrong.status, 403);
  const ok = await c.req('PATCH', '/api/me', { json: { password: 'second password', current_password: 'first password' } });
  assert.equal(ok.status, 200);
  assert.equal((await new Client(srv).login('pw@example.com', 'first password')).status, 401);
  assert.equal((await new Client(srv).login('pw@example.com', 'second password')).status, 200);
});

test('the directory lists people with name, title and team', async () => {
  const r = await member.req('GET', '/api/people');
  assert.equal(r.status, 200);
  const zoe = r.data.people.find((p) => p.email === 'ceo@example.com');
  assert.equal(zoe.name, 'Zoë Martin');
  assert.equal(zoe.role, 'admin');
  assert.ok('title' in zoe && 'team' in zoe && 'latest_update' in zoe);
});

test('an admin invites someone, who sets a password with the link and signs in as a member', async () => {
  const inv = await admin.req('POST', '/api/people/invite', { json: { email: 'new@example.com', name: 'Nia New' } });
  assert.equal(inv.status, 201);
  assert.match(inv.data.invite.url, /\/invite#token=/);
  const token = inv.data.invite.url.split('token=')[1];
  const again = await admin.req('POST', '/api/people/invite', { json: { email: 'dev@example.com' } });
  assert.equal(again.status, 409);
  const badEmail = await admin.req('POST', '/api/people/invite', { json: { email: 'not an email' } });
  assert.equal(badEmail.status, 400);
  const c = new Client(srv);
  const acc = await c.req('POST', '/api/invites/accept', { json: { token, password: 'nia password' } });
  assert.equal(acc.status, 201);
  assert.equal(acc.data.user.name, 'Nia New');
  assert.equal(acc.data.user.role, 'member');
  const reuse = await new Client(srv).req('POST', '/api/invites/accept', { json: { token, password: 'nia password' } });
  assert.equal(reuse.status, 410);
  assert.equal((await new Client(srv).login('new@example.com', 'nia password')).status, 200);
});

test('a deactivated member cannot sign in, their sessions and tokens stop working', async () => {
  const c = await addUser(srv, 'leaving@example.com', 'Leo Leaving', 'member');
  const tok = apiToken(srv, 'leaving@example.com');
  const people = await admin.req('GET', '/api/people');
  const leo = people.data.people.find((p) => p.email === 'leaving@example.com');
  const r = await admin.req('PATCH', `/api/people/${leo.id}`, { json: { deactivated: true } });
  assert.equal(r.status, 200);
  assert.equal(r.data.user.deactivated, true);
  assert.equal((await c.req('GET', '/api/me')).status, 401);
  assert.equal((await fetch(srv.url + '/api/me', { headers: { authorization: `Bearer ${tok}` } })).status, 401);
  assert.equal((await new Client(srv).login('leaving@example.com', 'a good password')).status, 401);
  const still = await admin.req('GET', '/api/people');
  assert.ok(still.data.people.find((p) => p.email === 'leaving@example.com'));
});

test('an admin can make someone an admin but cannot demote themselves', async () => {
  const people = await admin.req('GET', '/api/people');
  const dev = people.data.people.find((p) => p.email === 'dev@example.com');
  const self = people.data.people.find((p) => p.email === 'ceo@example.com');
  const bad = await admin.req('PATCH', `/api/people/${dev.id}`, { json: { role: 'owner' } });
  assert.equal(bad.status, 400);
  const no = await admin.req('PATCH', `/api/people/${self.id}`, { json: { role: 'member' } });
  assert.equal(no.status, 409);
  const missing = await admin.req('PATCH', '/api/people/99999', { json: { role: 'admin' } });
  assert.equal(missing.status, 404);
});

test('the purpose is set by an admin and read back verbatim by members', async () => {
  const text = 'We help teams <b>hear</b> each other. "Quotes" & ünïcode.';
  const put = await admin.req('PUT', '/api/purpose', { json: { purpose: text, company_name: 'Acme' } });
  assert.equal(put.status, 200);
  const get = await member.req('GET', '/api/purpose');
  assert.equal(get.data.purpose, text);
  assert.equal(get.data.company_name, 'Acme');
  const bad = await admin.req('PUT', '/api/purpose', { json: { purpose: 7 } });
  assert.equal(bad.status, 400);
  assert.equal((await member.req('GET', '/api/purpose')).data.purpose, text);
});

test('first run prints a one-time setup link that creates the administrator', async () => {
  const s = await startServer();
  try {
    assert.ok(s.setupToken, 'setup link printed');
    const c = new Client(s);
    assert.equal((await c.req('GET', '/api/setup')).data.needed, true);
    const wrong = await c.req('POST', '/api/setup', { json: { token: 'x'.repeat(43), email: 'a@example.com', name: 'A', password: 'a good password' } });
    assert.equal(wrong.status, 410);
    const weak = await c.req('POST', '/api/setup', { json: { token: s.setupToken, email: 'a@example.com', name: 'A', password: 'short' } });
    assert.equal(weak.status, 400);
    const ok = await c.req('POST', '/api/setup', { json: { token: s.setupToken, email: 'a@example.com', name: 'Ada', password: 'a good password' } });
    assert.equal(ok.status, 201);
    assert.equal(ok.data.user.role, 'admin');
    assert.equal((await c.req('GET', '/api/me')).status, 200);
    const again = await new Client(s).req('POST', '/api/setup', { json: { token: s.setupToken, email: 'b@example.com', name: 'B', password: 'a good password' } });
    assert.equal(again.status, 410);
    assert.equal((await c.req('GET', '/api/setup')).data.needed, false);
  } finally {
    await s.cleanup();
  }
});

test('SIGTERM lets a request in flight finish, refuses new connections, and exits 0', async () => {
  const s = await startServer();
  const { default: http } = await import('node:http');
  const { execFileSync } = await import('node:child_process');
  await addUser(s, 'slow@example.com', 'Slow Sender');
  const tok = apiToken(s, 'slow@example.com');
  const clip = join(s.dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=160x120:d=1',
    '-c:v', 'libx264', '-preset', 'ultrafast', clip]);
  const body = readFileSync(clip);
  // An upload that is still sending its body when the signal arrives.
  const answer = new Promise((resolve, reject) => {
    const req = http.request(`${s.url}/api/updates?title=In+flight`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tok}`, 'content-type': 'video/mp4', 'content-length': body.length },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.write(body.subarray(0, 1000));
    setTimeout(() => {
      s.proc.kill('SIGTERM');
      setTimeout(() => req.end(body.subarray(1000)), 500);
    }, 300);
  });
  const r = await answer;
  assert.equal(r.status, 201, r.text);
  assert.equal(JSON.parse(r.text).update.title, 'In flight');
  await assert.rejects(fetch(`${s.url}/healthz`));   // no longer accepting
  const { code } = await s.exit;
  assert.equal(code, 0);
  assert.match(s.output, /stopped/);
  await s.cleanup();
});

test('migrate applies the schema and a catalog newer than the binary is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-mig-'));
  try {
    const m = hubcast(['migrate', '--data', dir]);
    assert.equal(m.status, 0, m.stderr);
    const version = m.stdout.match(/schema version (\d+)/);
    assert.ok(version, m.stdout);
    if (BACKEND === 'sqlite') assert.ok(existsSync(join(dir, 'hubcast.db')));
    assert.equal(sql(dir, 'SELECT MAX(version) FROM schema_version'), version[1]);
    sql(dir, "INSERT INTO schema_version(version, name, applied_at) VALUES (999, 'future', 0)");
    const again = hubcast(['migrate', '--data', dir]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /newer than this hubcast binary/);
    const serve = hubcast(['serve', '--data', dir, '--listen', '127.0.0.1:1']);
    assert.equal(serve.status, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every command documents its options with --help', () => {
  const top = hubcast(['--help']);
  assert.equal(top.status, 0);
  for (const cmd of ['serve', 'worker', 'transcode', 'migrate', 'user', 'purpose']) {
    assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`));
    const h = hubcast([cmd, '--help']);
    assert.equal(h.status, 0, `${cmd} --help: ${h.stderr}`);
    assert.match(h.stdout, /usage/i);
  }
  const serve = hubcast(['serve', '--help']).stdout;
  for (const opt of ['--data', '--listen', '--workers', '--max-upload', 'HUBCAST_LISTEN'])
    assert.ok(serve.includes(opt), opt);
  const bad = hubcast(['serve', '--no-such-option']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown option/);
});

async function serveUntilHealthy(args, env, port) {
  const { spawn } = await import('node:child_process');
  const p = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  try {
    for (let i = 0; i < 200; i++) {
      try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return true; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
  }
}

test('a config file sets options and the environment overrides it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-conf-'));
  const { writeFileSync } = await import('node:fs');
  const p1 = await freePort();
  const p2 = await freePort();
  writeFileSync(join(dir, 'hubcast.conf'), `# test\nlisten = 127.0.0.1:${p1}\nworkers = 0\n`);
  try {
    assert.ok(await serveUntilHealthy(['serve', '--data', dir], catalogEnv(dir), p1), 'listens where the file says');
    assert.ok(await serveUntilHealthy(['serve', '--data', dir], { ...catalogEnv(dir), HUBCAST_LISTEN: `127.0.0.1:${p2}` }, p2),
      'the environment wins over the file');
    const bad = hubcast(['migrate', '--data', dir], { env: { HUBCAST_CONFIG: join(dir, 'missing.conf') } });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /cannot read the config file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
