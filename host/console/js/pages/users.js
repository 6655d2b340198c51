// Users (tenant admins): list, add (email, password, role), change a role, remove.
// API: GET /tenant/users, POST /tenant/users, PATCH /tenant/users/{id} {role}, DELETE /tenant/users/{id}.

import * as api from '../api.js';
import * as fmt from '../format.js';
import * as session from '../session.js';
import {h, replace, scroller, field} from '../dom.js';
import {errorSlot, showInline, busy, confirmButton, section, markField, clearMarks} from '../ui.js';

export async function render(ctx) {
  const {main} = ctx;
  const list = h('div');
  const reload = () => loadUsers(ctx, list);
  replace(main, 
    h('h1', null, 'Users'),
    list,
    userForm({
      ids: {form: 'user-form', email: 'user-email', password: 'user-password', role: 'user-role', submit: 'user-submit', error: 'user-error', result: 'user-result'},
      create: (body) => api.post('/tenant/users', body),
      after: reload,
      showError: ctx.showError,
      clearError: ctx.clearError,
    }),
    rolesHelp());
  await reload();
}

export function rolesHelp() {
  return section('Roles', h('dl', {class: 'pairs roles'}, session.TENANT_ROLES.map((r) => h('div', null, h('dt', null, r.label), h('dd', null, r.says)))));
}

export function roleSelect(id, value, attrs = {}) {
  const select = h('select', {id, ...attrs}, session.TENANT_ROLES.map((r) => h('option', {value: r.role}, r.label)));
  select.value = value;
  return select;
}

/** The add-a-user form, shared with the platform admin's tenant page. */
export function userForm({ids, create, after, showError, clearError, defaultRole = 'analyst'}) {
  const email = h('input', {id: ids.email, type: 'email', autocomplete: 'off', required: true});
  const password = h('input', {id: ids.password, type: 'password', autocomplete: 'new-password', minlength: '12', maxlength: '256', required: true});
  const role = roleSelect(ids.role, defaultRole);
  const submit = h('button', {id: ids.submit, type: 'submit', class: 'primary'}, 'Add the user');
  const error = errorSlot(ids.error);
  const result = h('p', {id: ids.result, role: 'status', class: 'success', hidden: true});
  const form = h('form', {id: ids.form, novalidate: true},
    h('div', {class: 'grid-3'},
      field('Email', email),
      field('Password', password, '12 to 256 characters. Give it to the person safely; they sign in with it.'),
      field('Role', role)),
    error, result,
    h('div', {class: 'actions'}, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showInline(error, null);
    clearMarks(form);
    clearError();
    result.hidden = true;
    if (!email.value.trim()) return showInline(error, 'Enter the email address.');
    if (password.value.length < 12) return showInline(error, 'The password needs at least 12 characters.');
    await busy(submit, 'Adding…', async () => {
      try {
        const user = await create({email: email.value.trim(), password: password.value, role: role.value});
        replace(result, `Added ${user.email} as ${session.roleLabel(user.role)}.`);
        result.hidden = false;
        email.value = '';
        password.value = '';
        await after();
      } catch (e) {
        markField(e, (f) => ({email, password, role})[f] || null);
        showInline(error, e.code === 'email_taken' ? 'There is already a user with this email.' : `The user was not added: ${e.message}`);
        showError(e, 'Could not add the user');
      }
    });
  });
  return section('Add a user', form);
}

async function loadUsers(ctx, target) {
  const users = await api.all('/tenant/users', {}, {signal: ctx.signal});
  const me = session.current();
  const slot = errorSlot('users-error');
  const rows = users.map((u) => {
    const select = roleSelect(`user-role-${u.id}`, u.role, {'data-user-role': u.id});
    select.addEventListener('change', async () => {
      showInline(slot, null);
      select.disabled = true;
      try {
        const changed = await api.patch(`/tenant/users/${encodeURIComponent(u.id)}`, {role: select.value});
        u.role = changed.role;
        select.value = changed.role;
        select.dataset.saved = 'true';
        if (u.id === me?.id && changed.role !== 'tenant_admin') {
          // Demoted oneself: the pages this role may use change.
          await session.load();
          ctx.navigate('#/dashboard');
        }
      } catch (e) {
        select.value = u.role;
        showInline(slot, e.code === 'last_admin' ? 'The organisation must keep at least one tenant admin.' : `The role was not changed: ${e.message}`);
        ctx.showError(e, 'Could not change the role');
      } finally {
        select.disabled = false;
      }
    });
    return h('tr', {'data-user': u.id},
      h('td', null, u.email),
      h('td', null, h('label', {for: select.id, class: 'sr-only'}, `Role of ${u.email}`), select, u.id === me?.id ? h('span', {class: 'note'}, ' (you)') : null),
      h('td', null, fmt.dateTime(u.created_at)),
      h('td', {class: 'row-actions'}, confirmButton('Remove', `Remove ${u.email}?`, async () => {
        try {
          await api.del(`/tenant/users/${encodeURIComponent(u.id)}`);
          await loadUsers(ctx, target);
        } catch (e) {
          showInline(slot, e.code === 'last_admin' ? 'The organisation must keep at least one tenant admin.' : `The user was not removed: ${e.message}`);
          ctx.showError(e, 'Could not remove the user');
        }
      }, {'data-remove': u.id})));
  });
  replace(target, section(`People in ${me?.tenant?.name || 'your organisation'}`, slot,
    scroller(h('table', {id: 'users'},
      h('thead', null, h('tr', null, ['Email', 'Role', 'Added', ''].map((n) => h('th', {scope: 'col'}, n)))),
      h('tbody', null, rows)))));
}
