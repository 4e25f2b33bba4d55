// week.js - ISO 8601 weeks ("2026-W05") in the person's time zone, and
// moving between them; the server files every update under such a week.

function isoWeekOfUTCDate(d) {
  const date = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - day);
  const year = date.getUTCFullYear();
  const week = Math.ceil(((date - Date.UTC(year, 0, 1)) / 86400000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

// The current ISO week where the person lives (falls back to the browser's zone).
export function currentWeek(timeZone) {
  let y, m, d;
  try {
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timeZone || undefined, year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(new Date());
    const get = (k) => Number(parts.find((p) => p.type === k).value);
    [y, m, d] = [get('year'), get('month'), get('day')];
  } catch {
    const n = new Date();
    [y, m, d] = [n.getFullYear(), n.getMonth() + 1, n.getDate()];
  }
  return isoWeekOfUTCDate(new Date(Date.UTC(y, m - 1, d)));
}

// Monday of an ISO week, as a UTC Date.
export function weekMonday(week) {
  const m = /^(\d{4})-W(\d{2})$/.exec(week);
  if (!m) return null;
  const jan4 = new Date(Date.UTC(Number(m[1]), 0, 4));
  const day = jan4.getUTCDay() || 7;
  const monday = new Date(jan4);
  monday.setUTCDate(jan4.getUTCDate() - day + 1 + (Number(m[2]) - 1) * 7);
  return monday;
}

export function shiftWeek(week, n) {
  const mon = weekMonday(week);
  mon.setUTCDate(mon.getUTCDate() + 7 * n);
  return isoWeekOfUTCDate(mon);
}

// "Feb 2 – Feb 8" in the interface language.
export function weekRange(week, locale) {
  const mon = weekMonday(week);
  if (!mon) return '';
  const sun = new Date(mon);
  sun.setUTCDate(mon.getUTCDate() + 6);
  const f = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  return `${f.format(mon)} – ${f.format(sun)}`;
}

export function compareWeeks(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
