// New site versions spread over the peers (docs/PROTOCOL.md §10.4): a page tells each peer it connects to which
// version of the site its worker uses, and sends the signed manifest to a peer that is behind, and to all its peers
// when its worker takes a newer one. A manifest that comes from a peer goes to our worker only when it is one: signed
// by the same publisher as the version in use, and newer. The worker checks it again against its pinned key (a page
// pins nothing) and takes it as it would the origin's: the changed files first, from peers, then the switch
// (js/site/site-files.js). Nobody can push a visitor back to an older version, or to another publisher's site.
//
// Control frames (JSON, on the connection's control channel): { t: 'site', v } (the version we use) and
// { t: 'site', v, m } (with the manifest, base64url).
import { SITE_KEY } from './site-files.js';

// Manifests one connection may send us a minute (each costs a signature check here, maybe one in the worker).
const OFFERS_PER_MINUTE = 6;
// Site frames of any kind one connection may send us a minute (beyond: ignored).
const FRAMES_PER_MINUTE = 30;

export class SiteVersions {
  /** core, store (the peer's: the worker's site record), post(message) (to the worker). */
  constructor({ core, store, post }) {
    this.core = core;
    this.store = store;
    this._post = post;
    this._connections = new Set();
    this._sent = new WeakMap(); // connection -> the version we sent it the manifest of
    this._offers = new WeakMap(); // connection -> times of manifests it sent (the last minute)
    this._frames = new WeakMap(); // connection -> times of site frames it sent (the last minute)
    this._current = null; // Promise of the opened site in use: opened once, again after siteupdate
  }

  /**
   * The site in use ({ version, publisher, id (its share's), bytes }), or null without one (not kept: the worker may
   * load one soon). Read from the store once, again after updated(): the page's one reader of it (js/site/page-site.js).
   */
  site() {
    this._current ??= this._load().then((site) => {
      if (!site) this._current = null;
      return site;
    });
    return this._current;
  }

  async _load() {
    const saved = await this.store.get(SITE_KEY).catch(() => null);
    if (!saved?.bytes) return null;
    try {
      const opened = this.core.openSiteManifest(saved.bytes);
      return { version: opened.version, publisher: this.core.base64urlEncode(opened.publisher),
        id: this.core.base64urlEncode(opened.manifest.id), bytes: saved.bytes };
    } catch {
      return null;
    }
  }

  /** A connection opened: it hears our version, and we its. */
  attach(connection) {
    this._connections.add(connection);
    connection.addEventListener('close', () => this._connections.delete(connection));
    connection.onControl('site', (frame) => this._heard(connection, frame));
    void this.site().then((site) => site && connection.sendControl({ t: 'site', v: site.version }));
  }

  /** Our worker took a newer version: every peer gets its manifest. */
  async updated() {
    this._current = null;
    const site = await this.site();
    if (!site) return;
    for (const connection of this._connections) this._send(connection, site);
  }

  _send(connection, site) {
    if (this._sent.get(connection) >= site.version || connection.closed) return;
    this._sent.set(connection, site.version);
    connection.sendControl({ t: 'site', v: site.version, m: this.core.base64urlEncode(site.bytes) });
  }

  /** True when `connection` sent fewer than `limit` of these in the last minute (and counts this one). */
  _within(times, connection, limit) {
    const now = Date.now();
    const recent = (times.get(connection) ?? []).filter((at) => now - at < 60_000);
    if (recent.length >= limit) return false;
    recent.push(now);
    times.set(connection, recent);
    return true;
  }

  async _heard(connection, frame) {
    if (!Number.isSafeInteger(frame?.v) || frame.v < 0 || !this._within(this._frames, connection, FRAMES_PER_MINUTE)) return;
    const site = await this.site();
    if (!site) return;
    if (frame.v < site.version) {
      this._send(connection, site); // it is behind
      return;
    }
    if (frame.v === site.version || typeof frame.m !== 'string') return;
    if (!this._within(this._offers, connection, OFFERS_PER_MINUTE)) return;
    if (frame.m.length > Math.ceil((this.core.limits.content.maxSiteManifestLength * 4) / 3)) return;
    let offered;
    let bytes;
    try {
      bytes = this.core.base64urlDecode(frame.m);
      offered = this.core.openSiteManifest(bytes);
    } catch {
      return; // not a site manifest, or not signed as it says
    }
    if (this.core.base64urlEncode(offered.publisher) !== site.publisher || offered.version <= site.version) return;
    this._sent.set(connection, Math.max(this._sent.get(connection) ?? 0, offered.version)); // it has it
    this._post({ pushpeer: 'site-offer', bytes });
  }
}
