// pushpeer's service-worker side. The browser has already decrypted the push (RFC 8291, with the keys of our
// subscription); here the envelope inside is verified (signature, recipient, age, replay; docs/PROTOCOL.md §4) and
// kept in the inbox, so nothing is lost when no tab is open. Open pages hear of it on a BroadcastChannel.
//
// Notifications (docs/PROTOCOL.md §7.5): browsers punish a push after which no notification is shown (Firefox
// takes one of 16 quota units unless a notification of the origin is visible 3 s later and drops the subscription at
// zero; Chromium spends engagement budget and then shows a notice of its own; Safari removes the subscription at
// the third), so every push shows one: before anything that could wait on the network, and with a promise that
// never rejects. One tag per kind, so that nobody can stack them up: requests, call progress, quiet news (card
// updates, retries), and refused pushes (silent, each replacing the last). While a window of the app is visible
// they are silent, and the page closes them a few seconds after it handled the message. Repeated refused pushes
// rotate the subscription: whoever is sending them loses the grants they hold, and peers get the new card.
//
// In your own service worker (module):   import { installPushPeer } from 'pushpeer/sw';  installPushPeer(self);
// Or register sw/pushpeer-sw.js as is (module worker).
import { loadCore } from '../js/core.js';
import { carriedReply, channelName, deliverCarried, deliverEnvelope, tellPages } from '../js/push/reception.js';
import { refreshSubscription } from '../js/push/subscription.js';
import { openStore } from '../js/store/store.js';
import { openContentStore } from '../js/content/content-store.js';
import { matchShareUrl, serveSharedFile } from '../js/content/serve-file.js';
import { PageRequests } from '../js/site/page-requests.js';
import { SiteFiles } from '../js/site/site-files.js';

/** Refused pushes within ROTATE_WINDOW_MS that make the worker rotate the subscription, at most once an hour. */
export const ROTATE_AFTER_REFUSED = 8;
const ROTATE_WINDOW_MS = 3600 * 1000;
const ROTATE_MIN_INTERVAL_MS = 3600 * 1000;
const NAME_SHOWN = 24; // characters of a peer's name shown in a notification

/**
 * A peer's name as a notification shows it: quoted and cut short, so that it reads as a name and cannot pose as a
 * URL, a sentence of ours or a system message (the core already refused control and bidi-override characters).
 */
export function displayName(name) {
  const chars = [...(name ?? '').trim()];
  if (chars.length === 0) return 'Someone';
  return `“${chars.length > NAME_SHOWN ? `${chars.slice(0, NAME_SHOWN - 1).join('')}…` : chars.join('')}”`;
}

/** The notification for an inbox item (or a refused push, item null), per kind: { tag, title, options }. */
export function notificationFor(item, appUrl) {
  const data = { inbox: item?.id ?? null, url: appUrl };
  if (!item) {
    return { tag: 'pushpeer-refused', title: 'A message was refused',
      options: { body: 'It could not be verified, so it was dropped.', silent: true, renotify: false, data } };
  }
  const who = displayName(item.name);
  if (item.type === 'offer' && item.state !== 'new') {
    // A retry of a request already declined (or expired): nothing to ask, but the push must still show something.
    return { tag: 'pushpeer-quiet', title: `${who} tried again`,
      options: { body: 'Nothing to do: the request was already handled.', silent: true, renotify: false, data } };
  }
  switch (item.type) {
    case 'offer':
      return { tag: 'pushpeer-request', title: `${who} wants to connect`,
        options: { body: 'Open the app to answer.', renotify: true, data } };
    case 'answer':
      return { tag: 'pushpeer-call', title: `${who} answered`, options: { body: 'Open the app to finish connecting.', data } };
    case 'bye':
      return { tag: 'pushpeer-call', title: `${who} declined`, options: { body: 'The call was not accepted.', data } };
    default:
      return { tag: 'pushpeer-quiet', title: `${who} has a new contact card`,
        options: { body: 'Nothing to do: it was saved.', silent: true, renotify: false, data } };
  }
}

/**
 * Adds the push, notificationclick and pushsubscriptionchange listeners to `scope` (the worker's global).
 * Options: storeName (IndexedDB name, default 'pushpeer'), appUrl (page to open from a notification, default the
 * registration's scope), core / store (already loaded ones, for tests), notify (default true), site ({ publisherKey,
 * manifest (URL, relative to the worker's), peers (default true: a listed file the worker lacks is fetched from the
 * site's other visitors through an open page first) }: the site's listed files are answered verified,
 * docs/PROTOCOL.md §10).
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
  const broadcast = (message) => tellPages(storeName, message);
  const appUrl = () => options.appUrl ?? scope.registration.scope;

  /** Shows the notification for a push (item null: refused); never throws. */
  async function notify(item) {
    if (options.notify === false) return;
    try {
      const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const visible = windows.some((c) => c.visibilityState === 'visible');
      const { tag, title, options: shown } = notificationFor(item, appUrl());
      // A visible page shows the request itself: the notification is only there for the browser's accounting.
      await scope.registration.showNotification(title, { ...shown, tag, ...(visible ? { silent: true, renotify: false } : {}) });
      if (item) await state.store.updateInbox(item.id, { notified: true });
    } catch (error) {
      // Headless Firefox has no notification backend: the inbox still has the message.
      if (item) await state.store.updateInbox(item.id, { notified: false, notifyError: String(error?.message ?? error) }).catch(() => {});
    }
  }

  /** After ROTATE_AFTER_REFUSED refused pushes within the window: a new subscription and card, for peers only. */
  async function rotateIfAbused(store, core, rejections) {
    const recent = rejections.filter((r) => Date.now() - r.at < ROTATE_WINDOW_MS);
    const last = (await store.get('rotated')) ?? 0;
    if (recent.length < ROTATE_AFTER_REFUSED || Date.now() - last < ROTATE_MIN_INTERVAL_MS) return null;
    await store.set('rotated', Date.now());
    const result = await refreshSubscription({ core, store, registration: scope.registration, force: true });
    broadcast({ pushpeer: 'subscription', reason: 'rotated', ...result });
    return result;
  }

  // Shared files at <scope>pushpeer-share/<id>/<file> (download.url(file)): verified pieces only, with ranges,
  // while they arrive (js/content/serve-file.js). Other requests are not ours: the network has them.
  let contentStore = null;
  scope.addEventListener('fetch', (event) => {
    if (event.request.method !== 'GET') return;
    const target = matchShareUrl(event.request.url);
    if (!target || !event.request.url.startsWith(scope.registration.scope)) return;
    event.respondWith((async () => {
      contentStore ??= options.contentStore ?? await openContentStore({ name: storeName });
      return serveSharedFile(contentStore, event.request, target,
        { wanted: (want) => broadcast({ pushpeer: 'want-piece', ...want }) });
    })().catch((error) => new Response(String(error?.message ?? error), { status: 500 })));
  });

  // A site's listed files (js/site/site-files.js): only bytes that lead to the roots its publisher signed. The
  // manifest is looked at again on navigations (at most once a minute); a newer version tells the pages.
  let site = null;
  // The pages with peers, which fetch a listed file the worker lacks from them (js/site/page-requests.js).
  let pageRequests = null;
  if (options.site && typeof BroadcastChannel !== 'undefined' && options.site.peers !== false) {
    pageRequests = new PageRequests({ post: broadcast });
    const fromPages = new BroadcastChannel(channelName(storeName));
    fromPages.onmessage = (e) => {
      pageRequests.receive(e.data);
      // A manifest a peer sent our page (js/site/site-versions.js): taken when the publisher signed a newer one.
      if (e.data?.pushpeer === 'site-offer' && e.data.bytes instanceof Uint8Array) {
        void siteFiles().then((s) => s.offer(e.data.bytes)).catch(siteError);
      }
    };
  }
  const siteFiles = async () => {
    if (site) return site;
    const { core, store } = await ready();
    contentStore ??= options.contentStore ?? await openContentStore({ name: storeName });
    site ??= new SiteFiles({ core, store, contentStore, publisherKey: options.site.publisherKey,
      manifestUrl: new URL(options.site.manifest ?? './pushpeer-site.bin', scope.location?.href ?? scope.registration.scope).href,
      fetch: (...a) => scope.fetch(...a), updated: (u) => broadcast({ pushpeer: 'siteupdate', ...u }),
      peers: pageRequests, obtained: (o) => broadcast({ pushpeer: 'sitefile', ...o }) });
    return site;
  };
  // Once per failure: while no manifest can be had, every request meets the same remembered error (SiteFiles).
  let lastSiteError = null;
  const siteError = (error) => {
    if (error === lastSiteError) return;
    lastSiteError = error;
    broadcast({ pushpeer: 'siteerror', code: error?.code ?? 'INTERNAL', message: String(error?.message ?? error) });
  };
  if (options.site) {
    // A page asks for the manifest to be looked at now ({ pushpeer: 'site-refresh' } with a port): the answer is
    // { version } or { error: { code, message } } on the port.
    scope.addEventListener('message', (event) => {
      // { pushpeer: 'site-status' } with a port: what the worker uses and where each file came from (SiteFiles.status()).
      if (event.data?.pushpeer === 'site-status' && event.ports?.[0]) {
        event.waitUntil(siteFiles().then((s) => s.current().then(() => s.status()), () => null)
          .then((status) => event.ports[0].postMessage(status)));
        return;
      }
      if (event.data?.pushpeer !== 'site-refresh' || !event.ports?.[0]) return;
      event.waitUntil(siteFiles().then((s) => s.refresh({ force: true }))
        .then((s) => ({ version: s.version }), (error) => {
          siteError(error);
          return { error: { code: error?.code ?? 'INTERNAL', message: String(error?.message ?? error) } };
        })
        .then((reply) => event.ports[0].postMessage(reply)));
    });
    scope.addEventListener('fetch', (event) => {
      const request = event.request;
      if (request.mode === 'navigate') {
        event.waitUntil(siteFiles().then((s) => s.refresh()).catch(siteError));
        return;
      }
      if (request.method !== 'GET' || new URL(request.url).origin !== new URL(scope.registration.scope).origin) return;
      if (matchShareUrl(request.url)) return; // the shares' listener above answers those
      if (site?.loaded) {
        if (site.match(request)) event.respondWith(site.respond(request));
        return;
      }
      // The worker just started: the manifest first (from the store, else the origin), then the same decision; the
      // network when there is no manifest to be had.
      event.respondWith(siteFiles().then((s) => s.current())
        .then(() => (site.match(request) ? site.respond(request) : scope.fetch(request)),
          (error) => {
            siteError(error);
            return scope.fetch(request);
          }));
    });
  }

  scope.addEventListener('install', (event) => event.waitUntil(scope.skipWaiting?.()));
  scope.addEventListener('activate', (event) => event.waitUntil(Promise.all([scope.clients?.claim(),
    options.site ? siteFiles().then((s) => s.current()).catch(siteError) : null])));

  scope.addEventListener('push', (event) => {
    // Resolves whatever happens: a rejected waitUntil counts as a push without a notification (WebKit).
    event.waitUntil((async () => {
      const bytes = event.data ? new Uint8Array(event.data.arrayBuffer()) : new Uint8Array(0);
      try {
        await ready();
      } catch (error) {
        await notify(null);
        broadcast({ pushpeer: 'rejected', code: error?.code ?? 'INTERNAL', message: String(error?.message ?? error) });
        return undefined;
      }
      const { core, store } = state;
      // Refused: recorded, never acted on. The push itself is consumed, and still shows a (silent) notification.
      const { error, rejections } = await deliverEnvelope({ core, store, storeName, data: bytes, before: notify });
      if (error) await rotateIfAbused(store, core, rejections).catch(() => {});
      return undefined;
    })().catch(() => {}));
  });

  scope.addEventListener('notificationclick', (event) => {
    event.notification.close();
    event.waitUntil((async () => {
      const url = event.notification.data?.url ?? appUrl();
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
      broadcast({ pushpeer: 'subscription', reason: 'changed', ...result });
    })());
  });

  // A page hands over an envelope a neighbour carried to it (docs/PROTOCOL.md §7.7): opened here, where the one
  // replay guard of the profile lives; the answer goes back on the port the page gave.
  scope.addEventListener('message', (event) => {
    const data = event.data;
    if (data?.pushpeer !== 'carried' || !(data.body instanceof Uint8Array) || !event.ports?.[0]) return;
    event.waitUntil((async () => {
      let reply;
      try {
        const { core, store } = await ready();
        reply = carriedReply(await deliverCarried({ core, store, storeName, body: data.body,
          via: String(data.via ?? ''), from: String(data.from ?? ''), route: data.route ?? [] }));
      } catch (error) {
        reply = { error: { code: error?.code ?? 'INTERNAL', message: String(error?.message ?? error) } };
      }
      event.ports[0].postMessage(reply);
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
      broadcast({ pushpeer: 'subscription', reason: 'requested', ...reply });
    })());
  });
}
