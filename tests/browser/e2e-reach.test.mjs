// Who can reach whom, every cell: sender (Chromium, Firefox) × recipient (Chromium, Firefox) × push service with CORS
// (like Mozilla's: pages POST directly) or without (like FCM, WNS, Apple: pages go through the relay). Each call is
// exactly two pushes and messages both ways. One browser of each kind runs the module service worker, the other the
// classic-script build (js/wasm/pushpeer-sw.classic.js). Chromium's push leg is delivered by DevTools (apps.mjs).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { connectAndTalk, diagnose, SUBJECT, startWorld } from './apps.mjs';

const TEST_MS = 90_000;
const PAIRS = [['chromium', 'chromium'], ['chromium', 'firefox'], ['firefox', 'chromium'], ['firefox', 'firefox']];

for (const cors of [true, false]) {
  describe(`reach: push service ${cors ? 'with' : 'without'} CORS`, { timeout: 5 * 60_000 }, () => {
    let world;
    const apps = {};

    before(async () => {
      world = await startWorld({ cors });
      const opened = await Promise.all([world.open('chromium', 'chromium-a'), world.open('chromium', 'chromium-b'),
        world.open('firefox', 'firefox-a'), world.open('firefox', 'firefox-b')]);
      [apps.chromiumA, apps.chromiumB, apps.firefoxA, apps.firefoxB] = opened;
      await Promise.all(opened.map((app, i) => app.call('create', { name: app.label, subject: SUBJECT,
        relay: world.relayUrl, hostSubscribe: app.name === 'chromium', swType: i % 2 ? 'classic' : 'module' })));
      for (const app of [apps.chromiumB, apps.firefoxB]) assert.match(await app.call('workerScript'), /sw-classic\.js$/);
    });

    after(async () => {
      await world?.close();
    });

    for (const [from, to] of PAIRS) {
      test(`${from} calls ${to}: two pushes, ${cors ? 'posted directly' : 'through the relay'}`, { timeout: TEST_MS },
        async (t) => {
          // Distinct browsers for a same-kind pair: A calls B; otherwise the module-worker A of one kind calls the
          // classic-worker B of the other.
          const caller = apps[`${from}A`];
          const callee = apps[`${to}B`];
          try {
            await connectAndTalk(world, caller, callee, t);
            const vias = async (app) => (await app.call('events', 'push')).filter((e) => e.detail?.type === 'response')
              .map((e) => e.detail.via);
            const expected = cors ? 'direct' : 'relay';
            assert.deepEqual([...new Set(await vias(caller))], [expected], `${caller.label}'s pushes`);
            assert.deepEqual([...new Set(await vias(callee))], [expected], `${callee.label}'s pushes`);
            if (!cors) {
              // The browser's preflight failed (nothing was delivered that way); the page fell back to the relay once,
              // on its first call, and remembers to go there (each caller makes two calls).
              const fallbacks = (await caller.call('events', 'push')).filter((e) => e.detail?.type === 'fallback');
              assert.equal(fallbacks.length, 1, `${caller.label}: fallbacks to the relay`);
              assert.ok(world.service.received.some((e) => e.type === 'preflight' && e.cors === false));
            }
            if (to === 'chromium') {
              assert.ok(callee.delivered.length >= 1 && !callee.delivered.some((d) => d.error), JSON.stringify(callee.delivered));
            }
          } catch (error) {
            throw await diagnose(world, [caller, callee], error);
          }
        });
    }
  });
}
