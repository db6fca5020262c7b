// The vectors published in docs/PROTOCOL.md (docs/vectors/core.json) hold for the Wasm core.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

import { assertBytes, forEachFlavor, fromB64u, fromHex, utf8 } from './helpers.mjs';

const doc = JSON.parse(readFileSync(new URL('../../docs/vectors/core.json', import.meta.url), 'utf8'));

forEachFlavor((core) => {
  // Recomputing a raw RFC 6979 signature needs the test-only entry points (testing and debug builds).
  const itTesting = core.testing ? it : () => {};

  itTesting('canonical VAPID JWT: rebuilt byte for byte and verified', () => {
    const v = doc.canonical_vapid_jwt;
    const keys = core.vapidKeysFromPrivate(fromB64u(v.private_key));
    assert.equal(core.base64urlEncode(keys.publicKey), v.public_key);
    const [header, claims, signature] = v.jwt.split('.');
    assert.equal(Buffer.from(claims, 'base64url').toString('utf8'), v.claims_json);
    assert.equal(header, 'eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9');
    // RFC 6979 makes the signature a function of key and input: recompute it.
    const sig = core.testing.ecdsaSign(fromB64u(v.private_key), utf8(`${header}.${claims}`));
    assert.equal(core.base64urlEncode(sig), signature);
    assert.deepEqual(core.verifyVapidJwt(v.jwt, keys.publicKey), v.claims);
  });

  itTesting('RFC 6979 A.2.5 deterministic signatures', () => {
    const v = doc.rfc6979_p256_sha256;
    for (const c of v.cases) {
      assertBytes(core.testing.ecdsaSign(fromHex(v.private_key_hex), utf8(c.message_utf8)), fromHex(c.signature_hex), c.message_utf8);
    }
  });

  it('packed SDP: both format versions unpack to the text; version 2 packs to the same bytes', () => {
    const v1 = doc.packed_sdp;
    assert.equal(fromB64u(v1.packed)[0], 0x10);
    assert.equal(core.unpackSdp(fromB64u(v1.packed)), v1.sdp);
    const v2 = doc.packed_sdp_v2;
    assert.equal(fromB64u(v2.packed)[0], 0x20);
    assert.equal(core.unpackSdp(fromB64u(v2.packed)), v2.sdp);
    assert.equal(core.base64urlEncode(core.packSdp(v2.sdp)), v2.packed);
  });

  it('card and envelopes: exact bytes, and they open', () => {
    const v = doc.card;
    const identity = core.vapidKeysFromPrivate(fromB64u(v.identity_private_key));
    const grants = core.issueGrants({ privateKey: identity.privateKey, endpoint: v.endpoint, subject: v.subject,
      count: v.grants.count, interval: v.grants.interval, firstExpiration: v.grants.first_exp });
    const card = core.createCard({
      identity, subject: v.subject, name: v.name, created: v.created, grants,
      subscription: { endpoint: v.endpoint, keys: { p256dh: v.p256dh, auth: core.base64urlEncode(fromHex(v.auth_hex)) } },
    });
    assert.equal(card.text, v.bytes);
    const decoded = core.decodeCard(v.bytes);
    assert.equal(core.base64urlEncode(decoded.keyId), v.key_id);

    const e = doc.envelope;
    const bob = core.vapidKeysFromPrivate(fromB64u(e.recipient_private_key));
    const bobId = core.keyIdOf(bob.publicKey);
    assert.equal(core.base64urlEncode(bobId), e.recipient_key_id);
    const aliceId = decoded.keyId;
    const session = fromHex(e.session_id_hex);
    const sdp = fromB64u(doc.packed_sdp.packed);
    const offer = core.sealEnvelope({ type: 'offer', privateKey: identity.privateKey, recipient: bobId, sessionId: session,
      sequence: e.offer.sequence, timestamp: e.timestamp, body: sdp, card: card.bytes });
    assert.equal(core.base64urlEncode(offer), e.offer.bytes);
    const ref = core.envelopeReference(offer);
    assert.equal(core.base64urlEncode(ref), e.offer_reference);
    assert.equal(core.pushTopic('offer', bobId, session), e.topics.offer);
    assert.equal(core.pushTopic('answer', aliceId, session), e.topics.answer);
    const followUp = core.sealEnvelope({ type: 'offer', privateKey: identity.privateKey, recipient: bobId,
      sessionId: session, sequence: e.offer_by_key_id.sequence, timestamp: e.timestamp });
    assert.equal(core.base64urlEncode(followUp), e.offer_by_key_id.bytes);
    const answer = core.sealEnvelope({ type: 'answer', privateKey: bob.privateKey, recipient: aliceId, sessionId: session,
      sequence: e.answer.sequence, timestamp: e.answer.timestamp, ref, body: sdp });
    assert.equal(core.base64urlEncode(answer), e.answer.bytes);
    const bye = core.sealEnvelope({ type: 'bye', privateKey: bob.privateKey, recipient: aliceId, sessionId: session,
      sequence: e.bye.sequence, timestamp: e.bye.timestamp, ref });
    assert.equal(core.base64urlEncode(bye), e.bye.bytes);

    const opened = core.openEnvelope(fromB64u(e.offer.bytes), { self: bobId, now: e.timestamp, replay: false });
    assert.equal(core.unpackSdp(opened.body), doc.packed_sdp.sdp);
    assert.equal(opened.typeName, 'offer');
    assertBytes(opened.cardBytes, card.bytes);
    const second = core.openEnvelope(fromB64u(e.offer_by_key_id.bytes), { self: bobId, now: e.timestamp, replay: false,
      peers: { [v.key_id]: identity.publicKey } });
    assert.equal(second.sequence, 2);
    const answered = core.openEnvelope(fromB64u(e.answer.bytes), { self: aliceId, now: e.answer.timestamp, replay: false,
      peers: { [e.recipient_key_id]: bob.publicKey } });
    assertBytes(answered.ref, ref);
    assert.throws(() => core.openEnvelope(offer, { self: aliceId, now: e.timestamp, replay: false }),
      (err) => err.code === e.refused.wrong_recipient);
    const v1 = Uint8Array.from(offer);
    v1[0] = fromHex(e.refused.version_1_magic_hex)[0];
    assert.throws(() => core.openEnvelope(v1, { self: bobId, now: e.timestamp, replay: false }),
      (err) => err.code === e.refused.version_1);
  });

  it('audiences: the JWT aud for each endpoint, or the error', () => {
    const keys = core.generateVapidKeys();
    for (const a of doc.audiences) {
      const call = () => core.vapidAuthorization({ endpoint: a.endpoint, subject: 'mailto:a@b.example', ...keys });
      if (a.error) {
        assert.throws(call, (e) => e.code === a.error, a.endpoint);
      } else {
        const jwt = /t=([^,]+)/.exec(call())[1];
        assert.equal(core.verifyVapidJwt(jwt, keys.publicKey).aud, a.audience, a.endpoint);
      }
    }
  });
});
