// i18n.js - the interface language: English or French. Signed in, it is
// the person's own setting (api.js applies it from /api/me); otherwise the
// last language chosen in this browser (localStorage), else the browser's.
// t('key', {n: 3}) looks a message up and fills {placeholders}; tn() picks
// the plural form with Intl.PluralRules; fmtNumber/fmtDay/fmtDateTime
// format with Intl in locale().
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
  return browserLang();
}

// The first of our languages the browser asks for, else English.
export function browserLang() {
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const p of prefs) {
    const base = String(p).toLowerCase().split('-')[0];
    if (dicts[base]) return base;
  }
  return 'en';
}

export function lang() { return current; }

// The locale for numbers, dates and plurals: the browser's own variant of
// the interface language when it has one (en-GB, fr-CA), else the language.
export function locale() {
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
  const own = prefs.find((p) => String(p).toLowerCase().split('-')[0] === current);
  return own || current;
}

export function isLang(l) { return Object.hasOwn(dicts, l); }

// Switch the interface language; every listener (the router) redraws.
// The choice is remembered in this browser for when nobody is signed in.
export function setLang(l) {
  if (!isLang(l) || l === current) return;
  current = l;
  try { localStorage.setItem(KEY, l); } catch { /* storage off */ }
  document.documentElement.lang = l;
  for (const f of listeners) f(l);
}

export function onLangChange(f) { listeners.add(f); }

// Is there a message for this key in the reference (English) set?
export function has(key) { return Object.hasOwn(dicts.en, key); }

export function t(key, params) {
  let s = dicts[current][key] ?? dicts.en[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

export function fmtNumber(n) {
  return Number.isFinite(n) ? new Intl.NumberFormat(locale()).format(n) : String(n);
}

// Plural helper: keys "x.one" / "x.other" (and any other form a language
// has, e.g. "x.many"), chosen by Intl.PluralRules; {n} is formatted for
// the language.
export function tn(key, n, params = {}) {
  const rule = new Intl.PluralRules(locale()).select(n);
  const k = dicts[current][`${key}.${rule}`] !== undefined ? `${key}.${rule}` : `${key}.other`;
  return t(k, { ...params, n: fmtNumber(n) });
}

// A day ("12 March 2026", "March 12, 2026") from a Unix time.
export function fmtDay(unix) {
  if (!unix) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'long' }).format(new Date(unix * 1000));
}

// A day and time from a Unix time.
export function fmtDateTime(unix) {
  if (!unix) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(unix * 1000));
}
