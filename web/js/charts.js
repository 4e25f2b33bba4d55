// charts.js - small charts drawn as inline SVG (no chart library): a bar
// chart of rates per week (participation, overall and per team) and a row
// of weeks posted / not posted (a person's habit). Each chart is a <figure>
// whose SVG is one image for screen readers, named by its caption and
// described by the same numbers in words; colours come from app.css.
import { h } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';
let seq = 0;

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// "2026-W07" -> "W07"
export function shortWeek(week) { return week.slice(week.indexOf('W')); }

// A figure holding `drawing`, captioned `caption`, described by `words`.
function figure(id, caption, words, drawing, cls) {
  const n = ++seq;
  drawing.setAttribute('role', 'img');
  drawing.setAttribute('aria-labelledby', `chart-cap-${n}`);
  drawing.setAttribute('aria-describedby', `chart-desc-${n}`);
  drawing.setAttribute('focusable', 'false');
  return h(`figure.chart${cls ? `.${cls}` : ''}`, { id },
    h('figcaption', { id: `chart-cap-${n}` }, caption),
    drawing,
    h('p.sr', { id: `chart-desc-${n}` }, words));
}

// barChart({id, caption, bars: [{label, value (0..1), text}]}): one bar per
// entry, its text above it, its label below; gridlines at 0, 50 and 100%.
export function barChart({ id, caption, bars, height = 120, small = false }) {
  const slot = 36;
  const left = small ? 4 : 34;
  const top = 16;
  const bottom = 18;
  const width = left + bars.length * slot + 4;
  const plot = height - top - bottom;
  const g = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart-svg', preserveAspectRatio: 'xMinYMid meet' });
  for (const f of [0, 0.5, 1]) {
    const y = top + plot * (1 - f);
    g.append(svg('line', { x1: left, x2: width - 2, y1: y, y2: y, class: 'grid' }));
    if (!small) g.append(svg('text', { x: left - 4, y: y + 4, class: 'axis', 'text-anchor': 'end' }, `${f * 100}%`));
  }
  bars.forEach((b, i) => {
    const v = Math.max(0, Math.min(1, b.value));
    const x = left + i * slot + 5;
    const bh = Math.max(v > 0 ? 2 : 0, plot * v);
    g.append(svg('rect', { x, y: top + plot - bh, width: slot - 10, height: bh, rx: 2, class: 'bar' }));
    g.append(svg('text', { x: x + (slot - 10) / 2, y: top + plot - bh - 3, class: 'value', 'text-anchor': 'middle' }, b.text));
    g.append(svg('text', { x: x + (slot - 10) / 2, y: height - 4, class: 'axis', 'text-anchor': 'middle' }, b.label));
  });
  const words = bars.map((b) => `${b.label}: ${b.text}`).join(', ');
  return figure(id, caption, words, g, small ? 'chart-small' : null);
}

// weeksChart({id, caption, weeks: [{label, on, title}]}): one square per
// week, filled when the person posted that week.
export function weeksChart({ id, caption, weeks, yes, no }) {
  const slot = 30;
  const width = weeks.length * slot;
  const height = 44;
  const g = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart-svg', preserveAspectRatio: 'xMinYMid meet' });
  weeks.forEach((w, i) => {
    g.append(svg('rect', { x: i * slot + 3, y: 2, width: slot - 6, height: slot - 6, rx: 4, class: w.on ? 'week-on' : 'week-off' }));
    g.append(svg('text', { x: i * slot + slot / 2, y: height - 2, class: 'axis', 'text-anchor': 'middle' }, w.label.slice(1)));
  });
  const words = weeks.map((w) => `${w.label}: ${w.on ? yes : no}`).join(', ');
  return figure(id, caption, words, g, 'chart-weeks');
}
