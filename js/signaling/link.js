// A link carries sealed envelopes (docs/PROTOCOL.md §4) to one recipient. The call logic (js/signaling/calls.js)
// and our card's delivery (js/card.js) seal envelopes and hand them to a link; they know nothing of how the bytes
// travel. The contract every link implements:
//
//   link.check({ to, card })
//       Throws a PushPeerError when this link cannot carry envelopes to that peer, before anything is sent (the push
//       link: HOST_NOT_ALLOWED for a card whose endpoint is not a push service we push to).
//   link.send({ to, card, type, sessionId, envelope }) -> Promise<{ via, ... }>
//       Delivers one envelope. `to`: the recipient's key id (base64url, 11 characters); `card`: the recipient's card
//       bytes (the push link encrypts to its keys and authorizes with one of its grants); `type`: the envelope's type,
//       'offer' | 'answer' | 'bye' | 'card'; `sessionId`: the call's session id (base64url; none for 'card');
//       `envelope`: the sealed envelope's bytes. Resolves once the link handed it on (`via` names the way: the push
//       link's 'direct' or 'relay'); rejects with a PushPeerError (push: PEER_GONE, RATE_LIMITED, PUSH_FAILED, …).
//   link.sendBeacon(message)
//       The same message, fire and forget, for a page that is going away (pagehide): must outlive the page if the link
//       can; never throws, reports nothing.
//
// The receiving end of every link is the same: the envelope's decrypted bytes go to deliverEnvelope
// (js/push/reception.js), which verifies them (signature, recipient, freshness, replay) and keeps them in the inbox,
// and the pages' PushPeer acts on the inbox item. So an envelope is checked the same way whatever carried it.
//
// The push link (js/signaling/push-link.js): RFC 8291 to the card's subscription keys, POSTed to its push endpoint
// with one of its grants (directly or through the relay). The neighbour link (js/mesh/neighbours.js, linkVia): a peer
// we hold a live connection to carries the envelope over its control channel to the target, sealed to the target's
// identity key (core.sealForPeer, docs/PROTOCOL.md §4.1), so the neighbour sees only ciphertext and can neither read
// nor forge it; the target's worker opens it and calls the same delivery (deliverCarried). calls.js does not care.
import { PushPeerError } from '../errors.js';

/** Throws BAD_ARGUMENT unless `link` has the three calls of the contract above. */
export function assertLink(link) {
  for (const name of ['check', 'send', 'sendBeacon']) {
    if (typeof link?.[name] !== 'function') throw new PushPeerError('BAD_ARGUMENT', `a link needs ${name}()`);
  }
  return link;
}
