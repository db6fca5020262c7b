// The service worker's end of "a listed file from peers" (docs/PROTOCOL.md §10.3; the page's end is
// js/site/peer-fetch.js). Pages of the app say how many live connections they have ('site-sources', on every
// change and when the worker asks with 'site-who' after it started); when the worker lacks a listed file and a page
// has peers, it asks that page ('site-want'), which takes it ('site-taking'), reports each verified piece
// ('site-progress') and ends with 'site-done' ({ ok }). The page does the verifying and storing; the worker only
// waits, with deadlines: a page that does not take the request in CLAIM_MS, or goes STALL_MS without a piece, is
// given up (the worker then goes to the origin, and a page that never answered is forgotten). All of it over the
// pages' BroadcastChannel, where same-origin pages and the worker talk (js/push/reception.js).

/** A page has this long to take a request (it answers at once when it is alive). */
export const CLAIM_MS = 1000;
/** A request taken is given up after this long without a verified piece. */
export const STALL_MS = 5000;
/**
 * And in any case once the file took longer than at this rate (bytes/s) plus CLAIM_MS and STALL_MS: peers slower
 * than that (or one that drips a piece every few seconds) lose to the origin.
 */
export const MIN_RATE = 256 * 1024;
/** After the worker starts, how long a request waits for pages to say whether they have peers. */
const WHO_MS = 50;

export class PageRequests {
  /** post(message): to the pages. */
  constructor({ post, now = () => Date.now(), minRate = MIN_RATE, graceMs = CLAIM_MS + STALL_MS }) {
    this._post = post;
    this._now = now;
    this._minRate = minRate;
    this._graceMs = graceMs;
    this._pages = new Map(); // page id -> live connections it has (> 0)
    this._requests = new Map(); // request id -> { page, claimed, timer, deadline, resolve }
    this._started = now();
    post({ pushpeer: 'site-who' });
  }

  /** True when some page said it has peers. */
  get hasPeers() {
    return this._pages.size > 0;
  }

  /** A message from a page. */
  receive(message) {
    if (typeof message?.pushpeer !== 'string') return;
    if (message.pushpeer === 'site-sources' && typeof message.page === 'string') {
      if (Number.isInteger(message.peers) && message.peers > 0) this._pages.set(message.page, message.peers);
      else this._pages.delete(message.page);
      return;
    }
    const r = this._requests.get(message.request);
    if (!r) return;
    if (message.pushpeer === 'site-taking' || message.pushpeer === 'site-progress') {
      r.claimed = true;
      this._arm(message.request, STALL_MS);
    } else if (message.pushpeer === 'site-done') {
      this._settle(message.request, message.ok === true ? { ok: true, from: message.from ?? {} }
        : { ok: false, code: String(message.code ?? 'NOT_FOUND') });
    }
  }

  /**
   * Asks the page with the most peers for listed file `index` of site share `id` ({ root, size, key }). Resolves to
   * { ok: true, from: { keyId: bytes } } once the page stored it, or { ok: false, code }: no page with peers
   * (NO_PEERS), none took it or it stalled (TIMEOUT), or the page's own failure (NOT_FOUND, ...). Never rejects.
   */
  async want(id, index, { root, size, key }) {
    const waited = WHO_MS - (this._now() - this._started);
    if (this._pages.size === 0 && waited > 0) await new Promise((resolve) => setTimeout(resolve, waited));
    let page = null;
    for (const [p, peers] of this._pages) if (page === null || peers > this._pages.get(page)) page = p;
    if (page === null) return { ok: false, code: 'NO_PEERS' };
    const request = crypto.randomUUID();
    const answer = new Promise((resolve) => this._requests.set(request, { page, claimed: false, timer: null, resolve,
      deadline: setTimeout(() => this._giveUp(request), this._graceMs + (size / this._minRate) * 1000) }));
    this._arm(request, CLAIM_MS);
    this._post({ pushpeer: 'site-want', page, request, id, file: index, root, size, key });
    return answer;
  }

  _arm(request, ms) {
    const r = this._requests.get(request);
    clearTimeout(r.timer);
    r.timer = setTimeout(() => this._giveUp(request), ms);
  }

  _giveUp(request) {
    const r = this._requests.get(request);
    if (!r) return;
    // A page that never took it is gone (closed without a word): not asked again until it says it has peers.
    if (!r.claimed) this._pages.delete(r.page);
    this._post({ pushpeer: 'site-cancel', request });
    this._settle(request, { ok: false, code: 'TIMEOUT' });
  }

  _settle(request, result) {
    const r = this._requests.get(request);
    if (!r) return;
    clearTimeout(r.timer);
    clearTimeout(r.deadline);
    this._requests.delete(request);
    r.resolve(result);
  }
}
