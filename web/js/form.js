// form.js - forms the same way everywhere: labelled inputs, a submit button
// that is disabled while the request runs, and the server's message shown
// next to the form in an aria-live region.
import { h } from './dom.js';
import { t } from './i18n.js';

// makeForm({label, onSubmit: async (form) => message|undefined, children})
export function makeForm({ label, submit, onSubmit, children, id }) {
  const status = h('p.form-status', { role: 'status', 'aria-live': 'polite' });
  const button = h('button.primary', { type: 'submit' }, submit);
  const form = h('form.stack', { 'aria-label': label, id, novalidate: false }, children, h('div.actions', button), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    status.textContent = t('form.working');
    status.className = 'form-status';
    try {
      const msg = await onSubmit(form);
      status.textContent = msg || '';
      status.className = 'form-status ok';
    } catch (err) {
      status.textContent = err && err.message ? err.message : String(err);
      status.className = 'form-status error';
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export function input(name, { type = 'text', value = '', required, autocomplete, min, max, placeholder } = {}) {
  return h('input', { name, type, value, required, autocomplete, minlength: min, maxlength: max, placeholder });
}
