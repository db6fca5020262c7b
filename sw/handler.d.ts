// Types for sw/handler.js: pushpeer's service-worker side.
import type { Core, LoadCoreOptions } from '../js/core.js';
import type { PushPeerStore } from '../js/index.js';

export interface InstallOptions {
  /** IndexedDB name shared with the pages' PushPeer (default 'pushpeer'). */
  storeName?: string;
  /** Page a notification click opens when no window of the app is open. Default: the registration's scope. */
  appUrl?: string;
  /**
   * Show a notification for every push (default true): "“<name>” wants to connect" and the like, silent ones for
   * quiet news, refused pushes and while a window is visible. Browsers take the push subscription away from a worker
   * whose pushes show none: turn this off only where the browser is known not to meter pushes (tests).
   */
  notify?: boolean;
  core?: Core;
  store?: PushPeerStore;
  coreOptions?: LoadCoreOptions;
  /**
   * Signed site versions (docs/PROTOCOL.md §10): the files the publisher's manifest lists are answered only with bytes
   * that lead to their listed roots (from the worker's store, else the origin, checked first); a manifest signed by
   * another key (WRONG_PUBLISHER) or older than the newest seen (VERSION_BACKWARDS) is refused and the pages hear it
   * as an `error` event; a newer one is a `siteupdate` event. Pages and unlisted paths go to the network.
   */
  site?: {
    /** The publisher's public key: `publicKey` of the file `pushpeer keygen` wrote (base64url, 65 bytes). */
    publisherKey: string | Uint8Array;
    /** The manifest's URL, relative to the worker script (default './pushpeer-site.bin'). */
    manifest?: string;
    /**
     * A listed file the worker lacks is first fetched from the site's other visitors, through an open page of the
     * app that has live connections (each piece verified there), within deadlines; else from the origin. Default true.
     */
    peers?: boolean;
  };
}

/**
 * Adds install/activate (skipWaiting, clients.claim), push, notificationclick, pushsubscriptionchange and a
 * 'refresh-subscription' message listener to the worker's global scope (ServiceWorkerGlobalScope).
 */
export function installPushPeer(scope?: EventTarget, options?: InstallOptions): void;

/** Refused pushes within an hour after which the worker rotates the subscription (at most once an hour). */
export const ROTATE_AFTER_REFUSED: number;

/** A peer's name as a notification shows it: quoted and at most 24 characters. */
export function displayName(name: string): string;

/** The notification for an inbox item (null: a refused push). */
export function notificationFor(item: { id: number; type: string; name: string; state: string } | null, appUrl: string):
  { tag: string; title: string; options: NotificationOptions & { renotify?: boolean; data: { inbox: number | null; url: string } } };
