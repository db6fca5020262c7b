// Call-only mode in real browsers (issue #10): a Chromium page with no push subscription of the browser's own (as
// offline, where pushManager.subscribe() never settles) holds its push channel itself (js/push/page-push.js): it speaks
// the Mozilla push WebSocket protocol to the local push service and decrypts what arrives. It calls a Firefox
// peer with exactly two pushes; after a reload the same endpoint still reaches it, so its card keeps working and
// Firefox can call it while the page is open. No DevTools delivery and no Node user agent take part.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadCore } from '../../js/core.js';
import { connectAndTalk, diagnose, SUBJECT, startWorld } from './apps.mjs';

const TEST_MS = 90_000;

describe('page-held push channel: Chromium without a push service calls Firefox', { timeout: 5 * 60_000 }, () => {
  let world;
  let core;
  let bob;
  let carol;
  let carolOptions;

  before(async () => {
    core = await loadCore();
    world = await startWorld();
    [bob, carol] = await Promise.all([world.open('firefox', 'bob'), world.open('chromium', 'carol')]);
    carolOptions = { name: 'Carol', subject: SUBJECT, pagePush: world.service.wsUrl };
    await Promise.all([bob.call('create', { name: 'Bob', subject: SUBJECT }), carol.call('create', carolOptions)]);
  });

  after(async () => {
    await world?.close();
  });

  const endpointOf = (card) => core.decodeCard(card.text).endpoint;

  test('Carol (page-held channel) calls Bob: two pushes, the answer reaches her page', { timeout: TEST_MS },
    async (t) => {
      try {
        // Nothing of the browser's own push: no PushManager subscription, no fake user agent, no DevTools delivery.
        assert.equal(await carol.call('browserSubscription'), null);
        const sub = world.service.subscription(endpointOf(await carol.call('card')));
        assert.ok(sub?.active && sub.connected, `Carol's endpoint is a live subscription held by her page: ${JSON.stringify(sub)}`);
        const r = await connectAndTalk(world, carol, bob, t);
        assert.equal(r.pushes[1].subscription, sub.id, 'the answer went to the page-held subscription');
        assert.equal(carol.ua, undefined, 'no Node user agent');
        assert.deepEqual(carol.delivered, [], 'no DevTools delivery');
        // The page acknowledged the answer as delivered (code 100), as Firefox does.
        const ack = await world.service.waitForAck(r.pushes[1].version);
        assert.equal(ack.code, 100);
        assert.deepEqual((await carol.call('peers')).map((p) => p.name), ['Bob']);
      } catch (error) {
        throw await diagnose(world, [carol, bob], error);
      }
    });

  test('after a reload the same endpoint reaches Carol\'s page: Bob calls her with her card', { timeout: TEST_MS },
    async (t) => {
      try {
        const before = await carol.call('card');
        const { uaid } = world.service.subscription(endpointOf(before));
        const since = world.service.lastSeq;
        await carol.page.reload({ waitUntil: 'load' });
        await carol.page.waitForFunction(() => window.appReady === true);
        await carol.call('create', carolOptions);
        // The new page said hello with the saved uaid (the service kept it), and holds the socket now.
        await world.service.waitFor((e) => e.type === 'hello' && e.requestedUaid === uaid && e.uaid === uaid,
          { since, what: 'hello with the saved uaid' });
        assert.deepEqual(world.service.connectedUaids().filter((u) => u === uaid), [uaid]);
        const after = await carol.call('card');
        assert.equal(endpointOf(after), endpointOf(before), 'the card\'s endpoint is unchanged');
        assert.equal(after.text, before.text, 'the same card: peers who hold it still reach us');
        // Bob calls with the card he already holds (he became Carol's peer when she called).
        await connectAndTalk(world, bob, carol, t);
      } catch (error) {
        throw await diagnose(world, [carol, bob], error);
      }
    });
});
