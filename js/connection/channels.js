// The data channels of a connection, in one place. Both sides create them pre-negotiated (fixed ids, no in-band
// DCEP) before the first offer, so that they are in the packed SDP (docs/PROTOCOL.md §7.2). An id is never reused
// for something else: a peer of another version must not read one kind of frame as another.
export const CHANNELS = Object.freeze({
  /** pushpeer's own frames (docs/PROTOCOL.md §7.3): ordered, reliable, JSON text. */
  control: Object.freeze({ id: 0, label: 'pushpeer-control' }),
  /** The app's: `connection.channel`, ordered and reliable. */
  app: Object.freeze({ id: 1, label: 'pushpeer-data' }),
  /** Share-by-link's frames (docs/PROTOCOL.md §9.4): ordered, reliable, binary. */
  content: Object.freeze({ id: 2, label: 'pushpeer-content' }),
});

