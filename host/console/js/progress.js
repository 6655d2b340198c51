// Following an analysis live: its event stream (`GET /tenant/analysis/{id}/events`,
// read with fetch since EventSource cannot send the token), re-opened when it
// drops, with a plain read of the analysis as the fallback; and the panel
// that shows it (progress bar, status in words, cancel button).

import * as api from './api.js';
import * as fmt from './format.js';
import * as session from './session.js';
import {h, replace, richText} from './dom.js';
import {errorSlot, showInline} from './ui.js';

export const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(timer);
    reject(new DOMException('Aborted', 'AbortError'));
  }, {once: true});
});

/** The event's view of an analysis: {id, status, progress, attempts, error}. */
function snapshot(a) {
  return {id: a.id, status: a.status, progress: a.progress, attempts: a.attempts, error: a.error, max_attempts: a.max_attempts};
}

/**
 * Calls `onUpdate(snapshot)` on every change until the analysis ends;
 * resolves with the final snapshot.
 */
export async function follow(id, onUpdate, signal) {
  const path = `/tenant/analysis/${encodeURIComponent(id)}`;
  let last = null;
  let failures = 0;
  for (;;) {
    try {
      await api.stream(`${path}/events`, ({event, data}) => {
        if (event === 'error') throw new Error(data?.error || 'the event stream failed');
        if (data && typeof data === 'object' && data.status) {
          last = data;
          onUpdate(data);
        }
      }, {signal});
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      if (e.status === 404 || e.status === 403) throw e;
      failures += 1;
    }
    if (last && FINAL.has(last.status)) return last;
    const now = snapshot(await api.get(path, {signal}));
    last = now;
    onUpdate(now);
    if (FINAL.has(now.status)) return now;
    await sleep(Math.min(1000 * 2 ** failures, 10000), signal);
  }
}

/** The status in words; the status word itself always comes first. */
export function describe(s) {
  const p = s.progress || {};
  const stage = p.stage || '';
  switch (s.status) {
    case 'queued':
      if (s.error) return `queued: waiting to retry after a failure (${s.error.message || s.error.code})`;
      return 'queued: waiting for a worker';
    case 'running': {
      const counted = p.total > 0 ? ` — ${fmt.number(p.done)} of ${fmt.number(p.total)}${stage === 'fit' ? ' candidate models' : ''} (${fmt.percent(p.done / p.total, 0)})` : '';
      return `running: ${stage || 'starting'}${counted}`;
    }
    case 'succeeded':
      return 'succeeded: the results are ready';
    case 'failed': {
      const e = s.error || {};
      const who = e.fault === 'plugin' ? ` The model or preprocessor${e.plugin ? ` “${e.plugin}”` : ''} failed on this data.` : e.fault === 'host' ? ' The platform failed to run it; it may work if you start it again.' : '';
      return `failed: ${e.message || 'no reason was given'}.${who}`;
    }
    case 'cancelled':
      return 'cancelled: it was stopped before it finished';
    default:
      return s.status;
  }
}

function setProgress(bar, s) {
  const p = s.progress || {};
  if (s.status === 'succeeded') {
    bar.max = p.total > 0 ? p.total : 1;
    bar.value = bar.max;
  } else if (p.total > 0) {
    bar.max = p.total;
    bar.value = Math.min(p.done, p.total);
  } else if (FINAL.has(s.status)) {
    bar.max = 1;
    bar.value = 0;
  } else {
    bar.removeAttribute('value'); // indeterminate while there is nothing to count
  }
}

/**
 * A live panel for one analysis. `onEnd(snapshot)` is called once it ends;
 * `onChange(snapshot)` on every status change.
 */
export function panel(analysis, {signal, onEnd, onChange, showError}) {
  const bar = h('progress', {id: 'run-progress', max: '1', 'aria-label': 'Analysis progress'});
  const status = h('p', {id: 'run-status', role: 'status', 'aria-live': 'polite'});
  const cancel = h('button', {id: 'run-cancel', type: 'button', class: 'danger'}, 'Cancel');
  const link = h('p', {class: 'run-link', hidden: true});
  const error = errorSlot('run-cancel-error');
  const title = h('h2', null, `Analysis of ${analysis.inputs?.source?.name ?? 'your data'} with ${analysis.inputs?.model?.name ?? 'the model'}`);
  const el = h('section', {class: 'card run-panel', id: 'run-panel', 'data-analysis-id': analysis.id}, title, bar, status, error,
    h('div', {class: 'actions'}, session.can.cancel() ? cancel : null), link);
  let lastStatus = null;

  const update = (s) => {
    setProgress(bar, s);
    replace(status, richText(describe(s)));
    status.dataset.status = s.status;
    if (FINAL.has(s.status)) {
      cancel.disabled = true;
      cancel.hidden = true;
      if (s.status === 'succeeded') {
        link.hidden = false;
        replace(link, h('a', {href: `#/analyses/${encodeURIComponent(s.id)}`, 'data-analysis': s.id, class: 'button primary'}, 'See the results'));
      }
    }
    if (s.status !== lastStatus) {
      lastStatus = s.status;
      onChange?.(s);
    }
  };
  update(snapshot(analysis));

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    showInline(error, null);
    try {
      const a = await api.post(`/tenant/analysis/${encodeURIComponent(analysis.id)}/cancel`, undefined);
      update(snapshot(a));
      if (!FINAL.has(a.status)) replace(status, 'running: stopping…');
    } catch (e) {
      cancel.disabled = false;
      showInline(error, e.code === 'analysis_ended' ? 'It has already ended.' : `It could not be cancelled: ${e.message}`);
      showError?.(e, 'Could not cancel');
    }
  });

  if (!FINAL.has(analysis.status)) {
    follow(analysis.id, update, signal).then((s) => onEnd?.(s)).catch((e) => {
      if (e.name === 'AbortError') return;
      replace(status, `${lastStatus || analysis.status}: the progress could not be followed (${e.message}). Reload the page to see where it is.`);
      showError?.(e, 'Lost track of the analysis');
    });
  } else {
    queueMicrotask(() => onEnd?.(snapshot(analysis)));
  }
  return el;
}
