// Collected before anything else runs, so the browser tests can assert that
// the Content-Security-Policy never blocked anything.
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));

import * as api from './api.js';
import * as session from './session.js';
import * as charts from './charts.js';
import {h, replace, clear} from './dom.js';
import * as signin from './pages/signin.js';
import * as dashboard from './pages/dashboard.js';
import * as data from './pages/data.js';
import * as analyses from './pages/analyses.js';
import * as results from './pages/results.js';
import * as recommendations from './pages/recommendations.js';
import * as users from './pages/users.js';
import * as adminTenants from './pages/admin-tenants.js';
import * as adminTenant from './pages/admin-tenant.js';
import * as adminPlugins from './pages/admin-plugins.js';

// name → module, who may open it, and whether it shows in the nav.
const PAGES = {
  signin: {module: signin, who: () => true},
  dashboard: {module: dashboard, who: () => session.atLeast('viewer'), nav: 'Dashboard'},
  data: {module: data, who: () => session.atLeast('viewer'), nav: 'Data'},
  analyses: {module: analyses, who: () => session.atLeast('viewer'), nav: 'Analyses'},
  results: {module: results, who: () => session.atLeast('viewer')},
  recommendations: {module: recommendations, who: () => session.atLeast('viewer'), nav: 'Recommendations'},
  users: {module: users, who: () => session.can.manageUsers(), nav: 'Users'},
  'admin-tenants': {module: adminTenants, who: () => session.isPlatformAdmin(), nav: 'Tenants', href: '#/admin/tenants'},
  'admin-tenant': {module: adminTenant, who: () => session.isPlatformAdmin()},
  'admin-plugins': {module: adminPlugins, who: () => session.isPlatformAdmin(), nav: 'Plugins', href: '#/admin/plugins'},
};

const main = document.getElementById('page');
const nav = document.getElementById('nav');
const signoutButton = document.getElementById('signout');
const who = document.getElementById('who');
const errorBox = document.getElementById('error');

let current = null; // {controller, token}
let generation = 0;
let notice = null; // a message for the sign-in page (the session ended)
let returnTo = null; // the page asked for before signing in

/** `#/analyses/123?x=1` → {name, params: {id}, query} */
function parse(hash) {
  const text = hash.replace(/^#\/?/, '');
  const [path, search = ''] = text.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(search));
  const [a, b, c] = parts;
  if (a === 'analyses' && b) return {name: 'results', params: {id: b}, query};
  if (a === 'admin' && b === 'tenants' && c) return {name: 'admin-tenant', params: {id: c}, query};
  if (a === 'admin' && b === 'tenants') return {name: 'admin-tenants', params: {}, query};
  if (a === 'admin' && b === 'plugins') return {name: 'admin-plugins', params: {}, query};
  if (a && PAGES[a] && !['results', 'admin-tenant', 'admin-tenants', 'admin-plugins'].includes(a)) return {name: a, params: {}, query};
  return {name: null, params: {}, query};
}

function home() {
  if (!api.hasSession() || !session.current()) return '#/signin';
  return session.isPlatformAdmin() ? '#/admin/tenants' : '#/dashboard';
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** Shows a failed call's message in plain words at the top of the page. */
function showError(error, context) {
  if (!error || error.name === 'AbortError') return;
  const message = error.message || String(error);
  replace(errorBox, context ? `${context}: ${message}` : message);
  errorBox.hidden = false;
}

function clearError() {
  clear(errorBox);
  errorBox.hidden = true;
}

function renderChrome(active) {
  const me = session.current();
  const signedIn = api.hasSession() && me;
  clear(nav);
  nav.hidden = !signedIn;
  signoutButton.hidden = !signedIn;
  replace(who, signedIn ? [me.tenant ? `${me.tenant.name} · ` : '', me.email, ' (', session.roleLabel(me.role), ')'] : '');
  if (!signedIn) return;
  const links = Object.entries(PAGES)
    .filter(([, page]) => page.nav && page.who())
    .map(([name, page]) => {
      const isActive = name === active || (active === 'results' && name === 'analyses') || (active === 'admin-tenant' && name === 'admin-tenants');
      return h('a', {href: page.href || `#/${name}`, 'data-nav': name, 'aria-current': isActive ? 'page' : null}, page.nav);
    });
  nav.append(h('ul', null, links.map((a) => h('li', null, a))));
}

async function route() {
  const {name, params, query} = parse(location.hash);
  if (!name) {
    navigate(home());
    return;
  }
  if (name !== 'signin' && !(api.hasSession() && session.current())) {
    returnTo = location.hash;
    navigate('#/signin');
    return;
  }
  if (name === 'signin' && api.hasSession() && session.current()) {
    navigate(home());
    return;
  }
  const page = PAGES[name];
  if (!page.who()) {
    navigate(home());
    return;
  }
  current?.controller.abort();
  const controller = new AbortController();
  generation += 1;
  const token = generation;
  current = {controller, token};
  charts.disposeAll();
  clearError();
  renderChrome(name);
  delete main.dataset.ready;
  main.dataset.page = name;
  main.setAttribute('aria-busy', 'true');
  clear(main);
  main.append(h('p', {class: 'loading'}, h('progress', {'aria-label': 'Loading'}), ' Loading…'));
  const ctx = {
    main,
    params,
    query,
    signal: controller.signal,
    navigate,
    showError,
    clearError,
    alive: () => token === generation,
    signedIn,
    notice: name === 'signin' ? notice : null,
  };
  if (name === 'signin') notice = null;
  try {
    await page.module.render(ctx);
  } catch (error) {
    if (error?.name === 'AbortError' || token !== generation) return;
    clear(main);
    main.append(h('h1', null, 'Something went wrong'), h('p', {class: 'problem'}, error.message || String(error)));
    showError(error);
  }
  if (token !== generation) return;
  main.removeAttribute('aria-busy');
  main.dataset.ready = 'true';
  if (document.activeElement === document.body || !main.contains(document.activeElement)) {
    const heading = main.querySelector('h1');
    if (heading && name !== 'signin') {
      heading.tabIndex = -1;
      heading.focus({preventScroll: true});
    }
  }
}

/** After a successful sign in. */
async function signedIn() {
  await session.load();
  const wanted = returnTo ? parse(returnTo) : null;
  const target = wanted?.name && wanted.name !== 'signin' && PAGES[wanted.name].who() ? returnTo : home();
  returnTo = null;
  navigate(target);
}

async function signOut() {
  current?.controller.abort();
  returnTo = null;
  await api.logout();
  session.clear();
  navigate('#/signin');
}

api.onSessionExpired((error) => {
  session.clear();
  api.forgetSession();
  notice = error.message;
  returnTo = location.hash;
  navigate('#/signin');
});

signoutButton.addEventListener('click', signOut);
window.addEventListener('hashchange', route);
route();
