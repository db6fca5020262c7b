// A push channel held by the page itself, for a browser without a working push service of its own (Chromium
// offline, whose pushManager.subscribe() never settles; push turned off): call-only mode (docs/API.md, "Page-held
// push"). The page speaks the Mozilla push WebSocket protocol (what Firefox speaks to autopush: subprotocol
// 'push-notification'; hello, register, notification, ack, ping; docs/PROTOCOL.md §7.6) to a push service that
// offers it, gets an ordinary RFC 8030 subscription, and decrypts what arrives itself (RFC 8291). Each push then
// takes the service worker's path: deliverEnvelope (js/push/reception.js) puts it in the inbox and posts the
// worker's BroadcastChannel message, which tells the PushPeer; it needs no change. Reachable only while the page is
// open.
//
//   const channel = await openPagePush({ url: 'wss://push.example/', core });
//   const peer = await PushPeer.create({ subscribe: channel.subscribe, ... });
//
// The uaid, the channel id and the subscription's keys are kept in the PushPeer store (key 'pagePush'), so that a
// reloaded page says hello as the same user agent and the endpoint on our card stays valid.
import { loadCore } from '../core.js';
import { PushPeerError } from '../errors.js';
import { deliverEnvelope, refuseEnvelope } from './reception.js';
import { DEFAULT_STORE_NAME, openStore } from '../store/store.js';

export const SUBPROTOCOL = 'push-notification';
/** The store key of the channel's state: { url, uaid, channelID, applicationServerKey, endpoint, keys }. */
export const STORE_KEY = 'pagePush';

export const PAGE_PUSH_DEFAULTS = Object.freeze({
  connectTimeoutMs: 10_000, // socket open + hello answered; the first one fails openPagePush with PUSH_UNREACHABLE
  requestTimeoutMs: 10_000, // a register/unregister answer
  // autopush disconnects a client that pings more often than every 45 s (autoconnect's ExcessivePing); it pings
  // us at the WebSocket level itself, which the browser answers. Ours finds a dead socket (a network change).
  pingIntervalMs: 5 * 60_000,
  pongTimeoutMs: 10_000,
  backoffMs: 1000, // reconnects: 1, 2, 4 ... s (jittered), at most maxBackoffMs
  maxBackoffMs: 60_000,
});

// Ack codes, as Firefox sends them (PushService.sys.mjs): delivered, could not be decrypted, not delivered.
const ACK_DELIVERED = 100;
const ACK_DECRYPT_FAILED = 101;
const ACK_NOT_DELIVERED = 102;
const CLOSE_REPLACED = 4000; // the service took a newer connection of the same uaid (another page of this store)

/** register's key as Firefox sends it: base64url with '=' padding. */
const padded = (text) => text + '='.repeat((4 - (text.length % 4)) % 4);

const subscriptionJson = (core, saved) => ({ endpoint: saved.endpoint, expirationTime: null,
  keys: { p256dh: core.base64urlEncode(saved.keys.publicKey), auth: core.base64urlEncode(saved.keys.auth) } });

/**
 * Opens the channel: connects to the push service at `url` (ws: or wss:) and says hello (with the saved uaid).
 * Options: core (a loaded core; default loadCore()), store (a store object, its IndexedDB name, or { name };
 * default the PushPeer default), the timings of PAGE_PUSH_DEFAULTS, WebSocket (constructor, for tests).
 * Resolves to the channel once the service answered hello; fails with PUSH_UNREACHABLE when it did not within
 * connectTimeoutMs (then nothing is left running).
 */
export async function openPagePush(options = {}) {
  const channel = new PagePushChannel(options);
  await channel._start(options);
  return channel;
}

/**
 * The channel: subscribe(applicationServerKey) (pass it as PushPeer's `subscribe` option; it is bound),
 * unsubscribe(), close(), state ('connecting', 'open', 'waiting' (to reconnect), 'replaced', 'closed'). Events:
 * statechange { state }, subscriptionchange { subscription } (the service forgot our registration and we made a
 * new one: the card must be issued again, e.g. by creating the PushPeer anew), error { error }.
 */
export class PagePushChannel extends EventTarget {
  constructor({ url, WebSocket: Socket = globalThis.WebSocket, ...timings } = {}) {
    super();
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      throw new PushPeerError('BAD_ARGUMENT', `openPagePush: url ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      throw new PushPeerError('BAD_ARGUMENT', 'openPagePush: url must be a ws: or wss: URL');
    }
    if (typeof Socket !== 'function') throw new PushPeerError('NOT_SUPPORTED', 'WebSocket is not available here');
    this.url = parsed.href;
    this.options = { ...PAGE_PUSH_DEFAULTS };
    for (const key of Object.keys(PAGE_PUSH_DEFAULTS)) if (timings[key] !== undefined) this.options[key] = timings[key];
    this._Socket = Socket;
    this._state = 'connecting';
    this._ws = null;
    this._attempt = 0; // failed connects since the last hello: the backoff
    this._serial = Promise.resolve(); // subscribe, restore and notifications, one at a time (store, replay guard)
    this._replies = new Map(); // 'register:<id>' | 'unregister:<id>' -> { resolve, reject, timer }
    this._openWaiters = new Set();
    this.subscribe = this.subscribe.bind(this);
  }

  get state() {
    return this._state;
  }

  async _start({ core, store }) {
    this.core = core ?? await loadCore();
    this.store = typeof store?.get === 'function' ? store
      : await openStore({ name: (typeof store === 'string' ? store : store?.name) ?? DEFAULT_STORE_NAME });
    this._ownStore = this.store !== store;
    this.storeName = this.store.name ?? DEFAULT_STORE_NAME;
    this._onOnline = () => this._state === 'waiting' && this._reconnectNow();
    this._onVisible = () => this._state === 'replaced' && globalThis.document?.visibilityState === 'visible' &&
      this._reconnectNow();
    try {
      this._connect();
      await this._whenOpen(this.options.connectTimeoutMs);
    } catch (error) {
      this.close();
      throw error;
    }
    globalThis.addEventListener?.('online', this._onOnline);
    globalThis.document?.addEventListener('visibilitychange', this._onVisible);
  }

  _setState(state) {
    if (this._state === state) return;
    this._state = state;
    this.dispatchEvent(Object.assign(new Event('statechange'), { state }));
    if (state === 'open') for (const w of this._openWaiters) w.resolve();
    if (state === 'closed') for (const w of this._openWaiters) w.reject(new PushPeerError('PUSH_UNREACHABLE', 'page push channel closed'));
  }

  _error(error) {
    this.dispatchEvent(Object.assign(new Event('error'), { error }));
  }

  /** Resolves once the service answered hello; PUSH_UNREACHABLE after timeoutMs or when the channel closes. */
  _whenOpen(timeoutMs = this.options.connectTimeoutMs) {
    if (this._state === 'open') return Promise.resolve();
    if (this._state === 'closed') return Promise.reject(new PushPeerError('PUSH_UNREACHABLE', 'page push channel closed'));
    return new Promise((resolve, reject) => {
      const w = {
        resolve: () => done(resolve),
        reject: (error) => done(() => reject(error)),
      };
      const timer = setTimeout(() => w.reject(new PushPeerError('PUSH_UNREACHABLE',
        `the push service ${this.url} did not answer within ${timeoutMs} ms`)), timeoutMs);
      const done = (then) => {
        clearTimeout(timer);
        this._openWaiters.delete(w);
        then();
      };
      this._openWaiters.add(w);
    });
  }

  _serially(work) {
    const run = this._serial.then(work);
    this._serial = run.catch(() => {});
    return run;
  }

  async _load() {
    const saved = await this.store.get(STORE_KEY);
    // State for another push service is of no use here: its uaid and channel mean nothing to this one.
    return saved?.url === this.url ? saved : { url: this.url };
  }

  // --- the socket ------------------------------------------------------------------------------------------------

  _connect() {
    clearTimeout(this._retryTimer);
    this._setState('connecting');
    let ws;
    try {
      ws = new this._Socket(this.url, [SUBPROTOCOL]);
    } catch (error) {
      this._lost(null);
      return;
    }
    this._ws = ws;
    const helloTimer = setTimeout(() => ws.close(), this.options.connectTimeoutMs);
    ws.onopen = () => {
      this._load().then((saved) => {
        if (this._ws !== ws) return;
        ws.send(JSON.stringify({ messageType: 'hello', use_webpush: true, broadcasts: {},
          ...(saved.uaid ? { uaid: saved.uaid } : {}) }));
      }, (error) => {
        this._error(error);
        ws.close();
      });
    };
    ws.onmessage = (event) => {
      if (this._ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(typeof event.data === 'string' ? event.data : '');
      } catch {
        return; // the service speaks JSON text only; anything else is ignored
      }
      if (!msg || typeof msg !== 'object') return;
      if (msg.messageType === 'hello') {
        clearTimeout(helloTimer);
        void this._hello(ws, msg);
      } else if (msg.messageType === 'register' || msg.messageType === 'unregister') {
        this._reply(`${msg.messageType}:${msg.channelID}`, msg);
      } else if (msg.messageType === 'notification') {
        void this._serially(() => this._notification(ws, msg));
      } else if (msg.messageType === undefined && Object.keys(msg).length === 0) {
        clearTimeout(this._pongTimer); // the answer to our ping
      }
    };
    ws.onclose = (event) => {
      clearTimeout(helloTimer);
      if (this._ws === ws) this._lost(event.code);
    };
    ws.onerror = () => {}; // onclose follows
  }

  async _hello(ws, msg) {
    if (msg.status !== 200 || typeof msg.uaid !== 'string') {
      ws.close();
      return;
    }
    try {
      await this._serially(async () => {
        if (this._ws !== ws) return;
        const saved = await this._load();
        if (saved.uaid !== msg.uaid) {
          // A new uaid: the service no longer knows our old one (autopush resets a uaid it dropped), and with it
          // any registration. A channel we had is re-registered below as a new subscription.
          await this.store.set(STORE_KEY, { ...saved, uaid: msg.uaid });
        }
        this._attempt = 0;
        this._setState('open');
        this._pingTimer = setInterval(() => this._ping(ws), this.options.pingIntervalMs);
        await this._restore(saved.uaid === msg.uaid);
      });
    } catch (error) {
      this._error(error);
    }
  }

  /**
   * After a hello that gave us another uaid (autopush issues a new one when it dropped ours, and our registration
   * with it): the channel we had is registered anew, with fresh keys, and that is a subscriptionchange. With our
   * uaid echoed, the registration stands, as Firefox assumes: registering again would give another endpoint
   * string at autopush (its endpoints are encrypted tokens) and so a new card at every reload.
   */
  async _restore(sameUaid) {
    const saved = await this._load();
    if (sameUaid || !saved.channelID) return;
    const subscription = await this._subscribeNew(saved, this.core.base64urlDecode(saved.applicationServerKey));
    this.dispatchEvent(Object.assign(new Event('subscriptionchange'), { subscription }));
  }

  _ping(ws) {
    if (this._ws !== ws || ws.readyState !== 1) return;
    ws.send('{}');
    clearTimeout(this._pongTimer);
    this._pongTimer = setTimeout(() => ws.close(), this.options.pongTimeoutMs);
  }

  _lost(code) {
    this._ws = null;
    clearInterval(this._pingTimer);
    clearTimeout(this._pongTimer);
    for (const [key, r] of this._replies) {
      this._replies.delete(key);
      clearTimeout(r.timer);
      r.reject(new PushPeerError('PUSH_UNREACHABLE', 'the connection to the push service dropped'));
    }
    if (this._state === 'closed') return;
    if (code === CLOSE_REPLACED) {
      // Another page of this store holds our uaid now; it hears our pushes and tells every page (the
      // BroadcastChannel). Taking it back at once would make the two pages take turns: we do when we are shown.
      this._setState('replaced');
      return;
    }
    const delay = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** this._attempt++) *
      (0.5 + Math.random() / 2);
    this._setState('waiting');
    this._retryTimer = setTimeout(() => this._connect(), delay);
  }

  _reconnectNow() {
    this._attempt = 0;
    this._connect();
  }

  _request(kind, channelID, message) {
    const ws = this._ws;
    if (this._state !== 'open' || !ws) return Promise.reject(new PushPeerError('PUSH_UNREACHABLE', 'not connected to the push service'));
    const key = `${kind}:${channelID}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._replies.delete(key);
        reject(new PushPeerError('PUSH_UNREACHABLE', `no ${kind} answer from the push service within ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this._replies.set(key, { resolve, reject, timer });
      ws.send(JSON.stringify({ messageType: kind, channelID, ...message }));
    });
  }

  _reply(key, msg) {
    const r = this._replies.get(key);
    if (!r) return;
    this._replies.delete(key);
    clearTimeout(r.timer);
    r.resolve(msg);
  }

  /** Registers channelID with the key (base64url); resolves to the endpoint. */
  async _register(channelID, keyText) {
    const reply = await this._request('register', channelID, { key: padded(keyText) });
    if (reply.status !== 200 || typeof reply.pushEndpoint !== 'string') {
      throw new PushPeerError('SUBSCRIBE_FAILED', `the push service refused the registration: ${reply.status} ${reply.error ?? ''}`);
    }
    return reply.pushEndpoint;
  }

  async _subscribeNew(saved, key) {
    const keyText = this.core.base64urlEncode(key);
    const channelID = crypto.randomUUID();
    const endpoint = await this._register(channelID, keyText);
    const pair = this.core.generateVapidKeys();
    const next = { url: this.url, uaid: saved.uaid, channelID, applicationServerKey: keyText, endpoint,
      keys: { privateKey: pair.privateKey, publicKey: pair.publicKey, auth: crypto.getRandomValues(new Uint8Array(16)) } };
    await this.store.set(STORE_KEY, next); // the store keeps its own copy: ours is wiped
    pair.privateKey.fill(0);
    return subscriptionJson(this.core, next);
  }

  // --- the API ---------------------------------------------------------------------------------------------------

  /**
   * A subscription for `applicationServerKey` (bytes or base64url): { endpoint, expirationTime, keys: { p256dh,
   * auth } }, as PushSubscription.toJSON() gives it. The saved one while its key is the same (the endpoint on our
   * card stays valid across reloads); otherwise a new channel with fresh keys (the old one is unregistered).
   * Waits up to connectTimeoutMs for the connection; PUSH_UNREACHABLE, SUBSCRIBE_FAILED.
   */
  async subscribe(applicationServerKey) {
    const k = applicationServerKey;
    const key = typeof k === 'string' ? this.core.base64urlDecode(k)
      : ArrayBuffer.isView(k) ? new Uint8Array(k.buffer, k.byteOffset, k.byteLength).slice()
        : k instanceof ArrayBuffer ? new Uint8Array(k.slice(0)) : null;
    if (key?.length !== 65 || key[0] !== 4) {
      throw new PushPeerError('BAD_KEY', 'applicationServerKey must be an uncompressed P-256 public key (65 bytes)');
    }
    await this._whenOpen();
    return this._serially(async () => {
      const saved = await this._load();
      if (saved.channelID && saved.applicationServerKey === this.core.base64urlEncode(key)) return subscriptionJson(this.core, saved);
      if (saved.channelID) await this._request('unregister', saved.channelID, { code: 200 }).catch(() => {});
      return this._subscribeNew(saved, key);
    });
  }

  /** Unregisters our channel at the push service and forgets its keys (the uaid stays). Resolves to true if one was. */
  async unsubscribe() {
    await this._whenOpen();
    return this._serially(async () => {
      const saved = await this._load();
      if (!saved.channelID) return false;
      await this._request('unregister', saved.channelID, { code: 200 });
      await this.store.set(STORE_KEY, { url: this.url, uaid: saved.uaid });
      return true;
    });
  }

  /** Closes the connection and stops reconnecting. The subscription stays: the next page reconnects to it. */
  close() {
    if (this._state === 'closed') return;
    this._setState('closed');
    clearTimeout(this._retryTimer);
    const ws = this._ws;
    this._lost(null);
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      ws.close(1000);
    }
    globalThis.removeEventListener?.('online', this._onOnline);
    globalThis.document?.removeEventListener('visibilitychange', this._onVisible);
    if (this._ownStore) void this._serial.then(() => this.store?.close?.());
  }

  // --- a push ----------------------------------------------------------------------------------------------------

  /** What the worker's push event does (sw/handler.js), then the ack the browser would send. */
  async _notification(ws, msg) {
    let code = ACK_DELIVERED;
    const saved = await this._load().catch((error) => {
      this._error(error);
      return null;
    });
    if (!saved || msg.channelID !== saved.channelID) {
      code = ACK_NOT_DELIVERED; // not ours (any more): the service may drop it
    } else if (typeof msg.data === 'string' && msg.data.length > 0) {
      let plaintext = null;
      try {
        plaintext = this.core.decrypt({ ...saved.keys, body: this.core.base64urlDecode(msg.data.replace(/=+$/, '')) });
      } catch (error) {
        code = ACK_DECRYPT_FAILED;
        await refuseEnvelope({ store: this.store, storeName: this.storeName, error, bytes: 0 });
      } finally {
        saved.keys.privateKey.fill(0);
      }
      if (plaintext) {
        // Refused: recorded, never acted on; delivered all the same (the worker's push event also ends well).
        await deliverEnvelope({ core: this.core, store: this.store, storeName: this.storeName, data: plaintext });
      }
    }
    if (this._ws === ws && ws.readyState === 1) {
      ws.send(JSON.stringify({ messageType: 'ack', updates: [{ channelID: msg.channelID, version: msg.version, code }] }));
    }
  }
}
