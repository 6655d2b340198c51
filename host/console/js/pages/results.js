// Results of one analysis: ROI per channel with its interval, effect share
// against spend share, the decomposition over time with actual and fitted,
// response curves with the current spend marked, fit metrics, warnings.
// API: GET /tenant/analysis/{id} (summary), GET /tenant/analysis/{id}/decomposition (JSON),
// GET /tenant/analysis/{id}/response-curves (JSON), GET /tenant/data/sources/{id} (currency, KPI name).

import * as api from '../api.js';
import * as fmt from '../format.js';
import * as charts from '../charts.js';
import {h, replace, scroller, table, richText} from '../dom.js';
import {empty, section, figures, statusBadge} from '../ui.js';
import {panel} from '../progress.js';

export async function render(ctx) {
  const {main, params, signal} = ctx;
  const path = `/tenant/analysis/${encodeURIComponent(params.id)}`;
  const analysis = await api.get(path, {signal});
  const title = h('h1', null, `Results: ${analysis.inputs.model.name} on ${analysis.inputs.source.name}`);
  const back = h('p', {class: 'crumbs'}, h('a', {href: '#/analyses'}, '← All analyses'));
  if (analysis.status !== 'succeeded') {
    const live = h('div');
    replace(main, back, title, live);
    replace(live, panel(analysis, {
      signal,
      showError: ctx.showError,
      onEnd: async (s) => {
        if (s.status === 'succeeded' && ctx.alive()) {
          const done = await api.get(path, {signal});
          await renderResults(ctx, done, back, title);
        }
      },
    }));
    return;
  }
  await renderResults(ctx, analysis, back, title);
}

async function renderResults(ctx, analysis, back, title) {
  const {main, signal} = ctx;
  const path = `/tenant/analysis/${encodeURIComponent(analysis.id)}`;
  const json = {accept: 'application/json', signal};
  const [decomposition, curves, source] = await Promise.all([
    api.get(`${path}/decomposition`, json),
    api.get(`${path}/response-curves`, json),
    api.get(`/tenant/data/sources/${encodeURIComponent(analysis.inputs.source.id)}`, {signal}).catch((e) => {
      if (e.name === 'AbortError') throw e;
      return null;
    }),
  ]);
  const summary = analysis.summary || {channels: [], metrics: {}, warnings: []};
  const channels = summary.channels || [];
  const currency = source?.currency || null;
  const kpi = source?.roles?.kpi || 'KPI';
  const Kpi = kpi.charAt(0).toUpperCase() + kpi.slice(1);
  const period = source?.granularity === 'daily' ? 'day' : source?.granularity === 'monthly' ? 'month' : 'week';
  const periods = decomposition.length || source?.rows || 1;

  const totalSpend = channels.reduce((s, c) => s + c.spend, 0);
  const totalContribution = channels.reduce((s, c) => s + c.contribution, 0);
  const roiChart = charts.container('roi-chart', 'Return on spend per channel with its interval');
  const shareChart = charts.container('share-chart', 'Share of effect against share of spend per channel');
  const decompositionChart = charts.container('decomposition-chart', `Decomposition of ${kpi} over time`, true);
  const curvesChart = charts.container('curves-chart', `Response curves: ${kpi} per ${period} against spend per ${period}`, true);

  replace(main, 
    back, title,
    h('p', {class: 'lead'},
      `${analysis.inputs.model.name} ${analysis.inputs.model.version} on “${analysis.inputs.source.name}” version ${analysis.inputs.source.version}`,
      analysis.inputs.preprocessors.length ? `, after ${analysis.inputs.preprocessors.map((p) => p.name).join(', ')}` : '',
      `. Finished ${fmt.dateTime(analysis.finished_at)}`, analysis.fit_ms !== null && analysis.fit_ms !== undefined ? ` (${fmt.duration(analysis.fit_ms)} of model time)` : '', '. ',
      statusBadge(analysis.status)),
    figures([
      {key: 'spend', label: 'Media spend', value: fmt.money(totalSpend, currency)},
      {key: 'contribution', label: `${Kpi} from media`, value: fmt.money(totalContribution, currency)},
      {key: 'roi', label: 'Overall ROI', value: fmt.roi(totalSpend > 0 ? totalContribution / totalSpend : NaN)},
      {key: 'baseline', label: `${Kpi} without media (baseline)`, value: fmt.money(summary.baseline_contribution, currency)},
    ]),
    h('p', {class: 'actions'}, h('a', {href: `#/recommendations?analysis=${encodeURIComponent(analysis.id)}`, class: 'button primary'}, 'Where should the budget go? See recommendations')),
    warningsSection(summary.warnings || []),
    section('Return on spend (ROI) per channel',
      h('p', {class: 'hint'}, `${Kpi} each unit of spend brought back, with the model’s interval (90% unless the model says otherwise). mROI is what the next unit would bring at today’s spend.`),
      roiChart,
      scroller(table({id: 'roi-table'}, ['Channel', 'ROI', 'Interval low', 'Interval high', 'mROI', 'Spend', 'Contribution', 'Carry-over'],
        channels.map((c) => [c.channel, fmt.roi(c.roi), fmt.roi(c.roi_interval[0]), fmt.roi(c.roi_interval[1]), fmt.roi(c.mroi), fmt.money(c.spend, currency), fmt.money(c.contribution, currency), fmt.percent(c.carryover_share)])))),
    h('div', {class: 'grid-2'},
      section('Share of effect against share of spend',
        h('p', {class: 'hint'}, 'A channel whose share of the effect is above its share of spend earns more than the average channel.'),
        shareChart),
      section('Fit', fitMetrics(summary.metrics || {}))),
    section(`Where the ${kpi} came from, ${period} by ${period}`,
      h('p', {class: 'hint'}, 'Baseline and each channel’s contribution stacked, with the actual and the fitted values as lines.'),
      decompositionChart),
    section('Response curves',
      h('p', {class: 'hint'}, `${Kpi} per ${period} for a steady spend per ${period}; the dot marks the average spend per ${period} in the data. A flattening curve means the channel is saturating.`),
      curvesChart),
    calibrationSection(summary.calibration, currency),
    inputsSection(analysis));

  drawRoi(roiChart, channels);
  drawShares(shareChart, channels);
  drawDecomposition(decompositionChart, decomposition, channels, currency);
  drawCurves(curvesChart, curves, channels, periods, currency);
}

function warningsSection(warnings) {
  const advice = (w) => {
    if (/never spent below a tenth of its mean/.test(w)) {
      return 'What to do: this channel was always on, so the data cannot show what happens without it. Run a lift test on it (a geo holdout or a few dark weeks), record it as an experiment, and run the analysis again; until then read its ROI with its interval.';
    }
    if (/not converged/.test(w)) return 'What to do: run the analysis again with more warm-up and draws (or more chains) in the model settings.';
    if (/divergent/.test(w)) return 'What to do: run it again with a higher target_accept (e.g. 0.95) in the model settings.';
    if (/experiments|0\.1\.0/.test(w)) return null;
    return null;
  };
  return section('Warnings', warnings.length
    ? h('ul', {id: 'warnings', class: 'warnings'}, warnings.map((w) => {
      const tip = advice(w);
      const text = w.charAt(0).toUpperCase() + w.slice(1);
      return h('li', null, richText(text.endsWith('.') ? text : `${text}.`), tip ? h('p', {class: 'advice'}, tip) : null);
    }))
    : h('ul', {id: 'warnings', class: 'warnings none'}, h('li', {class: 'ok'}, 'None: the model raised no concerns about this fit.')));
}

const METRIC_NAMES = {r2: 'R²', nrmse: 'NRMSE', mape: 'MAPE', periods: 'Periods', decomp_rssd: 'DECOMP.RSSD', lambda: 'Ridge penalty (λ)', mape_lift: 'Lift error (MAPE.LIFT)', sigma: 'Noise (σ)', likelihood: 'Likelihood'};

function metricValue(key, value) {
  if (typeof value !== 'number') return value === null || value === undefined ? '–' : String(value);
  if (key === 'mape' || key === 'mape_lift') return fmt.percent(value, 1);
  if (key === 'periods') return fmt.number(value);
  if (key === 'r2') return fmt.number(value, 3);
  if (Math.abs(value) >= 1000) return fmt.number(value, 0);
  return new Intl.NumberFormat(undefined, {maximumSignificantDigits: 3}).format(value);
}

function fitMetrics(metrics) {
  const windows = Object.entries(metrics).filter(([, v]) => v && typeof v === 'object' && !Array.isArray(v));
  const scalars = Object.entries(metrics).filter(([, v]) => !(v && typeof v === 'object'));
  const columns = [...new Set(windows.flatMap(([, v]) => Object.keys(v)))];
  const order = ['periods', 'r2', 'nrmse', 'mape'];
  columns.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  return h('div', {id: 'fit-metrics'},
    windows.length ? scroller(table({id: 'fit-table'}, ['Window', ...columns.map((c) => METRIC_NAMES[c] || fmt.label(c))],
      windows.map(([name, v]) => [fmt.label(name), ...columns.map((c) => metricValue(c, v[c]))]))) : null,
    scalars.length ? h('dl', {class: 'pairs'}, scalars.map(([k, v]) => h('div', null, h('dt', null, METRIC_NAMES[k] || fmt.label(k)), h('dd', null, metricValue(k, v))))) : null,
    h('p', {class: 'hint'}, 'R² near 1 and low NRMSE and MAPE mean the model follows the data; the validation and test windows are out of sample.'));
}

function calibrationSection(calibration, currency) {
  const rows = Array.isArray(calibration) ? calibration : Array.isArray(calibration?.tests) ? calibration.tests : null;
  if (!rows || !rows.length) return null;
  return section('Lift tests (calibration)', scroller(table({id: 'calibration'}, ['Channel', 'Window', 'Spend change', 'Measured lift', 'Implied lift'],
    rows.map((r) => [r.channel, Array.isArray(r.window) ? `${fmt.date(r.window[0])} – ${fmt.date(r.window[1])}` : '–', fmt.signedMoney(r.spend_change, currency), fmt.signed(r.measured_lift), fmt.signed(typeof r.implied_lift === 'number' ? r.implied_lift : r.implied_lift?.value)]))));
}

function inputsSection(analysis) {
  const i = analysis.inputs;
  return h('details', {class: 'card more'}, h('summary', null, 'Exact inputs (for reproducing this result)'),
    h('dl', {class: 'pairs'},
      [['Model', `${i.model.name} ${i.model.version}`], ['Model params', JSON.stringify(i.model.params)], ['Seed', i.seed ?? '–'],
        ['Data', `${i.source.name} version ${i.source.version} (sha256 ${i.source.sha256.slice(0, 12)}…)`],
        ['Preprocessors', i.preprocessors.map((p) => `${p.name} ${p.version} ${JSON.stringify(p.params)}`).join('; ') || 'none'],
        ['Lift tests', String(i.experiments.length)], ['Inputs digest', i.digest], ['Results digest', analysis.results_digest || '–'], ['Attempts', String(analysis.attempts)]]
        .map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, h('code', null, String(v)))))));
}

function drawRoi(el, channels) {
  charts.draw(el, {
    tooltip: {trigger: 'axis', formatter: (items) => {
      const c = channels[items[0].dataIndex];
      return `${c.channel}\nROI ${fmt.roi(c.roi)} (interval ${fmt.roi(c.roi_interval[0])} – ${fmt.roi(c.roi_interval[1])})\nmROI ${fmt.roi(c.mroi)}`;
    }},
    legend: {top: 0},
    xAxis: {type: 'category', data: channels.map((c) => c.channel)},
    yAxis: {type: 'value', name: 'ROI'},
    series: [
      {type: 'bar', name: 'ROI', data: channels.map((c) => c.roi), barMaxWidth: 48, label: {show: true, position: 'insideBottom', distance: 4, formatter: (p) => fmt.roi(p.value), color: '#fff', fontWeight: 600}},
      {type: 'scatter', name: 'mROI', data: channels.map((c) => c.mroi), symbol: 'diamond', symbolSize: 10, itemStyle: {color: '#f97316'}},
      charts.intervalSeries('Interval', channels.map((c, i) => [i, c.roi_interval[0], c.roi_interval[1]])),
    ],
  });
}

function drawShares(el, channels) {
  charts.draw(el, {
    tooltip: {trigger: 'axis', valueFormatter: (v) => fmt.percent(v)},
    legend: {top: 0},
    xAxis: {type: 'category', data: channels.map((c) => c.channel)},
    yAxis: {type: 'value', axisLabel: {formatter: (v) => fmt.percent(v, 0)}},
    series: [
      {type: 'bar', name: 'Share of effect', data: channels.map((c) => c.effect_share)},
      {type: 'bar', name: 'Share of spend', data: channels.map((c) => c.spend_share)},
    ],
  });
}

function drawDecomposition(el, rows, channels, currency) {
  if (!rows.length) {
    replace(el, empty('The model returned no decomposition.'));
    return;
  }
  const dates = rows.map((r) => r.date);
  const num = (v) => (typeof v === 'number' ? v : null);
  const stacked = ['baseline', ...channels.map((c) => c.channel)].filter((name) => name in rows[0]);
  const series = stacked.map((name) => ({
    type: 'line', name: name === 'baseline' ? 'Baseline' : name, stack: 'total', areaStyle: {opacity: 0.55}, showSymbol: false, lineStyle: {width: 0.5},
    emphasis: {focus: 'series'}, data: rows.map((r) => num(r[name])),
  }));
  if ('actual' in rows[0]) series.push({type: 'line', name: 'Actual', data: rows.map((r) => num(r.actual)), showSymbol: false, lineStyle: {width: 2, color: '#111827'}, itemStyle: {color: '#111827'}, z: 5});
  if ('fitted' in rows[0]) series.push({type: 'line', name: 'Fitted', data: rows.map((r) => num(r.fitted)), showSymbol: false, lineStyle: {width: 2, type: 'dashed', color: '#dc2626'}, itemStyle: {color: '#dc2626'}, z: 6});
  charts.draw(el, {
    color: ['#9ca3af', ...charts.PALETTE],
    tooltip: {trigger: 'axis', valueFormatter: (v) => fmt.money(v, currency)},
    legend: {top: 0, type: 'scroll'},
    grid: {left: 8, right: 16, top: 40, bottom: 40, containLabel: true},
    dataZoom: [{type: 'inside'}, {type: 'slider', height: 18, bottom: 8}],
    xAxis: {type: 'category', data: dates, boundaryGap: false, axisLabel: {formatter: (v) => fmt.date(v)}},
    yAxis: charts.axisMoney(currency),
    series,
  });
}

function drawCurves(el, rows, channels, periods, currency) {
  const byChannel = new Map();
  for (const r of rows) {
    if (!byChannel.has(r.channel)) byChannel.set(r.channel, []);
    byChannel.get(r.channel).push([r.spend, r.response]);
  }
  const names = channels.length ? channels.map((c) => c.channel).filter((n) => byChannel.has(n)) : [...byChannel.keys()];
  const series = [];
  names.forEach((name, i) => {
    const points = byChannel.get(name).sort((a, b) => a[0] - b[0]);
    const color = charts.PALETTE[i % charts.PALETTE.length];
    series.push({type: 'line', name, data: points, showSymbol: false, smooth: false, itemStyle: {color}, lineStyle: {color}});
    const c = channels.find((x) => x.channel === name);
    if (c) {
      const spend = c.spend / periods;
      series.push({type: 'scatter', name, data: [[spend, charts.interpolate(points, spend)]], symbolSize: 11, itemStyle: {color, borderColor: '#111827', borderWidth: 1.5},
        tooltip: {formatter: (p) => `${name}: average spend ${fmt.money(p.value[0], currency)} per period → ${fmt.money(p.value[1], currency)}`}});
    }
  });
  charts.draw(el, {
    tooltip: {trigger: 'item', formatter: (p) => `${p.seriesName}: spend ${fmt.money(p.value[0], currency)} → ${fmt.money(p.value[1], currency)}`},
    legend: {top: 0, type: 'scroll', data: names},
    xAxis: {type: 'value', name: 'spend per period', nameLocation: 'middle', nameGap: 28, axisLabel: {formatter: (v) => fmt.compact(v)}},
    yAxis: {...charts.axisMoney(currency), name: 'response'},
    grid: {left: 8, right: 16, top: 40, bottom: 36, containLabel: true},
    series,
  });
}
