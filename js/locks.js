// Whether the page that claimed something is still there. A page holds a Web Lock (navigator.locks) for as long as it
// works on an inbox item or owns an answered call; the browser releases the lock when the page goes away (reload,
// close, crash), so the next page of the profile can take over at once instead of waiting for a timeout. Where there
// are no Web Locks (Node, old browsers) a claim counts as live for LEASE_MS after it was made.
export const LEASE_MS = 15_000;

const manager = (given) => given ?? globalThis.navigator?.locks ?? null;

/** The lock's name for a thing of a store: `pushpeer:<store>:<kind>:<id>`. */
export const lockName = (store, kind, id) => `pushpeer:${store}:${kind}:${id}`;

/**
 * Takes the lock if nobody holds it (lockManager: a LockManager, default navigator.locks). Resolves to a function that releases it, or to null when another page holds
 * it. Without Web Locks it always succeeds (the callers then also check the claim's age, LEASE_MS).
 */
export function tryHold(name, lockManager) {
  const locks = manager(lockManager);
  if (!locks) return Promise.resolve(() => {});
  return new Promise((resolve, reject) => {
    locks.request(name, { ifAvailable: true }, (lock) => {
      if (!lock) {
        resolve(null);
        return undefined;
      }
      return new Promise((release) => resolve(release));
    }).catch(reject);
  });
}

/** True when we can tell that nobody holds the lock (with Web Locks), or when the claim is older than LEASE_MS. */
export async function claimIsDead(name, claimedAt, lockManager, now = Date.now()) {
  const locks = manager(lockManager);
  if (!locks) return now - (claimedAt ?? 0) > LEASE_MS;
  return locks.request(name, { ifAvailable: true }, (lock) => lock !== null);
}
