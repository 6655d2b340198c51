// Platform admin: every tenant with status and plan, create one, suspend or
// reactivate, change the plan; platform statistics.
// API: GET /admin/statistics, GET /admin/tenants, POST /admin/tenants, PATCH /admin/tenants/{id}.

import * as api from '../api.js';
import * as fmt from '../format.js';
import {h, replace, scroller, field} from '../dom.js';
import {errorSlot, showInline, busy, section, statusBadge, figures, markField, clearMarks} from '../ui.js';

export async function render(ctx) {
  const {main, signal} = ctx;
  const stats = h('div');
  const list = h('div');
  const reload = async () => {
    await Promise.all([loadStats(ctx, stats), loadTenants(ctx, list, reload)]);
  };
  replace(main, h('h1', null, 'Tenants'), stats, list, tenantForm(ctx, reload));
  await reload();
  void signal;
}

async function loadStats(ctx, target) {
  const s = await api.get('/admin/statistics', {signal: ctx.signal});
  replace(target, figures([
    {key: 'tenants', label: 'Tenants', value: fmt.number(s.tenants), note: ` ${fmt.number(s.active_tenants)} active, ${fmt.number(s.suspended_tenants)} suspended`},
    {key: 'users', label: 'Users', value: fmt.number(s.users), note: ` and ${fmt.number(s.platform_admins)} platform admin(s)`},
    {key: 'data', label: 'Data sources', value: fmt.number(s.data_sources), note: ` ${fmt.number(s.data_source_versions)} versions, ${fmt.number(s.data_rows)} rows, ${fmt.bytes(s.data_bytes)}`},
    {key: 'analyses', label: 'Analyses', value: fmt.number(s.analyses), note: ` ${fmt.number(s.analyses_succeeded)} succeeded, ${fmt.number(s.analyses_failed)} failed, ${fmt.number(s.analyses_active)} queued or running`},
    {key: 'plugins', label: 'Plugins', value: fmt.number(s.global_plugins + s.private_plugins), note: ` ${fmt.number(s.global_plugins)} global, ${fmt.number(s.private_plugins)} private; ${fmt.number(s.plugin_runs)} runs`},
  ], {id: 'platform-statistics'}));
}

export function suspendButton(tenant, onChanged, showError, id) {
  const next = tenant.status === 'active' ? 'suspended' : 'active';
  const button = h('button', {type: 'button', class: next === 'suspended' ? 'danger small' : 'small', id: id || null, 'data-suspend': tenant.slug},
    next === 'suspended' ? 'Suspend' : 'Reactivate');
  button.addEventListener('click', () => busy(button, next === 'suspended' ? 'Suspending…' : 'Reactivating…', async () => {
    try {
      const changed = await api.patch(`/admin/tenants/${encodeURIComponent(tenant.id)}`, {status: next});
      await onChanged(changed);
    } catch (e) {
      showError(e, 'Could not change the status');
    }
  }));
  return button;
}

export function planEditor(tenant, onChanged, showError) {
  const id = `plan-${tenant.id}`;
  const input = h('input', {id, type: 'text', value: tenant.plan, maxlength: '50', size: '10', 'data-plan': tenant.slug});
  const save = h('button', {type: 'button', class: 'small'}, 'Save');
  const apply = () => busy(save, null, async () => {
    const plan = input.value.trim();
    if (!plan || plan === tenant.plan) return;
    try {
      const changed = await api.patch(`/admin/tenants/${encodeURIComponent(tenant.id)}`, {plan});
      await onChanged(changed);
    } catch (e) {
      showError(e, 'Could not change the plan');
    }
  });
  save.addEventListener('click', apply);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      apply();
    }
  });
  return h('span', {class: 'inline-edit'}, h('label', {for: id, class: 'sr-only'}, `Plan of ${tenant.slug}`), input, ' ', save);
}

async function loadTenants(ctx, target, reload) {
  const tenants = await api.all('/admin/tenants', {}, {signal: ctx.signal});
  const rows = tenants.map((t) => h('tr', {'data-tenant-row': t.id},
    h('td', null, h('a', {href: `#/admin/tenants/${encodeURIComponent(t.id)}`, 'data-tenant': t.slug}, t.slug)),
    h('td', null, t.name),
    h('td', null, statusBadge(t.status)),
    h('td', null, planEditor(t, reload, ctx.showError)),
    h('td', null, fmt.dateTime(t.created_at)),
    h('td', {class: 'row-actions'}, suspendButton(t, reload, ctx.showError))));
  replace(target, section('All tenants', tenants.length
    ? scroller(h('table', {id: 'tenants'},
      h('thead', null, h('tr', null, ['Slug', 'Name', 'Status', 'Plan', 'Created', ''].map((n) => h('th', {scope: 'col'}, n)))),
      h('tbody', null, rows)))
    : h('p', null, 'No tenant yet: create the first one below.')));
}

function tenantForm(ctx, reload) {
  const slug = h('input', {id: 'tenant-slug', type: 'text', required: true, maxlength: '63', autocapitalize: 'none', spellcheck: 'false', pattern: '[a-z0-9]([a-z0-9-]*[a-z0-9])?'});
  const name = h('input', {id: 'tenant-name', type: 'text', required: true, maxlength: '200'});
  const plan = h('input', {id: 'tenant-plan', type: 'text', maxlength: '50', placeholder: 'free'});
  const submit = h('button', {id: 'tenant-submit', type: 'submit', class: 'primary'}, 'Create the tenant');
  const error = errorSlot('tenant-error');
  const result = h('p', {id: 'tenant-result', role: 'status', class: 'success', hidden: true});
  const form = h('form', {id: 'tenant-form', novalidate: true},
    h('div', {class: 'grid-3'},
      field('Slug', slug, 'Lower-case letters, digits and dashes; users type it to sign in, and it is the subdomain.'),
      field('Name', name),
      field('Plan', plan, 'Default: free.')),
    error, result,
    h('div', {class: 'actions'}, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showInline(error, null);
    clearMarks(form);
    ctx.clearError();
    result.hidden = true;
    const body = {slug: slug.value.trim(), name: name.value.trim()};
    if (!body.slug || !body.name) return showInline(error, 'Give the tenant a slug and a name.');
    if (plan.value.trim()) body.plan = plan.value.trim();
    await busy(submit, 'Creating…', async () => {
      try {
        const t = await api.post('/admin/tenants', body);
        replace(result, `Created “${t.name}” (${t.slug}). Open it to add its first tenant admin and switch on its features.`);
        result.hidden = false;
        slug.value = '';
        name.value = '';
        plan.value = '';
        await reload();
      } catch (e) {
        markField(e, (f) => ({slug, name, plan})[f] || null);
        showInline(error, e.code === 'slug_taken' ? 'A tenant with this slug exists already.' : `The tenant was not created: ${e.message}`);
        ctx.showError(e, 'Could not create the tenant');
      }
    });
  });
  return section('Create a tenant', form);
}
