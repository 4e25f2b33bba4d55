// pages/person.js - one person (/people/{id}): who they are, their streak
// of consecutive weeks with an update (from /api/people/{id}/stats), the
// weeks they posted in over the last twelve as a chart, the kudos they
// received (@mentions, from /api/people/{id}/kudos), and their updates
// grouped by week.
import { h, append, avatar, fmtDate } from '../dom.js';
import { svgIcon } from '../icons.js';
import { t, tn } from '../i18n.js';
import { api, currentUser } from '../api.js';
import { updateCard } from '../updates.js';
import { shiftWeek } from '../week.js';
import { weeksChart, shortWeek } from '../charts.js';
import { mentionText } from '../mentions.js';

const CHART_WEEKS = 12;

export default async function person(ctx) {
  const id = Number(ctx.params[0]);
  const me = currentUser();
  const people = (await api('GET', '/api/people', undefined, { quiet: true })).people;
  if (!ctx.alive()) return;
  const p = people.find((x) => x.id === id);
  if (!p) {
    ctx.title(t('person.notFound'));
    ctx.main.append(h('h1', t('person.notFound')));
    return;
  }
  ctx.title(p.name);
  append(ctx.main, [h('div.person-head', avatar(p.name, { big: true, url: p.avatar_url }), h('div', h('h1', p.name),
    h('p.sub', [p.title, p.team].filter(Boolean).join(' · ')))),
    p.deactivated ? h('p.badge', t('people.deactivated')) : null]);
  const body = h('div', h('p', { role: 'status' }, t('loading')));
  ctx.main.append(body);
  let stats;
  let list;
  let kudos;
  try {
    // stats: {streak, current_week, weeks: [{week, updates: [id]}]} (newest first)
    [stats, list, kudos] = await Promise.all([
      api('GET', `/api/people/${id}/stats`, undefined, { quiet: true }),
      api('GET', `/api/updates?author=${id}&limit=200`, undefined, { quiet: true }).then((d) => d.updates),
      api('GET', `/api/people/${id}/kudos`, undefined, { quiet: true }).then((d) => d.kudos),
    ]);
  } catch (e) {
    body.replaceChildren(h('p.notice.error', e.message));
    return;
  }
  if (!ctx.alive()) return;
  const posted = new Set(stats.weeks.map((w) => w.week));
  const recent = [];
  for (let k = CHART_WEEKS - 1; k >= 0; k--) {
    const w = shiftWeek(stats.current_week, -k);
    recent.push({ label: shortWeek(w), on: posted.has(w) });
  }
  body.replaceChildren(h('p.streak', { id: 'streak' }, svgIcon('flame'), ' ', tn('person.streak', stats.streak)),
    weeksChart({ id: 'person-weeks', caption: tn('person.weeksPosted', recent.filter((w) => w.on).length, { total: CHART_WEEKS }),
      weeks: recent, yes: t('person.posted'), no: t('person.notPosted') }),
    kudosSection(kudos));
  if (!list.length) body.append(h('p.empty', t('person.none')));
  const weeks = [...new Set(list.map((u) => u.iso_week))].sort().reverse();
  for (const w of weeks) {
    body.append(h('section', h('h2', h('a', { href: `/week/${w}` }, w)),
      h('ul.grid', list.filter((u) => u.iso_week === w).map((u) => updateCard(u, { showAuthor: false, me })))));
  }
}

// The mentions this person received, newest first: who, where (a link to
// the update, or to the comment), and the words around the mention.
function kudosSection(kudos) {
  const ul = h('ul.kudos', { id: 'kudos' });
  if (!kudos.length) ul.append(h('li.empty', t('kudos.none')));
  for (const k of kudos) {
    const href = `/watch/${k.update_id}${k.comment_id ? `#comment-${k.comment_id}` : ''}`;
    const title = k.title || t('update.untitled');
    ul.append(h('li.kudo', { dataset: { updateId: String(k.update_id) } },
      h('p.kudo-meta', avatar(k.by.name),
        h('span', t(k.comment_id ? 'kudos.inComment' : 'kudos.inUpdate', { name: k.by.name }), ' ',
          h('a', { href }, title), k.kind === 'allhands' ? h('span.badge', t('kind.allhands')) : null),
        ' ', h('span.when', fmtDate(k.at))),
      mentionText('blockquote.kudo-text', k.excerpt)));
  }
  return h('section.kudos-section', { 'aria-labelledby': 'kudos-h' }, h('h2', { id: 'kudos-h' }, t('kudos.title')), ul);
}
