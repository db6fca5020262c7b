// installPushPeer's `site` option in a stand-in worker scope (sw/handler.js): what the fetch listeners do when no
// manifest can be had, and with the shares' own URLs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { createMemoryContentStore } from '../../js/content/content-store.js';
import { channelName } from '../../js/push/reception.js';
import { createMemoryStore } from '../../js/store/store.js';
import { installPushPeer } from '../../sw/handler.js';

const core = await loadCore();
const SCOPE = 'https://site.example/app/';

function workerScope() {
  const listeners = new Map();
  const asked = [];
  const scope = {
    asked,
    addEventListener: (type, fn) => listeners.set(type, [...(listeners.get(type) ?? []), fn]),
    registration: { scope: SCOPE },
    location: { href: `${SCOPE}sw.js` },
    clients: { claim: async () => {} },
    fetch: async (input) => {
      asked.push(new URL(typeof input === 'string' ? input : input.url).pathname);
      return new Response('no', { status: 404 });
    },
    /** A fetch event: how many times respondWith was called, and the promises waited on. */
    async fetchEvent(url) {
      const event = { request: new Request(url), responses: [], waits: [],
        respondWith(p) {
          if (this.responses.length) throw new DOMException('respondWith called twice', 'InvalidStateError');
          this.responses.push(Promise.resolve(p));
        },
        waitUntil(p) { this.waits.push(p); } };
      for (const fn of listeners.get('fetch') ?? []) fn(event);
      await Promise.allSettled([...event.responses, ...event.waits]);
      return event;
    },
  };
  return scope;
}

describe('the site option of the worker, without a manifest to be had', () => {
  it('the pages hear of the failure once, not once per request; the manifest is asked again a minute later at '
    + 'most; the shares\' URLs are answered by one listener', async () => {
    const storeName = `site-worker-${Math.random()}`;
    const heard = [];
    const pages = new BroadcastChannel(channelName(storeName));
    pages.onmessage = (e) => e.data?.pushpeer === 'siteerror' && heard.push(e.data.code);
    try {
      const scope = workerScope();
      installPushPeer(scope, { storeName, core, store: createMemoryStore({ name: storeName }),
        contentStore: createMemoryContentStore({ name: storeName }), notify: false,
        site: { publisherKey: core.base64urlEncode(core.generateVapidKeys().publicKey), peers: false } });
      for (let i = 0; i < 10; i++) await scope.fetchEvent(`${SCOPE}asset-${i}.bin`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(heard, ['NOT_FOUND']);
      assert.equal(scope.asked.filter((p) => p.endsWith('pushpeer-site.bin')).length, 1);
      const share = await scope.fetchEvent(`${SCOPE}pushpeer-share/${'A'.repeat(43)}/0`);
      assert.equal(share.responses.length, 1);
    } finally {
      pages.close();
    }
  });
});
