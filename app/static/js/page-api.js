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

/** fetch + JSON; throws an Error carrying `status` and the API's error `code`. */
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
    const e = new Error(`${err.message || response.statusText} (${response.status} ${err.code || ''})`);
    e.status = response.status;
    e.code = err.code;
    throw e;
  }
  return data;
}
