// updates.js - reading updates from the API in one shape whatever the exact
// field names the server uses (author as an object or flat fields, media
// URLs given or derived from /media/{id}/...), and the update card used by
// the home, person and people pages.
import { h, fmtDuration, avatar } from './dom.js';
import { t } from './i18n.js';

function first(...vals) {
  for (const v of vals) if (v !== undefined && v !== null && v !== '') return v;
  return undefined;
}

// A list out of {updates:[...]}, {items:[...]}, or a bare array.
export function listOf(data, ...keys) {
  if (Array.isArray(data)) return data;
  if (!data || typeof data !== 'object') return [];
  for (const k of [...keys, 'items', 'data', 'results']) if (Array.isArray(data[k])) return data[k];
  return [];
}

export function normalizeUpdate(raw) {
  if (!raw) return null;
  const u = raw.update && typeof raw.update === 'object' ? raw.update : raw;
  const a = u.author && typeof u.author === 'object' ? u.author : {};
  const id = u.id;
  const urls = u.urls || u.media || {};
  const sb = u.storyboard && typeof u.storyboard === 'object' ? u.storyboard : {};
  return {
    raw: u,
    id,
    title: first(u.title, '') || '',
    description: first(u.description, '') || '',
    kind: first(u.kind, 'weekly'),
    status: first(u.status, 'ready'),
    week: first(u.iso_week, u.week),
    duration: first(u.duration, u.duration_seconds),
    width: u.width, height: u.height,
    createdAt: first(u.created_at, u.ready_at),
    progress: first(u.progress, u.job && u.job.progress),
    eta: first(u.eta, u.eta_seconds, u.job && u.job.eta),
    error: first(u.error, u.failure, u.reason, ''),
    authorId: first(u.author_id, a.id, u.user_id),
    authorName: first(u.author_name, a.name, u.name, ''),
    authorTeam: first(u.author_team, a.team, ''),
    watched: 'viewed' in u ? !!u.viewed : first(u.watched, u.seen),
    poster: first(u.poster_url, typeof u.poster === 'string' ? u.poster : undefined, urls.poster, `/media/${id}/poster.jpg`),
    hls: first(u.playback_url, u.hls_url, u.master_url, u.hls, urls.hls, urls.master, `/media/${id}/master.m3u8`),
    storyboard: first(u.storyboard_url, typeof u.storyboard === 'string' ? u.storyboard : undefined, sb.url, sb.vtt, urls.storyboard, `/media/${id}/storyboard.vtt`),
    renditions: Array.isArray(u.renditions) ? u.renditions : [],
    viewsCount: first(u.views_count, u.view_count),
  };
}

// A card in a grid: poster, duration, title, author, unwatched mark. The
// link is the title alone (its name is what it shows); CSS stretches its
// click area over the whole card.
export function updateCard(u, { showAuthor = true, me } = {}) {
  const ready = u.status === 'ready';
  const unwatched = ready && u.watched === false && (!me || me.id !== u.authorId);
  const thumb = h('div.thumb');
  if (ready) {
    const img = h('img', { src: u.poster, alt: '', loading: 'lazy', width: 320, height: 180 });
    img.addEventListener('error', () => img.remove());
    thumb.append(img);
    if (u.duration) thumb.append(h('span.duration', h('span.sr', `${t('update.durationLabel')} `), fmtDuration(u.duration)));
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
      showAuthor ? h('p.card-author', avatar(u.authorName), h('span', u.authorName)) : null));
}
