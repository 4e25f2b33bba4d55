// icons.js - the interface's pictograms as inline SVG (pin, celebration,
// streak, link, check, menu, search), so that they show on machines without an
// emoji font. Decorative: hidden from screen readers, the text beside them
// says what they mean. Reactions stay emoji: they are what people chose.
const NS = 'http://www.w3.org/2000/svg';

const PATHS = {
  pin: 'M16 3a1 1 0 0 1 .7 1.7L15.4 6l2.6 5.2 1.3-1.3a1 1 0 0 1 1.4 1.4L17.4 14.6l-3.6-3.6-5.6 5.6a1 1 0 0 1-1.4-1.4l5.6-5.6-3.6-3.6 3.3-3.3a1 1 0 0 1 1.4 0L15.3 3.3A1 1 0 0 1 16 3zM5 20l3.5-3.5 1 1L6 21z',
  celebrate: 'M3 21l5.5-14 8.5 8.5zm4-3.4 5.8-2.3-3.5-3.5zM14 3l1 2.5L17.5 6 15 7l-1 2.5L13 7l-2.5-1L13 5zm5.5 5 .6 1.4 1.4.6-1.4.6-.6 1.4-.6-1.4-1.4-.6 1.4-.6zM19 2h2v2h-2zM11 2h1.5v1.5H11zM20 13h1.5v1.5H20z',
  flame: 'M12 2c1 3.5 5 5.5 5 10.5A5 5 0 0 1 12 18a5 5 0 0 1-5-5.5c0-2 1-3.6 2.2-4.6-.2 1.5.3 3 1.6 3.6C10.6 8 11.6 5 12 2zm0 11c-.8 1-1.5 1.8-1.5 2.8a1.5 1.5 0 0 0 3 0c0-1-.7-1.8-1.5-2.8zM6 20h12v2H6z',
  link: 'M10.6 13.4a1 1 0 0 1 0-1.4l3.5-3.5a1 1 0 1 1 1.4 1.4L12 13.4a1 1 0 0 1-1.4 0zM8.5 19.5a4 4 0 0 1-2.8-6.8l2.1-2.1 1.4 1.4-2.1 2.1a2 2 0 0 0 2.8 2.8l2.1-2.1 1.4 1.4-2.1 2.1a4 4 0 0 1-2.8 1.2zm8.1-5.1-1.4-1.4 2.1-2.1a2 2 0 0 0-2.8-2.8l-2.1 2.1L11 8.8l2.1-2.1a4 4 0 0 1 5.6 5.6z',
  check: 'M9.5 16.2 5.3 12l-1.4 1.4 5.6 5.6L20.1 8.4 18.7 7z',
  menu: 'M3 6h18v2H3zm0 5h18v2H3zm0 5h18v2H3z',
  search: 'M10 3a7 7 0 0 1 5.6 11.2l5.1 5.1-1.4 1.4-5.1-5.1A7 7 0 1 1 10 3zm0 2a5 5 0 1 0 0 10 5 5 0 0 0 0-10z',
};

// svgIcon('pin') -> <svg aria-hidden="true" class="icon">...</svg>
export function svgIcon(name, size = 18) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon icon-${name}`);
  const p = document.createElementNS(NS, 'path');
  p.setAttribute('d', PATHS[name]);
  p.setAttribute('fill', 'currentColor');
  svg.append(p);
  return svg;
}
