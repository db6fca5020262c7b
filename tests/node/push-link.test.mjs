// js/signaling/push-link.js: the link contract (js/signaling/link.js) over the push sender. The push-only details
// come from the message's type (docs/PROTOCOL.md §4: Topics; §7.1: TTL), so that calls.js names none of them.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { loadCore } from '../../js/core.js';
import { assertLink } from '../../js/signaling/link.js';
import { createPushLink } from '../../js/signaling/push-link.js';
import { randomBytes, toB64u as b64 } from './helpers.mjs';

describe('push-link.js: envelopes as pushes', () => {
  let core;
  let card;
  let to;
  before(async () => {
    core = await loadCore();
    const identity = core.generateVapidKeys();
    card = core.createCard({ identity, subject: 'mailto:link@pushpeer.invalid', subscription: {
      endpoint: 'https://updates.push.services.mozilla.com/wpush/v2/x',
      keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(randomBytes(16)) } } }).bytes;
    to = b64(core.keyIdOf(identity.publicKey));
  });

  /** A push sender that records what it was asked to send. */
  function recordingSender({ allows = () => true, fail = null } = {}) {
    const sent = [];
    const sender = {
      sent,
      allows,
      send: async (options) => {
        sent.push(options);
        if (fail) throw fail;
        return { via: 'direct', status: 201 };
      },
      sendBeacon: (options) => sent.push({ beacon: true, ...options }),
    };
    return sender;
  }

  it('Topic, TTL and urgency per type: a call shares one Topic per direction, a bye replaces the answer, cards one per peer', async () => {
    const sender = recordingSender();
    const link = assertLink(createPushLink({ core, sender }));
    const sessionBytes = randomBytes(8);
    const sessionId = b64(sessionBytes);
    const envelope = randomBytes(100);
    const recipient = core.base64urlDecode(to);
    assert.deepEqual(await link.send({ to, card, type: 'offer', sessionId, envelope }), { via: 'direct', status: 201 });
    await link.send({ to, card, type: 'answer', sessionId, envelope });
    await link.send({ to, card, type: 'bye', sessionId, envelope });
    await link.send({ to, card, type: 'card', sessionId: b64(randomBytes(8)), envelope });
    link.sendBeacon({ to, card, type: 'bye', sessionId, envelope });
    const [offer, answer, bye, cardPush, beacon] = sender.sent;
    assert.deepEqual(offer, { card, payload: envelope, topic: core.pushTopic('offer', recipient, sessionBytes), ttl: 120 });
    assert.deepEqual(answer, { card, payload: envelope, topic: core.pushTopic('answer', recipient, sessionBytes), ttl: 120 });
    assert.deepEqual(bye, answer);
    assert.deepEqual(cardPush, { card, payload: envelope, topic: core.pushTopic('card', recipient, new Uint8Array(8)),
      ttl: 24 * 3600, urgency: 'normal' });
    assert.deepEqual(beacon, { beacon: true, ...bye });
  });

  it("check refuses a card whose push service is not one we push to; send's failures are the sender's", async () => {
    const link = createPushLink({ core, sender: recordingSender({ allows: () => false }) });
    assert.throws(() => link.check({ to, card }), (e) => e.code === 'HOST_NOT_ALLOWED' &&
      e.message.includes('https://updates.push.services.mozilla.com'));
    createPushLink({ core, sender: recordingSender() }).check({ to, card });
    const gone = Object.assign(new Error('gone'), { code: 'PEER_GONE' });
    const failing = createPushLink({ core, sender: recordingSender({ fail: gone }) });
    await assert.rejects(failing.send({ to, card, type: 'offer', sessionId: b64(randomBytes(8)), envelope: randomBytes(9) }),
      (e) => e === gone);
    // a beacon never throws, even for a message it cannot make
    createPushLink({ core, sender: recordingSender() }).sendBeacon({ to: '!', card, type: 'bye', envelope: randomBytes(1) });
  });

  it('assertLink: a link has check, send and sendBeacon', () => {
    for (const link of [null, {}, { check() {}, send() {} }]) {
      assert.throws(() => assertLink(link), (e) => e.code === 'BAD_ARGUMENT');
    }
  });
});
