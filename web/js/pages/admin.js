// pages/admin.js - administration (admins only; the router refuses others):
// the company's name; invite one person or several at once (a pasted
// list, with the result for each address), pending invites with send
// again and withdraw; change roles, deactivate; the reminder schedule and
// mail settings with "send a test mail" (/api/admin/*); participation by
// week, overall and per team, as charts and as a table.
import { h, clear, field, avatar } from '../dom.js';
import { t, tn, fmtDay, lang } from '../i18n.js';
import { api, currentUser, flash } from '../api.js';
import { makeForm, input } from '../form.js';
import { barChart, shortWeek } from '../charts.js';
import { promptsSection } from '../prompts-admin.js';

export default async function admin(ctx) {
  ctx.title(t('admin.title'));
  ctx.main.append(h('h1', t('admin.title')));
  const pending = pendingSection(ctx);
  const [company, people] = await Promise.all([companySection(ctx), peopleSection(ctx), pending.load()]);
  if (!ctx.alive()) return;
  ctx.main.append(company, inviteSection(pending.load), pending.box, people);
  // The first-run checklist links here (#invite).
  if (location.hash.length > 1) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  ctx.main.append(await settingsSection(ctx), await participationSection(ctx));
  ctx.main.append(promptsSection(ctx));
}

// The company's name (PUT /api/purpose {company_name}).
async function companySection(ctx) {
  const box = h('section.card-box', { 'aria-labelledby': 'company-h' }, h('h2', { id: 'company-h' }, t('admin.company')));
  let d;
  try {
    d = await api('GET', '/api/purpose', undefined, { quiet: true });
  } catch (e) {
    box.append(h('p.notice.error', e.message));
    return box;
  }
  if (!ctx.alive()) return box;
  const name = input('company_name', { value: d.company_name, required: true, autocomplete: 'organization', max: 200 });
  box.append(makeForm({
    label: t('admin.company'), submit: t('form.save'), id: 'company-form',
    children: [field(t('setup.company'), name, t('admin.companyHint'))],
    onSubmit: async () => {
      const r = await api('PUT', '/api/purpose', { company_name: name.value.trim() }, { quiet: true });
      name.value = r.company_name;
      return t('form.saved');
    },
  }));
  return box;
}

// One person (email, name, role; the link is shown to pass on by hand), or
// several at once from a pasted list, each address answered: invited,
// already a member, not an address. Each form names the language the
// invite mail is written in (by default the administrator's own).
// `changed` reloads the pending list.
function inviteSection(changed) {
  const roleSelect = () => h('select', { name: 'role' }, h('option', { value: 'member' }, t('role.member')),
    h('option', { value: 'admin' }, t('role.admin')));
  // Each language named in itself, as in Settings.
  const langSelect = () => h('select', { name: 'lang' },
    [['en', 'English'], ['fr', 'Français']].map(([v, label]) =>
      h('option', { value: v, lang: v, selected: (currentUser()?.lang ?? lang()) === v }, label)));
  const email = input('email', { type: 'email', required: true });
  const name = input('name');
  const role = roleSelect();
  const oneLang = langSelect();
  const result = h('div', { id: 'invite-result' });
  const one = makeForm({
    label: t('admin.inviteOne'), submit: t('admin.sendInvite'), id: 'invite-person-form',
    children: [h('h3', t('admin.inviteOne')), field(t('field.email'), email), field(t('field.name'), name), field(t('field.role'), role),
      field(t('admin.inviteLang'), oneLang, t('admin.inviteLangHint'))],
    onSubmit: async () => {
      const body = { email: email.value.trim(), role: role.value, lang: oneLang.value };
      if (name.value.trim()) body.name = name.value.trim();
      const d = await api('POST', '/api/people/invite', body, { quiet: true });
      clear(result).append(h('p', t('admin.inviteSent', { email: body.email })),
        h('p.field', h('label', { for: 'invite-url' }, t('admin.inviteLink')),
          h('input.invite-url', { id: 'invite-url', readonly: true, value: d.invite.url })));
      email.value = '';
      name.value = '';
      await changed();
      return '';
    },
  });

  const list = h('textarea', { name: 'emails', rows: 6, required: true, spellcheck: 'false' });
  const manyRole = roleSelect();
  const manyLang = langSelect();
  const results = h('div', { id: 'invite-batch-result' });
  const many = makeForm({
    label: t('admin.inviteMany'), submit: t('admin.sendInvites'), id: 'invite-batch-form',
    children: [h('h3', t('admin.inviteMany')), field(t('admin.emails'), list, t('admin.emailsHint')), field(t('field.role'), manyRole),
      field(t('admin.inviteLang'), manyLang, t('admin.inviteLangHint'))],
    onSubmit: async () => {
      const d = await api('POST', '/api/people/invite', { emails: list.value, role: manyRole.value, lang: manyLang.value },
        { quiet: true });
      clear(results).append(h('h4.sr', t('admin.results')), h('ul.invite-results', { id: 'invite-results' },
        d.results.map((r) => h('li', { 'data-status': r.status },
          h(`span.result.result-${r.status}`, t(`admin.result.${r.status}`)), ' ',
          h('span.result-email', r.email), r.name ? h('span.hint', r.name) : null))));
      // Keep in the box only what still needs attention.
      list.value = d.results.filter((r) => r.status === 'invalid').map((r) => r.email).join('\n');
      await changed();
      return tn('admin.invitedCount', d.invited);
    },
  });
  return h('section.card-box', { id: 'invite', 'aria-labelledby': 'invite-h' }, h('h2', { id: 'invite-h' }, t('admin.invite')),
    h('div.invite-forms', h('div', one, result), h('div', many, results)));
}

// Invites not answered yet (GET /api/invites), newest first: send again
// (a new link, mailed; the old one stops working) or withdraw (after a
// confirmation). Returns {box, load}.
function pendingSection(ctx) {
  const status = h('div', { id: 'pending-status', role: 'status' });
  const body = h('div');
  const box = h('section.card-box', { id: 'pending', 'aria-labelledby': 'pending-h' },
    h('h2', { id: 'pending-h' }, t('admin.pending')), status, body);
  const say = (...what) => clear(status).append(h('p', ...what));
  const load = async () => {
    let invites;
    try {
      ({ invites } = await api('GET', '/api/invites', undefined, { quiet: true }));
    } catch (e) {
      clear(body).append(h('p.notice.error', e.message));
      return;
    }
    if (!ctx.alive()) return;
    if (!invites.length) {
      clear(body).append(h('p.empty', { id: 'no-pending' }, t('admin.noPending')));
      return;
    }
    const cell = (label, ...c) => h('td', { 'data-label': label }, ...c);
    const tbody = h('tbody');
    for (const inv of invites) {
      const resend = h('button', { type: 'button', 'data-action': 'resend' }, t('admin.resend'), h('span.sr', ` ${t('admin.to', { email: inv.email })}`));
      const revoke = h('button.danger', { type: 'button', 'data-action': 'revoke' }, t('admin.revoke'), h('span.sr', ` ${t('admin.to', { email: inv.email })}`));
      resend.addEventListener('click', async () => {
        resend.disabled = true;
        try {
          const d = await api('POST', `/api/invites/${inv.id}/resend`, {});
          say(t('admin.resent', { email: inv.email }), ' ',
            h('label', { for: 'resent-url', class: 'sr' }, t('admin.inviteLink')),
            h('input.invite-url', { id: 'resent-url', readonly: true, value: d.invite.url }));
          await load();
        } catch { resend.disabled = false; }
      });
      revoke.addEventListener('click', async () => {
        if (!confirm(t('admin.confirmRevoke', { email: inv.email }))) return;
        try {
          await api('DELETE', `/api/invites/${inv.id}`);
          say(t('admin.revoked', { email: inv.email }));
          await load();
        } catch { /* shown */ }
      });
      tbody.append(h('tr', { 'data-invite-id': inv.id },
        cell(t('field.email'), inv.email), cell(t('field.name'), inv.name),
        cell(t('field.role'), t(`role.${inv.role}`)),
        cell(t('admin.invitedBy'), inv.invited_by ? inv.invited_by.name : ''),
        cell(t('admin.sent'), fmtDay(inv.created_at)),
        cell(t('admin.expires'), inv.expired ? h('span.badge.expired', t('admin.expired')) : fmtDay(inv.expires_at)),
        h('td.cell-actions', { 'data-label': t('admin.actions') }, resend, ' ', revoke)));
    }
    const th = (k) => h('th', { scope: 'col' }, t(k));
    clear(body).append(h('p', { id: 'pending-count' }, tn('admin.pendingCount', invites.length)),
      h('div.table-wrap', h('table.stack', { id: 'pending-invites' },
        h('thead', h('tr', th('field.email'), th('field.name'), th('field.role'), th('admin.invitedBy'), th('admin.sent'),
          th('admin.expires'), th('admin.actions'))), tbody)));
  };
  return { box, load };
}

async function peopleSection(ctx) {
  const me = currentUser();
  const tbody = h('tbody');
  const box = h('section.card-box', { 'aria-labelledby': 'admin-people-h' }, h('h2', { id: 'admin-people-h' }, t('admin.people')),
    h('div.table-wrap', h('table.people-table.stack', { id: 'admin-people' },
      h('thead', h('tr', h('th', { scope: 'col' }, t('field.name')), h('th', { scope: 'col' }, t('field.email')),
        h('th', { scope: 'col' }, t('field.team')), h('th', { scope: 'col' }, t('field.role')), h('th', { scope: 'col' }, t('admin.status')))),
      tbody)));
  const load = async () => {
    const { people } = await api('GET', '/api/people', undefined, { quiet: true });
    if (!ctx.alive()) return;
    clear(tbody);
    for (const p of people) {
      const self = p.id === me.id;
      const role = h('select', { 'aria-label': t('admin.roleOf', { name: p.name }), disabled: self },
        h('option', { value: 'member', selected: p.role === 'member' }, t('role.member')),
        h('option', { value: 'admin', selected: p.role === 'admin' }, t('role.admin')));
      role.addEventListener('change', async () => {
        try { await api('PATCH', `/api/people/${p.id}`, { role: role.value }); flash(t('form.saved'), 'ok'); } catch { role.value = p.role; }
      });
      const deact = h('button', { type: 'button', disabled: self }, p.deactivated ? t('admin.reactivate') : t('admin.deactivate'));
      deact.addEventListener('click', async () => {
        if (!p.deactivated && !confirm(t('admin.confirmDeactivate', { name: p.name }))) return;
        try { await api('PATCH', `/api/people/${p.id}`, { deactivated: !p.deactivated }); await load(); } catch { /* shown */ }
      });
      const cell = (label, ...c) => h('td', { 'data-label': label }, ...c);
      tbody.append(h('tr' + (p.deactivated ? '.inactive' : ''),
        cell(t('field.name'), h('span.person-line', avatar(p.name, { url: p.avatar_url }), h('a', { href: `/people/${p.id}` }, p.name))),
        cell(t('field.email'), p.email), cell(t('field.team'), p.team || ''), cell(t('field.role'), role),
        cell(t('admin.status'), p.deactivated ? h('span.badge', t('people.deactivated')) : null, ' ', deact)));
    }
  };
  await load();
  return box;
}

function daySelect(name, value) {
  return h('select', { name }, [1, 2, 3, 4, 5, 6, 7].map((d) => h('option', { value: String(d), selected: Number(value) === d }, t(`day.${d}`))));
}

// Reminder schedule (/api/admin/schedule) and mail (/api/admin/mail, with
// /api/admin/mail/test), each shown only when the server has it.
async function settingsSection(ctx) {
  const box = h('section.card-box', { 'aria-labelledby': 'admin-settings-h' }, h('h2', { id: 'admin-settings-h' }, t('admin.settings')));
  let sched;
  let mail;
  try {
    [sched, mail] = await Promise.all([api('GET', '/api/admin/schedule', undefined, { quiet: true }),
      api('GET', '/api/admin/mail', undefined, { quiet: true })]);
  } catch (e) {
    box.append(h('p.notice.error', e.message));
    return box;
  }
  {
    const rd = daySelect('reminder_day', sched.reminder_day);
    const rt = input('reminder_time', { type: 'time', value: sched.reminder_time || '10:00' });
    const r2 = h('input', { type: 'checkbox', id: 'reminder-second', checked: !!sched.reminder_second });
    const dd = daySelect('digest_day', sched.digest_day);
    const dt = input('digest_time', { type: 'time', value: sched.digest_time || '08:00' });
    box.append(makeForm({
      label: t('admin.schedule'), submit: t('form.save'), id: 'schedule-form',
      children: [h('h3', t('admin.schedule')), field(t('admin.setting.reminder_day'), rd), field(t('admin.setting.reminder_time'), rt),
        h('div.row', r2, h('label', { for: 'reminder-second' }, t('admin.setting.reminder_second'))),
        field(t('admin.setting.digest_day'), dd), field(t('admin.setting.digest_time'), dt)],
      onSubmit: async () => {
        await api('PUT', '/api/admin/schedule', {
          reminder_day: Number(rd.value), reminder_time: rt.value, reminder_second: r2.checked,
          digest_day: Number(dd.value), digest_time: dt.value,
        }, { quiet: true });
        return t('form.saved');
      },
    }));
  }
  {
    const url = input('smtp_url', { value: mail.smtp_url || '', placeholder: 'smtps://user:password@mail.example.com:465' });
    const from = input('mail_from', { value: mail.mail_from || '', placeholder: 'Hubcast <hubcast@example.com>' });
    const state = h('p.hint', { id: 'mail-state' }, mail.enabled ? t('admin.mailOn') : t('admin.mailOff'));
    box.append(makeForm({
      label: t('admin.mail'), submit: t('form.save'), id: 'mail-form',
      children: [h('h3', t('admin.mail')), state, field(t('admin.setting.smtp_url'), url, t('admin.smtpHint')),
        field(t('admin.setting.mail_from'), from)],
      onSubmit: async () => {
        const body = {};
        if (url.value !== (mail.smtp_url || '')) body.smtp_url = url.value.trim();
        if (from.value !== (mail.mail_from || '')) body.mail_from = from.value.trim();
        const d = await api('PUT', '/api/admin/mail', body, { quiet: true });
        mail = d;
        state.textContent = d.enabled ? t('admin.mailOn') : t('admin.mailOff');
        return t('form.saved');
      },
    }));
    box.append(makeForm({
      label: t('admin.testMail'), submit: t('admin.sendTest'), id: 'test-mail-form',
      children: [h('p.hint', t('admin.testTo', { email: currentUser().email }))],
      onSubmit: async () => {
        const d = await api('POST', '/api/admin/mail/test', {}, { quiet: true });
        return t('admin.testQueued', { email: d.to });
      },
    }));
  }
  return box;
}

// Participation (GET /api/participation: {weeks: [{week, posted, active,
// rate, teams: [{team, posted, active, rate}]}]}, oldest week first): a
// chart of the rate per week, one small chart per team, and the numbers
// as a table.
async function participationSection(ctx) {
  const box = h('section.card-box', { 'aria-labelledby': 'participation-h' }, h('h2', { id: 'participation-h' }, t('admin.participation')));
  let weeks;
  try {
    weeks = (await api('GET', '/api/participation?weeks=8', undefined, { quiet: true })).weeks;
  } catch (e) {
    box.append(h('p.notice.error', e.message));
    return box;
  }
  if (!ctx.alive()) return box;
  const pct = (r) => `${Math.round(r * 100)}%`;
  box.append(barChart({ id: 'participation-chart', caption: t('admin.rateChart'),
    bars: weeks.map((w) => ({ label: shortWeek(w.week), value: w.rate, text: w.active ? pct(w.rate) : '–' })) }));
  const teams = [...new Set(weeks.flatMap((w) => w.teams.map((x) => x.team)))];
  box.append(h('h3', t('admin.byTeam')), h('div.team-charts', { id: 'team-charts' }, teams.map((team) => barChart({
    id: null, small: true, height: 80, caption: team || t('admin.noTeam'),
    bars: weeks.map((w) => {
      const x = w.teams.find((y) => y.team === team);
      return { label: shortWeek(w.week), value: x ? x.rate : 0, text: x && x.active ? pct(x.rate) : '–' };
    }),
  }))));
  const table = h('table.participation.stack', { id: 'participation' },
    h('thead', h('tr', h('th', { scope: 'col' }, t('admin.week')), h('th', { scope: 'col' }, t('admin.posted')),
      h('th', { scope: 'col' }, t('admin.rate')), h('th', { scope: 'col' }, t('admin.byTeam')))));
  const tb = h('tbody');
  for (const w of [...weeks].reverse()) {
    const teamText = w.teams.map((x) => `${x.team || t('admin.noTeam')}: ${pct(x.rate)}`).join(', ');
    tb.append(h('tr', h('th', { scope: 'row', 'data-label': t('admin.week') }, h('a', { href: `/week/${w.week}` }, w.week)),
      h('td', { 'data-label': t('admin.posted') }, `${w.posted} / ${w.active}`),
      h('td', { 'data-label': t('admin.rate') }, pct(w.rate)),
      h('td', { 'data-label': t('admin.byTeam') }, teamText)));
  }
  table.append(tb);
  box.append(h('details.table-details', h('summary', t('admin.asTable')), h('div.table-wrap', table)));
  return box;
}
