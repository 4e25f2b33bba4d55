// player.js - the video player of the watch page: hls.js (or native HLS in
// Safari) on a <video>, our own accessible controls (play, seek bar with
// storyboard previews, time, mute, volume, speed 1x-2x, quality, full
// screen) and the keyboard shortcuts: space/k play-pause, j/l -/+10 s,
// f full screen, m mute, "," and "." slower/faster. The source can change
// under a playing viewer (setSource): an update watched while its ladder
// is still being made starts on its first rendition (an EVENT playlist
// that grows, played from its beginning, never from its live edge) and
// moves to the master playlist at the same time, still playing.
import { h, fmtDuration, loadScript, HLS_SRC } from './dom.js';
import { t } from './i18n.js';

export const SPEEDS = [1, 1.25, 1.5, 2];

// Control icons drawn as SVG (no emoji font needed), hidden from screen
// readers: the buttons carry their names in aria-label.
const PATHS = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zM14 5h4v14h-4z',
  volume: 'M4 9v6h4l5 4V5L8 9zm12.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4z',
  muted: 'M4 9v6h4l5 4V5L8 9zm12 .4 1.4-1.4 2.1 2.1 2.1-2.1 1.4 1.4-2.1 2.1 2.1 2.1-1.4 1.4-2.1-2.1-2.1 2.1-1.4-1.4 2.1-2.1z',
  full: 'M4 4h6v2H6v4H4zm10 0h6v6h-2V6h-4zM4 14h2v4h4v2H4zm14 0h2v6h-6v-2h4z',
};
function icon(name) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '20');
  svg.setAttribute('height', '20');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const p = document.createElementNS(NS, 'path');
  p.setAttribute('d', PATHS[name]);
  p.setAttribute('fill', 'currentColor');
  svg.append(p);
  return svg;
}
function setIcon(btn, name) {
  if (btn.dataset.icon === name) return;
  btn.dataset.icon = name;
  btn.replaceChildren(icon(name));
}

// Parse a WebVTT storyboard: [{start, end, url, x, y, w, h}].
export function parseStoryboard(text, baseUrl) {
  const toSec = (s) => {
    const p = s.trim().split(':').map(Number);
    return p.length === 3 ? p[0] * 3600 + p[1] * 60 + p[2] : p[0] * 60 + p[1];
  };
  const cues = [];
  const blocks = text.replace(/\r/g, '').split(/\n\n+/);
  for (const b of blocks) {
    const lines = b.split('\n').filter(Boolean);
    const i = lines.findIndex((l) => l.includes('-->'));
    if (i < 0 || !lines[i + 1]) continue;
    const [a, z] = lines[i].split('-->');
    const ref = lines[i + 1].trim();
    const m = /^(.*?)(?:#xywh=(\d+),(\d+),(\d+),(\d+))?$/.exec(ref);
    cues.push({
      start: toSec(a), end: toSec(z.split(' ').filter(Boolean)[0]),
      url: new URL(m[1], baseUrl).href,
      x: Number(m[2] || 0), y: Number(m[3] || 0), w: Number(m[4] || 160), h: Number(m[5] || 90),
    });
  }
  return cues;
}

// createPlayer({src, poster, storyboard, onError}) -> {el, video, seekTo,
// setSource, source, destroy}
export function createPlayer({ src, poster, storyboard, onError }) {
  const video = h('video', { id: 'video', poster, preload: 'metadata', playsInline: true, tabindex: '-1' });
  video.setAttribute('playsinline', '');
  const err = h('p.player-error', { id: 'player-error', role: 'alert', hidden: true });
  const play = h('button.pbtn', { type: 'button', id: 'btn-play', 'aria-label': t('player.play') }, icon('play'));
  const seek = h('input.seek', { type: 'range', id: 'seek', min: 0, max: 0, step: 0.1, value: 0, 'aria-label': t('player.seek') });
  const time = h('span.time', { id: 'time' }, '0:00 / 0:00');
  const mute = h('button.pbtn', { type: 'button', id: 'btn-mute', 'aria-label': t('player.mute'), 'aria-pressed': 'false' }, icon('volume'));
  const vol = h('input.vol', { type: 'range', min: 0, max: 1, step: 0.05, value: 1, 'aria-label': t('player.volume') });
  const speed = h('select', { id: 'speed', 'aria-label': t('player.speed') },
    SPEEDS.map((s) => h('option', { value: String(s) }, `${s}×`)));
  const quality = h('select', { id: 'quality', 'aria-label': t('player.quality') }, h('option', { value: '-1' }, t('player.auto')));
  const full = h('button.pbtn', { type: 'button', id: 'btn-full', 'aria-label': t('player.fullscreen') }, icon('full'));
  const preview = h('div.sb-preview', { hidden: true, 'aria-hidden': 'true' }, h('div.sb-img'), h('span.sb-time'));
  const bar = h('div.controls', play, h('div.seekwrap', seek, preview), time, mute, vol,
    h('label.ctl', h('span.sr', t('player.speed')), speed), h('label.ctl', h('span.sr', t('player.quality')), quality), full);
  const el = h('div.player', { id: 'player', tabindex: '0', role: 'region', 'aria-label': t('player.label'),
    'aria-keyshortcuts': 'Space k j l f m , .' }, h('div.video-box', video), err, bar);

  let hls = null;
  let recovered = false;
  let cues = [];

  function fail(message) {
    err.hidden = false;
    err.textContent = t('player.error', { message });
    video.dataset.error = message;
    if (onError) onError(message);
  }

  function update() {
    const d = Number.isFinite(video.duration) ? video.duration : 0;
    seek.max = String(d);
    if (!seek.matches(':active')) seek.value = String(video.currentTime);
    time.textContent = `${fmtDuration(video.currentTime)} / ${fmtDuration(d)}`;
    seek.setAttribute('aria-valuetext', time.textContent);
    setIcon(play, video.paused ? 'play' : 'pause');
    play.setAttribute('aria-label', video.paused ? t('player.play') : t('player.pause'));
    setIcon(mute, video.muted || video.volume === 0 ? 'muted' : 'volume');
    mute.setAttribute('aria-pressed', String(video.muted));
  }
  for (const ev of ['timeupdate', 'durationchange', 'play', 'pause', 'volumechange', 'loadedmetadata']) video.addEventListener(ev, update);
  video.addEventListener('ratechange', () => { speed.value = String(video.playbackRate); });

  const toggle = () => (video.paused ? video.play().catch((e) => { if (e.name !== 'AbortError') fail(e.message); }) : video.pause());
  const skip = (d) => { video.currentTime = Math.max(0, Math.min((video.duration || 0), video.currentTime + d)); };
  const setSpeed = (dir) => {
    const i = SPEEDS.indexOf(video.playbackRate);
    const n = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 0 : i) + dir))];
    video.playbackRate = n;
  };
  const fullscreen = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else if (el.requestFullscreen) el.requestFullscreen().catch(() => {});
    else if (video.webkitEnterFullscreen) video.webkitEnterFullscreen();
  };
  play.addEventListener('click', toggle);
  video.addEventListener('click', toggle);
  seek.addEventListener('input', () => { video.currentTime = Number(seek.value); });
  mute.addEventListener('click', () => { video.muted = !video.muted; });
  vol.addEventListener('input', () => { video.volume = Number(vol.value); video.muted = false; });
  speed.addEventListener('change', () => { video.playbackRate = Number(speed.value); });
  quality.addEventListener('change', () => { if (hls) hls.currentLevel = Number(quality.value); });
  full.addEventListener('click', fullscreen);
  video.addEventListener('error', () => {
    if (!hls && video.error) fail(video.error.message || `media error ${video.error.code}`);
  });

  function onKey(e) {
    const tag = e.target && e.target.tagName;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (tag === 'INPUT' && e.target.type !== 'range') return;
    if (tag === 'TEXTAREA' || tag === 'SELECT' || (e.target && e.target.isContentEditable)) return;
    const k = e.key;
    if ((k === ' ' && tag !== 'BUTTON') || k === 'k' || k === 'K') toggle();
    else if (k === 'j' || k === 'J') skip(-10);
    else if (k === 'l' || k === 'L') skip(10);
    else if (k === 'f' || k === 'F') fullscreen();
    else if (k === 'm' || k === 'M') video.muted = !video.muted;
    else if (k === ',' || k === '<') setSpeed(-1);
    else if (k === '.' || k === '>') setSpeed(1);
    else return;
    e.preventDefault();
  }
  document.addEventListener('keydown', onKey);

  // Storyboard previews over the seek bar.
  function showPreview(e) {
    const d = video.duration;
    if (!cues.length || !Number.isFinite(d) || d <= 0) return;
    const r = seek.getBoundingClientRect();
    const frac = Math.max(0, Math.min(1, (e.clientX - r.left) / r.width));
    const at = frac * d;
    const c = cues.find((q) => at >= q.start && at < q.end) || cues[cues.length - 1];
    const img = preview.firstChild;
    img.style.width = `${c.w}px`;
    img.style.height = `${c.h}px`;
    img.style.backgroundImage = `url("${c.url}")`;
    img.style.backgroundPosition = `-${c.x}px -${c.y}px`;
    preview.lastChild.textContent = fmtDuration(at);
    preview.style.left = `${Math.max(0, Math.min(r.width - c.w, frac * r.width - c.w / 2))}px`;
    preview.hidden = false;
  }
  seek.addEventListener('pointermove', showPreview);
  seek.addEventListener('pointerleave', () => { preview.hidden = true; });
  function loadStoryboard(url) {
    if (!url) return;
    fetch(url, { credentials: 'same-origin' }).then((r) => (r.ok ? r.text() : '')).then((txt) => {
      if (txt.startsWith('WEBVTT')) cues = parseStoryboard(txt, new URL(url, location.href).href);
      el.dataset.storyboard = String(cues.length);
    }).catch(() => {});
  }
  loadStoryboard(storyboard);

  // Play `url` from `start` seconds (0: the beginning, also for a playlist
  // that is still growing). resume: start playing once it can.
  async function attach(url, start, resume) {
    try { await loadScript(HLS_SRC); } catch { /* fall back to native */ }
    if (url !== current || destroyed) return;
    const Hls = window.Hls;
    recovered = false;
    if (Hls && Hls.isSupported()) {
      // An EVENT playlist (the first rendition, while the ladder is made)
      // is live to hls.js: start where asked, never at the live edge (and
      // hls.js's defaults never jump ahead to catch up with it: no
      // liveMaxLatencyDuration, playback rate left alone).
      const me = new Hls({ capLevelToPlayerSize: true, startLevel: -1, startPosition: start });
      hls = me;
      me.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
        quality.replaceChildren(h('option', { value: '-1' }, t('player.auto')));
        const levels = data.levels.map((l, i) => ({ i, h: l.height, b: l.bitrate })).sort((a, b) => b.h - a.h);
        for (const l of levels) quality.append(h('option', { value: String(l.i) }, l.h ? `${l.h}p` : `${Math.round(l.b / 1000)} kb/s`));
        quality.disabled = levels.length < 2;
        if (resume) video.play().catch(() => {});
      });
      me.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal || hls !== me) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
          recovered = true;
          me.recoverMediaError();
          return;
        }
        fail(`${data.type}: ${data.details}`);
        me.destroy();
        hls = null;
      });
      me.loadSource(url);
      me.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;
      quality.disabled = true;
      if (start > 0 || resume) {
        video.addEventListener('loadedmetadata', () => {
          if (start > 0) video.currentTime = start;
          if (resume) video.play().catch(() => {});
        }, { once: true });
      }
    } else {
      fail(t('player.unsupported'));
    }
  }

  // Move to another playlist of the same video (the master playlist once
  // the ladder is ready): same time, same speed, playing if it was.
  function setSource(url, { poster: p, storyboard: sb } = {}) {
    if (!url || url === current) return;
    const at = video.currentTime;
    const resume = !video.paused && !video.ended;
    const rate = video.playbackRate;
    current = url;
    if (p) video.poster = p;
    if (sb && !cues.length) loadStoryboard(sb);
    if (hls) hls.destroy();
    hls = null;
    video.addEventListener('loadedmetadata', () => { video.playbackRate = rate; }, { once: true });
    el.dataset.source = url;
    attach(url, at, resume);
  }

  let current = src;
  let destroyed = false;
  el.dataset.source = src;
  attach(src, 0, false);
  update();

  return {
    el, video,
    seekTo(sec) { video.currentTime = sec; },
    setSource,
    source: () => current,
    destroy() {
      destroyed = true;
      document.removeEventListener('keydown', onKey);
      if (hls) hls.destroy();
      hls = null;
      video.removeAttribute('src');
      video.load();
    },
  };
}
