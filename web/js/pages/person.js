// pages/person.js - one person (/people/{id}): who they are, their streak
// of consecutive weeks with an update, and their updates grouped by week.
import { h, append, avatar } from '../dom.js';
import { svgIcon } from '../icons.js';
import { t, tn } from '../i18n.js';
import { api, currentUser, isMissing } from '../api.js';
import { listOf, normalizeUpdate, updateCard } from '../updates.js';
import { currentWeek, shiftWeek } from '../week.js';

// Weeks in a row with an update, ending this week (or last week, so the
// streak is not broken before one has had a chance to post).
export function streak(weeks, thisWeek) {
  const set = new Set(weeks);
  let w = set.has(thisWeek) ? thisWeek : shiftWeek(thisWeek, -1);
  let n = 0;
  while (set.has(w)) { n++; w = shiftWeek(w, -1); }
  return n;
}

export default async function person(ctx) {
  const id = Number(ctx.params[0]);
  const me = currentUser();
  const people = listOf(await api('GET', '/api/people', undefined, { quiet: true }), 'people');
  if (!ctx.alive()) return;
  const p = people.find((x) => x.id === id);
  if (!p) {
    ctx.title(t('person.notFound'));
    ctx.main.append(h('h1', t('person.notFound')));
    return;
  }
  ctx.title(p.name);
  append(ctx.main, [h('div.person-head', avatar(p.name, { big: true }), h('div', h('h1', p.name),
    h('p.sub', [p.title, p.team].filter(Boolean).join(' · ')))),
    p.deactivated ? h('p.badge', t('people.deactivated')) : null]);
  const body = h('div', h('p', { role: 'status' }, t('loading')));
  ctx.main.append(body);
  let list;
  try {
    list = listOf(await api('GET', `/api/updates?author=${id}&per_page=200`, undefined, { quiet: true }), 'updates').map(normalizeUpdate);
  } catch (e) {
    body.replaceChildren(h('p.notice', { id: 'api-missing' }, isMissing(e) ? t('person.apiMissing') : e.message));
    return;
  }
  if (!ctx.alive()) return;
  const weeks = [...new Set(list.map((u) => u.week).filter(Boolean))].sort().reverse();
  const s = streak(weeks, currentWeek(me.time_zone));
  body.replaceChildren(h('p.streak', { id: 'streak' }, svgIcon('flame'), ' ', tn('person.streak', s)));
  if (!list.length) body.append(h('p.empty', t('person.none')));
  for (const w of weeks) {
    body.append(h('section', h('h2', h('a', { href: `/week/${w}` }, w)),
      h('ul.grid', list.filter((u) => u.week === w).map((u) => updateCard(u, { showAuthor: false, me })))));
  }
}
