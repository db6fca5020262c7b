// The call pane: chat and files for one connection, from its start to its end. Everything here belongs to the call
// (a second call gets a fresh view: no transfer of an earlier call can receive a later call's updates). When the
// connection closes the pane stays, says why it ended, and marks every transfer still under way as failed.
import { Exchange, MAX_FILE_SIZE } from './files.js';
import { duration, endedBecause, formatBytes, rate, transferCut } from './words.js';

const $ = (id) => document.getElementById(id);

export class CallView {
  /** options: core, askAbove (bytes, or a function that says it when a file arrives), onEnd(info, sentence). */
  constructor(connection, { core, askAbove, onEnd = () => {} }) {
    this.connection = connection;
    this.name = connection.remote.name || 'They';
    this.items = new Map(); // `${direction}-${id}` -> <li>, for this call only
    this.exchange = new Exchange(connection, core, { peerName: connection.remote.name, askAbove });
    this.exchange.addEventListener('chat', (e) => this._message(e.mine ? 'me' : this.name, e.text, e.mine));
    this.exchange.addEventListener('transfer', (e) => this._transfer(e.transfer));
    connection.addEventListener('remotechange', (e) => {
      this.name = e.remote.name || this.name;
      $('peer-name').textContent = this.name;
    });
    connection.addEventListener('close', (e) => {
      const info = connection.closeInfo ?? { reason: e.reason, by: e.by, peerReason: e.peerReason };
      const because = endedBecause(info, this.name);
      this.exchange.end(transferCut(info, this.name));
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
    $('file-limit').textContent = `Up to ${MAX_FILE_SIZE / 2 ** 20} MiB per file.`;
  }

  get live() {
    return !this.connection.closed;
  }

  sendChat(text) {
    this.exchange.sendChat(text);
  }

  sendFiles(files) {
    if (!this.live) return;
    for (const file of files) void this.exchange.sendFile(file);
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

  _transfer(t) {
    const key = `${t.direction}-${t.id}`;
    let li = this.items.get(key);
    if (!li) {
      li = document.createElement('li');
      li.innerHTML = '<div class="name"></div><progress max="1" value="0"></progress><div class="status"></div>';
      this.items.set(key, li);
      $('transfers').append(li);
    }
    li.dataset.state = t.state;
    li.querySelector('.name').textContent = `${t.direction === 'out' ? '↑' : '↓'} ${t.name} (${formatBytes(t.size)})`;
    const progress = li.querySelector('progress');
    progress.value = t.size ? Math.min(1, t.done / t.size) : 1;
    progress.setAttribute('aria-label', `${t.name}: ${Math.round(progress.value * 100)}%`);
    progress.hidden = ['verified', 'sent', 'failed', 'declined', 'asking'].includes(t.state);
    const status = li.querySelector('.status');
    status.className = 'status';
    status.replaceChildren();
    const elapsed = (t.finishedAt ?? performance.now()) - t.startedAt;
    const speed = rate(t.done, elapsed);
    switch (t.state) {
      case 'hashing':
        status.textContent = `checking the file: ${formatBytes(t.done)} of ${formatBytes(t.size)}`;
        break;
      case 'waiting':
        status.textContent = `waiting for ${this.name} to accept it`;
        break;
      case 'asking': {
        status.textContent = `${this.name} wants to send you this file. `;
        const yes = button('Accept', 'primary', () => this.exchange.acceptFile(t.id));
        const no = button('Decline', '', () => this.exchange.declineFile(t.id));
        status.append(yes, ' ', no);
        break;
      }
      case 'receiving':
      case 'sending':
        status.textContent = `${t.state} ${formatBytes(t.done)} of ${formatBytes(t.size)}, ${speed}`;
        break;
      case 'sent':
        status.className = 'status ok';
        status.textContent = `sent in ${duration(elapsed)} (${speed})`;
        break;
      case 'declined':
        status.className = 'status bad';
        status.textContent = t.direction === 'out' ? `${this.name} declined it` : 'you declined it';
        break;
      case 'failed':
        status.className = 'status bad';
        status.textContent = `failed: ${t.error}`;
        break;
      case 'verified': {
        status.className = 'status ok';
        status.textContent = `received in ${duration(elapsed)} (${speed}); checked: every chunk matched. `;
        const a = document.createElement('a');
        a.href = URL.createObjectURL(t.blob);
        a.download = t.name;
        a.textContent = 'Download';
        status.append(a);
        if (t.saved === false) status.append(' (not kept in this browser: its storage is full)');
        break;
      }
      default:
        status.textContent = t.state;
    }
  }
}

function button(text, className, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  if (className) b.className = className;
  b.addEventListener('click', onClick);
  return b;
}
