// dom.js - small helpers to build the page from JavaScript without ever
// parsing HTML: h() creates elements whose text always goes through
// textContent, so user data cannot inject markup. Also formatting helpers
// (durations, sizes, dates) shared by the pages.
import { t, locale, fmtDateTime } from './i18n.js';

// h('a.btn', {href: '/x', onclick: fn}, 'text', child, [more])
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden' ||
             k === 'muted' || k === 'playsInline' || k === 'autoplay' || k === 'files') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// "1:05", "1:02:03"
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || !Number.isFinite(Number(sec))) return '';
  sec = Math.max(0, Math.round(Number(sec)));
  const hh = Math.floor(sec / 3600), mm = Math.floor((sec % 3600) / 60), ss = sec % 60;
  const p = (n) => String(n).padStart(2, '0');
  return hh ? `${hh}:${p(mm)}:${p(ss)}` : `${mm}:${p(ss)}`;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${n.toLocaleString(locale(), { maximumFractionDigits: i ? 1 : 0 })} ${u[i]}`;
}

// A date and time in the interface language (Intl.DateTimeFormat).
export function fmtDate(unix) {
  return fmtDateTime(unix);
}

// "in 2 min", "12 s" for ETAs
export function fmtEta(sec) {
  if (!Number.isFinite(sec) || sec < 0) return t('eta.unknown');
  if (sec < 60) return t('eta.seconds', { n: Math.ceil(sec) });
  if (sec < 3600) return t('eta.minutes', { n: Math.ceil(sec / 60) });
  return t('eta.hours', { n: (sec / 3600).toFixed(1) });
}

// Announce a short status to screen readers.
export function announce(msg) {
  const live = document.getElementById('live');
  if (!live) return;
  live.textContent = '';
  setTimeout(() => { live.textContent = msg; }, 30);
}

// A person's avatar: their uploaded picture (url, the person JSON's
// avatar_url) when they have one, else their initials on a colour derived
// from their name (one of twelve, each dark enough for white text).
// Decorative: the name is always written beside it.
export function avatar(name, { big = false, url = null } = {}) {
  if (url) {
    return h(`img.avatar.avatar-img${big ? '.avatar-big' : ''}`, {
      src: url, alt: '', 'aria-hidden': 'true', width: big ? 51 : 30, height: big ? 51 : 30, decoding: 'async',
    });
  }
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  const first = (w) => (w ? [...w][0] : '');
  const initials = (first(words[0]) + (words.length > 1 ? first(words[words.length - 1]) : '')).toUpperCase() || '?';
  let hash = 0;
  for (const ch of String(name || '')) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return h(`span.avatar.avatar-${hash % 12}${big ? '.avatar-big' : ''}`, { 'aria-hidden': 'true' }, initials);
}

// A labelled form field: returns {wrap, input}.
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const wrap = h('div.field', h('label', { for: id }, label), input);
  if (hint) {
    const hid = `${id}-hint`;
    wrap.append(h('p.hint', { id: hid }, hint));
    input.setAttribute('aria-describedby', hid);
  }
  return wrap;
}

// Load a classic script (hls.js, tus-js-client) once; resolves when loaded.
const loading = new Map();
export function loadScript(src) {
  if (!loading.has(src)) {
    loading.set(src, new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = () => resolve();
      s.onerror = () => { loading.delete(src); reject(new Error(`could not load ${src}`)); };
      document.head.append(s);
    }));
  }
  return loading.get(src);
}

export const HLS_SRC = '/node_modules/hls.js/dist/hls.min.js';
export const TUS_SRC = '/node_modules/tus-js-client/dist/tus.min.js';
