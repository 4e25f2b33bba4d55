// pages/upload.js - upload a video file: drag and drop or choose, title and
// description, the check-in prompts each with an optional answer (sent with
// the upload as tus metadata `answers`), a tus upload to /api/uploads with
// a progress bar (percent, speed, time left), pause and resume, resuming
// after a reload (tus fingerprints in localStorage), then on to the watch
// page of the update. The description and the answers offer @mentions.
import { h, field, fmtBytes, fmtEta, announce } from '../dom.js';
import { t } from '../i18n.js';
import { api, isAdmin, flash } from '../api.js';
import { withMentions } from '../mentions.js';
import { loadTus, chunkSize, tusHeaders, uploadIdFromUrl, RateMeter, updateForUpload, tusFailure, forgetUpload, ENDPOINT } from '../uploader.js';

// Uploads tus remembers in localStorage that never finished.
function interruptedUploads() {
  const out = [];
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (!k.startsWith('tus::') || k.includes('hubcast-rec-')) continue;
      const v = JSON.parse(localStorage.getItem(k));
      if (v && v.metadata && v.metadata.filename) out.push({ key: k, ...v });
    }
  } catch { /* ignore malformed */ }
  return out;
}

// The check-in prompts (GET /api/prompts), each with an optional answer of
// at most 1000 bytes. Hidden when there are none. {el, answers()}: the
// answers written, in the prompts' order, empty ones left out.
function checkinFields(ctx) {
  const list = h('ol.checkin-list');
  const el = h('fieldset.checkin', { id: 'upload-checkin', hidden: true, 'aria-describedby': 'upload-checkin-hint' },
    h('legend', t('checkin.title')), h('p.hint', { id: 'upload-checkin-hint' }, t('checkin.uploadHint')), list);
  const fields = [];
  api('GET', '/api/prompts', undefined, { quiet: true }).then((d) => {
    if (!ctx.alive() || !d.prompts || !d.prompts.length) return;
    d.prompts.forEach((prompt, i) => {
      const box = h('textarea.checkin-answer', { id: `upload-answer-${i}`, name: `answer-${i}`, rows: 2, maxlength: 1000 });
      fields.push({ prompt, box });
      list.append(h('li.checkin-item', h('label.checkin-prompt', { for: box.id }, prompt), withMentions(box)));
    });
    el.hidden = false;
  }).catch(() => { /* no prompts: upload without them */ });
  const answers = () => fields.map((f) => ({ prompt: f.prompt, text: f.box.value.trim() })).filter((a) => a.text);
  return { el, answers, fields };
}

const tooLong = (a) => new TextEncoder().encode(a.text).length > 1000;

export default async function upload(ctx) {
  ctx.title(t('upload.title'));
  let file = null;
  let up = null;
  let paused = false;
  const meter = new RateMeter();

  const fileInput = h('input', { type: 'file', id: 'file-input', accept: 'video/*,.mkv,.mov,.mp4,.webm', class: 'sr-file' });
  const fileLabel = h('label.dropzone', { for: 'file-input', id: 'dropzone', tabindex: '-1' },
    h('strong', t('upload.drop')), h('span', t('upload.or')), h('span.btn', t('upload.choose')));
  const chosen = h('p.chosen', { id: 'chosen', 'aria-live': 'polite' });
  const title = h('input', { name: 'title', id: 'upload-title', maxlength: 200, required: true });
  const desc = h('textarea', { name: 'description', id: 'upload-description', rows: 3, maxlength: 4000 });
  const checkin = checkinFields(ctx);
  const kind = h('select', { id: 'upload-kind' },
    h('option', { value: 'weekly' }, t('kind.weekly')), h('option', { value: 'allhands' }, t('kind.allhands')));
  const startBtn = h('button.primary', { type: 'submit', id: 'upload-start', disabled: true }, t('upload.start'));
  const pauseBtn = h('button', { type: 'button', id: 'upload-pause', hidden: true }, t('upload.pause'));
  const bar = h('progress', { id: 'upload-progress', max: 100, value: 0, 'aria-label': t('upload.progress') });
  const pct = h('span.pct', { id: 'upload-percent' }, '0%');
  const detail = h('span.detail', { id: 'upload-detail' });
  const status = h('p', { id: 'upload-status', role: 'status', 'aria-live': 'polite' });
  const progress = h('div.progress', { hidden: true, id: 'upload-progress-box' }, bar, h('div.progress-text', pct, ' ', detail));

  const form = h('form.stack', { id: 'upload-form', 'aria-label': t('upload.title') },
    fileInput, fileLabel, chosen,
    field(t('field.title'), title),
    h('div.field', h('label', { for: desc.id }, t('field.description')), withMentions(desc)),
    checkin.el,
    isAdmin() ? field(t('field.kind'), kind) : null,
    h('div.actions', startBtn, pauseBtn), progress, status);

  const interrupted = interruptedUploads();
  const resumeNote = interrupted.length
    ? h('div.notice', { id: 'upload-interrupted' },
      h('p', t('upload.interrupted', { names: interrupted.map((u) => u.metadata.filename).join(', ') })))
    : null;
  ctx.main.append(h('section.narrow', h('h1', t('upload.title')), h('p', t('upload.intro')), resumeNote, form));

  function choose(f) {
    if (!f) return;
    if (up) return;
    file = f;
    chosen.textContent = `${f.name} · ${fmtBytes(f.size)}`;
    if (!title.value) title.value = f.name.replace(/\.[^.]+$/, '');
    startBtn.disabled = false;
    if (f.type && !f.type.startsWith('video/') && !f.type.startsWith('audio/'))
      status.textContent = t('upload.notVideo');
    else status.textContent = '';
  }
  fileInput.addEventListener('change', () => choose(fileInput.files[0]));
  for (const ev of ['dragenter', 'dragover']) fileLabel.addEventListener(ev, (e) => { e.preventDefault(); fileLabel.classList.add('over'); });
  for (const ev of ['dragleave', 'drop']) fileLabel.addEventListener(ev, () => fileLabel.classList.remove('over'));
  fileLabel.addEventListener('drop', (e) => { e.preventDefault(); choose(e.dataTransfer.files[0]); });

  function showProgress(sent, total) {
    const p = total ? Math.min(100, Math.floor((sent / total) * 100)) : 0;
    bar.value = p;
    pct.textContent = `${p}%`;
    meter.add(sent);
    const sp = meter.speed();
    detail.textContent = Number.isFinite(sp) && sp > 0
      ? t('upload.speed', { speed: `${fmtBytes(sp)}/s`, left: fmtEta((total - sent) / sp), sent: fmtBytes(sent), total: fmtBytes(total) })
      : t('upload.sent', { sent: fmtBytes(sent), total: fmtBytes(total) });
  }

  let tus;
  try { tus = await loadTus(); } catch (e) {
    status.textContent = t('upload.noTus');
    return;
  }

  pauseBtn.addEventListener('click', () => {
    if (!up) return;
    if (!paused) {
      paused = true;
      up.abort();
      pauseBtn.textContent = t('upload.resume');
      status.textContent = t('upload.paused');
    } else {
      paused = false;
      meter.reset();
      up.start();
      pauseBtn.textContent = t('upload.pause');
      status.textContent = t('upload.uploading');
    }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!file || up) return;
    if (!title.value.trim()) { title.focus(); status.textContent = t('upload.needTitle'); return; }
    const answers = checkin.answers();
    const long = checkin.fields.find((f) => tooLong({ text: f.box.value.trim() }));
    if (long) { long.box.focus(); status.textContent = t('checkin.tooLong'); return; }
    startBtn.disabled = true;
    fileInput.disabled = true;
    progress.hidden = false;
    pauseBtn.hidden = false;
    status.textContent = t('upload.uploading');
    up = new tus.Upload(file, {
      endpoint: ENDPOINT,
      chunkSize: chunkSize(),
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      headers: tusHeaders(),
      removeFingerprintOnSuccess: true,
      metadata: {
        filename: file.name, filetype: file.type || 'application/octet-stream',
        title: title.value.trim(), description: desc.value, kind: isAdmin() ? kind.value : 'weekly',
        // The check-in answers, checked by the server at creation and
        // stored with the update when the last byte arrives.
        ...(answers.length ? { answers: JSON.stringify(answers) } : {}),
      },
      onProgress: showProgress,
      onError: (err) => {
        const f = tusFailure(err);
        // A refusal is final: nothing is left to resume on the next visit.
        if (f.refused) forgetUpload(up.url);
        status.textContent = t('upload.failed', { message: f.message });
        flash(t('upload.failed', { message: f.message }));
        startBtn.disabled = false;
        fileInput.disabled = false;
        pauseBtn.hidden = true;
        up = null;
      },
      onSuccess: async () => {
        bar.value = 100;
        pct.textContent = '100%';
        pauseBtn.hidden = true;
        status.textContent = t('upload.done');
        announce(t('upload.done'));
        try {
          const id = await updateForUpload(uploadIdFromUrl(up.url));
          if (ctx.alive()) ctx.navigate(`/watch/${id}`);
        } catch (err) {
          status.textContent = t('upload.noUpdate', { message: err.message });
        }
      },
    });
    ctx.onLeave(() => { if (up && bar.value < 100) up.abort(); });
    try {
      const prev = await up.findPreviousUploads();
      if (prev.length) {
        prev.sort((a, b) => String(b.creationTime).localeCompare(String(a.creationTime)));
        up.resumeFromPreviousUpload(prev[0]);
        status.textContent = t('upload.resuming');
        const note = document.getElementById('upload-interrupted');
        if (note) note.remove();
      }
    } catch { /* start afresh */ }
    up.start();
  });
}
