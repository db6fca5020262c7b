// Writes the signaling vectors of docs/vectors/core.json ("card", "envelope") with our own Wasm core (testing
// flavour), from fixed keys, fields and times. Signatures are RFC 6979 deterministic and low-S (docs/PROTOCOL.md
// §3-4), so the bytes are exact and another implementation must reproduce them. The other sections (RFC 6979,
// the canonical JWT, audiences, packed SDP) are left as they are.
// Usage: node tests/vectors/generate-core-vectors.mjs   (after cmake/build.sh wasm); then review the diff.
import { readFileSync, writeFileSync } from 'node:fs';

import { loadCore } from '../../js/core.js';

const file = new URL('../../docs/vectors/core.json', import.meta.url);
const doc = JSON.parse(readFileSync(file, 'utf8'));
const core = await loadCore({ flavor: 'testing' });
const b64 = (bytes) => core.base64urlEncode(bytes);
const fromB64 = (text) => core.base64urlDecode(text);
const hex = (text) => Uint8Array.from(text.match(/../g), (h) => parseInt(h, 16));

// Alice: the RFC 8291 appendix A application-server key. Bob: its user-agent key (his p256dh in the card is the same
// key, which a real browser would not do, but it keeps every input a published value).
const alicePrivate = 'yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw';
const bobPrivate = 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94';
const alice = core.vapidKeysFromPrivate(fromB64(alicePrivate));
const bob = core.vapidKeysFromPrivate(fromB64(bobPrivate));

const c = {
  source: 'pushpeer: docs/PROTOCOL.md §3, card version 2. identity = RFC 8291 appendix A application-server key, ' +
    'p256dh = its user-agent key; signatures are RFC 6979 deterministic with low S, so the bytes are exact',
  identity_private_key: alicePrivate,
  created: 1800000000,
  endpoint: 'https://updates.push.services.mozilla.com/wpush/v2/gAAAAABpushpeerTestVector',
  p256dh: b64(bob.publicKey),
  auth_hex: '000102030405060708090a0b0c0d0e0f',
  subject: 'https://pushpeer.example',
  name: 'Alice',
  grants: { count: 2, first_exp: 1800072000, interval: 72000 },
};
const grants = core.issueGrants({ privateKey: alice.privateKey, endpoint: c.endpoint, subject: c.subject,
  count: c.grants.count, interval: c.grants.interval, firstExpiration: c.grants.first_exp });
const card = core.createCard({ identity: alice, subject: c.subject, name: c.name, created: c.created, grants,
  subscription: { endpoint: c.endpoint, keys: { p256dh: c.p256dh, auth: b64(hex(c.auth_hex)) } } });
c.key_id = b64(core.keyIdOf(alice.publicKey));
c.bytes = card.text;

const session = hex('a0a1a2a3a4a5a6a7');
const timestamp = 1800000100;
const bobId = core.keyIdOf(bob.publicKey);
const offer = core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, recipient: bobId, sessionId: session,
  sequence: 1, timestamp, body: fromB64(doc.packed_sdp.packed), card: card.bytes });
const ref = core.envelopeReference(offer);
const answer = core.sealEnvelope({ type: 'answer', privateKey: bob.privateKey, recipient: core.keyIdOf(alice.publicKey),
  sessionId: session, sequence: 2, timestamp: timestamp + 2, ref, body: fromB64(doc.packed_sdp.packed) });
const bye = core.sealEnvelope({ type: 'bye', privateKey: bob.privateKey, recipient: core.keyIdOf(alice.publicKey),
  sessionId: session, sequence: 3, timestamp: timestamp + 3, ref });
const followUp = core.sealEnvelope({ type: 'offer', privateKey: alice.privateKey, recipient: bobId, sessionId: session,
  sequence: 2, timestamp });

doc.card = c;
doc.envelope = {
  source: 'pushpeer: docs/PROTOCOL.md §4, envelope version 2. Alice (the card) calls Bob (identity = RFC 8291 ' +
    'appendix A user-agent key): an offer carrying her card and packed_sdp (sequence 1), its retry naming her by key ' +
    'id, Bob\'s answer (by key id, ref = reference of the offer, sequence 2 = 2 x 1) and the bye he would have sent ' +
    '(sequence 3 = 2 x 1 + 1)',
  recipient_private_key: bobPrivate,
  recipient_key_id: b64(bobId),
  session_id_hex: 'a0a1a2a3a4a5a6a7',
  timestamp,
  offer: { sequence: 1, bytes: b64(offer) },
  offer_by_key_id: { sequence: 2, bytes: b64(followUp) },
  offer_reference: b64(ref),
  answer: { sequence: 2, timestamp: timestamp + 2, bytes: b64(answer) },
  bye: { sequence: 3, timestamp: timestamp + 3, bytes: b64(bye) },
  topics: {
    offer: core.pushTopic('offer', bobId, session),
    answer: core.pushTopic('answer', core.keyIdOf(alice.publicKey), session),
  },
  refused: {
    // The same offer opened by Alice herself (it is addressed to Bob).
    wrong_recipient: 'WRONG_RECIPIENT',
    // Version 1 of the same layout (magic 0xE1) is refused by its version, not parsed.
    version_1_magic_hex: 'e1',
    version_1: 'UNSUPPORTED_VERSION',
  },
};
writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${file.pathname}: card ${card.bytes.length} B, offer ${offer.length} B, answer ${answer.length} B`);
