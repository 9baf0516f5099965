// api.js - every request the page makes is a call of kxld's public API (docs/api/openapi.yaml).
// With a session cookie, a change carries the session's CSRF token in X-CSRF-Token.

let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error.message : `HTTP ${status}`);
    this.status = status;
  }
}

// A request and its status: {status, data}. With async, a long operation is asked as a job
// (Prefer: respond-async): then 202 and the job.
export async function request(method, path, body, { async = false } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (async) headers.Prefer = 'respond-async';
  const r = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) throw new ApiError(r.status, data);
  return { status: r.status, data };
}

export async function api(method, path, body) {
  return (await request(method, path, body)).data;
}

// A WebSocket of the API on the page's own host (wss: over TLS).
export function socket(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return new WebSocket(`${scheme}//${location.host}${path}`);
}
