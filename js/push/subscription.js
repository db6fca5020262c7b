// Our push subscription replaced (pushsubscriptionchange, a rotation after refused pushes, a page that found it
// gone): subscribe again with our identity, issue the new card and send it to every peer.
import { issueCard, sendCardToPeers } from '../card.js';
import { PushPeerError } from '../errors.js';

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
