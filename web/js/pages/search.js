// pages/search.js - search results (/search?q=WORDS, from the search box
// in the header): GET /api/search, one entry per match with its update's
// title, author and week, the matching text with the words marked, and a
// link that opens the watch page at the comment's time when a comment
// matched. Server text only ever goes in as text nodes.
import { h, avatar, fmtDuration } from '../dom.js';
import { t, tn } from '../i18n.js';
import { api } from '../api.js';
import { fold } from '../mentions.js';

export default async function search(ctx) {
  const q = (ctx.query.get('q') || '').trim();
  ctx.title(q ? t('search.titleFor', { q }) : t('search.title'));
  ctx.main.append(h('h1', t('search.title')));
  if (!q) {
    ctx.main.append(h('p', { id: 'search-status' }, t('search.empty')));
    return;
  }
  const status = h('p', { id: 'search-status', role: 'status' }, t('loading'));
  const list = h('ol.results', { id: 'search-results' });
  ctx.main.append(h('p.sub', t('search.for', { q })), status, list);
  let results;
  try {
    results = (await api('GET', `/api/search?q=${encodeURIComponent(q)}`, undefined, { quiet: true })).results;
  } catch (e) {
    status.textContent = e.message;
    status.className = 'notice error';
    return;
  }
  if (!ctx.alive()) return;
  status.textContent = results.length ? tn('search.count', results.length) : t('search.none', { q });
  for (const r of results) list.append(result(r, q));
}

// Where a result leads: the update, at the comment's time and to the
// comment when a comment matched.
export function resultHref(r) {
  const at = r.at_seconds === null || r.at_seconds === undefined ? null : Number(r.at_seconds);
  let href = `/watch/${r.update.id}`;
  if (at !== null && Number.isFinite(at)) href += `?t=${Math.floor(at * 10) / 10}`;
  if (r.comment_id) href += `#comment-${r.comment_id}`;
  return href;
}

function result(r, q) {
  const u = r.update;
  const at = r.at_seconds === null || r.at_seconds === undefined ? null : Number(r.at_seconds);
  const where = r.comment_id || at !== null
    ? h('span.result-where', at !== null ? t('search.commentAt', { time: fmtDuration(at) }) : t('search.inComment'))
    : null;
  return h('li.result', { dataset: { updateId: String(u.id) } },
    h('h2.result-title', h('a.result-link', { href: resultHref(r) }, u.title || t('update.untitled'))),
    h('p.result-meta', avatar(u.author.name, { url: u.author.avatar_url }), h('span', u.author.name), ` · ${u.iso_week}`,
      u.kind === 'allhands' ? h('span.badge', t('kind.allhands')) : null, where ? [' · ', where] : null),
    h('p.result-snippet', marked(r, q)));
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'', '#39': '\'' };

// The snippet with the matching words in <mark>, as nodes. snippet_html
// (escaped text and <mark> tags) is read by hand, never parsed as HTML;
// without it, the words of the query are marked in the plain snippet.
function marked(r, q) {
  if (typeof r.snippet_html === 'string') {
    const out = [];
    let inMark = false;
    for (const part of r.snippet_html.split(/(<mark>|<\/mark>)/)) {
      if (part === '<mark>') { inMark = true; continue; }
      if (part === '</mark>') { inMark = false; continue; }
      if (!part) continue;
      const text = part.replace(/&(amp|lt|gt|quot|apos|#39);/g, (m, k) => ENTITIES[k]);
      out.push(inMark ? h('mark', text) : text);
    }
    return out;
  }
  const words = q.split(/\s+/).map(fold).filter(Boolean);
  const text = String(r.snippet || '');
  const out = [];
  let at = 0;
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const f = fold(m[0]);
    if (!words.some((w) => f.startsWith(w))) continue;
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(h('mark', m[0]));
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
