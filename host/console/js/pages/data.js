// Data: upload a table with its column roles, list the sources with their
// versions, preview rows, delete a version.
// API: POST /tenant/data/upload (multipart `file` + `meta`), GET /tenant/data/sources,
// GET /tenant/data/sources/{id}, GET /tenant/data/sources/{id}/rows (JSON),
// DELETE /tenant/data/sources/{id}.

import * as api from '../api.js';
import * as fmt from '../format.js';
import * as session from '../session.js';
import {h, replace, clear, scroller, table, field, richText} from '../dom.js';
import {errorSlot, showInline, busy, confirmButton, empty, section, markField, clearMarks} from '../ui.js';

const PREVIEW_ROWS = 20;

// The roles an upload declares (`meta.roles`: date, kpi, media, exposure, controls);
// `ignore` keeps the column without a role.
const ROLE_OPTIONS = [
  ['date', 'Date (the period)'],
  ['kpi', 'KPI (the outcome: sales, revenue…)'],
  ['media', 'Media spend (one channel)'],
  ['exposure', 'Exposure of a channel (impressions, clicks…)'],
  ['controls', 'Control (price, promotion, weather…)'],
  ['ignore', 'No role (kept, not modelled)'],
];

const DATE_NAME = /^(date|day|week|week_?start|week_?of|month|period|ds|time|timestamp)$|date|week/;
const KPI_NAME = /revenue|sales|kpi|conversion|orders|turnover|income|bookings|signups|leads|units/;
const EXPOSURE_NAME = /impression|impr\b|_impr|click|grp|trp|reach|views/;
const SPEND_NAME = /spend|cost|budget|invest|_eur$|_usd$|_gbp$/;
const CHANNEL_NAME = /^(tv|ctv|radio|search|sem|seo|social|display|video|ooh|outdoor|print|email|affiliate|podcast|facebook|meta|google|tiktok|youtube|instagram|snapchat|linkedin|pinterest|twitter|programmatic|online|offline|dm|direct_?mail|cinema|audio|native|influencer|paid)/;
const CONTROL_NAME = /price|promo|discount|holiday|weather|temp|competitor|event|season|covid|macro|index|distribution|stock|trend/;

/** Guesses each column's role from its name. */
export function guessRoles(headers) {
  let haveDate = false;
  let haveKpi = false;
  const roles = headers.map((name) => {
    const n = name.toLowerCase().trim();
    if (!haveDate && DATE_NAME.test(n)) {
      haveDate = true;
      return 'date';
    }
    if (!haveKpi && KPI_NAME.test(n)) {
      haveKpi = true;
      return 'kpi';
    }
    if (EXPOSURE_NAME.test(n)) return 'exposure';
    if (SPEND_NAME.test(n) || CHANNEL_NAME.test(n)) return 'media';
    if (CONTROL_NAME.test(n)) return 'controls';
    return 'ignore';
  });
  return roles;
}

/** The media column an exposure column most likely belongs to. */
function guessPair(exposure, media) {
  const n = exposure.toLowerCase();
  return media.find((m) => n.startsWith(m.toLowerCase())) || media.find((m) => n.includes(m.toLowerCase().replace(/_?spend$/, ''))) || media[0] || '';
}

/** The header row of a CSV text (quotes respected, BOM dropped). */
export function csvHeader(text) {
  const fields = [];
  let current = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i += 1) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        current += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        current += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(current);
      current = '';
    } else if (c === '\n' || c === '\r') {
      break;
    } else {
      current += c;
    }
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}

function readStart(file, bytes = 65536) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error || new Error('The file could not be read.'));
    reader.readAsText(file.slice(0, bytes));
  });
}

function isCsv(file) {
  return /\.csv$/i.test(file.name) || file.type === 'text/csv';
}

export async function render(ctx) {
  const {main, signal} = ctx;
  const sourcesSection = h('div');
  const detail = h('div', {id: 'source-detail'});
  const previewSection = h('div', {id: 'preview-section'});
  replace(main, 
    h('h1', null, 'Data'),
    session.can.upload() ? uploadForm(ctx, () => loadSources(ctx, sourcesSection, detail, previewSection)) : null,
    sourcesSection, detail, previewSection);
  await loadSources(ctx, sourcesSection, detail, previewSection, signal);
}

function uploadForm(ctx, reload) {
  const file = h('input', {id: 'upload-file', name: 'file', type: 'file', accept: '.csv,.parquet,.arrow,.arrows,text/csv,application/vnd.apache.parquet,application/vnd.apache.arrow.stream'});
  const name = h('input', {id: 'upload-name', name: 'name', type: 'text', maxlength: '100', required: true});
  const currency = h('input', {id: 'upload-currency', name: 'currency', type: 'text', maxlength: '3', placeholder: 'EUR', autocapitalize: 'characters'});
  const granularity = h('select', {id: 'upload-granularity', name: 'granularity'},
    h('option', {value: ''}, 'Infer from the dates'), h('option', {value: 'daily'}, 'Daily'), h('option', {value: 'weekly'}, 'Weekly'), h('option', {value: 'monthly'}, 'Monthly'));
  const gaps = h('input', {id: 'upload-allow-gaps', name: 'allow_gaps', type: 'checkbox'});
  const columns = h('div', {id: 'upload-columns', class: 'columns'});
  const submit = h('button', {id: 'upload-submit', type: 'submit', class: 'primary'}, 'Upload');
  const progress = h('p', {class: 'working', hidden: true}, h('progress', {id: 'upload-progress', 'aria-label': 'Uploading'}), ' Uploading and checking every row…');
  const error = errorSlot('upload-error');
  const problems = h('div', {id: 'upload-problems'});
  const result = h('div', {id: 'upload-result', role: 'status', 'aria-live': 'polite'});
  let headers = null; // CSV header names, or null for Parquet/Arrow (roles typed in)

  const form = h('form', {id: 'upload-form', novalidate: true},
    h('div', {class: 'grid-2'},
      field('File (CSV, Parquet or Arrow IPC)', file, 'One row per period: a date column, the KPI, spend per channel and any controls.'),
      field('Source name', name, 'Uploading under an existing name adds a new version.')),
    columns,
    h('details', {class: 'more'}, h('summary', null, 'More options'),
      h('div', {class: 'grid-3'},
        field('Currency (ISO code)', currency, 'Of the spend and the KPI, e.g. EUR or USD.'),
        field('Periods', granularity),
        h('div', {class: 'field check'}, gaps, h('label', {for: 'upload-allow-gaps'}, 'Allow missing periods (warn instead of refusing)')))),
    error, problems, progress,
    h('div', {class: 'actions'}, submit),
    result);

  const roleSelects = () => [...columns.querySelectorAll('select[data-column]')];

  const refreshPairs = () => {
    const media = roleSelects().filter((s) => s.value === 'media').map((s) => s.dataset.column);
    for (const pair of columns.querySelectorAll('select[data-exposure-of]')) {
      const select = columns.querySelector(`select[data-column="${CSS.escape(pair.dataset.exposureOf)}"]`);
      const wrap = pair.closest('.pair');
      wrap.hidden = select.value !== 'exposure';
      const keep = pair.value || guessPair(pair.dataset.exposureOf, media);
      replace(pair, media.length ? media.map((m) => h('option', {value: m}, m)) : h('option', {value: ''}, 'choose a media column first'));
      pair.value = media.includes(keep) ? keep : (media[0] || '');
    }
  };

  const showColumns = (names) => {
    headers = names;
    const guessed = guessRoles(names);
    const rows = names.map((col, i) => {
      const id = `upload-role-${i}`;
      const select = h('select', {id, 'data-column': col}, ROLE_OPTIONS.map(([value, text]) => h('option', {value}, text)));
      select.value = guessed[i];
      select.addEventListener('change', refreshPairs);
      const pairId = `upload-pair-${i}`;
      const pair = h('select', {id: pairId, 'data-exposure-of': col});
      return h('tr', null,
        h('th', {scope: 'row'}, h('label', {for: id}, col)),
        h('td', null, select),
        h('td', null, h('span', {class: 'pair', hidden: true}, h('label', {for: pairId, class: 'inline-label'}, 'of '), pair)));
    });
    replace(columns,
      h('h3', null, 'What each column is'),
      h('p', {class: 'hint'}, 'Guessed from the column names: check them. One date column, one KPI, at least one media spend column.'),
      scroller(h('table', {id: 'upload-roles'}, h('thead', null, h('tr', null, h('th', {scope: 'col'}, 'Column'), h('th', {scope: 'col'}, 'Role'), h('th', {scope: 'col'}, 'Channel'))), h('tbody', null, rows))));
    refreshPairs();
  };

  const showTypedRoles = () => {
    headers = null;
    const input = (id, label, hint) => field(label, h('input', {id, type: 'text', autocomplete: 'off'}), hint);
    replace(columns,
      h('h3', null, 'What each column is'),
      h('p', {class: 'hint'}, 'Parquet and Arrow files are not read in the browser: name the columns.'),
      h('div', {class: 'grid-2'},
        input('upload-role-date', 'Date column'),
        input('upload-role-kpi', 'KPI column'),
        input('upload-role-media', 'Media spend columns', 'Comma-separated, e.g. tv, search, social'),
        input('upload-role-controls', 'Control columns', 'Comma-separated; may be empty')));
  };

  file.addEventListener('change', async () => {
    showInline(error, null);
    clear(problems);
    clear(result);
    const chosen = file.files[0];
    if (!chosen) {
      clear(columns);
      return;
    }
    if (!name.value.trim()) name.value = chosen.name.replace(/\.[^.]+$/, '').slice(0, 100);
    if (isCsv(chosen)) {
      try {
        const names = csvHeader(await readStart(chosen)).filter((n, i, all) => n !== '' || i < all.length - 1);
        if (!names.length || (names.length === 1 && !names[0])) throw new Error('The file has no header row.');
        showColumns(names);
      } catch (e) {
        clear(columns);
        showInline(error, `The header row could not be read: ${e.message}`);
      }
    } else {
      showTypedRoles();
    }
  });

  const declaredRoles = () => {
    const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
    if (!headers) {
      const value = (id) => columns.querySelector(`#${id}`)?.value.trim() || '';
      return {
        date: value('upload-role-date'), kpi: value('upload-role-kpi'),
        media: list(value('upload-role-media')), exposure: {}, controls: list(value('upload-role-controls')),
      };
    }
    const roles = {date: [], kpi: [], media: [], exposure: {}, controls: []};
    for (const select of roleSelects()) {
      const col = select.dataset.column;
      if (select.value === 'date' || select.value === 'kpi' || select.value === 'media' || select.value === 'controls') roles[select.value].push(col);
      if (select.value === 'exposure') roles.exposure[col] = columns.querySelector(`select[data-exposure-of="${CSS.escape(col)}"]`)?.value || '';
    }
    return roles;
  };

  const check = (roles) => {
    if (!file.files[0]) return 'Choose a file to upload.';
    if (!name.value.trim()) return 'Give the data source a name.';
    const one = (list) => (Array.isArray(list) ? list : [list].filter(Boolean));
    if (one(roles.date).length !== 1) return 'Mark exactly one column as the date.';
    if (one(roles.kpi).length !== 1) return 'Mark exactly one column as the KPI.';
    if (!roles.media.length) return 'Mark at least one column as media spend.';
    const unpaired = Object.entries(roles.exposure).filter(([, m]) => !m).map(([c]) => c);
    if (unpaired.length) return `Choose the channel of the exposure column ${unpaired.join(', ')}.`;
    if (currency.value && !/^[A-Za-z]{3}$/.test(currency.value.trim())) return 'The currency is a three-letter ISO code, e.g. EUR.';
    return null;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showInline(error, null);
    clearMarks(form);
    clear(problems);
    clear(result);
    ctx.clearError();
    const roles = declaredRoles();
    const refusal = check(roles);
    if (refusal) {
      showInline(error, refusal);
      return;
    }
    const meta = {
      name: name.value.trim(),
      roles: {
        date: Array.isArray(roles.date) ? roles.date[0] : roles.date,
        kpi: Array.isArray(roles.kpi) ? roles.kpi[0] : roles.kpi,
        media: roles.media,
        exposure: roles.exposure,
        controls: roles.controls,
      },
    };
    if (currency.value.trim()) meta.currency = currency.value.trim().toUpperCase();
    if (granularity.value) meta.granularity = granularity.value;
    if (gaps.checked) meta.allow_gaps = true;
    const chosen = file.files[0];
    const body = new FormData();
    body.append('meta', new Blob([JSON.stringify(meta)], {type: 'application/json'}), 'meta.json');
    body.append('file', chosen, chosen.name);
    progress.hidden = false;
    try {
      await busy(submit, 'Uploading…', async () => {
        const stored = await api.request('POST', '/tenant/data/upload', {body});
        replace(result, h('p', {class: 'success'},
          `Stored “${stored.name}” as version ${stored.version}: ${fmt.number(stored.rows)} rows, ${stored.granularity}, ${fmt.date(stored.date_from)} to ${fmt.date(stored.date_to)}.`),
        stored.warnings.length ? h('div', null, h('p', null, 'Worth knowing:'), h('ul', {class: 'warnings'}, stored.warnings.map((w) => h('li', null, richText(w))))) : null);
        await reload();
      });
    } catch (e) {
      if (e.code === 'invalid_data' && Array.isArray(e.details)) {
        showInline(error, 'The file was not stored: fix these problems and upload it again.');
        replace(problems, scroller(table({id: 'upload-errors'}, ['Row', 'Column', 'Value', 'Reason'],
          e.details.map((d) => [d.row === undefined ? '–' : String(d.row), d.column ?? '–', d.value ?? '–', d.reason]))),
        e.moreDetails ? h('p', {class: 'hint'}, `…and ${fmt.number(e.moreDetails)} more problem(s) like these.`) : null);
      } else {
        const control = e.field === 'name' || e.field === 'meta.name' ? name : e.field?.includes('currency') ? currency : null;
        if (control) markField(e, () => control);
        showInline(error, `The file was not stored: ${e.message}`);
      }
      ctx.showError(e, 'Upload refused');
    } finally {
      progress.hidden = true;
    }
  });

  return section('Upload data', form);
}

async function loadSources(ctx, target, detail, previewSection, signal) {
  const sources = await api.all('/tenant/data/sources', {}, {signal: signal || ctx.signal});
  if (!sources.length) {
    replace(target, section('Data sources', empty(session.can.upload()
      ? 'No data yet. Upload your first file above.'
      : 'No data yet. Ask a data scientist or tenant admin of your organisation to upload some.')));
    return;
  }
  const slot = errorSlot('sources-error');
  const rows = sources.map((s) => h('tr', {'data-source': s.id},
    h('td', null, s.name),
    h('td', {class: 'num'}, String(s.version)),
    h('td', {class: 'num'}, fmt.number(s.rows)),
    h('td', null, s.granularity),
    h('td', null, `${fmt.date(s.date_from)} – ${fmt.date(s.date_to)}`),
    h('td', null, s.roles.media.join(', ')),
    h('td', null, fmt.dateTime(s.created_at)),
    h('td', {class: 'row-actions'},
      h('button', {type: 'button', class: 'small', 'data-preview': s.id, onclick: () => showPreview(ctx, previewSection, s)}, 'Preview'),
      ' ',
      h('button', {type: 'button', class: 'small', 'data-versions': s.id, onclick: () => showDetail(ctx, detail, previewSection, s.id, () => loadSources(ctx, target, detail, previewSection))}, 'Versions'),
      ' ',
      session.can.deleteData() ? confirmButton('Delete', `Delete version ${s.version} of “${s.name}”?`, async () => {
        try {
          await api.del(`/tenant/data/sources/${encodeURIComponent(s.id)}`);
          clear(detail);
          clear(previewSection);
          await loadSources(ctx, target, detail, previewSection);
        } catch (e) {
          const message = e.code === 'source_in_use' ? `Version ${s.version} of “${s.name}” has analyses and stays as long as they do.` : e.message;
          showInline(slot, message);
          ctx.showError(e, 'Could not delete');
        }
      }, {'data-delete': s.id}) : null)));
  replace(target, section('Data sources',
    h('p', {class: 'hint'}, 'The newest version of each source. “Versions” lists the earlier ones.'),
    slot,
    scroller(h('table', {id: 'sources'},
      h('thead', null, h('tr', null, ['Name', 'Version', 'Rows', 'Periods', 'Dates', 'Channels', 'Uploaded', 'Actions'].map((n) => h('th', {scope: 'col'}, n)))),
      h('tbody', null, rows)))));
}

async function showDetail(ctx, target, previewSection, id, reload) {
  replace(target, h('p', {class: 'loading'}, h('progress', {'aria-label': 'Loading'}), ' Loading versions…'));
  try {
    const d = await api.get(`/tenant/data/sources/${encodeURIComponent(id)}`, {signal: ctx.signal});
    const spend = Object.entries(d.channel_spend);
    replace(target, section(`“${d.name}”: versions and columns`,
      scroller(table({id: 'versions'}, ['Version', 'Rows', 'Uploaded', 'sha256', 'Actions'], d.versions.map((v) => [
        String(v.version), fmt.number(v.rows), fmt.dateTime(v.created_at), h('code', {title: v.sha256}, v.sha256.slice(0, 12)),
        h('span', null,
          h('button', {type: 'button', class: 'small', onclick: () => showPreview(ctx, previewSection, {...d, id: v.id, version: v.version, rows: v.rows})}, 'Preview'),
          ' ',
          session.can.deleteData() && v.id !== d.id ? confirmButton('Delete', `Delete version ${v.version}?`, async () => {
            try {
              await api.del(`/tenant/data/sources/${encodeURIComponent(v.id)}`);
              await showDetail(ctx, target, previewSection, d.id, reload);
            } catch (e) {
              ctx.showError(e, e.code === 'source_in_use' ? `Version ${v.version} has analyses and stays as long as they do` : 'Could not delete');
            }
          }) : null),
      ]))),
      h('h3', null, `Version ${d.version}: columns`),
      scroller(table({id: 'columns'}, ['Column', 'Role', 'Type', 'Empty cells', 'Min', 'Max', 'Mean', 'Sum', 'Zero share'], d.columns.map((c) => [
        c.name, c.role, c.data_type, fmt.number(c.nulls), fmt.number(c.min, 2), fmt.number(c.max, 2), fmt.number(c.mean, 2), fmt.number(c.sum, 2), c.zero_share === undefined ? '–' : fmt.percent(c.zero_share),
      ]))),
      spend.length ? h('p', {class: 'hint'}, 'Total spend: ', spend.map(([ch, v]) => `${ch} ${fmt.money(v, d.currency)}`).join(' · ')) : null,
      d.warnings.length ? h('ul', {class: 'warnings'}, d.warnings.map((w) => h('li', null, richText(w)))) : null));
  } catch (e) {
    if (e.name === 'AbortError') return;
    replace(target, h('p', {class: 'problem'}, `The versions could not be loaded: ${e.message}`));
    ctx.showError(e);
  }
}

async function showPreview(ctx, target, source) {
  replace(target, h('p', {class: 'loading'}, h('progress', {'aria-label': 'Loading'}), ' Loading rows…'));
  try {
    const rows = await api.get(`/tenant/data/sources/${encodeURIComponent(source.id)}/rows`, {signal: ctx.signal});
    const names = source.columns?.length ? source.columns.map((c) => c.name) : [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const first = rows.slice(0, PREVIEW_ROWS);
    const cell = (v) => (typeof v === 'number' ? fmt.number(v, 2) : v === undefined || v === null ? '' : String(v));
    replace(target, section(`Preview: “${source.name}” version ${source.version}`,
      h('p', {class: 'hint'}, `The first ${fmt.number(first.length)} of ${fmt.number(rows.length)} rows.`),
      scroller(h('table', {id: 'preview'},
        h('thead', null, h('tr', null, names.map((n) => h('th', {scope: 'col'}, n)))),
        h('tbody', null, first.map((r) => h('tr', null, names.map((n) => h('td', {class: typeof r[n] === 'number' ? 'num' : null}, cell(r[n]))))))))));
    target.scrollIntoView({block: 'nearest'});
  } catch (e) {
    if (e.name === 'AbortError') return;
    replace(target, h('p', {class: 'problem'}, `The rows could not be loaded: ${e.message}`));
    ctx.showError(e);
  }
}
