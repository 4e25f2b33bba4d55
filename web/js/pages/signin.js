// pages/signin.js - the sign-in page: email and password to POST
// /api/session, then on to the page that was asked for (?next=).
import { h, field } from '../dom.js';
import { t } from '../i18n.js';
import { api, setSession, currentUser } from '../api.js';
import { makeForm, input } from '../form.js';

export default async function signin(ctx) {
  const next = ctx.query.get('next');
  const dest = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
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
