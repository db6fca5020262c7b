// Types for js/page-push.js: a push channel held by the page itself (call-only mode, docs/API.md "Page-held push").
import type { Core } from '../core.js';
import type { PushPeerStore, PushSubscriptionJSONLike } from '../index.js';

export const SUBPROTOCOL: 'push-notification';
/** The store key of the channel's state (uaid, channel id, endpoint, the subscription's keys). */
export const STORE_KEY: 'pagePush';

export interface PagePushTimings {
  /** Socket open and hello answered. The first connection failing fails openPagePush (PUSH_UNREACHABLE). Default 10000. */
  connectTimeoutMs?: number;
  /** A register/unregister answer. Default 10000. */
  requestTimeoutMs?: number;
  /** Our keepalive ping. Default 300000 (autopush drops a client pinging more often than every 45 s). */
  pingIntervalMs?: number;
  /** No answer to a ping within this: the socket is closed and opened again. Default 10000. */
  pongTimeoutMs?: number;
  /** Reconnects back off from backoffMs (doubling, jittered) up to maxBackoffMs. Defaults 1000, 60000. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export const PAGE_PUSH_DEFAULTS: Readonly<Required<PagePushTimings>>;

export interface PagePushOptions extends PagePushTimings {
  /** The push service's WebSocket URL (ws: or wss:): one that speaks the Mozilla push protocol (autopush, the local one). */
  url: string | URL;
  /** A loaded core (share the PushPeer's). Default: loadCore(). */
  core?: Core;
  /** The PushPeer's store: the object, its IndexedDB name, or { name }. Default the default store ('pushpeer'). */
  store?: PushPeerStore | string | { name?: string };
  /** The WebSocket constructor. Default globalThis.WebSocket. */
  WebSocket?: new (url: string, protocols?: string | string[]) => WebSocket;
}

export type PagePushState = 'connecting' | 'open' | 'waiting' | 'replaced' | 'closed';

export interface PagePushEventMap {
  statechange: Event & { state: PagePushState };
  /** The service lost our registration and a new endpoint was made: issue the card again (create the PushPeer anew). */
  subscriptionchange: Event & { subscription: PushSubscriptionJSONLike };
  error: Event & { error: Error };
}

export class PagePushChannel extends EventTarget {
  readonly url: string;
  /**
   * 'connecting'; 'open' (the service answered hello); 'waiting' (dropped, reconnecting with backoff); 'replaced'
   * (another page of this store holds the connection; taken back when this page is shown); 'closed'.
   */
  readonly state: PagePushState;
  /**
   * A subscription for the key, as PushSubscription.toJSON() gives it: the saved one while the key is the same,
   * else a new one (the old channel is unregistered). Bound: pass it as PushPeer's `subscribe` option.
   * Fails with PUSH_UNREACHABLE, SUBSCRIBE_FAILED, BAD_KEY.
   */
  subscribe(applicationServerKey: Uint8Array | ArrayBuffer | string): Promise<PushSubscriptionJSONLike>;
  /** Unregisters at the push service and forgets the subscription's keys; resolves to whether there was one. */
  unsubscribe(): Promise<boolean>;
  /** Closes the socket and stops reconnecting; the subscription stays for the next page. */
  close(): void;
  addEventListener<K extends keyof PagePushEventMap>(type: K, listener: (event: PagePushEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof PagePushEventMap>(type: K, listener: (event: PagePushEventMap[K]) => void,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions): void;
}

/**
 * Connects to the push service and says hello (with the saved uaid); resolves once it answered. Fails with
 * BAD_ARGUMENT (not a ws:/wss: URL), NOT_SUPPORTED (no WebSocket) or PUSH_UNREACHABLE (no answer within
 * connectTimeoutMs; nothing is left running).
 */
export function openPagePush(options: PagePushOptions): Promise<PagePushChannel>;
