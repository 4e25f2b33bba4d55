// layers.test.mjs - the data layer is a layer: db/ owns every SQL statement
// and every catalog call, and what it hands out are typed structs, never
// JSON rows. These read the source tree, as `grep` would for a reviewer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sources(dir) {
  return readdirSync(join(top, dir))
    .filter((f) => /\.[ch]$/.test(f))
    .map((f) => ({ name: `${dir}/${f}`, text: readFileSync(join(top, dir, f), 'utf8') }));
}

// Lines of the given files that match re, as "file:line: text".
function hits(files, re) {
  const out = [];
  for (const f of files) {
    f.text.split('\n').forEach((line, i) => {
      if (re.test(line)) out.push(`${f.name}:${i + 1}: ${line.trim()}`);
    });
  }
  return out;
}

const outside = [...sources('src'), ...sources('transcoder')];

test('no catalog call (cat_*, sqlite3_*) outside db/', () => {
  assert.deepEqual(hits(outside, /\bcat_[a-z_]+\(|\bsqlite3_/), []);
});

test('no SQL statement outside db/', () => {
  assert.deepEqual(hits(outside, /"[^"]*\b(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM|CREATE TABLE)\b/), []);
});

// The C of db/, without its string literals: SQL may read a list of ids
// passed as one JSON array parameter (json_each, json_array_elements_text:
// CAT_LIST in db/catalog.h), which is how a statement takes a whole page
// at once; what db/ hands out stays typed.
const code = (files) => files.map((f) => ({ ...f, text: f.text.replace(/"(?:[^"\\\n]|\\.)*"/g, '""') }));

test('db/ hands out typed values, not JSON rows', () => {
  assert.deepEqual(hits(sources('db'), /#\s*include\s*[<"]jansson/), []);
  assert.deepEqual(hits(code(sources('db')), /jansson|\bjson_/), []);
});

test('libav headers only in transcoder/', () => {
  assert.deepEqual(hits([...sources('src'), ...sources('db')], /#include <lib(av|sw)/), []);
});
