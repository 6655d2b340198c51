// Analyses: start one (model, preprocessors, data source, params), follow
// it live, cancel it; the list of analyses linking to their results.
// API: GET /tenant/plugins, GET /tenant (feature configs: `analyses`, `plugin:<name>`),
// GET /tenant/data/sources, POST /tenant/analysis/run (Idempotency-Key),
// GET /tenant/analysis, GET /tenant/analysis/{id}/events, POST /tenant/analysis/{id}/cancel.

import * as api from '../api.js';
import * as fmt from '../format.js';
import * as session from '../session.js';
import {h, replace, clear, scroller, field} from '../dom.js';
import {errorSlot, showInline, busy, empty, section, statusBadge, markField, clearMarks} from '../ui.js';
import {panel, FINAL} from '../progress.js';
import {paramControls, readParams} from '../params.js';

const DEFAULT_MODEL = 'bayes-mmm';

/** A fresh Idempotency-Key per submission (randomUUID needs a secure context; getRandomValues does not). */
function requestKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
const DEFAULT_ORDER = 100;

/** One record per plugin name: its newest published version. */
function newestByName(plugins) {
  const byName = new Map();
  for (const p of plugins) {
    const seen = byName.get(p.name);
    if (!seen || p.created_at > seen.created_at) byName.set(p.name, p);
  }
  return [...byName.values()];
}

/** The preprocessors a run gets by default, in order, with their params (as the server resolves them). */
function defaultSteps(preprocessors) {
  const settings = session.featureConfig('analyses') || {};
  const names = preprocessors.map((p) => p.name);
  if (Array.isArray(settings.preprocessors)) {
    return settings.preprocessors
      .map((item) => (typeof item === 'string' ? {name: item} : item))
      .filter((step) => step && names.includes(step.name));
  }
  const config = (name) => session.featureConfig(`plugin:${name}`) || {};
  return [...names].sort().sort((a, b) => (config(a).order ?? DEFAULT_ORDER) - (config(b).order ?? DEFAULT_ORDER))
    .map((name) => ({name, ...(config(name).params ? {params: config(name).params} : {})}));
}

export async function render(ctx) {
  const {main, signal} = ctx;
  const listSection = h('div');
  const live = h('div', {id: 'run-live'});
  const reloadList = () => loadList(ctx, listSection, live).catch((e) => ctx.showError(e, 'Could not load the analyses'));
  let form = null;
  if (session.can.run()) {
    const [plugins, sources] = await Promise.all([
      api.get('/tenant/plugins', {signal}),
      api.all('/tenant/data/sources', {}, {signal}),
    ]);
    form = runForm(ctx, plugins, sources, live, reloadList);
  }
  replace(main, h('h1', null, 'Analyses'), form, live, listSection);
  await loadList(ctx, listSection, live);
}

function runForm(ctx, plugins, sources, live, reloadList) {
  const runnable = newestByName(plugins);
  const models = runnable.filter((p) => p.kind === 'model');
  const preprocessors = runnable.filter((p) => p.kind === 'preprocessor');
  if (!sources.length) {
    return section('Start an analysis', empty('There is no data to analyse yet.', {href: '#/data', text: 'Upload data first'}));
  }
  if (!models.length) {
    return section('Start an analysis', empty('No model is enabled for your organisation yet. Ask the platform administrator to switch one on (for example bayes-mmm).'));
  }
  const configured = session.featureConfig('analyses')?.model;
  const preferred = [configured, DEFAULT_MODEL].find((n) => n && models.some((m) => m.name === n)) || models[0].name;
  const model = h('select', {id: 'run-model', name: 'model'}, models.map((m) => h('option', {value: m.name}, `${m.name} ${m.version}`)));
  model.value = preferred;
  const source = h('select', {id: 'run-source', name: 'source_id'}, sources.map((s) => h('option', {value: s.id}, `${s.name} (version ${s.version}, ${fmt.number(s.rows)} rows)`)));
  const about = h('p', {class: 'hint', id: 'run-model-about'});
  model.setAttribute('aria-describedby', 'run-model-about');

  const defaults = defaultSteps(preprocessors);
  const ordered = [...defaults.map((d) => preprocessors.find((p) => p.name === d.name)), ...preprocessors.filter((p) => !defaults.some((d) => d.name === p.name))];
  const boxes = ordered.map((p) => {
    const id = `run-pre-${p.name}`;
    const box = h('input', {id, type: 'checkbox', 'data-preprocessor': p.name, checked: defaults.some((d) => d.name === p.name)});
    return h('div', {class: 'field check'}, box, h('label', {for: id}, p.name, p.description ? h('span', {class: 'hint'}, ` — ${p.description}`) : null));
  });
  const pre = h('fieldset', {id: 'run-preprocessors'}, h('legend', null, 'Preprocessors (run first, in this order)'),
    boxes.length ? boxes : h('p', {class: 'hint'}, 'None is enabled for your organisation.'));

  const paramsBox = h('div', {id: 'run-params'});
  const showParams = () => {
    const record = models.find((m) => m.name === model.value);
    replace(about, record?.description || '');
    replace(paramsBox, paramControls(record?.params_schema || {}, 'run-param'));
  };
  model.addEventListener('change', showParams);
  showParams();

  const submit = h('button', {id: 'run-submit', type: 'submit', class: 'primary'}, 'Start the analysis');
  const error = errorSlot('run-error');
  const form = h('form', {id: 'run-form', novalidate: true},
    h('div', {class: 'grid-2'}, field('Data source', source), h('div', null, field('Model', model), about)),
    pre,
    h('details', {class: 'more'}, h('summary', null, 'Model settings'), h('p', {class: 'hint'}, 'Leave a setting empty to use its default.'), paramsBox),
    error,
    h('div', {class: 'actions'}, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showInline(error, null);
    clearMarks(form);
    ctx.clearError();
    let params;
    try {
      params = readParams(paramsBox);
    } catch (e) {
      showInline(error, e.message);
      return;
    }
    const steps = [...form.querySelectorAll('input[data-preprocessor]')].filter((b) => b.checked).map((b) => {
      const known = defaults.find((d) => d.name === b.dataset.preprocessor);
      return known ? {...known} : {name: b.dataset.preprocessor};
    });
    const body = {source_id: source.value, model: model.value, preprocessors: steps, params};
    await busy(submit, 'Starting…', async () => {
      try {
        const analysis = await api.post('/tenant/analysis/run', body, {headers: {'idempotency-key': requestKey()}});
        showRun(ctx, live, analysis, reloadList);
        reloadList();
      } catch (e) {
        const lookup = (f) => {
          if (f === 'source_id') return source;
          if (f === 'model' || f === 'model_version') return model;
          const m = /^params\.([^.[\]]+)/.exec(f);
          if (m) return paramsBox.querySelector(`[data-param="${CSS.escape(m[1])}"]`) || paramsBox.querySelector('#run-param-json');
          const p = /^preprocessors\[(\d+)\]/.exec(f);
          if (p) return form.querySelector(`input[data-preprocessor="${CSS.escape(steps[Number(p[1])]?.name || '')}"]`);
          return null;
        };
        markField(e, lookup);
        showInline(error, `The analysis was not started: ${e.message}`);
        ctx.showError(e, 'Could not start the analysis');
      }
    });
  });
  return section('Start an analysis', form);
}

function showRun(ctx, live, analysis, reloadList) {
  replace(live, panel(analysis, {
    signal: ctx.signal,
    showError: ctx.showError,
    onChange: () => reloadList(),
    onEnd: () => reloadList(),
  }));
}

async function loadList(ctx, target, live) {
  const page = await api.get(api.withQuery('/tenant/analysis', {limit: 50}), {signal: ctx.signal});
  if (!page.items.length) {
    replace(target, section('Your analyses', empty(session.can.run() ? 'No analysis yet: start one above.' : 'No analysis yet.')));
    return;
  }
  const rows = page.items.map((a) => h('tr', {'data-analysis-row': a.id},
    h('td', null, h('a', {href: `#/analyses/${encodeURIComponent(a.id)}`, 'data-analysis': a.id}, fmt.dateTime(a.created_at))),
    h('td', null, statusBadge(a.status), a.status === 'running' && a.progress.total > 0 ? ` ${fmt.percent(a.progress.done / a.progress.total, 0)}` : null),
    h('td', null, `${a.inputs.model.name} ${a.inputs.model.version}`),
    h('td', null, `${a.inputs.source.name} v${a.inputs.source.version}`),
    h('td', null, a.inputs.preprocessors.map((p) => p.name).join(', ') || '–'),
    h('td', null, a.finished_at ? fmt.dateTime(a.finished_at) : '–'),
    h('td', {class: 'row-actions'}, !FINAL.has(a.status)
      ? h('button', {type: 'button', class: 'small', onclick: () => showRun(ctx, live, a, () => loadList(ctx, target, live).catch(() => {}))}, 'Follow')
      : h('a', {href: `#/analyses/${encodeURIComponent(a.id)}`}, a.status === 'succeeded' ? 'Results' : 'Details'))));
  replace(target, section('Your analyses',
    page.total > page.items.length ? h('p', {class: 'hint'}, `The ${page.items.length} newest of ${fmt.number(page.total)}.`) : null,
    scroller(h('table', {id: 'analyses'},
      h('thead', null, h('tr', null, ['Started', 'Status', 'Model', 'Data', 'Preprocessors', 'Finished', ''].map((n) => h('th', {scope: 'col'}, n)))),
      h('tbody', null, rows)))));
}
