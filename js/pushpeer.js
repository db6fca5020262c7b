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
// The calls themselves (offer, answer, bye, requests) are js/signaling/calls.js's, over the push link
// (js/signaling/push-link.js); this class owns the identity, the card and the peers, and hands calls what it needs.
// A card is a capability handed to strangers (docs/PROTOCOL.md §7.4): a request is answered only when the app
// accepts it (autoAccept is off by default), a stranger becomes a peer only then, and declining a stranger sends
// nothing to the endpoint their card names.
import { loadCore } from './core.js';
import { PushPeerError } from './errors.js';
import { cardHostPolicy, cardNeedsRenewal, issueCard, keepPeerCard, sendCardToPeers } from './card.js';
import { channelName, deliverCarriedFromPage } from './push/reception.js';
import { GROUP_DEFAULTS, Groups } from './mesh/groups.js';
import { Swarms } from './swarm/introductions.js';
import { NEIGHBOUR_DEFAULTS, Neighbours } from './mesh/neighbours.js';
import { KEY_ID } from './mesh/route.js';
import { DEFAULT_GATHER_QUIET_MS, DEFAULT_GATHER_TIMEOUT_MS, HEARTBEAT_MS, PEER_GONE_MS } from './connection/connection.js';
import { createPushSender } from './push/sender.js';
import { actionable, Calls } from './signaling/calls.js';
import { createPushLink } from './signaling/push-link.js';
import { DEFAULT_STORE_NAME, openStore } from './store/store.js';
import { createMemoryContentStore, openContentStore } from './content/content-store.js';
import { openOpfsPieces } from './store/opfs-pieces.js';
import { MAX_UPLOADS } from './content/server.js';
import { Shares } from './content/shares.js';
import { PageSite } from './site/page-site.js';

export { RequestEvent, REQUEST_GRACE_MS } from './signaling/calls.js';

const DEFAULTS = {
  gatherTimeoutMs: DEFAULT_GATHER_TIMEOUT_MS,
  gatherQuietMs: DEFAULT_GATHER_QUIET_MS, // SDP out this long after the last candidate, once every expected type came
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
  maxUploads: MAX_UPLOADS, // ranges of our shares being sent at once, over all connections (js/content/server.js)
  maxUploadRate: Infinity, // bytes per second we send one peer of our shares' ranges
  allowPushHosts: [], // push services besides the known ones that cards may name (e.g. a local one in tests)
  siteSwarm: true, // join a signed site's swarm through each connection (docs/PROTOCOL.md §10.5)
  ...NEIGHBOUR_DEFAULTS, // introductions, forwardsPerMinute, forwardTimeoutMs (docs/PROTOCOL.md §7.7)
  ...GROUP_DEFAULTS, // maxFullMesh, neighbourLimit, joinTimeoutMs (§7.8)
};

// The worker shows a (silent) notification for every push, even while a page is visible (browsers count pushes
// that show none); a visible page that took the message closes it, but only after Firefox's 3-second check
// (dom.push.quotaUpdateDelay) has seen it (docs/PROTOCOL.md §7.5).
const NOTIFICATION_LINGER_MS = 5000;

// connect() without `via`: how many neighbours it tries before push, and what makes it try the next.
const MAX_ROUTES = 3;
const ROUTE_MISSES = new Set(['NO_ROUTE', 'INTRODUCTION_REFUSED', 'RATE_LIMITED', 'NOT_CONNECTED']);
const MAX_TRANSIENT_PEERS = 64; // peers a swarm brought (see _keepPeer)

const ownerId = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');

function defaultSubject() {
  const origin = globalThis.location?.origin ?? '';
  return origin.startsWith('https://') ? origin : 'mailto:anonymous@pushpeer.invalid';
}

export class PushPeer extends EventTarget {
  /**
   * Options: serviceWorker (ServiceWorkerRegistration, or a script URL registered as a module worker), subject
   * (VAPID sub: 'mailto:' or 'https:'), name (shown to others), iceServers, relay (URL of a relay/relay.js relay),
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
    this._handled = new Set(); // inbox ids this page already looked at
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
    // Introductions: our live connections carry envelopes for others, and carry ours (js/mesh/neighbours.js).
    this.groups = new Groups({ core: this.core, keyId: this.keyId, options: this.options, card: (o) => this.card(o),
      cardBytes: (card) => this._cardOf(card), connect: (card, options) => this.connect(card, options),
      connectionTo: (keyId) => this.neighbours.connectionTo(keyId),
      peerCard: (keyId) => this._keptCard(keyId), error: (error) => this._error(error),
      groupFor: (id) => this.swarms.groupFor(id) });
    this.neighbours = new Neighbours({ core: this.core, store: this.store, options: this.options, keyId: this.keyId,
      connections: () => this.connections, emit: (type, fields) => this._emit(type, fields),
      inSameGroup: (a, b) => Boolean(this.groups.shared(a, b)), vouch: (keyId, vouch) => this.groups.vouch(keyId, vouch),
      vouches: (keyId, vouch, a, b) => this.groups.vouches(keyId, vouch, a, b),
      deliver: (body, { via, from, route }) => deliverCarriedFromPage({ registration: this.registration, core: this.core,
        store: this.store, storeName, body, via, from, route }) });
    // The swarm of each share we fetch or serve: a group whose secret is the share's id (js/swarm/introductions.js).
    this.swarms = new Swarms({ core: this.core, groups: this.groups, connectionTo: (keyId) => this.neighbours.connectionTo(keyId),
      peerCard: (keyId) => this._keptCard(keyId),
      // (siteSwarm: false: the site's swarm is neither joined nor answered; the site's files are served all the same.)
      served: () => this.content.served({ sites: this.options.siteSwarm }),
      error: (error) => this._error(error) });
    // Share by link (js/content/): its own database beside the store (memory when the store is one, e.g. in Node).
    const contentStore = o.contentStore ?? (typeof o.store?.get === 'function' || !globalThis.indexedDB
      ? createMemoryContentStore({ name: storeName })
      : await openContentStore({ name: storeName, files: await openOpfsPieces({ name: storeName }) }));
    this.content = new Shares({ core: this.core, store: contentStore, identity: this.identity,
      card: () => this._card, linkBase: () => this.options.linkBase ?? globalThis.location?.href.split('#')[0] ?? '',
      connect: (card) => this.connect(card), connectionTo: (keyId) => this.neighbours.connectionTo(keyId),
      scope: () => this.registration?.scope ?? null, maxUploads: this.options.maxUploads,
      maxUploadRate: this.options.maxUploadRate, swarms: this.swarms,
      log: (message) => this._emit('progress', { step: 'content', message }) });
    this.calls = new Calls({ core: this.core, store: this.store, identity: this.identity, keyId: this.keyId,
      options: this.options, owner: this.owner, storeName, link: createPushLink({ core: this.core, sender: this.sender }),
      linkVia: (connection, options) => this.neighbours.linkVia(connection, options),
      carrier: (keyId) => this.neighbours.connectionTo(keyId),
      admits: (item) => this.groups.admits(item),
      ourCard: (options) => this.card(options).bytes, cardOf: (card) => this._cardOf(card),
      keepPeer: (keyId, bytes, decoded, options) => this._keepPeer(keyId, bytes, decoded, options),
      opened: (connection) => this._register(connection), emit: (type, fields) => this._emit(type, fields),
      dispatch: (event) => this.dispatchEvent(event), error: (error) => this._error(error) });

    if (typeof BroadcastChannel !== 'undefined') {
      this._channel = new BroadcastChannel(channelName(storeName));
      // A signed site's files, versions and swarm over our peers (js/site/page-site.js, docs/PROTOCOL.md §10.3–§10.5).
      this._site = new PageSite({ core: this.core, store: this.store, contentStore, swarms: this.swarms,
        connections: () => this.connections, channelOf: (connection) => this.content.attach(connection),
        post: (message) => !this._closed && this._channel.postMessage(message), swarm: o.siteSwarm });
      this._channel.onmessage = (e) => {
        this._site.receive(e.data);
        if (e.data?.pushpeer === 'inbox') void this._inboxItem(e.data.id);
        else if (e.data?.pushpeer === 'subscription') void this._reloadCard();
        else if (e.data?.pushpeer === 'rejected') this._emit('rejected', { code: e.data.code, message: e.data.message });
        else if (e.data?.pushpeer === 'want-piece') this.content.want(e.data);
        else if (e.data?.pushpeer === 'siteupdate') {
          this._emit('siteupdate', { version: e.data.version, previous: e.data.previous });
        }
        else if (e.data?.pushpeer === 'sitefile') {
          this._emit('sitefile', { path: e.data.path, source: e.data.source, bytes: e.data.bytes, from: e.data.from });
        }
        else if (e.data?.pushpeer === 'siteerror') this._error(new PushPeerError(String(e.data.code), String(e.data.message)));
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
      this._site?.leave();
      this.calls.pageHidden(); // calls answered and not open yet: the caller offers again at once
    };
    globalThis.addEventListener?.('pagehide', this._onPageHide);
    // Whatever arrived while no page was open (the notification's click brings us here). In a task of its own,
    // so that listeners added right after `await PushPeer.create()` see the requests.
    setTimeout(() => void this.processInbox().catch((error) => this._error(error)), 0);
  }

  /** The card bytes we keep for peer `keyId`, or null. */
  async _keptCard(keyId) {
    return (await this.store.getPeer(keyId))?.card ?? null;
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
      this._card = card;
      // Live peers get the new card over their control channel: no push.
      void this._cardToConnections();
      if (previous && previous.endpoint !== card.endpoint) {
        // The subscription was lost and replaced: the old card's endpoint is dead, so every peer gets the new one.
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
    this._cardWith({ name });
    this.options.name = name; // _ensureCard prefers it over the stored name
    await this._ensureCard();
    this._emit('cardchange', { card: this.card() });
  }

  /** The worker re-subscribed and issued a new card (pushsubscriptionchange, or a rotation after abuse). */
  async _reloadCard() {
    const card = await this.store.get('card');
    if (!card) return;
    this._card = card;
    void this._cardToConnections();
    this._emit('cardchange', { card: this.card() });
  }

  /**
   * Our card, new, to every live connection: whole to our peers, without grants to transient ones (an open group's
   * members: docs/PROTOCOL.md §9.6), who must not be able to push to us.
   */
  async _cardToConnections() {
    for (const c of [...(this.connections ?? [])]) {
      const peer = await this.store.getPeer(c.remote.keyId).catch(() => null);
      c.sendControl({ t: 'card', card: this.card({ push: Boolean(peer && !peer.transient) }).text });
    }
  }

  /**
   * The group `name` (docs/API.md, "Groups"): created with `secret` (bytes or base64url; a random one when none)
   * the first time, the same object afterwards. group.invite() makes a link; group.join(card) joins through a member.
   */
  group(name, options) {
    return this.groups.group(name, options);
  }

  /** Joins the group of an invite link (group.invite()): resolves to the Group once its member answered. */
  async joinGroup(link) {
    const { group, card } = this.groups.fromLink(link);
    await group.join(card);
    return group;
  }

  /**
   * Shares a File, a Blob or an array of them by link (docs/API.md, "Share by link"): resolves to { id, root, link,
   * manifest, files, remove(), stats() } once the bytes are stored and hashed. Options: title, name, type.
   */
  share(input, options) {
    return this.content.share(input, options);
  }

  /** What we share and what we downloaded (and seed), complete or not. */
  shares() {
    return this.content.list();
  }

  /**
   * Downloads a share link (`…#share=<id>.<card>`): a Download at once (events progress, verified, manifest,
   * error, done; stream(file), blob(file), pause(), resume(), cancel()). After a reload the same link resumes.
   */
  fetch(link, options) {
    return this.content.fetch(link, options);
  }

  /**
   * Our card: bytes, base64url text, and a link (`#card=<text>`) that opens this app. `{ push: false }`: the same
   * card without grants, which nobody can push to us with: it can only be called through a neighbour (§7.7). It is
   * what an open group's members (a swarm's, a site's visitors) get of us (docs/PROTOCOL.md §9.6).
   */
  card({ push = true } = {}) {
    const card = push ? this._card : this._grantlessCard();
    const base = this.options.linkBase ?? globalThis.location?.href.split('#')[0] ?? '';
    return { bytes: card.bytes.slice(), text: card.text, link: `${base}#card=${card.text}` };
  }

  /** Our card's fields without its grants, made once per card of ours. */
  _grantlessCard() {
    if (this._grantless?.of !== this._card.text) this._grantless = { of: this._card.text, ...this._cardWith({ grants: [] }) };
    return this._grantless;
  }

  /** A card with our current one's fields (subscription, subject, name, created, grants) but `changes`: { bytes, text }. */
  _cardWith(changes) {
    const c = this.core.decodeCard(this._card.bytes);
    return this.core.createCard({ identity: this.identity, subject: c.subject, name: c.name, created: c.created,
      grants: c.grants, subscription: { endpoint: c.endpoint, keys: { p256dh: this.core.base64urlEncode(c.p256dh),
        auth: this.core.base64urlEncode(c.auth) } }, ...changes });
  }

  /** Our peers: people we accepted a call from, called, or saved (not the transient ones a swarm brought). */
  async peers() {
    return (await this.store.peers()).filter((p) => !p.transient)
      .map(({ keyId, name, updated, gone }) => ({ keyId, name, updated, gone: Boolean(gone) }));
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

  /**
   * Keeps a card's owner as a peer. `transient`: a group's rules brought them (an open group's member, met in a
   * swarm: a stranger holding the same link), so they are kept only while useful: not listed by peers(), sent no
   * card of ours by push, and beyond MAX_TRANSIENT_PEERS the oldest we are not connected to are forgotten. A peer
   * we call or accept ourselves is a peer for good, transient before or not.
   */
  async _keepPeer(keyId, bytes, decoded = this.core.decodeCard(bytes), { transient = false } = {}) {
    let known = await this.store.getPeer(keyId);
    if (known?.transient && !transient) {
      known = { ...known };
      delete known.transient;
      delete known.kept;
      await this.store.putPeer(known);
    }
    await keepPeerCard(this.store, known, { keyId, identity: decoded.identity, bytes, card: decoded, transient });
    if (transient && !known) {
      const old = (await this.store.peers()).filter((p) => p.transient).sort((a, b) => a.kept - b.kept);
      const unconnected = old.filter((p) => p.keyId !== keyId && !this.neighbours.connectionTo(p.keyId));
      const over = Math.max(0, old.length - MAX_TRANSIENT_PEERS);
      for (const p of unconnected.slice(0, over)) await this.store.deletePeer(p.keyId);
    }
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
   *
   * `via` (a live Connection or a peer's key id): that neighbour carries the call, no push (docs/PROTOCOL.md §7.7).
   * Without `via`, a call to a member of one of our groups first tries the members we are connected to (they are
   * likely connected to it: a group is a full mesh up to maxFullMesh); a neighbour that cannot carry it (NO_ROUTE,
   * INTRODUCTION_REFUSED, RATE_LIMITED, gone) costs a round trip, then the next, then push. `route: false` goes
   * straight to push.
   */
  async connect(card, options = {}) {
    const { route = true, ...rest } = options;
    // Routes exist only through groups: without one, nothing to look up (the card is read once, by the call).
    if (rest.via !== undefined || !route || this.groups.byId.size === 0) return this.calls.connect(card, rest);
    const keyId = this.core.base64urlEncode(this.core.decodeCard(await this._cardOf(card)).keyId);
    for (const via of this.groups.routesTo(keyId).slice(0, MAX_ROUTES)) {
      try {
        return await this.calls.connect(card, { ...rest, via });
      } catch (error) {
        // (A carrier that never answers, e.g. a member that swallows what we ask it to carry, is a miss too.)
        const silent = error?.code === 'TIMEOUT' && error.reason === 'CARRIER_SILENT';
        if (!(ROUTE_MISSES.has(error?.code) || silent) || rest.signal?.aborted) throw error;
        this._emit('progress', { step: 'route-missed', via: via.remote.keyId, code: error.code });
      }
    }
    return this.calls.connect(card, rest);
  }

  /** Card bytes from bytes, text, a #card= link, or the key id of a known peer (its latest card). */
  async _cardOf(card) {
    if (typeof card === 'string' && KEY_ID.test(card)) {
      const peer = await this.store.getPeer(card);
      if (!peer) throw new PushPeerError('UNKNOWN_SENDER', `no known peer with key id ${card}`);
      return peer.card;
    }
    if (typeof card === 'string') return this.core.base64urlDecode(/[#&]card=([A-Za-z0-9_-]+)/.exec(card)?.[1] ?? card);
    return card?.bytes ?? card;
  }

  /** An open connection joins `connections` (until it closes) and the app hears of it. */
  _register(connection) {
    this.connections.add(connection);
    this.neighbours.attach(connection);
    this.groups.attach(connection);
    this.content.attach(connection);
    connection.addEventListener('close', () => this.connections.delete(connection));
    this._site?.attach(connection);
    connection.addEventListener('card', (e) => void this._peerCard(connection, e.card));
    this._emit('connection', { connection });
    connection.announced(); // messages that came before this reach the listeners added meanwhile
  }

  /** A live peer's new card (fresh grants, new endpoint): kept if it is theirs. */
  async _peerCard(connection, text) {
    try {
      const card = this.core.decodeCard(text);
      if (this.core.base64urlEncode(card.keyId) !== connection.remote.keyId) return;
      // (A transient peer stays one: a new card is not a call of ours. One we keep no record of, e.g. forgotten while
      // connected, is not made a peer by it.)
      const known = await this.store.getPeer(connection.remote.keyId);
      if (!known) return;
      await keepPeerCard(this.store, known, { keyId: connection.remote.keyId, identity: card.identity,
        bytes: this.core.base64urlDecode(text), card });
      connection.updateRemote({ name: card.name });
    } catch (error) {
      this._error(error);
    }
  }

  /** Looks at every inbox item not yet handled: answers to our calls, offers to us. */
  async processInbox() {
    for (const item of await this.store.inbox()) {
      if (actionable(item)) await this._inboxItem(item.id);
    }
  }

  /** Requests that arrived and were not decided yet (also those from before a reload), oldest first; not expired. */
  async requests() {
    await this.processInbox();
    return this.calls.openRequests();
  }

  /** An inbox item the worker (or a page's link) told us of: announced once, then the calls act on it. */
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
          bytes: item.bytes ?? null, latencyMs: item.received - item.timestamp * 1000, via: item.via ?? null });
      }
      this._closeNotificationLater(item.id);
      await this.calls.inboxItem(item);
    } catch (error) {
      this._error(error);
    }
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

  /**
   * The site the service worker serves (installPushPeer's `site` option, docs/API.md): { version, publisher, files:
   * [{ path, size, type, source: 'cache' | 'peer' | 'origin' | null }] } (source: where the worker's last answer for
   * that file came from since it started), or null: no worker, no site option, or no answer within 3 s.
   */
  siteStatus() {
    const worker = this.registration?.active;
    if (!worker || typeof MessageChannel === 'undefined') return Promise.resolve(null);
    return new Promise((resolve) => {
      const { port1, port2 } = new MessageChannel();
      const timer = setTimeout(() => {
        port1.close();
        resolve(null);
      }, 3000);
      port1.onmessage = (e) => {
        clearTimeout(timer);
        port1.close();
        resolve(e.data ?? null);
      };
      worker.postMessage({ pushpeer: 'site-status' }, [port2]);
    });
  }

  /** Stops listening; open connections stay until closed. */
  close() {
    this._site?.leave();
    this._closed = true;
    clearInterval(this._refreshTimer);
    globalThis.document?.removeEventListener('visibilitychange', this._onVisible);
    globalThis.removeEventListener?.('pagehide', this._onPageHide);
    this._channel?.close();
    this.calls?.close();
  }

  /** Forgets the identity, peers and inbox, and unsubscribes (the "forget me" button). */
  async forget() {
    this.close();
    for (const c of this.connections) c.close('forgotten');
    const s = await this.registration?.pushManager.getSubscription();
    await s?.unsubscribe();
    await this.content.clear();
    await this.store.clear();
  }
}
