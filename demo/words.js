// What the demo says to people: every error code as a sentence, why a call ended, sizes, ages and dates in the
// person's own locale. Codes stay out of the UI (the timeline shows them); a code not listed here gets a generic
// sentence, never the code itself.

const ERRORS = {
  PEER_GONE: 'Their push address is gone: ask them for a new card link.',
  TIMEOUT: 'No answer: they may be away, or their browser did not get the call.',
  DECLINED: 'They declined the call.',
  ABORTED: 'Call cancelled.',
  EXPIRED: 'Too late: the caller stopped waiting.',
  ALREADY_HANDLED: 'This call was answered in another tab.',
  NOT_CONNECTED: 'The connection could not be made: one of you may be behind a network that blocks direct ' +
    'connections (a TURN server in Settings helps).',
  PUSH_UNREACHABLE: 'Their push service does not take calls from web pages: set a relay in Settings.',
  PUSH_FAILED: 'Their push service did not take the call. Try again in a moment.',
  HOST_NOT_ALLOWED: 'That card names a push service this app does not know, so it will not call it.',
  NO_USABLE_GRANT: 'This card is too old: ask for a new link.',
  RATE_LIMITED: 'Their push service asks us to slow down: try again in a minute.',
  BAD_CARD: 'That is not a valid card link.',
  BAD_BASE64: 'That is not a valid card link.',
  BAD_SIGNATURE: 'That card link has been altered: ask for the original.',
  UNSUPPORTED_VERSION: 'That card was made by a newer version of this app.',
  BAD_TEXT: 'Names can use letters, digits, spaces and punctuation, up to 40 characters.',
  OWN_CARD: 'That is your own card: send it to someone else, and open theirs.',
  PERMISSION_DENIED: 'Notifications are blocked for this site, so this browser cannot receive calls.',
  SUBSCRIBE_FAILED: "This browser's push service did not give us an address.",
  UNKNOWN_SENDER: 'That person is not in your list any more: open their card link again.',
  NOT_SUPPORTED: 'This browser lacks something the demo needs (service workers or WebRTC).',
};

/** A sentence for an error (a PushPeerError or anything thrown). */
export function sentence(error) {
  if (error?.code === 'BAD_ARGUMENT' && /own card/.test(error.message ?? '')) return ERRORS.OWN_CARD;
  return ERRORS[error?.code] ?? 'Something went wrong. The signaling timeline has the details.';
}

/** Why a call ended, for the person (close event: { reason, by, peerReason }). */
export function endedBecause(info, name) {
  if (!info) return 'The call ended.';
  if (info.by === 'us') return info.reason === 'hung up' ? 'You hung up.' : 'The call ended.';
  if (info.by === 'peer') {
    if (info.peerReason === 'hung up') return `${name} hung up.`;
    if (info.peerReason === 'page closed') return `${name}'s page closed.`;
    return `${name} ended the call.`;
  }
  return `The connection to ${name} was lost.`;
}

/** Why a transfer stopped when its call ended: "connection lost", "Alice's page closed" (then "at 35%"). */
export function transferCut(info, name) {
  if (info?.by === 'peer' && info.peerReason === 'page closed') return `${name}'s page closed`;
  if (info?.by === 'peer' && info.peerReason === 'hung up') return `${name} hung up`;
  if (info?.by === 'peer') return `${name} ended the call`;
  if (info?.by === 'us') return 'the call ended';
  return 'connection lost';
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 2 ** 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 2 ** 30) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${(n / 2 ** 30).toFixed(2)} GiB`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "just now", "2 minutes ago", "3 hours ago" for a past time (ms since the epoch). */
export function ago(ms, now = Date.now()) {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 10) return 'just now';
  if (s < 60) return relative.format(-s, 'second');
  if (s < 3600) return relative.format(-Math.floor(s / 60), 'minute');
  if (s < 86400) return relative.format(-Math.floor(s / 3600), 'hour');
  return relative.format(-Math.floor(s / 86400), 'day');
}

/** "for 3 more days", "for 5 more hours" until a future time. */
export function remaining(ms, now = Date.now()) {
  const s = Math.max(0, (ms - now) / 1000);
  if (s >= 2 * 86400) return `for ${Math.floor(s / 86400)} more days`;
  if (s >= 2 * 3600) return `for ${Math.floor(s / 3600)} more hours`;
  return `for ${Math.max(1, Math.floor(s / 60))} more minutes`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

export const formatDate = (ms) => dateFormat.format(new Date(ms));
export const formatTime = (ms) => timeFormat.format(new Date(ms));

/** "40 ms", "1.2 s", "45 s", "3 min 5 s". */
export function duration(ms) {
  if (ms < 1000) return `${Math.max(1, Math.round(ms))} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Bytes per second as "12.3 MiB/s". */
export const rate = (bytes, ms) => (ms > 0 ? `${formatBytes(Math.round((bytes * 1000) / ms))}/s` : '');
