// What a received push becomes, shared by the service worker (sw/handler.js) and tests: the envelope is opened
// (verified, addressed to us, fresh, not a replay) and put in the inbox for a page to act on. Nothing a stranger
// sends makes them a peer: an offer's card stays in its inbox item until the app accepts the call; card updates
// are taken from peers only. Also our own card (re)issued, which both the page and pushsubscriptionchange need.
import { PushPeerError } from './errors.js';
import { createPushSender } from './push.js';
import { pushHostPolicy } from './push-hosts.js';

export const GRANT_COUNT = 4;
export const GRANT_INTERVAL = 20 * 3600; // seconds: 4 grants keep a card usable for 80 hours (docs/PROTOCOL.md §3.1)
export const CARD_RENEW_BEFORE = 40 * 3600; // re-issue our card when its last grant ends sooner than this
const MAX_REJECTIONS = 50;

/**
 * Bounds of the inbox (docs/PROTOCOL.md §7.4): a flood of requests drops the oldest items, never grows storage.
 * maxItems items of at most one push each (4 KiB, plus bookkeeping) fit maxBytes, so the count bounds the bytes.
 */
export const INBOX_LIMITS = Object.freeze({
  maxItems: 200,
  maxBytes: 1024 * 1024,
  keepMs: 10 * 60 * 1000, // handled items: as long as a call can be retried (offerMaxAge); storage follows live calls
  keepNewMs: 7 * 24 * 3600 * 1000, // unhandled requests: a week (offers expire far sooner, the app may still show them)
});

/** BroadcastChannel name on which the worker tells pages about new inbox items. */
export const channelName = (storeName) => `pushpeer:${storeName}`;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * A push's data as the envelope: binary, or its base64url text (what a text-only channel such as CDP carries). A
 * binary envelope never consists of base64url characters only (its first byte, the format magic, is above 0x7F).
 */
function envelopeInput(data) {
  if (data.length === 0) throw new PushPeerError('BAD_ENVELOPE', 'empty push');
  const isText = data.every((b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
    b === 0x2d || b === 0x5f);
  return isText ? new TextDecoder().decode(data) : data;
}

let restored = new WeakMap(); // core -> { generation, ready }

/**
 * The replay guard lives in the core's memory; a restarted worker (or a core that reloaded itself after a trap)
 * gets it back from the store. Once per core instance, and every push waits for that one restore (a late second
 * restore would drop entries).
 */
async function restoreReplayGuard(core, store) {
  let entry = restored.get(core);
  if (!entry || entry.generation !== core.generation) {
    entry = { generation: core.generation, ready: (async () => {
      const saved = await store.get('replay');
      if (saved) core.restoreReplayState(saved);
    })() };
    entry.ready.catch(() => restored.delete(core));
    restored.set(core, entry);
  }
  await entry.ready;
}

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
 * the same; the record is marked not gone.
 */
export async function keepPeerCard(store, known, { keyId, identity, bytes, card }) {
  if (!replacesCard(known, card.created, bytes)) return;
  await store.putPeer({ ...known, keyId, identity, card: bytes, name: card.name, updated: card.created, gone: false });
}

/** The host policy for cards' endpoints, from the saved config (the page writes allowPushHosts there). */
export function cardHostPolicy(config) {
  return pushHostPolicy({ extraHosts: config?.allowPushHosts ?? [], what: 'allowPushHosts entry' });
}

/**
 * Opens and records one push. Resolves to the inbox item (a new one, or the pending request a retried offer
 * updated); throws PushPeerError (BAD_ENVELOPE, UNKNOWN_SENDER, BAD_SIGNATURE, WRONG_RECIPIENT, STALE_MESSAGE,
 * REPLAYED_MESSAGE, REPLAY_GUARD_FULL, HOST_NOT_ALLOWED, ...) for anything that must not be acted on.
 */
export async function receivePush({ core, store, data, now }) {
  await restoreReplayGuard(core, store);
  const identity = await store.get('identity');
  if (!identity) throw new PushPeerError('NOT_SUPPORTED', 'no pushpeer identity in this store yet');
  const envelope = envelopeInput(data);
  // A sender named by key id must be a peer of ours; strangers attach their card (an offer always does).
  const { keyId, hasCard } = core.envelopeSender(envelope);
  const peer = await store.getPeer(keyId);
  if (!hasCard && !peer) throw new PushPeerError('UNKNOWN_SENDER', `no known peer with key id ${keyId}`);
  const opened = core.openEnvelope(envelope, { self: core.keyIdOf(identity.publicKey), now,
    peers: { [keyId]: peer?.identity } });
  await store.set('replay', core.saveReplayState());
  const from = core.base64urlEncode(opened.sender);
  const type = opened.typeName;

  // A peer's fresh card (new grants or endpoint), in a card envelope or attached to an offer, replaces the one we
  // keep. Strangers cannot make themselves known this way.
  if (type === 'card' && !peer) throw new PushPeerError('UNKNOWN_SENDER', 'a card update from someone who is not a peer');
  if (type === 'offer') {
    // We could not answer a card whose push service is not one we push to: refuse now, before anyone is asked.
    const config = await store.get('config');
    if (!cardHostPolicy(config)(new URL(opened.card.endpoint))) {
      throw new PushPeerError('HOST_NOT_ALLOWED', `the caller's push service ${new URL(opened.card.endpoint).origin} is not allowed`);
    }
  }
  if (peer && opened.cardBytes) {
    await keepPeerCard(store, peer, { keyId, identity: opened.senderKey, bytes: opened.cardBytes, card: opened.card });
  }
  const item = {
    received: Date.now(),
    type,
    from,
    name: opened.card?.name ?? peer?.name ?? '',
    sessionId: core.base64urlEncode(opened.sessionId),
    sequence: opened.sequence,
    timestamp: opened.timestamp,
    body: opened.body,
    bytes: data.length, // the decrypted push (the envelope), for timelines and the inbox's byte budget
    card: type === 'offer' ? opened.cardBytes : null,
    offerRef: type === 'offer' ? core.envelopeReference(typeof envelope === 'string' ? core.base64urlDecode(envelope) : envelope) : null,
    ref: opened.ref,
    knownPeer: Boolean(peer),
  };
  // A card update needs no page: it is applied above.
  if (type === 'card') item.state = 'done';
  if (type === 'offer') {
    // A retried offer (the caller heard nothing) replaces its pending request instead of asking twice; one for a
    // request that was declined or has expired stays that way. One for a call we answered is for the page to act
    // on (our answer was lost: it is sent again).
    const previous = (await store.callItems(from, item.sessionId)).filter((i) => i.type === 'offer').at(-1);
    // `received` stays the first offer's arrival; `lastReceived`, the latest's, is when the caller's wait restarted
    // (a request expires answerTimeoutMs after it: docs/PROTOCOL.md §7.1).
    if (previous?.state === 'new') {
      return store.updateInbox(previous.id, { ...item, received: previous.received, lastReceived: item.received,
        retries: (previous.retries ?? 0) + 1 });
    }
    if (previous && ['declined', 'expired'].includes(previous.state)) item.state = previous.state;
  }
  item.id = await store.addInbox(item);
  await pruneInbox(store);
  return { ...item, state: item.state ?? 'new' };
}

/** Drops old inbox items and keeps it within INBOX_LIMITS. */
export function pruneInbox(store, now = Date.now()) {
  return store.trimInbox({ ...INBOX_LIMITS, now });
}

/**
 * Keeps the last few refusals (code, size, time) for diagnostics, the demo's timeline and the worker's rotation
 * rule; resolves to the list kept (empty when the store failed).
 */
export async function recordRejection(store, code, bytes) {
  try {
    const list = ((await store.get('rejections')) ?? []).concat({ code, bytes, at: Date.now() }).slice(-MAX_REJECTIONS);
    await store.set('rejections', list);
    return list;
  } catch {
    return []; // diagnostics only
  }
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
 * After the push service replaced our subscription (or we replaced it): subscribe again with our identity as
 * applicationServerKey, issue a new card and send it to every peer (sendCardToPeers). Resolves to
 * { endpoint, sent, failed }.
 */
export async function refreshSubscription({ core, store, registration, newSubscription = null, force = false,
  fetch: fetchFn } = {}) {
  const identity = await store.get('identity');
  const config = await store.get('config');
  if (!identity || !config) throw new PushPeerError('NOT_SUPPORTED', 'no pushpeer identity in this store yet');
  let subscription = newSubscription;
  if (!subscription) {
    const current = await registration.pushManager.getSubscription();
    if (current && force) await current.unsubscribe();
    subscription = (!force && current) || await registration.pushManager.subscribe({ userVisibleOnly: true,
      applicationServerKey: identity.publicKey });
  }
  const json = subscription.toJSON ? subscription.toJSON() : subscription;
  const card = await issueCard({ core, store, identity, subscription: json, config });
  return { endpoint: json.endpoint, ...await sendCardToPeers({ core, store, identity, config, card, fetch: fetchFn }) };
}

/**
 * Our new card to every peer (envelope type 'card', one push each): after a new subscription, the old card's endpoint
 * is dead. Peers are only those we chose (docs/PROTOCOL.md §7.4). Resolves to { sent, failed }.
 */
export async function sendCardToPeers({ core, store, identity, config, card, fetch: fetchFn }) {
  const sender = createPushSender({ core, relay: config.relay ?? null, relayMode: config.relayMode ?? 'auto',
    allowPushHosts: config.allowPushHosts ?? [], fetch: fetchFn });
  const sent = [];
  const failed = [];
  for (const peer of await store.peers()) {
    try {
      const recipient = core.base64urlDecode(peer.keyId);
      // A random session (each card envelope is new to the replay guard) but one Topic per peer, so that a newer
      // card replaces an older one still waiting at the push service.
      const envelope = core.sealEnvelope({ type: 'card', privateKey: identity.privateKey, recipient, card: card.bytes });
      await sender.send({ card: peer.card, payload: envelope, topic: core.pushTopic('card', recipient, new Uint8Array(8)),
        ttl: 24 * 3600, urgency: 'normal' });
      sent.push(peer.keyId);
    } catch (error) {
      failed.push({ peer: peer.keyId, code: error?.code ?? 'INTERNAL' });
    }
  }
  return { sent, failed };
}

/** For tests: forget which cores had their replay state restored. */
export function _resetRestored() {
  restored = new WeakMap();
}
