// Sign in: tenant slug (empty for a platform admin), email, password.

import * as api from '../api.js';
import {h, replace} from '../dom.js';
import {errorSlot, showInline, busy} from '../ui.js';

function plainWords(error) {
  switch (error.code) {
    case 'invalid_credentials': return 'Wrong email or password (or no organisation with that name). Check them and try again.';
    case 'tenant_suspended': return 'This organisation is suspended. Ask the platform administrator to reactivate it.';
    case 'tenant_mismatch': return 'This address belongs to another organisation: leave the organisation field empty or use its own address.';
    case 'too_many_requests': return `Too many failed attempts for this account. ${error.retryAfter ? `Try again in ${Math.ceil(error.retryAfter / 60)} minute(s).` : 'Try again later.'}`;
    case 'rate_limited': return 'Too many sign-in attempts from here. Wait a moment and try again.';
    case 'invalid_value': return error.field ? `${error.message} (${error.field})` : error.message;
    default: return error.message;
  }
}

export async function render({main, signedIn, notice}) {
  const tenant = h('input', {id: 'signin-tenant', name: 'tenant', type: 'text', autocomplete: 'organization', autocapitalize: 'none', spellcheck: 'false', inputmode: 'url'});
  const email = h('input', {id: 'signin-email', name: 'email', type: 'email', autocomplete: 'username', required: true});
  const password = h('input', {id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true});
  const submit = h('button', {id: 'signin-submit', type: 'submit', class: 'primary'}, 'Sign in');
  const error = errorSlot('signin-error');
  const form = h('form', {id: 'signin-form', class: 'signin', novalidate: true},
    h('div', {class: 'field'},
      h('label', {for: 'signin-tenant'}, 'Organisation'),
      tenant,
      h('p', {class: 'hint', id: 'signin-tenant-hint'}, 'Your organisation’s short name (e.g. acme). Leave it empty to sign in as a platform administrator.')),
    h('div', {class: 'field'}, h('label', {for: 'signin-email'}, 'Email'), email),
    h('div', {class: 'field'}, h('label', {for: 'signin-password'}, 'Password'), password),
    error,
    h('div', {class: 'actions'}, submit));
  tenant.setAttribute('aria-describedby', 'signin-tenant-hint');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showInline(error, null);
    if (!email.value.trim() || !password.value) {
      showInline(error, 'Enter your email and password.');
      (email.value.trim() ? password : email).focus();
      return;
    }
    await busy(submit, 'Signing in…', async () => {
      try {
        await api.login({tenant: tenant.value.trim().toLowerCase(), email: email.value.trim(), password: password.value});
        password.value = '';
        await signedIn();
      } catch (e) {
        api.forgetSession();
        showInline(error, plainWords(e));
        password.select();
      }
    });
  });

  replace(main, h('div', {class: 'signin-wrap'},
    h('h1', null, 'Sign in to mmm'),
    h('p', {class: 'lead'}, 'Marketing mix modelling: what each channel really brought, and where the next budget should go.'),
    form));
  if (notice) showInline(error, notice);
  tenant.focus();
}
