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
 * language (Intl.DateTimeFormat with <html lang>): «29 қараша 2026 ж., 14:05»,
 * «29 ноября 2026 г. в 14:05»; '' for an invalid value.  Never a raw ISO string.
 */
export function localDateTime(value) {
  const moment = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(moment.getTime())) return '';
  const lang = document.documentElement.lang || undefined;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' }).format(moment);
}

/** Fill a <time> element: the localized text, and the ISO moment in its datetime attribute. */
export function setTime(el, value) {
  if (!el) return;
  const moment = new Date(value);
  if (Number.isNaN(moment.getTime())) return;
  el.dateTime = moment.toISOString();
  el.textContent = localDateTime(moment);
}
