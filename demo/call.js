// The call pane: chat and files for one connection, from its start to its end. A file dropped here is shared by
// link (pushpeer's share by link: hashed into a signed manifest, stored, served piece by piece) and the link is
// offered over the app channel; the other side fetches it over this same connection (no push), every piece
// verified. Frames on the app channel (docs/PROTOCOL.md §8): text {"t":"chat","text"}, {"t":"file","id","link",
// "name","size"} (an offer), and the receiver's {"t":"file-ok"|"file-no"|"file-got"|"file-failed","id"}.
// Everything here belongs to the call (a second call gets a fresh view). When the connection closes the pane stays,
// says why it ended, and marks every transfer still under way as cut; a download cut so keeps its verified pieces
// and can be resumed from the Downloads list.
import { parseShareLink } from '../js/content/download.js';
import { button } from './button.js';
import { downloadSentence } from './download-view.js';
import { duration, endedBecause, formatBytes, transferCut } from './words.js';

const $ = (id) => document.getElementById(id);
const OPEN = ['preparing', 'offered', 'accepted', 'asking', 'receiving'];
// Offers taken without asking: while fewer than MAX_AUTO downloads run, at most MAX_AUTO_OFFERS per call and, in
// all, no more bytes than the person's threshold; more wait for the person. A call shows at most MAX_TRANSFERS
// transfers and MAX_ASKING questions; offers beyond them are declined unseen (a flood of offers).
const MAX_AUTO = 4;
const MAX_AUTO_OFFERS = 8;
const MAX_TRANSFERS = 100;
const MAX_ASKING = 10;

export class CallView {
  /**
   * options: peer, shares (the SharesView: downloads show there too), askAbove (bytes, or a function that says it
   * when a file is offered), onEnd(info, sentence).
   */
  constructor(connection, { peer, shares, askAbove, onEnd = () => {} }) {
    this.connection = connection;
    this.peer = peer;
    this.shares = shares;
    this.askAbove = askAbove;
    this.name = connection.remote.name || 'They';
    this.items = new Map(); // `${direction}-${id}` -> <li>, for this call only
    this.transfers = new Map(); // `${direction}-${id}` -> transfer
    this.nextId = 1;
    this.auto = { offers: 0, bytes: 0 }; // taken without asking in this call
    this.offeredShares = new Set(); // share ids offered in this call: each is taken once
    connection.addEventListener('message', (e) => this._onMessage(e.data));
    connection.addEventListener('remotechange', (e) => {
      this.name = e.remote.name || this.name;
      $('peer-name').textContent = this.name;
    });
    connection.addEventListener('close', (e) => {
      const info = connection.closeInfo ?? { reason: e.reason, by: e.by, peerReason: e.peerReason };
      const because = endedBecause(info, this.name);
      const cut = transferCut(info, this.name);
      for (const t of this.transfers.values()) {
        if (OPEN.includes(t.state)) this._set(t, { state: 'failed', error: cut });
      }
      this._ended(because);
      onEnd(info, because);
    });
    $('connected-title').firstChild.textContent = 'Connected to ';
    $('peer-name').textContent = this.name;
    $('call-status').textContent = '';
    $('messages').replaceChildren();
    $('transfers').replaceChildren();
    $('chat-input').disabled = false;
    $('chat-form').querySelector('button').disabled = false;
    $('drop').setAttribute('aria-disabled', 'false');
    $('hang-up').textContent = 'Hang up';
  }

  sendChat(text) {
    this.connection.send(JSON.stringify({ t: 'chat', text }));
    this._message('me', text, true);
  }

  sendFiles(files) {
    if (!this.live) return;
    for (const file of files) void this.sendFile(file);
  }

  /** Shares the file (hashed and stored here) and offers its link to the other side. */
  async sendFile(file) {
    const t = { id: this.nextId++, direction: 'out', name: file.name, size: file.size, state: 'preparing',
      startedAt: performance.now() };
    this._set(t, {});
    try {
      const share = await this.peer.share(file);
      void this.shares.render();
      if (!this.live) throw new Error(transferCut(this.connection.closeInfo, this.name));
      this.connection.send(JSON.stringify({ t: 'file', id: t.id, link: share.link, name: file.name, size: file.size }));
      this._set(t, { state: 'offered', startedAt: performance.now() });
    } catch (error) {
      this._set(t, { state: 'failed', error: error?.code ? downloadSentence(error) : String(error?.message ?? error) });
    }
    return t;
  }

  _reply(t, id) {
    try {
      this.connection.send(JSON.stringify({ t, id }));
    } catch {
      // the connection went: its close event reports it
    }
  }

  _onMessage(data) {
    if (typeof data !== 'string') return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object') return;
    if (frame.t === 'chat' && typeof frame.text === 'string') this._message(this.name, frame.text, false);
    else if (frame.t === 'file') void this._offered(frame).catch((error) => console.warn('demo: an offer:', error));
    else if (typeof frame.t === 'string' && frame.t.startsWith('file-')) this._answered(frame);
  }

  /** Our offer's answer: taken, declined, received (verified), or failed there. */
  _answered(frame) {
    const t = this.transfers.get(`out-${frame.id}`);
    if (!t || !OPEN.includes(t.state)) return;
    if (frame.t === 'file-ok') this._set(t, { state: 'accepted' });
    else if (frame.t === 'file-no') this._set(t, { state: 'declined' });
    else if (frame.t === 'file-got') this._set(t, { state: 'sent', finishedAt: performance.now() });
    else if (frame.t === 'file-failed') this._set(t, { state: 'failed', error: `${this.name}'s download failed` });
  }

  /**
   * An offered file. Its link must name a share of the person we are talking to (their card): a link to someone
   * else's card would make us call a stranger. The name and size are theirs to claim until the manifest comes.
   */
  async _offered(frame) {
    if (!Number.isInteger(frame.id) || this.transfers.has(`in-${frame.id}`)) return;
    const incoming = [...this.transfers.values()].filter((x) => x.direction === 'in');
    if (incoming.length >= MAX_TRANSFERS) {
      this._reply('file-no', frame.id);
      return;
    }
    const t = { id: frame.id, direction: 'in', name: String(frame.name ?? '?').slice(0, 200),
      size: Number.isSafeInteger(frame.size) && frame.size >= 0 ? frame.size : 0, link: frame.link, state: 'asking',
      startedAt: performance.now() };
    let id;
    try {
      const link = parseShareLink(String(frame.link), this.peer.core);
      const keyId = this.peer.core.base64urlEncode(this.peer.core.decodeCard(link.card).keyId);
      if (keyId !== this.connection.remote.keyId) throw new Error('its link names someone else');
      id = this.peer.core.base64urlEncode(link.id);
      if (this.offeredShares.has(id)) throw new Error('it was offered already');
      this.offeredShares.add(id);
    } catch (error) {
      this._set(t, { state: 'failed', error: `refused: ${error?.code ? 'the link is not a share link' : error.message}` });
      this._reply('file-no', frame.id);
      return;
    }
    // A share we hold or fetch already is not offered again: the offer must not take over (pause, cancel) a
    // download of ours.
    const held = this.shares.live.has(id) || (await this.peer.shares().catch(() => [])).some((s) => s.id === id);
    if (!this.live || this.transfers.has(`in-${frame.id}`)) return; // the call ended, or that id came twice
    if (held) {
      this._set(t, { state: 'failed', error: 'you have it already (see Downloads)' });
      this._reply('file-no', frame.id);
      return;
    }
    const askAbove = typeof this.askAbove === 'function' ? this.askAbove() : this.askAbove;
    const now = [...this.transfers.values()].filter((x) => x.direction === 'in'); // (after the wait above)
    const running = now.filter((x) => x.state === 'receiving').length;
    const asking = now.filter((x) => x.state === 'asking').length;
    const auto = t.size <= askAbove - this.auto.bytes && this.auto.offers < MAX_AUTO_OFFERS && running < MAX_AUTO;
    if (auto) {
      this.auto.offers++;
      this.auto.bytes += t.size;
      this._take(t);
    } else if (asking < MAX_ASKING) {
      this._set(t, {});
    } else {
      this._reply('file-no', frame.id);
    }
  }

  acceptFile(id) {
    const t = this.transfers.get(`in-${id}`);
    if (t?.state === 'asking') this._take(t);
  }

  declineFile(id) {
    const t = this.transfers.get(`in-${id}`);
    if (t?.state !== 'asking') return;
    this._reply('file-no', id);
    this._set(t, { state: 'declined' });
  }

  /**
   * Downloads it over this connection. No reconnects: when the call ends the download stops (its verified pieces
   * stay, and Resume in the Downloads list calls them again).
   */
  _take(t) {
    const download = this.shares.fetch(t.link, { reconnects: 0, via: this.connection, onEnd: (d) => {
      if (t.state === 'failed') return; // refused below
      if (d.state === 'done') {
        this._reply('file-got', t.id);
        this._set(t, { state: 'verified', finishedAt: performance.now() });
      } else if (OPEN.includes(t.state)) {
        this._reply('file-failed', t.id);
        this._set(t, { state: 'failed', error: downloadSentence(d.error) });
      }
    } });
    if (!download) {
      this._reply('file-no', t.id);
      this._set(t, { state: 'failed', error: 'the link could not be opened' });
      return;
    }
    // Nothing is asked for until the signed manifest says how large it is: larger than offered (what the person
    // or the threshold agreed to) is refused.
    download.pause();
    const checkSize = () => {
      const size = download.manifest.files.reduce((n, f) => n + f.size, 0);
      if (t.state !== 'receiving') {
        void download.cancel(); // the call ended meanwhile
        return;
      }
      t.name = download.manifest.title || download.manifest.files.map((f) => f.name).join(', ');
      if (size <= t.size) {
        t.size = size;
        this._set(t, {});
        download.resume();
        return;
      }
      this._set(t, { state: 'failed', error: `it is larger than offered (${formatBytes(size)}, not ${formatBytes(t.size)})` });
      this._reply('file-failed', t.id);
      void download.cancel();
    };
    if (download.manifest) queueMicrotask(checkSize);
    else download.addEventListener('manifest', checkSize, { once: true });
    this._reply('file-ok', t.id);
    this._set(t, { state: 'receiving', download, startedAt: performance.now() });
  }

  get live() {
    return !this.connection.closed;
  }

  _ended(because) {
    $('connected-title').firstChild.textContent = 'Call ended with ';
    $('call-status').textContent = because;
    $('chat-input').disabled = true;
    $('chat-form').querySelector('button').disabled = true;
    $('drop').setAttribute('aria-disabled', 'true');
    $('hang-up').textContent = 'Back to my card';
  }

  _message(who, text, mine) {
    const li = document.createElement('li');
    if (mine) li.className = 'me';
    const w = document.createElement('span');
    w.className = 'who';
    w.textContent = who;
    li.append(w, text);
    $('messages').append(li);
    li.scrollIntoView?.({ block: 'nearest' });
  }

  /** Changes a transfer and shows it. */
  _set(t, changes) {
    Object.assign(t, changes);
    const key = `${t.direction}-${t.id}`;
    this.transfers.set(key, t);
    let li = this.items.get(key);
    if (!li) {
      li = document.createElement('li');
      li.innerHTML = '<div class="name"></div><div class="status"></div><div class="progress"></div>';
      this.items.set(key, li);
      $('transfers').append(li);
    }
    li.dataset.state = t.state;
    li.querySelector('.name').textContent = `${t.direction === 'out' ? '↑' : '↓'} ${t.name} (${formatBytes(t.size)})`;
    // A download shows its own view (bars, rate, piece map, player, Save) while it runs and once it is done.
    const progress = li.querySelector('.progress');
    if (t.download && !progress.firstChild) {
      const view = this.shares.live.get(t.download.id);
      if (view) {
        view.inCall = true; // the Downloads list leaves it to this pane
        view.el.querySelector('.name').hidden = true;
        progress.append(view.el);
        t.view = view;
      }
    }
    // While it arrives the view says how far it got; before and after, this item says what happened.
    if (t.view) t.view.el.querySelector('.status').hidden = t.state !== 'receiving';
    const status = li.querySelector('.status');
    status.className = 'status';
    status.replaceChildren();
    const elapsed = (t.finishedAt ?? performance.now()) - t.startedAt;
    switch (t.state) {
      case 'preparing':
        status.textContent = 'preparing: every piece is hashed into a signed list of files…';
        break;
      case 'offered':
        status.textContent = `offered: waiting for ${this.name} to accept it`;
        break;
      case 'accepted':
        status.textContent = `${this.name} is downloading it, checking every piece`;
        break;
      case 'asking': {
        status.textContent = `${this.name} wants to send you this file. `;
        status.append(button('Accept', 'primary', () => this.acceptFile(t.id)), ' ',
          button('Decline', '', () => this.declineFile(t.id)));
        break;
      }
      case 'receiving':
        status.textContent = 'receiving: every piece is checked against the signed list of files before it is kept.';
        break;
      case 'sent':
        status.className = 'status ok';
        status.textContent = `${this.name} says it arrived with every piece verified, in ${duration(elapsed)}`;
        break;
      case 'verified':
        status.className = 'status ok';
        status.textContent = `received in ${duration(elapsed)}; verified: every piece matched.`;
        break;
      case 'declined':
        status.className = 'status bad';
        status.textContent = t.direction === 'out' ? `${this.name} declined it` : 'you declined it';
        break;
      case 'failed':
        status.className = 'status bad';
        status.textContent = `failed: ${t.error}`;
        break;
      default:
        status.textContent = t.state;
    }
  }
}
