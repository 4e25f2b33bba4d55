// updates.js - the update card used by the home and person pages. It reads
// an update exactly as the API documents it (README, "An update is ..."):
// author as an object, media URLs given by the server, `viewed` null until
// the reader has watched.
import { h, fmtDuration, avatar } from './dom.js';
import { t } from './i18n.js';

// A card in a grid: poster, duration, title, author, the first check-in
// answer (to skim before watching), unwatched mark; an update that can be
// watched before its ladder is done says "playable now". The
// link is the title alone (its name is what it shows); CSS stretches its
// click area over the whole card.
export function updateCard(u, { showAuthor = true, me } = {}) {
  const ready = u.status === 'ready';
  const playable = !ready && u.status !== 'failed' && !!u.playable;
  const unwatched = (ready || playable) && !u.viewed && (!me || me.id !== u.author.id);
  const thumb = h('div.thumb');
  if (ready) {
    const img = h('img', { src: u.poster_url, alt: '', loading: 'lazy', width: 320, height: 180 });
    img.addEventListener('error', () => img.remove());
    thumb.append(img);
    if (u.duration) thumb.append(h('span.duration', h('span.sr', `${t('update.durationLabel')} `), fmtDuration(u.duration)));
  } else if (playable) {
    thumb.append(h('span.status-chip.is-playable', t('status.playable')));
  } else {
    thumb.append(h('span.status-chip', t(`status.${u.status}`)));
  }
  if (unwatched) thumb.append(h('span.unwatched', { 'aria-hidden': 'true' }, t('update.unwatched')));
  return h('li.card' + (u.kind === 'allhands' ? '.allhands' : '') + (unwatched ? '.is-unwatched' : ''),
    { dataset: { updateId: String(u.id) } },
    thumb,
    h('div.card-body',
      h('h3.card-title', h('a.card-link', { href: `/watch/${u.id}` }, u.title || t('update.untitled'),
        unwatched ? h('span.sr', ` (${t('update.unwatched')})`) : null)),
      showAuthor ? h('p.card-author', avatar(u.author.name, { url: u.author.avatar_url }), h('span', u.author.name)) : null,
      firstAnswer(u)));
}

function firstAnswer(u) {
  const a = (u.answers || []).find((x) => x.text);
  return a ? h('p.card-answer', h('span.card-prompt', `${a.prompt} `), a.text) : null;
}
