// pushpeer's service-worker side. The browser has already decrypted the push (RFC 8291, with the keys of our
// subscription); here the envelope inside is verified (signature, age, replay; docs/PROTOCOL.md §4) and kept in
// the inbox, so nothing is lost when no tab is open. Open pages hear of it on a BroadcastChannel; when none is
// visible a notification says who wants to connect (browsers budget silent pushes: docs/TESTING.md §4).
//
// In your own service worker (module):   import { installPushPeer } from 'pushpeer/sw';  installPushPeer(self);
// Or register sw/pushpeer-sw.js as is (module worker).
import { loadCore } from '../js/core.js';
import { channelName, receivePush, recordRejection, refreshSubscription } from '../js/inbox.js';
import { openStore } from '../js/store.js';

/**
 * Adds the push, notificationclick and pushsubscriptionchange listeners to `scope` (the worker's global).
 * Options: storeName (IndexedDB name, default 'pushpeer'), appUrl (page to open from a notification, default the
 * registration's scope), core / store (already loaded ones, for tests), notify (default true).
 */
export function installPushPeer(scope = globalThis, options = {}) {
  const state = { core: options.core ?? null, store: options.store ?? null };
  const storeName = options.storeName ?? 'pushpeer';
  // One start-up for all the events that wake the worker: two cores would each keep (and save over the other's)
  // a replay guard, and a redelivered message could pass.
  let readying = null;
  function ready() {
    readying ??= (async () => {
      state.core ??= await loadCore(options.coreOptions);
      state.store ??= await openStore({ name: storeName });
      return state;
    })().catch((error) => {
      readying = null;
      throw error;
    });
    return readying;
  }
  const channel = () => new BroadcastChannel(channelName(storeName));

  scope.addEventListener('install', (event) => event.waitUntil(scope.skipWaiting?.()));
  scope.addEventListener('activate', (event) => event.waitUntil(scope.clients?.claim()));

  scope.addEventListener('push', (event) => {
    event.waitUntil((async () => {
      const bytes = event.data ? new Uint8Array(event.data.arrayBuffer()) : new Uint8Array(0);
      const bc = channel();
      let store = null;
      try {
        ({ store } = await ready());
        const item = await receivePush({ core: state.core, store, data: bytes });
        bc.postMessage({ pushpeer: 'inbox', id: item.id, type: item.type });
        if (options.notify !== false && item.type !== 'card') await notifyIfHidden(scope, store, item, options);
      } catch (error) {
        // Refused (or we could not even start): recorded, never acted on. The push itself is consumed.
        const code = error?.code ?? 'INTERNAL';
        if (store) await recordRejection(store, code, bytes.length);
        bc.postMessage({ pushpeer: 'rejected', code, message: String(error?.message ?? error) });
      } finally {
        bc.close();
      }
    })());
  });

  scope.addEventListener('notificationclick', (event) => {
    event.notification.close();
    event.waitUntil((async () => {
      const url = event.notification.data?.url ?? options.appUrl ?? scope.registration.scope;
      const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((c) => c.url.startsWith(scope.registration.scope));
      if (open) return open.focus();
      return scope.clients.openWindow(url);
    })());
  });

  scope.addEventListener('pushsubscriptionchange', (event) => {
    event.waitUntil((async () => {
      const { core, store } = await ready();
      const result = await refreshSubscription({ core, store, registration: scope.registration,
        newSubscription: event.newSubscription ?? null });
      const bc = channel();
      bc.postMessage({ pushpeer: 'subscription', ...result });
      bc.close();
    })());
  });

  // Pages may ask the worker to re-subscribe (tests, and a page that finds the subscription gone).
  scope.addEventListener('message', (event) => {
    if (event.data?.pushpeer !== 'refresh-subscription') return;
    event.waitUntil((async () => {
      const { core, store } = await ready();
      let reply;
      try {
        reply = await refreshSubscription({ core, store, registration: scope.registration, newSubscription: null,
          force: true });
      } catch (error) {
        reply = { error: error?.code ?? String(error) };
      }
      event.source?.postMessage({ pushpeer: 'subscription', ...reply });
      const bc = channel();
      bc.postMessage({ pushpeer: 'subscription', ...reply });
      bc.close();
    })());
  });
}

async function notifyIfHidden(scope, store, item, options) {
  const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
  if (windows.some((c) => c.visibilityState === 'visible')) return;
  const peer = await store.getPeer(item.from);
  const name = peer?.name || 'Someone';
  const title = item.type === 'offer' ? `${name} wants to connect` : `${name} answered`;
  try {
    await scope.registration.showNotification(title, {
      body: item.type === 'offer' ? 'Open the app to accept.' : 'Open the app to finish connecting.',
      tag: `pushpeer-${item.sessionId}`,
      data: { inbox: item.id, url: options.appUrl ?? scope.registration.scope },
    });
    await store.updateInbox(item.id, { notified: true });
  } catch (error) {
    // Headless Firefox has no notification backend (docs/TESTING.md §3): the inbox still has the message.
    await store.updateInbox(item.id, { notified: false, notifyError: String(error?.message ?? error) });
  }
}
