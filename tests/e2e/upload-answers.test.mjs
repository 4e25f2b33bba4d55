// upload-answers.test.mjs - the check-in answers typed beside an upload
// travel with the tus creation (Upload-Metadata `answers`: a JSON list of
// {prompt, text}), are checked there like PATCH answers (a refusal is a
// 400 `bad_answers` before any byte is stored), and belong to the update
// as soon as the last byte arrives. Real tus-js-client and curl against
// the real server.
//
// Run: node --test tests/e2e/upload-answers.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tus from 'tus-js-client';
import { startServer, addUser, apiToken, sql } from './lib/server.mjs';

let srv, dir, clip, tok;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubcast-answers-'));
  clip = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
  srv = await startServer({ workers: 0 });
  await addUser(srv, 'mia@example.com', 'Mia Member');
  tok = apiToken(srv, 'mia@example.com');
});

after(async () => {
  await srv?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function upload(metadata, { chunkSize = Infinity, onChunk } = {}) {
  return new Promise((resolve, reject) => {
    const up = new tus.Upload(readFileSync(clip), {
      endpoint: `${srv.url}/api/uploads`,
      headers: { authorization: `Bearer ${tok}` },
      metadata: { filename: 'clip.mp4', filetype: 'video/mp4', title: 'With answers', ...metadata },
      chunkSize, retryDelays: null,
      onChunkComplete: onChunk ? () => onChunk(up) : undefined,
      onError: reject,
      onSuccess: () => resolve(up),
    });
    up.start();
  });
}

async function get(path) {
  const r = await fetch(srv.url + path, { headers: { authorization: `Bearer ${tok}` } });
  return r.json();
}

const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');

// A tus creation with curl, metadata given as key -> text; returns
// {status, body}.
function curlCreate(meta) {
  const header = Object.entries(meta).map(([k, v]) => `${k} ${b64(v)}`).join(',');
  const r = spawnSync('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', '-X', 'POST',
    '-H', `Authorization: Bearer ${tok}`, '-H', 'Tus-Resumable: 1.0.0', '-H', 'Upload-Length: 1000',
    '-H', `Upload-Metadata: ${header}`, `${srv.url}/api/uploads`], { encoding: 'utf8' });
  const lines = r.stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  let body = null;
  try { body = JSON.parse(lines.join('\n')); } catch { /* none */ }
  return { status, body };
}

test('answers sent with the upload are the update\'s answers once it is complete (empty ones left out)', async () => {
  const answers = [
    { prompt: 'What I did', text: 'Shipped the <uploader> for @mia' },
    { prompt: 'What I learned', text: '' },
    { prompt: "Where I'm going", text: 'Trimming, then search — en français aussi' },
  ];
  const up = await upload({ answers: JSON.stringify(answers) });
  const info = await get(`/api/uploads/${up.url.split('/').pop()}`);
  assert.ok(info.update, JSON.stringify(info));
  assert.deepEqual(info.update.answers, [answers[0], answers[2]]);
  const u = await get(`/api/updates/${info.update.id}`);
  assert.deepEqual(u.update.answers, [answers[0], answers[2]]);
});

test('a chunked upload stores its answers only when the last byte arrives', async () => {
  const answers = [{ prompt: 'What I did', text: 'Chunks' }];
  const count = () => Number(sql(srv.dir, 'SELECT COUNT(*) FROM update_answers'));
  const base = count();
  const seen = [];
  const up = await upload({ answers: JSON.stringify(answers) }, {
    chunkSize: 64 * 1024,
    onChunk: () => { seen.push(count()); },
  });
  assert.ok(seen.length >= 2, `several chunks (${seen.length})`);
  assert.deepEqual(seen.slice(0, -1), seen.slice(0, -1).map(() => base), 'none before the last byte');
  assert.equal(count(), base + 1);
  const info = await get(`/api/uploads/${up.url.split('/').pop()}`);
  assert.deepEqual(info.update.answers, answers);
});

test('the largest answers allowed (10 answers of 1000 bytes) pass through the metadata header', async () => {
  const answers = Array.from({ length: 10 }, (_, i) => ({ prompt: `Prompt ${i} `.padEnd(200, 'p'), text: 'é'.repeat(500) }));
  const up = await upload({ answers: JSON.stringify(answers) });
  const info = await get(`/api/uploads/${up.url.split('/').pop()}`);
  assert.deepEqual(info.update.answers, answers);
});

test('answers that PATCH would refuse are refused at creation with 400 bad_answers, and nothing is created', () => {
  const before = sql(srv.dir, 'SELECT COUNT(*) FROM uploads');
  const bad = [
    'not json',
    JSON.stringify({ prompt: 'a', text: 'b' }),
    JSON.stringify([{ prompt: '', text: 'x' }]),
    JSON.stringify([{ prompt: 'p', text: 'x'.repeat(1001) }]),
    JSON.stringify([{ prompt: 'p'.repeat(201), text: 'x' }]),
    JSON.stringify([{ prompt: 'p', text: 7 }]),
    JSON.stringify([{ prompt: 'p', text: 'a\u0000b' }]),
    JSON.stringify(Array.from({ length: 11 }, () => ({ prompt: 'p', text: 't' }))),
  ];
  for (const answers of bad) {
    const r = curlCreate({ filename: 'clip.mp4', answers });
    assert.equal(r.status, 400, answers);
    assert.equal(r.body?.error?.code, 'bad_answers', answers);
    assert.match(r.body.error.message, /answers/);
  }
  assert.equal(sql(srv.dir, 'SELECT COUNT(*) FROM uploads'), before);
  // And the same request with good answers is taken.
  assert.equal(curlCreate({ filename: 'clip.mp4', answers: '[{"prompt":"p","text":"t"}]' }).status, 201);
});
