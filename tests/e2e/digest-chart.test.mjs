// digest-chart.test.mjs - the weekly digest carries the participation of
// the last weeks as a chart a mail program shows without images or
// scripts: an HTML table whose bars are coloured cells (inline styles),
// and the same in the plain-text part ("W41 ███████░░░ 2/3"), in the
// reader's language. The real server on a fake clock delivers Monday's
// digest to a real SMTP server; the numbers are those of the catalog
// (people count from the week they joined; weeks before the company
// began are left out).
//
// Run: node --test tests/e2e/digest-chart.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, hubcast, sql, isoWeek } from './lib/server.mjs';
import { startSmtp } from './lib/smtp.mjs';

const at = (iso) => Math.floor(Date.parse(iso) / 1000);

// A company that began on Monday 21 September 2026 (week 39), in Paris.
// Léa joins on Wednesday of week 42.
const PEOPLE = [
  { email: 'amelie@example.com', name: 'Amélie Paris', lang: 'fr', joined: '2026-09-21T08:00:00Z' },
  { email: 'nora@example.com', name: 'Nora York', lang: 'en', joined: '2026-09-22T08:00:00Z' },
  { email: 'bastien@example.com', name: 'Bastien Lyon', lang: 'fr', joined: '2026-09-23T08:00:00Z' },
  { email: 'lea@example.com', name: 'Léa Nantes', lang: 'en', joined: '2026-10-14T08:00:00Z' },
];
// Who posted when (Wednesdays at noon).
const POSTS = [
  ['amelie@example.com', '2026-09-30T10:00:00Z'],                                        // W40
  ['nora@example.com', '2026-10-07T10:00:00Z'], ['bastien@example.com', '2026-10-07T10:00:00Z'], // W41
  ['bastien@example.com', '2026-10-08T10:00:00Z'],                                       // W41 again
  ['amelie@example.com', '2026-10-21T10:00:00Z'], ['nora@example.com', '2026-10-21T10:00:00Z'],
  ['bastien@example.com', '2026-10-21T10:00:00Z'],                                       // W43
];
// What the chart must say, oldest week first: [week, posted, counted].
const WANT = [[39, 0, 3], [40, 1, 3], [41, 2, 3], [42, 0, 4], [43, 3, 4]];

function company() {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-chart-'));
  assert.equal(hubcast(['migrate', '--data', dir]).status, 0);
  for (const p of PEOPLE) {
    const r = hubcast(['user', 'add', p.email, '--name', p.name, '--data', dir]);
    assert.equal(r.status, 0, r.stderr);
    sql(dir, `UPDATE users SET time_zone = 'Europe/Paris', lang = '${p.lang}', notify_reminders = 0,
      created_at = ${at(p.joined)} WHERE email = '${p.email}'`);
  }
  for (const [email, when] of POSTS) {
    const t = at(when);
    sql(dir, `INSERT INTO updates(author_id, kind, iso_week, title, status, created_at, updated_at, ready_at)
      SELECT id, 'weekly', '${isoWeek(t * 1000, 'Europe/Paris')}', 'Week', 'ready', ${t}, ${t}, ${t}
      FROM users WHERE email = '${email}'`);
  }
  return dir;
}

// The text part's chart lines: "W41 ██████░░░░ 2/3" (S41 in French), ten
// cells, each a tenth of the people counted (rounded).
function textLines(prefix) {
  return WANT.map(([w, p, n]) => {
    const full = Math.round((p * 10) / n);
    return `${prefix}${w} ${'█'.repeat(full)}${'░'.repeat(10 - full)} ${p}/${n}`;
  });
}

// The HTML chart: the table after its caption, each row's week, bar width
// and count.
function htmlRows(html) {
  const table = html.match(/<table[^>]*data-chart="participation"[^>]*>([\s\S]*?)<\/table>\s*<!-- \/chart -->/);
  assert.ok(table, html);
  const rows = table[1].split('<tr data-week="').slice(1);
  return { table: table[0], rows: rows.map((cells) => ({
    week: cells.slice(0, cells.indexOf('"')),
    label: cells.match(/<th[^>]*>([^<]*)<\/th>/)[1],
    bar: Number((cells.match(/background:#4f46e5;width:(\d+)%/) ?? [0, 0])[1]),
    count: cells.match(/>(\d+\/\d+)<\/td>/)[1],
  })) };
}

test('Monday\'s digest shows the participation of the last weeks as a table and as text, in each reader\'s language', async () => {
  const dir = company();
  const box = await startSmtp();
  // Monday 26 October 2026, 08:00 in Paris (07:00Z, winter time): the digest of week 43.
  const s = await startServer({
    data: dir, args: ['--test-clock', '--smtp-url', box.url, '--mail-from', 'hubcast@example.com'],
    env: { HUBCAST_FAKE_NOW: '2026-10-26T06:59:57Z' },
  });
  try {
    const got = await box.waitFor((m) => /digest|Résumé/.test(m.subject), { count: 4, timeout: 30000 });
    const en = got.find((m) => m.rcptTo[0] === 'nora@example.com');
    const fr = got.find((m) => m.rcptTo[0] === 'amelie@example.com');
    assert.ok(en && fr, got.map((m) => m.rcptTo[0]).join(','));

    // Plain text: a heading and one line per week.
    const enText = en.text.replace(/\r\n/g, '\n');
    assert.ok(enText.includes(`Participation over the last weeks:\n${textLines('W').join('\n')}\n`), enText);
    const frText = fr.text.replace(/\r\n/g, '\n');
    assert.ok(frText.includes(`Participation des dernières semaines\u00a0:\n${textLines('S').join('\n')}\n`), frText);

    // HTML: a table with a caption, a row per week with its bar (a cell
    // as wide as the share who posted) and the count.
    for (const [m, prefix, caption] of [[en, 'W', 'Participation over the last weeks'],
      [fr, 'S', 'Participation des dernières semaines']]) {
      const { table, rows } = htmlRows(m.html);
      assert.ok(table.includes(`<caption style="text-align:left;font-weight:600;padding:0 0 8px">${caption}</caption>`), table);
      assert.deepEqual(rows.map((r) => [r.week, r.label, r.bar, r.count]),
        WANT.map(([w, p, n]) => [`2026-W${w}`, `${prefix}${w}`, Math.round((p * 100) / n), `${p}/${n}`]));
      assert.doesNotMatch(table, /<script|<img|<svg|class=/, 'only inline styles');
    }
  } finally {
    await s.cleanup();
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
