// Dashboard: KPI and spend over time, the split of spend by channel, and
// the latest succeeded analysis's ROI per channel.
// API: GET /tenant/dashboard/metrics, GET /tenant/data/sources/{id} (roles),
// GET /tenant/data/sources/{id}/rows (JSON), GET /tenant/analysis?status=succeeded&limit=1,
// GET /tenant/analysis/{id}.

import * as api from '../api.js';
import * as fmt from '../format.js';
import * as charts from '../charts.js';
import {h, replace, scroller, table} from '../dom.js';
import {empty, figures, section} from '../ui.js';

export async function render({main, signal, showError}) {
  const metrics = await api.get('/tenant/dashboard/metrics', {signal});
  const heading = h('h1', null, 'Dashboard');
  if (!metrics.sources.length) {
    replace(main, heading, empty(
      'No data yet. Upload your weekly or daily spend and sales history to see your figures here.',
      {href: '#/data', text: 'Go to Data'}));
    return;
  }
  const body = h('div', {class: 'stack'});
  const picker = h('select', {id: 'dash-source'}, metrics.sources.map((s, i) => h('option', {value: String(i)}, `${s.name} (version ${s.version})`)));
  const controls = metrics.sources.length > 1
    ? h('div', {class: 'field inline'}, h('label', {for: 'dash-source'}, 'Data source'), picker)
    : null;
  const note = metrics.total_sources > metrics.sources.length
    ? h('p', {class: 'hint'}, `Showing the ${metrics.sources.length} newest of ${metrics.total_sources} data sources.`)
    : null;
  const roiSection = h('div');
  replace(main, heading, controls, note, body, roiSection);

  const show = async (source) => {
    charts.disposeIn(body);
    await renderSource(body, source, signal, showError);
  };
  picker.addEventListener('change', () => show(metrics.sources[Number(picker.value)]).catch((e) => showError(e, 'Could not load the data source')));
  await Promise.all([
    show(metrics.sources[0]),
    renderLatestRoi(roiSection, signal).catch((e) => {
      if (e.name === 'AbortError') throw e;
      replace(roiSection, section('Return on spend', h('p', {class: 'problem'}, `The latest analysis could not be loaded: ${e.message}`)));
    }),
  ]);
}

async function renderSource(body, source, signal, showError) {
  const currency = source.currency;
  const period = source.granularity === 'daily' ? 'day' : source.granularity === 'monthly' ? 'month' : 'week';
  const latest = source.latest;
  replace(body,
    h('p', {class: 'lead'}, `${source.name}: ${fmt.date(source.date_from)} to ${fmt.date(source.date_to)}, ${source.granularity}.`),
    figures([
      {key: 'kpi-total', label: 'KPI, whole range', value: fmt.money(source.kpi_total, currency)},
      {key: 'spend-total', label: 'Media spend, whole range', value: fmt.money(source.spend_total, currency)},
      {key: 'kpi-latest', label: `KPI, latest ${period} (${fmt.date(latest.period)})`, value: fmt.money(latest.kpi, currency),
        note: source.kpi_change !== undefined ? ` ${fmt.change(source.kpi_change)} on the ${period} before` : null},
      {key: 'spend-latest', label: `Spend, latest ${period}`, value: fmt.money(latest.spend, currency),
        note: source.spend_change !== undefined ? ` ${fmt.change(source.spend_change)} on the ${period} before` : null},
    ], {id: 'dash-figures'}));
  const over = charts.container('kpi-chart', `KPI and spend per ${period} over time`, true);
  const split = charts.container('split-chart', 'Spend split by channel');
  const grid = h('div', {class: 'grid-2'},
    section(`KPI and spend per ${period}`, over),
    section('Spend by channel', split, scroller(table({id: 'split-table'}, ['Channel', 'Spend', 'Share', `Latest ${period}`, 'Change'],
      source.channels.map((c) => [c.channel, fmt.money(c.spend, currency), fmt.percent(c.share), fmt.money(c.latest_spend, currency), c.change === undefined ? '–' : fmt.change(c.change)])))));
  body.append(grid);

  charts.draw(split, {
    tooltip: {trigger: 'item', formatter: (p) => `${p.name}: ${fmt.money(p.value, currency)} (${fmt.percent(p.percent / 100)})`},
    legend: {bottom: 0, type: 'scroll'},
    series: [{type: 'pie', radius: ['35%', '65%'], center: ['50%', '45%'], label: {formatter: '{b}: {d}%'},
      data: source.channels.map((c) => ({name: c.channel, value: c.spend}))}],
  });

  try {
    const [detail, rows] = await Promise.all([
      api.get(`/tenant/data/sources/${encodeURIComponent(source.source_id)}`, {signal}),
      api.get(`/tenant/data/sources/${encodeURIComponent(source.source_id)}/rows`, {signal}),
    ]);
    const roles = detail.roles;
    const dates = rows.map((r) => r[roles.date]);
    const kpi = rows.map((r) => (typeof r[roles.kpi] === 'number' ? r[roles.kpi] : null));
    const spend = rows.map((r) => roles.media.reduce((sum, m) => sum + (typeof r[m] === 'number' ? r[m] : 0), 0));
    charts.draw(over, {
      tooltip: {trigger: 'axis', valueFormatter: (v) => fmt.money(v, currency)},
      legend: {top: 0},
      grid: {left: 8, right: 8, top: 40, bottom: 8, containLabel: true},
      xAxis: {type: 'category', data: dates, axisLabel: {formatter: (v) => fmt.date(v)}},
      yAxis: [
        {...charts.axisMoney(currency), name: roles.kpi},
        {...charts.axisMoney(currency), name: 'spend', splitLine: {show: false}},
      ],
      series: [
        {type: 'line', name: roles.kpi, data: kpi, showSymbol: false},
        {type: 'line', name: 'Media spend', yAxisIndex: 1, data: spend, showSymbol: false, areaStyle: {opacity: 0.15}},
      ],
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    replace(over, h('p', {class: 'problem'}, `The history could not be loaded: ${e.message}`));
    showError(e, 'Could not load the history');
  }
}

async function renderLatestRoi(target, signal) {
  const page = await api.get(api.withQuery('/tenant/analysis', {status: 'succeeded', limit: 1}), {signal});
  if (!page.items.length) {
    replace(target, section('Return on spend', empty('No analysis has finished yet. Run one to see what each channel brings back per unit of spend.', {href: '#/analyses', text: 'Go to Analyses'})));
    return;
  }
  const analysis = await api.get(`/tenant/analysis/${encodeURIComponent(page.items[0].id)}`, {signal});
  const channels = analysis.summary?.channels || [];
  const chart = charts.container('dash-roi-chart', 'Return on spend per channel, latest analysis');
  replace(target, section('Return on spend, latest analysis',
    h('p', {class: 'hint'}, `${analysis.inputs.model.name} on ${analysis.inputs.source.name} (version ${analysis.inputs.source.version}), finished ${fmt.dateTime(analysis.finished_at)}. `,
      h('a', {href: `#/analyses/${encodeURIComponent(analysis.id)}`, 'data-analysis': analysis.id}, 'See all results')),
    chart));
  charts.draw(chart, {
    tooltip: {trigger: 'axis', valueFormatter: (v) => fmt.roi(v)},
    xAxis: {type: 'category', data: channels.map((c) => c.channel)},
    yAxis: {type: 'value', name: 'KPI per unit of spend'},
    series: [
      {type: 'bar', name: 'ROI', data: channels.map((c) => c.roi), label: {show: true, position: 'top', formatter: (p) => fmt.roi(p.value)}},
      charts.intervalSeries('90% interval', channels.map((c, i) => [i, c.roi_interval[0], c.roi_interval[1]])),
    ],
  });
}
