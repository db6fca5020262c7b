// A local Web Push service for tests and the demo: the Mozilla push WebSocket protocol (what Firefox speaks to its
// push service) and an RFC 8030 HTTP endpoint that validates RFC 8292 VAPID and the RFC 8291 headers, as Mozilla's
// autopush does. Everything is bound to 127.0.0.1, bounded, and closes cleanly. See README.md.
//
//   import { startPushService } from './service.mjs';
//   const service = await startPushService({ cors: true, log: console.log });
//   // Firefox: dom.push.serverURL = service.wsUrl (+ the prefs in README.md / firefoxPrefs(service))
//   // push endpoints look like `${service.httpOrigin}/wpush/<id>`
//   service.faults.add({ status: 429, retryAfter: 3 });          // the next request to any subscription
//   service.faults.add({ subscription: endpoint, count: 2, delayMs: 500 });
//   const ack = await service.waitFor((e) => e.type === 'ack' && e.version === version);
//   await service.close();
import { EventEmitter } from 'node:events';
import { createPublicKey, randomBytes, randomUUID, verify as cryptoVerify } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

export const SUBPROTOCOL = 'push-notification';
export const MAX_BODY_BYTES = 4096; // RFC 8291 §4: push services must accept at least 4096 bytes; Mozilla: no more
export const MAX_VAPID_EXP_SECONDS = 24 * 60 * 60; // RFC 8292 §2
export const MAX_TTL_SECONDS = 30 * 24 * 60 * 60; // autopush caps (does not refuse) larger TTLs

const DEFAULT_LIMITS = {
  maxConnections: 64, // WebSocket clients at once
  maxSubscriptions: 1024, // registrations kept (active + gone)
  maxPendingPerSubscription: 100, // stored (unacknowledged) messages per subscription; the oldest is dropped
  maxLog: 2000, // entries kept in `received`; the oldest are dropped
  maxWsMessageBytes: 64 * 1024,
  maxFaults: 1000,
  maxDelayMs: 120_000,
  closeGraceMs: 1000, // WebSocket close handshake before terminate()
};

// CORS as Mozilla's autopush answers it (actix-cors: any origin, any requested header, these methods, 1 h).
const CORS_METHODS = 'POST, DELETE, GET, PUT';
const CORS_DEFAULT_HEADERS = 'Authorization, Content-Encoding, Content-Type, Crypto-Key, Encryption, TTL, Urgency, Topic';
const CORS_EXPOSE = 'Location, TTL, Retry-After, Content-Type';

const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
const B64URL = /^[A-Za-z0-9_-]*$/;
const B64URL_PADDED = /^[A-Za-z0-9_-]*={0,2}$/;
const DRAIN_LIMIT = 64 * 1024; // larger bodies are not read at all
const ID_TEXT = /^[A-Za-z0-9_-]{1,64}$/;
const STATUS_TEXT = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  410: 'Gone', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};
// autopush errno values (https://mozilla-services.github.io/autopush-rs/errors.html)
const ERRNO = {
  'unknown-subscription': 102, 'payload-too-large': 104, 'subscription-gone': 106, vapid: 109, encryption: 110,
  'missing-ttl': 111, 'bad-header': 113, 'too-many-requests': 117, fault: 999,
};

class HttpError extends Error {
  constructor(status, reason, message, extra = {}) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.extra = extra;
  }
}

const vapidError = (reason, message) => new HttpError(401, reason, message, { errno: ERRNO.vapid });

function b64urlDecode(text, { padded = false } = {}) {
  if (typeof text !== 'string' || !(padded ? B64URL_PADDED : B64URL).test(text)) return null;
  const bare = text.replace(/=+$/, '');
  if (bare.length % 4 === 1) return null;
  if (padded && bare.length !== text.length && text.length % 4 !== 0) return null;
  return Buffer.from(bare, 'base64url');
}

/** A 65-byte uncompressed P-256 point as a Node KeyObject, or null when it is not a point on the curve. */
export function p256PublicKey(raw) {
  if (!raw || raw.length !== 65 || raw[0] !== 0x04) return null;
  try {
    return createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'),
        y: raw.subarray(33).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    return null;
  }
}

/** Parses `vapid t=<jwt>, k=<key>` (RFC 8292 §3). Returns { token, key } or throws an HttpError. */
export function parseVapidAuthorization(header) {
  if (!header) throw vapidError('missing-authorization', 'no Authorization header');
  const m = /^\s*(\S+)\s+(.*)$/s.exec(header);
  if (!m) throw vapidError('bad-authorization', 'malformed Authorization header');
  if (m[1].toLowerCase() !== 'vapid') {
    throw vapidError('unsupported-scheme', `Authorization scheme ${m[1]} (only "vapid", RFC 8292)`);
  }
  const params = {};
  for (const part of m[2].split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name in params) throw vapidError('bad-authorization', `duplicate ${name}= in Authorization`);
    params[name] = value;
  }
  if (!params.t) throw vapidError('missing-token', 'Authorization has no t=');
  if (!params.k) throw vapidError('missing-key', 'Authorization has no k=');
  return { token: params.t, key: params.k };
}

/**
 * Verifies a VAPID JWT (ES256, RFC 8292 §2) with Node's crypto. `key` is the k= text (base64url, a 65-byte
 * point). Checks aud === audience, now < exp <= now + 24 h, sub mailto:/https:. Returns { claims, keyBytes }.
 */
export function verifyVapid({ token, key }, { audience, now = Math.floor(Date.now() / 1000) }) {
  const keyBytes = b64urlDecode(key, { padded: true });
  const publicKey = p256PublicKey(keyBytes);
  if (!publicKey) throw vapidError('bad-key', 'k= is not a base64url uncompressed P-256 public key');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => p.length > 0 && B64URL.test(p))) {
    throw vapidError('bad-jwt', 't= is not a compact JWS (three base64url parts)');
  }
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw vapidError('bad-jwt', 'JWT header or claims are not JSON');
  }
  if (!header || typeof header !== 'object' || header.alg !== 'ES256') {
    throw vapidError('bad-jwt', `JWT alg ${JSON.stringify(header?.alg)} (ES256 required)`);
  }
  if (header.typ !== undefined && String(header.typ).toUpperCase() !== 'JWT') {
    throw vapidError('bad-jwt', `JWT typ ${JSON.stringify(header.typ)}`);
  }
  const signature = Buffer.from(parts[2], 'base64url');
  if (signature.length !== 64) throw vapidError('bad-signature', 'ES256 signature is not 64 bytes (r || s)');
  const ok = cryptoVerify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: publicKey, dsaEncoding: 'ieee-p1363' },
    signature);
  if (!ok) throw vapidError('bad-signature', 'JWT signature does not verify with k=');
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw vapidError('bad-jwt', 'claims are not an object');
  if (claims.aud !== audience) {
    throw vapidError('bad-audience', `aud ${JSON.stringify(claims.aud)} is not this push service (${audience})`);
  }
  if (!Number.isInteger(claims.exp)) throw vapidError('bad-jwt', 'exp is not an integer');
  if (claims.exp <= now) throw vapidError('expired', `JWT expired ${now - claims.exp} s ago`);
  if (claims.exp > now + MAX_VAPID_EXP_SECONDS) {
    throw vapidError('exp-too-far', `exp is ${claims.exp - now} s ahead (at most ${MAX_VAPID_EXP_SECONDS})`);
  }
  if (typeof claims.sub !== 'string' || !/^(mailto:.+|https:\/\/.+)$/.test(claims.sub)) {
    throw vapidError('bad-subject', `sub ${JSON.stringify(claims.sub)} is not a mailto: or https: URI`);
  }
  return { claims, keyBytes };
}

/** Firefox prefs (docs/TESTING.md §3) that make Firefox use this service. */
export function firefoxPrefs(service, { debug = false } = {}) {
  return {
    'dom.push.serverURL': service.wsUrl,
    'dom.push.testing.allowInsecureServerURL': true,
    'dom.push.enabled': true,
    'dom.push.connection.enabled': true,
    'permissions.default.desktop-notification': 1,
    'dom.push.testing.ignorePermission': true,
    ...(debug ? { 'dom.push.loglevel': 'debug' } : {}),
  };
}

function validStatus(status) {
  return Number.isInteger(status) && status >= 400 && status <= 599;
}

/**
 * Starts the service on 127.0.0.1. Options: cors (default true; also `service.cors = false` later), log (function
 * for one line per event), port (default 0: a free port), limits (see DEFAULT_LIMITS). Resolves to the service
 * object (see README.md).
 */
export async function startPushService({ cors = true, log = null, port = 0, host = '127.0.0.1', limits = {} } = {}) {
  const L = { ...DEFAULT_LIMITS, ...limits };
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const received = []; // bounded event log
  let seq = 0;
  let droppedLog = 0;
  let corsOn = Boolean(cors);
  let closed = false;
  let closing = null;

  const users = new Map(); // uaid -> { uaid, ws, channels: Map<channelID, sub> }
  const subsById = new Map(); // id -> sub
  const faultQueues = new Map(); // 'global' | subscription id -> [{ id, remaining, ... }]
  let faultSeq = 0;
  const sleepers = new Set(); // pending delays, ended early by close()

  function record(type, fields = {}) {
    const entry = { seq: ++seq, at: Date.now(), type, ...fields };
    received.push(entry);
    if (received.length > L.maxLog) {
      received.shift();
      droppedLog++;
    }
    if (log) {
      const { seq: s, at, type: t, body, ...rest } = entry;
      try {
        log(`push-service #${s} ${t} ${JSON.stringify(rest)}`);
      } catch {
        // a logger must not break the service
      }
    }
    emitter.emit('event', entry);
    emitter.emit(type, entry);
    return entry;
  }

  function sleep(ms) {
    if (closed) return Promise.resolve();
    return new Promise((resolve) => {
      const s = { resolve, timer: setTimeout(() => done(), ms) };
      const done = () => {
        clearTimeout(s.timer);
        sleepers.delete(s);
        resolve();
      };
      s.resolve = done;
      sleepers.add(s);
    });
  }

  // --- subscriptions ---------------------------------------------------------------------------------------------

  function findSub(ref) {
    if (!ref) return null;
    if (typeof ref === 'object' && ref.endpoint) ref = ref.endpoint;
    if (subsById.has(ref)) return subsById.get(ref);
    const m = /\/wpush\/([A-Za-z0-9_-]+)$/.exec(String(ref));
    return m ? subsById.get(m[1]) ?? null : null;
  }

  function subscriptionRef(ref) {
    const sub = findSub(ref);
    if (sub) return sub.id;
    const m = /\/wpush\/([A-Za-z0-9_-]+)$/.exec(String(ref));
    return m ? m[1] : String(ref);
  }

  function describeSub(sub) {
    return {
      id: sub.id,
      endpoint: sub.endpoint,
      uaid: sub.uaid,
      channelID: sub.channelID,
      key: sub.key ? sub.key.toString('base64url') : null,
      active: sub.active,
      connected: Boolean(users.get(sub.uaid)?.ws),
      pending: sub.pending.length,
      created: sub.created,
    };
  }

  function pruneSubscriptions() {
    // Forget the oldest gone subscriptions first (their endpoints then answer 404 instead of 410).
    if (subsById.size < L.maxSubscriptions) return true;
    for (const [id, sub] of subsById) {
      if (!sub.active) {
        subsById.delete(id);
        faultQueues.delete(id);
        if (subsById.size < L.maxSubscriptions) return true;
      }
    }
    return subsById.size < L.maxSubscriptions;
  }

  function endSubscription(sub, why) {
    if (!sub.active) return;
    sub.active = false;
    sub.ended = why;
    sub.pending.length = 0;
    users.get(sub.uaid)?.channels.delete(sub.channelID);
  }

  // --- WebSocket: the Mozilla push protocol ------------------------------------------------------------------------

  function sendJson(ws, message) {
    if (ws.readyState !== ws.OPEN) return false;
    ws.send(JSON.stringify(message));
    return true;
  }

  function notificationFor(sub, msg) {
    const n = { messageType: 'notification', channelID: sub.channelID, version: msg.version };
    if (msg.data !== null) {
      n.data = msg.data;
      n.headers = { encoding: 'aes128gcm' };
    }
    return n;
  }

  function expirePending(sub, now = Date.now()) {
    const before = sub.pending.length;
    sub.pending = sub.pending.filter((m) => m.expires > now || m.sent);
    return before - sub.pending.length;
  }

  function deliverPending(user) {
    if (!user.ws) return;
    const now = Date.now();
    for (const sub of user.channels.values()) {
      expirePending(sub, now);
      for (const msg of sub.pending) {
        if (sendJson(user.ws, notificationFor(sub, msg))) {
          msg.sent = true;
          record('notification', { subscription: sub.id, channelID: sub.channelID, version: msg.version,
            uaid: user.uaid, redelivery: true });
        }
      }
    }
  }

  function handleHello(conn, msg) {
    if (conn.uaid) return protocolError(conn, 'second hello on one connection', true);
    const requested = typeof msg.uaid === 'string' ? msg.uaid : null;
    // Echo the client's uaid (Firefox drops its registrations when the uaid changes); a new one otherwise.
    const uaid = requested && ID_TEXT.test(requested) ? requested : randomUUID().replace(/-/g, '');
    let user = users.get(uaid);
    if (!user) {
      user = { uaid, ws: null, channels: new Map() };
      users.set(uaid, user);
    }
    if (user.ws && user.ws !== conn.ws) {
      // One connection per UA, as autopush: the newer one wins.
      const old = user.ws;
      user.ws = null;
      old.close(4000, 'replaced by a newer connection');
    }
    user.ws = conn.ws;
    conn.uaid = uaid;
    record('hello', { uaid, requestedUaid: requested, channelIDs: Array.isArray(msg.channelIDs) ? msg.channelIDs : [],
      useWebpush: msg.use_webpush === true, connection: conn.id });
    sendJson(conn.ws, { messageType: 'hello', status: 200, uaid, use_webpush: true, broadcasts: {} });
    deliverPending(user);
  }

  function handleRegister(conn, msg) {
    const user = users.get(conn.uaid);
    const channelID = msg.channelID;
    const reply = (status, extra = {}) =>
      sendJson(conn.ws, { messageType: 'register', channelID, status, ...extra });
    if (typeof channelID !== 'string' || !ID_TEXT.test(channelID)) {
      record('register', { uaid: conn.uaid, channelID, status: 400, error: 'bad channelID' });
      return reply(400, { error: 'bad channelID' });
    }
    let key = null;
    if (msg.key !== undefined && msg.key !== null) {
      key = b64urlDecode(msg.key, { padded: true });
      if (!p256PublicKey(key)) {
        record('register', { uaid: conn.uaid, channelID, status: 400, error: 'bad key', keyText: msg.key });
        return reply(400, { error: 'key is not a base64url uncompressed P-256 public key' });
      }
    }
    const existing = user.channels.get(channelID);
    if (existing) {
      const same = (existing.key === null && key === null) || (existing.key && key && existing.key.equals(key));
      if (!same) {
        record('register', { uaid: conn.uaid, channelID, status: 409, error: 'channelID registered with another key' });
        return reply(409, { error: 'channelID already registered with another key' });
      }
      record('register', { uaid: conn.uaid, channelID, status: 200, subscription: existing.id,
        endpoint: existing.endpoint, keyText: msg.key ?? null, repeat: true });
      return reply(200, { pushEndpoint: existing.endpoint });
    }
    if (!pruneSubscriptions()) {
      record('register', { uaid: conn.uaid, channelID, status: 503, error: 'too many subscriptions' });
      return reply(503, { error: 'too many subscriptions' });
    }
    const id = randomBytes(16).toString('base64url');
    const sub = { id, uaid: conn.uaid, channelID, key, endpoint: `${httpOrigin}/wpush/${id}`, active: true,
      created: Date.now(), pending: [] };
    subsById.set(id, sub);
    user.channels.set(channelID, sub);
    record('register', { uaid: conn.uaid, channelID, status: 200, subscription: id, endpoint: sub.endpoint,
      keyText: msg.key ?? null });
    return reply(200, { pushEndpoint: sub.endpoint });
  }

  function handleUnregister(conn, msg) {
    const user = users.get(conn.uaid);
    const sub = typeof msg.channelID === 'string' ? user.channels.get(msg.channelID) : undefined;
    if (sub) endSubscription(sub, 'unregistered');
    record('unregister', { uaid: conn.uaid, channelID: msg.channelID, code: msg.code ?? null,
      subscription: sub?.id ?? null });
    // autopush answers 200 whether or not the channel was known; Firefox waits for this reply.
    sendJson(conn.ws, { messageType: 'unregister', channelID: msg.channelID, status: 200 });
  }

  function takePending(user, channelID, version) {
    const subs = channelID !== undefined ? [user.channels.get(channelID)] : [...user.channels.values()];
    for (const sub of subs) {
      if (!sub) continue;
      const i = sub.pending.findIndex((m) => m.version === version);
      if (i >= 0) {
        sub.pending.splice(i, 1);
        return sub;
      }
    }
    // acknowledged after an unregister, or a version we never sent
    for (const sub of subs) if (sub) return sub;
    return null;
  }

  function handleAck(conn, msg) {
    const user = users.get(conn.uaid);
    const updates = Array.isArray(msg.updates) ? msg.updates.slice(0, 1000) : [];
    for (const u of updates) {
      if (!u || typeof u !== 'object') continue;
      const sub = takePending(user, u.channelID, u.version);
      record('ack', { uaid: conn.uaid, channelID: u.channelID, version: u.version, code: u.code ?? null,
        subscription: sub?.id ?? null });
    }
  }

  function handleNack(conn, msg) {
    const user = users.get(conn.uaid);
    const sub = takePending(user, undefined, msg.version);
    record('nack', { uaid: conn.uaid, version: msg.version, code: msg.code ?? null, subscription: sub?.id ?? null,
      channelID: sub?.channelID ?? null });
  }

  function protocolError(conn, why, close = false) {
    record('protocol-error', { connection: conn.id, uaid: conn.uaid ?? null, error: why });
    if (close) conn.ws.close(1002, why.slice(0, 100));
  }

  function onWsMessage(conn, data, isBinary) {
    if (isBinary) return protocolError(conn, 'binary frame', true);
    let msg;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      return protocolError(conn, 'not JSON', true);
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return protocolError(conn, 'not a JSON object', true);
    const type = msg.messageType;
    // Firefox pings with an empty object; autopush answers with one.
    if ((type === undefined && Object.keys(msg).length === 0) || type === 'ping') {
      record('ping', { uaid: conn.uaid ?? null, connection: conn.id });
      return sendJson(conn.ws, {});
    }
    if (type === 'hello') return handleHello(conn, msg);
    if (!conn.uaid) return protocolError(conn, `${type} before hello`, true);
    switch (type) {
      case 'register': return handleRegister(conn, msg);
      case 'unregister': return handleUnregister(conn, msg);
      case 'ack': return handleAck(conn, msg);
      case 'nack': return handleNack(conn, msg);
      case 'broadcast_subscribe':
        record('broadcast_subscribe', { uaid: conn.uaid, broadcasts: msg.broadcasts ?? null });
        return undefined;
      default:
        return protocolError(conn, `unknown messageType ${JSON.stringify(type)}`);
    }
  }

  let connectionSeq = 0;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: L.maxWsMessageBytes,
    clientTracking: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  wss.on('connection', (ws, req) => {
    const conn = { id: ++connectionSeq, ws, uaid: null };
    record('connect', { connection: conn.id, protocol: ws.protocol, remote: req.socket.remoteAddress });
    ws.on('message', (data, isBinary) => {
      try {
        onWsMessage(conn, data, isBinary);
      } catch (error) {
        protocolError(conn, `internal: ${error.message}`, true);
      }
    });
    ws.on('error', (error) => record('ws-error', { connection: conn.id, error: error.message }));
    ws.on('close', (code) => {
      const user = conn.uaid ? users.get(conn.uaid) : null;
      if (user?.ws === ws) {
        user.ws = null;
        // Sent but unacknowledged messages go out again on the next hello.
        for (const sub of user.channels.values()) for (const m of sub.pending) m.sent = false;
        if (user.channels.size === 0) users.delete(user.uaid); // nothing to keep for it
      }
      record('disconnect', { connection: conn.id, uaid: conn.uaid, code });
    });
  });

  // --- HTTP: RFC 8030 endpoint ---------------------------------------------------------------------------------

  function corsHeaders() {
    return corsOn ? { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': CORS_EXPOSE } : {};
  }

  function respond(res, status, headers = {}, body = null) {
    if (res.headersSent || res.destroyed) return;
    const text = body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Cache-Control': 'no-store',
      ...(text ? { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' } : {}),
      ...(status === 204 ? {} : { 'Content-Length': Buffer.byteLength(text) }),
      ...corsHeaders(),
      ...headers,
    });
    res.end(text);
  }

  function respondError(res, status, reason, message, extra = {}, headers = {}) {
    respond(res, status, headers, { code: status, errno: extra.errno ?? ERRNO[reason] ?? null,
      error: STATUS_TEXT[status] ?? 'Error', reason, message });
  }

  /**
   * Reads the body, keeping at most MAX_BODY_BYTES. A slightly larger body is read to its end and discarded (so
   * that the client reads a clean 413); a declared or actual size over DRAIN_LIMIT stops reading and the answer
   * closes the connection. Resolves to { body } or { tooLarge: true, close }.
   */
  function readBody(req) {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > DRAIN_LIMIT) return Promise.resolve({ tooLarge: true, close: true });
    return new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      let done = false;
      req.on('data', (chunk) => {
        if (done) return;
        size += chunk.length;
        if (size > DRAIN_LIMIT) {
          done = true;
          req.pause();
          resolve({ tooLarge: true, close: true });
        } else if (size <= MAX_BODY_BYTES) {
          chunks.push(chunk);
        }
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        resolve(size > MAX_BODY_BYTES ? { tooLarge: true, close: false } : { body: Buffer.concat(chunks, size) });
      });
      req.on('error', (error) => {
        if (!done) {
          done = true;
          reject(error);
        }
      });
    });
  }

  function takeFault(id) {
    for (const key of [id, 'global']) {
      const queue = faultQueues.get(key);
      if (!queue || queue.length === 0) continue;
      const fault = queue[0];
      fault.remaining--;
      if (fault.remaining <= 0) queue.shift();
      if (queue.length === 0) faultQueues.delete(key);
      const { remaining, ...rest } = fault;
      return rest;
    }
    return null;
  }

  function checkHeaders(req, body) {
    const ttlText = req.headers.ttl;
    if (ttlText === undefined) throw new HttpError(400, 'missing-ttl', 'the TTL header is required (RFC 8030 §5.2)');
    if (!/^\d{1,10}$/.test(ttlText.trim())) {
      throw new HttpError(400, 'missing-ttl', `TTL ${JSON.stringify(ttlText)} is not a non-negative integer`);
    }
    const ttl = Math.min(Number(ttlText.trim()), MAX_TTL_SECONDS);
    const urgency = req.headers.urgency;
    if (urgency !== undefined && !URGENCIES.has(urgency.trim())) {
      throw new HttpError(400, 'bad-header', `Urgency ${JSON.stringify(urgency)} (RFC 8030 §5.3)`);
    }
    const topic = req.headers.topic;
    if (topic !== undefined && (topic.length === 0 || topic.length > 32 || !B64URL.test(topic))) {
      throw new HttpError(400, 'bad-header', 'Topic must be 1-32 base64url characters (RFC 8030 §5.4)');
    }
    const encoding = req.headers['content-encoding'];
    if (body.length > 0) {
      if (encoding === undefined) {
        throw new HttpError(400, 'encryption', 'Content-Encoding is required with a body', { errno: ERRNO.encryption });
      }
      if (encoding.trim().toLowerCase() !== 'aes128gcm') {
        throw new HttpError(400, 'encryption', `Content-Encoding ${JSON.stringify(encoding)}: only aes128gcm (RFC 8291)`,
          { errno: ERRNO.encryption });
      }
      // RFC 8188 header: salt(16) rs(4) idlen(1) keyid(idlen); RFC 8291 wants a 65-byte keyid and one record.
      if (body.length < 21 + 65 + 17 || body[20] !== 65) {
        throw new HttpError(400, 'encryption', 'body is not an RFC 8291 aes128gcm message (header/key id)',
          { errno: ERRNO.encryption });
      }
    }
    return { ttl, urgency: urgency?.trim() ?? null, topic: topic ?? null, encoding: encoding ?? null };
  }

  function checkVapid(req, sub) {
    const auth = req.headers.authorization;
    // A subscription registered without a key (no applicationServerKey) accepts unauthenticated pushes, as
    // autopush's v1 endpoints do; with a key, VAPID is required and k must be that key.
    if (!auth && !sub.key) return null;
    const { claims, keyBytes } = verifyVapid(parseVapidAuthorization(auth), { audience: httpOrigin });
    if (sub.key && !sub.key.equals(keyBytes)) {
      throw vapidError('key-mismatch', 'k= is not the applicationServerKey the subscription was created with');
    }
    return claims;
  }

  async function handlePush(req, res, id) {
    const read = await readBody(req);
    const fault = takeFault(id);
    const base = { subscription: id, method: req.method, headers: pickHeaders(req.headers),
      bodyLength: read.body?.length ?? null, fault };
    if (fault?.delayMs) {
      await sleep(Math.min(fault.delayMs, L.maxDelayMs));
      if (closed) {
        res.destroy();
        return;
      }
    }
    if (fault?.reset) {
      record('push', { ...base, status: null, outcome: 'reset' });
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      const headers = {};
      if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter);
      else if (fault.status === 429 || fault.status === 503) headers['Retry-After'] = '1';
      const reason = fault.status === 429 ? 'too-many-requests' : 'fault';
      record('push', { ...base, status: fault.status, reason, outcome: 'fault' });
      if (read.close) headers.Connection = 'close';
      respondError(res, fault.status, reason, `injected fault ${fault.status}`, { errno: ERRNO[reason] }, headers);
      return;
    }
    const sub = subsById.get(id);
    try {
      if (!sub) throw new HttpError(404, 'unknown-subscription', 'no such subscription');
      if (!sub.active) throw new HttpError(410, 'subscription-gone', `subscription ${sub.ended}`);
      if (read.tooLarge) {
        throw new HttpError(413, 'payload-too-large', `body over ${MAX_BODY_BYTES} bytes`);
      }
      const claims = checkVapid(req, sub);
      const meta = checkHeaders(req, read.body);
      const version = randomUUID();
      const location = `${httpOrigin}/m/${version}`;
      const delivery = fault?.drop ? null : accept(sub, version, read.body, meta);
      record('push', { ...base, status: 201, version, ttl: meta.ttl, urgency: meta.urgency, topic: meta.topic,
        vapid: claims, outcome: delivery?.outcome ?? 'dropped', body: read.body });
      delivery?.send();
      respond(res, 201, { Location: location, TTL: String(meta.ttl) });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      record('push', { ...base, status: error.status, reason: error.reason, message: error.message });
      respondError(res, error.status, error.reason, error.message, error.extra,
        read.close ? { Connection: 'close' } : {});
    }
  }

  /**
   * Stores a validated message. Returns { outcome, send }: outcome 'sent' (the UA is connected: send() sends it
   * now), 'stored' (until the UA says hello, at most TTL seconds) or 'expired' (TTL 0 and the UA is offline).
   */
  function accept(sub, version, body, meta) {
    const user = users.get(sub.uaid);
    const online = Boolean(user?.ws && user.ws.readyState === user.ws.OPEN);
    const nothing = () => {};
    if (!online && meta.ttl === 0) return { outcome: 'expired', send: nothing };
    if (meta.topic) {
      // RFC 8030 §5.4: a newer message with the same topic replaces a stored one.
      sub.pending = sub.pending.filter((m) => m.topic !== meta.topic || m.sent);
    }
    const msg = { version, data: body.length ? body.toString('base64url') : null, topic: meta.topic,
      expires: Date.now() + meta.ttl * 1000, sent: false };
    sub.pending.push(msg);
    while (sub.pending.length > L.maxPendingPerSubscription) sub.pending.shift();
    if (!online) return { outcome: 'stored', send: nothing };
    return {
      outcome: 'sent',
      send() {
        if (sendJson(user.ws, notificationFor(sub, msg))) {
          msg.sent = true;
          record('notification', { subscription: sub.id, channelID: sub.channelID, version, uaid: sub.uaid });
        }
      },
    };
  }

  function pickHeaders(h) {
    const out = {};
    for (const k of ['authorization', 'ttl', 'urgency', 'topic', 'content-encoding', 'content-type', 'content-length',
      'origin']) {
      if (h[k] !== undefined) out[k] = h[k];
    }
    return out;
  }

  function handleDeleteMessage(res, version) {
    for (const sub of subsById.values()) {
      const i = sub.pending.findIndex((m) => m.version === version);
      if (i >= 0) {
        sub.pending.splice(i, 1);
        record('delete-message', { subscription: sub.id, version, status: 204 });
        respond(res, 204);
        return;
      }
    }
    record('delete-message', { version, status: 404 });
    respondError(res, 404, 'unknown-message', 'no such pending message', { errno: 102 });
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, httpOrigin);
      const wpush = /^\/wpush\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname);
      const message = /^\/m\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname);
      if (req.method === 'OPTIONS') {
        const requested = req.headers['access-control-request-headers'];
        record('preflight', { path: url.pathname, origin: req.headers.origin ?? null, cors: corsOn,
          requestMethod: req.headers['access-control-request-method'] ?? null, requestHeaders: requested ?? null });
        if (!corsOn) {
          // Like FCM: no CORS at all, so a browser's preflight fails.
          respond(res, 405, { Allow: 'POST' });
          return;
        }
        const allowHeaders = requested && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/
          .test(requested.trim()) ? requested.trim() : CORS_DEFAULT_HEADERS;
        respond(res, 204, {
          'Access-Control-Allow-Methods': CORS_METHODS,
          'Access-Control-Allow-Headers': allowHeaders,
          'Access-Control-Max-Age': '3600',
        });
        return;
      }
      if (wpush) {
        if (req.method !== 'POST') {
          respondError(res, 405, 'method', 'POST a push message', { errno: null }, { Allow: 'POST' });
          return;
        }
        await handlePush(req, res, wpush[1]);
        return;
      }
      if (message && req.method === 'DELETE') {
        handleDeleteMessage(res, message[1]);
        return;
      }
      if (url.pathname === '/' && req.method === 'GET') {
        respond(res, 200, {}, 'pushpeer local push service (Mozilla push WebSocket protocol + RFC 8030)\n');
        return;
      }
      respondError(res, 404, 'not-found', 'not found', { errno: null });
    } catch (error) {
      record('http-error', { error: error.message });
      if (!res.headersSent) respondError(res, 500, 'internal', 'internal error', { errno: null });
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 2000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000 + L.maxDelayMs;
  server.maxHeadersCount = 100;
  server.on('clientError', (error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('upgrade', (req, socket, head) => {
    const reject = (status, why) => {
      record('ws-rejected', { status, error: why });
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (closed) return reject(503, 'closing');
    let pathname;
    try {
      pathname = new URL(req.url, httpOrigin).pathname;
    } catch {
      return reject(400, 'bad URL');
    }
    if (pathname !== '/') return reject(404, `WebSocket path ${pathname}`);
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(SUBPROTOCOL)) return reject(400, `subprotocol ${SUBPROTOCOL} not offered`);
    if (wss.clients.size >= L.maxConnections) return reject(503, 'too many connections');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const httpOrigin = `http://${host}:${actualPort}`;
  const wsUrl = `ws://${host}:${actualPort}/`;

  // --- public API ------------------------------------------------------------------------------------------------

  const faults = {
    /**
     * Queues a fault for the next `count` (default 1) requests to one subscription (`subscription`: endpoint, id or
     * PushSubscription JSON) or, without it, to any subscription (a per-subscription fault is used first).
     * Fields: delayMs (then carry on), drop (answer 201, never deliver), reset (close the connection, no answer),
     * status (answer it instead of processing: 410, 413, 429, 5xx...), retryAfter (seconds; default 1 for 429/503).
     * Returns the fault's id.
     */
    add({ subscription, count = 1, delayMs = 0, drop = false, reset = false, status, retryAfter } = {}) {
      if (!Number.isInteger(count) || count < 1) throw new TypeError('count must be a positive integer');
      if (status !== undefined && !validStatus(status)) throw new TypeError(`status ${status}: 400-599 only`);
      if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > L.maxDelayMs) {
        throw new TypeError(`delayMs must be in 0..${L.maxDelayMs}`);
      }
      if (retryAfter !== undefined && !(Number.isInteger(retryAfter) && retryAfter >= 0)) {
        throw new TypeError('retryAfter must be a non-negative integer (seconds)');
      }
      if (!drop && !reset && status === undefined && delayMs === 0) throw new TypeError('an empty fault');
      const total = [...faultQueues.values()].reduce((n, q) => n + q.length, 0);
      if (total >= L.maxFaults) throw new RangeError('too many queued faults');
      const key = subscription === undefined ? 'global' : subscriptionRef(subscription);
      const fault = { id: ++faultSeq, remaining: count, delayMs, drop: Boolean(drop), reset: Boolean(reset) };
      if (status !== undefined) fault.status = status;
      if (retryAfter !== undefined) fault.retryAfter = retryAfter;
      if (!faultQueues.has(key)) faultQueues.set(key, []);
      faultQueues.get(key).push(fault);
      return fault.id;
    },
    /** Removes queued faults: all, or those of one subscription ('global' for the global queue). */
    clear(subscription) {
      if (subscription === undefined) faultQueues.clear();
      else faultQueues.delete(subscription === 'global' ? 'global' : subscriptionRef(subscription));
    },
    /** Queued faults: [{ target, id, remaining, ... }]. */
    pending() {
      const out = [];
      for (const [target, queue] of faultQueues) for (const f of queue) out.push({ target, ...f });
      return out;
    },
  };

  function waitFor(predicate, { timeoutMs = 10_000, since = 0, what = 'event' } = {}) {
    const match = (e) => e.seq > since && predicate(e);
    const found = received.find(match);
    if (found) return Promise.resolve(found);
    if (closed) return Promise.reject(new Error('push service closed'));
    return new Promise((resolve, reject) => {
      const onEvent = (e) => {
        if (match(e)) finish(null, e);
      };
      const onClose = () => finish(new Error(`push service closed while waiting for ${what}`));
      const timer = setTimeout(() => finish(new Error(`push service: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      function finish(error, e) {
        clearTimeout(timer);
        emitter.off('event', onEvent);
        emitter.off('closed', onClose);
        if (error) reject(error);
        else resolve(e);
      }
      emitter.on('event', onEvent);
      emitter.once('closed', onClose);
    });
  }

  async function close() {
    if (closing) return closing;
    closed = true;
    closing = (async () => {
      for (const s of [...sleepers]) s.resolve();
      const clients = [...wss.clients];
      for (const ws of clients) ws.close(1001, 'push service closing');
      let graceTimer;
      await Promise.race([
        Promise.all(clients.map((ws) => (ws.readyState === ws.CLOSED ? null
          : new Promise((r) => ws.once('close', r))))),
        new Promise((r) => {
          graceTimer = setTimeout(r, L.closeGraceMs);
        }),
      ]);
      clearTimeout(graceTimer);
      for (const ws of wss.clients) ws.terminate();
      await new Promise((r) => wss.close(() => r()));
      await new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections?.();
      });
      record('closed');
      emitter.emit('closed');
      emitter.removeAllListeners();
    })();
    return closing;
  }

  return {
    wsUrl,
    httpOrigin,
    port: actualPort,
    /** Every event, oldest first (bounded: limits.maxLog). Entries: { seq, at, type, ... }. */
    received,
    get droppedLogEntries() {
      return droppedLog;
    },
    get cors() {
      return corsOn;
    },
    set cors(on) {
      corsOn = Boolean(on);
    },
    faults,
    /** Sequence number of the newest event (pass as `since` to waitFor to look only at later ones). */
    get lastSeq() {
      return seq;
    },
    waitFor,
    /** The ack Firefox (or a fake UA) sent for a push answered with `Location: .../m/<version>`. */
    waitForAck(versionOrLocation, options = {}) {
      const version = String(versionOrLocation).replace(/^.*\/m\//, '');
      return waitFor((e) => (e.type === 'ack' || e.type === 'nack') && e.version === version,
        { what: `ack of ${version}`, ...options });
    },
    on: (type, fn) => emitter.on(type, fn),
    off: (type, fn) => emitter.off(type, fn),
    subscriptions: () => [...subsById.values()].map(describeSub),
    subscription: (ref) => {
      const sub = findSub(ref);
      return sub ? describeSub(sub) : null;
    },
    /** Ends a subscription on the service's side (expired, revoked): its endpoint answers 410 from now on. */
    revoke(ref) {
      const sub = findSub(ref);
      if (!sub) return false;
      endSubscription(sub, 'revoked');
      record('revoke', { subscription: sub.id });
      return true;
    },
    /** Drops the WebSocket of every UA (or of one uaid): messages are stored until the UA says hello again. */
    disconnect(uaid) {
      let n = 0;
      for (const user of users.values()) {
        if (user.ws && (uaid === undefined || user.uaid === uaid)) {
          user.ws.terminate();
          n++;
        }
      }
      return n;
    },
    connectedUaids: () => [...users.values()].filter((u) => u.ws).map((u) => u.uaid),
    close,
  };
}
