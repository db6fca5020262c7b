// Each browser takes an SDP that went through core.packSdp / core.unpackSdp (the Wasm core, here in Node) from the
// other browser, and the data channel opens, in all four directions: with host candidates only (issue #3), and with
// a local STUN/TURN server (coturn behind a NAT, tests/browser/turn.mjs), whose srflx and relay candidates must be
// in every offer and answer (issue #9). These SDPs are fresh (never seen by the codec's dictionary); their packed
// sizes are checked against the data-channel target, 128 bytes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadCore } from '../../js/core.js';
import { assertRelayedCandidates, PAIRS, startHarness } from './harness.mjs';
import { startTurn } from './turn.mjs';

const TEST_TIMEOUT_MS = 60_000;
const TARGET = 128;

describe('browser data channel, SDP through the pushpeer codec', { timeout: 10 * 60_000 }, () => {
  let harness;
  let core;

  // One pair of browsers for both cases: connectPair takes the ICE servers per connection.
  before(async () => {
    core = await loadCore();
    harness = await startHarness();
    await harness.launch(['chromium', 'firefox']);
  });

  after(async () => {
    await harness?.close();
  });

  for (const withTurn of [false, true]) {
    const title = withTurn ? 'with STUN/TURN (host, srflx and relay candidates)' : 'host candidates';
    describe(title, { timeout: 5 * 60_000 }, () => {
      let turn;
      const sizes = [];

      before(async () => {
        if (withTurn) turn = await startTurn();
      });

      after(async () => {
        await turn?.close();
      });

      // The library's own gathering (js/connection/connection.js localSdp, default gatherQuietMs) leaves as soon as
      // it has a candidate of every type the servers can give: it must not leave without the srflx and relay ones.
      if (withTurn) {
        for (const [offerer, answerer] of PAIRS.slice(0, 2)) {
          test(`localSdp with its defaults: ${offerer} offer and ${answerer} answer keep srflx and relay`,
            { timeout: TEST_TIMEOUT_MS }, async () => {
              const [a, b] = [await harness.openPeer(offerer), await harness.openPeer(answerer)];
              try {
                const gather = (peer, offer) => peer.evaluate(async (iceServers, remote) => {
                  const { localSdp } = await import('/js/connection/connection.js');
                  const pc = new RTCPeerConnection({ iceServers });
                  pc.createDataChannel('c', { negotiated: true, id: 0 });
                  // The offer without its candidates: on one host a working pair would stop the answerer's gathering.
                  if (remote) await pc.setRemoteDescription({ type: 'offer', sdp: remote.replace(/a=candidate:.*\r\n/g, '') });
                  const { sdp } = await localSdp(pc, 10_000);
                  pc.close();
                  return sdp;
                }, turn.iceServers, offer ?? null);
                const offer = await gather(a);
                assertRelayedCandidates(offer, `${offerer} offer`);
                assertRelayedCandidates(await gather(b, offer), `${answerer} answer`);
              } finally {
                await Promise.all([a.close(), b.close()]);
              }
            });
        }
      }

      for (const [offerer, answerer] of PAIRS) {
        test(`${offerer} -> ${answerer}`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
          const transform = (sdp, { kind }) => {
            const who = `${kind === 'offer' ? offerer : answerer} ${kind}`;
            if (withTurn) assertRelayedCandidates(sdp, who);
            const packed = core.packSdp(sdp);
            sizes.push({ who, text: sdp.length, packed: packed.length, sdp });
            const back = core.unpackSdp(packed);
            assert.equal(back, sdp, 'lossless');
            return back;
          };
          const r = await harness.connectPair({
            offerer, answerer, transform, iceServers: withTurn ? turn.iceServers : [], iceTimeoutMs: 10_000,
          });
          assert.deepEqual(r.messages.receivedByAnswerer, [r.messages.toAnswerer]);
          assert.deepEqual(r.messages.receivedByOfferer, [r.messages.toOfferer]);
          for (const s of sizes.splice(0)) {
            t.diagnostic(`${s.who}: ${s.text} -> ${s.packed} bytes`);
            assert.ok(s.packed <= TARGET, `${s.who} packs to ${s.packed} bytes (target ${TARGET}):\n${s.sdp}`);
          }
        });
      }
    });
  }
});
