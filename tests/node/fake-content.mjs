/**
 * A connection as js/content/ sees one: contentChannel (message events, to its receiver: onContent), writeContent,
 * close, 'close'. For Node tests of share by link and site files without WebRTC.
 */
export class FakeConnection extends EventTarget {
  constructor(keyId) {
    super();
    this.remote = { keyId };
    this.closed = false;
    this.contentChannel = new EventTarget();
    this.other = null;
    this.tamper = null; // (bytes) -> bytes to deliver, or null to drop
    this.sent = [];
  }

  onContent(handler) {
    const listener = (e) => handler(e.data);
    this.contentChannel.addEventListener('message', listener);
    return () => this.contentChannel.removeEventListener('message', listener);
  }

  writeContent(data) {
    if (this.closed) return Promise.reject(Object.assign(new Error('closed'), { code: 'NOT_CONNECTED' }));
    let bytes = new Uint8Array(data).slice();
    this.sent.push(bytes);
    if (this.tamper) bytes = this.tamper(bytes);
    if (bytes) {
      setImmediate(() => {
        if (!this.other.closed) this.other.contentChannel.dispatchEvent(Object.assign(new Event('message'), { data: bytes.buffer }));
      });
    }
    if (!this.sending || data[1] !== 4) return Promise.resolve();
    // A channel that takes a while to take each range (a data frame, type 4): how many are being sent at once, over
    // a peer's connections.
    const s = this.sending;
    s.now++;
    s.max = Math.max(s.max, s.now);
    return new Promise((resolve) => setTimeout(() => {
      s.now--;
      resolve();
    }, s.ms).unref()); // a channel that never takes its frame must not keep the test process alive
  }

  close(reason = 'closed') {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.dispatchEvent(new Event('close'));
    this.other.close(`peer: ${reason}`);
  }
}

/** Two connected ends: [a's, b's] (a's end has b's key id as its remote, and the other way). */
export function connectPair(aKeyId, bKeyId) {
  const mine = new FakeConnection(bKeyId);
  const theirs = new FakeConnection(aKeyId);
  mine.other = theirs;
  theirs.other = mine;
  return [mine, theirs];
}
