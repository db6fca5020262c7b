// The Wasm core loads and works inside a real page (served from http://localhost) in both browsers: the hook that
// SDP-codec and push tests use to run core functions where the application runs them (window.loadCore()).
// Needs the Wasm build (tests/run.sh browser builds it).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness } from './harness.mjs';

describe('Wasm core in a page', { timeout: 3 * 60_000 }, () => {
  let harness;

  before(async () => {
    harness = await startHarness();
    await harness.launch(['chromium', 'firefox']);
  });

  after(async () => {
    await harness?.close();
  });

  for (const name of ['chromium', 'firefox']) {
    test(`${name}: loadCore() and a key pair from the page's crypto.getRandomValues`, { timeout: 60_000 },
      async (t) => {
        const peer = await harness.openPeer(name);
        try {
          const r = await peer.evaluate(async () => {
            const t0 = performance.now();
            const core = await window.loadCore();
            const loadMs = Math.round(performance.now() - t0);
            const a = core.generateVapidKeys();
            const b = core.generateVapidKeys();
            return {
              loadMs,
              secure: window.isSecureContext,
              publicKey: a.publicKey.length,
              privateKey: a.privateKey.length,
              first: a.publicKey[0],
              distinct: a.privateKey.some((v, i) => v !== b.privateKey[i]),
            };
          });
          assert.equal(r.secure, true, 'http://localhost is a secure context');
          assert.deepEqual([r.publicKey, r.privateKey, r.first], [65, 32, 4]);
          assert.equal(r.distinct, true, 'two key pairs differ');
          t.diagnostic(`${name}: core loaded in ${r.loadMs} ms`);
        } finally {
          await peer.close();
        }
      });
  }
});
