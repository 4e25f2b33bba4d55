// prompts-admin.js - the admin page's editor of the check-in prompts (the
// questions shown beside the preview while recording): one prompt a line,
// GET and PUT /api/prompts (at most 10, each one line of 1-200 bytes).
// Not for the answers: those belong to each update.
import { h, field } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { makeForm } from './form.js';

const MAX = 10;

// The section, filled once the prompts are loaded.
export function promptsSection(ctx) {
  const box = h('textarea', { id: 'prompts-text', rows: 5 });
  const form = makeForm({
    label: t('prompts.title'), submit: t('form.save'), id: 'prompts-form',
    children: [field(t('prompts.label'), box, t('prompts.hint'))],
    onSubmit: async () => {
      const prompts = box.value.split('\n').map((s) => s.trim()).filter(Boolean);
      if (prompts.length > MAX) throw new Error(t('prompts.tooMany', { n: MAX }));
      if (prompts.some((p) => new TextEncoder().encode(p).length > 200)) throw new Error(t('prompts.tooLongOne'));
      const d = await api('PUT', '/api/prompts', { prompts }, { quiet: true });
      box.value = (d && d.prompts ? d.prompts : prompts).join('\n');
      return t('form.saved');
    },
  });
  const section = h('section.card-box', { id: 'prompts-section', 'aria-labelledby': 'prompts-h' },
    h('h2', { id: 'prompts-h' }, t('prompts.title')), h('p.hint', t('prompts.intro')), form);
  api('GET', '/api/prompts', undefined, { quiet: true }).then((d) => {
    if (ctx.alive()) box.value = d.prompts.join('\n');
  }).catch((e) => { box.placeholder = e.message; });
  return section;
}
