// The Share section: files dropped here become a share with a link and a QR code (anyone who opens it downloads
// them from this browser, every piece verified); links opened here download, play while they arrive, and resume
// after a reload. What was shared and downloaded stays in this browser until removed (pushpeer's content store).
import { parseShareLink } from '../js/content/download.js';
import { button } from './button.js';
import { DownloadView } from './download-view.js';
import { qrSvg } from './qr.js';
import { formatBytes } from './words.js';

const $ = (id) => document.getElementById(id);

export class SharesView {
  /** peer: a PushPeer. report(error, what) as in demo.js. */
  constructor(peer, { report }) {
    this.peer = peer;
    this.report = report;
    this.live = new Map(); // share id -> DownloadView of a download this page runs
  }

  /** Shares files (a FileList or an array): hashed and stored here, then listed with their link. */
  async shareFiles(files, { title = '' } = {}) {
    const list = [...files];
    if (!list.length) return null;
    const note = $('share-status');
    note.textContent = `Preparing ${list.length === 1 ? list[0].name : `${list.length} files`}: every piece is hashed…`;
    try {
      const share = await this.peer.share(list, { title });
      note.textContent = '';
      await this.render();
      return share;
    } catch (error) {
      note.textContent = '';
      this.report(error, 'sharing the files');
      return null;
    }
  }

  /** The sharer's name, from the card in a share link ('' when it cannot be read). */
  sharerName(link) {
    try {
      return this.peer.core.decodeCard(parseShareLink(link, this.peer.core).card).name;
    } catch {
      return '';
    }
  }

  /**
   * Starts (or resumes) downloading a share link and shows it in the Downloads list. options go to peer.fetch
   * (reconnects); onEnd(download) when it ends. Returns the Download (null when the link is not one).
   */
  fetch(link, { onEnd = () => {}, ...options } = {}) {
    let download;
    try {
      download = this.peer.fetch(link, options);
    } catch (error) {
      this.report(error, 'opening the share link');
      return null;
    }
    if (this.live.get(download.id)?.download !== download) { // new, or a new try of one that failed
      this.live.set(download.id, new DownloadView(download, { from: this.sharerName(link), onEnd: () => void this.render() }));
    }
    download.done.catch(() => {}).finally(() => onEnd(download)); // also when it was running already
    void this.render();
    return download;
  }

  /** A share link in the address (`#share=…`): offer to download it. */
  offerFromHash() {
    const m = /[#&]share=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(location.hash);
    if (!m) return false;
    const link = location.href;
    const name = this.sharerName(link);
    $('offer-share-text').textContent = `This link is a share from ${name || 'someone'}. Download it? Every piece is ` +
      'checked against their signed list of files before it is kept.';
    $('offer-share').hidden = false;
    $('offer-share-yes').onclick = () => {
      $('offer-share').hidden = true;
      history.replaceState(null, '', location.href.split('#')[0]);
      this.fetch(link);
      $('downloads').scrollIntoView?.({ block: 'nearest' });
    };
    $('offer-share-no').onclick = () => {
      $('offer-share').hidden = true;
    };
    $('offer-share-yes').focus();
    return true;
  }

  /** Lists our shares and our downloads (those under way here first, then what is stored). */
  async render() {
    let all = [];
    try {
      all = await this.peer.shares();
    } catch {
      return;
    }
    all.sort((a, b) => b.created - a.created); // newest first
    this._renderMine(all.filter((s) => !s.from));
    this._renderDownloads(all.filter((s) => s.from));
  }

  _renderMine(mine) {
    const list = $('my-shares');
    list.replaceChildren();
    for (const share of mine) {
      const li = document.createElement('li');
      li.className = 'share';
      const size = share.files.reduce((n, f) => n + f.size, 0);
      const title = share.title || share.files.map((f) => f.name).join(', ');
      li.innerHTML = '<div class="name"></div><div class="qr-small"></div><label class="visually-hidden">Share link</label>' +
        '<textarea readonly rows="2" class="share-link"></textarea><div class="buttons"></div>';
      li.querySelector('.name').textContent = `↑ ${title} (${share.files.length === 1 ? '' : `${share.files.length} files, `}` +
        `${formatBytes(size)})`;
      li.querySelector('.qr-small').innerHTML = qrSvg(share.link);
      li.querySelector('.share-link').value = share.link;
      const copy = button('Copy link', '', async () => {
        try {
          await navigator.clipboard.writeText(share.link);
          copy.textContent = 'Copied';
        } catch {
          li.querySelector('.share-link').select();
        }
      });
      const stop = button('Stop sharing', 'danger', async () => {
        await share.remove().catch((error) => this.report(error, 'removing the share'));
        await this.render();
      });
      li.querySelector('.buttons').append(copy, ' ', stop);
      list.append(li);
    }
    if (!list.children.length) list.innerHTML = '<li class="empty">Nothing shared yet.</li>';
  }

  _renderDownloads(downloads) {
    const list = $('downloads');
    list.replaceChildren();
    // Those this page runs, as live views.
    for (const view of this.live.values()) if (!view.inCall) list.append(view.el);
    for (const share of downloads) {
      const view = this.live.get(share.id);
      if (view && !view.inCall) continue;
      const running = view && ['connecting', 'downloading', 'paused'].includes(view.download.state);
      const li = document.createElement('li');
      li.className = 'download';
      li.dataset.state = share.complete ? 'done' : 'interrupted';
      const name = document.createElement('div');
      name.className = 'name';
      name.textContent = `↓ ${share.title || share.files.map((f) => f.name).join(', ')}` +
        (share.link && !share.complete ? ` from ${this.sharerName(share.link) || 'someone'}` : '');
      li.append(name);
      const status = document.createElement('div');
      status.className = share.complete ? 'status ok' : 'status';
      if (share.complete) {
        status.textContent = `${formatBytes(share.files.reduce((n, f) => n + f.size, 0))}, every piece verified; ` +
          'shared on from here. Save: ';
        share.files.forEach((f, i) => {
          const url = share.url(i);
          if (!url) return;
          const a = document.createElement('a');
          a.href = url;
          a.download = f.name;
          a.textContent = f.name;
          status.append(a, ' ');
        });
      } else if (running) {
        status.textContent = 'Downloading in the call: see the call.';
      } else {
        status.textContent = 'Not finished: the verified pieces are kept. ';
        status.append(button('Resume', 'primary', () => this.fetch(share.link)));
      }
      status.append(' ', button('Delete', '', async () => {
        await share.remove();
        await this.render();
      }));
      li.append(status);
      list.append(li);
    }
    if (!list.children.length) list.innerHTML = '<li class="empty">None yet.</li>';
  }
}
