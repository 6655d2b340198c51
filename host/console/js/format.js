// Numbers for people: thousands separators, currency where the data has
// one, ROI to two significant digits, shares as percentages, dates.

const LOCALE = (typeof navigator !== 'undefined' && navigator.language) || 'en-US';
const cache = new Map();

function formatter(key, options) {
  let f = cache.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(LOCALE, options);
    } catch {
      f = new Intl.NumberFormat('en-US', {...options, style: 'decimal', currency: undefined});
    }
    cache.set(key, f);
  }
  return f;
}

const finite = (x) => typeof x === 'number' && Number.isFinite(x);
const DASH = '–';

/** 1234567.8 → "1,234,568"; `digits` decimals at most. */
export function number(x, digits = 0) {
  if (!finite(x)) return DASH;
  return formatter(`n${digits}`, {maximumFractionDigits: digits}).format(x);
}

/** Large numbers kept short for chart axes: 1.2M, 350K. */
export function compact(x) {
  if (!finite(x)) return DASH;
  return formatter('compact', {notation: 'compact', maximumFractionDigits: 1}).format(x);
}

/** A money amount: "€1,234,568" with a currency code, else a plain number. */
export function money(x, currency, digits = 0) {
  if (!finite(x)) return DASH;
  if (!currency) return number(x, digits);
  return formatter(`m${currency}${digits}`, {
    style: 'currency', currency, maximumFractionDigits: digits, minimumFractionDigits: digits,
  }).format(x);
}

/** A signed amount: "+€12,345" / "−€12,345". */
export function signedMoney(x, currency, digits = 0) {
  if (!finite(x)) return DASH;
  const text = money(Math.abs(x), currency, digits);
  if (Math.round(x * 10 ** digits) === 0) return text;
  return `${x > 0 ? '+' : '−'}${text}`;
}

/** A signed number: "+12,345" / "−12,345". */
export function signed(x, digits = 0) {
  if (!finite(x)) return DASH;
  const text = number(Math.abs(x), digits);
  if (Math.round(x * 10 ** digits) === 0) return text;
  return `${x > 0 ? '+' : '−'}${text}`;
}

/** ROI and mROI: two significant digits ("2.3", "0.40", "12"). */
export function roi(x) {
  if (!finite(x)) return DASH;
  if (x === 0) return '0.0';
  return formatter('roi', {minimumSignificantDigits: 2, maximumSignificantDigits: 2}).format(x);
}

/** A share 0..1 as a percentage: 0.234 → "23.4%". */
export function percent(share, digits = 1) {
  if (!finite(share)) return DASH;
  return formatter(`p${digits}`, {style: 'percent', maximumFractionDigits: digits, minimumFractionDigits: 0}).format(share);
}

/** A relative change: 0.052 → "+5.2%". */
export function change(ratio, digits = 1) {
  if (!finite(ratio)) return DASH;
  const text = percent(Math.abs(ratio), digits);
  if (Math.round(ratio * 100 * 10 ** digits) === 0) return text;
  return `${ratio > 0 ? '+' : '−'}${text}`;
}

/** An ISO date "2024-01-08" shown as a date in the reader's locale. */
export function date(text) {
  if (!text) return DASH;
  const d = new Date(`${String(text).slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return String(text);
  return new Intl.DateTimeFormat(LOCALE, {year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC'}).format(d);
}

/** A timestamp shown in the reader's time zone. */
export function dateTime(text) {
  if (!text) return DASH;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return String(text);
  return new Intl.DateTimeFormat(LOCALE, {dateStyle: 'medium', timeStyle: 'short'}).format(d);
}

/** Bytes for people: 1536 → "1.5 kB". */
export function bytes(n) {
  if (!finite(n)) return DASH;
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let x = n;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i += 1;
  }
  return `${number(x, i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Milliseconds for people: "340 ms", "2.5 s". */
export function duration(ms) {
  if (!finite(ms)) return DASH;
  if (ms < 1000) return `${number(ms)} ms`;
  if (ms < 60000) return `${number(ms / 1000, 1)} s`;
  return `${number(ms / 60000, 1)} min`;
}

/** "fit_ms" → "Fit ms"; "train" → "Train". */
export function label(key) {
  const text = String(key).replace(/[_.]+/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
