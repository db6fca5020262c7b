// A call's life as an app sees it, in real Firefox through the local push service: a new name reaches a live peer
// without a push; a closed connection says who ended it and why; connection.write() waits on back-pressure and fails
// when the peer goes away; connect() can be aborted; a request expires when its caller stopped waiting
// (docs/PROTOCOL.md §7.1). Both people use a short answerTimeoutMs (the same on both sides, as the rule needs).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadCore } from '../../js/core.js';
import { connectAndTalk, diagnose, pollUntil, SUBJECT, startWorld } from './apps.mjs';

const TEST_MS = 90_000;
const ANSWER_MS = 6000; // answerTimeoutMs of both people
const GRACE_MS = 5000; // what a request lives past its latest offer's answerTimeoutMs (js/signaling/calls.js)
const ALICE = { name: 'Alice', subject: SUBJECT, answerTimeoutMs: ANSWER_MS };
const BOB = { name: 'Bob', subject: SUBJECT, answerTimeoutMs: ANSWER_MS };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a call\'s life: names, close reasons, back-pressure, abort, expiry', { timeout: 8 * 60_000 }, () => {
  let world;
  let alice;
  let bob;
  let core;

  before(async () => {
    core = await loadCore();
    world = await startWorld();
    [alice, bob] = await Promise.all([world.open('firefox', 'alice'), world.open('firefox', 'bob')]);
    await Promise.all([alice.call('create', ALICE), bob.call('create', BOB)]);
  });

  after(async () => {
    await world?.close();
  });

  test('setName: Alice renames herself during a call; Bob\'s connection says so, stays open, and his peers show it; no push',
    { timeout: TEST_MS }, async () => {
      try {
        const { callerIndex, calleeIndex } = await connectAndTalk(world, alice, bob);
        const since = world.service.lastSeq;
        const renamed = await alice.call('setName', 'Alicia');
        assert.equal(renamed.error, undefined, JSON.stringify(renamed.error));
        assert.equal(core.decodeCard(renamed.card).name, 'Alicia', 'a new card with the new name');
        assert.equal((await alice.call('events', 'cardchange')).at(-1)?.detail, renamed.card, 'cardchange with it');
        const seen = await pollUntil(() => bob.call('remoteNames', calleeIndex), (r) => r.names.includes('Alicia'));
        assert.deepEqual(seen.names, ['Alicia'], 'remotechange fired once, with the new name');
        assert.equal(seen.remote, 'Alicia', 'connection.remote.name');
        assert.equal(seen.state, 'connected', 'the connection stays open');
        await alice.call('send', callerIndex, 'still Alice');
        assert.ok((await bob.call('waitMessages', calleeIndex, 2)).includes('still Alice'));
        const peers = await pollUntil(() => bob.call('peers'), (list) => list.some((p) => p.name === 'Alicia'));
        assert.deepEqual(peers.map((p) => p.name), ['Alicia']);
        assert.equal(world.pushesSince(since).length, 0, 'the live peer got the card over the control channel');
        // The core's text rules hold for a new name as for the first one: nothing changes.
        const bad = await alice.call('setName', 'Al\u202Eice');
        assert.equal(bad.error?.code, 'BAD_TEXT', JSON.stringify(bad));
        assert.equal(core.decodeCard((await alice.call('card')).text).name, 'Alicia');
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('close(\'hung up\'): the peer\'s close event says by \'peer\' with that reason; ours says by \'us\'',
    { timeout: TEST_MS }, async () => {
      try {
        const { callerIndex, calleeIndex } = await connectAndTalk(world, alice, bob);
        await alice.call('close', callerIndex, 'hung up');
        const theirs = await pollUntil(() => bob.call('closeInfo', calleeIndex), (r) => r.event !== null);
        assert.deepEqual(theirs.event, { reason: 'closed by the peer: hung up', by: 'peer', peerReason: 'hung up' });
        assert.deepEqual(theirs.property, theirs.event, 'connection.closeInfo');
        const ours = await alice.call('closeInfo', callerIndex);
        assert.deepEqual(ours.event, { reason: 'hung up', by: 'us', peerReason: '' });
        assert.deepEqual(ours.property, ours.event);
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('write(): a write waiting on back-pressure fails with NOT_CONNECTED when the peer\'s page reloads (by \'peer\', '
    + '\'page closed\'); a write on a closed connection fails at once', { timeout: TEST_MS }, async (t) => {
    try {
      const { callerIndex } = await connectAndTalk(world, alice, bob);
      // A transfer that never ends: 64 KiB writes above a 256 KiB high-water mark, so most of them wait.
      await alice.call('startWriting', callerIndex, { chunkBytes: 64 * 1024, highWater: 256 * 1024 });
      const writing = await pollUntil(() => alice.call('writer', callerIndex), (w) => w.waited >= 3);
      assert.ok(writing.waited >= 3, `writes waited on back-pressure: ${JSON.stringify(writing)}`);
      assert.equal(writing.error, null);
      await bob.page.reload({ waitUntil: 'load' });
      const ended = await pollUntil(() => alice.call('writer', callerIndex), (w) => w.done, { timeoutMs: 15_000 });
      t.diagnostic(`writes before the reload ended it: ${ended.writes} (${ended.waited} waited)`);
      assert.equal(ended.error?.code, 'NOT_CONNECTED', `the send loop ended: ${JSON.stringify(ended)}`);
      assert.equal(ended.failedWhileWaiting, true, 'the write that failed was waiting on back-pressure');
      const info = await alice.call('closeInfo', callerIndex);
      assert.deepEqual(info.event, { reason: 'closed by the peer: page closed', by: 'peer', peerReason: 'page closed' });
      const late = await alice.call('write', callerIndex, 'too late');
      assert.equal(late.error?.code, 'NOT_CONNECTED', JSON.stringify(late));
    } catch (error) {
      throw await diagnose(world, [alice, bob], error);
    } finally {
      await bob.page.waitForFunction(() => window.appReady === true);
      await bob.call('create', BOB);
    }
  });

  test('connect({ signal }): aborted while waiting for the answer: ABORTED, one push, the connection closed, nothing '
    + 'pending; an aborted signal sends nothing; offer-sent says when the call gives up', { timeout: TEST_MS }, async () => {
    try {
      await bob.call('setDecision', 'ignore');
      const card = (await bob.call('card')).text;
      let since = world.service.lastSeq;
      const aborted = await alice.call('connect', card, { abortAfter: 'offer-sent' });
      assert.equal(aborted.error?.code, 'ABORTED', JSON.stringify(aborted));
      const offerSent = (await alice.call('events', 'progress')).filter((e) => e.detail === 'offer-sent').at(-1);
      assert.ok(Math.abs(offerSent.answerBy - (offerSent.at + ANSWER_MS)) < 500, JSON.stringify(offerSent));
      assert.equal(offerSent.giveUpAt - offerSent.answerBy, ANSWER_MS, 'one retry (offerRetries 1) after this attempt');
      const last = await alice.call('lastConnecting');
      assert.equal(last.state, 'closed');
      assert.equal(last.closeInfo?.by, 'us');
      assert.equal(last.listed, false);
      assert.equal(await alice.page.evaluate(() => window.app.state.peer.calls.pending.size), 0, 'no call waits');
      // No retry: past the moment the second offer would have gone, still the one push.
      await sleep(ANSWER_MS + 1000);
      assert.equal(world.pushesSince(since).length, 1, 'exactly one push (the offer)');

      since = world.service.lastSeq;
      const before = (await alice.call('events', 'progress')).length;
      const early = await alice.call('connect', card, { abortAfter: 'now' });
      assert.equal(early.error?.code, 'ABORTED', JSON.stringify(early));
      assert.ok(early.ms < 500, `at once (${early.ms} ms)`);
      assert.equal((await alice.call('events', 'progress')).length, before, 'not even gathering');
      assert.equal(world.pushesSince(since).length, 0, 'nothing sent');
    } catch (error) {
      throw await diagnose(world, [alice, bob], error);
    } finally {
      await bob.call('setDecision', 'accept');
    }
  });

  test('expiry: a request whose caller still waits (its retries extend it) is listed and can be accepted; one whose '
    + 'caller gave up fires requestexpired, leaves requests(), and accept() fails with EXPIRED sending nothing',
  { timeout: TEST_MS }, async () => {
    try {
      await bob.call('setDecision', 'hold');
      const card = (await bob.call('card')).text;
      /** Calls Bob; resolves to the call (its result) and the session of the request Bob holds for it. */
      const callBob = async (options) => {
        const held = (await bob.call('heldSessions')).length;
        const call = alice.call('connect', card, options);
        const sessions = await pollUntil(() => bob.call('heldSessions'), (s) => s.length > held, { timeoutMs: 15_000 });
        return { call, sessionId: sessions[held] };
      };

      // Three offers, ANSWER_MS apart: Alice waits 3 × ANSWER_MS in all.
      const { call, sessionId } = await callBob({ offerRetries: 2 });
      const first = (await bob.call('pendingRequests')).find((r) => r.sessionId === sessionId);
      assert.equal(first.expiresAt - first.received, ANSWER_MS + GRACE_MS, 'the first offer: answerTimeoutMs + grace');
      // Past the moment the first offer alone would have expired: her retries kept it alive.
      await sleep(first.received + ANSWER_MS + GRACE_MS + 1500 - Date.now());
      const pending = (await bob.call('pendingRequests')).find((r) => r.sessionId === sessionId);
      assert.ok(pending, 'still listed while the caller waits');
      assert.ok(pending.expiresAt > Date.now(), `expiresAt extended (${pending.expiresAt - Date.now()} ms left)`);
      assert.ok(!(await bob.call('events', 'requestexpired')).some((e) => e.sessionId === sessionId));
      const accepted = await bob.call('acceptSession', sessionId);
      assert.equal(accepted.error, undefined, JSON.stringify(accepted.error));
      const r = await call;
      assert.equal(r.error, undefined, JSON.stringify(r.error));

      // One offer, no retry: Alice gives up after ANSWER_MS, Bob's request expires GRACE_MS later.
      const { call: gaveUp, sessionId: stale } = await callBob({ offerRetries: 0 });
      const received = (await bob.call('pendingRequests')).find((x) => x.sessionId === stale).received;
      assert.equal((await gaveUp).error?.code, 'TIMEOUT');
      const expired = (await pollUntil(() => bob.call('events', 'requestexpired'), (list) =>
        list.some((e) => e.sessionId === stale), { timeoutMs: 15_000 })).find((e) => e.sessionId === stale);
      assert.ok(expired, 'requestexpired');
      assert.ok(expired.at >= received + ANSWER_MS + GRACE_MS, `not before it was due (${expired.at - received} ms)`);
      assert.ok(!(await bob.call('pendingRequests')).some((x) => x.sessionId === stale), 'requests() leaves it out');
      const item = (await bob.call('inbox')).find((i) => i.id === expired.id);
      assert.equal(item.state, 'expired');
      const since = world.service.lastSeq;
      const late = await bob.call('acceptSession', stale);
      assert.equal(late.error?.code, 'EXPIRED', JSON.stringify(late));
      assert.equal(world.pushesSince(since).length, 0, 'nothing sent');
    } catch (error) {
      throw await diagnose(world, [alice, bob], error);
    } finally {
      await bob.call('setDecision', 'accept');
    }
  });
});
