// pages/reset.js - forgotten password: ask for a reset link by email
// (POST /api/password/reset), or, with /reset#token=..., choose a new
// password (POST /api/password/reset/confirm) and go to sign in.
import { h, field } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { makeForm, input } from '../form.js';

export default async function reset(ctx) {
  ctx.title(t('reset.title'));
  const token = ctx.hash.get('token') || ctx.query.get('token');
  const sec = h('section.narrow', h('h1', t('reset.title')));
  ctx.main.append(sec);
  if (!token) {
    const email = input('email', { type: 'email', required: true, autocomplete: 'username' });
    sec.append(h('p', t('reset.askIntro')), makeForm({
      label: t('reset.title'), submit: t('reset.askSubmit'), id: 'reset-ask-form',
      children: [field(t('field.email'), email)],
      onSubmit: async () => {
        await api('POST', '/api/password/reset', { email: email.value.trim() }, { quiet: true });
        return t('reset.sent');
      },
    }));
    email.focus();
    return;
  }
  const pw = input('password', { type: 'password', required: true, autocomplete: 'new-password', min: 8 });
  sec.append(h('p', t('reset.chooseIntro')), makeForm({
    label: t('reset.title'), submit: t('reset.chooseSubmit'), id: 'reset-form',
    children: [field(t('field.newPassword'), pw, t('field.passwordHint'))],
    onSubmit: async () => {
      await api('POST', '/api/password/reset/confirm', { token, password: pw.value }, { quiet: true });
      history.replaceState(null, '', '/reset');
      ctx.navigate('/signin', { replace: true });
    },
  }));
  pw.focus();
}
