// trim.js - the trim editor: where the published video starts and ends,
// in seconds of the recording. Two labelled number inputs (start, end) and
// "Set start here" / "Set end here" buttons that take the time of a video
// being watched, and a line saying how long the result will last. Used
// below the preview after Stop (record.js) and by the author on the watch
// page (watch.js). It only reads and checks the span; sending it
// (PATCH trim) is the page's.
import { h, fmtDuration } from './dom.js';
import { t } from './i18n.js';

export const TRIM_MIN_SECONDS = 1;

const round1 = (x) => Math.round(x * 10) / 10;

// trimEditor({ video, length, prefix, initial }) -> { el, setLength(len),
// value(), error() }. video: the element whose currentTime the buttons
// take; length: the recording's length in seconds; prefix: for the ids
// (`${prefix}-trim-start`, ...); initial: {start, end} or null.
export function trimEditor({ video, length, prefix, initial }) {
  let len = length;
  const num = (id) => h('input', { id, type: 'number', min: 0, step: 0.1, inputmode: 'decimal', 'aria-describedby': `${prefix}-trim-length` });
  const start = num(`${prefix}-trim-start`);
  const end = num(`${prefix}-trim-end`);
  const result = h('p.hint', { id: `${prefix}-trim-length`, role: 'status', 'aria-live': 'polite' });
  const setStart = h('button', { type: 'button', id: `${prefix}-trim-set-start` }, t('trim.setStart'));
  const setEnd = h('button', { type: 'button', id: `${prefix}-trim-set-end` }, t('trim.setEnd'));
  const el = h('fieldset.trim', { id: `${prefix}-trim` },
    h('legend', t('trim.title')),
    h('p.hint', t('trim.hint')),
    h('div.row',
      h('div.field', h('label', { for: start.id }, t('trim.start')), start),
      setStart,
      h('div.field', h('label', { for: end.id }, t('trim.end')), end),
      setEnd),
    result);

  const span = () => ({ start: Number(start.value || 0), end: end.value === '' ? len : Number(end.value) });
  function error() {
    const s = span();
    if (!Number.isFinite(s.start) || !Number.isFinite(s.end) || s.start < 0 || s.end <= s.start) return t('trim.bad');
    if (len > 0 && s.end > len + 0.05) return t('trim.outOfRange', { duration: fmtDuration(len) });
    if (s.end - s.start < TRIM_MIN_SECONDS) return t('trim.tooShort');
    return null;
  }
  function refresh() {
    start.max = String(round1(len));
    end.max = String(round1(len));
    const e = error();
    const s = span();
    result.textContent = e || t('trim.result', { duration: fmtDuration(s.end - s.start) });
    result.classList.toggle('error', !!e);
  }
  function setLength(l) {
    const wasWhole = end.value === '' || Number(end.value) >= len - 0.05;
    len = l;
    if (wasWhole) end.value = String(round1(len));
    refresh();
  }
  // The span to send: {start, end}, or null when it keeps everything.
  function value() {
    const s = span();
    if (s.start <= 0.05 && (len <= 0 || s.end >= len - 0.05)) return null;
    return { start: round1(s.start), end: round1(s.end) };
  }
  start.value = String(initial ? initial.start : 0);
  end.value = String(round1(initial ? initial.end : len));
  start.addEventListener('input', refresh);
  end.addEventListener('input', refresh);
  setStart.addEventListener('click', () => { start.value = String(round1(video.currentTime || 0)); refresh(); });
  setEnd.addEventListener('click', () => { end.value = String(round1(video.currentTime || 0)); refresh(); });
  refresh();
  return { el, setLength, value, error };
}
