// mentions.js - @mentions in the browser: the autocomplete of the boxes
// where people write (descriptions, check-in answers, comments), and text
// shown with its mentions as links to the person's page. The rule is the
// server's (README, "Mentions"): `@handle`, the handle being a first name,
// or the whole name without spaces, compared without case or accents; an
// `@` right after a letter or digit (an address) is not a mention.
// Not for deciding who gets mail or kudos: the server records those.
import { h } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';

// Folded as the server folds a handle: no accents, lower case, letters and
// digits only (other scripts kept as written).
export function fold(s) {
  return String(s || '').normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
    .replace(/æ/g, 'ae').replace(/œ/g, 'oe').replace(/ß/g, 'ss').replace(/þ/g, 'th').replace(/ø/g, 'o').replace(/đ/g, 'd').replace(/ł/g, 'l')
    .replace(/[^\p{L}\p{N}]/gu, '');
}

// A character that may be part of a handle (the server's handle bytes:
// ASCII letters, digits, _ - ., or a character outside ASCII that is not
// punctuation or a space).
const HANDLE_CHAR = /[A-Za-z0-9_.\-]|[^\x00-\x7f\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u3000-\u303f\ufeff]/u;
const WORD_BEFORE = /[A-Za-z0-9_]|[^\x00-\x7f\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u3000-\u303f\ufeff]/u;

// The directory of active people, fetched once a minute at most:
// resolves to [{id, name, full, first, firstUnique}].
let directory = null;
let directoryAt = 0;
function people() {
  if (!directory || Date.now() - directoryAt > 60000) {
    directoryAt = Date.now();
    directory = api('GET', '/api/people', undefined, { quiet: true }).then((d) => {
      const list = d.people.filter((p) => !p.deactivated).map((p) => ({
        id: p.id, name: p.name, full: fold(p.name), first: fold(String(p.name).trim().split(/\s+/)[0]),
      }));
      for (const p of list) p.firstUnique = !!p.first && !list.some((o) => o !== p && o.first === p.first);
      return list;
    }).catch(() => { directory = null; return []; });
  }
  return directory;
}

// The mentions in text: [{start, end, token}] (end excludes trailing . - _).
export function scanMentions(text) {
  const out = [];
  const chars = [...String(text || '')];
  let offset = 0;
  const offsets = chars.map((c) => { const o = offset; offset += c.length; return o; });
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] !== '@') continue;
    const prev = chars[i - 1];
    if (prev !== undefined && WORD_BEFORE.test(prev)) continue;
    let j = i + 1;
    while (j < chars.length && HANDLE_CHAR.test(chars[j])) j++;
    let k = j;
    while (k > i + 1 && /[._-]/.test(chars[k - 1])) k--;
    if (k > i + 1) out.push({ start: offsets[i], end: k < chars.length ? offsets[k] : text.length, token: chars.slice(i + 1, k).join('') });
    i = j - 1;
  }
  return out;
}

function linkify(text, list) {
  const nodes = [];
  let at = 0;
  for (const m of scanMentions(text)) {
    const f = fold(m.token);
    const p = f && list.find((x) => x.full === f || (x.firstUnique && x.first === f));
    if (!p) continue;
    if (m.start > at) nodes.push(text.slice(at, m.start));
    nodes.push(h('a.mention', { href: `/people/${p.id}`, title: p.name }, text.slice(m.start, m.end)));
    at = m.end;
  }
  if (at < text.length) nodes.push(text.slice(at));
  return nodes;
}

// An element (tag, e.g. 'p.text') showing text, its mentions becoming
// links once the directory is known. Text always goes in as text nodes.
export function mentionText(tag, text, attrs = {}) {
  const el = h(tag, attrs, text);
  if (text && text.includes('@')) {
    people().then((list) => {
      const nodes = linkify(text, list);
      if (nodes.some((n) => n instanceof Node)) el.replaceChildren(...nodes);
    });
  }
  return el;
}

// What to write for a person picked in the list: their first name, or
// whole name without spaces, as they spell it, when that folds to the
// handle the server gave; else the handle itself.
function written(p) {
  const words = String(p.name).trim().split(/\s+/);
  for (const c of [words[0], words.join('')]) {
    if (c && fold(c) === p.handle && [...c].every((ch) => HANDLE_CHAR.test(ch)) && !/[._-]$/.test(c)) return c;
  }
  return p.handle;
}

let boxes = 0;

// Give a textarea or text input an @mention autocomplete, after the ARIA
// combobox pattern: typing @ and letters opens a listbox of people
// (GET /api/people?q=); Down/Up move through it (aria-activedescendant),
// Enter or Tab writes the mention, Escape closes it. Returns a wrapper
// holding the box and its list, to put where the box goes.
export function withMentions(box) {
  const n = ++boxes;
  const list = h('ul.mention-list', { id: `mention-list-${n}`, role: 'listbox', hidden: true, 'aria-label': t('mention.people') });
  const status = h('span.sr', { role: 'status', 'aria-live': 'polite' });
  box.setAttribute('aria-autocomplete', 'list');
  box.setAttribute('autocomplete', 'off');
  let options = [];
  let active = -1;
  let range = null;
  let seq = 0;
  let timer = null;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    active = -1;
    range = null;
    box.removeAttribute('aria-activedescendant');
    box.removeAttribute('aria-controls');
  };
  const setActive = (i) => {
    active = i;
    options.forEach((o, k) => o.el.setAttribute('aria-selected', String(k === i)));
    if (i >= 0) {
      box.setAttribute('aria-activedescendant', options[i].el.id);
      options[i].el.scrollIntoView({ block: 'nearest' });
    } else box.removeAttribute('aria-activedescendant');
  };
  const choose = (i) => {
    const o = options[i];
    if (!o || !range) return;
    const word = `@${written(o.person)} `;
    const v = box.value;
    box.value = v.slice(0, range.start) + word + v.slice(range.end);
    const caret = range.start + word.length;
    close();
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  };
  // The @word being typed just before the caret, or null.
  const current = () => {
    const caret = box.selectionStart;
    if (caret === null || caret !== box.selectionEnd) return null;
    const before = box.value.slice(0, caret);
    const m = /(^|[^A-Za-z0-9_\p{L}\p{N}])@([\p{L}\p{N}_.-]{1,40})$/u.exec(before);
    return m ? { start: caret - m[2].length - 1, end: caret, q: m[2] } : null;
  };
  const lookup = async () => {
    const cur = current();
    if (!cur) { close(); return; }
    const mine = ++seq;
    let found;
    try {
      found = (await api('GET', `/api/people?q=${encodeURIComponent(cur.q)}`, undefined, { quiet: true })).people;
    } catch { return; }
    if (mine !== seq || document.activeElement !== box) return;
    range = cur;
    if (!found.length) {
      list.hidden = true;
      list.replaceChildren();
      options = [];
      active = -1;
      box.removeAttribute('aria-activedescendant');
      status.textContent = t('mention.none');
      return;
    }
    options = found.map((p, k) => {
      const el = h('li.mention-option', { role: 'option', id: `mention-${n}-${k}`, 'aria-selected': 'false' },
        h('span.mention-name', p.name), ' ', h('span.mention-handle', `@${written(p)}`));
      el.addEventListener('mousedown', (e) => e.preventDefault());
      el.addEventListener('click', () => choose(k));
      return { el, person: p };
    });
    list.replaceChildren(...options.map((o) => o.el));
    list.hidden = false;
    box.setAttribute('aria-controls', list.id);
    setActive(0);
    status.textContent = t(found.length === 1 ? 'mention.count.one' : 'mention.count.other', { n: found.length });
  };

  box.addEventListener('input', () => {
    clearTimeout(timer);
    if (!current()) { close(); return; }
    timer = setTimeout(lookup, 120);
  });
  box.addEventListener('keydown', (e) => {
    if (list.hidden || !options.length) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); setActive((active + 1) % options.length); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((active - 1 + options.length) % options.length); }
    else if ((e.key === 'Enter' || e.key === 'Tab') && active >= 0) { e.preventDefault(); choose(active); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
  });
  box.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== box) close(); }, 150));
  box.addEventListener('click', () => { if (!list.hidden && !current()) close(); });
  return h('div.mention-wrap', box, list, status);
}
