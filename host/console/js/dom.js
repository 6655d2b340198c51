// A tiny DOM builder. Text always goes in as text nodes, never as markup,
// so nothing a tenant typed can inject elements. No `style` attributes
// (the Content-Security-Policy forbids them): pass `style: {prop: value}`
// to set properties through the CSSOM instead.

const BOOLEAN_PROPS = new Set([
  'checked', 'disabled', 'selected', 'required', 'hidden', 'multiple', 'readOnly', 'open', 'autofocus',
]);

/**
 * h('button', {type: 'button', class: 'primary', onclick: fn, 'data-x': 1}, 'Label')
 * - `class` (string or array), `for`, `data-*`, `aria-*` and other attributes are set as attributes;
 * - `on<event>` with a function value adds a listener (never an attribute);
 * - `style` takes an object of CSSOM properties;
 * - children: strings, numbers, nodes, arrays (flattened), null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  let deferredValue;
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2).toLowerCase(), value);
      } else if (key === 'style') {
        if (typeof value === 'object') Object.assign(el.style, value);
      } else if (key === 'class') {
        el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      } else if (key === 'for') {
        el.htmlFor = value;
      } else if (BOOLEAN_PROPS.has(key)) {
        el[key] = Boolean(value);
      } else if (key === 'value') {
        deferredValue = value;
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  // After the children, so a <select> finds its <option>.
  if (deferredValue !== undefined) el.value = deferredValue;
  return el;
}

/** Appends children (strings become text nodes). */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Removes every child. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

/**
 * Text in which `code` spans (as the models write channel names) become
 * <code> elements, built as nodes.
 */
export function richText(text) {
  const parts = String(text).split('`');
  return parts.map((part, i) => (i % 2 === 1 ? h('code', null, part) : part));
}

/** A <table> with a header row and body rows (arrays of cells: strings or nodes). */
export function table(attrs, headers, rows) {
  return h('table', attrs,
    h('thead', null, h('tr', null, headers.map((name) => h('th', {scope: 'col'}, name)))),
    h('tbody', null, rows.map((cells) => (cells instanceof Node ? cells : h('tr', null, cells.map((c) => h('td', null, c)))))));
}

/** Wraps a table so it scrolls sideways on narrow screens. */
export function scroller(...children) {
  return h('div', {class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Scrollable table'}, children);
}

/** A labelled form field: label + control (+ optional hint and error slot). */
export function field(labelText, control, hint) {
  const hintEl = hint ? h('p', {class: 'hint', id: `${control.id}-hint`}, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', {class: 'field'}, h('label', {for: control.id}, labelText), control, hintEl);
}

/** Ids unique within the page, for label/for pairs built in loops. */
let counter = 0;
export function uid(prefix = 'id') {
  counter += 1;
  return `${prefix}-${counter}`;
}
