// pages/setup.js - first-run setup (/setup#token=...): creates the first
// administrator with POST /api/setup, using the one-time link the server
// printed on its first start.
import { h, field } from '../dom.js';
import { t } from '../i18n.js';
import { api, setSession } from '../api.js';
import { makeForm, input } from '../form.js';

export default async function setup(ctx) {
  ctx.title(t('setup.title'));
  const token = ctx.hash.get('token') || ctx.query.get('token');
  const sec = h('section.narrow', h('h1', t('setup.title')));
  ctx.main.append(sec);
  let needed = true;
  try { needed = (await api('GET', '/api/setup', undefined, { quiet: true })).needed; } catch { /* try anyway */ }
  if (!ctx.alive()) return;
  if (!needed) {
    sec.append(h('p.notice', t('setup.done')), h('p', h('a', { href: '/signin' }, t('nav.signin'))));
    return;
  }
  if (!token) {
    sec.append(h('p.notice.error', t('setup.noToken')));
    return;
  }
  const name = input('name', { required: true, autocomplete: 'name' });
  const email = input('email', { type: 'email', required: true, autocomplete: 'username' });
  const pw = input('password', { type: 'password', required: true, autocomplete: 'new-password', min: 8 });
  sec.append(h('p', t('setup.intro')), makeForm({
    label: t('setup.title'), submit: t('setup.submit'), id: 'setup-form',
    children: [field(t('field.name'), name), field(t('field.email'), email),
      field(t('field.newPassword'), pw, t('field.passwordHint'))],
    onSubmit: async () => {
      const d = await api('POST', '/api/setup', { token, name: name.value.trim(), email: email.value.trim(), password: pw.value }, { quiet: true });
      setSession(d);
      history.replaceState(null, '', '/setup');
      ctx.navigate('/purpose', { replace: true });
    },
  }));
  name.focus();
}
