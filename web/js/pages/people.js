// pages/people.js - the directory: everyone's name, title, team and their
// latest update, filterable by a search box.
import { h, clear, avatar } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';

export default async function people(ctx) {
  ctx.title(t('people.title'));
  const q = h('input', { type: 'search', id: 'people-filter', autocomplete: 'off' });
  const list = h('ul.directory', { id: 'directory' });
  ctx.main.append(h('h1', t('people.title')),
    h('div.field.inline', h('label', { for: 'people-filter' }, t('people.filter')), q), list);
  const all = (await api('GET', '/api/people', undefined, { quiet: true })).people;
  if (!ctx.alive()) return;
  const render = () => {
    clear(list);
    const needle = q.value.trim().toLowerCase();
    const shown = all.filter((p) => !needle || [p.name, p.title, p.team, p.email].some((s) => (s || '').toLowerCase().includes(needle)));
    if (!shown.length) list.append(h('li.empty', t('people.none')));
    for (const p of shown) {
      list.append(h('li.person' + (p.deactivated ? '.inactive' : ''),
        h('span.person-line', avatar(p.name, { url: p.avatar_url }), h('a.person-name', { href: `/people/${p.id}` }, p.name)),
        h('span.person-title', [p.title, p.team].filter(Boolean).join(' · ')),
        p.deactivated ? h('span.badge', t('people.deactivated')) : null,
        p.latest_update
          ? h('a.latest', { href: `/watch/${p.latest_update}` }, t('people.latest', { week: p.latest_week || '' }))
          : h('span.latest.none', t('people.noUpdate'))));
    }
  };
  q.addEventListener('input', render);
  render();
}
