// pages/watch.js - one update (/watch/{id}): while it is not ready, GET
// /api/updates/{id} about every second, with processing progress and ETA;
// the player as soon as it is playable (its first rendition, "playable
// now, better quality in ~N min"), moved to the full ladder in place once
// it is ready (same time, still playing);
// progress reported with POST /api/updates/{id}/views; the check-in
// answers under the title; comments at a time in the video; reactions;
// who watched, downloads (original, MP4), edit (title, description, kind,
// answers) and delete for the author and admins; trim for the author (over
// the original recording; the new version replaces the one playing when it
// is ready). @mentions are links and the boxes offer them. ?t=SECONDS (or
// #t=) starts the video there.
import { h, clear, fmtDuration, fmtDate, fmtEta, announce, avatar } from '../dom.js';
import { t } from '../i18n.js';
import { api, currentUser, isAdmin, flash } from '../api.js';
import { createPlayer } from '../player.js';
import { svgIcon } from '../icons.js';
import { mentionText, withMentions } from '../mentions.js';
import { trimEditor } from '../trim.js';

const EMOJI = ['👍', '❤️', '🎉', '😂', '🤔', '👏'];

export default async function watch(ctx) {
  const id = ctx.params[0];
  const me = currentUser();
  const sec = h('section.watch', h('p', { role: 'status' }, t('loading')));
  ctx.main.append(sec);
  let u;
  try {
    u = (await api('GET', `/api/updates/${id}`, undefined, { quiet: true })).update;
  } catch (e) {
    clear(sec);
    ctx.title(t('watch.title'));
    if (e.code === 'not_found') sec.append(h('h1', t('watch.notFound')), h('p', h('a', { href: '/' }, t('nav.home'))));
    else sec.append(h('h1', t('watch.title')), h('p.notice.error', e.message));
    return;
  }
  if (!ctx.alive()) return;
  ctx.title(u.title || t('update.untitled'));
  clear(sec);
  const mine = me.id === u.author.id;
  const heading = h('h1', { id: 'watch-title' }, u.title || t('update.untitled'));
  const badge = h('span.badge', { id: 'kind-badge', hidden: u.kind !== 'allhands' }, t('kind.allhands'));
  const answersEl = h('div', { id: 'answers-box' }, answersList(u.answers));
  const descEl = h('div');
  const share = copyLink(id);
  sec.append(heading,
    h('p.byline', avatar(u.author.name, { url: u.author.avatar_url }), h('a', { href: `/people/${u.author.id}` }, u.author.name),
      ` · ${u.iso_week} · ${fmtDate(u.created_at)}`, badge),
    answersEl, share);
  // After an edit: the heading, the kind, the answers and the description.
  const show = (nu) => {
    u = nu;
    heading.textContent = u.title || t('update.untitled');
    ctx.title(u.title || t('update.untitled'));
    badge.hidden = u.kind !== 'allhands';
    answersEl.replaceChildren(answersList(u.answers));
    descEl.replaceChildren(u.description ? mentionText('p.description', u.description) : '');
  };
  const stage = h('div.stage');
  const side = h('div.below');
  sec.append(stage, side);

  // The player and everything beside it, once there is something to play.
  let player = null;
  const open = () => {
    player = createPlayer({ src: u.playback_url, poster: u.poster_url, storyboard: u.storyboard_url });
    ctx.onLeave(() => player.destroy());
    stage.prepend(player.el, h('p.hint.shortcuts', t('player.shortcuts')));
    startAt(player, Number(ctx.query.get('t') || ctx.hash.get('t')));
    show(u);
    side.append(descEl);
    trackViews(ctx, id, player.video);
    side.append(reactions(ctx, id, player), comments(ctx, id, player, me));
    if (mine || isAdmin()) {
      if (u.status === 'ready') share.append(downloads(id));
      side.append(viewers(ctx, id), manage(ctx, id, u, show));
    }
    if (mine && u.status === 'ready') side.append(trimBox(ctx, id, u));
  };
  if (u.status === 'ready' || playableNow(u)) open();
  if (u.status === 'ready') return;
  await follow(ctx, id, stage, (nu) => {
    u = nu;
    if (!player && (u.status === 'ready' || playableNow(u))) open();
    else if (player && u.status === 'ready') {
      player.setSource(u.playback_url, { poster: u.poster_url, storyboard: u.storyboard_url });
      if (mine || isAdmin()) share.append(downloads(id));
      if (mine) side.append(trimBox(ctx, id, u));
    }
  });
}

// The author's trim: the original recording with the trim editor over it;
// Save sends PATCH trim, then the new version's progress until it plays.
function trimBox(ctx, id, u) {
  const video = h('video', { id: 'trim-original', controls: true, playsInline: true, preload: 'metadata',
    src: `/api/updates/${id}/original`, 'aria-label': t('trim.original') });
  const known = u.source_duration || (u.trim ? u.trim.end : u.duration) || 0;
  const editor = trimEditor({ video, length: known, prefix: 'watch', initial: u.trim });
  video.addEventListener('loadedmetadata', () => {
    if (Number.isFinite(video.duration) && video.duration > 0 && !u.source_duration) editor.setLength(video.duration);
  });
  const status = h('p', { id: 'trim-status', role: 'status', 'aria-live': 'polite' });
  const save = h('button.primary', { type: 'submit', id: 'trim-save' }, t('trim.save'));
  const form = h('form.stack', { id: 'trim-form' }, editor.el, h('div.actions', save), status);
  const box = h('details.trim-box', { id: 'trim-box' }, h('summary', t('trim.open')), video, form);
  const follow = async (from) => {
    for (;;) {
      await new Promise((r) => setTimeout(r, 1500));
      if (!ctx.alive()) return;
      let nu;
      try { nu = (await api('GET', `/api/updates/${id}`, undefined, { quiet: true })).update; } catch { continue; }
      if (nu.media_version > from) { ctx.rerender(); return; }
      if (nu.trim_error) { status.textContent = t('trim.failed', { message: nu.trim_error }); save.disabled = false; return; }
      if (nu.trimming) status.textContent = t('trim.working', { progress: nu.trimming.progress });
    }
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = editor.error();
    if (err) { status.textContent = err; return; }
    save.disabled = true;
    try {
      const d = await api('PATCH', `/api/updates/${id}`, { trim: editor.value() });
      status.textContent = t('trim.saved');
      announce(t('trim.saved'));
      follow(d.update.media_version);
    } catch (x) {
      status.textContent = x.message;
      save.disabled = false;
    }
  });
  if (u.trimming) {
    box.open = true;
    status.textContent = t('trim.working', { progress: u.trimming.progress });
    follow(u.media_version);
  }
  return box;
}

// Playable before its ladder is done: its first rendition has a segment.
const playableNow = (u) => u.status !== 'failed' && !!u.playable && !!u.playback_url;

// A link to a moment (?t=SECONDS, as search results give): the video
// starts there once its length is known.
function startAt(player, sec) {
  if (!Number.isFinite(sec) || sec <= 0) return;
  const v = player.video;
  const go = () => player.seekTo(Number.isFinite(v.duration) && v.duration > 0 ? Math.min(sec, v.duration) : sec);
  if (v.readyState >= 1) go();
  else v.addEventListener('loadedmetadata', go, { once: true });
}

// The check-in answers, prompt and text, for a reader to skim.
function answersList(answers) {
  const list = (answers || []).filter((a) => a.text);
  if (!list.length) return '';
  return h('dl.answers', { id: 'answers' }, list.map((a) => [h('dt', a.prompt), mentionText('dd', a.text)]));
}

// The author's and admins' downloads: the file as uploaded, and one MP4.
function downloads(id) {
  return h('span.downloads',
    h('a.btn.download', { href: `/api/updates/${id}/original`, download: '', id: 'download-original' }, t('watch.downloadOriginal')),
    h('a.btn.download', { href: `/api/updates/${id}/download.mp4`, download: '', id: 'download-mp4' }, t('watch.downloadMp4')));
}

// A button that copies the update's address, and says that it did (or
// shows the address to copy by hand where the clipboard is not allowed).
function copyLink(id) {
  const url = `${location.origin}/watch/${id}`;
  const note = h('span.copy-status', { id: 'copy-link-status', role: 'status' });
  const btn = h('button.copy-link', { type: 'button', id: 'copy-link' }, svgIcon('link'), t('watch.copyLink'));
  let timer = null;
  btn.addEventListener('click', async () => {
    clearTimeout(timer);
    try {
      await navigator.clipboard.writeText(url);
      note.replaceChildren(svgIcon('check'), t('watch.linkCopied'));
    } catch {
      const input = h('input', { readonly: true, value: url, 'aria-label': t('watch.linkToCopy'), size: Math.min(url.length, 40) });
      note.replaceChildren(input);
      input.select();
      return;
    }
    timer = setTimeout(() => note.replaceChildren(), 4000);
  });
  return h('div.share', btn, note);
}

// Follow an update that is not ready: GET it about every second until it
// is ready or failed, calling changed(update) after each answer. Shows
// progress and ETA while nothing plays, "playable now, better quality in
// ~N min" while the first rendition plays, nothing once it is ready; and
// while the first rendition is made slower than real time (a 4K video),
// that it may pause, and when it will not (first_slow, playable_eta).
async function follow(ctx, id, stage, changed) {
  const bar = h('progress', { id: 'processing-progress', max: 100, value: 0, 'aria-label': t('watch.processing') });
  const txt = h('p', { id: 'processing-status', role: 'status', 'aria-live': 'polite' });
  const slow = h('p.slow', { id: 'first-slow', role: 'status', 'aria-live': 'polite', hidden: true });
  const heading = h('h2', t('watch.processing'));
  const box = h('div.processing', { id: 'processing' }, heading, bar, txt, slow);
  stage.append(box);
  for (;;) {
    let u;
    try {
      u = (await api('GET', `/api/updates/${id}`, undefined, { quiet: true })).update;
    } catch (e) {
      txt.textContent = e.message;
      await sleep(POLL_MS);
      if (!ctx.alive()) return;
      continue;
    }
    if (!ctx.alive()) return;
    changed(u);
    if (u.status === 'ready') {
      box.remove();
      announce(t('watch.ready'));
      return;
    }
    if (u.status === 'failed') {
      clear(box).append(h('h2', t('watch.failed')), h('p.notice.error', { id: 'processing-error' }, u.error || t('watch.failedUnknown')));
      return;
    }
    // progress is a whole percentage, 0-100; eta seconds or null.
    bar.value = u.progress;
    box.classList.toggle('is-playable', playableNow(u));
    if (playableNow(u)) {
      heading.hidden = true;
      bar.setAttribute('aria-label', t('watch.betterQuality'));
      txt.textContent = betterQuality(u.eta);
    } else {
      heading.hidden = false;
      bar.setAttribute('aria-label', t('watch.processing'));
      txt.textContent = u.status === 'processing'
        ? t('watch.progress', { pct: u.progress, eta: u.eta === null ? t('eta.unknown') : fmtEta(u.eta) })
        : t(`status.${u.status}`);
    }
    const said = u.first_slow ? slowly(u.playable_eta) : '';
    slow.hidden = !said;
    if (slow.textContent !== said) slow.textContent = said;
    await sleep(POLL_MS);
    if (!ctx.alive()) return;
  }
}

// How often a page waiting for an update asks about it.
const POLL_MS = 1000;

// "Playable now, better quality in ~N min" from the ladder's ETA (seconds).
function betterQuality(eta) {
  if (eta === null || eta === undefined || !Number.isFinite(Number(eta))) return t('watch.playableNow');
  if (eta < 60) return t('watch.playableSoon');
  return t('watch.playableEta', { n: Math.max(1, Math.round(eta / 60)) });
}

// "Takes longer than its own length to prepare" and, once the first pass
// has measured its pace, when it plays without pauses (eta in seconds).
function slowly(eta) {
  if (eta === null || eta === undefined || !Number.isFinite(Number(eta))) return t('watch.slow');
  if (eta < 60) return t('watch.slowSoon');
  return t('watch.slowEta', { n: Math.max(1, Math.ceil(eta / 60)) });
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Report the furthest position watched: every 10 s of playing, on pause,
// at the end and when leaving the page.
function trackViews(ctx, id, video) {
  let furthest = 0;
  let sent = -1;
  let disabled = false;
  const send = () => {
    if (disabled || furthest <= sent + 0.5) return;
    sent = furthest;
    api('POST', `/api/updates/${id}/views`, { position: Math.round(furthest * 10) / 10 }, { quiet: true })
      .catch((e) => { if (e.code === 'not_found') disabled = true; });
  };
  video.addEventListener('timeupdate', () => { furthest = Math.max(furthest, video.currentTime); });
  video.addEventListener('pause', send);
  video.addEventListener('ended', () => { furthest = video.duration || furthest; send(); });
  video.addEventListener('play', () => { if (sent < 0) { sent = -0.6; furthest = Math.max(furthest, 0.01); send(); } });
  const timer = setInterval(() => { if (!video.paused) send(); }, 10000);
  ctx.onLeave(() => { clearInterval(timer); send(); });
}

function reactions(ctx, id, player) {
  const box = h('div.reactions', { role: 'group', 'aria-label': t('watch.reactions'), id: 'reactions' });
  let list = [];
  const me = currentUser();
  const render = () => {
    clear(box);
    for (const e of EMOJI) {
      const rs = list.filter((r) => r.emoji === e);
      const count = rs.length;
      const minee = rs.find((r) => r.user.id === me.id);
      const b = h('button.react', { type: 'button', 'aria-pressed': String(!!minee) },
        h('span.sr', `${t('watch.reactWith')} `), e, count ? h('span.count', String(count)) : null);
      b.addEventListener('click', async () => {
        try {
          if (minee) await api('DELETE', `/api/reactions/${minee.id}`);
          else await api('POST', `/api/updates/${id}/reactions`, { emoji: e, at_seconds: Math.round(player.video.currentTime * 10) / 10 });
          await load();
        } catch { /* shown */ }
      });
      box.append(b);
    }
  };
  const load = async () => {
    try {
      list = (await api('GET', `/api/updates/${id}/reactions`, undefined, { quiet: true })).reactions;
    } catch { return; }
    if (ctx.alive()) render();
  };
  render();
  load();
  return box;
}

function comments(ctx, id, player, me) {
  const listEl = h('ol.comments', { id: 'comments' });
  const body = h('textarea', { id: 'comment-body', rows: 2, maxlength: 4000, required: true });
  const bodyBox = withMentions(body);
  const atTime = h('input', { type: 'checkbox', id: 'comment-at', checked: true });
  const atLabel = h('label', { for: 'comment-at' });
  const updLabel = () => { atLabel.textContent = t('watch.commentAt', { time: fmtDuration(player.video.currentTime) }); };
  player.video.addEventListener('timeupdate', updLabel);
  updLabel();
  const form = h('form.stack.comment-form', { id: 'comment-form' },
    h('label', { for: 'comment-body' }, t('watch.addComment')), bodyBox,
    h('div.row', atTime, atLabel), h('div.actions', h('button.primary', { type: 'submit' }, t('watch.post'))));
  const sectionEl = h('section.comments-section', { 'aria-labelledby': 'comments-h' },
    h('h2', { id: 'comments-h' }, t('watch.comments')), listEl, form);

  const load = async () => {
    let list;
    try {
      list = (await api('GET', `/api/updates/${id}/comments`, undefined, { quiet: true })).comments;
    } catch (e) {
      clear(listEl).append(h('li.empty', e.message));
      return;
    }
    if (!ctx.alive()) return;
    clear(listEl);
    if (!list.length) listEl.append(h('li.empty', t('watch.noComments')));
    for (const c of list) {
      const who = c.user.name;
      const at = c.at_seconds !== null && c.at_seconds !== undefined
        ? h('button.link.at', { type: 'button', 'aria-label': t('watch.jumpTo', { time: fmtDuration(c.at_seconds) }),
          onclick: () => { player.seekTo(Number(c.at_seconds)); player.el.focus(); } }, fmtDuration(c.at_seconds))
        : null;
      const del = c.user.id === me.id || isAdmin()
        ? h('button.link.danger', { type: 'button', onclick: async () => {
          try { await api('DELETE', `/api/comments/${c.id}`); load(); } catch { /* shown */ }
        } }, t('watch.delete'))
        : null;
      listEl.append(h('li.comment', { id: `comment-${c.id}`, tabindex: '-1' },
        h('p.meta', at, ' ', h('strong', who), ' ', h('span.when', fmtDate(c.created_at)), ' ', del),
        mentionText('p.text', c.body)));
    }
    showLinkedComment();
  };
  // A link to one comment (/watch/ID#comment-N, as the comment mail sends):
  // once the comments are there, bring it into view and mark it.
  let linkedShown = false;
  const showLinkedComment = () => {
    const m = /^#comment-(\d+)$/.exec(location.hash);
    if (linkedShown || !m) return;
    const el = document.getElementById(`comment-${m[1]}`);
    if (!el) return;
    linkedShown = true;
    el.classList.add('is-linked');
    el.scrollIntoView({ block: 'center' });
    el.focus({ preventScroll: true });
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!body.value.trim()) return;
    const payload = { body: body.value.trim() };
    if (atTime.checked) payload.at_seconds = Math.round(player.video.currentTime * 10) / 10;
    try {
      await api('POST', `/api/updates/${id}/comments`, payload);
      body.value = '';
      announce(t('watch.commentPosted'));
      load();
    } catch { /* shown */ }
  });
  load();
  return sectionEl;
}

function viewers(ctx, id) {
  const box = h('section.viewers', { 'aria-labelledby': 'viewers-h' }, h('h2', { id: 'viewers-h' }, t('watch.whoWatched')));
  const ul = h('ul.viewer-list', { id: 'viewers' });
  box.append(ul);
  api('GET', `/api/updates/${id}/views`, undefined, { quiet: true }).then((d) => {
    if (!ctx.alive()) return;
    const list = d.views;
    if (!list.length) ul.append(h('li.empty', t('watch.noViewers')));
    for (const v of list) {
      const name = v.user.name;
      ul.append(h('li', h('strong', name), ' — ',
        v.completed ? t('watch.completed') : t('watch.watchedUpTo', { time: fmtDuration(v.position) })));
    }
  }).catch((e) => { ul.append(h('li.empty', e.message)); });
  return box;
}

function manage(ctx, id, u, show) {
  const title = h('input', { id: 'edit-title', value: u.title, maxlength: 200 });
  const desc = h('textarea', { id: 'edit-description', rows: 3 });
  desc.value = u.description;
  // The kind: an admin chooses; an author who is not may only turn an
  // all-hands (made so by an admin) back into a weekly update.
  const kind = isAdmin() || u.kind === 'allhands'
    ? h('select', { id: 'edit-kind' },
      h('option', { value: 'weekly', selected: u.kind === 'weekly' }, t('kind.weekly')),
      h('option', { value: 'allhands', selected: u.kind === 'allhands', disabled: !isAdmin() && u.kind !== 'allhands' }, t('kind.allhands')))
    : null;
  const answersBox = h('fieldset.edit-answers', { id: 'edit-answers', hidden: true }, h('legend', t('checkin.answers')));
  const fields = [];
  const answers = () => fields.map((f) => ({ prompt: f.prompt, text: f.box.value.trim() })).filter((a) => a.text);
  const given = () => (u.answers || []).filter((a) => a.text).map((a) => ({ prompt: a.prompt, text: a.text }));
  api('GET', '/api/prompts', undefined, { quiet: true }).catch(() => ({ prompts: [] })).then((d) => {
    if (!ctx.alive()) return;
    const prompts = [...(d.prompts || [])];
    for (const a of given()) if (!prompts.includes(a.prompt)) prompts.push(a.prompt);
    prompts.forEach((prompt, i) => {
      const box = h('textarea', { id: `edit-answer-${i}`, rows: 2, maxlength: 1000 });
      box.value = (given().find((a) => a.prompt === prompt) || { text: '' }).text;
      fields.push({ prompt, box });
      answersBox.append(h('div.field', h('label', { for: box.id }, prompt), withMentions(box)));
    });
    answersBox.hidden = !prompts.length;
  });
  const form = h('form.stack', { id: 'edit-form' },
    h('label', { for: 'edit-title' }, t('field.title')), title,
    h('label', { for: 'edit-description' }, t('field.description')), withMentions(desc),
    kind ? [h('label', { for: 'edit-kind' }, t('field.kind')), kind] : null,
    answersBox,
    h('div.actions', h('button', { type: 'submit' }, t('form.save')),
      h('button.danger', { type: 'button', id: 'delete-update', onclick: async () => {
        if (!confirm(t('watch.confirmDelete'))) return;
        try { await api('DELETE', `/api/updates/${id}`); ctx.navigate('/'); } catch { /* shown */ }
      } }, t('watch.deleteUpdate'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { title: title.value.trim(), description: desc.value };
    if (kind && kind.value !== u.kind) body.kind = kind.value;
    const now = answers();
    if (now.some((a) => new TextEncoder().encode(a.text).length > 1000)) { flash(t('checkin.tooLong')); return; }
    if (fields.length && JSON.stringify(now) !== JSON.stringify(given())) body.answers = now;
    try {
      const d = await api('PATCH', `/api/updates/${id}`, body);
      u = d.update;
      show(u);
      if (kind) kind.value = u.kind;
      flash(t('form.saved'), 'ok');
    } catch { /* shown */ }
  });
  return h('details.manage', h('summary', t('watch.edit')), form);
}
