// pages/settings.js - my profile and preferences: name, title, team, time
// zone (Intl.supportedValuesOf), language (English or French: the
// interface switches as soon as it is saved, and mails follow it),
// notifications for new updates (immediately, daily digest, off) and
// reminders, a new password (PATCH /api/me), and a picture (POST and
// DELETE /api/me/avatar: a JPEG or PNG, made square by the server).
import { h, field, avatar, announce } from '../dom.js';
import { t } from '../i18n.js';
import { api, currentUser, setSession, csrfToken, flash } from '../api.js';
import { makeForm, input } from '../form.js';

function zones() {
  try { return Intl.supportedValuesOf('timeZone'); } catch { return ['UTC', 'Europe/Paris', 'Europe/London', 'America/New_York']; }
}

export default async function settings(ctx) {
  ctx.title(t('settings.title'));
  const me = currentUser();
  const name = input('name', { value: me.name, required: true, autocomplete: 'name', max: 200 });
  const title = input('title', { value: me.title || '', autocomplete: 'organization-title', max: 200 });
  const team = input('team', { value: me.team || '', max: 200 });
  const zs = zones();
  if (me.time_zone && !zs.includes(me.time_zone)) zs.unshift(me.time_zone);
  const tz = h('select', { name: 'time_zone' }, zs.map((z) => h('option', { value: z, selected: z === me.time_zone }, z)));
  const guess = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // Each language named in itself, as people look for their own.
  const language = h('select', { name: 'lang', id: 'settings-lang' },
    [['en', 'English'], ['fr', 'Français']].map(([v, label]) => h('option', { value: v, lang: v, selected: me.lang === v }, label)));
  const radios = ['immediate', 'digest', 'off'].map((v) => h('label.radio',
    h('input', { type: 'radio', name: 'notify_updates', value: v, checked: me.notify_updates === v }), ' ', t(`settings.notify.${v}`)));
  const reminders = h('input', { type: 'checkbox', id: 'notify-reminders', checked: !!me.notify_reminders });
  const allMail = h('input', { type: 'checkbox', id: 'all-mail', checked: !me.unsubscribed });

  const profile = makeForm({
    label: t('settings.profile'), submit: t('form.save'), id: 'profile-form',
    children: [
      h('h2', t('settings.profile')),
      field(t('field.name'), name), field(t('field.jobTitle'), title), field(t('field.team'), team),
      field(t('field.timeZone'), tz, guess && guess !== me.time_zone ? t('settings.tzGuess', { tz: guess }) : null),
      field(t('field.language'), language, t('settings.langHint')),
      h('fieldset', h('legend', t('settings.newUpdates')), radios),
      h('div.row', reminders, h('label', { for: 'notify-reminders' }, t('settings.reminders'))),
      h('div.row', allMail, h('label', { for: 'all-mail' }, t('settings.allMail'))),
    ],
    onSubmit: async (form) => {
      const nu = form.querySelector('input[name=notify_updates]:checked');
      const d = await api('PATCH', '/api/me', {
        name: name.value.trim(), title: title.value.trim(), team: team.value.trim(), time_zone: tz.value,
        notify_updates: nu ? nu.value : me.notify_updates, notify_reminders: reminders.checked,
        unsubscribed: !allMail.checked, lang: language.value,
      }, { quiet: true });
      const changed = d.user.lang !== me.lang;
      // A new language redraws the page in it at once (main.js).
      setSession({ user: d.user, csrf: d.csrf || csrfToken() });
      if (changed) {
        flash(t('form.saved'), 'ok');
        return undefined;
      }
      document.querySelector('#account .me').textContent = d.user.name;
      return t('form.saved');
    },
  });

  const cur = input('current_password', { type: 'password', required: true, autocomplete: 'current-password' });
  const pw = input('password', { type: 'password', required: true, autocomplete: 'new-password', min: 8 });
  const password = makeForm({
    label: t('settings.password'), submit: t('settings.changePassword'), id: 'password-form',
    children: [h('h2', t('settings.password')), field(t('field.currentPassword'), cur),
      field(t('field.newPassword'), pw, t('field.passwordHint'))],
    onSubmit: async () => {
      await api('PATCH', '/api/me', { current_password: cur.value, password: pw.value }, { quiet: true });
      cur.value = '';
      pw.value = '';
      return t('settings.passwordChanged');
    },
  });
  ctx.main.append(h('h1', t('settings.title')), picture(), h('div.columns', profile, password));
}

// The picture: shown as others see it, changed from a file, removed.
function picture() {
  const status = h('p.sub', { id: 'avatar-status', role: 'status' });
  const preview = h('span', { id: 'avatar-preview' });
  const file = h('input', { type: 'file', id: 'avatar-file', accept: 'image/jpeg,image/png', class: 'sr-only' });
  const remove = h('button', { type: 'button', id: 'avatar-remove' }, t('settings.removePicture'));
  const show = (user) => {
    preview.replaceChildren(avatar(user.name, { big: true, url: user.avatar_url }));
    remove.hidden = !user.avatar_url;
    // The header shows the same picture.
    const old = document.querySelector('#account .avatar');
    if (old) old.replaceWith(avatar(user.name, { url: user.avatar_url }));
  };
  const done = (d, msg) => {
    setSession({ user: d.user, csrf: csrfToken() });
    show(d.user);
    status.textContent = msg;
    announce(msg);
  };
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    status.textContent = t('settings.pictureSending');
    try {
      done(await api('POST', '/api/me/avatar', f, { quiet: true }), t('settings.pictureChanged'));
    } catch (e) {
      status.textContent = e.message;
      announce(e.message);
    }
    file.value = '';
  });
  remove.addEventListener('click', async () => {
    try {
      done(await api('DELETE', '/api/me/avatar', undefined, { quiet: true }), t('settings.pictureRemoved'));
    } catch (e) {
      status.textContent = e.message;
    }
  });
  show(currentUser());
  return h('section.avatar-settings', { 'aria-labelledby': 'picture-title' },
    h('h2', { id: 'picture-title' }, t('settings.picture')), preview,
    h('label.btn', { for: 'avatar-file', id: 'avatar-change' }, t('settings.changePicture')), file, remove, status);
}
