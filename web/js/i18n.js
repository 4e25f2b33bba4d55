// i18n.js - the interface language: English or French, chosen from the
// browser (navigator.language), switchable, remembered in localStorage.
// t('key', {n: 3}) looks a message up and fills {placeholders}.
import en from '../i18n/en.js';
import fr from '../i18n/fr.js';

const dicts = { en, fr };
const KEY = 'hubcast.lang';
let current = pick();
const listeners = new Set();

function pick() {
  let saved = null;
  try { saved = localStorage.getItem(KEY); } catch { /* storage off */ }
  if (saved && dicts[saved]) return saved;
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const p of prefs) {
    const base = String(p).toLowerCase().split('-')[0];
    if (dicts[base]) return base;
  }
  return 'en';
}

export function lang() { return current; }

export function setLang(l) {
  if (!dicts[l] || l === current) return;
  current = l;
  try { localStorage.setItem(KEY, l); } catch { /* storage off */ }
  document.documentElement.lang = l;
  for (const f of listeners) f(l);
}

export function onLangChange(f) { listeners.add(f); }

export function t(key, params) {
  let s = dicts[current][key] ?? dicts.en[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

// Plural helper: keys "x.one" / "x.other".
export function tn(key, n, params = {}) {
  const rule = new Intl.PluralRules(current).select(n);
  const k = dicts[current][`${key}.${rule}`] !== undefined ? `${key}.${rule}` : `${key}.other`;
  return t(k, { n, ...params });
}
