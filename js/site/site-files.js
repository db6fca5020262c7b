// A site's listed files, served by its service worker (docs/PROTOCOL.md §10): the worker pins the publisher's key,
// takes a site manifest only when that key signed it and its version is not below the highest it has seen, and
// answers a listed path only with bytes whose merkle root is the listed one, wherever they came from (its store, the
// site's other visitors through an open page, or the origin). Everything else, pages included, is not ours: the
// network has it.
//
// The listed files are a share (§9.3) in the content store (js/content/content-store.js), keyed by root, so that a
// file unchanged from one version to the next is not fetched again, and what a version no longer lists is dropped.
// A file fetched from the origin is hashed as it arrives and stored only once its root matched (pieces and tree in
// the store: the store's rule that a piece there is verified holds). A file the worker lacks is asked of a page with
// live connections first (js/site/page-requests.js): the page fetches it from its peers, checking every piece, and
// stores it the same way (js/site/peer-fetch.js); no page, no peer with it, or a deadline passed: the origin.
import { PushPeerError } from '../errors.js';
import { PIECE_LEAVES, dropFiles } from '../content/content-store.js';
import { serveSharedFile } from '../content/serve-file.js';

/** In the peer's store: { version, id, bytes } of the manifest in use (the worker writes it, pages read it). */
export const SITE_KEY = 'site';
const REFRESH_MS = 60_000; // the manifest is looked at again at most this often (refresh({ force }) aside)

/** A page (by its path): what a visitor trusts the origin for, so never listed (bin/) nor answered (here). */
export const isPage = (path) => /\.html?$/i.test(path);

/**
 * The site files of one origin. host: { core, store (the peer's, js/store/store.js), contentStore, publisherKey
 * (base64url or bytes: the 65-byte public key `pushpeer keygen` wrote), manifestUrl (absolute), fetch,
 * updated(site) (a newer version was taken), peers (js/site/page-requests.js, or null: the origin only),
 * obtained({ path, source: 'peer' | 'origin', bytes, from }) (a file came in) }.
 */
export class SiteFiles {
  constructor({ core, store, contentStore, publisherKey, manifestUrl, fetch = (...a) => globalThis.fetch(...a),
    updated = () => {}, peers = null, obtained = () => {} }) {
    this.core = core;
    this.store = store;
    this.contentStore = contentStore;
    this.publisherKey = typeof publisherKey === 'string' ? publisherKey : core.base64urlEncode(publisherKey);
    if (core.base64urlDecode(this.publisherKey).length !== 65) {
      throw new PushPeerError('BAD_ARGUMENT', 'site.publisherKey: the 65-byte public key of the publisher (base64url)');
    }
    this.manifestUrl = new URL(manifestUrl).href;
    this.base = new URL('.', this.manifestUrl);
    this._fetch = fetch;
    this._updated = updated;
    this._peers = peers;
    this._obtained = obtained;
    this._site = null; // { version, id, files: [{ name, size, type, root, key }], byPath }
    this._next = null; // a newer version being taken (its changed files fetched first), or null
    this._checked = 0;
    this._failed = null; // { at, error }: the last load that found no manifest (tried again after REFRESH_MS)
    this._refreshing = null;
    this._fetching = new Map(); // root -> Promise: one origin fetch per file at a time
    this._stored = new Set(); // roots known to be in the store, verified (no look-up per request)
    this._answered = new Map(); // path -> where its last answer came from (status())
  }

  /**
   * What the pages can show ({ pushpeer: 'site-status' }): { version, publisher, files: [{ path, size, type, source:
   * 'cache' | 'peer' | 'origin' | null (not asked since the worker started) }] }, or null without a site.
   */
  status() {
    const site = this._site;
    if (!site) return null;
    return { version: site.version, publisher: this.publisherKey, files: site.files.map((f) => ({ path: f.name,
      size: f.size, type: f.type, source: this._answered.get(f.name) ?? null })) };
  }

  /** True once a site manifest is in use (match() can answer). */
  get loaded() {
    return Boolean(this._site);
  }

  /**
   * The site in use: { version, id, files }, loaded from the store, else fetched. Fails as refresh() does; a load
   * that failed is not tried again for a minute (each request would fetch the manifest).
   */
  async current() {
    this._site ??= await this._saved();
    if (this._site) return this._site;
    if (this._failed && Date.now() - this._failed.at < REFRESH_MS) throw this._failed.error;
    try {
      return await this.refresh({ force: true });
    } catch (error) {
      this._failed = { at: Date.now(), error };
      throw error;
    }
  }

  /**
   * Fetches the manifest and takes it when it is newer: WRONG_PUBLISHER (signed by another key), BAD_MANIFEST (not
   * one, or badly signed), VERSION_BACKWARDS (below the highest version seen; the one in use stays). At most once
   * a minute unless `force`. Resolves to the site in use.
   */
  refresh({ force = false } = {}) {
    if (!force && Date.now() - this._checked < REFRESH_MS) {
      if (this._site) return Promise.resolve(this._site);
      if (this._failed) return Promise.reject(this._failed.error); // (no manifest to be had: asked again in a minute)
    }
    this._refreshing ??= this._refresh().finally(() => {
      this._refreshing = null;
    });
    return this._refreshing;
  }

  async _refresh() {
    this._checked = Date.now();
    const response = await this._fetch(this.manifestUrl, { cache: 'no-cache' });
    if (!response.ok) throw new PushPeerError('NOT_FOUND', `the site manifest ${this.manifestUrl}: HTTP ${response.status}`);
    return this._consider(new Uint8Array(await response.arrayBuffer()));
  }

  /**
   * Manifest bytes a peer sent (docs/PROTOCOL.md §10.4): taken as the origin's would be when the pinned key signed
   * them and their version is above the one in use; else nothing changes (a peer may be behind). Resolves to the
   * site in use; rejects as refresh() does for bytes that are not the publisher's.
   */
  offer(bytes) {
    return this._consider(bytes, { offered: true });
  }

  /** One manifest looked at at a time (the origin's and peers' alike): a newer one is taken, see _take(). */
  _consider(bytes, options) {
    const next = (this._considering ?? Promise.resolve()).then(() => this._look(bytes, options));
    this._considering = next.catch(() => {});
    return next;
  }

  async _look(bytes, { offered = false } = {}) {
    const site = this._open(bytes);
    const inUse = this._site ?? await this._saved();
    if (inUse && site.version < inUse.version) {
      if (offered) return inUse;
      throw new PushPeerError('VERSION_BACKWARDS', `the site manifest's version ${site.version} is below ${inUse.version}, the one in use`);
    }
    if (inUse && site.version === inUse.version) {
      // The same version signed twice over other files is not a version: the first one stays.
      if (site.id !== inUse.id && !offered) throw new PushPeerError('VERSION_BACKWARDS', `another manifest with version ${site.version}`);
      this._site = inUse;
      return inUse;
    }
    await this._take(site, bytes, inUse);
    return site;
  }

  /**
   * A newer version: the files it changed that we held are fetched first (from peers through a page, else the origin), while
   * the version in use goes on answering; then it is switched to. A file that could not be had now is fetched when
   * asked for. The first version is taken at once (its files come as they are asked for).
   */
  async _take(site, bytes, before) {
    this._next = site; // what it lists is fetched for it: kept (_listed)
    try {
      if (before) await this._prefetch(site, before);
      await this._adopt(site, bytes, before);
    } finally {
      if (this._next === site) this._next = null;
    }
  }

  /** Only what this visitor had of the version before, changed: a file it never asked for stays unasked. */
  async _prefetch(site, before) {
    const held = new Set();
    for (const f of before.files) {
      if (await this._holds(f)) held.add(f.name);
    }
    for (const [index, file] of site.files.entries()) {
      if (!held.has(file.name)) continue;
      if (await this._holds(file)) continue;
      try {
        const { pieces } = await this._obtain(site, index);
        if (!pieces) this._stored.add(file.root);
      } catch {
        // asked for later, from peers or the origin again
      }
    }
  }

  /**
   * The site the store holds, or null. One another key signed (the site pinned a new key: its worker changed, which
   * only the origin can do) is not the site any more: versions start over with the new key, and the next version
   * taken drops the old one's files (the origin's choice; a peer cannot bring it about).
   */
  async _saved() {
    const saved = await this.store.get(SITE_KEY);
    if (!saved) return null;
    try {
      return this._open(saved.bytes);
    } catch (error) {
      if (error?.code !== 'WRONG_PUBLISHER') throw error;
      this._orphan ??= saved.id ?? null;
      return null;
    }
  }

  /** Opens and checks manifest bytes against the pinned key: the site, with its files by path. */
  _open(bytes) {
    const opened = this.core.openSiteManifest(bytes);
    if (this.core.base64urlEncode(opened.publisher) !== this.publisherKey) {
      throw new PushPeerError('WRONG_PUBLISHER', 'the site manifest is signed by another key than the pinned publisher\'s');
    }
    const b64 = (b) => this.core.base64urlEncode(b);
    const files = opened.manifest.files.map((f) => ({ name: f.name, size: f.size, type: f.type, root: b64(f.root),
      key: `site-${b64(f.root)}` }));
    return { version: opened.version, id: b64(opened.manifest.id), title: opened.manifest.title, files,
      manifest: opened.manifestBytes, byPath: new Map(files.map((f, i) => [f.name, i])) };
  }

  /** A newer version: its share record, then what no version lists any more is dropped. */
  async _adopt(site, bytes, before) {
    await this.contentStore.putShare({ id: site.id, manifest: site.manifest, title: site.title, files: site.files,
      complete: false, created: Math.floor(Date.now() / 1000), from: null, site: site.version });
    await this.store.set(SITE_KEY, { version: site.version, id: site.id, bytes });
    this._site = site;
    this._failed = null;
    // What the version before listed (and, after a new key was pinned, what the old key's last version did) goes,
    // unless this version lists it too.
    const gone = before ? [{ id: before.id, files: before.files }] : [];
    if (this._orphan) gone.push({ id: this._orphan, files: (await this.contentStore.getShare(this._orphan))?.files ?? [] });
    this._orphan = null;
    // The version in use keeps its files, and one of the person's own shares with the same bytes keeps its tree.
    for (const old of gone) {
      if (old.id !== site.id) await this.contentStore.deleteShare(old.id);
      await this._drop(old.files);
    }
    this._updated({ version: site.version, previous: before?.version ?? null });
  }

  /**
   * Drops `files` from the store but what the version in use or another share lists. (A file of the version before
   * that a request was fetching while the switch happened drops itself once stored: _obtain.)
   */
  async _drop(files) {
    const dropped = files.filter((f) => !this._listed(f.root));
    for (const f of dropped) this._stored.delete(f.root);
    await dropFiles(this.contentStore, dropped, await this.contentStore.shares());
  }

  /** Whether the version in use, or the one being taken, lists a file with this root. */
  _listed(root) {
    return [this._site, this._next].some((site) => site?.files.some((f) => f.root === root));
  }

  /**
   * Whether listed `file` is here whole: its tree (stored last) and its own pieces (a tree alone may be another
   * share's with the same bytes: trees are kept by root). Remembered in _stored.
   */
  async _holds(file) {
    if (this._stored.has(file.root)) return true;
    if (!(await this.contentStore.getTree(file.root)) || !(await this.contentStore.pieceBytes(file.key, 0))) return false;
    this._stored.add(file.root);
    return true;
  }

  /**
   * The listed file a request is for ({ index }), or null: a GET below the manifest's folder, with no query, of a
   * path the manifest lists that is not a page. Synchronous on the site in use (null before one is loaded).
   */
  match(request, site = this._site) {
    if (!site || request.method !== 'GET') return null;
    const url = new URL(request.url);
    if (url.origin !== this.base.origin || url.search || !url.pathname.startsWith(this.base.pathname)) return null;
    let path;
    try {
      path = decodeURIComponent(url.pathname.slice(this.base.pathname.length));
    } catch {
      return null;
    }
    if (isPage(path)) return null;
    const index = site.byPath.get(path);
    // A page is what a visitor trusts the origin for: one listed under another name is not answered either.
    if (index === undefined || /^\s*text\/html\b/i.test(site.files[index].type)) return null;
    return { index };
  }

  /**
   * The response for a listed file: from the store when it holds it verified, else from the origin, verified first.
   * Bytes that do not lead to the listed root are never answered: a 502, and nothing stored. Ranges are served.
   */
  async respond(request, { again = false } = {}) {
    const site = await this.current();
    const target = site && this.match(request, site);
    if (!target) return this._fetch(request);
    const file = site.files[target.index];
    // The site's files are in memory: only the pieces are read from the store (a request costs one read per piece).
    let from = { getShare: async () => ({ files: site.files }), pieceBytes: (key, i) => this.contentStore.pieceBytes(key, i) };
    if (this._stored.has(file.root)) {
      // Still there? (The page may have cleared the store.) Its first piece says, and is then answered as read.
      const first = await this.contentStore.pieceBytes(file.key, 0);
      if (first) from.pieceBytes = (key, i) => (i === 0 ? first : this.contentStore.pieceBytes(key, i));
      else this._stored.delete(file.root);
    } else {
      await this._holds(file);
    }
    let source = 'cache';
    if (!this._stored.has(file.root)) {
      try {
        let pieces;
        let gone;
        ({ pieces, source, gone } = await this._obtain(site, target.index));
        // The site switched to a version that does not list these bytes meanwhile: the request is answered as
        // that version says (its file at that path, checked; or the network when it lists none there). Once.
        if (gone && !again) return this.respond(request, { again: true });
        if (gone) throw Object.assign(new PushPeerError('NOT_FOUND', 'the site changed version while this file was fetched'), { status: 503 });
        // Verified but not stored (storage is full): answered from memory this once.
        if (pieces) from = { getShare: from.getShare, pieceBytes: async (key, i) => pieces[i] ?? null };
        else this._stored.add(file.root);
      } catch (error) {
        return new Response(`${error.code ?? 'INTERNAL'}: ${error.message}`, { status: error.status ?? 502,
          headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } });
      }
    }
    this._answered.set(file.name, source);
    // A piece missing now was dropped by a version switch (or the page cleared the store): the response ends at once.
    return serveSharedFile(from, request, { id: site.id, file: target.index }, { waitMs: 0,
      headersFor: (f) => ({ 'Content-Type': f.type || 'application/octet-stream', 'Accept-Ranges': 'bytes',
        'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache', 'X-PushPeer-Site-Version': String(site.version),
        'X-PushPeer-Source': source }),
    });
  }

  /**
   * Brings listed file `index` into the store: from peers through a page when one has peers, else (or when that
   * fails) from the origin. Resolves to { source: 'peer' | 'origin' } once stored, with `pieces` (the verified
   * bytes) when storage is full. One at a time per file.
   */
  _obtain(site, index) {
    const file = site.files[index];
    let fetching = this._fetching.get(file.root);
    if (!fetching) {
      // Stored (whole, or pieces a page wrote before it failed) for a version the worker switched away from
      // meanwhile: _adopt has dropped that version's files, so this one is dropped too.
      const unlisted = () => !this._listed(file.root);
      fetching = this._fromPeersOrOrigin(site, index).then(async (got) => {
        if (got.pieces || !unlisted()) return got;
        await this._drop([file]);
        return { ...got, gone: true };
      }, async (error) => {
        if (unlisted()) await this._drop([file]).catch(() => {});
        throw error;
      }).finally(() => this._fetching.delete(file.root));
      this._fetching.set(file.root, fetching);
    }
    return fetching;
  }

  async _fromPeersOrOrigin(site, index) {
    const file = site.files[index];
    if (this._peers?.hasPeers) {
      const got = await this._peers.want(site.id, index, file);
      // The page verified every piece and stored the tree last: the tree there means the whole file is.
      if (got.ok && await this._holds(file)) {
        this._obtained({ path: file.name, source: 'peer', bytes: file.size, from: got.from });
        return { source: 'peer' };
      }
    }
    const { pieces } = await this._fetchVerified(file);
    this._obtained({ path: file.name, source: 'origin', bytes: file.size, from: null });
    return { source: 'origin', pieces };
  }

  async _fetchVerified(file) {
    const response = await this._fetch(new URL(file.name.split('/').map(encodeURIComponent).join('/'), this.base).href,
      { cache: 'no-cache' });
    if (!response.ok) {
      throw Object.assign(new PushPeerError('NOT_FOUND', `the origin answered HTTP ${response.status}`), { status: response.status });
    }
    const pieceBytes = PIECE_LEAVES * this.core.limits.content.leafSize;
    const hasher = this.core.contentHasher();
    const pieces = [];
    let size = 0;
    let pending = new Uint8Array(0);
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > file.size) {
          await reader.cancel();
          throw new PushPeerError('CHUNK_MISMATCH', `the origin sent more than the listed ${file.size} bytes`);
        }
        hasher.update(value);
        // Whole pieces as they fill (held until the root is known: nothing unverified is stored).
        const joined = new Uint8Array(pending.length + value.length);
        joined.set(pending);
        joined.set(value, pending.length);
        let at = 0;
        for (; joined.length - at >= pieceBytes; at += pieceBytes) pieces.push(joined.slice(at, at + pieceBytes));
        pending = joined.slice(at);
      }
      if (pending.length || pieces.length === 0) pieces.push(pending);
      const tree = hasher.finish();
      if (size !== file.size || this.core.base64urlEncode(tree.root) !== file.root) {
        throw new PushPeerError('CHUNK_MISMATCH', `the origin's ${file.name} is not the one the site manifest lists`);
      }
      try {
        await this.contentStore.putPieces(pieces.map((bytes, index) => ({ file: file.key, index, bytes, leaves: null })));
        await this.contentStore.putTree({ root: file.root, size: tree.size, nodes: tree.nodes });
      } catch (error) {
        if (error?.code !== 'QUOTA_EXCEEDED') throw error;
        await this.contentStore.deletePieces(file.key).catch(() => {}); // (the pieces went in all at once, or none)
        return { pieces };
      }
      return {};
    } finally {
      hasher.release();
    }
  }
}
