// Sending one push to a peer whose card we hold: RFC 8291 body from the core, the VAPID Authorization rebuilt from
// one of the card's grants (docs/PROTOCOL.md §3), then fetch. Direct when the push service answers CORS (Mozilla),
// else through a relay (relay/relay.js), because FCM, WNS and Apple do not (w3c/push-api#303). Only to known push
// services (js/push/hosts.js): a card comes from a stranger, so its endpoint is not trusted.
//
//   const sender = createPushSender({ core, relay: 'https://relay.example/push' });
//   const result = await sender.send({ card, payload, topic: 'offer' });   // { status, via, attempts, ... }
//
// Failures are PushPeerError with `.status` (HTTP, when there was an answer), `.retryAfter` (seconds) and
// `.endpoint`: PEER_GONE (404/410), PAYLOAD_TOO_LARGE (413), RATE_LIMITED (429 beyond what we wait), PUSH_FAILED
// (5xx after the retries), PUSH_REJECTED (other 4xx, e.g. a grant the service refused), PUSH_UNREACHABLE (network
// or CORS failure twice, backoffMs apart, and no relay to try), RELAY_ERROR (the relay itself refused:
// `.relayCode`), HOST_NOT_ALLOWED (the card's endpoint is not a known push service; nothing is sent).
import { PushPeerError } from '../errors.js';
import { pushHostPolicy } from './hosts.js';

export const DEFAULT_TTL = 120; // seconds: a signal older than this is useless to a caller waiting for an answer
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000; // one HTTP request to a push service or the relay, answer included
const MAX_RETRY_AFTER_MS = 30_000;

function pushError(code, message, details) {
  return Object.assign(new PushPeerError(code, message), details);
}

// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date in one of its three forms. Date.parse alone would
// take '-1' or '1.5' for dates and read asctime (which has no zone, and is GMT) as local time.
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const IMF_FIXDATE = new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT$`);
const RFC850_DATE = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4}$`);

/** Retry-After in seconds; null when absent or unreadable. */
export function parseRetryAfter(value, now = Date.now()) {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  let date = NaN;
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) date = Date.parse(text);
  else if (ASCTIME_DATE.test(text)) date = Date.parse(`${text} GMT`);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

const defaultSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Options: core (from loadCore), relay (URL that takes POST with X-Push-Endpoint, or null), relayMode ('auto':
 * direct first and relay when the browser cannot reach the push service; 'always'; 'never'), retries (extra
 * attempts after a 5xx or 429, default 3), backoffMs (first 5xx backoff, doubled each time, and the pause before
 * the one more try after a network failure; default 500),
 * maxRetryAfterMs (a longer Retry-After fails with RATE_LIMITED, default 30 s), allowPushHosts (hosts besides the
 * known push services that cards may name: 'host', 'https://host:port', or 'http://127.0.0.1:port' for a local push
 * service; default none), fetch, sleep, onEvent (called with { type: 'attempt' | 'response' | 'retry' |
 * 'fallback', ... } for timelines), requestTimeoutMs (one request, answer and body included: a push service that does
 * not answer fails the push with PUSH_UNREACHABLE instead of holding it forever; default 20 s).
 */
export function createPushSender({
  core, relay = null, relayMode = 'auto', retries = 3, backoffMs = 500, maxRetryAfterMs = MAX_RETRY_AFTER_MS,
  allowPushHosts = [], requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, fetch: fetchFn = globalThis.fetch?.bind(globalThis),
  sleep = defaultSleep, onEvent = () => {},
} = {}) {
  if (!core) throw new PushPeerError('BAD_ARGUMENT', 'createPushSender needs { core }');
  if (!Array.isArray(allowPushHosts)) throw new PushPeerError('BAD_ARGUMENT', 'allowPushHosts must be an array');
  const hostAllowed = pushHostPolicy({ extraHosts: allowPushHosts, what: 'allowPushHosts entry' });
  if (!['auto', 'always', 'never'].includes(relayMode)) {
    throw new PushPeerError('BAD_ARGUMENT', `relayMode must be auto, always or never, not ${relayMode}`);
  }
  if (relayMode === 'always' && !relay) throw new PushPeerError('BAD_ARGUMENT', "relayMode 'always' needs a relay URL");
  if (relay !== null) {
    try {
      new URL(relay);
    } catch {
      throw new PushPeerError('BAD_ARGUMENT', `relay must be an absolute URL, not ${relay}`);
    }
  }
  // Push-service origins the browser could not reach directly (CORS): later pushes go straight to the relay.
  const viaRelayOnly = new Set();

  /** The request for one push to the card's owner. Refuses what does not fit (PAYLOAD_TOO_LARGE, from the core). */
  function build({ card, payload, ttl = DEFAULT_TTL, urgency = 'high', topic } = {}) {
    // Endpoint, keys and grant all come from the verified card bytes, never from a caller's object.
    const bytes = card !== null && typeof card === 'object' && !(card instanceof Uint8Array) ? card.bytes : card;
    if (!bytes) throw new PushPeerError('BAD_ARGUMENT', 'card must be card bytes/text or a decoded card with .bytes');
    const { authorization, endpoint, p256dh, auth } = core.grantAuthorization(bytes);
    if (!hostAllowed(new URL(endpoint))) {
      throw Object.assign(new PushPeerError('HOST_NOT_ALLOWED', `${new URL(endpoint).origin} is not a known push ` +
        'service (allowPushHosts lists others)'), { endpoint });
    }
    const body = core.encrypt({ p256dh, auth, plaintext: payload });
    const headers = {
      Authorization: authorization,
      TTL: String(ttl),
      'Content-Encoding': 'aes128gcm',
      'Content-Type': 'application/octet-stream',
      Urgency: urgency,
    };
    if (topic !== undefined) {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(topic)) throw new PushPeerError('BAD_TOPIC', 'topic: 1 to 32 base64url characters');
      headers.Topic = topic;
    }
    return { endpoint, headers, body };
  }

  /** The first way to try for an endpoint: the relay when relayMode says so or the origin refused CORS before. */
  function route(endpoint) {
    if (relayMode === 'never') return 'direct';
    return relayMode === 'always' || (relay && viaRelayOnly.has(new URL(endpoint).origin)) ? 'relay' : 'direct';
  }

  /** fetch's arguments for a request sent `via` 'direct' or 'relay'; `extra` adds a signal or keepalive. */
  function fetchArguments(request, via, extra) {
    const url = via === 'relay' ? relay : request.endpoint;
    const headers = via === 'relay' ? { ...request.headers, 'X-Push-Endpoint': request.endpoint } : request.headers;
    // No `cache: 'no-store'`: it would also disable the CORS preflight cache, an extra round trip per push. No
    // redirects: a push service answers, it does not send the request elsewhere, and following a 307 would take the
    // body to a host nobody checked (the relay passes a push service's 3xx on as is).
    return [url, { method: 'POST', headers, body: request.body, mode: 'cors', credentials: 'omit',
      referrerPolicy: 'no-referrer', redirect: 'error', ...extra }];
  }

  async function post(request, via) {
    onEvent({ type: 'attempt', via, endpoint: request.endpoint, bytes: request.body.length });
    const started = Date.now();
    const response = await fetchFn(...fetchArguments(request, via, { signal: AbortSignal.timeout(requestTimeoutMs) }));
    await response.arrayBuffer().catch(() => {});
    onEvent({ type: 'response', via, status: response.status, ms: Date.now() - started });
    return response;
  }

  /**
   * Sends, retrying 5xx with backoff, 429 after Retry-After and a network failure once (after backoffMs, unless the
   * relay is tried instead), the same request (same body, same Topic).
   */
  async function send(options) {
    const request = build(options);
    const origin = new URL(request.endpoint).origin;
    let via = route(request.endpoint);
    let attempts = 0;
    let backoff = backoffMs;
    let triedAgain = false; // after a network failure
    const fail = (code, message, response) => pushError(code, message, { endpoint: request.endpoint, via, attempts,
      status: response?.status ?? null, retryAfter: response ? parseRetryAfter(response.headers.get('Retry-After')) : null });
    for (;;) {
      attempts++;
      let response;
      try {
        response = await post(request, via);
      } catch (error) {
        if (error?.name === 'TimeoutError') {
          throw Object.assign(fail('PUSH_UNREACHABLE', `${via === 'relay' ? 'the relay' : origin} did not answer within ` +
            `${requestTimeoutMs} ms`), { cause: error });
        }
        if (via === 'direct' && relay && relayMode === 'auto') {
          // A TypeError here is a CORS refusal (or the network): the preflight failed, so nothing was delivered.
          viaRelayOnly.add(origin);
          onEvent({ type: 'fallback', from: 'direct', to: 'relay', reason: String(error?.message ?? error) });
          via = 'relay';
          attempts--;
          continue;
        }
        if (!triedAgain) {
          // Once more after a network failure where nothing else is left to try: a blip (a reset connection, a
          // preflight that failed) is not worth a lost call. Should the first have been delivered after all, the
          // receiver's replay guard drops the second (the same sealed message; its Topic replaces a pending one).
          triedAgain = true;
          onEvent({ type: 'retry', reason: 'network', delayMs: backoffMs });
          await sleep(backoffMs);
          continue;
        }
        throw Object.assign(fail('PUSH_UNREACHABLE', via === 'relay'
          ? `the relay ${relay} could not be reached: ${error?.message ?? error}`
          : `${origin} could not be reached from here (no CORS? configure a relay): ${error?.message ?? error}`), { cause: error });
      }
      const status = response.status;
      if (status >= 200 && status < 300) {
        return { status, via, attempts, endpoint: request.endpoint, bytes: request.body.length,
          location: response.headers.get('Location') };
      }
      const relayCode = via === 'relay' ? response.headers.get('X-Push-Relay-Error') : null;
      if (relayCode) {
        throw Object.assign(fail('RELAY_ERROR', `the relay refused the push: ${relayCode} (${status})`, response), { relayCode });
      }
      if (status === 404 || status === 410) throw fail('PEER_GONE', `the peer's push subscription is gone (${status})`, response);
      if (status === 413) throw fail('PAYLOAD_TOO_LARGE', 'the push service refused the message as too large (413)', response);
      if (status === 429) {
        const seconds = parseRetryAfter(response.headers.get('Retry-After')) ?? backoff / 1000;
        if (attempts > retries || seconds * 1000 > maxRetryAfterMs) {
          throw fail('RATE_LIMITED', `the push service is rate limiting (429, Retry-After ${seconds} s)`, response);
        }
        onEvent({ type: 'retry', status, delayMs: seconds * 1000 });
        await sleep(seconds * 1000);
        continue;
      }
      if (status >= 500) {
        if (attempts > retries) throw fail('PUSH_FAILED', `the push service failed ${attempts} times (last ${status})`, response);
        onEvent({ type: 'retry', status, delayMs: backoff });
        await sleep(backoff);
        backoff *= 2;
        continue;
      }
      throw fail('PUSH_REJECTED', `the push service refused the message (${status})`, response);
    }
  }

  /**
   * Fires one push without waiting for it, with fetch's keepalive so that it outlives the page (pagehide): no
   * retries, no fallback, nothing reported. Never throws.
   */
  function sendBeacon(options) {
    try {
      const request = build(options);
      fetchFn(...fetchArguments(request, route(request.endpoint), { keepalive: true })).catch(() => {});
    } catch {
      // a page going away has nobody to tell
    }
  }

  /** Whether a push to this endpoint would be allowed (a known push service, or one of allowPushHosts). */
  const allows = (endpoint) => hostAllowed(new URL(endpoint));

  return { send, build, sendBeacon, allows };
}
