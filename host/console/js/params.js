// A plugin's params form, built from its published JSON Schema: one
// control per simple top-level property (numbers, integers, booleans,
// string choices), the property's default as the placeholder, and a JSON
// box for the rest. Only values the user set are sent.

import {h} from './dom.js';

function resolve(schema, root) {
  let s = schema || {};
  for (let i = 0; i < 8 && s.$ref; i += 1) {
    const path = s.$ref.replace(/^#\//, '').split('/');
    s = path.reduce((node, key) => (node ? node[key] : undefined), root) || {};
  }
  if (Array.isArray(s.allOf) && s.allOf.length === 1) return {...resolve(s.allOf[0], root), ...s, allOf: undefined};
  return s;
}

function types(s) {
  const t = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  return t.filter((x) => x !== 'null');
}

/** The choices of a string enum (`enum`, or `oneOf`/`anyOf` of `const`s). */
function choices(s, root) {
  if (Array.isArray(s.enum)) return s.enum.filter((v) => typeof v === 'string');
  const alts = s.oneOf || s.anyOf;
  if (Array.isArray(alts)) {
    const values = alts.map((a) => resolve(a, root)).flatMap((a) => (a.const !== undefined ? [a.const] : Array.isArray(a.enum) ? a.enum : []));
    if (values.length && values.every((v) => typeof v === 'string')) return values;
  }
  return null;
}

/** Controls for `schema`'s properties; ids are `${prefix}-${name}`. */
export function paramControls(schema, prefix) {
  const props = schema?.properties || {};
  const simple = [];
  const other = [];
  for (const [name, raw] of Object.entries(props)) {
    const s = resolve(raw, schema);
    const id = `${prefix}-${name}`;
    const t = types(s);
    const def = raw.default !== undefined ? raw.default : s.default;
    const describe = raw.description || s.description;
    const hint = describe ? h('p', {class: 'hint', id: `${id}-hint`}, describe) : null;
    const options = choices(s, schema);
    let control = null;
    if (options) {
      control = h('select', {id, 'data-param': name, 'data-kind': 'string'},
        h('option', {value: ''}, def !== undefined ? `Default (${def})` : 'Default'),
        options.map((o) => h('option', {value: o}, o)));
    } else if (t.length === 1 && (t[0] === 'integer' || t[0] === 'number')) {
      control = h('input', {
        id, type: 'number', inputmode: t[0] === 'integer' ? 'numeric' : 'decimal', 'data-param': name, 'data-kind': t[0],
        step: t[0] === 'integer' ? '1' : 'any',
        min: typeof s.minimum === 'number' ? String(s.minimum) : null,
        max: typeof s.maximum === 'number' ? String(s.maximum) : null,
        placeholder: def !== undefined ? String(def) : '',
      });
    } else if (t.length === 1 && t[0] === 'boolean') {
      control = h('input', {id, type: 'checkbox', 'data-param': name, 'data-kind': 'boolean', 'data-default': String(Boolean(def)), checked: Boolean(def)});
      if (hint) control.setAttribute('aria-describedby', hint.id);
      simple.push(h('div', {class: 'field check'}, control, h('label', {for: id}, name), hint));
      continue;
    } else if (t.length === 1 && t[0] === 'string') {
      control = h('input', {id, type: 'text', 'data-param': name, 'data-kind': 'string', placeholder: def !== undefined ? String(def) : ''});
    }
    if (!control) {
      other.push(name);
      continue;
    }
    if (hint) control.setAttribute('aria-describedby', hint.id);
    simple.push(h('div', {class: 'field'}, h('label', {for: id}, name), control, hint));
  }
  const json = h('textarea', {id: `${prefix}-json`, 'data-param-json': 'true', rows: '3', spellcheck: 'false', placeholder: '{}'});
  return [
    simple.length ? h('div', {class: 'grid-3 params'}, simple) : null,
    h('div', {class: 'field'},
      h('label', {for: json.id}, 'Other settings (JSON object)'),
      json,
      h('p', {class: 'hint'}, other.length ? `For example ${other.slice(0, 6).join(', ')}.` : 'Merged with the settings above.')),
  ];
}

/** The params the user set, as an object; throws with a plain message on bad JSON. */
export function readParams(root) {
  const params = {};
  for (const control of root.querySelectorAll('[data-param]')) {
    const name = control.dataset.param;
    const kind = control.dataset.kind;
    if (kind === 'boolean') {
      if (String(control.checked) !== control.dataset.default) params[name] = control.checked;
    } else if (control.value.trim() !== '') {
      if (kind === 'integer' || kind === 'number') {
        const n = Number(control.value);
        if (!Number.isFinite(n)) throw new Error(`${name} must be a number.`);
        params[name] = n;
      } else {
        params[name] = control.value.trim();
      }
    }
  }
  const json = root.querySelector('[data-param-json]');
  if (json && json.value.trim()) {
    let extra;
    try {
      extra = JSON.parse(json.value);
    } catch (e) {
      throw new Error(`The other settings are not valid JSON: ${e.message}`);
    }
    if (!extra || typeof extra !== 'object' || Array.isArray(extra)) throw new Error('The other settings must be a JSON object, like {"budget": 5000}.');
    Object.assign(params, extra);
  }
  return params;
}
