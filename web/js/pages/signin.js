// pages/signin.js - the sign-in page: email and password to POST
// /api/session, then on to the page that was asked for (?next=).
import { h, field } from '../dom.js';
import { t } from '../i18n.js';
import { api, setSession, currentUser } from '../api.js';
import { makeForm, input } from '../form.js';

export default async function signin(ctx) {
  const dest = localNext(ctx.query.get('next'));
  if (currentUser()) return ctx.navigate(dest, { replace: true });
  ctx.title(t('signin.title'));
  const email = input('email', { type: 'email', required: true, autocomplete: 'username' });
  const password = input('password', { type: 'password', required: true, autocomplete: 'current-password' });
  const form = makeForm({
    label: t('signin.title'), submit: t('signin.submit'), id: 'signin-form',
    children: [field(t('field.email'), email), field(t('field.password'), password)],
    onSubmit: async () => {
      const d = await api('POST', '/api/session', { email: email.value.trim(), password: password.value }, { quiet: true });
      setSession(d);
      ctx.navigate(dest, { replace: true });
    },
  });
  ctx.main.append(h('section.narrow', h('h1', t('signin.title')), h('p', t('signin.intro')), form,
    h('p', h('a', { href: '/reset' }, t('signin.forgot')))));
  let setup = null;
  try { setup = await api('GET', '/api/setup', undefined, { quiet: true }); } catch { /* optional */ }
  if (setup && setup.needed && ctx.alive())
    ctx.main.querySelector('section').append(h('p.notice', t('signin.setupNeeded')));
  email.focus();
}

// Where to go after signing in: next when it is a page of this site, else
// '/'. Browsers read a backslash as a slash, so "/\evil.example" is another
// site: refuse backslashes (raw or %5C), control characters and "//", and
// check what the URL resolves to.
function localNext(next) {
  if (!next || !/^\/(?![/\\])/.test(next) || /[\\\x00-\x1f]|%5c/i.test(next)) return '/';
  try {
    return new URL(next, location.origin).origin === location.origin ? next : '/';
  } catch {
    return '/';
  }
}
