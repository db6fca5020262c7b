// js/card.js: our card issued with fresh grants and when it needs renewing, against the release Wasm core and a
// memory store (its sending to peers: tests/node/subscription.test.mjs).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { CARD_RENEW_BEFORE, cardNeedsRenewal, GRANT_COUNT, GRANT_INTERVAL, issueCard } from '../../js/card.js';
import { loadCore } from '../../js/core.js';
import { createMemoryStore } from '../../js/store/store.js';
import { assertBytes, nowSeconds, randomBytes, toB64u as b64 } from './helpers.mjs';

const SUBJECT = 'mailto:inbox-test@pushpeer.invalid';
const MOZ = 'https://updates.push.services.mozilla.com/wpush/v2/';
const HOUR = 3600;

describe('card.js: our card', { timeout: 30_000 }, () => {
  let core;
  before(async () => {
    core = await loadCore();
  });

  const subscriptionFor = (endpoint) => ({ endpoint, expirationTime: null,
    keys: { p256dh: b64(core.generateVapidKeys().publicKey), auth: b64(randomBytes(16)) } });

  it('issueCard: 4 grants 20 h apart, saved under "card" with grantsUntil = the last grant\'s exp', async () => {
    assert.equal(GRANT_COUNT, 4);
    assert.equal(GRANT_INTERVAL, 20 * HOUR);
    const store = createMemoryStore();
    const identity = core.generateVapidKeys();
    const subscription = subscriptionFor(`${MOZ}me`);
    const before = nowSeconds();
    const saved = await issueCard({ core, store, identity, subscription, config: { subject: SUBJECT, name: 'Me' } });
    const after = nowSeconds();
    const card = core.decodeCard(saved.bytes);
    assert.equal(card.grants.length, 4);
    for (let i = 1; i < 4; i++) assert.equal(card.grants[i].exp - card.grants[i - 1].exp, 20 * HOUR, `grant ${i}`);
    assert.ok(card.grants[0].exp >= before + 20 * HOUR && card.grants[0].exp <= after + 20 * HOUR, 'first exp');
    assert.equal(saved.grantsUntil, card.grants[3].exp);
    assert.equal(card.endpoint, subscription.endpoint);
    assertBytes(card.identity, identity.publicKey);
    assert.equal(card.name, 'Me');
    assert.equal(card.subject, SUBJECT);
    assert.equal(saved.endpoint, subscription.endpoint);
    assert.equal(saved.name, 'Me');
    assert.equal(saved.subject, SUBJECT);
    assert.equal(saved.text, b64(saved.bytes));
    // the grants are VAPID for our endpoint, signed by our identity
    const { authorization } = core.grantAuthorization(saved.bytes);
    const jwt = /t=([^,]+)/.exec(authorization)[1];
    assert.equal(core.verifyVapidJwt(jwt, identity.publicKey).aud, 'https://updates.push.services.mozilla.com');

    const stored = await store.get('card');
    assert.deepEqual(stored, saved);
    assertBytes(stored.bytes, saved.bytes);

    // no name: '' (and cardNeedsRenewal agrees with what was saved)
    const anonymous = await issueCard({ core, store, identity, subscription, config: { subject: SUBJECT } });
    assert.equal(anonymous.name, '');
    assert.equal(core.decodeCard(anonymous.bytes).name, '');
    assert.equal(cardNeedsRenewal(anonymous, { core, endpoint: subscription.endpoint, config: { subject: SUBJECT } }), false);
    assert.deepEqual(await store.get('card'), anonymous, 'the latest card replaces the saved one');
  });

  it('cardNeedsRenewal: missing, another endpoint/name/subject, or grants ending within 40 h', async () => {
    assert.equal(CARD_RENEW_BEFORE, 40 * HOUR);
    const store = createMemoryStore();
    const identity = core.generateVapidKeys();
    const endpoint = `${MOZ}renew`;
    const config = { subject: SUBJECT, name: 'Me' };
    const saved = await issueCard({ core, store, identity, subscription: subscriptionFor(endpoint), config });
    const issuedAt = saved.grantsUntil - 80 * HOUR;
    const needs = (s, o = {}) => cardNeedsRenewal(s, { core, endpoint, config, ...o });

    assert.equal(needs(saved), false, 'fresh card (default now)');
    assert.equal(needs(saved, { now: issuedAt }), false);
    assert.equal(needs(undefined), true, 'missing');
    assert.equal(needs(null), true, 'missing');
    assert.equal(needs(saved, { endpoint: `${MOZ}other` }), true, 'other endpoint');
    assert.equal(needs(saved, { config: { ...config, name: 'Someone else' } }), true, 'other name');
    assert.equal(needs(saved, { config: { subject: SUBJECT } }), true, 'name dropped');
    assert.equal(needs(saved, { config: { ...config, subject: 'mailto:other@pushpeer.invalid' } }), true, 'other subject');
    // 40 h left exactly: still fine; less: renew.
    assert.equal(needs(saved, { now: saved.grantsUntil - 40 * HOUR }), false, '40 h left');
    assert.equal(needs(saved, { now: saved.grantsUntil - 40 * HOUR + 1 }), true, '40 h - 1 s left');
    assert.equal(needs(saved, { now: saved.grantsUntil - HOUR }), true, '1 h left');
    assert.equal(needs(saved, { now: saved.grantsUntil + HOUR }), true, 'expired');
    // A card this core cannot read (an older format version) is renewed too.
    const v1 = { ...saved, bytes: Uint8Array.from(saved.bytes, (b, i) => (i === 0 ? 0xc1 : b)) };
    assert.equal(needs(v1), true, 'card format version 1');
  });
});
