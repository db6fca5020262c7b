// What a received push becomes, shared by the service worker (sw/handler.js), the page that holds its push channel
// (js/push/page-push.js) and tests: the envelope is opened (verified, addressed to us, fresh, not a replay) and put in
// the inbox for a page to act on, and the pages are told on a BroadcastChannel. Nothing a stranger sends makes them a
// peer: an offer's card stays in its inbox item until the app accepts the call; card updates are taken from peers
// only (js/card.js).
import { cardHostPolicy, keepPeerCard } from '../card.js';
import { PushPeerError } from '../errors.js';
import { checkRoute } from '../mesh/route.js';

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
 * Opens and records one push. Resolves to the inbox item (a new one, or the pending request a retried offer
 * updated); throws PushPeerError (BAD_ENVELOPE, UNKNOWN_SENDER, BAD_SIGNATURE, WRONG_RECIPIENT, STALE_MESSAGE,
 * REPLAYED_MESSAGE, REPLAY_GUARD_FULL, HOST_NOT_ALLOWED, ...) for anything that must not be acted on.
 */
export async function receivePush({ core, store, data, now, via = null, route = [] }) {
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
    via, // the key id of the neighbour that carried it (docs/PROTOCOL.md §7.7); null for a push
    // Carried over several hops (§7.7): the carriers beyond `via` on the way back to the caller, nearest first.
    route: via ? route : [],
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

/** Tells the pages of the store (every tab of the origin) on its BroadcastChannel. */
export function tellPages(storeName, message) {
  if (typeof BroadcastChannel === 'undefined') return;
  const bc = new BroadcastChannel(channelName(storeName));
  bc.postMessage(message);
  bc.close();
}

/**
 * A refused envelope (or push): recorded (recordRejection), never acted on, and the pages told ('rejected') after
 * `before(null)` (the worker's notification). Resolves to the refusals kept.
 */
export async function refuseEnvelope({ store, storeName, error, bytes, before = async () => {} }) {
  const code = error?.code ?? 'INTERNAL';
  const rejections = await recordRejection(store, code, bytes);
  await before(null);
  tellPages(storeName, { pushpeer: 'rejected', code, message: String(error?.message ?? error) });
  return rejections;
}

/**
 * The one way in for a received envelope (its decrypted bytes), whatever carried it: the worker's push event, the
 * page that holds its push channel, and next a neighbour link in the page (docs/API.md, "Links"). Opens and keeps it
 * (receivePush), then, after `before(item)` (the worker shows its notification there; item null when refused), tells
 * the pages: { pushpeer: 'inbox', id, type }, which PushPeer acts on, or { pushpeer: 'rejected', code, message }.
 * Never throws for a refused envelope: resolves to { item } or { error, rejections }.
 */
export async function deliverEnvelope({ core, store, storeName, data, now, before = async () => {} }) {
  let item;
  try {
    item = await receivePush({ core, store, data, now });
  } catch (error) {
    return { error, rejections: await refuseEnvelope({ store, storeName, error, bytes: data.length, before }) };
  }
  await before(item);
  tellPages(storeName, { pushpeer: 'inbox', id: item.id, type: item.type });
  return { item };
}

/**
 * An envelope a neighbour carried to us (docs/PROTOCOL.md §7.7), in the worker (or a page without one): opened with
 * our identity key (core.openFromPeer, §4.1), checked to be from `from` (the one the carrier says asked), then
 * opened and kept like a push, the item naming the carrier (`via`), and the pages told. A refusal is not recorded
 * with the refused pushes: a neighbour cannot make the worker rotate our subscription. Never throws: resolves to
 * { item } or { error }.
 */
export async function deliverCarried({ core, store, storeName, body, via, from, route = [], now }) {
  try {
    const identity = await store.get('identity');
    if (!identity) throw new PushPeerError('NOT_SUPPORTED', 'no pushpeer identity in this store yet');
    const envelope = core.openFromPeer({ body, privateKey: identity.privateKey, publicKey: identity.publicKey });
    if (core.envelopeSender(envelope).keyId !== from) {
      throw new PushPeerError('BAD_ENVELOPE', 'the carried envelope is not from the peer the neighbour named');
    }
    const item = await receivePush({ core, store, data: envelope, now, via, route: checkRoute(route) });
    tellPages(storeName, { pushpeer: 'inbox', id: item.id, type: item.type });
    return { item };
  } catch (error) {
    tellPages(storeName, { pushpeer: 'rejected', code: error?.code ?? 'INTERNAL', message: String(error?.message ?? error), via });
    return { error };
  }
}

/** What deliverCarried resolved to, as a page hears it (structured-clonable): { item: { id, type } } | { error }. */
export function carriedReply({ item, error }) {
  return error ? { error: { code: error.code ?? 'INTERNAL', message: String(error.message ?? error) } }
    : { item: { id: item.id, type: item.type } };
}

/**
 * From a page: a carried envelope goes to the service worker, which holds the profile's one replay guard (two cores
 * saving over each other's guard could let a replay through); a page without an active worker opens it itself.
 * Resolves to { item: { id, type } } or { error: { code, message } }.
 */
export async function deliverCarriedFromPage({ registration, core, store, storeName, body, via, from, route = [],
  timeoutMs = 10_000 }) {
  const worker = registration?.active;
  if (!worker || typeof MessageChannel === 'undefined') {
    return carriedReply(await deliverCarried({ core, store, storeName, body, via, from, route }));
  }
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ error: { code: 'TIMEOUT', message: 'the service worker did not answer' } }), timeoutMs);
    port1.onmessage = (e) => {
      clearTimeout(timer);
      port1.close();
      resolve(e.data);
    };
    worker.postMessage({ pushpeer: 'carried', body, via, from, route }, [port2]);
  });
}

/** For tests: forget which cores had their replay state restored. */
export function _resetRestored() {
  restored = new WeakMap();
}
