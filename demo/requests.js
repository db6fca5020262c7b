// Incoming calls: who, how long ago, Accept / Decline. A request whose caller stopped waiting goes away with a
// line that says so ("Alice gave up waiting"), and the "Nobody is calling." placeholder comes back when the list is
// empty again. The library knows each request's lifetime (request.expiresAt) and tells us ('requestexpired').
import { ago, formatTime, sentence } from './words.js';

const AGE_REFRESH_MS = 10_000;

export class Requests {
  /** list: the <ul>; banner(text, kind): the page's status line; onAccepted(connection). */
  constructor(list, { banner, onAccepted }) {
    this.list = list;
    this.banner = banner;
    this.onAccepted = onAccepted;
    this.items = new Map(); // request -> <li>
    this._placeholder();
    setInterval(() => this._ages(), AGE_REFRESH_MS);
  }

  watch(peer) {
    peer.addEventListener('request', (e) => {
      e.preventDefault(); // we decide with the person
      this.add(e);
    });
    peer.addEventListener('requestexpired', (e) => this.expired(e.request));
  }

  add(request) {
    if (this.items.has(request)) return;
    this.list.querySelector('.empty')?.remove();
    const li = document.createElement('li');
    const who = document.createElement('span');
    who.textContent = `${request.from.name || 'Someone'} wants to connect `;
    const when = document.createElement('span');
    when.className = 'age';
    li.append(who, when);
    li._arrived = Date.now() - (request.age ?? 0) * 1000;
    const accept = document.createElement('button');
    accept.type = 'button';
    accept.className = 'primary';
    accept.textContent = 'Accept';
    const decline = document.createElement('button');
    decline.type = 'button';
    decline.textContent = 'Decline';
    accept.addEventListener('click', async () => {
      this._remove(request);
      this.banner(`Answering ${request.from.name || 'them'}… (one push back)`, 'info');
      try {
        const connection = await request.accept();
        this.banner(null);
        this.onAccepted?.(connection);
      } catch (error) {
        // The caller may have cancelled before its request expired: our answer then finds nobody.
        this.banner(error?.code === 'NOT_CONNECTED'
          ? `No connection to ${request.from.name || 'them'}: they may have stopped waiting.` : sentence(error));
      }
    });
    decline.addEventListener('click', () => {
      this._remove(request);
      request.decline().catch((error) => this.banner(sentence(error)));
    });
    li.append(accept, decline);
    this.items.set(request, li);
    this.list.append(li);
    this._ages();
    accept.focus();
  }

  /** The caller stopped waiting: the request goes, and a line says so. */
  expired(request) {
    const known = [...this.items.keys()].find((r) => r === request || (r.id !== undefined && r.id === request.id));
    if (!known) return;
    const arrived = this.items.get(known)._arrived;
    this._remove(known);
    const li = document.createElement('li');
    li.className = 'missed';
    li.textContent = `Missed: ${request.from.name || 'someone'} called at ${formatTime(arrived)} and gave up waiting.`;
    this.list.prepend(li);
  }

  _remove(request) {
    this.items.get(request)?.remove();
    this.items.delete(request);
    this._placeholder();
  }

  _placeholder() {
    if (this.list.querySelector('li:not(.missed)')) return;
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'Nobody is calling.';
    this.list.append(li);
  }

  _ages() {
    for (const li of this.items.values()) li.querySelector('.age').textContent = `(${ago(li._arrived)})`;
  }
}
