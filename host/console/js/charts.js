// ECharts helpers. The library is the global `echarts` (vendor/echarts.min.js,
// a classic script). Tooltips render as rich text: HTML tooltips carry
// inline style attributes, which the Content-Security-Policy blocks.
// Every chart follows its container's width and is disposed when the page changes.

import * as fmt from './format.js';

const live = new Set();

const PALETTE = ['#2563eb', '#f97316', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const chart of live) if (!chart.isDisposed()) chart.resize();
  }, 100);
});

/** The base every chart starts from. */
function base() {
  return {
    color: PALETTE,
    animation: false,
    aria: {enabled: true},
    textStyle: {fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'},
    tooltip: {renderMode: 'richText', confine: true},
    grid: {left: 8, right: 16, top: 40, bottom: 8, containLabel: true},
  };
}

/**
 * Draws `option` in `container` (a fresh chart, or the one already there)
 * and marks the container `data-rendered="true"`.
 */
export function draw(container, option) {
  if (typeof echarts === 'undefined') {
    container.textContent = 'Charts could not load (vendor/echarts.min.js is missing).';
    return null;
  }
  let chart = echarts.getInstanceByDom(container);
  if (!chart) {
    chart = echarts.init(container, null, {renderer: 'canvas'});
    live.add(chart);
  }
  const merged = {...base(), ...option};
  merged.tooltip = {...base().tooltip, ...(option.tooltip || {})};
  chart.setOption(merged, {notMerge: true});
  container.dataset.rendered = 'true';
  return chart;
}

/** Disposes every chart (called before another page renders). */
export function disposeAll() {
  for (const chart of live) if (!chart.isDisposed()) chart.dispose();
  live.clear();
}

/** Disposes the charts inside `root` only. */
export function disposeIn(root) {
  for (const chart of live) {
    if (chart.isDisposed() || root.contains(chart.getDom())) {
      if (!chart.isDisposed()) chart.dispose();
      live.delete(chart);
    }
  }
}

/** An empty chart container with an accessible name. */
export function container(id, label, tall = false) {
  const el = document.createElement('div');
  el.id = id;
  el.className = tall ? 'chart chart-tall' : 'chart';
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', label);
  return el;
}

export const axisMoney = (currency) => ({
  type: 'value',
  axisLabel: {formatter: (v) => (currency ? `${fmt.compact(v)}` : fmt.compact(v))},
  splitLine: {lineStyle: {color: '#e5e7eb'}},
});

/** Linear interpolation of y at x on points sorted by x. */
export function interpolate(points, x) {
  if (points.length === 0) return null;
  if (x <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i += 1) {
    const [x1, y1] = points[i];
    if (x <= x1) {
      const [x0, y0] = points[i - 1];
      return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return points[points.length - 1][1];
}

/**
 * A custom series drawing a vertical interval (whisker) per category:
 * data items are [categoryIndex, low, high].
 */
export function intervalSeries(name, data, color = '#111827') {
  return {
    type: 'custom',
    name,
    data,
    z: 10,
    itemStyle: {color},
    encode: {x: 0, y: [1, 2]},
    renderItem(params, api) {
      const index = api.value(0);
      const low = api.coord([index, api.value(1)]);
      const high = api.coord([index, api.value(2)]);
      const half = Math.max(4, api.size([1, 0])[0] * 0.12);
      const style = {stroke: color, lineWidth: 1.5, fill: null};
      return {
        type: 'group',
        children: [
          {type: 'line', shape: {x1: low[0], y1: low[1], x2: high[0], y2: high[1]}, style},
          {type: 'line', shape: {x1: low[0] - half, y1: low[1], x2: low[0] + half, y2: low[1]}, style},
          {type: 'line', shape: {x1: high[0] - half, y1: high[1], x2: high[0] + half, y2: high[1]}, style},
        ],
      };
    },
  };
}

export {PALETTE};
