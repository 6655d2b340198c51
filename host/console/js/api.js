// The REST API, same origin. Tokens live in this module only (never in
// localStorage, sessionStorage or cookies): a reload signs the user out.
// Every call sends `authorization: Bearer <access>`; a 401 triggers one
// refresh with the refresh token and one retry. Problem bodies
// `{"error": {code, message, field?, details?, more_details?}}` become an
// ApiError carrying all of them.

let tokens = null; // {access, refresh}
let refreshing = null; // the refresh in flight, shared by concurrent 401s
let onExpired = () => {};

/** An API failure in plain words, with the server's code, field and details. */
export class ApiError extends Error {
  constructor({status, code, message, field, details, moreDetails, retryAfter}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
    this.moreDetails = moreDetails;
    this.retryAfter = retryAfter;
  }
}

export function setTokens(response) {
  tokens = {access: response.access_token, refresh: response.refresh_token};
}

export function hasSession() {
  return tokens !== null;
}

export function forgetSession() {
  tokens = null;
}

/** Called when the session cannot be renewed (refresh refused). */
export function onSessionExpired(callback) {
  onExpired = callback;
}

const FRIENDLY = {
  0: 'The server could not be reached. Check your connection and try again.',
  403: 'You are not allowed to do this.',
  404: 'It was not found: it may have been deleted.',
  413: 'That is too large for the server to accept.',
  429: 'Too many requests: wait a moment and try again.',
  500: 'The server failed to answer. Try again; if it keeps failing, tell your administrator.',
  502: 'The server is not answering right now. Try again shortly.',
  503: 'The server is busy right now. Try again shortly.',
  504: 'The server took too long to answer. Try again shortly.',
};

async function problemOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && typeof body === 'object' ? body.error : null;
  const retryAfter = Number(response.headers.get('retry-after')) || undefined;
  let message = error && typeof error.message === 'string' ? error.message : FRIENDLY[response.status] || `The request failed (HTTP ${response.status}).`;
  if (retryAfter && (response.status === 429 || response.status === 503)) {
    message = `${message} (try again in ${retryAfter} s)`;
  }
  if (response.status === 500 && error) message = FRIENDLY[500];
  return new ApiError({
    status: response.status,
    code: error?.code || `http_${response.status}`,
    message: capitalise(message),
    field: error?.field,
    details: error?.details,
    moreDetails: error?.more_details,
    retryAfter,
  });
}

function capitalise(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

function networkError(cause) {
  if (cause?.name === 'AbortError') throw cause;
  return new ApiError({status: 0, code: 'network', message: FRIENDLY[0]});
}

async function refresh() {
  if (!tokens) return false;
  if (!refreshing) {
    const presented = tokens.refresh;
    refreshing = (async () => {
      try {
        const response = await fetch('/auth/refresh', {
          method: 'POST',
          headers: {'content-type': 'application/json', accept: 'application/json'},
          body: JSON.stringify({refresh_token: presented}),
        });
        if (!response.ok) return false;
        setTokens(await response.json());
        return true;
      } catch {
        return false;
      } finally {
        setTimeout(() => { refreshing = null; }, 0);
      }
    })();
  }
  return refreshing;
}

/**
 * A fetch with the access token; one refresh-and-retry on 401.
 * Returns the Response when ok, throws ApiError otherwise.
 */
export async function raw(path, {method = 'GET', headers = {}, body, signal, auth = true} = {}) {
  const send = () => {
    const all = {...headers};
    if (auth && tokens) all.authorization = `Bearer ${tokens.access}`;
    return fetch(path, {method, headers: all, body, signal, credentials: 'omit'});
  };
  let response;
  try {
    response = await send();
    if (response.status === 401 && auth && tokens) {
      if (await refresh()) {
        response = await send();
      } else {
        forgetSession();
        const error = await problemOf(response);
        error.message = 'Your session has ended: please sign in again.';
        onExpired(error);
        throw error;
      }
    }
  } catch (cause) {
    if (cause instanceof ApiError) throw cause;
    throw networkError(cause);
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

/** JSON in, JSON out (`null` for 204). */
export async function request(method, path, {json, body, headers = {}, signal, accept = 'application/json'} = {}) {
  const all = {accept, ...headers};
  let payload = body;
  if (json !== undefined) {
    all['content-type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  const response = await raw(path, {method, headers: all, body: payload, signal});
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  if (type.includes('application/json')) return response.json();
  return response.text();
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, json, options = {}) => request('POST', path, {...options, json});
export const put = (path, json, options = {}) => request('PUT', path, {...options, json});
export const patch = (path, json, options = {}) => request('PATCH', path, {...options, json});
export const del = (path, options) => request('DELETE', path, options);

/** Builds `path?k=v` from the defined values of `query`. */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Every item of a paginated list (`{items, total, limit, offset}`), up to `max`. */
export async function all(path, query = {}, {signal, max = 1000} = {}) {
  const items = [];
  let offset = 0;
  for (;;) {
    const page = await get(withQuery(path, {...query, limit: 200, offset}), {signal});
    items.push(...page.items);
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total || items.length >= max) return items;
  }
}

/** Signs in; `tenant` empty or absent for a platform admin. */
export async function login({tenant, email, password}) {
  const body = {email, password};
  if (tenant) body.tenant = tenant;
  const response = await raw('/auth/login', {
    method: 'POST',
    auth: false,
    headers: {'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify(body),
  });
  setTokens(await response.json());
}

/** Revokes the refresh token's family and forgets the tokens. */
export async function logout() {
  const presented = tokens?.refresh;
  forgetSession();
  if (!presented) return;
  try {
    await fetch('/auth/logout', {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({refresh_token: presented}),
    });
  } catch {
    // Signed out locally either way.
  }
}

/**
 * Reads a Server-Sent Events stream with fetch (EventSource cannot send an
 * Authorization header) and calls `onEvent({event, data})` per event, `data`
 * parsed as JSON when it is JSON. Resolves when the stream ends; rejects with
 * ApiError when it cannot be opened; abort with `signal`.
 */
export async function stream(path, onEvent, {signal} = {}) {
  const response = await raw(path, {headers: {accept: 'text/event-stream'}, signal});
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data = [];
  const dispatch = () => {
    if (data.length === 0) {
      event = 'message';
      return;
    }
    const text = data.join('\n');
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Plain text data stays text.
    }
    const name = event;
    event = 'message';
    data = [];
    onEvent({event: name, data: parsed});
  };
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (cause) {
      if (cause?.name === 'AbortError') throw cause;
      throw networkError(cause);
    }
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, {stream: true});
    let newline;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
      buffer = buffer.slice(newline + width);
      if (line === '') {
        dispatch();
      } else if (line.startsWith(':')) {
        // A comment (keep-alive).
      } else {
        const colon = line.indexOf(':');
        const fieldName = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (fieldName === 'event') event = value;
        else if (fieldName === 'data') data.push(value);
      }
    }
  }
  dispatch();
}
