// Issue #3 acceptance: each browser takes an SDP that went through core.packSdp / core.unpackSdp (the Wasm core,
// here in Node) from the other browser, and the data channel opens. These SDPs are fresh (never seen by the codec's
// dictionary); their packed sizes are checked against the data-channel target.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadCore } from '../../js/core.js';
import { PAIRS, startHarness } from './harness.mjs';

const TEST_TIMEOUT_MS = 60_000;

describe('browser data channel, SDP through the pushpeer codec', { timeout: 5 * 60_000 }, () => {
  let harness;
  let core;
  const sizes = [];

  before(async () => {
    core = await loadCore();
    harness = await startHarness();
    await harness.launch(['chromium', 'firefox']);
  });

  after(async () => {
    await harness?.close();
  });

  for (const [offerer, answerer] of PAIRS) {
    test(`${offerer} -> ${answerer}`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const transform = (sdp, { kind }) => {
        const packed = core.packSdp(sdp);
        sizes.push({ kind, from: kind === 'offer' ? offerer : answerer, text: sdp.length, packed: packed.length });
        const back = core.unpackSdp(packed);
        assert.equal(back, sdp, 'lossless');
        return back;
      };
      const r = await harness.connectPair({ offerer, answerer, transform });
      assert.deepEqual(r.messages.receivedByAnswerer, [r.messages.toAnswerer]);
      assert.deepEqual(r.messages.receivedByOfferer, [r.messages.toOfferer]);
      for (const s of sizes.splice(0)) {
        t.diagnostic(`${s.from} ${s.kind}: ${s.text} -> ${s.packed} bytes`);
        assert.ok(s.packed <= 128, `${s.from} ${s.kind} packs to ${s.packed} bytes (target 128)`);
      }
    });
  }
});
