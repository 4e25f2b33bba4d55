// main.js - the app shell: header navigation and search box, the history router (every
// app path loads index.html; this file picks the page), access rules
// (anonymous visitors go to sign in, admin pages only for admins), the
// language switch (the person's setting when signed in), and page lifecycle
// (each page may register cleanups).
import { h, clear, announce, avatar } from './dom.js';
import { svgIcon } from './icons.js';
import { t, lang, setLang, onLangChange } from './i18n.js';
import { api, loadMe, currentUser, isAdmin, setSession, clearFlash, flash, csrfToken } from './api.js';

const routes = [
  { re: /^\/signin$/, page: () => import('./pages/signin.js'), access: 'anon' },
  { re: /^\/setup$/, page: () => import('./pages/setup.js'), access: 'anon' },
  { re: /^\/invite$/, page: () => import('./pages/invite.js'), access: 'anon' },
  { re: /^\/reset$/, page: () => import('./pages/reset.js'), access: 'anon' },
  { re: /^\/$/, page: () => import('./pages/home.js'), access: 'member', nav: 'home' },
  { re: /^\/week\/(\d{4}-W\d{2})$/, page: () => import('./pages/home.js'), access: 'member', nav: 'home' },
  { re: /^\/record$/, page: () => import('./pages/record.js'), access: 'member', nav: 'record' },
  { re: /^\/upload$/, page: () => import('./pages/upload.js'), access: 'member', nav: 'upload' },
  { re: /^\/watch\/(\d+)$/, page: () => import('./pages/watch.js'), access: 'member' },
  { re: /^\/people$/, page: () => import('./pages/people.js'), access: 'member', nav: 'people' },
  { re: /^\/people\/(\d+)$/, page: () => import('./pages/person.js'), access: 'member', nav: 'people' },
  { re: /^\/purpose$/, page: () => import('./pages/purpose.js'), access: 'member', nav: 'purpose' },
  { re: /^\/admin$/, page: () => import('./pages/admin.js'), access: 'admin', nav: 'admin' },
  { re: /^\/settings$/, page: () => import('./pages/settings.js'), access: 'member', nav: 'settings' },
  { re: /^\/search$/, page: () => import('./pages/search.js'), access: 'member' },
];

let cleanups = [];
let renderSeq = 0;
let currentNav = null;

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function runCleanups() {
  for (const f of cleanups.splice(0)) {
    try { f(); } catch (e) { console.warn('cleanup failed', e); }
  }
}

function renderNav() {
  const nav = document.getElementById('nav');
  const account = document.getElementById('account');
  clear(nav);
  clear(account);
  const me = currentUser();
  document.getElementById('skip-link').textContent = t('nav.skip');
  document.getElementById('lang-label').textContent = t('nav.language');
  const menu = document.getElementById('menu-button');
  setMenu(false);
  menu.replaceChildren(svgIcon('menu', 22), h('span', t('nav.menu')));
  menu.hidden = !me;
  document.querySelector('header.top').classList.toggle('signed-in', !!me);
  renderSearch(me);
  if (!me) {
    account.append(h('a', { href: '/signin', 'data-link': '' }, t('nav.signin')));
    return;
  }
  const items = [
    ['home', '/', t('nav.home')],
    ['record', '/record', t('nav.record')],
    ['upload', '/upload', t('nav.upload')],
    ['people', '/people', t('nav.people')],
    ['purpose', '/purpose', t('nav.purpose')],
  ];
  if (isAdmin()) items.push(['admin', '/admin', t('nav.admin')]);
  items.push(['settings', '/settings', t('nav.settings')]);
  const ul = h('ul');
  for (const [key, href, label] of items) {
    const a = h('a', { href, 'data-nav': key }, label);
    if (key === currentNav) a.setAttribute('aria-current', 'page');
    ul.append(h('li', a));
  }
  nav.append(ul);
  account.append(
    avatar(me.name, { url: me.avatar_url }),
    ' ',
    h('a.me', { href: `/people/${me.id}` }, me.name),
    ' ',
    h('button.link', { type: 'button', id: 'signout', onclick: signOut }, t('nav.signout')),
  );
}

// The search box in the header (members only): a form role=search whose
// submit opens /search?q=WORDS; on that page it shows the words searched.
function renderSearch(me) {
  let form = document.getElementById('search-form');
  if (!form) {
    const input = h('input', { type: 'search', id: 'search-q', name: 'q', maxlength: 200, autocomplete: 'off', required: true });
    form = h('form.search', { id: 'search-form', role: 'search', action: '/search', method: 'get' },
      h('label.sr', { for: 'search-q', id: 'search-label' }), input,
      h('button', { type: 'submit', id: 'search-submit' }, svgIcon('search'), h('span.search-button-text')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const q = input.value.trim();
      if (!q) return;
      setMenu(false);
      navigate(`/search?q=${encodeURIComponent(q)}`);
    });
    document.querySelector('header.top .top-right').before(form);
  }
  form.hidden = !me;
  form.querySelector('#search-label').textContent = t('search.label');
  form.querySelector('.search-button-text').textContent = t('search.submit');
  const input = form.querySelector('#search-q');
  input.placeholder = t('search.placeholder');
  if (location.pathname === '/search') input.value = new URLSearchParams(location.search).get('q') || '';
}

// On a narrow screen the navigation sits behind the menu button (CSS
// shows it only when the header is marked open).
function setMenu(open) {
  document.getElementById('menu-button').setAttribute('aria-expanded', String(open));
  document.querySelector('header.top').classList.toggle('menu-open', open);
}

async function signOut() {
  try { await api('DELETE', '/api/session'); } catch { /* shown */ }
  setSession(null);
  navigate('/signin');
}

function notFound(main) {
  document.title = `${t('notfound.title')} · Hubcast`;
  main.append(h('h1', t('notfound.title')), h('p', t('notfound.text')), h('p', h('a', { href: '/' }, t('nav.home'))));
}

function forbidden(main) {
  document.title = `${t('forbidden.title')} · Hubcast`;
  main.append(h('h1', t('forbidden.title')), h('p.notice', { id: 'forbidden' }, t('forbidden.text')),
    h('p', h('a', { href: '/' }, t('nav.home'))));
}

export async function render({ keepFlash = false } = {}) {
  const seq = ++renderSeq;
  runCleanups();
  if (!keepFlash) clearFlash();
  const main = document.getElementById('main');
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const route = routes.find((r) => r.re.test(path));
  const me = currentUser();
  currentNav = route && route.nav ? route.nav : null;
  renderNav();
  clear(main);
  if (!route) return notFound(main);
  if (route.access !== 'anon' && !me) {
    const next = location.pathname + location.search;
    history.replaceState(null, '', `/signin${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`);
    return render({ keepFlash: true });
  }
  if (route.access === 'admin' && !isAdmin()) return forbidden(main);
  const params = path.match(route.re).slice(1);
  main.setAttribute('aria-busy', 'true');
  try {
    const mod = await route.page();
    if (seq !== renderSeq) return;
    const ctx = {
      main, params, query: new URLSearchParams(location.search), hash: new URLSearchParams(location.hash.slice(1)),
      navigate, rerender: render,
      onLeave: (f) => cleanups.push(f),
      title: (s) => { document.title = s ? `${s} · Hubcast` : 'Hubcast'; },
      alive: () => seq === renderSeq,
    };
    await mod.default(ctx);
  } catch (e) {
    if (seq !== renderSeq) return;
    console.warn('page failed', e);
    main.append(h('p.notice.error', t('err.page', { message: e.message || String(e) })));
  } finally {
    if (seq === renderSeq) main.removeAttribute('aria-busy');
  }
  if (seq !== renderSeq) return;
  const h1 = main.querySelector('h1');
  if (h1) announce(h1.textContent);
}

// Same-origin links inside the app navigate without a page load.
function onClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  if (/^\/(api|media|node_modules)\//.test(url.pathname) || /\.[a-z0-9]+$/i.test(url.pathname)) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  e.preventDefault();
  navigate(url.pathname + url.search + url.hash);
  document.getElementById('main').focus({ preventScroll: false });
}

// The header's language switch: signed in, it is the person's setting
// (saved with PATCH /api/me, as in Settings); otherwise this browser's.
async function switchLang(sel) {
  if (!currentUser()) return setLang(sel.value);
  try {
    const d = await api('PATCH', '/api/me', { lang: sel.value });
    setSession({ user: d.user, csrf: d.csrf || csrfToken() });
  } catch {
    sel.value = lang();
  }
}

export async function start() {
  document.documentElement.lang = lang();
  const sel = document.getElementById('lang-select');
  sel.addEventListener('change', () => switchLang(sel));
  document.addEventListener('click', onClick);
  document.getElementById('menu-button').addEventListener('click', (e) => {
    setMenu(e.currentTarget.getAttribute('aria-expanded') !== 'true');
  });
  document.addEventListener('keydown', (e) => {
    const menu = document.getElementById('menu-button');
    if (e.key === 'Escape' && menu.getAttribute('aria-expanded') === 'true') { setMenu(false); menu.focus(); }
  });
  window.addEventListener('popstate', () => render());
  window.addEventListener('hubcast:signedout', () => render({ keepFlash: true }));
  try {
    await loadMe();
  } catch (e) {
    flash(e.message);
  }
  // From here on a change of language (the switch, Settings, signing in
  // as someone who reads another language) redraws the page at once.
  document.documentElement.lang = lang();
  sel.value = lang();
  onLangChange(() => { sel.value = lang(); render({ keepFlash: true }); });
  await render({ keepFlash: true });
}
