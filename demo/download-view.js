// One download on screen (a share link opened, or a file offered in a call): the manifest's files, a progress bar
// per file with the rate, a map of its verified pieces, a player for audio and video while they arrive, and a Save
// link once a file is complete. Pause, Resume and Cancel. The same view serves the Share section and the call pane.
import { button } from './button.js';
import { duration, formatBytes, sentence } from './words.js';

const MAP_WIDTH = 320; // px: the piece map is one row, a piece at least one pixel wide
const MAP_HEIGHT = 10;
const UPDATE_MS = 200; // the rate and bars are redrawn at most this often

const isPlayable = (type) => /^(audio|video)\//.test(type ?? '');
// A colour per peer a download gets pieces from (the map shows who sent which piece); more peers reuse them.
const PEER_COLOURS = ['#2a7', '#37c', '#d80', '#a4c', '#c44', '#099', '#886', '#e6a'];

export class DownloadView {
  /**
   * download: a pushpeer Download. options: from (the sharer's name), onEnd(download) once it is done, failed or
   * cancelled.
   */
  constructor(download, { from = '', onEnd = () => {} } = {}) {
    this.download = download;
    this.from = from;
    this.files = []; // per file: { row, bar, status, map, save, player }
    this.started = performance.now();
    this.el = document.createElement('li');
    this.el.className = 'download';
    this._colours = new Map(); // sender key id -> colour
    this.el.innerHTML = '<div class="name"></div><div class="status"></div><ul class="sources"></ul><ol class="file-list"></ol>' +
      '<div class="buttons"><button type="button" class="pause">Pause</button> ' +
      '<button type="button" class="cancel">Cancel</button></div>';
    this.el.querySelector('.name').textContent = `↓ a share${from ? ` from ${from}` : ''}`;
    this.el.querySelector('.pause').addEventListener('click', () => this._togglePause());
    this.el.querySelector('.cancel').addEventListener('click', () => void download.cancel().then(() => this._render()));
    download.addEventListener('manifest', (e) => this._manifest(e.manifest));
    download.addEventListener('verified', (e) => this._mark(e.file, e.piece, true, e.from));
    download.addEventListener('progress', (e) => {
      this._sources = e.sources;
      this._renderSoon();
    });
    download.done.then(() => this._render(), () => this._render()).finally(() => onEnd(download));
    if (download.manifest) this._manifest(download.manifest);
    this._render();
  }

  _togglePause() {
    if (this.download.state === 'paused') this.download.resume();
    else this.download.pause();
    this._render();
  }

  _manifest(manifest) {
    if (this.files.length) return;
    const name = this.el.querySelector('.name');
    name.textContent = `↓ ${manifest.title || manifest.files.map((f) => f.name).join(', ')}${this.from ? ` from ${this.from}` : ''}`;
    const list = this.el.querySelector('.file-list');
    this._mapColour = getComputedStyle(this.el).getPropertyValue('--ok') || '#2a7'; // once, not per piece
    manifest.files.forEach((f, i) => {
      const row = document.createElement('li');
      row.innerHTML = '<div class="file-name"></div><progress max="1" value="0"></progress>' +
        '<canvas class="piece-map" aria-hidden="true"></canvas><div class="file-status"></div>' +
        '<div class="root hint">checked against root <code></code> (BLAKE2b merkle tree, in the signed manifest)</div>';
      row.querySelector('.file-name').textContent = `${f.name} (${formatBytes(f.size)})`;
      const root = row.querySelector('.root code');
      root.textContent = `${f.root.slice(0, 12)}…`;
      root.title = f.root;
      const map = row.querySelector('canvas');
      map.width = MAP_WIDTH;
      map.height = MAP_HEIGHT;
      const file = { row, bar: row.querySelector('progress'), status: row.querySelector('.file-status'), map,
        size: f.size, name: f.name, type: f.type, count: Math.max(1, Math.ceil(f.size / this.download.pieceSize)),
        have: 0, bytes: 0, saved: false };
      file.bar.setAttribute('aria-label', `${f.name}: verified`);
      this.files.push(file);
      list.append(row);
      // A player plays what is verified so far (the worker serves it with range requests and waits for the rest).
      // Made on a click: a share of many media files must not start as many players reading from storage.
      const url = this.download.url(i);
      if (isPlayable(f.type) && url) {
        const play = button('Play', 'play', () => {
          const player = document.createElement(f.type.startsWith('audio/') ? 'audio' : 'video');
          player.controls = true;
          player.src = url;
          play.replaceWith(player);
          file.player = player;
          void player.play().catch(() => {});
        });
        row.append(play);
      }
      for (const piece of this.download.pieces(i)) this._mark(i, piece, false);
    });
    this._render();
  }

  /** The colour of the peer with key id `keyId` on the maps (pieces stored before this page: the plain one). */
  _colourOf(keyId) {
    if (!keyId) return this._mapColour;
    if (!this._colours.has(keyId)) this._colours.set(keyId, PEER_COLOURS[this._colours.size % PEER_COLOURS.length]);
    return this._colours.get(keyId);
  }

  /** Paints one verified piece on its file's map, in the colour of the peer that sent it. */
  _mark(fileIndex, piece, render = true, from = null) {
    const file = this.files[fileIndex];
    if (!file) return;
    file.have++;
    file.bytes += Math.max(0, Math.min(this.download.pieceSize, file.size - piece * this.download.pieceSize));
    const g = file.map.getContext('2d');
    g.fillStyle = this._colourOf(from);
    const x = Math.floor((piece * MAP_WIDTH) / file.count);
    g.fillRect(x, 0, Math.max(1, Math.ceil(MAP_WIDTH / file.count)), MAP_HEIGHT);
    if (render) this._renderSoon();
  }

  _renderSoon() {
    if (this._timer) return;
    this._timer = setTimeout(() => {
      this._timer = null;
      this._render();
    }, UPDATE_MS);
  }

  _render() {
    const d = this.download;
    const p = d.progress();
    this.el.dataset.state = d.state;
    const status = this.el.querySelector('.status');
    status.className = 'status';
    const elapsed = performance.now() - this.started;
    switch (d.state) {
      case 'connecting':
        status.textContent = d.manifest ? 'connecting to the sharer…' : 'connecting to the sharer for the list of files…';
        break;
      case 'downloading':
      case 'paused':
        status.textContent = `${d.state === 'paused' ? 'paused at' : 'verified'} ${formatBytes(this._verifiedBytes())} of ` +
          `${formatBytes(p.totalBytes)}${d.state === 'paused' ? '' : `, ${formatBytes(p.rate)}/s`}`;
        break;
      case 'done':
        status.className = 'status ok';
        status.textContent = `received and verified in ${duration(elapsed)}: every piece checked against the signed ` +
          'manifest before it was stored.';
        break;
      case 'cancelled':
        status.className = 'status bad';
        status.textContent = 'cancelled; what had arrived was deleted.';
        break;
      default:
        status.className = 'status bad';
        status.textContent = `failed: ${downloadSentence(d.error)}`;
    }
    this._renderSources();
    this.el.querySelector('.pause').textContent = d.state === 'paused' ? 'Resume' : 'Pause';
    this.el.querySelector('.buttons').hidden = !['connecting', 'downloading', 'paused'].includes(d.state);
    this.files.forEach((f, i) => {
      const complete = f.have >= f.count;
      f.bar.value = f.count ? Math.min(1, f.have / f.count) : 1;
      f.bar.hidden = complete;
      f.row.dataset.state = complete ? 'verified' : 'partial';
      if (complete && !f.saved && d.state !== 'cancelled') {
        f.saved = true;
        const a = document.createElement('a');
        a.textContent = 'Save';
        a.download = f.name;
        void d.blob(i).then((blob) => {
          a.href = URL.createObjectURL(blob);
          f.status.replaceChildren('verified. ', a);
        }, () => {});
      } else if (!complete) {
        f.status.textContent = `${f.have} of ${f.count} pieces verified`;
      }
    });
  }

  /**
   * The peers pieces came from (the link's sharer and the others of the swarm): a swatch of the colour their pieces
   * have on the map, the name, the rate and the pieces sent. Banned ones say so.
   */
  _renderSources() {
    const list = this.el.querySelector('.sources');
    const sources = (this._sources ?? this.download.peers()).filter((p) => p.pieces > 0 || p.connected);
    list.hidden = sources.length === 0;
    list.replaceChildren(...sources.map((p) => {
      const li = document.createElement('li');
      li.className = 'source';
      li.dataset.keyId = p.keyId ?? '';
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = this._colourOf(p.keyId);
      const label = p.name || 'a peer';
      const what = p.banned ? 'sent a piece that did not verify: cut off'
        : `${p.pieces} ${p.pieces === 1 ? 'piece' : 'pieces'}${p.rate > 0 ? `, ${formatBytes(p.rate)}/s` : ''}`;
      li.append(swatch, `${label}${p.link ? ' (the link)' : ''}: ${what}`);
      return li;
    }));
  }

  /** Verified bytes, also those stored before this page (a resume): the Download's progress counts what it received. */
  _verifiedBytes() {
    return this.files.reduce((n, f) => n + f.bytes, 0);
  }
}

/** What went wrong with a download, for a person. */
export function downloadSentence(error) {
  switch (error?.code) {
    case 'CHUNK_MISMATCH':
    case 'BAD_PROOF':
    case 'BAD_FRAME':
      return 'a piece did not match the signed list of files, so nothing of it was kept, and the sender was cut off.';
    case 'BAD_MANIFEST':
      return 'the list of files was not signed by the person in the link.';
    case 'NOT_FOUND':
      return 'they no longer share this.';
    case 'QUOTA_EXCEEDED':
      return 'this browser has no room left for it.';
    case 'CANCELLED':
      return 'cancelled.';
    default:
      return sentence(error);
  }
}
