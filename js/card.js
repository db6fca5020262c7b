// Our card and our peers' cards, shared by the page (js/pushpeer.js) and the service worker (sw/handler.js): our card
// (re)issued with fresh grants, whether it needs renewing, sent to every peer after a new subscription; a peer's
// newer card kept; which push services a card may name.
import { createPushSender } from './push/sender.js';
import { pushHostPolicy } from './push/hosts.js';
import { createPushLink } from './signaling/push-link.js';

export const GRANT_COUNT = 4;
export const GRANT_INTERVAL = 20 * 3600; // seconds: 4 grants keep a card usable for 80 hours (docs/PROTOCOL.md §3.1)
export const CARD_RENEW_BEFORE = 40 * 3600; // re-issue our card when its last grant ends sooner than this
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Whether a card (created at `created`, seconds) should replace the one we keep for a peer: a newer one, or another
 * one made in the same second (a re-subscription right after a card was issued); never an older one.
 */
export function replacesCard(known, created, bytes) {
  if (!known) return true;
  if (known.updated !== created) return known.updated < created;
  return known.card.length !== bytes.length || known.card.some((b, i) => b !== bytes[i]);
}

/**
 * Keeps a peer's card (bytes, and `card` decoded from them) unless the one we keep (`known`, or none) is newer or
 * the same; the record is marked not gone. A card without grants (what an open group's members hand each other:
 * docs/PROTOCOL.md §9.6) never replaces one with grants: a peer we can push to stays one.
 */
export async function keepPeerCard(store, known, { keyId, identity, bytes, card, transient = false }) {
  const grantless = card.grants.length === 0;
  if (grantless && known && !known.grantless) return;
  if (!replacesCard(known, card.created, bytes)) return;
  const record = { ...known, keyId, identity, card: bytes, name: card.name, updated: card.created, gone: false,
    ...(known ? {} : transient ? { transient: true, kept: Date.now() } : {}) };
  if (grantless) record.grantless = true;
  else delete record.grantless;
  await store.putPeer(record);
}

/** The host policy for cards' endpoints, from the saved config (the page writes allowPushHosts there). */
export function cardHostPolicy(config) {
  return pushHostPolicy({ extraHosts: config?.allowPushHosts ?? [], what: 'allowPushHosts entry' });
}

/** Our card for a subscription: fresh grants (GRANT_COUNT, GRANT_INTERVAL apart), saved in the store. */
export async function issueCard({ core, store, identity, subscription, config }) {
  const grants = core.issueGrants({ privateKey: identity.privateKey, endpoint: subscription.endpoint,
    subject: config.subject, count: GRANT_COUNT, interval: GRANT_INTERVAL });
  const card = core.createCard({ identity, subscription, subject: config.subject, name: config.name ?? '', grants });
  const saved = { bytes: card.bytes, text: card.text, endpoint: subscription.endpoint,
    grantsUntil: grants[grants.length - 1].exp, name: config.name ?? '', subject: config.subject };
  await store.set('card', saved);
  return saved;
}

/**
 * True when the saved card is missing, unreadable by this version of the core (an older format), for another
 * endpoint/name/subject, or its grants run out soon.
 */
export function cardNeedsRenewal(saved, { core, endpoint, config, now = nowSeconds() }) {
  if (!saved || saved.endpoint !== endpoint || saved.name !== (config.name ?? '') || saved.subject !== config.subject ||
      saved.grantsUntil - now < CARD_RENEW_BEFORE) return true;
  try {
    core.decodeCard(saved.bytes);
    return false;
  } catch {
    return true;
  }
}

/**
 * Our new card to every peer (envelope type 'card', one push each): after a new subscription, the old card's endpoint
 * is dead. Peers are only those we chose (docs/PROTOCOL.md §7.4). Resolves to { sent, failed }.
 */
export async function sendCardToPeers({ core, store, identity, config, card, fetch: fetchFn }) {
  const link = createPushLink({ core, sender: createPushSender({ core, relay: config.relay ?? null,
    relayMode: config.relayMode ?? 'auto', allowPushHosts: config.allowPushHosts ?? [], fetch: fetchFn }) });
  const sent = [];
  const failed = [];
  for (const peer of await store.peers()) {
    // A transient peer (met in a swarm: a stranger holding the same link) gets no push of ours.
    if (peer.transient) continue;
    try {
      const recipient = core.base64urlDecode(peer.keyId);
      // A random session (each card envelope is new to the replay guard); the push link gives it one Topic per peer,
      // so that a newer card replaces an older one still waiting at the push service.
      const envelope = core.sealEnvelope({ type: 'card', privateKey: identity.privateKey, recipient, card: card.bytes });
      await link.send({ to: peer.keyId, card: peer.card, type: 'card', envelope });
      sent.push(peer.keyId);
    } catch (error) {
      failed.push({ peer: peer.keyId, code: error?.code ?? 'INTERNAL' });
    }
  }
  return { sent, failed };
}
