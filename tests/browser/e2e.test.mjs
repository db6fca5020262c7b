// End to end with the public API (js/index.js) in real browsers: two peers connect with nothing but two pushes
// through the local push service, then talk over the data channel. Firefox subscribes and receives for real;
// Chromium's push leg is delivered by DevTools after an independent decrypt (apps.mjs). Every assertion is about
// what a user of the API sees: connection open, messages both ways, tracks, errors with their codes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadCore } from '../../js/core.js';
import { createPushSender } from '../../js/push/sender.js';
import { connectFakeUA } from '../push-service/fake-ua.mjs';
import { connectAndTalk, diagnose, openAliceAndBob, pollUntil, SUBJECT, startWorld } from './apps.mjs';

const TEST_MS = 90_000;

/** A peer played by Node (a fake user agent holds its subscription): for faults the browsers must survive. */
async function nodePeer(world, core, name, grantOptions = {}) {
  const identity = core.generateVapidKeys();
  const ua = await connectFakeUA(world.service.wsUrl);
  const sub = await ua.subscribe(core, identity.publicKey);
  const grants = core.issueGrants({ privateKey: identity.privateKey, endpoint: sub.endpoint, subject: SUBJECT,
    ...grantOptions });
  const card = core.createCard({ identity, subscription: sub.subscription, subject: SUBJECT, name, grants });
  return { identity, ua, sub, card };
}

describe('PushPeer end to end: Firefox -> Firefox over the local push service', { timeout: 8 * 60_000 }, () => {
  let world;
  let alice;
  let bob;
  let core;

  before(async () => {
    core = await loadCore();
    world = await startWorld();
    ({ alice, bob } = await openAliceAndBob(world));
  });

  after(async () => {
    await world?.close();
  });

  test('Alice calls Bob with his card: two pushes, data channel open, messages both ways', { timeout: TEST_MS },
    async (t) => {
      try {
        const r = await connectAndTalk(world, alice, bob, t);
        // The pushes are what the issue promises: an offer to Bob's endpoint, an answer to Alice's, both small.
        const bobCard = await bob.call('card');
        // A Topic per session and direction (a retried offer replaces a stale one at the push service), derived by a
        // hash: the relay and the push service never see the session id (docs/PROTOCOL.md §4).
        const session = (await bob.call('inbox')).at(-1).sessionId;
        for (const p of r.pushes) assert.match(p.topic, /^[A-Za-z0-9_-]{16}$/);
        assert.notEqual(r.pushes[0].topic, r.pushes[1].topic);
        assert.ok(r.pushes.every((p) => !p.topic.includes(session)), 'no session id in a Topic');
        t.diagnostic(`push bodies: ${r.pushes.map((p) => p.bodyLength).join(', ')} bytes`);
        for (const p of r.pushes) assert.ok(p.bodyLength < 4096);
        assert.ok(bobCard.link.includes('#card='));
        const peers = await alice.call('peers');
        assert.deepEqual(peers.map((p) => p.name), ['Bob']);
        assert.deepEqual((await bob.call('peers')).map((p) => p.name), ['Alice']);
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('audio and video added after connecting: renegotiated over the data channel, no push', { timeout: TEST_MS },
    async () => {
      try {
        const { callerIndex, calleeIndex } = await connectAndTalk(world, alice, bob);
        const since = world.service.lastSeq;
        assert.deepEqual((await alice.call('addMedia', callerIndex)).sort(), ['audio', 'video']);
        assert.deepEqual((await bob.call('waitTracks', calleeIndex, 2)).sort(), ['audio', 'video']);
        const sent = await alice.call('negotiations', callerIndex);
        assert.ok(sent.includes('sent:offer'), `Alice's negotiations: ${sent}`);
        const received = await bob.call('negotiations', calleeIndex);
        assert.ok(received.includes('received:offer'), `Bob's negotiations: ${received}`);
        // Bob adds his own media too: now he is the one offering, still over the channel.
        await bob.call('addMedia', calleeIndex);
        assert.deepEqual((await alice.call('waitTracks', callerIndex, 2)).sort(), ['audio', 'video']);
        await bob.call('send', calleeIndex, 'still here');
        assert.ok((await alice.call('waitMessages', callerIndex, 2)).includes('still here'));
        assert.equal(world.pushesSince(since).length, 0, 'no push after the connection');
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('a call with audio and video from the start: the packed offer still fits one push', { timeout: TEST_MS },
    async (t) => {
      try {
        const { callerIndex, calleeIndex, pushes } = await connectAndTalk(world, alice, bob, t, { media: true });
        assert.deepEqual((await bob.call('waitTracks', calleeIndex, 2)).sort(), ['audio', 'video']);
        t.diagnostic(`offer push ${pushes[0].bodyLength} B, answer push ${pushes[1].bodyLength} B`);
        assert.ok(pushes[0].bodyLength > 1000, 'the offer carries the audio and video sections');
        assert.deepEqual(await alice.call('negotiations', callerIndex), [], 'nothing renegotiated');
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('ICE restart over the data channel: new ICE credentials on both sides, no push', { timeout: TEST_MS },
    async () => {
      try {
        const { callerIndex, calleeIndex } = await connectAndTalk(world, alice, bob);
        const since = world.service.lastSeq;
        const before = await alice.call('iceUfrags', callerIndex);
        await bob.call('restartIce', calleeIndex);
        const now = await pollUntil(() => alice.call('iceUfrags', callerIndex),
          (ufrags) => ufrags.local !== before.local && ufrags.remote !== before.remote, { timeoutMs: 20_000 });
        assert.notEqual(now.local, before.local, 'Alice has new local ICE credentials');
        assert.notEqual(now.remote, before.remote, 'Alice has Bob\'s new ICE credentials');
        await alice.call('send', callerIndex, 'after restart');
        assert.ok((await bob.call('waitMessages', calleeIndex, 2)).includes('after restart'));
        assert.equal(world.pushesSince(since).length, 0, 'no push for the restart');
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('a second page of Bob\'s profile: exactly one of them answers', { timeout: TEST_MS }, async () => {
    const bob2 = Object.create(Object.getPrototypeOf(bob));
    Object.assign(bob2, bob, { label: 'bob (2nd tab)', consoleLines: [] });
    try {
      await bob2.reopen();
      await bob2.call('create', { name: 'Bob', subject: SUBJECT });
      const first = (await bob.call('events', 'connection')).length;
      const since = world.service.lastSeq;
      const card = await bob.call('card');
      assert.equal((await bob2.call('card')).text.length > 0, true);
      const r = await alice.call('connect', card.text);
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      await new Promise((resolve) => setTimeout(resolve, 1500)); // time for a wrong second answer to show up
      const answered = (await bob.call('events', 'connection')).length - first +
        (await bob2.call('events', 'connection')).length;
      assert.equal(answered, 1, 'one page answered');
      assert.equal(world.pushesSince(since).length, 2, 'one offer, one answer');
    } catch (error) {
      throw await diagnose(world, [alice, bob, bob2], error);
    } finally {
      await bob2.page.close().catch(() => {});
    }
  });

  test('Bob\'s subscription changes: his worker re-subscribes, Alice gets his new card by push and calls the new '
    + 'endpoint', { timeout: TEST_MS }, async () => {
    try {
      const old = await bob.call('card');
      const keyId = (await alice.call('peers')).find((p) => p.name === 'Bob').keyId;
      const since = world.service.lastSeq;
      const reply = await bob.call('refreshSubscription');
      assert.deepEqual(reply.failed, [], JSON.stringify(reply));
      assert.equal(reply.sent.length, 1, 'the new card went to Alice');
      assert.notEqual(reply.endpoint, core.decodeCard(old.text).endpoint, 'a new endpoint');
      // Alice's worker stored Bob's new card; she calls him by key id, the offer goes to the new endpoint.
      const updated = await pollUntil(async () =>
        (await alice.call('peers')).some((p) => p.keyId === keyId && p.updated > 0) &&
          (await alice.call('inbox')).some((i) => i.type === 'card'), Boolean);
      assert.ok(updated, 'Alice received the card push');
      const newCard = await bob.call('card');
      assert.notEqual(newCard.text, old.text, 'Bob\'s page shows the new card');
      const before = world.service.lastSeq;
      const r = await alice.call('connect', keyId);
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      const offer = world.pushesSince(before)[0];
      assert.equal(`${world.service.httpOrigin}/wpush/${offer.subscription}`, reply.endpoint);
      assert.equal(world.pushesSince(since).length, 3, 'card + offer + answer');
    } catch (error) {
      throw await diagnose(world, [alice, bob], error);
    }
  });
  test('Bob declines: Alice\'s connect fails with DECLINED (offer and bye: two pushes)', { timeout: TEST_MS }, async () => {
    try {
      await bob.call('setDecision', 'decline');
      const since = world.service.lastSeq;
      const r = await alice.call('connect', (await bob.call('card')).text);
      assert.equal(r.error?.code, 'DECLINED', JSON.stringify(r));
      assert.equal(world.pushesSince(since).length, 2);
    } catch (error) {
      throw await diagnose(world, [alice, bob], error);
    } finally {
      await bob.call('setDecision', 'accept');
    }
  });

  test('faults: a gone subscription (410) is reported to the app as PEER_GONE', { timeout: TEST_MS }, async () => {
    const carol = await nodePeer(world, core, 'Carol');
    try {
      world.service.revoke(carol.sub.endpoint);
      const r = await alice.call('connect', carol.card.text);
      assert.equal(r.error?.code, 'PEER_GONE', JSON.stringify(r));
      assert.equal(r.error.status, 410);
      const gone = await alice.call('events', 'peergone');
      assert.equal(gone.length, 1);
      assert.equal(gone[0].status, 410);
    } finally {
      await carol.ua.close();
    }
  });

  test('faults: 429 with Retry-After is waited out and the call goes through', { timeout: TEST_MS }, async () => {
    try {
      const card = await bob.call('card');
      const endpoint = core.decodeCard(card.text).endpoint;
      world.service.faults.add({ subscription: endpoint, status: 429, retryAfter: 1 });
      const since = world.service.lastSeq;
      const retriesBefore = (await alice.call('events', 'push')).filter((e) => e.detail?.type === 'retry').length;
      const r = await alice.call('connect', card.text);
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      const retries = (await alice.call('events', 'push')).filter((e) => e.detail?.type === 'retry');
      assert.equal(retries.length - retriesBefore, 1);
      assert.equal(retries.at(-1).detail.status, 429);
      assert.equal(retries.at(-1).detail.delayMs, 1000);
      assert.ok(r.ms >= 1000, `waited Retry-After (${r.ms} ms)`);
      const refused = world.service.received.filter((e) => e.seq > since && e.type === 'push' && e.status === 429);
      assert.equal(refused.length, 1);
      assert.equal(world.pushesSince(since).length, 2);
    } catch (error) {
      throw await diagnose(world, [alice, bob], error);
    }
  });

  // With the default timing (docs/PROTOCOL.md §7.1): the caller offers again after answerTimeoutMs (30 s), and a callee
  // that answered keeps its connection waiting longer than that, so a lost push costs 30 s, never the call.
  test('faults, default options: a dropped offer: the caller offers again after 30 s and connects', { timeout: TEST_MS },
    async () => {
      try {
        const card = await bob.call('card');
        world.service.faults.add({ subscription: core.decodeCard(card.text).endpoint, drop: true });
        const since = world.service.lastSeq;
        const started = Date.now();
        const r = await alice.call('connect', card.text);
        assert.equal(r.error, undefined, JSON.stringify(r.error));
        assert.ok(r.ms >= 30_000, `the retry came after answerTimeoutMs (${r.ms} ms)`);
        const offers = (await alice.call('events', 'progress')).filter((e) => e.detail === 'offer-sent' && e.at >= started);
        assert.equal(offers.length, 2, 'two offers');
        const pushes = world.pushesSince(since);
        assert.equal(pushes.length, 3, 'dropped offer, offer, answer');
        assert.equal(pushes[0].outcome, 'dropped');
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('faults, default options: a dropped answer: the caller offers again, the callee sends the same answer again',
    { timeout: TEST_MS }, async () => {
      try {
        const aliceCard = await alice.call('card');
        world.service.faults.add({ subscription: core.decodeCard(aliceCard.text).endpoint, drop: true });
        const since = world.service.lastSeq;
        const before = (await bob.call('events', 'request')).length;
        const connectionsBefore = (await bob.call('events', 'connection')).length;
        const bobCard = (await bob.call('card')).text;
        const started = Date.now();
        const r = await alice.call('connect', bobCard);
        assert.equal(r.error, undefined, JSON.stringify(r.error));
        assert.ok(r.ms >= 30_000, `connected after the second offer (${r.ms} ms)`);
        const pushes = world.pushesSince(since);
        assert.equal(pushes.length, 4, 'offer, answer (dropped), offer again, the same answer again');
        assert.equal(pushes[1].outcome, 'dropped');
        assert.equal(pushes[3].bodyLength, pushes[1].bodyLength, 'the stored answer, not a new one');
        assert.equal((await bob.call('events', 'request')).length - before, 1, 'Bob was asked once');
        // Bob's first connection is the one that opened: he did not have to answer anew.
        assert.equal((await bob.call('events', 'connection')).length - connectionsBefore, 1);
        assert.equal((await bob.call('events', 'progress')).filter((e) => e.detail === 'answer-sent' && e.at >= started).length,
          1, 'one answer made');
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      }
    });

  test('faults: tampered, replayed, stale and unknown-sender envelopes are refused by the worker', { timeout: TEST_MS },
    async () => {
      const carol = await nodePeer(world, core, 'Carol');
      await bob.call('setDecision', 'ignore');
      try {
        const bobCard = (await bob.call('card')).text;
        const bobId = core.decodeCard(bobCard).keyId;
        const aliceId = core.decodeCard((await alice.call('card')).text).keyId;
        const sender = createPushSender({ core, allowPushHosts: [world.service.httpOrigin] });
        const seal = (extra) => core.sealEnvelope({ type: 'offer', privateKey: carol.identity.privateKey,
          recipient: bobId, card: carol.card.bytes, body: core.packSdp('v=0\r\n'), ...extra });
        const before = (await bob.call('events', 'rejected')).length;
        const good = seal({});
        await sender.send({ card: bobCard, payload: good });
        await sender.send({ card: bobCard, payload: good }); // the same envelope again
        const tampered = seal({});
        tampered[tampered.length - 1] ^= 1;
        await sender.send({ card: bobCard, payload: tampered });
        await sender.send({ card: bobCard, payload: seal({ timestamp: Math.floor(Date.now() / 1000) - 3600 }) });
        const stranger = core.generateVapidKeys();
        await sender.send({ card: bobCard, payload: core.sealEnvelope({ type: 'offer', privateKey: stranger.privateKey,
          recipient: bobId, body: 'x' }) });
        await sender.send({ card: bobCard, payload: seal({ recipient: aliceId }) }); // Alice's, re-delivered to Bob
        const rejected = (await pollUntil(() => bob.call('events', 'rejected'), (events) => events.length >= before + 5,
          { intervalMs: 50 })).slice(before).map((e) => e.code);
        assert.deepEqual(rejected, ['REPLAYED_MESSAGE', 'BAD_SIGNATURE', 'STALE_MESSAGE', 'UNKNOWN_SENDER', 'WRONG_RECIPIENT']);
        // Only the first, good one reached the inbox: a request nobody decided, and Carol is no peer of Bob's.
        const fromCarol = (await bob.call('inbox')).filter((i) => i.type === 'offer' && i.name === 'Carol');
        assert.equal(fromCarol.length, 1);
        assert.equal(fromCarol[0].state, 'new');
        assert.ok(!(await bob.call('peers')).some((p) => p.name === 'Carol'));
      } catch (error) {
        throw await diagnose(world, [alice, bob], error);
      } finally {
        await bob.call('setDecision', 'accept');
        await carol.ua.close();
      }
    });

  test('faults: a card whose grants have all expired: NO_USABLE_GRANT, nothing sent', { timeout: TEST_MS }, async () => {
    const dave = await nodePeer(world, core, 'Dave', { firstExpiration: Math.floor(Date.now() / 1000) - 100,
      interval: 10, count: 2 });
    try {
      const since = world.service.lastSeq;
      const r = await alice.call('connect', dave.card.text);
      assert.equal(r.error?.code, 'NO_USABLE_GRANT', JSON.stringify(r));
      assert.equal(world.service.received.filter((e) => e.seq > since && e.type === 'push').length, 0);
    } finally {
      await dave.ua.close();
    }
  });
});
