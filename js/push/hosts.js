// Which push services a push may go to. A card names its owner's push endpoint, and a card is handed to strangers:
// without this check a stranger's card could make our page (or worker) POST to any host it chose, or to a service
// on our own machine. Shared by the page's push sender (js/push/sender.js) and the relay (relay/relay.js).
import { PushPeerError } from '../errors.js';

/** Push services that browsers hand out endpoints for. `*.` matches exactly one DNS label. */
export const DEFAULT_PUSH_HOSTS = Object.freeze([
  'updates.push.services.mozilla.com', // Firefox
  'fcm.googleapis.com', // Chrome, Edge (some), Opera, Samsung
  '*.notify.windows.com', // Edge (WNS)
  'web.push.apple.com', // Safari
  '*.push.apple.com',
]);

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isLoopback(hostname) {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * An extra allowed host as a `scheme://host[:port]` key. Bare hosts mean https; http is allowed only for loopback
 * hosts (a local push service in tests). Throws PushPeerError BAD_ARGUMENT, prefixed with `what`.
 */
export function pushHostKey(entry, what = 'allowed host') {
  const bad = (why) => new PushPeerError('BAD_ARGUMENT', `${what} ${JSON.stringify(entry)}: ${why}`);
  if (typeof entry !== 'string' || entry.length === 0) throw bad('must be a non-empty string');
  let url;
  try {
    url = new URL(entry.includes('://') ? entry : `https://${entry}`);
  } catch {
    throw bad('is not a host[:port] or an origin');
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw bad('must be a host[:port] or an origin, nothing more');
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) throw bad('http is allowed only for loopback hosts');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad('only https (or http on loopback)');
  return `${url.protocol}//${url.host}`;
}

function matchesDefault(hostname, pattern) {
  if (!pattern.startsWith('*.')) return hostname === pattern;
  const suffix = pattern.slice(1);
  return hostname.endsWith(suffix) && DNS_LABEL.test(hostname.slice(0, -suffix.length));
}

/**
 * A predicate over endpoint URLs: true for the default push services (https, default port) unless defaultHosts is
 * false, and for the extra hosts (pushHostKey entries).
 */
export function pushHostPolicy({ defaultHosts = true, extraHosts = [], what } = {}) {
  const extra = new Set(extraHosts.map((h) => pushHostKey(h, what)));
  return (url) => extra.has(`${url.protocol}//${url.host}`) ||
    (defaultHosts && url.protocol === 'https:' && url.port === '' &&
      DEFAULT_PUSH_HOSTS.some((pattern) => matchesDefault(url.hostname, pattern)));
}
