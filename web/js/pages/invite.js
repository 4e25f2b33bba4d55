// pages/invite.js - accept an invite (/invite#token=...): choose a name and
// a password with POST /api/invites/accept, then arrive signed in.
import { h, field } from '../dom.js';
import { t } from '../i18n.js';
import { api, setSession } from '../api.js';
import { makeForm, input } from '../form.js';

export default async function invite(ctx) {
  ctx.title(t('invite.title'));
  const token = ctx.hash.get('token') || ctx.query.get('token');
  const sec = h('section.narrow', h('h1', t('invite.title')));
  ctx.main.append(sec);
  if (!token) {
    sec.append(h('p.notice.error', t('invite.noToken')));
    return;
  }
  const name = input('name', { autocomplete: 'name' });
  const pw = input('password', { type: 'password', required: true, autocomplete: 'new-password', min: 8 });
  sec.append(h('p', t('invite.intro')), makeForm({
    label: t('invite.title'), submit: t('invite.submit'), id: 'invite-form',
    children: [field(t('field.name'), name, t('invite.nameHint')), field(t('field.newPassword'), pw, t('field.passwordHint'))],
    onSubmit: async () => {
      const body = { token, password: pw.value };
      if (name.value.trim()) body.name = name.value.trim();
      const d = await api('POST', '/api/invites/accept', body, { quiet: true });
      setSession(d);
      history.replaceState(null, '', '/invite');
      ctx.navigate('/', { replace: true });
    },
  }));
  name.focus();
}
