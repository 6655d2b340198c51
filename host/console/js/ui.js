// Small pieces the pages share: inline error slots, busy buttons, two-step
// confirmations, status badges, empty states.

import {h, replace, clear, richText} from './dom.js';

/** A slot for an error message next to what caused it. */
export function errorSlot(id) {
  return h('p', {class: 'form-error', id, role: 'alert', hidden: true});
}

/** Shows `error` (ApiError or text) in `slot`; `null` hides it. */
export function showInline(slot, error) {
  if (!slot) return;
  if (!error) {
    clear(slot);
    slot.hidden = true;
    return;
  }
  replace(slot, richText(typeof error === 'string' ? error : error.message || String(error)));
  slot.hidden = false;
}

/**
 * Runs `work` with `button` disabled and its label swapped for `busyText`;
 * the button comes back however `work` ends.
 */
export async function busy(button, busyText, work) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (busyText) button.textContent = busyText;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (busyText) button.textContent = label;
  }
}

/**
 * A button that asks once more inline before `onConfirm` (no browser
 * dialog): "Delete" → "Really delete?" [Yes, delete] [Keep].
 */
export function confirmButton(label, question, onConfirm, attrs = {}) {
  const wrap = h('span', {class: 'confirm'});
  const start = h('button', {type: 'button', class: 'danger small', ...attrs}, label);
  const show = () => replace(wrap, start);
  start.addEventListener('click', () => {
    const yes = h('button', {type: 'button', class: 'danger small', 'data-confirm': 'yes'}, `Yes, ${label.toLowerCase()}`);
    const no = h('button', {type: 'button', class: 'small'}, 'Keep');
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      try {
        await onConfirm();
      } finally {
        if (wrap.isConnected) show();
      }
    });
    no.addEventListener('click', () => {
      show();
      start.focus();
    });
    replace(wrap, h('span', {class: 'question'}, question, ' '), yes, ' ', no);
    yes.focus();
  });
  show();
  return wrap;
}

const STATUS_WORDS = {
  queued: 'queued', running: 'running', succeeded: 'succeeded', failed: 'failed', cancelled: 'cancelled',
  active: 'active', suspended: 'suspended',
};

export function statusBadge(status) {
  return h('span', {class: ['badge', `badge-${STATUS_WORDS[status] ? status : 'other'}`]}, status);
}

/** A friendly "nothing here yet" block with an optional link. */
export function empty(text, link) {
  return h('div', {class: 'empty'}, h('p', null, text), link ? h('p', null, h('a', {href: link.href, class: 'button'}, link.text)) : null);
}

/** A section with a heading. */
export function section(title, ...children) {
  return h('section', {class: 'card'}, h('h2', null, title), children);
}

/** Key figures as a row of cards: [{label, value, note}] */
export function figures(items, attrs = {}) {
  return h('dl', {class: 'figures', ...attrs}, items.map((item) => h('div', {class: 'figure', 'data-figure': item.key || null},
    h('dt', null, item.label),
    h('dd', null, item.value, item.note ? h('span', {class: 'note'}, item.note) : null))));
}

/**
 * Marks the control a 422 names (`error.field`) as invalid and puts the
 * message under it; `lookup(field)` returns the control or null.
 * Returns true when a control was found.
 */
export function markField(error, lookup) {
  if (!error?.field) return false;
  const control = lookup(error.field);
  if (!control) return false;
  control.setAttribute('aria-invalid', 'true');
  let slot = control.parentElement?.querySelector(':scope > .field-error');
  if (!slot) {
    slot = h('p', {class: 'field-error', id: `${control.id || 'field'}-error`});
    control.insertAdjacentElement('afterend', slot);
  }
  replace(slot, richText(error.message));
  control.setAttribute('aria-describedby', slot.id);
  control.focus();
  return true;
}

/** Clears every mark `markField` left in `root`. */
export function clearMarks(root) {
  for (const el of root.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  for (const el of root.querySelectorAll('.field-error')) el.remove();
}
