// Share by link (docs/API.md, "Share by link"): what we share and what we download, over the content channel of
// every connection. peer.share(), peer.shares(), peer.fetch() (js/pushpeer.js) are this module's.
import { PushPeerError } from '../errors.js';
import { ContentChannel } from './channel.js';
import { PIECE_LEAVES, dropFiles } from './content-store.js';
import { Download, parseShareLink } from './download.js';
import { sharePath } from './serve-file.js';
import { ContentServer } from './server.js';

/** A share we hold: { id, link, title, files, complete, from, manifest, remove() }. */
class Share {
  constructor(shares, record) {
    this._shares = shares;
    this.id = record.id;
    this.title = record.title;
    /** When the sharer signed its manifest (seconds since the epoch). */
    this.created = record.created;
    this.complete = record.complete;
    this.manifest = record.manifest;
    this.files = record.files.map(({ name, size, type, root }) => ({ name, size, type, root }));
    /** For one file, its root; for several, the share's id (what the link names either way). */
    this.root = this.files.length === 1 ? this.files[0].root : this.id;
    /** The sharer's key id for a download; null for a share of ours. */
    this.from = record.from ?? null;
    // Complete, we serve it ourselves: our link. A download still under way: the link it came from, to resume it.
    this.link = record.complete ? shares.linkFor(this.id) : record.link ?? null;
  }

  /** The URL our service worker serves file `file` at (null without one): a <video> can play it. */
  url(file = 0) {
    return this._shares.urlFor(this.id, file);
  }

  /** Stops sharing it and deletes its bytes here. */
  remove() {
    return this._shares.remove(this.id);
  }

  /**
   * What was served of everything we share, since this page loaded: { ranges, bytes, manifests, refused, peers:
   * [{ keyId, ranges, bytes }] (who got what) }.
   */
  stats() {
    return { ...this._shares.server.served, peers: this._shares.server.perPeer() };
  }
}

/** Two paths clash when they are the same or one is a folder of the other ("a" and "a/b"): PROTOCOL §9.3. */
const clash = (a, b) => {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return long.startsWith(short) && (long.length === short.length || long[short.length] === '/');
};

const MAX_NAME_BYTES = 255; // PROTOCOL §9.3
const utf8Length = (text) => new TextEncoder().encode(text).length;

/**
 * `name` with " (n)" put in the segment that ends at `at`, before its extension ("a/b (2).txt"); the segment's stem
 * is shortened (by whole code points) when the name would pass 255 bytes.
 */
function numbered(name, at, n) {
  const start = name.lastIndexOf('/', at - 1) + 1;
  const dot = name.lastIndexOf('.', at - 1);
  const cut = dot > start ? dot : at;
  let stem = [...name.slice(start, cut)];
  const make = () => `${name.slice(0, start)}${stem.join('')} (${n})${name.slice(cut)}`;
  while (stem.length > 1 && utf8Length(make()) > MAX_NAME_BYTES) stem = stem.slice(0, -1);
  return make();
}

/**
 * The names made distinct as a file manager does it ("photo (2).jpg"; a file under a folder that is also a file's
 * name: "notes (2)/a.txt"): a manifest's paths may not clash.
 */
export function distinctPaths(names) {
  const taken = [];
  return names.map((name) => {
    let candidate = name;
    const first = taken.find((t) => clash(t, name));
    if (first !== undefined) {
      // The segment to number: the folder that is a file's name, else the name's last segment.
      const at = first.length < name.length ? first.length : name.length;
      for (let n = 2; taken.some((t) => clash(t, candidate)); n++) candidate = numbered(name, at, n);
    }
    taken.push(candidate);
    return candidate;
  });
}

export class Shares {
  /**
   * core, store (js/content/content-store.js), identity ({ privateKey }), card () -> { text }, linkBase,
   * connect (card bytes) -> Connection (open), connectionTo (keyId) -> a live Connection or null, log, maxUploads,
   * maxUploadRate
   * (js/content/server.js).
   */
  constructor({ core, store, identity, card, linkBase, connect, connectionTo, scope = () => null, log = () => {},
    maxUploads, maxUploadRate, swarms = null }) {
    this.core = core;
    this.store = store;
    this._identity = identity;
    this._card = card;
    this._linkBase = linkBase;
    this._connect = connect;
    this._connectionTo = connectionTo;
    this._scope = scope;
    this._log = log;
    this.server = new ContentServer({ core, store, log, maxUploads, maxUploadRate });
    this._channels = new WeakMap(); // Connection -> ContentChannel
    this._downloads = new Map(); // share id -> Download in progress
    this._swarms = swarms; // js/swarm/introductions.js: { join(id, connection, addSource), stopJoining(id), leave(id) }
  }

  /**
   * The ids of the shares we serve now: complete ones, downloads running here once their manifest is known, and
   * the site's files (the service worker's share: each file once whole, js/content/server.js) unless `sites` is false.
   */
  async served({ sites = true } = {}) {
    const ids = (await this.store.shares()).filter((r) => r.complete || (sites && r.site)).map((r) => r.id);
    for (const [id, download] of this._downloads) {
      const running = download.state === 'downloading' || download.state === 'paused' || download.state === 'connecting';
      if (download.manifest && running && !ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  /** Every open connection gets a content channel that serves our shares and carries our downloads. */
  attach(connection) {
    return this._channelOf(connection);
  }

  _channelOf(connection) {
    let channel = this._channels.get(connection);
    if (!channel) {
      channel = new ContentChannel({ core: this.core, connection, log: this._log,
        serve: (c, frame) => this.server.serve(c, frame) });
      this._channels.set(connection, channel);
    }
    return channel;
  }

  /** Where the service worker (installPushPeer) serves a file of a share: null without a worker. */
  urlFor(id, file) {
    const scope = this._scope();
    return scope ? new URL(sharePath(id, file), scope).href : null;
  }

  linkFor(id) {
    return `${this._linkBase()}#share=${id}.${this._card().text}`;
  }

  /**
   * Shares a File, a Blob, or an array or FileList of them: copies the bytes into the content store while hashing them
   * (128 KiB at a time: a file of any size is never held in memory), signs the manifest, and resolves to the Share.
   * Options: title (shown to receivers), name (for a Blob without one), type.
   */
  async share(input, { title = '', name, type } = {}) {
    const blobs = typeof Blob !== 'undefined' && input instanceof Blob ? [input] : Array.from(input ?? [], (b) => b);
    if (blobs.length === 0 || !blobs.every((b) => typeof Blob !== 'undefined' && b instanceof Blob)) {
      throw new PushPeerError('BAD_ARGUMENT', 'share() takes a File, a Blob or an array of them');
    }
    const files = [];
    const stored = [];
    const names = distinctPaths(blobs.map((blob, i) => blob.name || (i === 0 && name) || `file-${i + 1}`));
    try {
      for (const [i, blob] of blobs.entries()) {
        const fileName = names[i];
        const key = `local-${this.core.base64urlEncode(crypto.getRandomValues(new Uint8Array(12)))}`;
        stored.push({ key, size: blob.size });
        const tree = await this._storeBlob(blob, key);
        const root = this.core.base64urlEncode(tree.root);
        await this.store.putTree({ root, size: tree.size, nodes: tree.nodes });
        files.push({ name: fileName, size: blob.size, type: blob.type || (blobs.length === 1 ? type ?? '' : ''), root, key });
      }
      const manifest = this.core.createManifest({ privateKey: this._identity.privateKey, title,
        files: files.map((f) => ({ name: f.name, size: f.size, type: f.type, root: this.core.base64urlDecode(f.root) })) });
      const id = this.core.base64urlEncode(this.core.manifestId(manifest));
      const record = { id, manifest, title, files, complete: true, created: Math.floor(Date.now() / 1000), from: null };
      await this.store.putShare(record);
      return new Share(this, record);
    } catch (error) {
      // Nothing of a share that failed stays (trees another share holds excepted).
      const others = await this.store.shares().catch(() => []);
      for (const s of stored) await this.store.deletePieces(s.key).catch(() => {});
      for (const f of files) {
        if (!others.some((o) => o.files.some((g) => g.root === f.root))) await this.store.deleteTree(f.root).catch(() => {});
      }
      throw error;
    }
  }

  async _storeBlob(blob, key) {
    const hasher = this.core.contentHasher();
    try {
      const pieceBytes = PIECE_LEAVES * this.core.limits.content.leafSize;
      let index = 0;
      for (let at = 0; at < blob.size || index === 0; at += pieceBytes, index++) {
        const bytes = new Uint8Array(await blob.slice(at, Math.min(blob.size, at + pieceBytes)).arrayBuffer());
        hasher.update(bytes);
        await this.store.putPiece(key, index, bytes, null);
        if (blob.size === 0) break;
      }
      return hasher.finish();
    } finally {
      hasher.release();
    }
  }

  /** The shares we hold (ours and the downloads we keep), complete or not. */
  async list() {
    // (A site's files live here too, a share of the service worker's: js/site/site-files.js. Not one of ours.)
    return (await this.store.shares()).filter((r) => !r.site).map((r) => new Share(this, r));
  }

  async remove(id) {
    const record = await this.store.getShare(id);
    if (!record) return false;
    this._downloads.get(id)?.cancel();
    this.server.forget(id);
    await this.store.deleteShare(id);
    this._swarms?.leave(id); // once it is not served any more (a hello meanwhile would make it again)
    // Another share may hold the same file (the same root, and for downloads the same pieces): those stay.
    for (const root of await dropFiles(this.store, record.files, await this.store.shares())) this.server.drop(root);
    return true;
  }

  /** Forgets everything (PushPeer.forget): downloads stop, nothing is served, every share and byte is deleted. */
  async clear() {
    for (const download of this._downloads.values()) await download.cancel();
    this._downloads.clear();
    for (const record of await this.store.shares()) {
      this.server.forget(record.id);
      for (const f of record.files) this.server.drop(f.root);
    }
    await this.store.clear();
  }

  /** The service worker waits for a piece to answer a player ({ id, file, piece }): its download asks for it next. */
  want({ id, file, piece }) {
    this._downloads.get(id)?.prioritize(file, piece);
  }

  /** Starts (or resumes, after a reload) the download of a share link: a Download. */
  fetch(link, { via, ...options } = {}) {
    const { id, card } = parseShareLink(link, this.core);
    const key = this.core.base64urlEncode(id);
    const running = this._downloads.get(key);
    if (running && running.state !== 'failed' && running.state !== 'cancelled') return running;
    if (via !== undefined && typeof via?.writeContent !== 'function') {
      throw new PushPeerError('BAD_ARGUMENT', 'fetch(): via must be a Connection');
    }
    // Kept in this form only (what the link named, under our link base): the text given may be anything around it.
    const canonical = `${this._linkBase()}#share=${key}.${this.core.base64urlEncode(card)}`;
    const download = new Download({ core: this.core, store: this.store, link: canonical, ...options,
      urlFor: (file) => this.urlFor(key, file),
      channelOf: (connection) => (typeof connection?.writeContent === 'function' ? this._channelOf(connection) : null),
      onPiece: (file, piece) => this.server.pieceAdded(key, file, piece),
      // The swarm: we meet the others who fetch or serve it through the sharer, and each becomes a source.
      onLink: (connection) => void this._swarms?.join(key, connection, (c) => download.addSource(c)),
      connectTo: async (cardBytes) => {
        // `via`: over that connection only (a call's file): once it is closed, no other is made.
        if (via) {
          if (via.closed) throw new PushPeerError('NOT_CONNECTED', 'the connection it was to come over is closed');
          return this._channelOf(via);
        }
        const keyId = this.core.base64urlEncode(this.core.decodeCard(cardBytes).keyId);
        const live = this._connectionTo(keyId);
        return this._channelOf(live ?? await this._connect(cardBytes));
      },
      seed: () => this._downloads.delete(key) });
    this._downloads.set(key, download);
    // While it runs, what it verified is served to the swarm (js/content/server.js); a peer that asks us for it is
    // in the swarm too, and a source for us.
    const live = { has: (file, piece) => download.has(file, piece), bitfield: (file) => download.bitfield(file),
      interested: (channel) => download.addSource(channel) };
    this.server.track(key, live);
    download.done.finally(() => this.server.untrack(key, live)).catch(() => {});
    // Done: we serve it and stay in its swarm (newcomers meet us); failed or cancelled: we no longer serve it.
    download.done.then(() => this._swarms?.stopJoining(key), () => {
      if (this._downloads.get(key) === download || !this._downloads.has(key)) this._swarms?.leave(key);
    });
    return download;
  }
}
