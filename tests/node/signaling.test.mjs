// The signaling layer through the Wasm core: SDP codec over the corpus (tests/corpus/sdp, read in place), cards,
// grants and envelopes, and each refusal with its own code.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { it } from 'node:test';

import { corpusDir, forEachFlavor, PushPeerError } from './helpers.mjs';

const corpus = readdirSync(corpusDir).filter((f) => f.endsWith('.sdp')).sort()
  .map((f) => ({ name: f, sdp: readFileSync(new URL(f, corpusDir), 'utf8') }));

// Data channel 128 bytes (host candidates only, or with srflx and relay ones too), audio/video 900 (docs/PROTOCOL.md
// §2.4).
const sizeTarget = (name) => (name.startsWith('datachannel') ? 128 : 900);

const expectCode = (fn, code, label) => assert.throws(fn, (e) => e instanceof PushPeerError && e.code === code, label ?? code);

forEachFlavor((core) => {
  const subscriptionFor = (keys, endpoint) => ({
    endpoint, keys: { p256dh: core.base64urlEncode(keys.publicKey), auth: core.base64urlEncode(new Uint8Array(16).fill(3)) },
  });
  const MOZ = 'https://updates.push.services.mozilla.com/wpush/v2/gAAAAABnZXRfYV9yZWFsX2xvb2tpbmdfZmVybmV0';

  it('packSdp/unpackSdp: every corpus SDP round-trips exactly within the size targets', (t) => {
    assert.equal(corpus.length, 32);
    for (const { name, sdp } of corpus) {
      const packed = core.packSdp(sdp);
      assert.equal(core.unpackSdp(packed), sdp, name);
      assert.ok(packed.length <= sizeTarget(name), `${name}: ${packed.length} bytes`);
      t.diagnostic(`${name}: ${sdp.length} -> ${packed.length} bytes`);
    }
  });

  it('packSdp/unpackSdp: bad input', () => {
    expectCode(() => core.packSdp(''), 'BAD_SDP');
    expectCode(() => core.packSdp('a'.repeat(65537)), 'BAD_SDP');
    expectCode(() => core.packSdp(42), 'BAD_ARGUMENT');
    expectCode(() => core.unpackSdp(new Uint8Array([0x30, 1, 2])), 'UNSUPPORTED_VERSION');
    const packed = core.packSdp(corpus[0].sdp);
    for (let n = 0; n < packed.length; n += 3) {
      assert.throws(() => core.unpackSdp(packed.subarray(0, n)), PushPeerError, `truncated to ${n}`);
    }
    assert.equal(core.unpackSdp(packed), corpus[0].sdp); // the instance is still fine
  });

  it('cards: create, link form, decode, grants; tampering refused', () => {
    const alice = core.generateVapidKeys();
    const ua = core.generateVapidKeys();
    const card = core.createCard({ identity: alice, subscription: subscriptionFor(ua, MOZ), subject: 'https://pushpeer.example', name: 'Alice ✓' });
    assert.ok(card.bytes.length < 600, `${card.bytes.length} bytes`);
    const d = core.decodeCard(`https://app.example/#card=${card.text}`);
    assert.equal(d.name, 'Alice ✓');
    assert.equal(d.endpoint, MOZ);
    assert.deepEqual(d.identity, alice.publicKey);
    assert.deepEqual(d.p256dh, ua.publicKey);
    assert.equal(d.grants.length, 4);
    const { authorization, endpoint, p256dh, auth } = core.grantAuthorization(card.bytes);
    // The push target comes with it, from the same card.
    assert.equal(endpoint, d.endpoint);
    assert.deepEqual(p256dh, d.p256dh);
    assert.deepEqual(auth, d.auth);
    const jwt = /t=([^,]+)/.exec(authorization)[1];
    assert.equal(core.verifyVapidJwt(jwt, alice.publicKey).aud, 'https://updates.push.services.mozilla.com');
    expectCode(() => core.grantAuthorization(card.bytes, { now: d.grants[3].exp + 1 }), 'NO_USABLE_GRANT');
    const bad = Uint8Array.from(card.bytes);
    bad[bad.length - 1] ^= 1;
    expectCode(() => core.decodeCard(bad), 'BAD_SIGNATURE');
    expectCode(() => core.decodeCard(card.bytes.subarray(0, 100)), 'BAD_CARD');
    expectCode(() => core.decodeCard('not base64!'), 'BAD_BASE64');
    expectCode(() => core.createCard({ identity: alice, subscription: subscriptionFor(ua, MOZ), subject: 'ftp://x' }), 'BAD_SUBJECT');
  });

  it('envelopes: an offer with card and SDP fits one push, opens once, then is a replay', () => {
    const alice = core.generateVapidKeys();
    const bob = core.keyIdOf(core.generateVapidKeys().publicKey);
    const card = core.createCard({ identity: alice, subscription: subscriptionFor(core.generateVapidKeys(), MOZ), subject: 'mailto:a@pushpeer.example' });
    for (const { name, sdp } of corpus) {
      const env = core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, recipient: bob, body: core.packSdp(sdp), card: card.bytes });
      assert.ok(env.length <= core.maxPayloadLength, `${name}: ${env.length}`);
      const opened = core.openEnvelope(env, { self: bob });
      assert.equal(opened.typeName, 'offer');
      assert.deepEqual(opened.senderKey, alice.publicKey);
      assert.deepEqual(opened.recipient, bob);
      assert.deepEqual(opened.cardBytes, card.bytes);
      assert.equal(opened.ref, null);
      assert.equal(core.unpackSdp(opened.body), sdp);
      expectCode(() => core.openEnvelope(env, { self: bob }), 'REPLAYED_MESSAGE', name);
    }
  });

  it('envelopes: unknown sender, wrong key, wrong recipient, stale, tampered, oversize', () => {
    const alice = core.generateVapidKeys();
    const mallory = core.generateVapidKeys();
    const bob = core.keyIdOf(core.generateVapidKeys().publicKey);
    const carol = core.keyIdOf(core.generateVapidKeys().publicKey);
    const ref = new Uint8Array(16).fill(1);
    const env = core.sealEnvelope({ type: 'answer', privateKey: alice.privateKey, recipient: bob, ref, body: 'x', sequence: 7 });
    expectCode(() => core.openEnvelope(env, { self: bob }), 'UNKNOWN_SENDER');
    expectCode(() => core.openEnvelope(env, { self: bob, peers: () => mallory.publicKey }), 'UNKNOWN_SENDER');
    const opened = core.openEnvelope(env, { self: bob, peers: () => alice.publicKey, replay: false });
    assert.deepEqual(opened.ref, ref);
    const aliceId = core.base64urlEncode(opened.sender);
    assert.equal(aliceId, core.base64urlEncode(core.keyIdOf(alice.publicKey)));
    assert.deepEqual(core.envelopeSender(env), { keyId: aliceId, hasCard: false });
    const peers = (id) => (id === aliceId ? alice.publicKey : undefined);
    // Bob's envelope, re-delivered to Carol, is refused; so is opening without saying who we are.
    expectCode(() => core.openEnvelope(env, { self: carol, peers }), 'WRONG_RECIPIENT');
    expectCode(() => core.openEnvelope(env, { peers }), 'BAD_ARGUMENT');
    // Relative to the envelope's own timestamp: the window is [ts - 120 s, ts + 600 s] of the receiver's clock.
    expectCode(() => core.openEnvelope(env, { self: bob, peers, now: opened.timestamp + 601 }), 'STALE_MESSAGE');
    expectCode(() => core.openEnvelope(env, { self: bob, peers, now: opened.timestamp - 121 }), 'STALE_MESSAGE');
    const tampered = Uint8Array.from(env);
    tampered[env.length - 65] ^= 1; // the body byte
    expectCode(() => core.openEnvelope(tampered, { self: bob, peers }), 'BAD_SIGNATURE');
    expectCode(() => core.openEnvelope(env.subarray(0, 20), { self: bob, peers }), 'BAD_ENVELOPE');
    expectCode(() => core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, recipient: bob, body: new Uint8Array(3994) }), 'PAYLOAD_TOO_LARGE');
    for (const type of ['nope', 'grants', 'introduction', 4, 6, 0]) {
      expectCode(() => core.sealEnvelope({ type, privateKey: alice.privateKey, recipient: bob }), 'BAD_ARGUMENT', String(type));
    }
    // An answer or a bye names the offer it answers; an offer names none.
    expectCode(() => core.sealEnvelope({ type: 'bye', privateKey: alice.privateKey, recipient: bob }), 'BAD_ARGUMENT');
    expectCode(() => core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, recipient: bob, ref }), 'BAD_ARGUMENT');
    expectCode(() => core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey }), 'BAD_ARGUMENT');
    // Text mode: base64url of at most 4096 characters, and it opens as text.
    const text = core.sealEnvelope({ type: 'bye', privateKey: alice.privateKey, recipient: bob, ref, text: true });
    assert.equal(typeof text, 'string');
    assert.equal(core.openEnvelope(text, { self: bob, peers }).typeName, 'bye');
    expectCode(() => core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, recipient: bob, body: new Uint8Array(3100), text: true }), 'PAYLOAD_TOO_LARGE');
    expectCode(() => core.openEnvelope('A'.repeat(4097), { self: bob, peers }), 'BAD_ENVELOPE');
    // Replay state survives a restart (save/restore).
    const fresh = core.sealEnvelope({ type: 'bye', privateKey: alice.privateKey, recipient: bob, ref });
    core.openEnvelope(fresh, { self: bob, peers });
    const state = core.saveReplayState();
    core.restoreReplayState(state);
    expectCode(() => core.openEnvelope(fresh, { self: bob, peers }), 'REPLAYED_MESSAGE');
  });

  it('push topics: derived from type, recipient and session; the session id does not appear', () => {
    const bob = core.keyIdOf(core.generateVapidKeys().publicKey);
    const session = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const topic = core.pushTopic('offer', bob, session);
    assert.match(topic, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(core.pushTopic('offer', bob, session), topic);
    assert.notEqual(core.pushTopic('answer', bob, session), topic);
    assert.ok(!topic.includes(core.base64urlEncode(session)));
  });

  it('names: control, bidi-override and malformed text is refused when making a card (BAD_TEXT)', () => {
    const alice = core.generateVapidKeys();
    const sub = subscriptionFor(core.generateVapidKeys(), MOZ);
    for (const name of ['Bob\nwants', 'Bank \u202Egnp.exe', 'a\u2066b', 'x\u0000', 'Bob\u0085', 'lone \uD800 surrogate', 'zero\u200Bwidth']) {
      expectCode(() => core.createCard({ identity: alice, subscription: sub, subject: 'mailto:a@pushpeer.example', name }), 'BAD_TEXT', JSON.stringify(name));
    }
    const ok = core.createCard({ identity: alice, subscription: sub, subject: 'mailto:a@pushpeer.example', name: 'Zoë 王 😀' });
    assert.equal(core.decodeCard(ok.bytes).name, 'Zoë 王 😀');
  });
});
