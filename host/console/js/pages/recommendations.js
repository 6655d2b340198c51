// Recommendations: where the next budget should go, for a succeeded
// analysis. The default one (same budget, each channel 0.5x–2x) shows
// first; analysts and up ask their own (budget, horizon, per-channel bounds).
// API: GET /tenant/recommendations(?analysis_id=), POST /tenant/recommendations,
// GET /tenant/recommendations/saved(?analysis_id=), GET /tenant/recommendations/{id},
// GET /tenant/analysis?status=succeeded.

import * as api from '../api.js';
import * as fmt from '../format.js';
import * as charts from '../charts.js';
import * as session from '../session.js';
import {h, replace, clear, scroller, field, richText} from '../dom.js';
import {errorSlot, showInline, busy, empty, section, markField, clearMarks} from '../ui.js';

const OBJECTIVES = [
  ['max_response', 'The most KPI for the budget'],
  ['target_roi', 'The largest budget that keeps an overall ROI'],
  ['target_mroi', 'The largest budget that keeps a marginal ROI'],
];

export async function render(ctx) {
  const {main, query, signal} = ctx;
  let recommendation;
  try {
    recommendation = await api.get(api.withQuery('/tenant/recommendations', {analysis_id: query.analysis}), {signal});
  } catch (e) {
    if (e.code === 'no_succeeded_analysis') {
      replace(main, h('h1', null, 'Recommendations'), empty('Recommendations come from a finished analysis, and there is none yet.', {href: '#/analyses', text: 'Go to Analyses'}));
      return;
    }
    if (e.code === 'analysis_not_succeeded') {
      replace(main, h('h1', null, 'Recommendations'), empty(`${e.message}.`, {href: `#/analyses/${encodeURIComponent(query.analysis)}`, text: 'See the analysis'}));
      return;
    }
    throw e;
  }
  const analyses = await api.get(api.withQuery('/tenant/analysis', {status: 'succeeded', limit: 50}), {signal});
  const result = h('div', {id: 'rec-result'});
  const saved = h('div', {id: 'rec-saved-section'});
  const picker = analysisPicker(ctx, analyses.items, recommendation.analysis_id);
  const showRecommendation = (r) => renderRecommendation(result, r);
  const reloadSaved = () => loadSaved(ctx, saved, recommendation.analysis_id, showRecommendation).catch((e) => ctx.showError(e, 'Could not list the saved recommendations'));
  replace(main, 
    h('h1', null, 'Recommendations'),
    picker,
    session.can.recommend() ? requestForm(ctx, recommendation, (r) => {
      showRecommendation(r);
      reloadSaved();
    }) : h('p', {class: 'hint'}, 'This is the default recommendation: the same budget, each channel between half and twice its current spend. Analysts can ask their own.'),
    result,
    saved);
  showRecommendation(recommendation);
  await loadSaved(ctx, saved, recommendation.analysis_id, showRecommendation);
}

function analysisPicker(ctx, analyses, current) {
  if (analyses.length <= 1) return null;
  const select = h('select', {id: 'rec-analysis'}, analyses.map((a) => h('option', {value: a.id},
    `${a.inputs.model.name} on ${a.inputs.source.name} v${a.inputs.source.version}, ${fmt.dateTime(a.finished_at || a.created_at)}`)));
  select.value = current;
  select.addEventListener('change', () => ctx.navigate(`#/recommendations?analysis=${encodeURIComponent(select.value)}`));
  return h('div', {class: 'field inline'}, h('label', {for: 'rec-analysis'}, 'Analysis'), select);
}

function requestForm(ctx, base, onDone) {
  const currency = base.currency;
  const budget = h('input', {id: 'rec-budget', type: 'number', min: '0', step: 'any', inputmode: 'decimal', value: String(Math.round(base.totals.current_spend * 100) / 100)});
  const periods = h('input', {id: 'rec-periods', type: 'number', min: '1', max: '520', step: '1', value: String(base.horizon.periods)});
  const spread = h('select', {id: 'rec-spread'}, h('option', {value: 'history'}, 'Like the latest periods (flights and all)'), h('option', {value: 'flat'}, 'Evenly over the periods'));
  spread.value = base.horizon.spread || 'history';
  const objective = h('select', {id: 'rec-objective'}, OBJECTIVES.map(([v, t]) => h('option', {value: v}, t)));
  const target = h('input', {id: 'rec-target', type: 'number', min: '0', step: 'any', inputmode: 'decimal', disabled: true});
  const dirty = (el) => el.addEventListener('input', () => { el.dataset.dirty = 'true'; });
  [budget, periods].forEach(dirty);
  objective.addEventListener('change', () => {
    const targeted = objective.value !== 'max_response';
    target.disabled = !targeted;
    budget.disabled = targeted;
  });

  const boundRows = base.channels.map((c) => {
    const min = h('input', {id: `rec-min-${c.channel}`, type: 'number', min: '0', step: 'any', inputmode: 'decimal', 'data-min': c.channel, value: String(Math.round(c.bounds.min * 100) / 100)});
    const max = h('input', {id: `rec-max-${c.channel}`, type: 'number', min: '0', step: 'any', inputmode: 'decimal', 'data-max': c.channel, value: String(Math.round(c.bounds.max * 100) / 100)});
    const kind = h('select', {id: `rec-kind-${c.channel}`, 'data-kind': c.channel},
      h('option', {value: 'range'}, 'Between min and max'), h('option', {value: 'fixed'}, 'Keep as is'), h('option', {value: 'excluded'}, 'Spend nothing'));
    [min, max].forEach(dirty);
    kind.addEventListener('change', () => {
      min.disabled = kind.value !== 'range';
      max.disabled = kind.value !== 'range';
    });
    return h('tr', null,
      h('th', {scope: 'row'}, c.channel),
      h('td', {class: 'num'}, fmt.money(c.current_spend, currency)),
      h('td', null, h('label', {for: kind.id, class: 'sr-only'}, `${c.channel}: how to treat it`), kind),
      h('td', null, h('label', {for: min.id, class: 'sr-only'}, `${c.channel}: minimum spend`), min),
      h('td', null, h('label', {for: max.id, class: 'sr-only'}, `${c.channel}: maximum spend`), max));
  });
  const submit = h('button', {id: 'rec-submit', type: 'submit', class: 'primary'}, 'Recommend');
  const working = h('p', {class: 'working', hidden: true}, h('progress', {'aria-label': 'Optimising'}), ' Optimising the allocation…');
  const error = errorSlot('rec-error');
  const form = h('form', {id: 'rec-form', novalidate: true},
    h('div', {class: 'grid-3'},
      field(`Total budget over the horizon${currency ? ` (${currency})` : ''}`, budget, 'Default: what was spent over the same number of periods.'),
      field(`Horizon (${base.horizon.granularity} periods)`, periods),
      field('Spread over the periods', spread)),
    h('details', {class: 'more'}, h('summary', null, 'Objective'),
      h('div', {class: 'grid-2'}, field('Find', objective), field('Target ROI or mROI (KPI per unit of spend)', target))),
    h('h3', null, 'Bounds per channel (totals over the horizon)'),
    scroller(h('table', {id: 'rec-bounds'},
      h('thead', null, h('tr', null, ['Channel', 'Current', 'Treatment', 'Minimum', 'Maximum'].map((n) => h('th', {scope: 'col'}, n)))),
      h('tbody', null, boundRows))),
    error, working,
    h('div', {class: 'actions'}, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showInline(error, null);
    clearMarks(form);
    ctx.clearError();
    const body = {analysis_id: base.analysis_id, objective: objective.value, bounds: {}};
    const number = (el, what) => {
      const n = Number(el.value);
      if (el.value.trim() === '' || !Number.isFinite(n) || n < 0) throw Object.assign(new Error(`${what} must be a number of at least 0.`), {control: el});
      return n;
    };
    try {
      if (objective.value === 'max_response') {
        if (budget.dataset.dirty || periods.dataset.dirty) body.budget = number(budget, 'The budget');
      } else {
        body.target = number(target, 'The target');
      }
      if (periods.dataset.dirty || spread.value !== (base.horizon.spread || 'history')) {
        body.horizon = {periods: Math.round(number(periods, 'The horizon')), spread: spread.value};
      }
      for (const c of base.channels) {
        const kind = form.querySelector(`select[data-kind="${CSS.escape(c.channel)}"]`).value;
        const min = form.querySelector(`input[data-min="${CSS.escape(c.channel)}"]`);
        const max = form.querySelector(`input[data-max="${CSS.escape(c.channel)}"]`);
        if (kind === 'fixed') body.bounds[c.channel] = {fixed: true};
        else if (kind === 'excluded') body.bounds[c.channel] = {excluded: true};
        else {
          const b = {};
          if (min.dataset.dirty) b.min = number(min, `The minimum for ${c.channel}`);
          if (max.dataset.dirty) b.max = number(max, `The maximum for ${c.channel}`);
          if (b.min !== undefined && b.max !== undefined && b.min > b.max) throw Object.assign(new Error(`The minimum for ${c.channel} is above its maximum.`), {control: min});
          if (Object.keys(b).length) body.bounds[c.channel] = b;
        }
      }
    } catch (e) {
      showInline(error, e.message);
      e.control?.setAttribute('aria-invalid', 'true');
      e.control?.focus();
      return;
    }
    working.hidden = false;
    try {
      await busy(submit, 'Optimising…', async () => {
        const r = await api.post('/tenant/recommendations', body);
        onDone(r);
      });
    } catch (e) {
      markField(e, (f) => {
        if (f === 'budget') return budget;
        if (f === 'target') return target;
        if (f.startsWith('horizon')) return periods;
        const m = /^bounds\.([^.]+)(?:\.(\w+))?$/.exec(f);
        if (!m) return null;
        const [, ch, part] = m;
        if (part && part.startsWith('min')) return form.querySelector(`input[data-min="${CSS.escape(ch)}"]`);
        if (part && part.startsWith('max')) return form.querySelector(`input[data-max="${CSS.escape(ch)}"]`);
        return form.querySelector(`select[data-kind="${CSS.escape(ch)}"]`);
      });
      showInline(error, `No recommendation was made: ${e.message}`);
      ctx.showError(e, 'Could not make the recommendation');
    } finally {
      working.hidden = true;
    }
  });
  return section('Ask your own', form);
}

function renderRecommendation(target, r) {
  const currency = r.currency;
  const t = r.totals;
  const e = t.expected_kpi_change;
  const chart = charts.container('rec-curves', 'Response curves with the current and the recommended spend marked', true);
  const bound = (c) => {
    if (c.bounds.kind === 'fixed') return 'kept as is';
    if (c.bounds.kind === 'excluded') return 'excluded';
    if (c.bounds.active === 'min') return 'at its minimum';
    if (c.bounds.active === 'max') return 'at its maximum';
    return '';
  };
  const pct = (c) => (c.current_spend > 0 ? ` (${fmt.change(c.spend_change / c.current_spend)})` : '');
  replace(target, section(r.is_default ? 'Recommendation (default)' : 'Recommendation',
    h('p', {id: 'rec-summary', class: 'lead'}, richText(r.summary)),
    h('p', {id: 'rec-kpi', class: 'kpi-change'},
      `Expected ${r.kpi} change over ${fmt.number(r.horizon.periods)} ${r.horizon.granularity} periods: `,
      h('strong', null, fmt.signed(e.value)),
      ` (interval ${fmt.signed(e.low)} to ${fmt.signed(e.high)}). Media ROI ${fmt.roi(t.current.roi)} → ${fmt.roi(t.recommended.roi)}, marginal ROI ${fmt.roi(t.current.mroi)} → ${fmt.roi(t.recommended.mroi)}.`),
    scroller(h('table', {id: 'rec-table'},
      h('thead', null, h('tr', null, ['Channel', 'Current', 'Recommended', 'Change', `Expected ${r.kpi} change`, 'mROI now → then', 'Bound'].map((n) => h('th', {scope: 'col'}, n)))),
      h('tbody', null, r.channels.map((c) => h('tr', {'data-channel': c.channel},
        h('td', null, c.channel),
        h('td', {class: 'num'}, fmt.money(c.current_spend, currency)),
        h('td', {class: 'num'}, fmt.money(c.recommended_spend, currency)),
        h('td', {class: ['num', c.spend_change > 0 ? 'up' : c.spend_change < 0 ? 'down' : '']}, `${fmt.signedMoney(c.spend_change, currency)}${pct(c)}`),
        h('td', {class: 'num'}, `${fmt.signed(c.expected_kpi_change.value)} [${fmt.signed(c.expected_kpi_change.low)}, ${fmt.signed(c.expected_kpi_change.high)}]`),
        h('td', {class: 'num'}, `${fmt.roi(c.current.mroi)} → ${fmt.roi(c.recommended.mroi)}`),
        h('td', null, bound(c))))),
      h('tfoot', null, h('tr', null,
        h('th', {scope: 'row'}, 'Total'),
        h('td', {class: 'num'}, fmt.money(t.current_spend, currency)),
        h('td', {class: 'num'}, fmt.money(t.recommended_spend, currency)),
        h('td', {class: 'num'}, fmt.signedMoney(t.recommended_spend - t.current_spend, currency)),
        h('td', {class: 'num'}, `${fmt.signed(e.value)} [${fmt.signed(e.low)}, ${fmt.signed(e.high)}]`),
        h('td', {class: 'num'}, `${fmt.roi(t.current.mroi)} → ${fmt.roi(t.recommended.mroi)}`),
        h('td', null, ''))))),
    h('h3', null, 'Response curves'),
    h('p', {class: 'hint'}, `Each channel’s ${r.kpi} over the horizon against its spend (the others at their recommended spend): the circle is today’s spend, the diamond the recommended one.`),
    chart,
    h('p', {class: 'hint'}, `Computed in ${fmt.number(r.solver.milliseconds, 1)} ms: ${fmt.number(r.solver.iterations)} iterations, ${fmt.number(r.solver.predict_calls)} model calls, ${fmt.number(r.solver.scenarios)} allocations scored (${r.solver.method}). Made ${fmt.dateTime(r.created_at)}.`)));

  const series = [];
  r.curves.forEach((curve, i) => {
    const color = charts.PALETTE[i % charts.PALETTE.length];
    series.push({type: 'line', name: curve.channel, data: curve.points.map((p) => [p.spend, p.response]), showSymbol: false, itemStyle: {color}, lineStyle: {color}});
    series.push({type: 'scatter', name: curve.channel, data: [{value: [curve.current.spend, curve.current.response], kind: 'current'}], symbol: 'circle', symbolSize: 12,
      itemStyle: {color: '#fff', borderColor: color, borderWidth: 2.5}});
    series.push({type: 'scatter', name: curve.channel, data: [{value: [curve.recommended.spend, curve.recommended.response], kind: 'recommended'}], symbol: 'diamond', symbolSize: 14,
      itemStyle: {color, borderColor: '#111827', borderWidth: 1}});
  });
  charts.draw(chart, {
    tooltip: {trigger: 'item', formatter: (p) => {
      const what = p.data?.kind === 'current' ? 'current' : p.data?.kind === 'recommended' ? 'recommended' : 'curve';
      return `${p.seriesName} (${what}): spend ${fmt.money(p.value[0], currency)} → ${fmt.number(p.value[1])}`;
    }},
    legend: {top: 0, type: 'scroll', data: r.curves.map((c) => c.channel)},
    grid: {left: 8, right: 16, top: 40, bottom: 36, containLabel: true},
    xAxis: {type: 'value', name: 'spend over the horizon', nameLocation: 'middle', nameGap: 28, axisLabel: {formatter: (v) => fmt.compact(v)}},
    yAxis: {type: 'value', name: r.kpi, axisLabel: {formatter: (v) => fmt.compact(v)}},
    series,
  });
}

async function loadSaved(ctx, target, analysisId, show) {
  const page = await api.get(api.withQuery('/tenant/recommendations/saved', {analysis_id: analysisId, limit: 50}), {signal: ctx.signal});
  if (!page.items.length) {
    clear(target);
    return;
  }
  replace(target, section('Saved recommendations for this analysis', scroller(h('table', {id: 'rec-saved'},
    h('thead', null, h('tr', null, ['Made', 'Kind', 'Objective', 'Budget', 'Expected change', ''].map((n) => h('th', {scope: 'col'}, n)))),
    h('tbody', null, page.items.map((r) => h('tr', {'data-recommendation': r.id},
      h('td', null, fmt.dateTime(r.created_at)),
      h('td', null, r.is_default ? 'default' : 'own'),
      h('td', null, OBJECTIVES.find(([v]) => v === r.objective)?.[1] || r.objective),
      h('td', {class: 'num'}, fmt.money(r.totals.recommended_spend, r.currency)),
      h('td', {class: 'num'}, fmt.signed(r.totals.expected_kpi_change.value)),
      h('td', null, h('button', {type: 'button', class: 'small', onclick: async () => {
        try {
          show(await api.get(`/tenant/recommendations/${encodeURIComponent(r.id)}`, {signal: ctx.signal}));
          document.getElementById('rec-result')?.scrollIntoView({block: 'start'});
        } catch (e) {
          ctx.showError(e, 'Could not load the recommendation');
        }
      }}, 'Show')))))))));
}
