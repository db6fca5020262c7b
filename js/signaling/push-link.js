// The push link (js/signaling/link.js has the contract): an envelope as one Web Push message to the recipient's card,
// through the push sender (js/push/sender.js: RFC 8291 body, a grant of the card, direct or through the relay, only to
// known push services). The push-only details are chosen here from the message's type: the Topic (docs/PROTOCOL.md
// §4: retries of one call's message replace each other at the push service, a bye the answer it follows, a card the
// previous card for that recipient), the TTL and the urgency.
import { PushPeerError } from '../errors.js';
import { DEFAULT_TTL } from '../push/sender.js';

const CARD_TTL = 24 * 3600; // a new card is worth delivering for a day; a call's messages for DEFAULT_TTL
const CARD_SESSION = new Uint8Array(8); // cards: one Topic per recipient, whatever their random session id

/** A link over `sender` (createPushSender); `core` for the Topic. */
export function createPushLink({ core, sender }) {
  /** The sender's options for a link message. */
  function push({ to, card, type, sessionId, envelope }) {
    const recipient = core.base64urlDecode(to);
    if (type === 'card') {
      return { card, payload: envelope, topic: core.pushTopic('card', recipient, CARD_SESSION), ttl: CARD_TTL,
        urgency: 'normal' };
    }
    const topic = core.pushTopic(type === 'offer' ? 'offer' : 'answer', recipient, core.base64urlDecode(sessionId));
    return { card, payload: envelope, topic, ttl: DEFAULT_TTL };
  }

  return {
    via: 'push',
    check({ card }) {
      const { endpoint, grants } = core.decodeCard(card);
      if (!sender.allows(endpoint)) {
        throw new PushPeerError('HOST_NOT_ALLOWED', `${new URL(endpoint).origin} is not a known push service`);
      }
      // A card without grants (an open group's member's, docs/PROTOCOL.md §9.6) is called through a neighbour only.
      if (grants.length === 0) throw new PushPeerError('NO_USABLE_GRANT', 'this card has no grants: call it through a neighbour (via)');
    },
    send: (message) => sender.send(push(message)),
    sendBeacon(message) {
      try {
        sender.sendBeacon(push(message));
      } catch {
        // a page going away has nobody to tell
      }
    },
  };
}
