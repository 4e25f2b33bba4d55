// pages/record.js - record an update in the browser: camera, screen, or
// screen with the camera in a corner (composited on a canvas), microphone
// level meter, 3-2-1 countdown, timer, pause/resume, stop, preview, retake,
// title, publish. The check-in prompts (GET /api/prompts) sit beside the
// preview, each with an optional short answer. The recording uploads while
// it is made (MediaRecorder chunks every second -> IndexedDB -> tus with
// deferred length; H.264 where the browser offers it, keyframes every 2 s); Publish ends the upload, then one PATCH sets what was
// chosen meanwhile (title, kind, answers). After a crash or reload the page
// offers to finish or discard what was kept.
import { h, append, fmtDuration, fmtBytes, announce } from '../dom.js';
import { t } from '../i18n.js';
import { api, currentUser, isAdmin, flash } from '../api.js';
import { currentWeek } from '../week.js';
import { updateForUpload, tusFailure } from '../uploader.js';
import { putRecording, appendChunk, listRecordings, getChunks, deleteRecording } from '../chunkstore.js';
import { RecordingSource, startRecordingUpload } from '../recupload.js';
import { withMentions } from '../mentions.js';
import { trimEditor } from '../trim.js';

const TIMESLICE = 1000;

// What MediaRecorder is asked to write, best first. H.264 comes first: the
// server remuxes it (no re-encode) to make the update playable the moment
// the upload ends. MP4 only with AAC (Safari); Chromium offers H.264 in
// "video/webm;codecs=h264", which it writes as Matroska. Then VP9, VP8,
// which the server encodes as they arrive.
const MIME_CANDIDATES = [
  'video/mp4;codecs=avc1.42E01F,mp4a.40.2', 'video/mp4;codecs=avc1.4D401F,mp4a.40.2', 'video/mp4;codecs=avc1,mp4a',
  'video/webm;codecs=h264,opus', 'video/webm;codecs=avc1,opus', 'video/x-matroska;codecs=avc1,opus',
  'video/webm;codecs=h264', 'video/webm;codecs=avc1',
  'video/webm;codecs=vp9,opus', 'video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm', 'video/mp4',
];

function pickMime() {
  for (const c of MIME_CANDIDATES) if (window.MediaRecorder && MediaRecorder.isTypeSupported(c)) return c;
  return '';
}

// A keyframe about every 2 s (the segment length the server cuts at; the
// browser's default is every 5 s or more).
const KEYFRAME_MS = 2000;

function mediaError(e, what) {
  const n = e && e.name;
  if (n === 'NotAllowedError' || n === 'SecurityError' || n === 'PermissionDeniedError')
    return t(what === 'screen' ? 'record.screenRefused' : 'record.permissionRefused');
  if (n === 'NotFoundError' || n === 'DevicesNotFoundError' || n === 'OverconstrainedError')
    return t(what === 'screen' ? 'record.noScreen' : 'record.noDevice');
  if (n === 'NotReadableError' || n === 'TrackStartError') return t('record.deviceBusy');
  return t('record.mediaFailed', { message: (e && e.message) || String(e) });
}

// A ticker in a worker keeps the canvas compositing going when the tab is
// in the background (timers in a page are throttled there).
function ticker(fps, fn) {
  const src = `let i=setInterval(()=>postMessage(0),${Math.round(1000 / fps)});onmessage=()=>clearInterval(i);`;
  const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
  const w = new Worker(url);
  w.onmessage = fn;
  return () => { w.postMessage(0); w.terminate(); URL.revokeObjectURL(url); };
}

export default async function record(ctx) {
  ctx.title(t('record.title'));
  const me = currentUser();
  const root = h('section.record');
  ctx.main.append(h('h1', t('record.title')), root);
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    root.append(h('p.notice.error', t('record.unsupported')), h('p', h('a', { href: '/upload' }, t('record.uploadInstead'))));
    return;
  }
  let pending = [];
  try { pending = (await listRecordings()).filter((r) => r.userId === me.id); } catch { /* no IndexedDB */ }
  if (!ctx.alive()) return;
  if (pending.length) return resumeView(ctx, root, pending.sort((a, b) => b.createdAt - a.createdAt)[0]);
  setupView(ctx, root, me);
}

// ---- after a reload: finish or discard a kept recording ----
async function resumeView(ctx, root, meta) {
  const chunks = await getChunks(meta.id);
  const bytes = chunks.reduce((n, c) => n + c.size, 0);
  const status = h('p', { id: 'record-status', role: 'status', 'aria-live': 'polite' });
  const bar = h('progress', { id: 'record-upload-progress', max: 100, value: 0, 'aria-label': t('record.uploadProgress') });
  const title = h('input', { id: 'record-title', value: meta.title, maxlength: 200 });
  const finishBtn = h('button.primary', { type: 'button', id: 'record-finish' }, t('record.finish'));
  const discardBtn = h('button.danger', { type: 'button', id: 'record-discard' }, t('record.discard'));
  const preview = h('video', { id: 'record-preview', controls: true, playsInline: true });
  if (meta.refused) finishBtn.hidden = true;
  root.append(h('div.notice', { id: meta.refused ? 'refused-recording' : 'pending-recording' },
    h('p', meta.refused ? t('record.refused', { message: meta.refused })
      : t('record.pending', { duration: fmtDuration(meta.duration / 1000), size: fmtBytes(bytes) })),
    h('span.sr', { id: 'pending-duration' }, String(meta.duration / 1000))),
  h('div.field', h('label', { for: 'record-title' }, t('field.title')), title),
  h('div.actions', finishBtn, discardBtn), bar, status, h('div.rec-stage', preview));
  if (chunks.length) {
    const url = URL.createObjectURL(new Blob(chunks.sort((a, b) => a.seq - b.seq).map((c) => c.blob), { type: meta.mimeType }));
    preview.src = url;
    ctx.onLeave(() => URL.revokeObjectURL(url));
  }
  discardBtn.addEventListener('click', async () => {
    if (!confirm(t('record.confirmDiscard'))) return;
    if (meta.uploadUrl && window.tus) window.tus.Upload.terminate(meta.uploadUrl, { headers: {} }).catch(() => {});
    await deleteRecording(meta.id);
    ctx.rerender();
  });
  finishBtn.addEventListener('click', async () => {
    finishBtn.disabled = true;
    discardBtn.disabled = true;
    meta.finished = true;
    meta.title = title.value.trim() || meta.title;
    await putRecording(meta);
    const source = new RecordingSource(meta, chunks);
    status.textContent = t('record.publishing');
    await runUpload(ctx, meta, source, bar, status, () => meta.title);
  });
}

// What Publish changes on the update the upload made: the title typed
// since recording began, the kind chosen since (an upload's kind is set
// when it starts), the check-in answers. {} when nothing.
function changesFor(meta, title) {
  const p = {};
  if (title && title !== meta.sentTitle) p.title = title;
  if (meta.kind && meta.kind !== (meta.sentKind || 'weekly')) p.kind = meta.kind;
  if (meta.answers && meta.answers.length) p.answers = meta.answers;
  if (meta.trim) p.trim = meta.trim;
  return p;
}

// The check-in prompts beside the preview, each with an optional answer
// (at most 1000 bytes; @mentions offered). onChange(answers) on typing.
function checkinPanel(ctx, onChange) {
  const list = h('ol.checkin-list', { id: 'checkin-prompts' });
  const el = h('aside.checkin', { id: 'checkin', 'aria-labelledby': 'checkin-h', hidden: true },
    h('h2', { id: 'checkin-h' }, t('checkin.title')), h('p.hint', { id: 'checkin-hint' }, t('checkin.hint')), list);
  const fields = [];
  const answers = () => fields.map((f) => ({ prompt: f.prompt, text: f.box.value.trim() })).filter((a) => a.text);
  api('GET', '/api/prompts', undefined, { quiet: true }).then((d) => {
    if (!ctx.alive() || !d.prompts || !d.prompts.length) return;
    d.prompts.forEach((prompt, i) => {
      const box = h('textarea.checkin-answer', { id: `answer-${i}`, rows: 2, maxlength: 1000, 'aria-describedby': 'checkin-hint' });
      box.addEventListener('input', () => onChange(answers()));
      fields.push({ prompt, box });
      list.append(h('li.checkin-item', h('label.checkin-prompt', { for: box.id }, prompt), withMentions(box)));
    });
    el.hidden = false;
  }).catch(() => { /* no prompts: record without them */ });
  return { el, answers };
}

const tooLong = (a) => new TextEncoder().encode(a.text).length > 1000;

// Upload (or resume) and, once the server has everything, go to the update.
async function runUpload(ctx, meta, source, bar, status, getTitle) {
  const up = await startRecordingUpload(meta, source, {
    onProgress: (sent) => {
      const total = source.total();
      bar.value = total ? Math.floor((sent / total) * 100) : 0;
      bar.dataset.sent = String(sent);
    },
    onError: async (err) => {
      const f = tusFailure(err);
      source.failed = true;
      if (f.refused) {
        // The server will not take this upload: the recording stays on this
        // device to watch or discard, but is not offered for resuming.
        meta.refused = f.message;
        meta.uploadUrl = null;
        await putRecording(meta).catch(() => {});
      }
      status.textContent = t('record.uploadFailed', { message: f.message });
      flash(t('record.uploadFailed', { message: f.message }));
    },
    onSuccess: async (uploadId) => {
      bar.value = 100;
      if (!source.finished) return;
      let id;
      try {
        id = await updateForUpload(uploadId);
        await deleteRecording(meta.id);
      } catch (e) {
        status.textContent = t('upload.noUpdate', { message: e.message });
        return;
      }
      const changes = changesFor(meta, getTitle());
      if (Object.keys(changes).length) {
        try {
          await api('PATCH', `/api/updates/${id}`, changes, { quiet: true });
        } catch (e) {
          // The video is published; what was chosen at Publish is not.
          status.replaceChildren(t('record.changesFailed', { message: e.message }), ' ',
            h('a', { href: `/watch/${id}`, id: 'record-open' }, t('record.openUpdate')));
          return;
        }
      }
      announce(t('record.published'));
      if (ctx.alive()) ctx.navigate(`/watch/${id}`);
    },
  });
  return up;
}

// ---- recording ----
function setupView(ctx, root, me) {
  const modes = h('fieldset.modes', h('legend.sr', t('record.mode')),
    ['camera', 'screen', 'both'].map((m) => h('label', h('input', { type: 'radio', name: 'mode', value: m, checked: m === 'camera' }), ' ', t(`record.mode.${m}`))));
  if (!navigator.mediaDevices.getDisplayMedia) modes.querySelectorAll('input[value=screen],input[value=both]').forEach((i) => { i.disabled = true; });
  const title = h('input', { id: 'record-title', maxlength: 200, value: t('record.defaultTitle', { week: currentWeek(me.time_zone) }) });
  const kind = h('select', { id: 'record-kind' }, h('option', { value: 'weekly' }, t('kind.weekly')), h('option', { value: 'allhands' }, t('kind.allhands')));
  const live = h('video', { id: 'record-live', muted: true, autoplay: true, playsInline: true });
  live.muted = true;
  const countdown = h('div.countdown', { hidden: true, 'aria-live': 'assertive' });
  const indicator = h('div.rec-indicator', { id: 'record-timer', hidden: true, role: 'timer', 'aria-label': t('record.elapsed') }, '0:00');
  const stage = h('div.rec-stage', live, countdown, indicator);
  const checkin = checkinPanel(ctx, (answers) => { if (meta) meta.answers = answers; });
  const meter = h('meter.meter', { id: 'mic-level', min: 0, max: 1, low: 0.6, high: 0.85, optimum: 0.3, value: 0, 'aria-label': t('record.micLevel') });
  const micNote = h('span.hint', { id: 'mic-note' });
  const status = h('p', { id: 'record-status', role: 'status', 'aria-live': 'polite' });
  const error = h('p.notice.error', { id: 'record-error', role: 'alert', hidden: true });
  const btn = (id, label, cls = '') => h(`button${cls}`, { type: 'button', id, hidden: true }, label);
  const enableBtn = h('button.primary', { type: 'button', id: 'record-enable' }, t('record.enable'));
  const startBtn = btn('record-start', `● ${t('record.start')}`, '.primary.big');
  const pauseBtn = btn('record-pause', t('record.pause'));
  const stopBtn = btn('record-stop', `■ ${t('record.stop')}`, '.danger');
  const publishBtn = btn('record-publish', t('record.publish'), '.primary.big');
  const retakeBtn = btn('record-retake', t('record.retake'));
  const upBar = h('progress', { id: 'record-upload-progress', max: 100, value: 0, 'aria-label': t('record.uploadProgress') });
  const upText = h('span.hint', { id: 'record-upload-text' });
  const upRow = h('div.row', { hidden: true }, upBar, upText);

  const layout = h('div.rec-layout', stage, checkin.el);
  append(root, [modes, error, layout,
    h('div.row', h('label', { for: 'mic-level' }, t('record.micLevel')), meter, micNote),
    h('div.actions.rec-controls', enableBtn, startBtn, pauseBtn, stopBtn, publishBtn, retakeBtn),
    h('div.field', h('label', { for: 'record-title' }, t('field.title')), title),
    isAdmin() ? h('div.field', h('label', { for: 'record-kind' }, t('field.kind')), kind) : null,
    upRow, status]);

  let streams = [];
  let stream = null;
  let stopTicker = null;
  let audioCtx = null;
  let rec = null;
  let meta = null;
  let source = null;
  let upload = null;
  let seq = 0;
  let offset = 0;
  let elapsed = 0;
  let lastTick = 0;
  let timer = null;
  let previewUrl = null;
  let trim = null;
  let stopped = false;
  let writeChain = Promise.resolve();

  const show = (...els) => { for (const b of [enableBtn, startBtn, pauseBtn, stopBtn, publishBtn, retakeBtn]) b.hidden = !els.includes(b); };
  const fail = (msg) => { error.hidden = !msg; error.textContent = msg || ''; };

  function release() {
    if (stopTicker) stopTicker();
    stopTicker = null;
    for (const s of streams) for (const tr of s.getTracks()) tr.stop();
    streams = [];
    if (audioCtx) audioCtx.close().catch(() => {});
    audioCtx = null;
    clearInterval(timer);
  }
  ctx.onLeave(() => {
    release();
    if (rec && rec.state !== 'inactive') rec.stop();
    if (upload && source && !source.finished) upload.abort();
    if (previewUrl) URL.revokeObjectURL(previewUrl);
  });

  function levelMeter(s) {
    const tracks = s.getAudioTracks();
    if (!tracks.length) { micNote.textContent = t('record.noMic'); return; }
    try {
      audioCtx = new AudioContext();
      const an = audioCtx.createAnalyser();
      an.fftSize = 1024;
      audioCtx.createMediaStreamSource(new MediaStream(tracks)).connect(an);
      const buf = new Float32Array(an.fftSize);
      const loop = () => {
        if (!audioCtx) return;
        an.getFloatTimeDomainData(buf);
        let sum = 0;
        for (const v of buf) sum += v * v;
        meter.value = Math.min(1, Math.sqrt(sum / buf.length) * 4);
        requestAnimationFrame(loop);
      };
      loop();
    } catch { micNote.textContent = ''; }
  }

  async function camera() {
    try {
      return await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: { echoCancellation: true } });
    } catch (e) {
      if (e.name !== 'NotFoundError' && e.name !== 'OverconstrainedError') throw e;
      // No microphone or no camera: try the one that exists.
      try {
        const v = await navigator.mediaDevices.getUserMedia({ video: true });
        micNote.textContent = t('record.noMic');
        return v;
      } catch { throw e; }
    }
  }

  async function enable() {
    fail('');
    release();
    const mode = root.querySelector('input[name=mode]:checked').value;
    try {
      if (mode === 'camera') {
        stream = await camera();
        streams.push(stream);
      } else {
        let screen;
        try {
          screen = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 30 }, audio: false });
        } catch (e) { throw Object.assign(new Error(mediaError(e, 'screen')), { handled: true }); }
        await atMost1080p(screen.getVideoTracks()[0]);
        streams.push(screen);
        let mic = null;
        let cam = null;
        try {
          cam = mode === 'both' ? await camera() : await navigator.mediaDevices.getUserMedia({ audio: true });
          streams.push(cam);
        } catch (e) { micNote.textContent = mediaError(e, 'camera'); }
        mic = cam ? cam.getAudioTracks() : [];
        if (mode === 'screen') stream = new MediaStream([...screen.getVideoTracks(), ...mic]);
        else stream = composite(screen, cam, mic);
        screen.getVideoTracks()[0].addEventListener('ended', () => { if (rec && rec.state !== 'inactive') stop(); });
      }
    } catch (e) {
      fail(e.handled ? e.message : mediaError(e, 'camera'));
      release();
      return;
    }
    live.srcObject = stream;
    live.play().catch(() => {});
    levelMeter(stream);
    show(startBtn);
    status.textContent = t('record.ready');
    startBtn.focus();
  }

  // A screen larger than 1080p is recorded scaled down to fit 1920x1080,
  // its shape kept: the ladder's top rung is 1080p, and up to that the
  // server copies a browser's H.264 or encodes it faster than real time (a
  // 4K screen at its own size would be neither, and playable only later).
  // A smaller screen keeps its size.
  async function atMost1080p(track) {
    const { width = 0, height = 0 } = track.getSettings();
    const scale = Math.min(1920 / (width || 1), 1080 / (height || 1));
    if (!width || !height || scale >= 1) return;
    const even = (v) => Math.max(2, Math.floor((v * scale) / 2) * 2);
    await track.applyConstraints({ width: { max: even(width) }, height: { max: even(height) }, frameRate: 30 })
      .catch(() => {});   // recorded at its own size, as before
  }

  // Screen full size with the camera in the bottom-right corner.
  function composite(screen, cam, mic) {
    const sv = h('video', { muted: true, playsInline: true });
    sv.muted = true;
    sv.srcObject = screen;
    sv.play().catch(() => {});
    let cv = null;
    if (cam && cam.getVideoTracks().length) {
      cv = h('video', { muted: true, playsInline: true });
      cv.muted = true;
      cv.srcObject = new MediaStream(cam.getVideoTracks());
      cv.play().catch(() => {});
    }
    const s = screen.getVideoTracks()[0].getSettings();
    const scale = Math.min(1, 1920 / (s.width || 1280));
    const canvas = h('canvas', { width: Math.round((s.width || 1280) * scale / 2) * 2, height: Math.round((s.height || 720) * scale / 2) * 2 });
    const g = canvas.getContext('2d');
    stopTicker = ticker(30, () => {
      g.drawImage(sv, 0, 0, canvas.width, canvas.height);
      if (cv && cv.videoWidth) {
        const w = Math.round(canvas.width * 0.22);
        const hh = Math.round((w * cv.videoHeight) / cv.videoWidth);
        const x = canvas.width - w - 16;
        const y = canvas.height - hh - 16;
        g.save();
        g.beginPath();
        g.roundRect ? g.roundRect(x, y, w, hh, 12) : g.rect(x, y, w, hh);
        g.clip();
        g.drawImage(cv, x, y, w, hh);
        g.restore();
      }
    });
    return new MediaStream([...canvas.captureStream(30).getVideoTracks(), ...mic]);
  }

  function tick() {
    const now = performance.now();
    if (rec && rec.state === 'recording') elapsed += now - lastTick;
    lastTick = now;
    indicator.textContent = fmtDuration(elapsed / 1000);
  }

  async function countdownThenRecord() {
    show();
    countdown.hidden = false;
    for (const n of [3, 2, 1]) {
      countdown.textContent = String(n);
      announce(String(n));
      await new Promise((r) => setTimeout(r, 1000));
      if (!ctx.alive()) return;
    }
    countdown.hidden = true;
    begin();
  }

  async function begin() {
    const mimeType = pickMime();
    try {
      rec = new MediaRecorder(stream, mimeType
        ? { mimeType, videoBitsPerSecond: 2500000, videoKeyFrameIntervalDuration: KEYFRAME_MS }
        : { videoKeyFrameIntervalDuration: KEYFRAME_MS });
    } catch (e) { fail(mediaError(e)); show(startBtn); return; }
    const type = (rec.mimeType || mimeType || 'video/webm').split(';')[0];
    const ext = type.includes('mp4') ? 'mp4' : type.includes('matroska') ? 'mkv' : 'webm';
    meta = {
      id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      userId: currentUser().id, createdAt: Date.now(), mimeType: type, filename: `recording-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.${ext}`,
      title: title.value.trim() || t('record.defaultTitle', { week: currentWeek(currentUser().time_zone) }),
      kind: isAdmin() ? kind.value : 'weekly', duration: 0, bytes: 0, finished: false, uploadUrl: null,
      answers: checkin.answers(),
    };
    meta.sentTitle = meta.title;
    meta.sentKind = meta.kind;
    seq = 0; offset = 0; elapsed = 0; stopped = false;
    await putRecording(meta);
    source = new RecordingSource(meta);
    rec.addEventListener('dataavailable', (e) => {
      if (!e.data || !e.data.size) return;
      const chunk = { rec: meta.id, seq: seq++, start: offset, size: e.data.size, blob: e.data };
      offset += e.data.size;
      tick();
      meta.duration = Math.round(elapsed);
      meta.bytes = offset;
      const snapshot = { ...meta };
      writeChain = writeChain.then(() => appendChunk(snapshot, chunk.seq, chunk.blob, chunk.start))
        .then(() => source.add(chunk))
        .catch((err) => fail(t('record.storeFailed', { message: err.message })));
    });
    rec.addEventListener('stop', async () => {
      await writeChain;
      stopped = true;
      afterStop();
    });
    rec.addEventListener('error', (e) => fail(mediaError(e.error || e)));
    rec.start(TIMESLICE);
    lastTick = performance.now();
    indicator.hidden = false;
    indicator.classList.add('live');
    timer = setInterval(tick, 250);
    show(pauseBtn, stopBtn);
    pauseBtn.textContent = t('record.pause');
    stopBtn.focus();
    status.textContent = t('record.recording');
    upRow.hidden = false;
    upload = await runUpload(ctx, meta, source, upBar, upText, () => title.value.trim());
    const showSent = setInterval(() => {
      if (!ctx.alive()) return clearInterval(showSent);
      upText.textContent = t('record.uploaded', { sent: fmtBytes(Number(upBar.dataset.sent || 0)), total: fmtBytes(source.total()) });
    }, 1000);
    ctx.onLeave(() => clearInterval(showSent));
  }

  function pause() {
    if (!rec) return;
    tick();
    if (rec.state === 'recording') {
      rec.pause();
      indicator.classList.remove('live');
      pauseBtn.textContent = t('record.resume');
      status.textContent = t('record.paused');
    } else if (rec.state === 'paused') {
      rec.resume();
      indicator.classList.add('live');
      pauseBtn.textContent = t('record.pause');
      status.textContent = t('record.recording');
    }
  }

  function stop() {
    if (!rec || rec.state === 'inactive') return;
    tick();
    clearInterval(timer);
    indicator.classList.remove('live');
    rec.stop();
    show();
    status.textContent = t('record.stopping');
  }

  async function afterStop() {
    release();
    meta.duration = Math.round(elapsed);
    await putRecording(meta);
    live.srcObject = null;
    live.muted = false;
    live.controls = true;
    previewUrl = URL.createObjectURL(new Blob(source.chunks.map((c) => c.blob), { type: meta.mimeType }));
    live.src = previewUrl;
    status.textContent = t('record.review', { duration: fmtDuration(meta.duration / 1000) });
    // Start and end of what is published, from the preview's timeline.
    trim = trimEditor({ video: live, length: meta.duration / 1000, prefix: 'record', initial: null });
    layout.after(trim.el);
    show(publishBtn, retakeBtn);
    publishBtn.focus();
  }

  async function publish() {
    if (!stopped) return;
    const answers = checkin.answers();
    if (answers.some(tooLong)) { fail(t('checkin.tooLong')); return; }
    if (trim && trim.error()) { fail(trim.error()); return; }
    fail('');
    publishBtn.disabled = true;
    retakeBtn.disabled = true;
    meta.finished = true;
    meta.title = title.value.trim() || meta.title;
    // The kind and the answers chosen now are set on the update once the
    // upload (begun with the kind of when recording started) is complete.
    meta.kind = isAdmin() ? kind.value : 'weekly';
    meta.answers = answers;
    meta.trim = trim ? trim.value() : null;
    status.textContent = t('record.publishing');
    await putRecording(meta);
    source.finish();
    if (meta.refused) return;
    if (source.failed && upload) {
      // tus gave up after its retries: start again from the server's offset.
      source.failed = false;
      upload.start();
    }
  }

  async function retake() {
    if (!confirm(t('record.confirmRetake'))) return;
    if (upload) {
      upload.abort(true).catch(() => {});
    }
    await deleteRecording(meta.id);
    ctx.rerender();
  }

  enableBtn.addEventListener('click', enable);
  startBtn.addEventListener('click', countdownThenRecord);
  pauseBtn.addEventListener('click', pause);
  stopBtn.addEventListener('click', stop);
  publishBtn.addEventListener('click', publish);
  retakeBtn.addEventListener('click', retake);
  // Choosing a mode (arrow keys move between the radios) never starts a
  // capture: a preview already on is turned off, and Enable starts the new one.
  modes.addEventListener('change', () => {
    if (rec) return;
    if (streams.length) {
      release();
      live.srcObject = null;
      stream = null;
      status.textContent = t('record.intro');
    }
    show(enableBtn);
  });
  status.textContent = t('record.intro');
}
