// Types for js/index.js: the page API (PushPeer, Connection) and what it re-exports.
import type { Core, LoadCoreOptions, PushPeerErrorCode as CoreErrorCode } from './core.js';

export { loadCore } from './core.js';
export type { Core, DecodedCard, Grant, LoadCoreOptions, OpenedEnvelope, VapidKeys } from './core.js';

/** Codes of the core plus those of the browser glue. Match on `.code`, never on the message. */
export type PushPeerErrorCode = CoreErrorCode
  /** 404/410 from the push service: the peer's subscription is gone (its card is useless until it sends a new one). */
  | 'PEER_GONE'
  /** 429 and the push service asked us to wait longer than we would (see `retryAfter`). */
  | 'RATE_LIMITED'
  /** 5xx after the bounded retries. */
  | 'PUSH_FAILED'
  /** Another 4xx from the push service (e.g. it refused the grant). */
  | 'PUSH_REJECTED'
  /** The push service (no CORS and no relay configured) or the relay could not be reached. */
  | 'PUSH_UNREACHABLE'
  /** The relay refused the request itself (`relayCode`, see relay/relay.d.ts). */
  | 'RELAY_ERROR'
  /** No answer to our offer in time (after the retries). */
  | 'TIMEOUT'
  /** The callee declined. */
  | 'DECLINED'
  /** The data channel is not open (or did not open in time). */
  | 'NOT_CONNECTED'
  /** No service worker, IndexedDB, RTCPeerConnection or push here. */
  | 'NOT_SUPPORTED'
  /** Notification/push permission refused. */
  | 'PERMISSION_DENIED'
  | 'SUBSCRIBE_FAILED'
  | 'STORE_FAILED'
  /** A card names a push endpoint on a host that is not a known push service (see allowPushHosts): nothing sent. */
  | 'HOST_NOT_ALLOWED'
  /** accept()/decline() of a request another page of the app already answered or declined. */
  | 'ALREADY_HANDLED'
  /** accept() of a request whose caller stopped waiting (RequestEvent.expiresAt passed): nothing was sent. */
  | 'EXPIRED'
  /** connect() whose AbortSignal aborted: the connection is closed, nothing more is sent. */
  | 'ABORTED'
  /**
   * connect({ via }): the neighbour refused to carry the offer (its introductions policy), or the target refused what
   * arrived (it did not open or verify): `.reason` has the carrier's or the target's code (docs/PROTOCOL.md §7.7).
   */
  | 'INTRODUCTION_REFUSED'
  /** connect({ via }): the neighbour holds no live connection to the target. */
  | 'NO_ROUTE'
  /** group.join(): the member does not hold this group's secret, or refused our proof of it. */
  | 'NOT_A_MEMBER'
  /** fetch(): the peer does not have that share, file or range. */
  | 'NOT_FOUND'
  /** Storage is full: what did not fit was not stored (nothing is left half written or marked verified). */
  | 'QUOTA_EXCEEDED'
  /** download.cancel(): the download and every stream of it. */
  | 'CANCELLED'
  /** A site manifest signed by another key than the publisher's pinned one (docs/PROTOCOL.md §10). */
  | 'WRONG_PUBLISHER'
  /** A site manifest whose version is below the highest seen (a visitor never goes back), or publishing one. */
  | 'VERSION_BACKWARDS';

export class PushPeerError extends Error {
  readonly name: 'PushPeerError';
  readonly code: PushPeerErrorCode;
  /** HTTP status of the push service's (or relay's) answer, when there was one. */
  readonly status?: number | null;
  /** Seconds, from Retry-After. */
  readonly retryAfter?: number | null;
  readonly endpoint?: string;
  readonly relayCode?: string;
  /**
   * INTRODUCTION_REFUSED: the carrier's or the target's code (e.g. 'DECRYPT_FAILED', 'REPLAYED_MESSAGE'); TIMEOUT:
   * 'CARRIER_SILENT' when a neighbour asked to carry never answered.
   */
  readonly reason?: string;
  constructor(code: PushPeerErrorCode, message?: string, options?: ErrorOptions);
}

/** A subscription as PushSubscription.toJSON() gives it. */
export interface PushSubscriptionJSONLike {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

export interface Timeouts {
  /** Non-trickle ICE: the SDP goes out when gathering completes or after this long. Default 3000. */
  gatherTimeoutMs?: number;
  /**
   * The SDP also leaves this long after the last candidate once a candidate of every type the configuration can
   * give has come (host; srflx with a STUN server; relay with TURN); at most 5 ms with no STUN/TURN server, where
   * host candidates come in one burst. 0: wait for the end of gathering. Default 20.
   */
  gatherQuietMs?: number;
  /**
   * Per offer: how long to wait for the answer push. Default 30000. A callee expires a request this long (+ 5 s)
   * after its latest offer arrived, so both sides must use the same value (docs/PROTOCOL.md §7.1).
   */
  answerTimeoutMs?: number;
  /** Offers sent again (same session) when no answer came. Default 1. */
  offerRetries?: number;
  /**
   * Answer applied -> data channel open. Default 20000. The callee waits answerTimeoutMs longer, so that a caller
   * whose answer was lost finds the callee's connection when it offers again (docs/PROTOCOL.md §7.1).
   */
  openTimeoutMs?: number;
}

export interface PushPeerOptions extends Timeouts {
  /** The registration of a worker that runs installPushPeer (sw/handler.js), or its script URL (module worker). */
  serviceWorker?: ServiceWorkerRegistration | string | URL;
  /** VAPID `sub` put in our grants: 'mailto:…' or 'https:…'. Default: the page's https origin, else a placeholder. */
  subject?: string;
  /** Our display name on our card. */
  name?: string;
  iceServers?: RTCIceServer[];
  /** URL of a relay (relay/relay.js, e.g. 'https://relay.example/push'), for push services without CORS. */
  relay?: string | null;
  /** 'auto' (default): direct, and the relay once the browser could not reach a push service; 'always'; 'never'. */
  relayMode?: 'auto' | 'always' | 'never';
  /** A store (openStore/createMemoryStore) or the IndexedDB name. Default { name: 'pushpeer' }. */
  store?: PushPeerStore | { name?: string };
  /** Makes the push subscription instead of pushManager.subscribe (key = our applicationServerKey). */
  subscribe?: (applicationServerKey: Uint8Array) => Promise<PushSubscription | PushSubscriptionJSONLike>;
  /** An already loaded core. */
  core?: Core;
  coreOptions?: LoadCoreOptions;
  /** Page a notification opens. Default: this page. */
  appUrl?: string;
  /** Base of card links. Default: this page (without its hash). */
  linkBase?: string;
  /**
   * Accept requests no listener decided on (neither accept(), decline() nor preventDefault()). Default false:
   * anyone holding our card could otherwise get our SDP (IP addresses) without the app deciding. A request nobody
   * decided stays pending (requests()).
   */
  autoAccept?: boolean;
  /**
   * Ranges of our shares being sent at once, over all connections: however many peers download from us, at most
   * this many answers are going out, and askers take turns. Default 4 (one downloader alone is not slowed).
   */
  maxUploads?: number;
  /** Bytes per second one peer gets of our shares' ranges (default: no cap). */
  maxUploadRate?: number;
  /**
   * Join the site's swarm through each connection (docs/PROTOCOL.md §10.5): meet the visitors our peers are connected
   * to, with no push, for more sources of the site's files. Default true. False: the site's files come only over
   * connections the app made (the swarm exposes a visitor's IP addresses to the visitors it meets).
   */
  siteSwarm?: boolean;
  /**
   * Push services besides the known ones (Mozilla, FCM, WNS, Apple) that cards may name: 'host', 'https://host:port',
   * or 'http://127.0.0.1:port' (loopback only) for a local push service in tests. Default none: a card naming any
   * other host is refused (HOST_NOT_ALLOWED), so a stranger's card cannot make us send requests where it likes.
   */
  allowPushHosts?: string[];
  /**
   * Whom our live connections carry introductions for (docs/PROTOCOL.md §7.7): 'peers' (both ends are our peers),
   * 'group' (both are members of a group we are in; the default), 'off'.
   */
  introductions?: 'peers' | 'group' | 'off';
  /** fwd frames taken from one connection per minute, carried or for us. Default 30. */
  forwardsPerMinute?: number;
  /** A carried envelope without fwd-ok / fwd-no by then fails with TIMEOUT. Default 10000 ms. */
  forwardTimeoutMs?: number;
  /** Groups: up to this many members everyone connects to everyone (default 8)... */
  maxFullMesh?: number;
  /** ...beyond it a newcomer gets this many connections, to members at the ends of random walks (default 4)... */
  neighbourLimit?: number;
  /** ...and a member ends a walk (takes a newcomer) only while it has fewer connections than this (default 12). */
  maxNeighbours?: number;
  /** Hops of a group's random walk (default 4, at most 8). */
  walkLength?: number;
  /** group.join(): the member's answer to our hello by then, else TIMEOUT (default 15000 ms). */
  joinTimeoutMs?: number;
  /** Seconds: older offers in the inbox are not answered. Default 600. */
  offerMaxAge?: number;
  /** New offers (same session, new RTCPeerConnection) when the callee's page went away before the connection opened. Default 1. */
  reconnects?: number;
  /** Pings on an open connection's control channel (default 2000) and the silence after which it closes as 'peer gone' (default 8000). */
  heartbeatMs?: number;
  peerGoneMs?: number;
  /** How often an open page checks that its push subscription still exists (also when it becomes visible). Default 60000. */
  subscriptionCheckMs?: number;
}

export interface Card {
  bytes: Uint8Array;
  /** base64url */
  text: string;
  /** `<linkBase>#card=<text>` */
  link: string;
}

/** Card bytes, its text, a link with #card=, or the 11-character key id of a known peer. */
export type CardInput = Uint8Array | string | { bytes: Uint8Array };

export interface RemotePeer {
  name: string;
  /** base64url of the 8-byte key id. */
  keyId: string;
  /** The peer's identity (VAPID) public key, 65 bytes. */
  identity: Uint8Array;
}

export interface ConnectionEventMap {
  open: Event;
  message: MessageEvent;
  track: Event & { track: MediaStreamTrack; streams: readonly MediaStream[] };
  statechange: Event & { state: RTCPeerConnectionState };
  negotiation: Event & { direction: 'sent' | 'received'; sdpType: 'offer' | 'answer' };
  card: Event & { card: string };
  /** What we know of the peer changed: their new card (e.g. a new name) arrived over the control channel. */
  remotechange: Event & { remote: RemotePeer };
  close: Event & CloseInfo;
}

/** Who ended a connection, and why. */
export interface CloseInfo {
  /**
   * The reason given to close() (by 'us'); 'closed by the peer[: their reason]' (by 'peer'); 'peer gone: nothing
   * heard for N s', 'connection failed' or 'data channel closed' (by 'network').
   */
  reason: string;
  /** 'us': close() on this side (also the library's own, e.g. 'page closed'); 'peer': its bye; 'network': anything else. */
  by: 'us' | 'peer' | 'network';
  /** The reason the peer put in its bye ('hung up', 'page closed', …); '' when none or when by is not 'peer'. */
  peerReason: string;
}

/** A connection to one peer: an open data channel, and perfect negotiation over a control channel. */
export class Connection extends EventTarget {
  readonly pc: RTCPeerConnection;
  /** The app's channel: ordered, reliable, binaryType 'arraybuffer'. */
  readonly channel: RTCDataChannel;
  /** Share by link's channel (id 2, binary; docs/PROTOCOL.md §9.4): pushpeer's, not the app's. */
  readonly contentChannel: RTCDataChannel;
  /** pushpeer's control channel (renegotiation, ICE restarts, card refreshes, bye). */
  readonly control: RTCDataChannel;
  readonly remote: RemotePeer;
  readonly sessionId: string;
  readonly role: 'caller' | 'callee';
  readonly polite: boolean;
  readonly closed: boolean;
  /** null until closed; then who ended it and why (the close event's fields). */
  readonly closeInfo: CloseInfo | null;
  readonly state: RTCPeerConnectionState | 'closed';
  /** Resolves once the data channel is open. */
  readonly opened: Promise<Connection>;
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;
  /**
   * Sends with back-pressure: waits while more than highWater bytes (default 4 MiB) wait in the channel's buffer, then
   * sends; writes go in order. Rejects with NOT_CONNECTED when the connection is closed before or while it waits.
   * Sets channel.bufferedAmountLowThreshold to highWater / 2 unless the app set one at or below highWater.
   */
  write(data: string | ArrayBuffer | ArrayBufferView | Blob, options?: { highWater?: number }): Promise<void>;
  /** write() on the content channel (waits for it to open too). For pushpeer's content modules. */
  writeContent(data: ArrayBuffer | ArrayBufferView, options?: { highWater?: number }): Promise<void>;
  /** Takes new facts about the peer (PushPeer calls it when their new card arrives); fires remotechange on a change. */
  updateRemote(fields: Partial<Pick<RemotePeer, 'name'>>): void;
  /** Adds the stream's tracks; renegotiates over the control channel (no push). */
  addStream(stream: MediaStream): RTCRtpSender[];
  restartIce(): void;
  close(reason?: string): void;
  /**
   * Registers the handler of control frames `{ t, … }` of one type (docs/PROTOCOL.md §7.3; built in: sdp, ice, ping,
   * bye, card). One handler per type (BAD_ARGUMENT for a second); its errors are logged, not thrown. Returns a function
   * that removes it. For pushpeer's own modules and extensions: the app has channel 1.
   */
  onControl(t: string, handler: (frame: { t: string; [field: string]: unknown }) => void | Promise<void>): () => void;
  /**
   * Sets the one receiver of the content channel's messages (pushpeer's content modules); messages that came before
   * are handed to it first, in order. Returns a function that unsets it.
   */
  onContent(handler: (data: ArrayBuffer | string) => void): () => void;
  /**
   * PushPeer calls it once the app was told of the connection: app-channel messages that arrived before (held: 64
   * messages and 8 MiB at most) are then dispatched in order, in a task of their own.
   */
  announced(): void;
  /** Sends a control frame as JSON if the control channel is open; returns whether it was sent. */
  sendControl(frame: { t: string; [field: string]: unknown }): boolean;
  /** The first offer/answer (carried by a link) is applied: later changes are negotiated over the control channel. */
  signalingDone(): void;
  addEventListener<K extends keyof ConnectionEventMap>(type: K,
    listener: (event: ConnectionEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions): void;
}

/**
 * An incoming call. Call accept() or decline(), or preventDefault() to decide later (PushPeer.requests() lists
 * it again, also after a reload). The caller becomes a peer only once it is accepted.
 */
export class RequestEvent extends Event {
  readonly type: 'request';
  /** The request's inbox id. */
  readonly id: number;
  /** The caller's name from their card (displayable text only: no control or bidi-override characters). */
  readonly from: { name: string; keyId: string };
  /** True when the caller is already a peer of ours (accepted before, called by us, or saved). */
  readonly known: boolean;
  /** The neighbour that carried the offer (an introduction), or null when it came by push. */
  readonly via: { keyId: string; name: string } | null;
  readonly sessionId: string;
  /** ms since the epoch, when the worker got the offer. */
  readonly received: number;
  /** Seconds since the caller sealed the offer (it gives up after offerMaxAge). */
  readonly age: number;
  /**
   * ms since the epoch after which the caller no longer waits: its latest offer's arrival + answerTimeoutMs (which
   * both sides must share) + 5 s, at most offerMaxAge after it was sealed. A retried offer moves it later. Then the
   * request expires ('requestexpired') and leaves requests().
   */
  readonly expiresAt: number;
  /**
   * One push: our answer. Fails with ALREADY_HANDLED when another page of the app took the request, EXPIRED (nothing
   * sent) when the caller stopped waiting.
   */
  accept(options?: { media?: MediaStream } & Timeouts & { iceServers?: RTCIceServer[] }): Promise<Connection>;
  /**
   * Sends the caller a bye only when it is a known peer or notify is true: by default a stranger is told nothing
   * (its card names an endpoint it chose) and its call times out. An expired request is declined without a word.
   */
  decline(options?: { notify?: boolean }): Promise<null>;
}

export interface PushPeerEventMap {
  request: RequestEvent;
  /** A connection was created (before its SDP is made): watch its ICE and DTLS steps from here. */
  connecting: Event & { connection: Connection; role: 'caller' | 'callee' };
  connection: Event & { connection: Connection };
  error: Event & { error: unknown };
  /** The worker refused a push (bad signature, replay, stale, unknown sender, ...). */
  rejected: Event & { code: PushPeerErrorCode; message?: string };
  /** The service worker took a newer signed site version (installPushPeer's `site` option; docs/PROTOCOL.md §10). */
  siteupdate: Event & { version: number; previous: number | null };
  /**
   * A site's listed file came into the worker's store (docs/API.md, "Serve your site from its visitors"): from
   * 'peer' (then `from`: bytes per peer key id) or 'origin'. Files answered from the store raise none.
   */
  sitefile: Event & { path: string; source: 'peer' | 'origin'; bytes: number; from: Record<string, number> | null };
  peergone: Event & { keyId: string; name: string; status: number };
  progress: Event & { sessionId: string; step: 'gathering' | 'offer-sealed' | 'offer-sent' | 'answer-received' | 'answer-sealed' | 'answer-sent' | 'reoffer' | 'open';
    ms?: number; bytes?: number; sdpBytes?: number; attempt?: number; via?: 'direct' | 'relay'; reason?: string;
    /** offer-sent: ms since the epoch when this attempt stops waiting for the answer. */
    answerBy?: number;
    /** offer-sent: ms since the epoch when the call gives up if no answer comes (the retries left included). */
    giveUpAt?: number };
  /**
   * A request nobody decided expired (its caller stopped waiting): forget it. Also, once, for one that expired while
   * no page was open (a missed call).
   */
  requestexpired: Event & { request: RequestEvent };
  /**
   * We carried an envelope between two of our peers (an introduction): key ids of its caller and callee; `hops`: how
   * many carry it when that is more than one (a route, docs/PROTOCOL.md §7.7).
   */
  carried: Event & { from: string; to: string; hops?: number };
  push: Event & { detail: { type: 'attempt' | 'response' | 'retry' | 'fallback'; [key: string]: unknown } };
  /** A push reached the worker and was accepted (also one that a page handled already). */
  received: Event & { id: number; messageType: InboxItem['type']; from: string; sessionId: string;
    bytes: number | null; latencyMs: number;
    /** The key id of the neighbour that carried it (an introduction), or null: it came by push. */
    via: string | null };
  cardchange: Event & { card: Card };
  log: Event & { message: string };
}

export interface GroupEventMap {
  /** A member is connected to us (joined, or we joined and were introduced to them). */
  peerjoin: Event & { keyId: string; name: string };
  /** That member's connection ended (a closing page: at once; a lost network: after peerGoneMs). */
  peerleave: Event & { keyId: string; name: string };
  /** group.send() of a member. */
  message: Event & { from: string; name: string; data: string };
}

/** A group (docs/API.md "Groups"): peers that introduce newcomers to each other; named by a shared secret. */
export class Group extends EventTarget {
  readonly name: string;
  /** The group's public id (base64url of 16 bytes; PROTOCOL §7.8). */
  readonly id: string;
  /** An open group of the library's own (a share's swarm, name `pushpeer-swarm:<id>`): no messages (PROTOCOL §9.6). */
  readonly open: boolean;
  /** The members we know, and whether we hold a live connection to each. */
  peers(): Array<{ keyId: string; name: string; connected: boolean }>;
  /** A link with our card and the group's name and secret: whoever holds it can join. */
  invite(): string;
  /**
   * Joins through a member: calls their card (two pushes; none when connected already), proves we hold the secret,
   * and is introduced to the members they are connected to (no push). NOT_A_MEMBER, TIMEOUT, or connect()'s errors.
   */
  join(cardOrLink: CardInput): Promise<Array<{ keyId: string; name: string; connected: boolean }>>;
  /** Text to every member (flooded with duplicate suppression beyond maxFullMesh). At most 16384 characters; BAD_ARGUMENT in an open group. */
  send(data: string): void;
  /** Stops taking part (connections stay). */
  leave(): void;
  addEventListener<K extends keyof GroupEventMap>(type: K, listener: (event: GroupEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions): void;
}

export class PushPeer extends EventTarget {
  static create(options?: PushPeerOptions): Promise<PushPeer>;
  readonly core: Core;
  readonly store: PushPeerStore;
  /** base64url of our 8-byte key id. */
  readonly keyId: string;
  readonly connections: Set<Connection>;
  /**
   * Our card. `{ push: false }`: the same card without grants: nobody can push to us with it, it can only be called
   * through a neighbour (what an open group's members, a swarm's or a site's visitors, get of us).
   */
  card(options?: { push?: boolean }): Card;
  /**
   * Two pushes: our offer, their answer. Resolves once the data channel is open. `signal` cancels the call: the
   * connection is closed and connect() rejects with ABORTED (an aborted signal: at once, nothing sent; a carried call
   * whose offer went out sends a bye through the carrier, and the callee's request expires at once). `via` (a live
   * Connection, or the key id of a peer we hold one to): no push; that peer carries the offer and the answer
   * (docs/PROTOCOL.md §7.7). Fails then also with INTRODUCTION_REFUSED (`.reason`), NO_ROUTE, NOT_CONNECTED.
   */
  connect(card: CardInput, options?: { media?: MediaStream; iceServers?: RTCIceServer[]; signal?: AbortSignal;
    via?: Connection | string;
    /** With `via`: the carriers after it (key ids, in order; at most 7), each passing the call on to the next. */
    carriers?: string[];
    /** With `via`: a group membership proof for the callee (groups' walks use it: docs/PROTOCOL.md §7.8). */
    vouch?: { group: string; proof: string };
    /**
     * Without `via`: a call to a member of one of our groups first tries (up to 3 of) the members we are connected
     * to, then push. false: straight to push. Default true.
     */
    route?: boolean } & Timeouts): Promise<Connection>;
  /**
   * Changes our display name, keeping live calls: a new card (BAD_TEXT for a name the core refuses), sent to live
   * peers over their connections (their remotechange); others get it with our next offer. Fires cardchange.
   */
  setName(name: string): Promise<void>;
  /** The group `name`, made with `secret` (random when none) the first time; the same Group afterwards. */
  group(name: string, options?: { secret?: Uint8Array | string }): Group;
  /** Joins the group of an invite link (Group.invite()); resolves once the member we joined through answered. */
  joinGroup(link: string): Promise<Group>;
  /** Our peers: people we accepted a call from, called, or saved. */
  peers(): Promise<Array<{ keyId: string; name: string; updated: number; gone: boolean }>>;
  /**
   * Shares files by link (docs/API.md, "Share by link"): stores and hashes them (128 KiB at a time), signs the
   * manifest. Options: title, name (for a Blob without one), type.
   */
  share(input: Blob | Blob[] | FileList, options?: { title?: string; name?: string; type?: string }): Promise<Share & { readonly link: string }>;
  /** What we share and what we downloaded, complete or not. */
  shares(): Promise<Share[]>;
  /** Downloads a share link (`…#share=<id>.<card>`); the same link after a reload resumes. BAD_ARGUMENT if not one. */
  fetch(link: string, options?: {
    /** Requests in flight over all sources (16). */
    window?: number; reconnects?: number; stallMs?: number;
    /**
     * 'auto' (default: 'sequential' from one source, 'rarest' from several), 'rarest' (the piece the fewest sources
     * have) or 'sequential' (the first missing one).
     */
    strategy?: 'auto' | 'rarest' | 'sequential';
    /** Sources fetched from at once, the link's sharer among them (16); beyond it addSource() returns false. */
    maxPeers?: number;
    /** Over this connection only (a file offered in a call): once it is closed, NOT_CONNECTED; no push is made. */
    via?: Connection;
  }): Download;
  /** Keeps a card's owner as a peer (they get our new card when it changes); resolves to its key id. */
  savePeer(card: CardInput): Promise<string>;
  /** Forgets a peer (they are a stranger again). */
  forgetPeer(keyId: string): Promise<void>;
  /** Requests not decided yet, also those that arrived before this page opened. */
  requests(): Promise<RequestEvent[]>;
  /** Acts on inbox items not handled yet (done on create). */
  processInbox(): Promise<void>;
  /**
   * The site the service worker serves (installPushPeer's `site` option): its version, the pinned publisher key, and
   * per listed file where the worker's last answer came from since it started (null: not asked). Null without a
   * worker with a site, or when it does not answer within 3 s.
   */
  siteStatus(): Promise<{ version: number; publisher: string; files: Array<{ path: string; size: number; type: string;
    source: 'cache' | 'peer' | 'origin' | null }> } | null>;
  close(): void;
  /** Forgets identity, peers and inbox, and unsubscribes. */
  forget(): Promise<void>;
  addEventListener<K extends keyof PushPeerEventMap>(type: K,
    listener: (event: PushPeerEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions): void;
}

export interface SharedFile {
  name: string;
  size: number;
  /** MIME type, or '' */
  type: string;
  /** base64url of the file's 32-byte merkle root (docs/PROTOCOL.md §9.1). */
  root: string;
}

export interface Share {
  /** base64url of the manifest's id: what the link names. */
  readonly id: string;
  /** The file's root for a share of one file; the id otherwise. */
  readonly root: string;
  /**
   * `<linkBase>#share=<id>.<our card>` once complete (we serve it); for a download still under way, the link it was
   * fetched from (peer.fetch(share.link) resumes it).
   */
  readonly link: string | null;
  /** The sharer's key id (base64url) for a download; null for a share of ours. */
  readonly from: string | null;
  readonly title: string;
  /** When the sharer signed its manifest (seconds since the epoch). */
  readonly created: number;
  readonly files: SharedFile[];
  /** Every piece here and verified (we serve it). */
  readonly complete: boolean;
  /** The signed manifest's bytes (docs/PROTOCOL.md §9.3). */
  readonly manifest: Uint8Array;
  /** Stops serving it and deletes its bytes here; false if it was not here. */
  remove(): Promise<boolean>;
  /** Where our service worker serves the file (null without a worker). */
  url(file?: number): string | null;
  /** What this page served of everything it shares since it loaded. */
  stats(): { ranges: number; bytes: number; manifests: number; refused: number;
    /** Who got what (the 256 most recent peers). */
    peers: { keyId: string; ranges: number; bytes: number }[] };
}

export interface DownloadProgress {
  bytes: number;
  totalBytes: number;
  pieces: number;
  totalPieces: number;
  /** Bytes per second over the last 2 s. */
  rate: number;
  peers: number;
}

export interface DownloadEventMap {
  manifest: Event & { manifest: { id: string; title: string; created: number; from: string; files: SharedFile[] } };
  /** `sources`: the per-peer figures, as `peers()` gives them. */
  progress: Event & DownloadProgress & { sources: DownloadPeer[] };
  /** `from`: the key id of the peer that sent the piece. */
  verified: Event & { file: number; piece: number; first: number; count: number; bytes: number; from: string | null };
  error: Event & { error: PushPeerError };
  done: Event;
}

export interface DownloadPeer {
  keyId: string | null;
  name: string;
  /** Pieces and bytes it sent us that verified. */
  pieces: number;
  bytes: number;
  /** Bytes/s over the last seconds (0 once its file is done). */
  rate: number;
  inflight: number;
  /** The sharer named in the link. */
  link: boolean;
  connected: boolean;
  /** It sent bytes that did not verify: dropped and never asked again for this share. */
  banned: boolean;
}

export class Download extends EventTarget {
  /** base64url of the share's id. */
  readonly id: string;
  readonly state: 'connecting' | 'downloading' | 'paused' | 'done' | 'failed' | 'cancelled';
  /** Bytes per piece (131072; a file's last piece may be shorter). */
  readonly pieceSize: number;
  readonly manifest: DownloadEventMap['manifest']['manifest'] | null;
  readonly error: PushPeerError | null;
  /** Resolves once every file is verified and stored (we serve it then); rejects with the download's error. */
  readonly done: Promise<Download>;
  progress(): DownloadProgress;
  /** The pieces of the file verified and stored so far (indexes, ascending). */
  pieces(file?: number): number[];
  /** The file's bytes in order, each piece as soon as it is verified. */
  stream(file?: number): ReadableStream<Uint8Array>;
  /** The whole file, once complete. */
  blob(file?: number): Promise<Blob>;
  /**
   * Where our service worker serves the file from its verified pieces as they arrive, with range requests (null
   * without a worker; 404 until the manifest is here): `video.src = dl.url(0)` after the 'manifest' event.
   */
  url(file?: number): string | null;
  pause(): void;
  resume(): void;
  /** Stops and deletes what was stored; `done` and streams reject with CANCELLED. */
  cancel(): Promise<void>;
  /** Who sent what: every source since the download started (those gone included). */
  peers(): DownloadPeer[];
  /**
   * Fetches from this peer too (it is sent the share's id). False for a closed connection, a peer banned for this
   * share (it sent bytes that did not verify), or a download that ended.
   */
  addSource(connection: Connection): boolean;
  /** Whether piece `piece` of file `file` is verified and stored here. */
  has(file: number, piece: number): boolean;
  addEventListener<K extends keyof DownloadEventMap>(type: K,
    listener: (event: DownloadEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions): void;
}

export interface PushResult {
  status: number;
  via: 'direct' | 'relay';
  attempts: number;
  endpoint: string;
  bytes: number;
  location: string | null;
}

export interface PushSender {
  /** One push to the card's owner, with a grant from the card. */
  send(options: { card: CardInput; payload: Uint8Array | string; ttl?: number;
    urgency?: 'very-low' | 'low' | 'normal' | 'high'; topic?: string }): Promise<PushResult>;
  build(options: { card: CardInput; payload: Uint8Array | string; ttl?: number; urgency?: string; topic?: string }):
    { endpoint: string; headers: Record<string, string>; body: Uint8Array };
  /** Whether a push to this endpoint would be allowed (a known push service, or one of allowPushHosts). */
  allows(endpoint: string): boolean;
  /** Fires one push with fetch keepalive (it outlives the page) and does not wait: no retries, never throws. */
  sendBeacon(options: { card: CardInput; payload: Uint8Array | string; ttl?: number; urgency?: string; topic?: string }): void;
}

export function createPushSender(options: {
  core: Core; relay?: string | null; relayMode?: 'auto' | 'always' | 'never'; retries?: number; backoffMs?: number;
  maxRetryAfterMs?: number; allowPushHosts?: string[]; requestTimeoutMs?: number; fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  onEvent?: (event: { type: string; [key: string]: unknown }) => void;
}): PushSender;

export interface InboxItem {
  id: number;
  /** ms since the epoch: when the worker got it (an offer's first arrival: its retries keep it). */
  received: number;
  /** Offers updated by a retry: when the latest one arrived. */
  lastReceived?: number;
  type: 'offer' | 'answer' | 'bye' | 'card';
  from: string;
  /** The sender's name (their card's, or the peer's we keep). */
  name: string;
  sessionId: string;
  sequence: number;
  timestamp: number;
  body: Uint8Array;
  /** Size of the decrypted push (the envelope). */
  bytes?: number;
  /** Offers: the caller's card (kept here, not as a peer, until the app accepts). */
  card: Uint8Array | null;
  /** Offers: the reference an answer or a bye to it names. */
  offerRef: Uint8Array | null;
  /** Answers and byes: the reference of the offer they answer. */
  ref: Uint8Array | null;
  /** Whether the sender was a peer of ours when it arrived. */
  knownPeer: boolean;
  /** Offers: how many retries of the same call updated this item. */
  retries?: number;
  state: 'new' | 'claimed' | 'done' | 'declined' | 'expired' | 'failed';
  owner: string | null;
  notified?: boolean;
}

export interface PeerRecord { keyId: string; identity: Uint8Array; card: Uint8Array; name: string; updated: number;
  gone?: boolean }

/**
 * A call we answered, key = `${peer}:${sessionId}`: the sealed answer (sent again if the caller repeats the same
 * offer) until the connection opened, then only `opened: true`.
 */
export interface SessionRecord { key: string; sessionId: string; peer: string; role: 'callee'; answer?: Uint8Array;
  offerBody?: Uint8Array; offerRef?: Uint8Array; sequence?: number; owner?: string; opened?: boolean; at: number }

/** Persistent state shared by a profile's pages and its worker. */
export interface PushPeerStore {
  readonly name: string;
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  getPeer(keyId: string): Promise<PeerRecord | undefined>;
  putPeer(peer: PeerRecord): Promise<void>;
  deletePeer(keyId: string): Promise<void>;
  peers(): Promise<PeerRecord[]>;
  addInbox(item: Omit<InboxItem, 'id' | 'state' | 'owner'> & Partial<InboxItem>): Promise<number>;
  getInbox(id: number): Promise<InboxItem | undefined>;
  inbox(): Promise<InboxItem[]>;
  updateInbox(id: number, patch: Partial<InboxItem> & Record<string, unknown>): Promise<InboxItem | null>;
  /** 'new' (or 'claimed' by `takeOver`, a page that is gone) -> 'claimed' for exactly one caller. */
  claimInbox(id: number, owner: string, options?: { takeOver?: string | null; accepted?: boolean }): Promise<boolean>;
  /** The inbox items of one call (its caller's key id and session id). */
  callItems(from: string, sessionId: string): Promise<InboxItem[]>;
  deleteInbox(id: number): Promise<void>;
  /**
   * Drops expired items, then the oldest beyond maxItems; resolves to the count dropped. maxBytes is not read: an
   * item is at most one push (~4 KiB), so maxItems bounds the bytes (INBOX_LIMITS holds both).
   */
  trimInbox(limits: { maxItems: number; maxBytes?: number; keepMs: number; keepNewMs: number; now: number }): Promise<number>;
  getSession(key: string): Promise<SessionRecord | undefined>;
  putSession(session: SessionRecord): Promise<void>;
  sessions(): Promise<SessionRecord[]>;
  deleteSession(key: string): Promise<void>;
  clear(): Promise<void>;
  close(): void;
}

export function openStore(options?: { name?: string; indexedDB?: IDBFactory }): Promise<PushPeerStore>;
export function createMemoryStore(options?: { name?: string }): PushPeerStore;

export { openPagePush, PagePushChannel, type PagePushOptions, type PagePushState } from './push/page-push.js';
