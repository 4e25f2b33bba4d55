// pages/setup.js - first-run setup (/setup#token=...): names the company
// and creates the first administrator (with their title, team and the
// interface's language) with POST /api/setup, using the one-time link the
// server printed on its first start; then the home page, where the
// first-run checklist waits.
import { h, field } from '../dom.js';
import { t, lang } from '../i18n.js';
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
  const company = input('company_name', { required: true, autocomplete: 'organization', max: 200 });
  const name = input('name', { required: true, autocomplete: 'name' });
  const email = input('email', { type: 'email', required: true, autocomplete: 'username' });
  const pw = input('password', { type: 'password', required: true, autocomplete: 'new-password', min: 8 });
  const title = input('title', { autocomplete: 'organization-title', max: 200 });
  const team = input('team', { max: 200 });
  sec.append(h('p', t('setup.intro')), makeForm({
    label: t('setup.title'), submit: t('setup.submit'), id: 'setup-form',
    children: [field(t('setup.company'), company, t('setup.companyHint')),
      field(t('field.name'), name), field(t('field.email'), email),
      field(t('field.newPassword'), pw, t('field.passwordHint')),
      field(t('field.jobTitle'), title, t('field.optional')), field(t('field.team'), team, t('field.optional'))],
    onSubmit: async () => {
      const body = {
        token, company_name: company.value.trim(), name: name.value.trim(), email: email.value.trim(),
        password: pw.value, lang: lang(),
      };
      if (title.value.trim()) body.title = title.value.trim();
      if (team.value.trim()) body.team = team.value.trim();
      const d = await api('POST', '/api/setup', body, { quiet: true });
      setSession(d);
      history.replaceState(null, '', '/setup');
      ctx.navigate('/', { replace: true });
    },
  }));
  company.focus();
}
