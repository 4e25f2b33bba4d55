// avatar.test.mjs - uploaded profile pictures, through the real API: a PNG
// or a JPEG becomes a 256x256 JPEG (decoded in the confined job child), with
// no metadata carried over; every signed-in member sees its avatar_url and
// can fetch it, a signed-out request cannot; what is not a picture Hubcast
// reads (text, a cut PNG, a video, a huge PNG, a body over 5 MiB) is refused
// with a stable code and nothing is stored; DELETE brings null back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, addUser } from './lib/server.mjs';

let srv, alice, bob, dir;
const f = {};

const ff = (args) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
const probe = (file) => JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams',
  '-show_format', '-of', 'json', file], { encoding: 'utf8' }));
const stored = () => (existsSync(join(srv.dir, 'avatars'))
  ? readdirSync(join(srv.dir, 'avatars')).filter((n) => n.endsWith('.jpg')) : []);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-avatar-'));
  f.png = join(dir, 'a.png');
  f.jpg = join(dir, 'a.jpg');
  f.mp4 = join(dir, 'a.mp4');
  f.big = join(dir, 'big.png');
  f.gps = join(dir, 'gps.jpg');
  ff(['-f', 'lavfi', '-i', 'testsrc2=s=640x360', '-frames:v', '1', f.png]);
  ff(['-f', 'lavfi', '-i', 'testsrc2=s=300x500', '-frames:v', '1', f.jpg]);
  ff(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=1', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-pix_fmt', 'yuv420p', f.mp4]);
  ff(['-f', 'lavfi', '-i', 'color=c=red:s=9000x9000', '-frames:v', '1', f.big]);
  // A JPEG carrying an EXIF block with GPS tags (APP1 right after SOI).
  const plain = readFileSync(f.jpg);
  const exif = Buffer.concat([Buffer.from('Exif\0\0MM\0*\0\0\0\x08\0\x01\x88\x25\0\x04\0\0\0\x01\0\0\0\x1a\0\0\0\0',
    'latin1'), Buffer.from('\0\x01\0\x01\0\x02\0\0\0\x02N\0\0\0\0\0\0\0GPS-SECRET-48.8584N', 'latin1')]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 255]), exif]);
  f.gpsBytes = Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]);
  writeFileSync(f.gps, f.gpsBytes);
  srv = await startServer();
  alice = await addUser(srv, 'alice@example.com', 'Alice Doe');
  bob = await addUser(srv, 'bob@example.com', 'Bob Roe');
});

after(async () => {
  await srv?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const upload = (c, body, type = 'image/png') => c.req('POST', '/api/me/avatar', {
  body, headers: { 'content-type': type } });

test('a PNG becomes a 256x256 JPEG that other members see and fetch, and signed-out requests do not', async () => {
  assert.equal((await alice.req('GET', '/api/me')).data.user?.avatar_url ?? null, null);
  const r = await upload(alice, readFileSync(f.png));
  assert.equal(r.status, 200, r.text);
  const url = r.data.user.avatar_url;
  assert.match(url, /^\/api\/avatars\/[A-Za-z0-9_-]+\.jpg$/);
  const files = stored();
  assert.equal(files.length, 1);
  const p = probe(join(srv.dir, 'avatars', files[0]));
  assert.equal(p.streams[0].codec_name, 'mjpeg');
  assert.equal(p.streams[0].width, 256);
  assert.equal(p.streams[0].height, 256);
  const me = await alice.req('GET', '/api/me');
  assert.equal(me.data.user.avatar_url, url);
  const people = await bob.req('GET', '/api/people');
  assert.equal(people.data.people.find((x) => x.email === 'alice@example.com').avatar_url, url);
  assert.equal(people.data.people.find((x) => x.email === 'bob@example.com').avatar_url, null);
  const img = await fetch(srv.url + url, { headers: { cookie: bob.cookie } });
  assert.equal(img.status, 200);
  assert.equal(img.headers.get('content-type'), 'image/jpeg');
  assert.match(img.headers.get('cache-control'), /max-age=\d{6,}/);
  assert.equal(Buffer.from(await img.arrayBuffer()).subarray(0, 2).toString('hex'), 'ffd8');
  assert.equal((await fetch(srv.url + url)).status, 401);
});

test('an update carries its author\'s picture (home cards, bylines)', async () => {
  const url = (await alice.req('GET', '/api/me')).data.user.avatar_url;
  assert.ok(url, 'the PNG test gave Alice a picture');
  const r = await alice.req('POST', '/api/updates?title=with%20picture', {
    body: readFileSync(f.mp4), headers: { 'content-type': 'video/mp4' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.data.update.author.avatar_url, url);
  const list = await alice.req('GET', '/api/updates?status=queued');
  assert.equal(list.data.updates.find((u) => u.id === r.data.update.id)?.author.avatar_url, url, list.text);
});

test('a JPEG replaces the picture: the URL changes and the old file goes', async () => {
  const before = (await alice.req('GET', '/api/me')).data.user.avatar_url;
  const r = await upload(alice, readFileSync(f.jpg), 'image/jpeg');
  assert.equal(r.status, 200, r.text);
  assert.notEqual(r.data.user.avatar_url, before);
  assert.deepEqual(stored(), [r.data.user.avatar_url.split('/').pop()]);
  const p = probe(join(srv.dir, 'avatars', stored()[0]));
  assert.equal(`${p.streams[0].width}x${p.streams[0].height}`, '256x256');
});

test('what is not a picture Hubcast reads is refused and nothing is stored', async () => {
  const keep = stored();
  const url = (await bob.req('GET', '/api/me')).data.user.avatar_url;
  const png = readFileSync(f.png);
  const cases = [
    ['text', Buffer.from('hello, this is not a picture\n'), 'text/plain', 415, 'not_an_image'],
    ['truncated PNG', png.subarray(0, Math.floor(png.length / 3)), 'image/png', 415, 'not_an_image'],
    ['MP4', readFileSync(f.mp4), 'video/mp4', 415, 'not_an_image'],
    ['9000x9000 PNG', readFileSync(f.big), 'image/png', 415, 'not_an_image'],
  ];
  for (const [name, body, type, status, code] of cases) {
    const r = await upload(bob, body, type);
    assert.equal(r.status, status, `${name}: ${r.text}`);
    assert.equal(r.data.error.code, code, name);
    assert.ok(r.data.error.message.length > 10, name);
  }
  // Over 5 MiB: answered 413 from the Content-Length, or once the cap is
  // passed when the body comes in chunks. The server may close before the
  // body is sent; curl takes that answer as a browser would.
  const bigBody = join(dir, 'six.png');
  writeFileSync(bigBody, Buffer.concat([png, Buffer.alloc(6 * 1024 * 1024 - png.length)]));
  for (const chunked of [false, true]) {
    const out = execFileSync('curl', ['-s', '-w', '\n%{http_code}', '-H', `cookie: ${bob.cookie}`,
      '-H', `x-csrf-token: ${bob.csrf}`, '-H', `origin: ${srv.url}`, '-H', 'content-type: image/png',
      ...(chunked ? ['-H', 'transfer-encoding: chunked'] : []),
      '--data-binary', `@${bigBody}`, `${srv.url}/api/me/avatar`], { encoding: 'utf8' });
    const nl = out.lastIndexOf('\n');
    assert.equal(Number(out.slice(nl + 1)), 413, `chunked=${chunked}: ${out}`);
    assert.equal(JSON.parse(out.slice(0, nl)).error.code, 'too_large');
  }
  const fr = await bob.req('POST', '/api/me/avatar', { body: Buffer.from('plain text'),
    headers: { 'content-type': 'text/plain', 'accept-language': 'fr-FR,fr;q=0.9' } });
  assert.equal(fr.status, 415);
  assert.equal(fr.data.error.code, 'not_an_image');
  assert.deepEqual(stored(), keep);
  assert.equal((await bob.req('GET', '/api/me')).data.user.avatar_url, url);
  assert.deepEqual(readdirSync(join(srv.dir, 'avatars')).filter((n) => !n.endsWith('.jpg')), []);
});

test('EXIF and its GPS tags are not carried over', async () => {
  assert.ok(f.gpsBytes.includes('GPS-SECRET'));
  const r = await upload(bob, f.gpsBytes, 'image/jpeg');
  assert.equal(r.status, 200, r.text);
  const img = Buffer.from(await (await fetch(srv.url + r.data.user.avatar_url,
    { headers: { cookie: alice.cookie } })).arrayBuffer());
  assert.ok(!img.includes('GPS-SECRET'));
  assert.ok(!img.includes('Exif'));
});

test('DELETE removes the picture: avatar_url is null again and the file is gone', async () => {
  const url = (await alice.req('GET', '/api/me')).data.user.avatar_url;
  const r = await alice.req('DELETE', '/api/me/avatar');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.user.avatar_url, null);
  assert.equal((await alice.req('GET', '/api/me')).data.user.avatar_url, null);
  assert.equal((await fetch(srv.url + url, { headers: { cookie: bob.cookie } })).status, 404);
  assert.equal(stored().length, 1);   // bob's
});
