// Types for sw/handler.js: pushpeer's service-worker side.
import type { Core, LoadCoreOptions } from '../js/core.js';
import type { PushPeerStore } from '../js/index.js';

export interface InstallOptions {
  /** IndexedDB name shared with the pages' PushPeer (default 'pushpeer'). */
  storeName?: string;
  /** Page a notification click opens when no window of the app is open. Default: the registration's scope. */
  appUrl?: string;
  /** Show "<name> wants to connect" when no window is visible (default true; browsers budget silent pushes). */
  notify?: boolean;
  core?: Core;
  store?: PushPeerStore;
  coreOptions?: LoadCoreOptions;
}

/**
 * Adds install/activate (skipWaiting, clients.claim), push, notificationclick, pushsubscriptionchange and a
 * 'refresh-subscription' message listener to the worker's global scope (ServiceWorkerGlobalScope).
 */
export function installPushPeer(scope?: EventTarget, options?: InstallOptions): void;
