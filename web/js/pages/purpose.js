// pages/purpose.js - what the company exists for. Everyone reads it; admins
// edit it. The text is always shown with textContent (paragraphs split on
// blank lines), never as HTML.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { api, isAdmin, flash } from '../api.js';

function paragraphs(text) {
  return String(text || '').split(/\n\s*\n/).filter((s) => s.trim()).map((s) => h('p', s));
}

export default async function purpose(ctx) {
  ctx.title(t('purpose.title'));
  const d = await api('GET', '/api/purpose', undefined, { quiet: true });
  if (!ctx.alive()) return;
  const text = d.purpose;
  const company = d.company_name;
  const view = h('div.purpose-text', { id: 'purpose-text' });
  const show = (s) => {
    clear(view);
    if (s.trim()) view.append(...paragraphs(s));
    else view.append(h('p.empty', t('purpose.empty')));
  };
  show(text);
  ctx.main.append(h('h1', company ? t('purpose.titleOf', { company }) : t('purpose.title')), view);
  if (!isAdmin()) return;
  const ta = h('textarea', { id: 'purpose-edit', rows: 10, maxlength: 20000 });
  ta.value = text;
  const form = h('form.stack', { id: 'purpose-form' },
    h('label', { for: 'purpose-edit' }, t('purpose.edit')), ta,
    h('p.hint', t('purpose.hint')),
    h('div.actions', h('button.primary', { type: 'submit' }, t('form.save'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('PUT', '/api/purpose', { purpose: ta.value });
      show(r.purpose);
      flash(t('form.saved'), 'ok');
    } catch { /* shown */ }
  });
  ctx.main.append(h('details.manage', h('summary', t('purpose.edit')), form));
}
