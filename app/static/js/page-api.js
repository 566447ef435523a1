// Shared by the voting booth and the petition signing page: JSON calls to /api/v1.
//
// `session: true` sends the login cookie and the CSRF token (credential requests);
// otherwise the request goes WITHOUT cookies (anonymous casting and signing), so the
// server cannot link the ballot or signature to the session.

/** The page's CSRF token (`<meta name="csrf-token">`). */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') : '';
}

/**
 * The sentence a person reads for a failed call, in the page's language: the server embeds
 * `{code: sentence, "status:N": sentence, default: sentence}` in every page
 * (`<script type="application/json" id="saylau-error-messages">`, app/error_messages.py);
 * the English `message` of the JSON error body is kept only as `detail` (console, reports).
 */
export function errorMessage(code, status) {
  let messages = {};
  try {
    const el = document.getElementById('saylau-error-messages');
    messages = el ? JSON.parse(el.textContent || '{}') : {};
  } catch { messages = {}; }
  return messages[code] || messages[`status:${status}`] || messages.default || '';
}

/** fetch + JSON; throws an Error whose message is the translated sentence for the API's
 *  error `code` (see errorMessage), carrying `status`, `code` and the English `detail`. */
export async function api(path, { method = 'GET', body, session = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session) headers['X-CSRFToken'] = csrfToken();
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: session ? 'same-origin' : 'omit', cache: 'no-store',
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const err = (data && data.error) || {};
    const detail = `${err.message || response.statusText} (${response.status} ${err.code || ''})`;
    const e = new Error(errorMessage(err.code, response.status) || detail);
    e.status = response.status;
    e.code = err.code;
    e.detail = detail;
    throw e;
  }
  return data;
}

/**
 * A moment (a Date, epoch milliseconds or an ISO string) as a date and time in the page's
 * language (Intl.DateTimeFormat with <html lang>, or the server's CLDR template when this
 * browser's Intl lacks the language): «2026 ж. 29 қараша, 14:05»,
 * «29 ноября 2026 г. в 14:05»; '' for an invalid value.  Never a raw ISO string.
 */
export function localDateTime(value) {
  const moment = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(moment.getTime())) return '';
  const lang = document.documentElement.lang || undefined;
  const data = serverDateData();
  if (data && !intlKnows(lang, data)) return formatFromServerData(moment, data);
  return new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' }).format(moment);
}

/** The server's month names and template for the page's language (app/i18n.py
 *  date_format_data), or null. */
function serverDateData() {
  try {
    const el = document.getElementById('saylau-date-format');
    const data = el ? JSON.parse(el.textContent || 'null') : null;
    return data && data.template && Array.isArray(data.months) && data.months.length === 12 ? data : null;
  } catch { return null; }
}

/** Whether this browser's Intl has the language's month names (some Chromium builds lack
 *  Kazakh data and print "2026 M11 29"): it must name November as the server does. */
function intlKnows(lang, data) {
  try {
    const probe = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'long' })
      .format(new Date(2026, 10, 29, 12));
    return probe.includes(data.months[10]);
  } catch { return false; }
}

/** ``datetime_local``'s template filled in, in the browser's time zone like Intl. */
function formatFromServerData(moment, data) {
  const pad = (n) => String(n).padStart(2, '0');
  const slots = {
    '{y}': String(moment.getFullYear()), '{d}': String(moment.getDate()),
    '{MMMM}': data.months[moment.getMonth()], '{HH}': pad(moment.getHours()),
    '{mm}': pad(moment.getMinutes()),
  };
  return data.template.replace(/\{(y|d|MMMM|HH|mm)\}/g, (slot) => slots[slot]);
}

/** Fill a <time> element: the localized text, and the ISO moment in its datetime attribute. */
export function setTime(el, value) {
  if (!el) return;
  const moment = new Date(value);
  if (Number.isNaN(moment.getTime())) return;
  el.dateTime = moment.toISOString();
  el.textContent = localDateTime(moment);
}

/** A count with the page language's digit grouping (Intl.NumberFormat): «10 000», "10,000". */
export function localNumber(n) {
  try {
    return new Intl.NumberFormat(document.documentElement.lang || undefined).format(n);
  } catch { return String(n); }
}
