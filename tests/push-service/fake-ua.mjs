// A fake user agent for the local push service: speaks the Mozilla push WebSocket protocol like Firefox does
// (subprotocol push-notification, hello, register with a padded base64url key, ack/nack, ping) and keeps the
// subscription's private keys so that a test can decrypt what it receives with any RFC 8291 implementation.
//
//   const ua = await connectFakeUA(service.wsUrl);             // says hello
//   const sub = await ua.subscribe(core, vapid.publicKey);     // { subscription, keys, channelID, endpoint }
//   const n = await ua.nextNotification();                      // { channelID, version, data, headers }
//   core.decrypt({ ...sub.keys, body: Buffer.from(n.data, 'base64url') });
//   ua.ack(n);  await ua.close();
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export const SUBPROTOCOL = 'push-notification';

/** Base64url with '=' padding, as Firefox sends register's key. */
export function paddedBase64url(bytes) {
  const text = Buffer.from(bytes).toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}

/**
 * Opens a WebSocket to the service and says hello. Options: uaid (reconnect as this UA), protocol (default
 * push-notification; null for none), hello (default true), timeoutMs (each wait, default 5 s).
 */
export async function connectFakeUA(wsUrl, { uaid, protocol = SUBPROTOCOL, hello = true, timeoutMs = 5000 } = {}) {
  const ws = new WebSocket(wsUrl, protocol ? [protocol] : [], { handshakeTimeout: timeoutMs });
  const inbox = [];
  const waiters = new Set();
  let closeInfo = null;
  const closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      for (const w of waiters) w.check();
      resolve(closeInfo);
    });
  });
  ws.on('message', (data) => {
    inbox.push(JSON.parse(data.toString('utf8')));
    for (const w of waiters) w.check();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
  });
  ws.on('error', () => {});

  /** Resolves to (and removes) the first message that matches; rejects on timeout or close. */
  function next(predicate = () => true, { timeoutMs: ms = timeoutMs, what = 'message' } = {}) {
    return new Promise((resolve, reject) => {
      const w = {
        check() {
          const i = inbox.findIndex(predicate);
          if (i >= 0) {
            done();
            resolve(inbox.splice(i, 1)[0]);
          } else if (closeInfo) {
            done();
            reject(new Error(`connection closed (${closeInfo.code}) while waiting for ${what}`));
          }
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${ms} ms`));
      }, ms);
      function done() {
        clearTimeout(timer);
        waiters.delete(w);
      }
      waiters.add(w);
      w.check();
    });
  }

  const send = (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  const ua = {
    ws,
    inbox,
    uaid: null,
    helloReply: null,
    send,
    next,
    closed,
    get closeInfo() {
      return closeInfo;
    },
    async hello(extra = {}) {
      send({ messageType: 'hello', broadcasts: {}, use_webpush: true, ...(uaid ? { uaid } : {}), ...extra });
      ua.helloReply = await next((m) => m.messageType === 'hello', { what: 'hello reply' });
      ua.uaid = ua.helloReply.uaid;
      return ua.helloReply;
    },
    /** register; key: 65 bytes (sent padded, as Firefox does) or text as is; resolves to the reply. */
    async register(key, { channelID = randomUUID() } = {}) {
      const message = { messageType: 'register', channelID };
      if (key !== undefined && key !== null) message.key = typeof key === 'string' ? key : paddedBase64url(key);
      send(message);
      return next((m) => m.messageType === 'register' && m.channelID === channelID, { what: 'register reply' });
    },
    /**
     * Subscribes like PushManager.subscribe: fresh p256dh key pair and auth secret (made by `core`), register with
     * the application server key. Resolves to { subscription (PushSubscription JSON), keys: { privateKey, publicKey,
     * auth }, channelID, endpoint }.
     */
    async subscribe(core, applicationServerKey) {
      const reply = await ua.register(applicationServerKey);
      if (reply.status !== 200) throw new Error(`register failed: ${JSON.stringify(reply)}`);
      const pair = core.generateVapidKeys();
      const auth = crypto.getRandomValues(new Uint8Array(16));
      return {
        channelID: reply.channelID,
        endpoint: reply.pushEndpoint,
        keys: { privateKey: pair.privateKey, publicKey: pair.publicKey, auth },
        subscription: { endpoint: reply.pushEndpoint, expirationTime: null,
          keys: { p256dh: Buffer.from(pair.publicKey).toString('base64url'), auth: Buffer.from(auth).toString('base64url') } },
      };
    },
    async unregister(channelID, code = 200) {
      send({ messageType: 'unregister', channelID, code });
      return next((m) => m.messageType === 'unregister' && m.channelID === channelID, { what: 'unregister reply' });
    },
    async ping() {
      send({});
      return next((m) => Object.keys(m).length === 0, { what: 'ping reply' });
    },
    nextNotification(options = {}) {
      return next((m) => m.messageType === 'notification', { what: 'notification', ...options });
    },
    ack(notification, code = 100) {
      send({ messageType: 'ack', updates: [{ channelID: notification.channelID, version: notification.version, code }] });
    },
    nack(notification, code = 301) {
      send({ messageType: 'nack', version: notification.version, code });
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close(1000);
      const timer = setTimeout(() => ws.terminate(), 2000);
      await closed;
      clearTimeout(timer);
    },
  };
  if (hello) await ua.hello();
  return ua;
}
