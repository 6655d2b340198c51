// Platform admin: the global plugins (built-in and published) with their
// versions; publish a new one.
// API: GET /admin/plugins, POST /admin/plugins (body: the .wasm component).

import * as api from '../api.js';
import * as fmt from '../format.js';
import {h, replace, scroller, field} from '../dom.js';
import {errorSlot, showInline, busy, section} from '../ui.js';

export async function render(ctx) {
  const list = h('div');
  const reload = () => loadPlugins(ctx, list);
  replace(ctx.main, h('h1', null, 'Plugins'), list, publishForm(ctx, reload));
  await reload();
}

async function loadPlugins(ctx, target) {
  const plugins = await api.get('/admin/plugins', {signal: ctx.signal});
  plugins.sort((a, b) => a.name.localeCompare(b.name) || (a.created_at < b.created_at ? 1 : -1));
  const versions = new Map();
  for (const p of plugins) versions.set(p.name, (versions.get(p.name) || 0) + 1);
  replace(target, section('Global plugins',
    h('p', {class: 'hint'}, `${fmt.number(versions.size)} plugin(s), ${fmt.number(plugins.length)} version(s). A tenant runs one only while its plugin:<name> feature is on (see each tenant’s page).`),
    scroller(h('table', {id: 'plugins'},
      h('thead', null, h('tr', null, ['Name', 'Version', 'Kind', 'Scope', 'Description', 'Author', 'Size', 'sha256', 'Published'].map((n) => h('th', {scope: 'col'}, n)))),
      h('tbody', null, plugins.map((p) => h('tr', {'data-plugin': p.name},
        h('td', null, p.name),
        h('td', null, p.version),
        h('td', null, p.kind),
        h('td', null, p.scope),
        h('td', null, p.description),
        h('td', null, p.author),
        h('td', {class: 'num'}, fmt.bytes(p.size_bytes)),
        h('td', null, h('code', {title: p.sha256}, p.sha256.slice(0, 12))),
        h('td', null, fmt.dateTime(p.created_at)))))))));
}

function publishForm(ctx, reload) {
  const file = h('input', {id: 'plugin-file', type: 'file', accept: '.wasm,application/wasm'});
  const submit = h('button', {id: 'plugin-submit', type: 'submit', class: 'primary'}, 'Publish');
  const error = errorSlot('plugin-error');
  const result = h('p', {id: 'plugin-result', role: 'status', class: 'success', hidden: true});
  const form = h('form', {id: 'plugin-form', novalidate: true},
    field('Component (.wasm)', file, 'Built with `mmm plugin build`; its own info() names it and its version. Published versions never change.'),
    error, result, h('div', {class: 'actions'}, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showInline(error, null);
    result.hidden = true;
    const chosen = file.files[0];
    if (!chosen) return showInline(error, 'Choose a .wasm file.');
    await busy(submit, 'Publishing…', async () => {
      try {
        const p = await api.request('POST', '/admin/plugins', {body: chosen, headers: {'content-type': 'application/wasm'}});
        replace(result, `Published ${p.name} ${p.version} (${p.kind}).`);
        result.hidden = false;
        file.value = '';
        await reload();
      } catch (e) {
        showInline(error, `It was not published: ${e.message}`);
        ctx.showError(e, 'Could not publish the plugin');
      }
    });
  });
  return section('Publish a global plugin', form);
}
