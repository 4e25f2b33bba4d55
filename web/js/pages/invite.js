// pages/invite.js - accept an invite (/invite#token=...): shows the
// company and the invited address (GET /api/invites/lookup, no sign-in
// needed; a clear message when the link expired, was withdrawn or used),
// asks for a name, a password, a title and a team, joins with POST
// /api/invites/accept in the interface's language, then arrives signed in.
import { h, field } from '../dom.js';
import { t, lang, fmtDay } from '../i18n.js';
import { api, setSession } from '../api.js';
import { makeForm, input } from '../form.js';

function expired(sec) {
  sec.append(h('p.notice.error', { id: 'invite-expired' }, t('invite.expired')),
    h('p', h('a', { href: '/signin' }, t('invite.signin'))));
}

export default async function invite(ctx) {
  ctx.title(t('invite.title'));
  const token = ctx.hash.get('token') || ctx.query.get('token');
  const heading = h('h1', t('invite.title'));
  const sec = h('section.narrow', heading);
  ctx.main.append(sec);
  if (!token) {
    sec.append(h('p.notice.error', t('invite.noToken')));
    return;
  }
  let info;
  try {
    info = await api('GET', `/api/invites/lookup?token=${encodeURIComponent(token)}`, undefined, { quiet: true });
  } catch (e) {
    if (!ctx.alive()) return;
    if (e.code === 'link_expired') expired(sec);
    else sec.append(h('p.notice.error', e.message));
    return;
  }
  if (!ctx.alive()) return;
  if (info.company) {
    heading.textContent = t('invite.titleOf', { company: info.company });
    ctx.title(heading.textContent);
  }
  const name = input('name', { autocomplete: 'name', value: info.name || '', max: 200 });
  const pw = input('password', { type: 'password', required: true, autocomplete: 'new-password', min: 8 });
  const title = input('title', { autocomplete: 'organization-title', max: 200 });
  const team = input('team', { max: 200 });
  // The address is the invite's: shown, and given to password managers.
  const email = h('input', { type: 'email', name: 'email', id: 'invite-email', value: info.email, readonly: true, autocomplete: 'username' });
  sec.append(h('p', t('invite.intro')),
    h('p', { id: 'invite-for' }, t('invite.for', { email: info.email }), ' ',
      h('span.hint', t('invite.until', { date: fmtDay(info.expires_at) }))),
    makeForm({
      label: t('invite.title'), submit: t('invite.submit'), id: 'invite-form',
      children: [field(t('field.email'), email), field(t('field.name'), name, t('invite.nameHint')),
        field(t('field.newPassword'), pw, t('field.passwordHint')),
        field(t('field.jobTitle'), title, t('field.optional')), field(t('field.team'), team, t('field.optional'))],
      onSubmit: async () => {
        const body = { token, password: pw.value, lang: lang() };
        for (const [k, el] of [['name', name], ['title', title], ['team', team]]) if (el.value.trim()) body[k] = el.value.trim();
        try {
          const d = await api('POST', '/api/invites/accept', body, { quiet: true });
          setSession(d);
        } catch (e) {
          if (e.code === 'link_expired') {
            sec.replaceChildren(heading);
            expired(sec);
            return undefined;
          }
          throw e;
        }
        history.replaceState(null, '', '/invite');
        ctx.navigate('/', { replace: true });
        return undefined;
      },
    }));
  (info.name ? pw : name).focus();
}
