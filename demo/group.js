// Groups in the demo: start one, share its invite link, and watch who is connected to whom. Each member's link to
// us is drawn with how it was made: by push (the newcomer's call to the member whose card is in the invite: two
// pushes) or by introduction (carried by a member: no push), and the pushes this page spent on the group are
// counted, so that the cost of a newcomer (2, however large the group) is there to see.
import { formatTime } from './words.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

export class GroupsView {
  /** peer: the PushPeer; banner(text, kind); report(error, what). */
  constructor(peer, { banner, report }) {
    this.peer = peer;
    this.banner = banner;
    this.report = report;
    this.kinds = new Map(); // sessionId -> 'push' | 'introduction'
    this.pushes = new Map(); // group name -> pushes this page sent for it
    this.views = new Map(); // group name -> { root, update }
    peer.addEventListener('progress', (e) => {
      if (e.step === 'offer-sent' || e.step === 'answer-sent') {
        const kind = e.step === 'offer-sent' && e.via === 'neighbour' ? 'introduction' : this.kinds.get(e.sessionId) ?? 'push';
        this.kinds.set(e.sessionId, kind);
      }
    });
    peer.addEventListener('received', (e) => {
      if (e.messageType === 'offer') this.kinds.set(e.sessionId, e.via ? 'introduction' : 'push');
      if (this.joining && !e.via) this.pushes.set(this.joining, (this.pushes.get(this.joining) ?? 0) + 1);
    });
    peer.addEventListener('push', ({ detail }) => {
      if (detail.type === 'attempt' && this.joining) this.pushes.set(this.joining, (this.pushes.get(this.joining) ?? 0) + 1);
    });
  }

  /** Starts a group (a random secret) and shows it. */
  start(name) {
    this.show(this.peer.group(name));
  }

  /** Joins the group of an invite link. */
  async join(link) {
    const name = new URLSearchParams(link.split('#')[1] ?? '').get('gname') || 'group';
    this.joining = name;
    this.pushes.set(name, 0);
    this.banner(`Joining "${name}"… (one push there, one push back; the others through them, no push)`, 'info');
    try {
      const group = await this.peer.joinGroup(link);
      this.banner(null);
      this.show(group);
    } catch (error) {
      this.report(error, 'joining the group');
    } finally {
      setTimeout(() => { this.joining = null; }, 5000); // the introductions that follow cost no push
    }
  }

  show(group) {
    if (this.views.has(group.name)) return;
    const root = document.createElement('section');
    root.className = 'group';
    root.dataset.group = group.name;
    root.innerHTML = `<h3></h3><p class="hint pushes"></p>
      <label>Invite link (whoever opens it joins: share it with people you trust)</label>
      <textarea class="invite" readonly rows="3"></textarea>
      <button type="button" class="copy-invite">Copy invite</button>
      <svg class="graph" viewBox="-110 -110 220 220" role="img"></svg>
      <ul class="members"></ul>
      <ol class="group-log" aria-live="polite"></ol>
      <form class="group-say"><input type="text" maxlength="2000" placeholder="Say something to the group" required
        aria-label="Message to the group"><button type="submit">Send</button></form>`;
    root.querySelector('h3').textContent = `Group "${group.name}"`;
    root.querySelector('.invite').value = group.invite();
    root.querySelector('.copy-invite').addEventListener('click', () => {
      navigator.clipboard?.writeText(group.invite()).catch(() => root.querySelector('.invite').select());
    });
    const log = (text) => {
      const li = document.createElement('li');
      li.textContent = `${formatTime(Date.now())} ${text}`;
      root.querySelector('.group-log').append(li);
    };
    root.querySelector('.group-say').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = e.target.querySelector('input');
      try {
        group.send(input.value);
        log(`me: ${input.value}`);
        input.value = '';
      } catch (error) {
        this.report(error, 'sending to the group');
      }
    });
    const update = () => this._render(root, group);
    group.addEventListener('peerjoin', (e) => { log(`${e.name || 'someone'} is connected`); update(); });
    group.addEventListener('peerleave', (e) => { log(`${e.name || 'someone'} left`); update(); });
    group.addEventListener('message', (e) => log(`${e.name || 'someone'}: ${e.data}`));
    this.views.set(group.name, { root, update });
    $('groups').append(root);
    $('groups-box').hidden = false;
    update();
  }

  /** How our link to a member was made: the kind of the call of its live connection. */
  _kind(keyId) {
    const c = [...this.peer.connections].find((x) => x.remote.keyId === keyId && !x.closed);
    return c ? this.kinds.get(c.sessionId) ?? 'push' : null;
  }

  _render(root, group) {
    const members = group.peers();
    const pushes = this.pushes.get(group.name);
    root.querySelector('.pushes').textContent = `${members.filter((m) => m.connected).length} of ${members.length} ` +
      `members connected to you${pushes === undefined ? '' : `; joining cost ${pushes} push${pushes === 1 ? '' : 'es'} ` +
      '(yours to the member in the invite, theirs back), the rest came through members'}.`;
    const list = root.querySelector('.members');
    list.replaceChildren();
    for (const m of members) {
      const li = document.createElement('li');
      const kind = m.connected ? this._kind(m.keyId) : null;
      li.dataset.kind = kind ?? 'none';
      li.textContent = `${m.name || 'someone'}: ${kind === 'introduction' ? 'introduced by a member (no push)'
        : kind === 'push' ? 'called by push' : 'not connected'}`;
      list.append(li);
    }
    // Everyone on a circle, us at the top; our links drawn by how they were made.
    const svg = root.querySelector('.graph');
    svg.replaceChildren();
    const nodes = [{ name: 'me', keyId: null }, ...members];
    const at = (i) => [Math.round(80 * Math.sin((2 * Math.PI * i) / nodes.length)),
      Math.round(-80 * Math.cos((2 * Math.PI * i) / nodes.length))];
    nodes.forEach((n, i) => {
      if (!i || !n.connected) return;
      const [x, y] = at(i);
      const line = document.createElementNS(SVG, 'line');
      Object.entries({ x1: at(0)[0], y1: at(0)[1], x2: x, y2: y }).forEach(([k, v]) => line.setAttribute(k, v));
      line.setAttribute('class', `edge ${this._kind(n.keyId)}`);
      svg.append(line);
    });
    nodes.forEach((n, i) => {
      const [x, y] = at(i);
      const g = document.createElementNS(SVG, 'g');
      g.setAttribute('transform', `translate(${x} ${y})`);
      const circle = document.createElementNS(SVG, 'circle');
      circle.setAttribute('r', '9');
      circle.setAttribute('class', i === 0 ? 'me' : n.connected ? 'on' : 'off');
      const label = document.createElementNS(SVG, 'text');
      label.setAttribute('y', '22');
      label.setAttribute('text-anchor', 'middle');
      label.textContent = n.name || 'someone';
      g.append(circle, label);
      svg.append(g);
    });
    svg.setAttribute('aria-label', `Group ${group.name}: ${members.filter((m) => m.connected).length} members connected to you`);
  }
}
