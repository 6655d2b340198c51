// Who is signed in (from `/auth/me`) and what the role may do. The
// console holds no privilege of its own: this only decides which controls
// to show; the server decides what is allowed (policies/policy.csv).

import * as api from './api.js';

let me = null; // {id, email, role, tenant: {id, slug, name, plan} | null, features: [...]}
let tenantView = null; // `/tenant`: {tenant, features: {key: config}}

const RANK = {viewer: 1, analyst: 2, data_scientist: 3, tenant_admin: 4};

export const TENANT_ROLES = [
  {role: 'tenant_admin', label: 'Tenant admin', says: 'everything below, and manages the users of the organisation'},
  {role: 'data_scientist', label: 'Data scientist', says: 'everything below, and uploads or deletes data and publishes private plugins'},
  {role: 'analyst', label: 'Analyst', says: 'everything below, and runs analyses, recommendations and lift tests'},
  {role: 'viewer', label: 'Viewer', says: 'reads data, analyses, results and recommendations'},
];

export function roleLabel(role) {
  if (role === 'platform_admin') return 'Platform admin';
  return TENANT_ROLES.find((r) => r.role === role)?.label || role;
}

export async function load() {
  me = await api.get('/auth/me');
  tenantView = null;
  if (me.tenant) tenantView = await api.get('/tenant');
  return me;
}

export function current() {
  return me;
}

export function clear() {
  me = null;
  tenantView = null;
}

export function isPlatformAdmin() {
  return me?.role === 'platform_admin';
}

/** At least `role` in the tenant hierarchy (tenant_admin ⊃ data_scientist ⊃ analyst ⊃ viewer). */
export function atLeast(role) {
  return Boolean(me && RANK[me.role] && RANK[me.role] >= RANK[role]);
}

/** What the role may do, as the policy grants it. */
export const can = {
  upload: () => atLeast('data_scientist'),
  deleteData: () => atLeast('data_scientist'),
  run: () => atLeast('analyst'),
  cancel: () => atLeast('analyst'),
  recommend: () => atLeast('analyst'),
  manageUsers: () => atLeast('tenant_admin'),
  admin: () => isPlatformAdmin(),
};

/** The tenant's currency is per data source; this is the tenant's own, if its settings name one. */
export function tenantCurrency() {
  const settings = tenantView?.tenant?.settings;
  return settings && typeof settings.currency === 'string' ? settings.currency : null;
}

/** The config of an enabled feature, or undefined when it is off. */
export function featureConfig(key) {
  return tenantView?.features ? tenantView.features[key] : undefined;
}

export function featureEnabled(key) {
  if (tenantView?.features) return Object.prototype.hasOwnProperty.call(tenantView.features, key);
  return Boolean(me?.features?.includes(key));
}
