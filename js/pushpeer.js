// The page API: a PushPeer owns an identity (a P-256 key that is also its VAPID key), a push subscription made with
// that key, and a card others use to reach it. connect(card) sends one push (the offer) and waits for one push
// back (the answer); the service worker (sw/handler.js) receives both, even with no tab open.
//
//   const peer = await PushPeer.create({ serviceWorker: await navigator.serviceWorker.register('sw.js',
//     { type: 'module' }), subject: 'mailto:me@example.com', name: 'Alice' });
//   peer.card().link                                    // share it
//   peer.addEventListener('request', (e) => e.accept()); // or decline(), or later: peer.requests()
//   peer.addEventListener('connection', (e) => e.connection.send('hi'));
//   const conn = await peer.connect(cardOfBob);         // RTCDataChannel open
//
// A card is a capability handed to strangers (docs/PROTOCOL.md §7.4): a request is answered only when the app
// accepts it (autoAccept is off by default), a stranger becomes a peer only then, and declining a stranger sends
// nothing to the endpoint their card names.
import { loadCore } from './core.js';
import { PushPeerError } from './errors.js';
import { cardHostPolicy, cardNeedsRenewal, issueCard, keepPeerCard, sendCardToPeers } from './card.js';
import { channelName } from './push/reception.js';
import { createConnection, DEFAULT_GATHER_TIMEOUT_MS, HEARTBEAT_MS, isPolite, localSdp, PEER_GONE_MS } from './connection/connection.js';
import { createPushSender, DEFAULT_TTL } from './push.js';
import { claimIsDead, lockName, tryHold } from './locks.js';
import { DEFAULT_STORE_NAME, openStore, sessionKey } from './store/store.js';

const DEFAULTS = {
  gatherTimeoutMs: DEFAULT_GATHER_TIMEOUT_MS,
  answerTimeoutMs: 30_000, // per attempt: from the offer's push to the answer's arrival
  offerRetries: 1, // offers sent again (same session) when no answer came in time
  reconnects: 1, // new offers (same session) when the answer came but the callee's page went away before it opened
  openTimeoutMs: 20_000, // answer applied -> data channel open (the callee waits answerTimeoutMs longer: §7.1)
  offerMaxAge: 600, // seconds: older offers in the inbox are not answered (the caller gave up)
  refreshIntervalMs: 6 * 3600 * 1000, // how often an open page checks that its card's grants are fresh
  subscriptionCheckMs: 60_000, // how often an open page checks that its push subscription still exists
  heartbeatMs: HEARTBEAT_MS, // pings on an open connection's control channel...
  peerGoneMs: PEER_GONE_MS, // ...and how long without a frame before it is closed as 'peer gone'
  autoAccept: false, // answer requests no listener decided on: only for apps whose every card holder is trusted
  allowPushHosts: [], // push services besides the known ones that cards may name (e.g. a local one in tests)
};

// The worker shows a (silent) notification for every push, even while a page is visible (browsers count pushes
// that show none); a visible page that took the message closes it, but only after Firefox's 3-second check
// (dom.push.quotaUpdateDelay) has seen it (docs/PROTOCOL.md §7.5).
const NOTIFICATION_LINGER_MS = 5000;

/**
 * What a call waits on: the answer, a bye, or PushPeer.close(). next(ms) resolves to the next answer or bye that
 * arrived for the call (deliver), or to null after ms; it rejects once the PushPeer is closed. stop() drops a
 * pending next().
 */
function waitingCall() {
  const queue = [];
  let waiter = null;
  let failure = null;
  const call = {
    refs: [], // references of every offer sent in the session: an answer must name one of them
    deliver(item) {
      if (waiter) waiter.resolve(item);
      else queue.push(item);
    },
    reject(error) {
      failure = error;
      waiter?.reject(error);
    },
    next(ms) {
      if (failure) return Promise.reject(failure);
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(null), ms);
        const done = (item) => {
          clearTimeout(timer);
          waiter = null;
          resolve(item);
        };
        waiter = { resolve: done, reject: (error) => {
          clearTimeout(timer);
          waiter = null;
          reject(error);
        } };
      });
    },
    stop() {
      waiter?.resolve(null);
    },
  };
  return call;
}

// A request lives this long past its latest offer's answerTimeoutMs: time for a retried offer to arrive
// (docs/PROTOCOL.md §7.1).
export const REQUEST_GRACE_MS = 5000;

// A bye's body: empty, the callee declines; BYE_GONE, the callee's page went away after it answered (offer again).
const BYE_GONE = 1;
const isGone = (item) => item.body?.length === 1 && item.body[0] === BYE_GONE;

/** An accepted request whose page may have gone away before answering (_offer checks the claim's lock). */
const takeable = (item) => item.type === 'offer' && item.state === 'claimed' && item.accepted === true;

const expiredError = () => new PushPeerError('EXPIRED', 'the caller stopped waiting: call them back instead');

const ownerId = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');

const sameBytes = (a, b) => a && b && a.length === b.length && a.every((x, i) => x === b[i]);

function defaultSubject() {
  const origin = globalThis.location?.origin ?? '';
  return origin.startsWith('https://') ? origin : 'mailto:anonymous@pushpeer.invalid';
}

/**
 * A pending incoming request: accept() or decline() it, or call preventDefault() and decide later (it stays in
 * the inbox; peer.requests() lists it again, also after a reload) until it expires (expiresAt).
 */
export class RequestEvent extends Event {
  constructor(peer, item) {
    super('request', { cancelable: true });
    /** The inbox id of the request. */
    this.id = item.id;
    this.from = { name: item.name ?? '', keyId: item.from };
    /** True when the caller is a peer of ours already (we accepted them before, called them, or saved them). */
    this.known = Boolean(item.knownPeer);
    this.sessionId = item.sessionId;
    this.received = item.received;
    /** Seconds since the caller sealed the offer; the caller gives up after offerMaxAge. */
    this.age = Math.max(0, Math.floor(Date.now() / 1000) - item.timestamp);
    this._peer = peer;
    this._item = item;
    this._decided = null;
    this._expired = false;
  }

  /** ms since the epoch after which the caller no longer waits (a retried offer moves it later). */
  get expiresAt() {
    return this._peer._expiresAt(this._item);
  }

  /**
   * Answers the offer (one push): resolves to the Connection once its data channel is open. Fails with EXPIRED,
   * sending nothing, once the caller stopped waiting.
   */
  accept(options = {}) {
    if (this._expired) return Promise.reject(expiredError());
    this._decided ??= this._peer._accept(this._item, options);
    return this._decided;
  }

  /**
   * Declines. The caller is told (one push, a `bye`) only when it is a known peer or `notify` is true: a stranger's
   * card names an endpoint of their choosing, so by default nothing is sent to it and the caller times out.
   */
  decline({ notify = this.known } = {}) {
    if (this._expired) return Promise.resolve(null); // the caller is not waiting: nothing to tell
    this._decided ??= this._peer._decline(this._item, { notify }).then(() => null);
    return this._decided;
  }
}

export class PushPeer extends EventTarget {
  /**
   * Options: serviceWorker (ServiceWorkerRegistration, or a script URL registered as a module worker), subject
   * (VAPID sub: 'mailto:' or 'https:'), name (shown to others), iceServers, relay (URL of a js/relay.js relay),
   * relayMode, store (a store object, or { name } of the IndexedDB database), subscribe (function(key) ->
   * PushSubscription(JSON), to use a subscription made elsewhere), core (a loaded core), appUrl (opened from a
   * notification), linkBase (where card links point, default this page), autoAccept, allowPushHosts, and the
   * timeouts in DEFAULTS.
   */
  static async create(options = {}) {
    const peer = new PushPeer(options);
    await peer._init();
    return peer;
  }

  constructor(options) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.owner = ownerId();
    this.connections = new Set();
    this._pending = new Map(); // sessionKey(callee, session) -> outgoing call waiting for its answer
    this._answering = new Map(); // sessionKey(caller, session) -> our live callee-side Connection
    this._callOf = new WeakMap(); // callee-side Connection -> the call it answers (for a bye as the page goes)
    this._requests = new Map(); // inbox id -> RequestEvent not decided yet
    this._handled = new Set(); // inbox ids this page already looked at
    this._expiredIds = new Set(); // inbox ids of requests this page saw expire (requestexpired fires once)
    this._closed = false;
  }

  async _init() {
    const o = this.options;
    if (!Array.isArray(o.allowPushHosts)) throw new PushPeerError('BAD_ARGUMENT', 'allowPushHosts must be an array');
    this.core = o.core ?? await loadCore(o.coreOptions);
    this.store = typeof o.store?.get === 'function' ? o.store : await openStore({ name: o.store?.name ?? DEFAULT_STORE_NAME });
    const storeName = this.store.name ?? DEFAULT_STORE_NAME;
    this._storeName = storeName;
    this.registration = await this._registration(o.serviceWorker);

    let identity = await this.store.get('identity');
    if (!identity) {
      identity = { ...this.core.generateVapidKeys(), created: Date.now() };
      await this.store.set('identity', identity);
    }
    this.identity = identity;
    this.keyId = this.core.base64urlEncode(this.core.keyIdOf(identity.publicKey));
    await this._ensureCard();

    this.sender = createPushSender({ core: this.core, relay: this.config.relay, relayMode: this.config.relayMode,
      allowPushHosts: this.config.allowPushHosts, onEvent: (e) => this._emit('push', { detail: e }) });

    if (typeof BroadcastChannel !== 'undefined') {
      this._channel = new BroadcastChannel(channelName(storeName));
      this._channel.onmessage = (e) => {
        if (e.data?.pushpeer === 'inbox') void this._inboxItem(e.data.id);
        else if (e.data?.pushpeer === 'subscription') void this._reloadCard();
        else if (e.data?.pushpeer === 'rejected') this._emit('rejected', { code: e.data.code, message: e.data.message });
      };
    }
    // The subscription can go without a word to the page (Firefox drops one whose quota ran out and tells the
    // worker only after the next visit): look when the page becomes visible and every subscriptionCheckMs; grants
    // running out are caught by the same check.
    const check = () => void this._ensureCard().catch((error) => this._error(error));
    this._refreshTimer = setInterval(check, Math.min(this.options.refreshIntervalMs, this.options.subscriptionCheckMs));
    this._onVisible = () => globalThis.document?.visibilityState === 'visible' && check();
    globalThis.document?.addEventListener('visibilitychange', this._onVisible);
    // A page that goes away says so on every open connection (the peers learn it at once, with the reason).
    this._onPageHide = () => {
      for (const c of this.connections) c.close('page closed');
      // A call we answered that has not opened yet: the caller would wait for nothing. A bye now (sent with
      // keepalive, so it outlives the page) makes it offer again at once, and our next page answers that.
      for (const c of this._answering.values()) {
        const call = this._callOf.get(c);
        if (c.closed || c.channel.readyState === 'open' || !call) continue;
        this.sender.sendBeacon(this._byeFor(call, { gone: true }));
        c.close('page closed');
      }
    };
    globalThis.addEventListener?.('pagehide', this._onPageHide);
    // Whatever arrived while no page was open (the notification's click brings us here). In a task of its own,
    // so that listeners added right after `await PushPeer.create()` see the requests.
    setTimeout(() => void this.processInbox().catch((error) => this._error(error)), 0);
  }

  async _registration(sw) {
    if (sw && typeof sw === 'object' && 'pushManager' in sw) return sw;
    if (!globalThis.navigator?.serviceWorker) {
      if (this.options.subscribe) return null;
      throw new PushPeerError('NOT_SUPPORTED', 'service workers are not available (a secure context is needed)');
    }
    if (typeof sw === 'string' || sw instanceof URL) {
      await navigator.serviceWorker.register(sw, { type: 'module' });
    } else if (sw !== undefined) {
      throw new PushPeerError('BAD_ARGUMENT', 'serviceWorker must be a ServiceWorkerRegistration or a script URL');
    }
    return navigator.serviceWorker.ready;
  }

  async _subscription() {
    const key = this.identity.publicKey;
    if (this.options.subscribe) {
      // Asked once per PushPeer: the periodic card check must not make a new subscription each time.
      this._given ??= await this.options.subscribe(key);
      return this._given.toJSON ? this._given.toJSON() : this._given;
    }
    const pm = this.registration.pushManager;
    let s = await pm.getSubscription();
    const same = (k) => k && new Uint8Array(k).every((b, i) => b === key[i]) && k.byteLength === key.length;
    if (s && !same(s.options?.applicationServerKey)) {
      await s.unsubscribe();
      s = null;
    }
    try {
      s ??= await pm.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    } catch (error) {
      throw new PushPeerError(error?.name === 'NotAllowedError' ? 'PERMISSION_DENIED' : 'SUBSCRIBE_FAILED',
        `pushManager.subscribe failed: ${error?.name ?? ''} ${error?.message ?? error}`, { cause: error });
    }
    return s.toJSON();
  }

  /** Saves the config the worker needs and makes sure our card is current; resolves to its bytes. */
  async _ensureCard() {
    const o = this.options;
    const stored = (await this.store.get('config')) ?? {};
    this.config = {
      subject: o.subject ?? stored.subject ?? defaultSubject(),
      name: o.name ?? stored.name ?? '',
      relay: o.relay !== undefined ? o.relay : stored.relay ?? null,
      relayMode: o.relayMode ?? stored.relayMode ?? 'auto',
      appUrl: o.appUrl ?? stored.appUrl ?? globalThis.location?.href.split('#')[0] ?? null,
      allowPushHosts: o.allowPushHosts,
    };
    cardHostPolicy(this.config); // a malformed allowPushHosts entry fails here, not in the worker
    await this.store.set('config', this.config);
    const subscription = await this._subscription();
    const previous = await this.store.get('card');
    let card = previous;
    if (cardNeedsRenewal(card, { core: this.core, endpoint: subscription.endpoint, config: this.config })) {
      card = await issueCard({ core: this.core, store: this.store, identity: this.identity, subscription,
        config: this.config });
      // Live peers get the new card over their control channel: no push.
      for (const c of this.connections) c.sendControl({ t: 'card', card: card.text });
      if (previous && previous.endpoint !== card.endpoint) {
        // The subscription was lost and replaced: the old card's endpoint is dead, so every peer gets the new one.
        this._card = card;
        this._emit('cardchange', { card: this.card() });
        sendCardToPeers({ core: this.core, store: this.store, identity: this.identity, config: this.config, card })
          .catch((error) => this._error(error));
      }
    }
    this._card = card;
    return card.bytes;
  }

  /**
   * Changes our display name, without a reload and keeping live calls: a new card (the core's text rules hold:
   * BAD_TEXT), saved in the config the worker reads; live peers get it over their connection's control channel
   * (their `remotechange`), everyone else with our next offer (offers carry our card); 'cardchange' fires.
   */
  async setName(name) {
    if (name === this.config.name) return;
    // Checked before anything is stored: a card with our current one's fields and the new name.
    const current = this.core.decodeCard(this._card.bytes);
    this.core.createCard({ identity: this.identity, subject: current.subject, name, grants: current.grants,
      subscription: { endpoint: current.endpoint, keys: { p256dh: this.core.base64urlEncode(current.p256dh),
        auth: this.core.base64urlEncode(current.auth) } } });
    this.options.name = name; // _ensureCard prefers it over the stored name
    await this._ensureCard();
    this._emit('cardchange', { card: this.card() });
  }

  /** The worker re-subscribed and issued a new card (pushsubscriptionchange, or a rotation after abuse). */
  async _reloadCard() {
    const card = await this.store.get('card');
    if (!card) return;
    this._card = card;
    for (const c of this.connections) c.sendControl({ t: 'card', card: card.text });
    this._emit('cardchange', { card: this.card() });
  }

  /** Our card: bytes, base64url text, and a link (`#card=<text>`) that opens this app. */
  card() {
    const base = this.options.linkBase ?? globalThis.location?.href.split('#')[0] ?? '';
    return { bytes: this._card.bytes.slice(), text: this._card.text, link: `${base}#card=${this._card.text}` };
  }

  /** Our peers: people we accepted a call from, called, or saved. */
  async peers() {
    return (await this.store.peers()).map(({ keyId, name, updated, gone }) => ({ keyId, name, updated, gone: Boolean(gone) }));
  }

  /** Keeps a card's owner as a peer (they get our new card when it changes); resolves to its key id. */
  async savePeer(card) {
    const bytes = await this._cardOf(card);
    const remote = this.core.decodeCard(bytes);
    const keyId = this.core.base64urlEncode(remote.keyId);
    if (keyId === this.keyId) throw new PushPeerError('BAD_ARGUMENT', 'that is our own card');
    await this._keepPeer(keyId, bytes, remote);
    return keyId;
  }

  /** Forgets a peer: their card, so that they are a stranger again. */
  async forgetPeer(keyId) {
    await this.store.deletePeer(keyId);
  }

  async _keepPeer(keyId, bytes, decoded = this.core.decodeCard(bytes)) {
    const known = await this.store.getPeer(keyId);
    await keepPeerCard(this.store, known, { keyId, identity: decoded.identity, bytes, card: decoded });
  }

  /**
   * Calls the card's owner: one push with our offer, one push back with the answer. Options: media (a
   * MediaStream sent from the start), timeouts (answerTimeoutMs, offerRetries, gatherTimeoutMs, openTimeoutMs),
   * reconnects. Resolves to a Connection whose data channel is open. Fails with PushPeerError: BAD_CARD,
   * NO_USABLE_GRANT, HOST_NOT_ALLOWED, PEER_GONE, RATE_LIMITED, PUSH_FAILED, PUSH_UNREACHABLE, TIMEOUT (no answer),
   * DECLINED, NOT_CONNECTED, ABORTED (options.signal: the connection is closed and nothing more is sent; an aborted
   * signal sends nothing).
   *
   * If the answer came but the callee's page went away before the connection opened (it says so with a bye as it
   * goes, or the connection fails), the call is offered again at once with a new RTCPeerConnection, in the same
   * session: the callee's next page answers it without asking the person again (`reconnects` times, default 1).
   */
  async connect(card, options = {}) {
    const { signal, ...rest } = options;
    const o = { ...this.options, ...rest };
    const aborted = () => new PushPeerError('ABORTED', `the call was aborted${signal.reason?.message ? `: ${signal.reason.message}` : ''}`,
      { cause: signal.reason });
    if (signal?.aborted) throw aborted();
    const cardBytes = await this._cardOf(card);
    const remote = this.core.decodeCard(cardBytes);
    const keyId = this.core.base64urlEncode(remote.keyId);
    if (keyId === this.keyId) throw new PushPeerError('BAD_ARGUMENT', 'that is our own card');
    if (!this.sender.allows(remote.endpoint)) {
      throw new PushPeerError('HOST_NOT_ALLOWED', `${new URL(remote.endpoint).origin} is not a known push service`);
    }
    // We chose to call them: they are a peer (their answer names them by key id only).
    await this._keepPeer(keyId, cardBytes, remote);
    const sessionBytes = crypto.getRandomValues(new Uint8Array(8));
    const sessionId = this.core.base64urlEncode(sessionBytes);
    const key = sessionKey(keyId, sessionId);
    const topic = this.core.pushTopic('offer', remote.keyId, sessionBytes);
    const pending = waitingCall();
    this._pending.set(key, pending);
    const started = Date.now();
    let sequence = 0;
    let connection = null;
    // An abort settles whatever the call waits on (gathering, a push, the answer, the channel) at once.
    let onAbort;
    const abortedWait = new Promise((_, reject) => {
      onAbort = () => {
        const error = aborted();
        pending.reject(error);
        reject(error);
      };
    });
    abortedWait.catch(() => {});
    signal?.addEventListener('abort', onAbort);
    const step = (promise) => (signal ? Promise.race([promise, abortedWait]) : promise);
    try {
      if (signal?.aborted) throw aborted(); // while the card was read
      for (let leg = 0; ; leg++) {
        connection = createConnection({ iceServers: o.iceServers, polite: isPolite(this.identity.publicKey,
          remote.identity), remote: { name: remote.name, keyId, identity: remote.identity }, sessionId, role: 'caller',
        media: o.media, heartbeatMs: o.heartbeatMs, peerGoneMs: o.peerGoneMs, log: (m) => this._emit('log', { message: m }) });
        this._emit('connecting', { connection, role: 'caller' });
        this._emit('progress', { sessionId, step: 'gathering', attempt: leg });
        const { sdp } = await step(localSdp(connection.pc, o.gatherTimeoutMs));
        const body = this.core.packSdp(sdp);
        pending.refs = []; // an answer must name an offer of this leg: one for an earlier connection cannot open this
        let answer = null;
        for (let attempt = 0; attempt <= o.offerRetries && !answer; attempt++) {
          const envelope = this.core.sealEnvelope({ type: 'offer', privateKey: this.identity.privateKey, body,
            recipient: remote.keyId, sessionId: sessionBytes, sequence: sequence++, card: this._card.bytes });
          pending.refs.push(this.core.envelopeReference(envelope));
          // Sealed, then pushed: a timeline shows the two steps in the order they happen.
          this._emit('progress', { sessionId, step: 'offer-sealed', bytes: envelope.length, sdpBytes: body.length, attempt });
          const sent = await step(this.sender.send({ card: cardBytes, payload: envelope, topic, ttl: DEFAULT_TTL }));
          // For a countdown: when this attempt stops waiting, and when the call gives up if no answer comes.
          const answerBy = Date.now() + o.answerTimeoutMs;
          this._emit('progress', { sessionId, step: 'offer-sent', bytes: envelope.length, sdpBytes: body.length,
            attempt, via: sent.via, ms: Date.now() - started, answerBy,
            giveUpAt: answerBy + (o.offerRetries - attempt) * o.answerTimeoutMs });
          answer = await pending.next(o.answerTimeoutMs);
        }
        if (!answer) throw new PushPeerError('TIMEOUT', `no answer after ${o.offerRetries + 1} offer(s)`);
        let gone = null;
        if (answer.type === 'bye' && !isGone(answer)) throw new PushPeerError('DECLINED', `${remote.name || 'the peer'} declined`);
        if (answer.type === 'bye') {
          // The callee's page went away (its bye may overtake its answer): offer again at once.
          gone = "the callee's page went away";
        } else {
          this._emit('progress', { sessionId, step: 'answer-received', ms: Date.now() - started });
          await step(connection.pc.setRemoteDescription({ type: 'answer', sdp: this.core.unpackSdp(answer.body) }));
          connection.signalingDone();
          gone = await step(this._openOrGone(connection, pending, o.openTimeoutMs));
        }
        if (signal?.aborted) throw aborted();
        if (!gone) break;
        connection.close(gone);
        if (leg >= o.reconnects) {
          throw new PushPeerError('NOT_CONNECTED', `the connection did not open: ${gone}`);
        }
        this._emit('progress', { sessionId, step: 'reoffer', reason: gone, ms: Date.now() - started });
      }
      this._register(connection);
      this._emit('progress', { sessionId, step: 'open', ms: Date.now() - started });
      return connection;
    } catch (error) {
      connection?.close(error?.code === 'ABORTED' ? 'aborted' : 'connect failed');
      if (error?.code === 'PEER_GONE') {
        // Their subscription is gone: their card is useless until they send a new one.
        const peer = await this.store.getPeer(keyId);
        if (peer) await this.store.putPeer({ ...peer, gone: true });
        this._emit('peergone', { keyId, name: remote.name, status: error.status });
      }
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this._pending.delete(key);
    }
  }

  /**
   * Waits for the caller's connection to open after the answer was applied. Resolves to null once it is open, or to
   * the reason it will not (the callee's page said bye as it went away, the connection closed or failed); rejects
   * with NOT_CONNECTED after timeoutMs.
   */
  _openOrGone(connection, pending, timeoutMs) {
    return new Promise((resolve, reject) => {
      const finish = (value, error) => {
        clearTimeout(timer);
        connection.removeEventListener('close', onClose);
        connection.removeEventListener('statechange', onState);
        pending.stop();
        if (error) reject(error);
        else resolve(value);
      };
      const timer = setTimeout(() => finish(null, new PushPeerError('NOT_CONNECTED',
        `the data channel did not open within ${timeoutMs} ms (ICE ${connection.pc.iceConnectionState})`)), timeoutMs);
      const onClose = (e) => finish(`closed before it opened (${e.reason})`);
      const onState = (e) => e.state === 'failed' && finish('the connection failed before it opened');
      connection.addEventListener('close', onClose);
      connection.addEventListener('statechange', onState);
      connection.opened.then(() => finish(null), () => {});
      pending.next(timeoutMs).then((item) => item?.type === 'bye' && finish(isGone(item) ? "the callee's page went away"
        : 'declined after answering'), (error) => finish(null, error));
    });
  }

  /** Card bytes from bytes, text, a #card= link, or the key id of a known peer (its latest card). */
  async _cardOf(card) {
    if (typeof card === 'string' && /^[A-Za-z0-9_-]{11}$/.test(card)) {
      const peer = await this.store.getPeer(card);
      if (!peer) throw new PushPeerError('UNKNOWN_SENDER', `no known peer with key id ${card}`);
      return peer.card;
    }
    if (typeof card === 'string') return this.core.base64urlDecode(/[#&]card=([A-Za-z0-9_-]+)/.exec(card)?.[1] ?? card);
    return card?.bytes ?? card;
  }

  async _opened(connection, timeoutMs) {
    let timer;
    try {
      await Promise.race([connection.opened, new Promise((_, reject) => {
        timer = setTimeout(() => reject(new PushPeerError('NOT_CONNECTED',
          `the data channel did not open within ${timeoutMs} ms (ICE ${connection.pc.iceConnectionState})`)), timeoutMs);
      })]);
    } finally {
      clearTimeout(timer);
    }
    this._register(connection);
  }

  /** An open connection joins `connections` (until it closes) and the app hears of it. */
  _register(connection) {
    this.connections.add(connection);
    connection.addEventListener('close', () => this.connections.delete(connection));
    connection.addEventListener('card', (e) => void this._peerCard(connection, e.card));
    this._emit('connection', { connection });
  }

  /** A live peer's new card (fresh grants, new endpoint): kept if it is theirs. */
  async _peerCard(connection, text) {
    try {
      const card = this.core.decodeCard(text);
      if (this.core.base64urlEncode(card.keyId) !== connection.remote.keyId) return;
      await this._keepPeer(connection.remote.keyId, this.core.base64urlDecode(text), card);
      connection.updateRemote({ name: card.name });
    } catch (error) {
      this._error(error);
    }
  }

  /** Looks at every inbox item not yet handled: answers to our calls, offers to us. */
  async processInbox() {
    for (const item of await this.store.inbox()) {
      if (item.state === 'new' || takeable(item)) await this._inboxItem(item.id);
    }
  }

  /** Requests that arrived and were not decided yet (also those from before a reload), oldest first; not expired. */
  async requests() {
    await this.processInbox();
    return [...this._requests.values()].filter((r) => !r._expired && Date.now() < r.expiresAt);
  }

  /**
   * When the caller of a request stops waiting (docs/PROTOCOL.md §7.1): its latest offer's arrival + answerTimeoutMs
   * (the same on both sides) + REQUEST_GRACE_MS, and never later than offerMaxAge after that offer was sealed.
   */
  _expiresAt(item) {
    return Math.min((item.lastReceived ?? item.received) + this.options.answerTimeoutMs + REQUEST_GRACE_MS,
      (item.timestamp + this.options.offerMaxAge) * 1000);
  }

  /** Looks at a request again when it is due to expire. */
  _expireLater(request) {
    clearTimeout(request._timer);
    if (this._closed) return;
    request._timer = setTimeout(() => void this._expireIfDue(request.id).catch((error) => this._error(error)),
      Math.max(0, request.expiresAt - Date.now()) + 20);
  }

  async _expireIfDue(id) {
    const request = this._requests.get(id);
    if (!request || this._closed) return;
    const item = await this.store.getInbox(id);
    if (item?.state === 'new' && Date.now() < this._expiresAt(item)) {
      request._item = item; // a retried offer this page has not looked at yet moved it later
      this._expireLater(request);
    } else if (item?.state === 'new' || item?.state === 'expired') {
      await this._expire(item);
    } else {
      this._requests.delete(id); // another page of the profile decided it
    }
  }

  /**
   * The caller stopped waiting for a request nobody decided: its inbox item is marked expired (a retry of it stays
   * so: js/push/reception.js), the request is forgotten and 'requestexpired' fires, also for one that expired while no page
   * was open (a missed call).
   */
  async _expire(item) {
    if (this._expiredIds.has(item.id)) return; // the timer and processInbox can both get here
    this._expiredIds.add(item.id);
    const request = this._requests.get(item.id) ?? new RequestEvent(this, item);
    clearTimeout(request._timer);
    this._requests.delete(item.id);
    if (item.state === 'new') {
      // Claimed first: a page accepting it at this very moment and this one do not both act on it.
      if (await this.store.claimInbox(item.id, this.owner)) await this.store.updateInbox(item.id, { state: 'expired' });
      else if ((await this.store.getInbox(item.id))?.state !== 'expired') return; // another page decided it
    }
    request._expired = true;
    this._emit('requestexpired', { request });
  }

  async _inboxItem(id) {
    if (this._closed) return;
    try {
      const item = await this.store.getInbox(id);
      if (!item) return;
      // A retried offer updates its pending item in place: look at it again, but announce it once.
      const seen = this._handled.has(id);
      this._handled.add(id);
      if (!seen) {
        // For timelines: what arrived, its size, and how long it took from the sender's seal to the worker.
        this._emit('received', { id, messageType: item.type, from: item.from, sessionId: item.sessionId,
          bytes: item.bytes ?? null, latencyMs: item.received - item.timestamp * 1000 });
      }
      this._closeNotificationLater(item.id);
      if (item.state !== 'new' && !takeable(item)) return;
      if (item.type === 'answer' || item.type === 'bye') {
        // Only the key we called, for the session we opened, naming an offer we sent (its reference).
        const pending = this._pending.get(sessionKey(item.from, item.sessionId));
        if (!pending || !pending.refs.some((r) => sameBytes(r, item.ref))) return; // another page's call, or stale
        if (!(await this.store.claimInbox(id, this.owner))) return;
        await this.store.deleteInbox(id); // taken: nothing else needs it (storage follows live calls)
        pending.deliver(item);
      } else if (item.type === 'offer') {
        await this._offer(item);
      }
    } catch (error) {
      this._error(error);
    }
  }

  async _offer(item) {
    const key = sessionKey(item.from, item.sessionId);
    const session = await this.store.getSession(key);
    if (!session && (await this.store.callItems(item.from, item.sessionId)).some((i) => i.opened)) {
      // The call opened already: an offer that was retried while our answer was on its way. Nothing to do.
      if (await this.store.claimInbox(item.id, this.owner)) await this.store.updateInbox(item.id, { state: 'done' });
      return;
    }
    if (session?.answer) {
      await this._offerAgain(item, session);
      return;
    }
    if (item.state === 'claimed') {
      // Accepted by a page that went away before it answered: this page answers, without asking again.
      if (item.accepted && await claimIsDead(lockName(this._storeName, 'claim', item.id), item.claimedAt, this.options.lockManager)) {
        this._take(item, { takeOver: item.owner }, (current) => this._answer(current, {})).catch(this._unlessHandled);
      }
      return;
    }
    if (Date.now() >= this._expiresAt(item)) {
      await this._expire(item);
      return;
    }
    const existing = this._requests.get(item.id);
    if (existing) {
      existing._item = item; // a retry of a request not decided yet: the newest offer is the one to answer
      this._expireLater(existing); // ... and it lives longer
      return;
    }
    const request = new RequestEvent(this, item);
    this._requests.set(item.id, request);
    this._expireLater(request);
    this.dispatchEvent(request);
    if (!request._decided && !request.defaultPrevented && this.options.autoAccept === true) {
      request.accept().catch((error) => this._error(error));
    }
  }

  /**
   * The caller offered again in a call we answered. The same offer again means our answer was lost: it goes again
   * (from the page that holds the connection). A new offer means the caller's connection did not open (our page went
   * away, or the path failed): it is answered anew, by this page if the page that answered is gone.
   */
  async _offerAgain(item, session) {
    const key = sessionKey(item.from, item.sessionId);
    const live = this._answering.get(key);
    const same = sameBytes(session.offerBody, item.body);
    if (live && !live.closed && same) {
      if (!(await this.store.claimInbox(item.id, this.owner))) return;
      await this.store.updateInbox(item.id, { state: 'done' });
      const peer = await this.store.getPeer(item.from);
      await this.sender.send({ card: peer.card, payload: session.answer,
        topic: this.core.pushTopic('answer', this.core.base64urlDecode(item.from), this.core.base64urlDecode(item.sessionId)) });
      return;
    }
    if (live && !live.closed) {
      live.close('offered again');
    } else if (!(await claimIsDead(lockName(this._storeName, 'session', key), session.at, this.options.lockManager))) {
      return; // another page of this profile holds the call and answers it
    }
    this._take(item, {}, (current) => this._answer(current, {})).catch(this._unlessHandled);
  }

  /**
   * Takes an inbox item for this page: its Web Lock (so that a page that goes away lets go of it at once), then the
   * claim in the store, then work(item), holding the lock until work settles. Fails with ALREADY_HANDLED when
   * another page has it.
   */
  async _take(item, claim, work) {
    const release = await tryHold(lockName(this._storeName, 'claim', item.id), this.options.lockManager);
    try {
      if (!release || !(await this.store.claimInbox(item.id, this.owner, claim))) {
        throw new PushPeerError('ALREADY_HANDLED', 'another page of this app answered or declined this request');
      }
      return await work(await this.store.getInbox(item.id));
    } finally {
      release?.();
    }
  }

  /** accept(): exactly one page of this profile takes the request. */
  async _accept(item, options) {
    const request = this._requests.get(item.id);
    clearTimeout(request?._timer);
    this._requests.delete(item.id);
    return this._take(item, { accepted: true }, async (current) => {
      if (Date.now() >= this._expiresAt(current)) {
        // The caller stopped waiting (its timer had not run yet): nothing is sent.
        await this.store.updateInbox(current.id, { state: 'expired' });
        this._expiredIds.add(current.id);
        if (request) {
          request._expired = true;
          this._emit('requestexpired', { request });
        }
        throw expiredError();
      }
      // Accepted: the caller becomes a peer (we push our answer to their card, and our new cards later).
      await this._keepPeer(current.from, current.card);
      return this._answer(current, options);
    });
  }

  async _answer(item, options = {}) {
    const o = { ...this.options, ...options };
    const peer = await this.store.getPeer(item.from);
    if (!peer) throw new PushPeerError('UNKNOWN_SENDER', 'the caller is not in our peers');
    const key = sessionKey(item.from, item.sessionId);
    const connection = createConnection({ iceServers: o.iceServers, polite: isPolite(this.identity.publicKey,
      peer.identity), remote: { name: peer.name, keyId: peer.keyId, identity: peer.identity },
    sessionId: item.sessionId, role: 'callee', media: o.media, heartbeatMs: o.heartbeatMs, peerGoneMs: o.peerGoneMs,
    log: (m) => this._emit('log', { message: m }) });
    this._emit('connecting', { connection, role: 'callee' });
    this._answering.set(key, connection);
    connection.addEventListener('close', () => this._answering.get(key) === connection && this._answering.delete(key));
    this._callOf.set(connection, { card: peer.card, from: item.from, sessionId: item.sessionId, sequence: item.sequence,
      offerRef: item.offerRef });
    // This page owns the call while the connection lives: the lock tells the next page when it is gone.
    const releaseSession = await tryHold(lockName(this._storeName, 'session', key), this.options.lockManager);
    connection.addEventListener('close', () => releaseSession?.());
    try {
      await connection.pc.setRemoteDescription({ type: 'offer', sdp: this.core.unpackSdp(item.body) });
      const { sdp } = await localSdp(connection.pc, o.gatherTimeoutMs);
      connection.signalingDone();
      const recipient = this.core.base64urlDecode(item.from);
      const session = this.core.base64urlDecode(item.sessionId);
      const answer = this.core.sealEnvelope({ type: 'answer', privateKey: this.identity.privateKey,
        body: this.core.packSdp(sdp), recipient, sessionId: session, sequence: 2 * item.sequence, ref: item.offerRef });
      await this.store.putSession({ key, peer: peer.keyId, sessionId: item.sessionId, role: 'callee', answer,
        offerBody: item.body, offerRef: item.offerRef, sequence: item.sequence, owner: this.owner, at: Date.now() });
      await this._pruneSessions();
      this._emit('progress', { sessionId: item.sessionId, step: 'answer-sealed', bytes: answer.length });
      await this.sender.send({ card: peer.card, payload: answer, topic: this.core.pushTopic('answer', recipient, session) });
      await this.store.updateInbox(item.id, { state: 'done' });
      this._emit('progress', { sessionId: item.sessionId, step: 'answer-sent', bytes: answer.length });
      // If this answer is lost, the caller offers again after answerTimeoutMs: keep waiting that long too, so the
      // answer sent again (_offer) finds this connection (docs/PROTOCOL.md §7.1).
      await this._opened(connection, o.openTimeoutMs + o.answerTimeoutMs);
      // Open: the stored answer is not needed any more. What stays is a mark on the request (kept while handled
      // items are, INBOX_LIMITS), so that an offer retried while the answer was on its way is ignored.
      await this.store.updateInbox(item.id, { opened: true });
      await this.store.deleteSession(key);
      return connection;
    } catch (error) {
      connection.close('answer failed');
      await this.store.updateInbox(item.id, { state: 'failed', error: error?.code ?? String(error) }).catch(() => {});
      throw error;
    }
  }

  /** Answers are kept for re-sending while the caller may retry (its offers expire after offerMaxAge). */
  async _pruneSessions(now = Date.now()) {
    for (const session of await this.store.sessions()) {
      if (!(now - session.at <= 2 * this.options.offerMaxAge * 1000)) await this.store.deleteSession(session.key);
    }
  }

  async _decline(item, { notify }) {
    clearTimeout(this._requests.get(item.id)?._timer);
    this._requests.delete(item.id);
    await this._take(item, {}, async (current) => {
      await this.store.updateInbox(current.id, { state: 'declined' });
      if (!notify) return;
      const card = current.card ?? (await this.store.getPeer(current.from))?.card;
      await this.sender.send(this._byeFor({ card, from: current.from, sessionId: current.sessionId,
        sequence: current.sequence, offerRef: current.offerRef }));
    });
  }

  /**
   * The push options for a bye to the caller of (from, sessionId), naming its offer (so it cannot be replayed against
   * another call: docs/PROTOCOL.md §4). Before our answer it declines the call; after it, it says that our end is
   * gone and the caller should offer again. A callee numbers its envelopes of a session 2n (the answer to offer n)
   * and 2n + 1 (a bye to offer n), so that the replay guard tells them apart.
   */
  _byeFor({ card, from, sessionId, sequence, offerRef }, { gone = false } = {}) {
    const recipient = this.core.base64urlDecode(from);
    const session = this.core.base64urlDecode(sessionId);
    const payload = this.core.sealEnvelope({ type: 'bye', privateKey: this.identity.privateKey, recipient,
      sessionId: session, sequence: 2 * sequence + 1, ref: offerRef, body: gone ? new Uint8Array([BYE_GONE]) : undefined });
    return { card, payload, topic: this.core.pushTopic('answer', recipient, session) };
  }

  /** Closes the notification the worker showed for an inbox item, when a visible page has it in hand. */
  _closeNotificationLater(id) {
    if (globalThis.document?.visibilityState !== 'visible' || !this.registration?.getNotifications) return;
    setTimeout(() => {
      this.registration.getNotifications().then((list) => {
        for (const n of list) if (n.data?.inbox === id) n.close();
      }).catch(() => {});
    }, NOTIFICATION_LINGER_MS);
  }

  _emit(type, fields) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }

  _error(error) {
    this._emit('error', { error });
  }

  /** For work this page took up on its own: another page having done it already is no error. */
  _unlessHandled = (error) => {
    if (error?.code !== 'ALREADY_HANDLED') this._error(error);
  };

  /** Stops listening; open connections stay until closed. */
  close() {
    this._closed = true;
    clearInterval(this._refreshTimer);
    globalThis.document?.removeEventListener('visibilitychange', this._onVisible);
    globalThis.removeEventListener?.('pagehide', this._onPageHide);
    this._channel?.close();
    for (const r of this._requests.values()) clearTimeout(r._timer);
    for (const [, p] of this._pending) p.reject(new PushPeerError('NOT_CONNECTED', 'PushPeer closed'));
  }

  /** Forgets the identity, peers and inbox, and unsubscribes (the "forget me" button). */
  async forget() {
    this.close();
    for (const c of this.connections) c.close('forgotten');
    const s = await this.registration?.pushManager.getSubscription();
    await s?.unsubscribe();
    await this.store.clear();
  }
}
