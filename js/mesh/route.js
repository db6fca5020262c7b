// A carried envelope's route (docs/PROTOCOL.md §7.7): the key ids of the carriers it still passes, or passed, on
// the way between caller and callee. Shared by the carrier (js/mesh/neighbours.js) and the receiving end
// (js/push/reception.js, also in the service worker), so it stays free of both.
import { PushPeerError } from '../errors.js';

export const KEY_ID = /^[A-Za-z0-9_-]{11}$/;
/** Carriers between caller and callee, at most: a group's random walk (js/mesh/groups.js) is never longer. */
export const MAX_HOPS = 8;

/** `route` as a fresh list of distinct key ids, at most `max`; BAD_ARGUMENT otherwise. */
export function checkRoute(route, max = MAX_HOPS) {
  if (!Array.isArray(route) || route.length > max) {
    throw new PushPeerError('BAD_ARGUMENT', `a route is a list of at most ${max} key ids`);
  }
  if (!route.every((k) => typeof k === 'string' && KEY_ID.test(k)) || new Set(route).size !== route.length) {
    throw new PushPeerError('BAD_ARGUMENT', 'a route is a list of distinct key ids');
  }
  return route.slice();
}
