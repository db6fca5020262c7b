// End to end with the public API (js/index.js) in real browsers: two peers connect with nothing but two pushes
// through the local push service, then talk over the data channel. Firefox subscribes and receives for real;
// Chromium's push leg is delivered by DevTools after an independent decrypt (apps.mjs). Every assertion is about
// what a user of the API sees: connection open, messages both ways, tracks, errors with their codes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { SUBJECT, startWorld } from './apps.mjs';

const TEST_MS = 90_000;

async function diagnose(world, apps, error) {
  const lines = [];
  for (const a of apps) {
    let events = 'unavailable';
    let inbox = 'unavailable';
    try {
      events = JSON.stringify(await a.call('events'));
      inbox = JSON.stringify(await a.call('inbox'));
    } catch {
      // page gone
    }
    lines.push(`${a.label}: events ${events}\n  inbox ${inbox}\n  delivered ${JSON.stringify(a.delivered)}\n` +
      `  console ${JSON.stringify(a.consoleLines.slice(-12))}`);
  }
  const pushes = world.service.received.filter((e) => ['push', 'ack', 'nack', 'notification'].includes(e.type))
    .slice(-12).map(({ body, headers, ...e }) => JSON.stringify(e));
  return new Error(`${error.message}\n${lines.join('\n')}\nservice:\n  ${pushes.join('\n  ')}`, { cause: error });
}

/** Connects caller -> callee with the callee's card; asserts exactly two pushes and messages both ways. */
async function connectAndTalk(world, caller, callee, t, connectOptions = {}) {
  const since = world.service.lastSeq;
  const { card } = await callee.call('card').then((c) => ({ card: c }));
  const before = await callee.call('events', 'connection').then((e) => e.length);
  const result = await caller.call('connect', card.text, connectOptions);
  assert.equal(result.error, undefined, `connect failed: ${JSON.stringify(result.error)}`);
  t?.diagnostic(`${caller.label} -> ${callee.label}: open in ${Math.round(result.ms)} ms`);
  const calleeIndex = (await callee.call('waitConnections', before + 1)) - 1;
  await caller.call('send', result.index, `hello ${callee.label}`);
  await callee.call('send', calleeIndex, `hello ${caller.label}`);
  assert.deepEqual(await callee.call('waitMessages', calleeIndex, 1), [`hello ${callee.label}`]);
  assert.deepEqual(await caller.call('waitMessages', result.index, 1), [`hello ${caller.label}`]);
  const pushes = world.pushesSince(since);
  assert.equal(pushes.length, 2, `exactly two pushes (offer, answer), got ${pushes.length}`);
  return { callerIndex: result.index, calleeIndex, pushes, ms: result.ms };
}

describe('PushPeer end to end: Firefox -> Firefox over the local push service', { timeout: 6 * 60_000 }, () => {
  let world;
  let alice;
  let bob;

  before(async () => {
    world = await startWorld();
    [alice, bob] = await Promise.all([world.open('firefox', 'alice'), world.open('firefox', 'bob')]);
    await Promise.all([alice.call('create', { name: 'Alice', subject: SUBJECT }),
      bob.call('create', { name: 'Bob', subject: SUBJECT })]);
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
        assert.ok(r.pushes[0].headers?.topic ?? true);
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
});
