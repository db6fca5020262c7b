// Groups (docs/PROTOCOL.md §7.8): peers that introduce newcomers to each other. A group is named by a shared secret
// (handed out in an invite link); a member proves it holds the secret for its own key id (core.groupProof), and the
// member list a newcomer gets is a list of signed cards with such proofs. A newcomer calls one member with its card
// (two pushes), says hello with its proof, gets the members that member is connected to, and calls each of them
// through it (introductions, js/mesh/neighbours.js: no push); the members accept a carried call from a member of a
// group they are in without asking. Control frames, per group id:
//   {t:'group-hello', group, proof}                   I am a member (sent to a member, answered by one)
//   {t:'group-members', group, members:[{card, proof}]} members I am connected to (to a newcomer; a newcomer to the rest)
//   {t:'group-msg', group, mid, from, data}          a message to the whole group (flooded beyond full mesh)
//   {t:'group-no', group, code}                       your hello was refused (NOT_A_MEMBER)
// Up to maxFullMesh members everyone connects to everyone; beyond, a newcomer connects to neighbourLimit members
// chosen at random and group messages are flooded with duplicate suppression (their `from` is then as the origin
// said it: every member holds the secret, so the group trusts its members with that).
import { PushPeerError } from '../errors.js';
import { pick } from './neighbours.js';

export const GROUP_DEFAULTS = Object.freeze({
  maxFullMesh: 8, // up to this many members, everyone connects to everyone
  neighbourLimit: 4, // beyond it, a newcomer connects to this many members chosen at random
  joinTimeoutMs: 15_000, // group-hello without an answer by then: join() fails with TIMEOUT
});
const MAX_MESSAGE = 16 * 1024; // group.send(data): characters of text
const SEEN_LIMIT = 2048; // message ids remembered for duplicate suppression
const MIN_SECRET = 16;

/** The groups of one PushPeer, and the control frames they use. host: the PushPeer (public methods only). */
export class Groups {
  constructor(host) {
    this.host = host;
    this.core = host.core;
    this.byId = new Map(); // group id (base64url) -> Group
    this.byName = new Map();
  }

  /** The group `name`; created with `secret` (bytes or base64url; random when none) the first time. */
  group(name, { secret } = {}) {
    if (typeof name !== 'string' || !name) throw new PushPeerError('BAD_ARGUMENT', 'group(name): a name');
    const existing = this.byName.get(name);
    if (existing && secret === undefined) return existing;
    const bytes = secret === undefined ? crypto.getRandomValues(new Uint8Array(32))
      : typeof secret === 'string' ? this.core.base64urlDecode(secret) : new Uint8Array(secret);
    if (bytes.length < MIN_SECRET) throw new PushPeerError('BAD_ARGUMENT', `a group secret has at least ${MIN_SECRET} bytes`);
    const id = this.core.base64urlEncode(this.core.groupId(bytes));
    if (existing?.id === id) return existing;
    if (existing) throw new PushPeerError('BAD_ARGUMENT', `another group is named ${name}`);
    const group = new Group(this, { name, secret: bytes, id });
    this.byId.set(id, group);
    this.byName.set(name, group);
    return group;
  }

  /** A group from an invite link (`#card=…&group=…&gname=…`): resolves to { group, card }. */
  fromLink(link) {
    const params = new URLSearchParams(String(link).split('#')[1] ?? '');
    const secret = params.get('group');
    const card = params.get('card');
    if (!secret || !card) throw new PushPeerError('BAD_ARGUMENT', 'not a group invite link');
    return { group: this.group(params.get('gname') || 'group', { secret }), card };
  }

  /** Takes part in groups on this connection. */
  attach(connection) {
    const frame = (handler) => (f) => {
      const group = typeof f.group === 'string' ? this.byId.get(f.group) : null;
      if (group) handler(group, f);
    };
    connection.onControl('group-hello', (f) => {
      const group = typeof f.group === 'string' ? this.byId.get(f.group) : null;
      // A hello for a group we are not in: the same refusal as a wrong proof (it tells them nothing more).
      if (!group) connection.sendControl({ t: 'group-no', group: String(f.group).slice(0, 32), code: 'NOT_A_MEMBER' });
      else void group._hello(connection, f).catch((error) => this.host.error(error));
    });
    connection.onControl('group-members', frame((g, f) => g._memberList(connection, f)));
    connection.onControl('group-msg', frame((g, f) => g._message(connection, f)));
    connection.onControl('group-no', frame((g, f) => g._refused(connection, f)));
    connection.addEventListener('close', () => {
      for (const g of this.byId.values()) g._closed(connection);
    });
    // A connection to someone we know as a member (an introduction while joining, or any later call between
    // members): say so, and it is a member's connection for both sides.
    for (const g of this.byId.values()) if (g._members.has(connection.remote.keyId)) g._sayHello(connection);
  }

  /** A group both key ids are connected members of (the carrier's 'group' policy), or null. */
  shared(a, b) {
    for (const g of this.byId.values()) if (g._isMember(a) && g._isMember(b)) return g;
    return null;
  }

  /**
   * Our live connections to members of a group that `keyId` is a member of too (not `keyId` itself): the
   * neighbours likely to be connected to it, for connect() to try before push. Members of a full-mesh group first.
   */
  routesTo(keyId) {
    const routes = [];
    for (const g of this.byId.values()) {
      if (!g._members.has(keyId)) continue;
      for (const m of g._connected()) if (m.keyId !== keyId && !routes.includes(m.connection)) routes.push(m.connection);
    }
    return routes;
  }

  /** A carried request from a member of one of our groups, carried by a member: accepted without asking. */
  admits(item) {
    if (!item.via) return null;
    return this.shared(item.from, item.via);
  }
}

/**
 * One group. Events: 'peerjoin' ({ keyId, name }): a member is connected to us; 'peerleave' ({ keyId, name }): that
 * connection ended; 'message' ({ from, name, data }). peers(), send(data), invite(), join(cardOrLink), leave().
 */
export class Group extends EventTarget {
  constructor(groups, { name, secret, id }) {
    super();
    this.groups = groups;
    this.name = name;
    this.id = id;
    this._secret = secret;
    this._members = new Map(); // keyId -> { keyId, name, card (bytes), proof (bytes), connection | null }
    this._seen = new Set();
    this._joining = new Map(); // Connection -> { resolve, reject }
    this._joiningThrough = null; // the key id of the member we join through, until its member list came
    this._helloTo = new WeakSet(); // connections we said hello on
    this._helloFrom = new WeakSet(); // connections a member said hello on (its proof checked)
    this._left = false;
    const o = { ...GROUP_DEFAULTS, ...pick(groups.host.options, Object.keys(GROUP_DEFAULTS)) };
    this.options = o;
  }

  get _core() {
    return this.groups.core;
  }

  get _proof() {
    return this._core.groupProof({ secret: this._secret, keyId: this.groups.host.keyId });
  }

  /** The members we know: { keyId, name, connected }. */
  peers() {
    return [...this._members.values()].map(({ keyId, name, connection }) => ({ keyId, name,
      connected: Boolean(connection && !connection.closed) }));
  }

  /** A link that lets its holder join: our card, the group's secret and name. Share it with people you trust. */
  invite() {
    const card = this.groups.host.card();
    const base = card.link.split('#')[0];
    return `${base}#card=${card.text}&group=${this._core.base64urlEncode(this._secret)}&gname=${encodeURIComponent(this.name)}`;
  }

  /**
   * Joins through a member: calls their card (two pushes, or none when we are connected to them already), says hello
   * with our proof, and calls every member they are connected to through them (no push). Resolves to peers() once
   * the member answered; the others join as their connections open ('peerjoin'). Fails with NOT_A_MEMBER (they do
   * not hold this group's secret, or refused ours), TIMEOUT, or connect()'s errors.
   */
  async join(cardOrLink) {
    if (this._left) throw new PushPeerError('NOT_CONNECTED', 'this group was left');
    const host = this.groups.host;
    const card = typeof cardOrLink === 'string' && cardOrLink.includes('#') ? new URLSearchParams(cardOrLink.split('#')[1])
      .get('card') ?? cardOrLink : cardOrLink;
    const decoded = this._core.decodeCard(await host.cardBytes(card));
    const keyId = this._core.base64urlEncode(decoded.keyId);
    // Named by key id, not by connection: a member that knows us already (we are back after a reload) says hello as
    // soon as the connection opens, we answer, and its list can come before connect() has returned here.
    this._joiningThrough = keyId;
    let connection;
    try {
      connection = host.connectionTo(keyId) ?? await host.connect(card);
    } catch (error) {
      this._joiningThrough = null;
      throw error;
    }
    const answered = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._joining.delete(connection);
        reject(new PushPeerError('TIMEOUT', `no answer from ${decoded.name || 'the member'} within ${this.options.joinTimeoutMs} ms`));
      }, this.options.joinTimeoutMs);
      this._joining.set(connection, { resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); } });
    });
    this._sayHello(connection);
    // That member's hello is then its answer (it came before we were waiting for one).
    if (this._helloFrom.has(connection)) this._joining.get(connection)?.resolve();
    try {
      await answered;
    } catch (error) {
      if (this._joiningThrough === keyId) this._joiningThrough = null;
      throw error;
    }
    return this.peers();
  }

  /** Sends text to every member (flooded with duplicate suppression beyond full mesh). */
  send(data) {
    if (typeof data !== 'string' || data.length > MAX_MESSAGE) {
      throw new PushPeerError('BAD_ARGUMENT', `group.send(data): text of at most ${MAX_MESSAGE} characters`);
    }
    const mid = this._core.base64urlEncode(crypto.getRandomValues(new Uint8Array(9)));
    this._remember(mid);
    const frame = { t: 'group-msg', group: this.id, mid, from: this.groups.host.keyId, data };
    for (const m of this._connected()) m.connection.sendControl(frame);
  }

  /** Stops taking part: no more hellos, introductions or messages for this group (connections stay). */
  leave() {
    this._left = true;
    this.groups.byId.delete(this.id);
    this.groups.byName.delete(this.name);
  }

  _connected() {
    return [...this._members.values()].filter((m) => m.connection && !m.connection.closed);
  }

  _isMember(keyId) {
    return keyId === this.groups.host.keyId || this._members.has(keyId);
  }

  _sayHello(connection) {
    this._helloTo.add(connection);
    connection.sendControl({ t: 'group-hello', group: this.id, proof: this._core.base64urlEncode(this._proof) });
  }

  _checks(keyId, proofText) {
    try {
      return this._core.checkGroupProof({ secret: this._secret, keyId: this._core.base64urlDecode(keyId),
        proof: this._core.base64urlDecode(proofText) });
    } catch {
      return false;
    }
  }

  /**
   * A hello on a connection: a member (answered with ours), or refused. A newcomer's: the members we are connected to
   * hear of it first, then it gets their list, so that its calls to them (carried by us, on the same ordered
   * channels) arrive after they know it is a member.
   */
  async _hello(connection, frame) {
    const keyId = connection.remote.keyId;
    if (typeof frame.proof !== 'string' || !this._checks(keyId, frame.proof)) {
      connection.sendControl({ t: 'group-no', group: this.id, code: 'NOT_A_MEMBER' });
      return;
    }
    this._helloFrom.add(connection);
    const known = this._members.get(keyId);
    // New to us, or back after its connection ended (a reloaded page joining again): it needs the members.
    const newcomer = !known || known.left === true;
    this._connect(keyId, { name: connection.remote.name, card: known?.card ?? null, proof: frame.proof, connection });
    if (!this._helloTo.has(connection)) this._sayHello(connection);
    const joining = this._joining.get(connection);
    if (joining) {
      // The member we joined through: its hello answers ours; its member list follows.
      this._joining.delete(connection);
      joining.resolve();
    }
    if (!newcomer) return;
    const card = await this.groups.host.peerCard(keyId).catch(() => null);
    if (card) this._members.get(keyId).card = card;
    // Who is connected is read after the wait: two newcomers at once each hear of the other. Beyond full mesh only
    // a random few (the newcomer calls neighbourLimit of them): the list stays one small frame, the announcements
    // do not grow with the group, and newcomers do not all pile onto the oldest members.
    let others = this._connected().filter((m) => m.keyId !== keyId && m.card);
    if (this._members.size + 1 > this.options.maxFullMesh) others = shuffle(others).slice(0, 2 * this.options.neighbourLimit);
    if (card) {
      const entry = { card: this._core.base64urlEncode(card), proof: frame.proof };
      for (const m of others) m.connection.sendControl({ t: 'group-members', group: this.id, members: [entry] });
    }
    connection.sendControl({ t: 'group-members', group: this.id, members: others.map((m) => this._entry(m)) });
  }

  _entry(member) {
    return { card: this._core.base64urlEncode(member.card), proof: member.proof };
  }

  /** Members someone told us of: checked (card signature, proof), kept, and called through them when we are new. */
  async _memberList(connection, frame) {
    if (!this._isMember(connection.remote.keyId) || !Array.isArray(frame.members)) return;
    const host = this.groups.host;
    const fresh = [];
    for (const entry of frame.members.slice(0, 256)) {
      let card;
      try {
        card = this._core.decodeCard(entry.card);
      } catch {
        continue;
      }
      const keyId = this._core.base64urlEncode(card.keyId);
      if (keyId === host.keyId || typeof entry.proof !== 'string' || !this._checks(keyId, entry.proof)) continue;
      const known = this._members.get(keyId);
      if (known?.connection && !known.connection.closed) continue;
      this._members.set(keyId, { keyId, name: card.name, card: this._core.base64urlDecode(entry.card),
        proof: entry.proof, connection: known?.connection ?? null });
      fresh.push({ keyId, card: entry.card });
    }
    // Who calls whom: the newcomer calls the members it was told of (they expect it); members told of a newcomer wait.
    if (connection.remote.keyId !== this._joiningThrough) return;
    this._joiningThrough = null;
    // Beyond full mesh, neighbourLimit of them at random; a call that fails (the member left, the carrier lost its
    // route) is replaced by the next one in the list, so that a newcomer does not keep the one it joined through only.
    const limit = this._members.size + 1 > this.options.maxFullMesh ? this.options.neighbourLimit : Infinity;
    const candidates = shuffle(fresh);
    let need = limit - this._connected().length;
    while (need > 0 && candidates.length && !connection.closed) {
      const made = await Promise.all(candidates.splice(0, need).map(async ({ keyId, card }) => {
        try {
          if (!host.connectionTo(keyId)) await host.connect(card, { via: connection }); // attach() says hello on it
          return true;
        } catch (error) {
          host.error(error);
          return false;
        }
      }));
      need -= made.filter(Boolean).length;
    }
  }

  _connect(keyId, { name, card, proof, connection }) {
    const before = this._members.get(keyId);
    const was = before?.connection && !before.connection.closed;
    this._members.set(keyId, { ...before, keyId, name: name || before?.name || '', card: card ?? before?.card ?? null,
      proof, connection, left: false });
    if (!was) this._emit('peerjoin', { keyId, name: name || before?.name || '' });
  }

  _message(connection, frame) {
    if (!this._isMember(connection.remote.keyId) || typeof frame.mid !== 'string' || frame.mid.length > 16 ||
        typeof frame.data !== 'string' || frame.data.length > MAX_MESSAGE || typeof frame.from !== 'string') return;
    if (this._seen.has(frame.mid)) return;
    this._remember(frame.mid);
    const name = this._members.get(frame.from)?.name ?? '';
    this._emit('message', { from: frame.from, name, data: frame.data });
    // Beyond full mesh not everyone hears the origin: pass it on (duplicates are dropped by their id).
    if (this._members.size + 1 > this.options.maxFullMesh) {
      for (const m of this._connected()) if (m.connection !== connection) m.connection.sendControl(frame);
    }
  }

  _refused(connection, frame) {
    const joining = this._joining.get(connection);
    if (!joining) return;
    this._joining.delete(connection);
    joining.reject(new PushPeerError(frame.code === 'NOT_A_MEMBER' ? 'NOT_A_MEMBER' : 'INTRODUCTION_REFUSED',
      `${connection.remote.name || 'the member'} refused our hello: ${String(frame.code).slice(0, 40)}`));
  }

  _closed(connection) {
    const joining = this._joining.get(connection);
    if (joining) {
      this._joining.delete(connection);
      joining.reject(new PushPeerError('NOT_CONNECTED', 'the member went away before answering'));
    }
    for (const m of this._members.values()) {
      if (m.connection !== connection) continue;
      m.connection = null;
      m.left = true;
      this._emit('peerleave', { keyId: m.keyId, name: m.name });
    }
  }

  _remember(mid) {
    this._seen.add(mid);
    if (this._seen.size > SEEN_LIMIT) this._seen.delete(this._seen.values().next().value);
  }

  _emit(type, fields) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }
}

function shuffle(list) {
  const a = list.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = crypto.getRandomValues(new Uint32Array(1))[0] % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
