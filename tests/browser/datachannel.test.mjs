// Real browsers open a pushpeer data channel with non-trickle ICE, for every pair of Debian's Chromium and Firefox
// ESR, with the SDP passed through a transform (identity here; the SDP codec tests pass core.packSdp/unpackSdp).
// Run: npm run test:browser   (env PUSHPEER_SAVE_SDP=dir saves every browser-produced SDP there)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PAIRS, assertDataChannelSdp, candidateSummary, identity, startHarness } from './harness.mjs';

const TEST_TIMEOUT_MS = 60_000; // hard cap per test; connectPair itself gives up at 45 s with both pages' states

describe('browser data channel, SDP through a transform (identity)', { timeout: 5 * 60_000 }, () => {
  let harness;

  before(async () => {
    harness = await startHarness();
    await harness.launch(['chromium', 'firefox']); // cold starts stay out of the per-test caps
  });

  after(async () => {
    await harness?.close();
  });

  for (const [offerer, answerer] of PAIRS) {
    test(`${offerer} -> ${answerer}`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const r = await harness.connectPair({ offerer, answerer, transform: identity });

      const offer = assertDataChannelSdp(r.offer.sdp, `${offerer} offer`);
      const answer = assertDataChannelSdp(r.answer.sdp, `${answerer} answer`);
      assert.match(r.offer.sdp, /^a=setup:actpass$/m, 'an offer says actpass');
      assert.match(r.answer.sdp, /^a=setup:(active|passive)$/m, 'an answer picks a role');
      assert.equal(r.offer.wire, r.offer.sdp, 'identity transform');
      assert.equal(r.answer.wire, r.answer.sdp, 'identity transform');
      assert.equal(r.offer.gatheringComplete, true, `${offerer}: ICE gathering completed before the timeout`);
      assert.equal(r.answer.gatheringComplete, true, `${answerer}: ICE gathering completed before the timeout`);

      assert.deepEqual(r.messages.receivedByAnswerer, [r.messages.toAnswerer]);
      assert.deepEqual(r.messages.receivedByOfferer, [r.messages.toOfferer]);

      const bytes = (s) => Buffer.byteLength(s, 'utf8');
      t.diagnostic(`offer  ${offerer}: ${bytes(r.offer.sdp)} bytes, ${candidateSummary(offer.candidates)}, ` +
        `gathering ${r.offer.gatheringMs} ms`);
      t.diagnostic(`answer ${answerer}: ${bytes(r.answer.sdp)} bytes, ${candidateSummary(answer.candidates)}, ` +
        `gathering ${r.answer.gatheringMs} ms`);
      const pair = r.selectedPair.offerer;
      t.diagnostic(`selected pair (offerer side): ${pair?.local} <-> ${pair?.remote}`);
      t.diagnostic(`timings (ms from start): ${JSON.stringify(r.timings)}`);
    });
  }

  test('an SDP the answerer cannot parse fails fast, with both states in the error', { timeout: TEST_TIMEOUT_MS },
    async () => {
      const garble = (sdp, { kind }) => (kind === 'offer' ? sdp.replace(/^a=fingerprint:.*\r\n/m, '') : sdp);
      await assert.rejects(
        harness.connectPair({ offerer: 'chromium', answerer: 'chromium', transform: garble, saveDir: null }),
        (error) => {
          assert.match(error.message, /failed at acceptOffer/);
          assert.match(error.message, /chromium \(offerer\): signaling=have-local-offer/);
          return true;
        });
    });

  test('a wrong DTLS fingerprint in the answer: the connection fails and the channel never opens',
    { timeout: TEST_TIMEOUT_MS }, async () => {
      const wrongFingerprint = (sdp, { kind }) => (kind !== 'answer' ? sdp
        : sdp.replace(/^(a=fingerprint:sha-256 )(..)/m, (_, head, byte) => head + (byte === '00' ? '11' : '00')));
      await assert.rejects(
        harness.connectPair({ offerer: 'chromium', answerer: 'firefox', transform: wrongFingerprint, saveDir: null }),
        (error) => {
          assert.match(error.message, /failed at waitOpen.*data channel open: (connection failed|timed out)/);
          return true;
        });
    });

  test('browser versions', async (t) => {
    const versions = await harness.versions();
    t.diagnostic(JSON.stringify(versions));
    assert.ok(Object.keys(versions).length > 0);
  });
});
