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
    const card = core.createCard({ identity: alice, subscription: subscriptionFor(core.generateVapidKeys(), MOZ), subject: 'mailto:a@pushpeer.example' });
    for (const { name, sdp } of corpus) {
      const env = core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, body: core.packSdp(sdp), card: card.bytes });
      assert.ok(env.length <= core.maxPayloadLength, `${name}: ${env.length}`);
      const opened = core.openEnvelope(env);
      assert.equal(opened.typeName, 'offer');
      assert.deepEqual(opened.senderKey, alice.publicKey);
      assert.equal(core.unpackSdp(opened.body), sdp);
      expectCode(() => core.openEnvelope(env), 'REPLAYED_MESSAGE', name);
    }
  });

  it('envelopes: unknown sender, wrong key, stale, tampered, oversize', () => {
    const alice = core.generateVapidKeys();
    const mallory = core.generateVapidKeys();
    const env = core.sealEnvelope({ type: 'answer', privateKey: alice.privateKey, body: 'x', sequence: 7 });
    expectCode(() => core.openEnvelope(env), 'UNKNOWN_SENDER');
    expectCode(() => core.openEnvelope(env, { peers: () => mallory.publicKey }), 'UNKNOWN_SENDER');
    const opened = core.openEnvelope(env, { peers: () => alice.publicKey, replay: false });
    const aliceId = core.base64urlEncode(opened.sender);
    const peers = (id) => (id === aliceId ? alice.publicKey : undefined);
    // Relative to the envelope's own timestamp: the window is [ts - 120 s, ts + 600 s] of the receiver's clock.
    expectCode(() => core.openEnvelope(env, { peers, now: opened.timestamp + 601 }), 'STALE_MESSAGE');
    expectCode(() => core.openEnvelope(env, { peers, now: opened.timestamp - 121 }), 'STALE_MESSAGE');
    const tampered = Uint8Array.from(env);
    tampered[env.length - 65] ^= 1; // the body byte
    expectCode(() => core.openEnvelope(tampered, { peers }), 'BAD_SIGNATURE');
    expectCode(() => core.openEnvelope(env.subarray(0, 20), { peers }), 'BAD_ENVELOPE');
    expectCode(() => core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, body: new Uint8Array(3994) }), 'PAYLOAD_TOO_LARGE');
    expectCode(() => core.sealEnvelope({ type: 'nope', privateKey: alice.privateKey }), 'BAD_ARGUMENT');
    // Text mode: base64url of at most 4096 characters, and it opens as text.
    const text = core.sealEnvelope({ type: 'bye', privateKey: alice.privateKey, text: true });
    assert.equal(typeof text, 'string');
    assert.equal(core.openEnvelope(text, { peers }).typeName, 'bye');
    expectCode(() => core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, body: new Uint8Array(3100), text: true }), 'PAYLOAD_TOO_LARGE');
    expectCode(() => core.openEnvelope('A'.repeat(4097), { peers }), 'BAD_ENVELOPE');
    // Replay state survives a restart (save/restore).
    const fresh = core.sealEnvelope({ type: 'bye', privateKey: alice.privateKey });
    core.openEnvelope(fresh, { peers });
    const state = core.saveReplayState();
    core.restoreReplayState(state);
    expectCode(() => core.openEnvelope(fresh, { peers }), 'REPLAYED_MESSAGE');
  });
});
