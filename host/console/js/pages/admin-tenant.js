// Platform admin, one tenant: status (suspend / reactivate), plan,
// statistics, feature toggles (plugins among them) with their config, users.
// API: GET/PATCH /admin/tenants/{id}, GET /admin/tenants/{id}/statistics,
// GET/POST /admin/tenants/{id}/users, GET /admin/tenants/{id}/features,
// PUT /admin/tenants/{id}/features/{key} {enabled, config}, GET /admin/plugins.

import * as api from '../api.js';
import * as fmt from '../format.js';
import * as session from '../session.js';
import {h, replace, scroller, table, field} from '../dom.js';
import {errorSlot, showInline, busy, section, statusBadge, figures} from '../ui.js';
import {suspendButton, planEditor} from './admin-tenants.js';
import {userForm} from './users.js';

const FEATURE_NOTES = {
  analyses: 'Analysis defaults and limits: config {"model": "...", "preprocessors": [...], "max_running": n}.',
};

export async function render(ctx) {
  const {main, params, signal} = ctx;
  const base = `/admin/tenants/${encodeURIComponent(params.id)}`;
  const [tenant, plugins] = await Promise.all([
    api.get(base, {signal}),
    api.get('/admin/plugins', {signal}),
  ]);
  const header = h('div');
  const stats = h('div');
  const features = h('div');
  const users = h('div');
  const showHeader = (t) => {
    replace(header,
      h('p', {class: 'crumbs'}, h('a', {href: '#/admin/tenants'}, '← All tenants')),
      h('h1', null, `${t.name} `, h('span', {class: 'muted'}, `(${t.slug})`)),
      h('div', {class: 'toolbar'},
        statusBadge(t.status), ' ',
        suspendButton(t, (changed) => showHeader(changed), ctx.showError, 'tenant-suspend'), ' ',
        planEditor(t, (changed) => showHeader(changed), ctx.showError),
        h('span', {class: 'muted'}, ` Created ${fmt.dateTime(t.created_at)}.`)),
      t.status === 'suspended' ? h('p', {class: 'problem'}, 'Suspended: its users cannot sign in and their tokens are refused.') : null);
  };
  showHeader(tenant);
  replace(main, header, stats, features, users);
  await Promise.all([
    loadStats(ctx, stats, base),
    loadFeatures(ctx, features, base, plugins),
    loadUsers(ctx, users, base),
  ]);
}

async function loadStats(ctx, target, base) {
  const s = await api.get(`${base}/statistics`, {signal: ctx.signal});
  replace(target, figures([
    {key: 'users', label: 'Users', value: fmt.number(s.users)},
    {key: 'features', label: 'Features on', value: fmt.number(s.features_enabled)},
    {key: 'data', label: 'Data sources', value: fmt.number(s.data_sources), note: ` ${fmt.number(s.data_source_versions)} versions, ${fmt.number(s.data_rows)} rows, ${fmt.bytes(s.data_bytes)}`},
    {key: 'analyses', label: 'Analyses', value: fmt.number(s.analyses), note: ` ${fmt.number(s.analyses_succeeded)} succeeded, ${fmt.number(s.analyses_failed)} failed, ${fmt.number(s.analyses_active)} active`},
    {key: 'plugins', label: 'Private plugins', value: fmt.number(s.private_plugins), note: ` ${fmt.number(s.plugin_runs)} runs, ${fmt.number(s.failed_plugin_runs)} failed`},
    {key: 'audit', label: 'Audit events', value: fmt.number(s.audit_events)},
  ], {id: 'tenant-statistics'}));
}

async function loadFeatures(ctx, target, base, plugins) {
  const list = await api.get(`${base}/features`, {signal: ctx.signal});
  const known = new Map(list.map((f) => [f.key, f]));
  const pluginNames = [...new Set(plugins.map((p) => p.name))].sort();
  const describe = new Map(plugins.map((p) => [`plugin:${p.name}`, `${p.kind}: ${p.description}`]));
  const keys = [...new Set([...pluginNames.map((n) => `plugin:${n}`), 'analyses', ...list.map((f) => f.key)])];
  keys.sort((a, b) => (a.startsWith('plugin:') === b.startsWith('plugin:') ? a.localeCompare(b) : a.startsWith('plugin:') ? -1 : 1));
  const slot = errorSlot('features-error');

  const row = (key, i) => {
    const feature = known.get(key) || {key, enabled: false, config: {}};
    const id = `feature-${i}`;
    const box = h('input', {id, type: 'checkbox', 'data-feature': key, checked: feature.enabled});
    const state = h('span', {class: 'saved-state', 'data-feature-state': key, 'aria-live': 'polite'}, feature.enabled ? 'on' : 'off');
    const config = h('textarea', {id: `${id}-config`, rows: '3', spellcheck: 'false'});
    config.value = JSON.stringify(feature.config || {}, null, 2);
    const saveConfig = h('button', {type: 'button', class: 'small'}, 'Save config');
    const put = async (enabled, cfg) => {
      const saved = await api.put(`${base}/features/${encodeURIComponent(key)}`, {enabled, config: cfg});
      known.set(key, saved);
      box.checked = saved.enabled;
      config.value = JSON.stringify(saved.config || {}, null, 2);
      replace(state, `${saved.enabled ? 'on' : 'off'} · saved`);
      state.dataset.saved = String(saved.enabled);
    };
    box.addEventListener('change', async () => {
      showInline(slot, null);
      box.disabled = true;
      replace(state, 'saving…');
      try {
        // The config goes along, so switching a feature keeps its settings.
        await put(box.checked, known.get(key)?.config || {});
      } catch (e) {
        box.checked = !box.checked;
        replace(state, box.checked ? 'on' : 'off');
        showInline(slot, `“${key}” was not changed: ${e.message}`);
        ctx.showError(e, 'Could not change the feature');
      } finally {
        box.disabled = false;
      }
    });
    saveConfig.addEventListener('click', () => busy(saveConfig, 'Saving…', async () => {
      showInline(slot, null);
      let cfg;
      try {
        cfg = JSON.parse(config.value || '{}');
        if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error('it must be a JSON object');
      } catch (e) {
        showInline(slot, `The config of “${key}” is not a JSON object: ${e.message}`);
        return;
      }
      try {
        await put(box.checked, cfg);
      } catch (e) {
        showInline(slot, `The config of “${key}” was not saved: ${e.message}`);
        ctx.showError(e, 'Could not save the config');
      }
    }));
    return h('li', {class: 'feature'},
      h('div', {class: 'field check'}, box, h('label', {for: id}, h('code', null, key), ' '), state),
      describe.get(key) || FEATURE_NOTES[key] ? h('p', {class: 'hint'}, describe.get(key) || FEATURE_NOTES[key]) : null,
      h('details', {class: 'more'}, h('summary', null, 'Config'),
        h('div', {class: 'field'}, h('label', {for: config.id}, `Config of ${key} (JSON object)`), config), saveConfig));
  };

  const other = h('input', {id: 'feature-new-key', type: 'text', pattern: '[a-z0-9_:.\\-]{1,100}', placeholder: 'e.g. plugin:my-scale'});
  const add = h('button', {type: 'submit', class: 'small'}, 'Switch on');
  const addForm = h('form', {id: 'feature-form', class: 'inline-form', novalidate: true}, field('Another feature key', other), add);
  addForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = other.value.trim();
    if (!/^[a-z0-9_:.-]{1,100}$/.test(key)) {
      showInline(slot, 'A feature key is 1 to 100 lower-case letters, digits and _ : . -');
      return;
    }
    busy(add, 'Saving…', async () => {
      try {
        await api.put(`${base}/features/${encodeURIComponent(key)}`, {enabled: true, config: known.get(key)?.config || {}});
        other.value = '';
        await loadFeatures(ctx, target, base, plugins);
      } catch (e) {
        showInline(slot, `“${key}” was not switched on: ${e.message}`);
        ctx.showError(e, 'Could not switch the feature on');
      }
    });
  });

  replace(target, section('Features',
    h('p', {class: 'hint'}, 'A tenant may run a plugin only while its plugin:<name> feature is on. Changes apply at once, on every server.'),
    slot,
    h('ul', {id: 'features', class: 'features'}, keys.map(row)),
    addForm));
}

async function loadUsers(ctx, target, base) {
  const listBox = h('div');
  const refresh = async () => {
    const users = await api.all(`${base}/users`, {}, {signal: ctx.signal});
    replace(listBox,
      users.length ? null : h('p', null, 'No user yet: add its first tenant admin below.'),
      scroller(table({id: 'tenant-users'}, ['Email', 'Role', 'Added'], users.map((u) => [u.email, session.roleLabel(u.role), fmt.dateTime(u.created_at)]))));
    return users;
  };
  const users = await refresh();
  replace(target, section('Users', listBox), userForm({
    ids: {form: 'tenant-user-form', email: 'tenant-user-email', password: 'tenant-user-password', role: 'tenant-user-role', submit: 'tenant-user-submit', error: 'tenant-user-error', result: 'tenant-user-result'},
    defaultRole: users.length ? 'analyst' : 'tenant_admin',
    create: (body) => api.post(`${base}/users`, body),
    after: refresh,
    showError: ctx.showError,
    clearError: ctx.clearError,
  }));
}
