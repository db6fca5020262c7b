// Seeds for the signaling decoders' fuzz targets (sdp_unpack, card_decode, envelope_open), made with our own Wasm
// core from the protocol vectors (docs/vectors/core.json) and the SDP corpus (tests/corpus/sdp, read in place).
// Deterministic (RFC 6979 signatures, fixed timestamps), so re-running it rewrites the same files.
// Usage: node tests/fuzz/make_signaling_seeds.mjs   (after cmake/build.sh wasm)
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

import { loadCore } from '../../js/core.js';

const core = await loadCore();
const root = new URL('./corpus/', import.meta.url);
const doc = JSON.parse(readFileSync(new URL('../../docs/vectors/core.json', import.meta.url), 'utf8'));
const b64 = (t) => core.base64urlDecode(t);
const write = (target, name, bytes) => {
  mkdirSync(new URL(`${target}/`, root), { recursive: true });
  writeFileSync(new URL(`${target}/${name}`, root), bytes);
};

// sdp_unpack: every corpus SDP packed (token mode), the vector, and the two fallback modes.
const corpusDir = new URL('../corpus/sdp/', import.meta.url);
for (const f of readdirSync(corpusDir).filter((n) => n.endsWith('.sdp'))) {
  write('sdp_unpack', `packed_${f.replace('.sdp', '')}`, core.packSdp(readFileSync(new URL(f, corpusDir), 'utf8')));
}
write('sdp_unpack', 'packed_vector', b64(doc.packed_sdp.packed)); // format version 1: decoders keep reading it
write('sdp_unpack', 'packed_vector_v2', b64(doc.packed_sdp_v2.packed));
write('sdp_unpack', 'mode_dictionary', core.packSdp('a=x:\u00e9t\u00e9 ' + 'v=0\r\n'.repeat(3)));
write('sdp_unpack', 'mode_deflate', core.packSdp('\u0001\u0002 binary-ish text with controls \u0003'));

// card_decode: the vector card, and variants (no name, no grants, other endpoint prefixes).
const v = doc.card;
const identity = core.vapidKeysFromPrivate(b64(v.identity_private_key));
const subscription = (endpoint) => ({ endpoint, keys: { p256dh: v.p256dh, auth: core.base64urlEncode(new Uint8Array(16).fill(5)) } });
write('card_decode', 'vector', b64(v.bytes));
const grants = core.issueGrants({ privateKey: identity.privateKey, endpoint: v.endpoint, subject: v.subject, count: 1, firstExpiration: v.grants.first_exp });
const variants = {
  fcm_no_name: 'https://fcm.googleapis.com/fcm/send/dGVzdDpBUEE5MWJH',
  apple: 'https://web.push.apple.com/QGuQyavXutnMH_yzJrQVNMnp',
  wns: 'https://wns2-by3p.notify.windows.com/w/?token=BQYAAAB',
  loopback: 'http://127.0.0.1:8090/push/abc',
};
for (const [name, endpoint] of Object.entries(variants)) {
  const g = core.issueGrants({ privateKey: identity.privateKey, endpoint, subject: v.subject, count: 2, firstExpiration: v.grants.first_exp });
  write('card_decode', name, core.createCard({ identity, subscription: subscription(endpoint), subject: v.subject, created: v.created, grants: g, name: name === 'fcm_no_name' ? undefined : 'Bob' }).bytes);
}
write('card_decode', 'one_grant', core.createCard({ identity, subscription: subscription(v.endpoint), subject: v.subject, created: v.created, grants }).bytes);
write('card_decode', 'no_grants', core.createCard({ identity, subscription: subscription(v.endpoint), subject: v.subject, created: v.created, grants: [] }).bytes);

// envelope_open: the vector envelopes (Alice to Bob, the fuzz target's recipient) and every type by key id, sealed
// at the fuzz target's clock; one addressed to someone else.
const e = doc.envelope;
write('envelope_open', 'offer_with_card', b64(e.offer.bytes));
write('envelope_open', 'offer_by_key_id', b64(e.offer_by_key_id.bytes));
const bob = core.base64urlDecode(e.recipient_key_id);
for (const [i, type] of ['answer', 'bye', 'offer'].entries()) {
  write('envelope_open', `key_id_${type}`, core.sealEnvelope({ type, privateKey: identity.privateKey, recipient: bob,
    sessionId: new Uint8Array(8).fill(i), sequence: i + 10, timestamp: e.timestamp,
    ref: type === 'offer' ? undefined : core.base64urlDecode(e.offer_reference), body: type === 'bye' ? '' : `body of ${type}` }));
}
write('envelope_open', 'card_update', core.sealEnvelope({ type: 'card', privateKey: identity.privateKey, recipient: bob,
  card: b64(v.bytes), timestamp: e.timestamp, sessionId: new Uint8Array(8).fill(9) }));
write('envelope_open', 'for_someone_else', core.sealEnvelope({ type: 'offer', privateKey: identity.privateKey,
  recipient: new Uint8Array(8).fill(1), timestamp: e.timestamp, card: b64(v.bytes) }));
console.log('seeds written under tests/fuzz/corpus/{sdp_unpack,card_decode,envelope_open}');
