// What a received push becomes, shared by the service worker (sw/handler.js) and tests: the envelope is opened
// (verified, fresh, not a replay), the sender's card kept, and the message put in the inbox for a page to act on.
// Also our own card (re)issued, which both the page and pushsubscriptionchange need.
import { PushPeerError } from './errors.js';
import { createPushSender } from './push.js';

export const GRANT_COUNT = 4;
export const GRANT_INTERVAL = 20 * 3600; // seconds: 4 grants keep a card usable for 80 hours (docs/PROTOCOL.md §3.1)
export const CARD_RENEW_BEFORE = 40 * 3600; // re-issue our card when its last grant ends sooner than this
const ENVELOPE_MAGIC = 0xe1;
const MAX_REJECTIONS = 50;

/** BroadcastChannel name on which the worker tells pages about new inbox items. */
export const channelName = (storeName) => `pushpeer:${storeName}`;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A push's data as the envelope: binary, or base64url text (what a text-only channel such as CDP carries). */
function envelopeInput(data) {
  if (data.length === 0) throw new PushPeerError('BAD_ENVELOPE', 'empty push');
  if (data[0] === ENVELOPE_MAGIC) return data;
  const text = new TextDecoder().decode(data).trim();
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new PushPeerError('BAD_ENVELOPE', 'neither an envelope nor its text form');
  return text;
}

let restoredCores = new WeakMap();

/**
 * Opens and records one push. Resolves to the new inbox item; throws PushPeerError (BAD_ENVELOPE, UNKNOWN_SENDER,
 * BAD_SIGNATURE, STALE_MESSAGE, REPLAYED_MESSAGE, ...) for anything that must not be acted on.
 */
export async function receivePush({ core, store, data, now }) {
  // The replay guard lives in the core's memory; a restarted worker gets it back from the store.
  // Once per core, and every push waits for that one restore (a late second restore would drop entries).
  if (!restoredCores.has(core)) {
    restoredCores.set(core, (async () => {
      const saved = await store.get('replay');
      if (saved) core.restoreReplayState(saved);
    })().catch((error) => {
      restoredCores.delete(core);
      throw error;
    }));
  }
  await restoredCores.get(core);
  const peers = new Map((await store.peers()).map((p) => [p.keyId, p.identity]));
  const opened = core.openEnvelope(envelopeInput(data), { peers, now, replay: true });
  await store.set('replay', core.saveReplayState());
  const from = core.base64urlEncode(opened.sender);
  if (opened.cardBytes) {
    const known = await store.getPeer(from);
    // A newer card replaces the one we keep; the same card again changes nothing (nor clears `gone`).
    if (!known || known.updated < opened.card.created) {
      await store.putPeer({ keyId: from, identity: opened.senderKey, card: opened.cardBytes, name: opened.card.name,
        updated: opened.card.created });
    }
  }
  const item = {
    received: Date.now(),
    type: opened.typeName,
    from,
    sessionId: core.base64urlEncode(opened.sessionId),
    sequence: opened.sequence,
    timestamp: opened.timestamp,
    body: opened.body,
    bytes: data.length, // the decrypted push (the envelope), for timelines
    hasCard: Boolean(opened.cardBytes),
  };
  // A card update needs no page: it is applied above.
  if (opened.typeName === 'card') item.state = 'done';
  item.id = await store.addInbox(item);
  await pruneInbox(store);
  return item;
}

export const INBOX_KEEP_MS = 24 * 3600 * 1000; // handled items: a day, for timelines and diagnostics
export const INBOX_KEEP_NEW_MS = 7 * 24 * 3600 * 1000; // unhandled ones: a week (offers expire far sooner)

/** Drops old inbox items, so that the store does not grow with every push ever received. */
export async function pruneInbox(store, now = Date.now()) {
  let dropped = 0;
  for (const item of await store.inbox()) {
    const keep = item.state === 'new' ? INBOX_KEEP_NEW_MS : INBOX_KEEP_MS;
    if (now - item.received > keep) {
      await store.deleteInbox(item.id);
      dropped++;
    }
  }
  return dropped;
}

/** Keeps the last few refusals (code, size, time) for diagnostics and the demo's timeline. */
export async function recordRejection(store, code, bytes) {
  try {
    const list = (await store.get('rejections')) ?? [];
    list.push({ code, bytes, at: Date.now() });
    await store.set('rejections', list.slice(-MAX_REJECTIONS));
  } catch {
    // diagnostics only
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

/** True when the saved card is missing, for another endpoint/name/subject, or its grants run out soon. */
export function cardNeedsRenewal(saved, { endpoint, config, now = nowSeconds() }) {
  return !saved || saved.endpoint !== endpoint || saved.name !== (config.name ?? '') ||
    saved.subject !== config.subject || saved.grantsUntil - now < CARD_RENEW_BEFORE;
}

/**
 * After the push service replaced our subscription: subscribe again with our identity as applicationServerKey,
 * issue a new card and send it to every known peer (envelope type 'card'; one push each). Resolves to
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
  const sender = createPushSender({ core, relay: config.relay ?? null, relayMode: config.relayMode ?? 'auto',
    fetch: fetchFn });
  const sent = [];
  const failed = [];
  for (const peer of await store.peers()) {
    try {
      const envelope = core.sealEnvelope({ type: 'card', privateKey: identity.privateKey, card: card.bytes });
      await sender.send({ card: peer.card, payload: envelope, topic: 'card', ttl: 24 * 3600, urgency: 'normal' });
      sent.push(peer.keyId);
    } catch (error) {
      failed.push({ peer: peer.keyId, code: error?.code ?? 'INTERNAL' });
    }
  }
  return { endpoint: json.endpoint, sent, failed };
}

/** For tests: forget which cores had their replay state restored. */
export function _resetRestored() {
  restoredCores = new WeakMap();
}
