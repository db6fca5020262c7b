// The page API: a PushPeer owns an identity (a P-256 key that is also its VAPID key), a push subscription made with
// that key, and a card others use to reach it. connect(card) sends one push (the offer) and waits for one push
// back (the answer); the service worker (sw/handler.js) receives both, even with no tab open.
//
//   const peer = await PushPeer.create({ serviceWorker: await navigator.serviceWorker.register('sw.js',
//     { type: 'module' }), subject: 'mailto:me@example.com', name: 'Alice' });
//   peer.card().link                                    // share it
//   peer.addEventListener('connection', (e) => e.connection.send('hi'));
//   const conn = await peer.connect(cardOfBob);         // RTCDataChannel open
import { loadCore } from './core.js';
import { PushPeerError } from './errors.js';
import { cardNeedsRenewal, channelName, issueCard } from './inbox.js';
import { createConnection, DEFAULT_GATHER_TIMEOUT_MS, isPolite, localSdp } from './peer.js';
import { createPushSender, DEFAULT_TTL } from './push.js';
import { DEFAULT_STORE_NAME, openStore } from './store.js';

const DEFAULTS = {
  gatherTimeoutMs: DEFAULT_GATHER_TIMEOUT_MS,
  answerTimeoutMs: 30_000, // per attempt: from the offer's push to the answer's arrival
  offerRetries: 1, // offers sent again (same session) when no answer came in time
  openTimeoutMs: 20_000, // answer applied -> data channel open
  offerMaxAge: 600, // seconds: older offers in the inbox are not answered (the caller gave up)
  refreshIntervalMs: 6 * 3600 * 1000, // how often an open page checks that its card's grants are fresh
};

const ownerId = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');

function defaultSubject() {
  const origin = globalThis.location?.origin ?? '';
  return origin.startsWith('https://') ? origin : 'mailto:anonymous@pushpeer.invalid';
}

/** A pending incoming request: accept() or decline() it, or call preventDefault() and decide later. */
export class RequestEvent extends Event {
  constructor(peer, item, from) {
    super('request', { cancelable: true });
    this.from = from; // { name, keyId, identity }
    this.sessionId = item.sessionId;
    this.received = item.received;
    this._peer = peer;
    this._item = item;
    this._decided = null;
  }

  /** Answers the offer (one push): resolves to the Connection once its data channel is open. */
  accept(options = {}) {
    this._decided ??= this._peer._answer(this._item, options);
    return this._decided;
  }

  /** Declines: the caller is told (one push, an envelope of type 'bye'). */
  decline() {
    this._decided ??= this._peer._decline(this._item).then(() => null);
    return this._decided;
  }
}

export class PushPeer extends EventTarget {
  /**
   * Options: serviceWorker (ServiceWorkerRegistration, or a script URL registered as a module worker), subject
   * (VAPID sub: 'mailto:' or 'https:'), name (shown to others), iceServers, relay (URL of a js/relay.js relay),
   * relayMode, store (a store object, or { name } of the IndexedDB database), subscribe (function(key) ->
   * PushSubscription(JSON), to use a subscription made elsewhere), core (a loaded core), appUrl (opened from a
   * notification), linkBase (where card links point, default this page), autoAccept (default: accept requests
   * nobody handled), and the timeouts in DEFAULTS.
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
    this._pending = new Map(); // sessionId -> outgoing call waiting for its answer
    this._handled = new Set(); // inbox ids this page already looked at
    this._closed = false;
  }

  async _init() {
    const o = this.options;
    this.core = o.core ?? await loadCore(o.coreOptions);
    this.store = typeof o.store?.get === 'function' ? o.store : await openStore({ name: o.store?.name ?? DEFAULT_STORE_NAME });
    const storeName = this.store.name ?? DEFAULT_STORE_NAME;
    this.registration = await this._registration(o.serviceWorker);

    let identity = await this.store.get('identity');
    if (!identity) {
      identity = { ...this.core.generateVapidKeys(), created: Date.now() };
      await this.store.set('identity', identity);
    }
    this.identity = identity;
    this.keyId = this.core.base64urlEncode(this.core.decodeCard(await this._ensureCard()).keyId);

    this.sender = createPushSender({ core: this.core, relay: this.config.relay, relayMode: this.config.relayMode,
      onEvent: (e) => this._emit('push', { detail: e }) });

    if (typeof BroadcastChannel !== 'undefined') {
      this._channel = new BroadcastChannel(channelName(storeName));
      this._channel.onmessage = (e) => {
        if (e.data?.pushpeer === 'inbox') void this._inboxItem(e.data.id);
        else if (e.data?.pushpeer === 'subscription') void this._reloadCard();
        else if (e.data?.pushpeer === 'rejected') this._emit('rejected', { code: e.data.code, message: e.data.message });
      };
    }
    this._refreshTimer = setInterval(() => void this._ensureCard().catch((error) => this._error(error)),
      this.options.refreshIntervalMs);
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
    };
    await this.store.set('config', this.config);
    const subscription = await this._subscription();
    let card = await this.store.get('card');
    if (cardNeedsRenewal(card, { endpoint: subscription.endpoint, config: this.config })) {
      card = await issueCard({ core: this.core, store: this.store, identity: this.identity, subscription,
        config: this.config });
      // Live peers get the new card over their control channel: no push.
      for (const c of this.connections) c.control.readyState === 'open' && c._sendControl({ t: 'card', card: card.text });
    }
    this._card = card;
    return card.bytes;
  }

  /** The worker re-subscribed and issued a new card (pushsubscriptionchange). */
  async _reloadCard() {
    const card = await this.store.get('card');
    if (!card) return;
    this._card = card;
    for (const c of this.connections) c.control.readyState === 'open' && c._sendControl({ t: 'card', card: card.text });
    this._emit('cardchange', { card: this.card() });
  }

  /** Our card: bytes, base64url text, and a link (`#card=<text>`) that opens this app. */
  card() {
    const base = this.options.linkBase ?? globalThis.location?.href.split('#')[0] ?? '';
    return { bytes: this._card.bytes.slice(), text: this._card.text, link: `${base}#card=${this._card.text}` };
  }

  /** Peers we know (their cards came with an offer or we connected to them). */
  async peers() {
    return (await this.store.peers()).map(({ keyId, name, updated }) => ({ keyId, name, updated }));
  }

  /**
   * Calls the card's owner: one push with our offer, one push back with the answer. Options: media (a
   * MediaStream sent from the start), timeouts (answerTimeoutMs, offerRetries, gatherTimeoutMs, openTimeoutMs).
   * Resolves to a Connection whose data channel is open. Fails with PushPeerError: BAD_CARD, NO_USABLE_GRANT,
   * PEER_GONE, RATE_LIMITED, PUSH_FAILED, PUSH_UNREACHABLE, TIMEOUT (no answer), DECLINED, NOT_CONNECTED.
   */
  async connect(card, options = {}) {
    const o = { ...this.options, ...options };
    const cardBytes = await this._cardOf(card);
    const remote = this.core.decodeCard(cardBytes);
    const keyId = this.core.base64urlEncode(remote.keyId);
    if (keyId === this.keyId) throw new PushPeerError('BAD_ARGUMENT', 'that is our own card');
    const known = await this.store.getPeer(keyId);
    if (!known || known.updated < remote.created) {
      await this.store.putPeer({ keyId, identity: remote.identity, card: cardBytes, name: remote.name, updated: remote.created });
    }
    const sessionBytes = crypto.getRandomValues(new Uint8Array(8));
    const sessionId = this.core.base64urlEncode(sessionBytes);
    const connection = createConnection({ iceServers: o.iceServers, polite: isPolite(this.identity.publicKey,
      remote.identity), remote: { name: remote.name, keyId, identity: remote.identity }, sessionId, role: 'caller',
    media: o.media, log: (m) => this._emit('log', { message: m }) });
    this._emit('connecting', { connection, role: 'caller' });
    const started = Date.now();
    this._emit('progress', { sessionId, step: 'gathering' });
    try {
      const { sdp } = await localSdp(connection.pc, o.gatherTimeoutMs);
      const body = this.core.packSdp(sdp);
      const answered = new Promise((resolve, reject) => this._pending.set(sessionId, { resolve, reject, connection }));
      answered.catch(() => {});
      let answer = null;
      for (let attempt = 0; attempt <= o.offerRetries && !answer; attempt++) {
        const envelope = this.core.sealEnvelope({ type: 'offer', privateKey: this.identity.privateKey, body,
          sessionId: sessionBytes, sequence: attempt, card: this._card.bytes });
        const sent = await this.sender.send({ card: cardBytes, payload: envelope, topic: `o${sessionId}`,
          ttl: DEFAULT_TTL });
        this._emit('progress', { sessionId, step: 'offer-sent', bytes: envelope.length, sdpBytes: body.length,
          attempt, via: sent.via, ms: Date.now() - started });
        let timer;
        answer = await Promise.race([answered, new Promise((r) => {
          timer = setTimeout(() => r(null), o.answerTimeoutMs);
        })]).finally(() => clearTimeout(timer));
      }
      if (!answer) throw new PushPeerError('TIMEOUT', `no answer after ${o.offerRetries + 1} offer(s)`);
      if (answer.type === 'bye') throw new PushPeerError('DECLINED', `${remote.name || 'the peer'} declined`);
      this._emit('progress', { sessionId, step: 'answer-received', ms: Date.now() - started });
      await connection.pc.setRemoteDescription({ type: 'answer', sdp: this.core.unpackSdp(answer.body) });
      connection._pushLegDone();
      await this._opened(connection, o.openTimeoutMs);
      this._emit('progress', { sessionId, step: 'open', ms: Date.now() - started });
      return connection;
    } catch (error) {
      connection.close('connect failed');
      if (error?.code === 'PEER_GONE') {
        // Their subscription is gone: their card is useless until they send a new one.
        const peer = await this.store.getPeer(keyId);
        if (peer) await this.store.putPeer({ ...peer, gone: true });
        this._emit('peergone', { keyId, name: remote.name, status: error.status });
      }
      throw error;
    } finally {
      this._pending.delete(sessionId);
    }
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
      const known = await this.store.getPeer(connection.remote.keyId);
      if (known && known.updated >= card.created) return;
      await this.store.putPeer({ keyId: connection.remote.keyId, identity: card.identity,
        card: this.core.base64urlDecode(text), name: card.name, updated: card.created });
    } catch (error) {
      this._error(error);
    }
  }

  /** Looks at every inbox item not yet handled: answers to our calls, offers to us. */
  async processInbox() {
    for (const item of await this.store.inbox()) {
      if (item.state === 'new') await this._inboxItem(item.id);
    }
  }

  async _inboxItem(id) {
    if (this._closed || this._handled.has(id)) return;
    this._handled.add(id);
    try {
      const item = await this.store.getInbox(id);
      if (!item) return;
      // For timelines: what arrived, its size, and how long it took from the sender's seal to the worker.
      this._emit('received', { id, messageType: item.type, from: item.from, sessionId: item.sessionId,
        bytes: item.bytes ?? null, latencyMs: item.received - item.timestamp * 1000 });
      if (item.state !== 'new') return;
      if (item.type === 'answer' || item.type === 'bye') {
        const pending = this._pending.get(item.sessionId);
        if (!pending || pending.connection.remote.keyId !== item.from) return; // another page's call, or stale
        if (!(await this.store.claimInbox(id, this.owner))) return;
        await this.store.updateInbox(id, { state: 'done' });
        pending.resolve(item);
      } else if (item.type === 'offer') {
        await this._offer(item);
      }
    } catch (error) {
      this._error(error);
    }
  }

  async _offer(item) {
    const session = await this.store.getSession(item.sessionId);
    if (session?.answer) {
      // The caller sent the offer again: our answer was lost. Send the same one again, once per retry.
      if (await this.store.claimInbox(item.id, this.owner)) {
        await this.store.updateInbox(item.id, { state: 'done' });
        const peer = await this.store.getPeer(item.from);
        await this.sender.send({ card: peer.card, payload: session.answer, topic: `a${item.sessionId}` });
      }
      return;
    }
    if (Date.now() / 1000 - item.timestamp > this.options.offerMaxAge) {
      await this.store.updateInbox(item.id, { state: 'expired' });
      return;
    }
    // Exactly one page of this profile answers (IndexedDB serialises the claim).
    if (!(await this.store.claimInbox(item.id, this.owner))) return;
    const peer = await this.store.getPeer(item.from);
    const request = new RequestEvent(this, item, { name: peer?.name ?? '', keyId: item.from, identity: peer?.identity });
    this.dispatchEvent(request);
    if (!request._decided && !request.defaultPrevented && this.options.autoAccept !== false) {
      request.accept().catch((error) => this._error(error));
    }
  }

  async _answer(item, options = {}) {
    const o = { ...this.options, ...options };
    const peer = await this.store.getPeer(item.from);
    if (!peer) throw new PushPeerError('UNKNOWN_SENDER', 'the caller is not in our peers');
    const connection = createConnection({ iceServers: o.iceServers, polite: isPolite(this.identity.publicKey,
      peer.identity), remote: { name: peer.name, keyId: peer.keyId, identity: peer.identity },
    sessionId: item.sessionId, role: 'callee', media: o.media, log: (m) => this._emit('log', { message: m }) });
    this._emit('connecting', { connection, role: 'callee' });
    try {
      await connection.pc.setRemoteDescription({ type: 'offer', sdp: this.core.unpackSdp(item.body) });
      const { sdp } = await localSdp(connection.pc, o.gatherTimeoutMs);
      connection._pushLegDone();
      const answer = this.core.sealEnvelope({ type: 'answer', privateKey: this.identity.privateKey,
        body: this.core.packSdp(sdp), sessionId: this.core.base64urlDecode(item.sessionId), sequence: item.sequence });
      await this.store.putSession({ sessionId: item.sessionId, peer: peer.keyId, role: 'callee', answer, at: Date.now() });
      await this._pruneSessions();
      await this.sender.send({ card: peer.card, payload: answer, topic: `a${item.sessionId}` });
      await this.store.updateInbox(item.id, { state: 'done' });
      this._emit('progress', { sessionId: item.sessionId, step: 'answer-sent', bytes: answer.length });
      await this._opened(connection, o.openTimeoutMs);
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
      if (!(now - session.at <= 2 * this.options.offerMaxAge * 1000)) await this.store.deleteSession(session.sessionId);
    }
  }

  async _decline(item) {
    const peer = await this.store.getPeer(item.from);
    await this.store.updateInbox(item.id, { state: 'declined' });
    if (!peer) return;
    const bye = this.core.sealEnvelope({ type: 'bye', privateKey: this.identity.privateKey,
      sessionId: this.core.base64urlDecode(item.sessionId), sequence: item.sequence });
    await this.sender.send({ card: peer.card, payload: bye, topic: `a${item.sessionId}` });
  }

  _emit(type, fields) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }

  _error(error) {
    this._emit('error', { error });
  }

  /** Stops listening; open connections stay until closed. */
  close() {
    this._closed = true;
    clearInterval(this._refreshTimer);
    this._channel?.close();
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
