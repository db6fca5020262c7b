// pushpeer relay: a stateless forwarder from a page to a push service that does not answer CORS (FCM, WNS, Apple;
// w3c/push-api#303). It forwards only to known push-service hosts, only the RFC 8030/8291/8292 push headers and a body
// of at most one push message, and stores and logs nothing of the message. Types: relay.d.ts.
//
// Wire format (types and error codes: relay.d.ts):
//   POST {relay}/push
//   X-Push-Endpoint: <the subscription's endpoint URL>       (a header, not ?endpoint=: query strings end up in
//                                                              access logs, and the endpoint is a bearer capability)
//   Authorization: vapid t=<jwt>, k=<key>                     required
//   TTL: <0..2419200>                                         required (RFC 8030 §5.2)
//   Content-Encoding: aes128gcm                               required when there is a body
//   Content-Type, Urgency, Topic                              optional
//   <body: at most 4096 bytes>
// The answer is the push service's status, its Location, Retry-After, Link and Content-Type headers and its body
// (at most 64 KiB). An answer made by the relay itself carries `X-Push-Relay-Error: <CODE>` and a JSON body
// { error: CODE, message }, so a client can tell it from the push service's own errors (Mozilla's bodies also have an
// `error` field).
//
// Time limits, so that a slow client cannot hold the relay: the body must have arrived `bodyTimeoutMs` (default 5 s)
// after the relay starts reading it, else 408 BODY_TIMEOUT; the push service must answer within `timeoutMs` (default
// 10 s), else 504 UPSTREAM_TIMEOUT. serveRelayNode also bounds the request head (`headersTimeoutMs`, default 10 s)
// and the whole request (`requestTimeoutMs`), else 408 REQUEST_TIMEOUT, and lets one client address hold at most
// `maxConnectionsPerClient` connections (default 16), else 429 TOO_MANY_CONNECTIONS.
//
// Deploy (the handler is a standard fetch handler; ready entries, configured by environment variables, are in the
// repository's relay/ folder: cloudflare/ with its wrangler.toml, deno/, bun/, node/, each tested in its runtime):
//   Cloudflare Workers:  import { createRelay } from './relay.js';
//                        export default { fetch: createRelay({ allowOrigins: ['https://me.github.io'] }) };
//   Deno:                Deno.serve(createRelay({ allowOrigins: ['https://me.github.io'] }));
//   Bun:                 Bun.serve({ fetch: createRelay() });
//   Node:                await serveRelayNode({ port: 8787, allowOrigins: ['https://me.github.io'] });
// Put it behind TLS (any of the above platforms does) and list the app's origins: with the default '*' any page can
// use the relay's bandwidth (not anyone's subscriptions: each push still needs its VAPID signature).
import { PushPeerError } from '../js/errors.js';
import { DEFAULT_PUSH_HOSTS, pushHostPolicy } from '../js/push/hosts.js';

export { DEFAULT_PUSH_HOSTS, PushPeerError };

const MAX_BODY = 4096; // one push message: what every push service must take (RFC 8030 §7.2), and no more
const MAX_RESPONSE_BODY = 64 * 1024;
const MAX_TTL = 28 * 24 * 60 * 60; // FCM's maximum, and the core's default
const MAX_ENDPOINT_LENGTH = 2048;
const MAX_AUTHORIZATION_LENGTH = 4096;
const DEFAULT_TIMEOUT_MS = 10_000;
// One push body is at most 4096 bytes: a client that has not sent it within a few seconds is stalling, and each such
// request holds a connection (and, in Node, a socket) until it is cut off.
const DEFAULT_BODY_TIMEOUT_MS = 5_000;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once for longer delays
const DEFAULT_MAX_AGE = 7200; // Chromium caps Access-Control-Max-Age at 2 h
const ENDPOINT_HEADER = 'X-Push-Endpoint';
const RELAY_ERROR_HEADER = 'X-Push-Relay-Error';

/** Request headers forwarded to the push service; all others (Cookie, Origin, Referer, …) are dropped. */
export const FORWARDED_REQUEST_HEADERS = Object.freeze(['Authorization', 'Content-Encoding', 'Content-Type', 'TTL', 'Urgency', 'Topic']);
/** Push-service response headers passed back to the page. */
export const FORWARDED_RESPONSE_HEADERS = Object.freeze(['Location', 'Retry-After', 'Link', 'Content-Type']);
const EXPOSED_HEADERS = ['Location', 'Retry-After', 'Link', RELAY_ERROR_HEADER].join(', ');
const ALLOWED_HEADERS = [...FORWARDED_REQUEST_HEADERS, ENDPOINT_HEADER].join(', ');

// RFC 8292 §3: `vapid t=<jwt>, k=<key>`, parameters in either order (auth-params, RFC 9110 §11.2).
const JWT = '[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+';
const KEY = '[A-Za-z0-9_-]+={0,2}';
const VAPID_AUTHORIZATION = new RegExp(`^vapid +(?:t=${JWT} *, *k=${KEY}|k=${KEY} *, *t=${JWT})$`, 'i');
const TTL_VALUE = /^[0-9]{1,7}$/;
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']); // RFC 8030 §5.3
const TOPIC_VALUE = /^[A-Za-z0-9_-]{1,32}$/; // RFC 8030 §5.4
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?: *;[ -~]*)?$/;

const encoder = new TextEncoder();

function badOption(message, where = 'createRelay') {
  return new PushPeerError('BAD_ARGUMENT', `${where}: ${message}`);
}

function originKey(entry) {
  if (typeof entry !== 'string') throw badOption(`allowOrigins entries must be strings, got ${typeof entry}`);
  let url;
  try {
    url = new URL(entry);
  } catch {
    throw badOption(`allowOrigins entry ${JSON.stringify(entry)} is not an origin`);
  }
  if (url.origin === 'null' || url.username || url.password || url.search || url.hash || url.pathname !== '/') {
    throw badOption(`allowOrigins entry ${JSON.stringify(entry)} must be an origin like https://app.example`);
  }
  return url.origin; // as browsers send Origin: lower case, no default port, no slash
}

function isDelay(ms) {
  return typeof ms === 'number' && ms > 0 && ms <= MAX_TIMER_MS;
}

function normalizeOptions(options) {
  if (options === null || typeof options !== 'object') throw badOption('expects an options object');
  const allowHosts = options.allowHosts ?? [];
  if (!Array.isArray(allowHosts)) throw badOption('allowHosts must be an array');
  const allowOrigins = options.allowOrigins ?? '*';
  if (allowOrigins !== '*' && !Array.isArray(allowOrigins)) throw badOption("allowOrigins must be '*' or an array of origins");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!isDelay(timeoutMs)) throw badOption(`timeoutMs must be a positive number of milliseconds, at most ${MAX_TIMER_MS}`);
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  if (!isDelay(bodyTimeoutMs)) throw badOption(`bodyTimeoutMs must be a positive number of milliseconds, at most ${MAX_TIMER_MS}`);
  const maxAge = options.maxAge ?? DEFAULT_MAX_AGE;
  if (!Number.isInteger(maxAge) || maxAge < 0) throw badOption('maxAge must be a non-negative integer (seconds)');
  const path = options.path ?? '/push';
  if (typeof path !== 'string' || !path.startsWith('/')) throw badOption("path must start with '/'");
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== 'function') throw badOption('fetch must be a function (no global fetch here)');
  if (options.log !== undefined && typeof options.log !== 'function') throw badOption('log must be a function');
  const defaultHosts = options.defaultHosts ?? true;
  if (typeof defaultHosts !== 'boolean') throw badOption('defaultHosts must be a boolean');
  return {
    // The same list and rules as the pages' push sender (js/push/hosts.js).
    hostAllowed: pushHostPolicy({ defaultHosts, extraHosts: allowHosts, what: 'createRelay: allowHosts entry' }),
    origins: allowOrigins === '*' ? null : new Set(allowOrigins.map(originKey)),
    timeoutMs,
    bodyTimeoutMs,
    maxAge,
    path,
    fetch: fetchFn,
    log: options.log,
  };
}

/** Checked endpoint URL, or an error answer. */
function checkEndpoint(value, config) {
  if (value === null || value.length === 0) return { error: ['BAD_ENDPOINT', 400, `missing ${ENDPOINT_HEADER} header`] };
  if (value.length > MAX_ENDPOINT_LENGTH) return { error: ['BAD_ENDPOINT', 400, `endpoint longer than ${MAX_ENDPOINT_LENGTH}`] };
  let url;
  try {
    url = new URL(value);
  } catch {
    return { error: ['BAD_ENDPOINT', 400, 'endpoint is not an absolute URL'] };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { error: ['BAD_ENDPOINT', 400, 'endpoint must be https'] };
  if (url.username || url.password || url.hash) {
    return { error: ['BAD_ENDPOINT', 400, 'endpoint must not carry credentials or a fragment'] };
  }
  if (!config.hostAllowed(url)) return { url, error: ['HOST_NOT_ALLOWED', 403, `${url.protocol}//${url.host} is not a known push service`] };
  return { url };
}

/** The forwarded headers, validated, or an error answer. */
function checkPushHeaders(headers, hasBody) {
  const out = new Headers();
  const authorization = headers.get('Authorization');
  if (authorization === null) return { error: ['BAD_AUTHORIZATION', 400, 'missing Authorization: vapid t=…, k=… (RFC 8292)'] };
  if (authorization.length > MAX_AUTHORIZATION_LENGTH || !VAPID_AUTHORIZATION.test(authorization)) {
    return { error: ['BAD_AUTHORIZATION', 400, 'Authorization must be vapid t=<jwt>, k=<key> (RFC 8292)'] };
  }
  out.set('Authorization', authorization);

  const ttl = headers.get('TTL');
  if (ttl === null) return { error: ['BAD_TTL', 400, 'missing TTL header (RFC 8030 §5.2)'] };
  if (!TTL_VALUE.test(ttl) || Number(ttl) > MAX_TTL) return { error: ['BAD_TTL', 400, `TTL must be an integer in [0, ${MAX_TTL}]`] };
  out.set('TTL', String(Number(ttl)));

  const encoding = headers.get('Content-Encoding');
  if (encoding !== null) {
    if (encoding.toLowerCase() !== 'aes128gcm') return { error: ['BAD_CONTENT_ENCODING', 400, 'Content-Encoding must be aes128gcm (RFC 8291)'] };
    out.set('Content-Encoding', 'aes128gcm');
  } else if (hasBody) {
    return { error: ['BAD_CONTENT_ENCODING', 400, 'a push body needs Content-Encoding: aes128gcm (RFC 8291)'] };
  }

  const type = headers.get('Content-Type');
  if (type !== null) {
    if (type.length > 256 || !MEDIA_TYPE.test(type)) return { error: ['BAD_CONTENT_TYPE', 400, 'Content-Type is not a media type'] };
    out.set('Content-Type', type);
  }

  const urgency = headers.get('Urgency');
  if (urgency !== null) {
    if (!URGENCIES.has(urgency)) return { error: ['BAD_URGENCY', 400, 'Urgency must be very-low, low, normal or high (RFC 8030 §5.3)'] };
    out.set('Urgency', urgency);
  }

  const topic = headers.get('Topic');
  if (topic !== null) {
    if (!TOPIC_VALUE.test(topic)) return { error: ['BAD_TOPIC', 400, 'Topic must be 1 to 32 base64url characters (RFC 8030 §5.4)'] };
    out.set('Topic', topic);
  }
  return { headers: out };
}

const EXPIRED = Symbol('expired');

/**
 * Reads at most `limit` bytes of a stream, all of them within `deadlineMs` (0: no deadline). Returns { bytes },
 * { tooLarge: true } (having read no more than one chunk past the limit) or { timedOut: true }; the stream is
 * cancelled in the last two cases.
 */
async function readCapped(stream, limit, { truncate = false, deadlineMs = 0 } = {}) {
  if (stream === null) return { bytes: new Uint8Array(0) };
  const reader = stream.getReader();
  let timer;
  const expired = deadlineMs > 0 ? new Promise((resolve) => {
    timer = setTimeout(() => resolve(EXPIRED), deadlineMs);
  }) : null;
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const pending = reader.read();
      let result;
      if (expired) {
        pending.catch(() => {}); // still pending when the deadline wins; it settles when the stream is cancelled
        result = await Promise.race([pending, expired]);
      } else {
        result = await pending;
      }
      if (result === EXPIRED) {
        reader.cancel().catch(() => {});
        return { timedOut: true };
      }
      const { done, value } = result;
      if (done) break;
      const chunk = value instanceof Uint8Array ? value : new Uint8Array(value);
      if (total + chunk.length > limit) {
        if (!truncate) {
          reader.cancel().catch(() => {});
          return { tooLarge: true };
        }
        chunks.push(chunk.subarray(0, limit - total));
        total = limit;
        reader.cancel().catch(() => {});
        break;
      }
      chunks.push(chunk);
      total += chunk.length;
    }
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes };
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A fetch handler `(Request) => Promise<Response>` that forwards Web Push requests to known push services.
 * Throws PushPeerError('BAD_ARGUMENT') for bad options; never throws for a bad request (it answers 4xx/5xx).
 */
export function createRelay(options = {}) {
  const config = normalizeOptions(options);

  function corsHeaders(origin) {
    const h = new Headers();
    if (config.origins === null) {
      h.set('Access-Control-Allow-Origin', '*');
    } else {
      h.set('Vary', 'Origin');
      if (origin !== null && config.origins.has(origin)) h.set('Access-Control-Allow-Origin', origin);
    }
    h.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    return h;
  }

  function errorResponse(cors, [code, status, message], extra = {}) {
    const headers = new Headers(cors);
    headers.set('Content-Type', 'application/json');
    headers.set(RELAY_ERROR_HEADER, code);
    for (const [k, v] of Object.entries(extra)) headers.set(k, v);
    return new Response(JSON.stringify({ error: code, message }), { status, headers });
  }

  async function forward(request, endpoint, pushHeaders, body, cors) {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, config.timeoutMs);
    // The page went away: stop waiting for the push service too.
    const onClientAbort = () => controller.abort();
    request.signal?.addEventListener?.('abort', onClientAbort);
    try {
      // A plain call, not config.fetch(…): workerd's fetch throws "Illegal invocation" when `this` is not the global
      // object, which made every push a 502 on Cloudflare Workers.
      const fetchUpstream = config.fetch;
      const upstream = await fetchUpstream(endpoint.href, {
        method: 'POST',
        headers: pushHeaders,
        body,
        redirect: 'manual', // a 3xx is the push service's answer to the page, not ours to follow
        signal: controller.signal,
      });
      if (upstream.status < 200 || upstream.status > 599) {
        // e.g. an 'opaqueredirect' (status 0) where fetch hides redirects, as in a service worker
        upstream.body?.cancel().catch(() => {});
        return errorResponse(cors, ['BAD_UPSTREAM_RESPONSE', 502, 'the push service\'s answer cannot be passed on']);
      }
      const headers = new Headers(cors);
      for (const name of FORWARDED_RESPONSE_HEADERS) {
        const value = upstream.headers.get(name);
        if (value !== null) headers.set(name, value);
      }
      let responseBody = null;
      if (NULL_BODY_STATUSES.has(upstream.status)) {
        upstream.body?.cancel().catch(() => {});
      } else {
        ({ bytes: responseBody } = await readCapped(upstream.body, MAX_RESPONSE_BODY, { truncate: true }));
      }
      return new Response(responseBody, { status: upstream.status, headers });
    } catch {
      // Never echo the error: it may quote the endpoint.
      if (timedOut) return errorResponse(cors, ['UPSTREAM_TIMEOUT', 504, `no answer from the push service within ${config.timeoutMs} ms`]);
      return errorResponse(cors, ['UPSTREAM_UNREACHABLE', 502, 'could not reach the push service']);
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener?.('abort', onClientAbort);
    }
  }

  async function handle(request, cors) {
    const origin = request.headers.get('Origin');
    const result = { host: null };
    let pathname;
    try {
      pathname = new URL(request.url).pathname;
    } catch {
      return [errorResponse(cors, ['NOT_FOUND', 404, 'not found']), result];
    }
    if (pathname !== config.path) return [errorResponse(cors, ['NOT_FOUND', 404, `POST ${config.path}`]), result];
    if (request.method !== 'POST' && request.method !== 'OPTIONS') {
      return [errorResponse(cors, ['METHOD_NOT_ALLOWED', 405, 'use POST'], { Allow: 'POST, OPTIONS' }), result];
    }
    // A listed-origins relay refuses other pages outright rather than forwarding and hiding the answer. Requests
    // without Origin (not from a browser) pass: a non-browser client could send any Origin anyway.
    if (config.origins !== null && origin !== null && !config.origins.has(origin)) {
      return [errorResponse(cors, ['ORIGIN_NOT_ALLOWED', 403, 'this relay serves other origins']), result];
    }
    if (request.method === 'OPTIONS') {
      const headers = new Headers(cors);
      headers.set('Access-Control-Allow-Methods', 'POST');
      headers.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      headers.set('Access-Control-Max-Age', String(config.maxAge));
      return [new Response(null, { status: 204, headers }), result];
    }

    const endpoint = checkEndpoint(request.headers.get(ENDPOINT_HEADER), config);
    if (endpoint.url) result.host = endpoint.url.host;
    if (endpoint.error) return [errorResponse(cors, endpoint.error), result];

    // Refuse by Content-Length before reading; the capped read below catches a missing or lying one.
    const declared = request.headers.get('Content-Length');
    if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > MAX_BODY) {
      request.body?.cancel().catch(() => {});
      return [errorResponse(cors, ['PAYLOAD_TOO_LARGE', 413, `body over ${MAX_BODY} bytes`]), result];
    }
    const checked = checkPushHeaders(request.headers, declared !== null && /^0*[1-9]/.test(declared));
    if (checked.error) {
      request.body?.cancel().catch(() => {});
      return [errorResponse(cors, checked.error), result];
    }
    let read;
    try {
      read = await readCapped(request.body, MAX_BODY, { deadlineMs: config.bodyTimeoutMs });
    } catch {
      return [errorResponse(cors, ['BAD_REQUEST_BODY', 400, 'could not read the request body']), result];
    }
    if (read.timedOut) {
      return [errorResponse(cors, ['BODY_TIMEOUT', 408, `the body did not arrive within ${config.bodyTimeoutMs} ms`]), result];
    }
    if (read.tooLarge) return [errorResponse(cors, ['PAYLOAD_TOO_LARGE', 413, `body over ${MAX_BODY} bytes`]), result];
    if (read.bytes.length > 0 && !checked.headers.has('Content-Encoding')) {
      return [errorResponse(cors, ['BAD_CONTENT_ENCODING', 400, 'a push body needs Content-Encoding: aes128gcm (RFC 8291)']), result];
    }
    return [await forward(request, endpoint.url, checked.headers, read.bytes, cors), result];
  }

  return async function relay(request) {
    const started = Date.now();
    const cors = corsHeaders(request.headers.get('Origin'));
    let response;
    let host = null;
    try {
      [response, { host }] = await handle(request, cors);
    } catch {
      response = errorResponse(cors, ['INTERNAL', 500, 'relay failure']);
    }
    if (config.log) {
      try {
        // Never the endpoint path, the body or Authorization: the endpoint is a capability, the rest is private.
        config.log({ method: request.method, host, status: response.status, durationMs: Date.now() - started });
      } catch {
        // a failing logger must not fail the push
      }
    }
    return response;
  };
}

// --- Node adapter ---

/** An http.IncomingMessage as a pull-based ReadableStream (paused until read, so nothing is buffered unasked). */
function nodeRequestBody(req) {
  let closed = false;
  return new ReadableStream({
    start(controller) {
      req.pause();
      req.on('data', (chunk) => {
        if (closed) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (controller.desiredSize <= 0) req.pause();
      });
      req.on('end', () => {
        if (!closed) controller.close();
        closed = true;
      });
      req.on('error', (err) => {
        if (!closed) controller.error(err);
        closed = true;
      });
      req.on('close', () => {
        if (!closed && !req.complete) controller.error(new Error('request aborted'));
        closed = true;
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      closed = true;
      req.pause();
    },
  }, { highWaterMark: 16 * 1024, size: (chunk) => chunk.byteLength });
}

const DEFAULT_HEADERS_TIMEOUT_MS = 10_000; // a push request's head is a few hundred bytes
const DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 16; // a browser opens at most 6 per host; room for a few behind one NAT
const REFUSED_GRACE_MS = 1000; // after a refusal, time for the client to read it before the socket is destroyed

/** The Node-only options of serveRelayNode, checked; the rest goes to createRelay. */
function nodeServerOptions({ headersTimeoutMs, requestTimeoutMs, maxConnectionsPerClient, ...relayOptions }) {
  const bad = (message) => badOption(message, 'serveRelayNode');
  const headers = headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  if (!isDelay(headers)) throw bad(`headersTimeoutMs must be a positive number of milliseconds, at most ${MAX_TIMER_MS}`);
  // By default the head and then the body each get their own deadline.
  const request = requestTimeoutMs ?? Math.min(MAX_TIMER_MS, headers + (relayOptions.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS));
  if (!isDelay(request)) throw bad(`requestTimeoutMs must be a positive number of milliseconds, at most ${MAX_TIMER_MS}`);
  if (headers > request) throw bad('headersTimeoutMs must not be larger than requestTimeoutMs');
  const cap = maxConnectionsPerClient ?? DEFAULT_MAX_CONNECTIONS_PER_CLIENT;
  if (cap !== Infinity && !(Number.isInteger(cap) && cap > 0)) {
    throw bad('maxConnectionsPerClient must be a positive integer or Infinity');
  }
  return { headersTimeoutMs: headers, requestTimeoutMs: request, maxConnectionsPerClient: cap, relayOptions };
}

/** What connections are counted by: the client's address (an IPv4 client of a dual-stack server as plain IPv4). */
function clientAddress(socket) {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Serves createRelay(options) with node:http, for tests and local use. Resolves when listening.
 * `url` is the relay's origin: POST `${url}${options.path ?? '/push'}`.
 * Besides createRelay's deadlines: the request head must arrive within headersTimeoutMs and the whole request within
 * requestTimeoutMs (else 408 REQUEST_TIMEOUT), and one client address holds at most maxConnectionsPerClient open
 * connections (more are answered 429 TOO_MANY_CONNECTIONS and closed at once).
 */
export async function serveRelayNode({ port = 0, host = '127.0.0.1', ...options } = {}) {
  const limits = nodeServerOptions(options);
  const handler = createRelay(limits.relayOptions);
  const anyOrigin = (limits.relayOptions.allowOrigins ?? '*') === '*';
  // Not a static import: the module must load on edge platforms and in pages, which have no node:http.
  const httpModule = 'node:http';
  const http = await import(/* @vite-ignore */ httpModule);
  const urlHost = host.includes(':') ? `[${host}]` : host;

  /**
   * A whole HTTP/1.1 answer made before (or instead of) a request the handler sees, then the connection ends. The
   * Origin is not known yet: only a relay for any origin ('*') grants it.
   */
  function refuse(socket, status, code, message, extra = {}) {
    const body = JSON.stringify({ error: code, message });
    const headers = {
      'Content-Type': 'application/json',
      [RELAY_ERROR_HEADER]: code,
      ...(anyOrigin ? { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSED_HEADERS } : {}),
      ...extra,
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
    };
    const head = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
    // Half-closed: what the client still sends is read and dropped, so that it gets the answer rather than a reset.
    setTimeout(() => socket.destroy(), REFUSED_GRACE_MS).unref();
  }

  const refused = new WeakSet();
  const open = new Map(); // client address -> open connections

  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks both deadlines on this interval (30 s by default, which would let them run late by as much).
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  }, async (req, res) => {
    if (refused.has(req.socket)) return; // answered already, at connection time
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let response;
    try {
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        try {
          headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
        } catch {
          // a header value fetch cannot represent: drop it (it would not be forwarded anyway)
        }
      }
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
      const request = new Request(`http://${urlHost}:${server.address().port}${req.url.startsWith('/') ? req.url : '/'}`, {
        method: req.method,
        headers,
        body: hasBody ? nodeRequestBody(req) : null,
        duplex: 'half',
        signal: abort.signal,
      });
      response = await handler(request);
    } catch {
      response = new Response(JSON.stringify({ error: 'BAD_REQUEST', message: 'malformed request' }), {
        status: 400,
        headers: { 'Content-Type': 'application/json', [RELAY_ERROR_HEADER]: 'BAD_REQUEST' },
      });
    }
    const body = response.body === null ? null : Buffer.from(await response.arrayBuffer());
    // Gone, or already answered by clientError (the request ran out of time while the handler was reading it).
    if (res.destroyed || refused.has(req.socket)) return;
    const out = {};
    for (const [name, value] of response.headers) out[name] = value;
    if (!req.complete) {
      // We answered before reading all of the body (413, 400): close the connection rather than read the rest on a
      // kept-alive one. Node discards what still arrives; a client that never stops sending is cut off.
      out.connection = 'close';
      res.on('finish', () => {
        req.removeAllListeners('data');
        req.resume();
        setTimeout(() => req.destroy(), 2000).unref();
      });
    }
    if (body !== null) out['content-length'] = String(body.length);
    res.writeHead(response.status, out);
    res.end(body);
  });

  server.on('connection', (socket) => {
    const address = clientAddress(socket);
    const count = open.get(address) ?? 0;
    if (count >= limits.maxConnectionsPerClient) {
      refused.add(socket);
      refuse(socket, 429, 'TOO_MANY_CONNECTIONS', `at most ${limits.maxConnectionsPerClient} connections from one address`,
        { 'Retry-After': '1' });
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = open.get(address) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });

  // With a listener here Node writes no answer of its own to a request it could not parse or that ran out of time.
  server.on('clientError', (error, socket) => {
    if (refused.has(socket) || !socket.writable || socket.bytesWritten > 0 || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    refused.add(socket);
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      refuse(socket, 408, 'REQUEST_TIMEOUT', `the request did not arrive in time (head ${limits.headersTimeoutMs} ms, all of it ${limits.requestTimeoutMs} ms)`);
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      refuse(socket, 431, 'BAD_REQUEST', 'request head too large');
    } else {
      refuse(socket, 400, 'BAD_REQUEST', 'malformed request');
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    url: `http://${urlHost}:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
