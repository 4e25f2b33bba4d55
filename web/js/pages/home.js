// pages/home.js - "This week" (/ and /week/2026-W05): the all-hands update
// pinned on top, this week's updates as a grid with an unwatched mark, who
// has not posted yet, a prominent "Record your update", and the week picker
// (previous / next / any week). Administrators also see the first-run
// checklist (GET /api/onboarding) until it is done.
import { h, clear, avatar } from '../dom.js';
import { svgIcon } from '../icons.js';
import { t, tn, locale } from '../i18n.js';
import { api, currentUser, isAdmin } from '../api.js';
import { currentWeek, shiftWeek, weekRange } from '../week.js';
import { updateCard } from '../updates.js';

// The first-run checklist: write the purpose, invite people, record the
// first update, each a link to where it is done and marked when it is.
// Nothing is shown once every step is done (or when it cannot be read:
// the checklist is a help, not the page).
async function checklist() {
  let ob;
  try {
    ob = await api('GET', '/api/onboarding', undefined, { quiet: true });
  } catch {
    return null;
  }
  if (ob.done) return null;
  const steps = [
    ['purpose', ob.purpose_written, '/purpose', 'onboarding.purpose', 'onboarding.purposeHint'],
    ['invite', ob.invited_someone, '/admin#invite', 'onboarding.invite', 'onboarding.inviteHint'],
    ['record', ob.recorded_first_update, '/record', 'onboarding.record', 'onboarding.recordHint'],
  ];
  const done = steps.filter((s) => s[1]).length;
  return h('section.checklist', { id: 'onboarding', 'aria-labelledby': 'onboarding-h' },
    h('h2', { id: 'onboarding-h' }, t('onboarding.title')),
    h('p.sub', t('onboarding.intro'), ' ', h('strong', { id: 'onboarding-progress' }, tn('onboarding.progress', done, { total: steps.length }))),
    h('ol', steps.map(([key, isDone, href, label, hint]) => h(`li.step${isDone ? '.done' : ''}`, { 'data-step': key },
      h('span.step-mark', isDone ? svgIcon('check') : null),
      h('span.step-text', h('a', { href }, t(label)), h('span.sr', ` (${isDone ? t('onboarding.done') : t('onboarding.todo')})`),
        h('span.hint', t(hint)))))));
}

// GET /api/weeks/{week}: {week, allhands, updates, posted, missing}.
function loadWeek(week) {
  return api('GET', `/api/weeks/${encodeURIComponent(week)}`, undefined, { quiet: true });
}

export default async function home(ctx) {
  const me = currentUser();
  const thisWeek = currentWeek(me.time_zone);
  const week = ctx.params[0] || thisWeek;
  const isThis = week === thisWeek;
  ctx.title(isThis ? t('home.title') : t('home.weekTitle', { week }));

  const picker = h('input', { type: 'week', id: 'week-input', value: week, max: thisWeek });
  const weekNav = h('nav.weeknav', { 'aria-label': t('home.weekNav') },
    h('a.btn', { href: `/week/${shiftWeek(week, -1)}`, id: 'prev-week', rel: 'prev' }, `← ${t('home.prevWeek')}`),
    h('form.inline', { id: 'week-form' },
      h('label', { for: 'week-input', class: 'sr' }, t('home.pickWeek')), picker,
      h('button', { type: 'submit' }, t('home.go'))),
    isThis ? null : h('a.btn', { href: `/week/${shiftWeek(week, 1)}`, id: 'next-week', rel: 'next' }, `${t('home.nextWeek')} →`),
    isThis ? null : h('a.btn', { href: '/' }, t('home.backToThisWeek')));
  weekNav.querySelector('form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (/^\d{4}-W\d{2}$/.test(picker.value)) ctx.navigate(picker.value === thisWeek ? '/' : `/week/${picker.value}`);
  });

  const header = h('div.page-head',
    h('div', h('h1', isThis ? t('home.title') : t('home.weekTitle', { week })),
      h('p.sub', `${week} · ${weekRange(week, locale())}`)),
    isThis ? h('div.cta',
      h('a.btn.primary.big', { href: '/record', id: 'record-cta' }, `● ${t('home.record')}`),
      h('a.btn', { href: '/upload' }, t('home.upload'))) : null);
  const body = h('div', h('p', { role: 'status' }, t('loading')));
  ctx.main.append(header, weekNav, body);

  const [data, steps] = await Promise.all([loadWeek(week), isThis && isAdmin() ? checklist() : null]);
  if (!ctx.alive()) return;
  clear(body);
  if (data.allhands.length) {
    body.append(h('section.allhands-section', { 'aria-labelledby': 'allhands-h' },
      h('h2', { id: 'allhands-h' }, svgIcon('pin'), ' ', t('home.allhands')),
      h('ul.grid.grid-pinned', data.allhands.map((u) => updateCard(u, { me })))));
  }
  // Posted this week is what the server says (an all-hands counts too).
  const mine = !data.missing.some((p) => p.id === me.id);
  body.append(h('section', { 'aria-labelledby': 'updates-h' },
    h('h2', { id: 'updates-h' }, tn('home.updates', data.updates.length)),
    data.updates.length
      ? h('ul.grid', { id: 'week-grid' }, data.updates.map((u) => updateCard(u, { me })))
      : h('p.empty', { id: 'week-grid-empty' }, isThis ? t('home.noneYet') : t('home.noneThatWeek'))));
  if (isThis && !mine) body.prepend(h('p.notice.nudge', t('home.yourTurn')));
  if (steps) body.prepend(steps);
  body.append(h('section', { 'aria-labelledby': 'missing-h' },
    h('h2', { id: 'missing-h' }, isThis ? t('home.notYet') : t('home.didNotPost')),
    data.missing.length
      ? h('ul.people-chips', { id: 'not-posted' }, data.missing.map((p) =>
        h('li', avatar(p.name, { url: p.avatar_url }), h('a', { href: `/people/${p.id}` }, p.name), p.team ? h('span.team', p.team) : null)))
      : h('p.empty', { id: 'everyone-posted' }, t('home.everyone'), ' ', svgIcon('celebrate'))));
}
