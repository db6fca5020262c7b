// Groups (docs/PROTOCOL.md §7.8): peers that introduce newcomers to each other. A group is named by a shared secret
// (handed out in an invite link); a member proves it holds the secret for its own key id (core.groupProof), and the
// member list a newcomer gets is a list of signed cards with such proofs. A newcomer calls one member with its card
// (two pushes) and says hello with its proof. Up to maxFullMesh members, it gets the members that member is
// connected to and calls each of them through it (introductions, js/mesh/neighbours.js: no push); the members
// accept a carried call from a member of a group they are in without asking. Beyond, the member sends random walks
// into the group instead (HyParView's ForwardJoin): the member at each walk's end calls the newcomer back along the
// walk (a carried call over several hops, vouched for with its proof), and once the newcomer has neighbourLimit
// such connections it closes the one it joined through, so that no member's connections grow with the group.
// Control frames, per group id:
//   {t:'group-hello', group, proof, join?}            I am a member (sent to a member, answered by one); `join`:
//                                                     I am joining through you (send me the members, or walks)
//   {t:'group-members', group, members:[{card, proof}], walks?}
//                                                     members I am connected to (to a newcomer; a newcomer to the
//                                                     rest: one entry); `walks`: none, walks went instead (the
//                                                     group is large)
//   {t:'group-walk', group, card, proof, trail}       a member (card, proof) wants a neighbour; `trail`: the walk's
//                                                     carriers from that member to the sender (not included)
//   {t:'group-room', group, full}                     I have maxNeighbours connections (or no longer): a walk that
//                                                     must go on past a full member goes to one with room
//   {t:'group-msg', group, mid, from, data}          a message to the whole group (flooded beyond full mesh)
//   {t:'group-no', group, code}                       your hello was refused (NOT_A_MEMBER)
// Group messages are flooded with duplicate suppression beyond full mesh (their `from` is then as the origin said
// it: every member holds the secret, so the group trusts its members with that); up to full mesh a message is from
// the member who sent it.
//
// An open group (openGroup: a swarm, whose secret is in every link to it) has members who are strangers to each
// other, and any of them may be hostile. What one member can make us do is bounded: frames per connection per
// minute (walks, lists, messages), a member list counts only from the member we join through (one entry, a
// newcomer, from the others), at most MAX_UNCONNECTED members we are not connected to, and the carrier's rule
// and automatic acceptance count only members connected to us (their own hello) or a call's own vouch. An open
// group carries no messages, its members are kept as transient peers (js/pushpeer.js), and at most maxNeighbours of
// their carried calls are taken without asking; the rest are declined.
import { PushPeerError } from '../errors.js';
import { bucket, pick } from './neighbours.js';
import { MAX_HOPS, checkRoute } from './route.js';

export const GROUP_DEFAULTS = Object.freeze({
  maxFullMesh: 8, // up to this many members, everyone connects to everyone
  neighbourLimit: 4, // beyond it, a newcomer gets this many connections, to the members at the ends of random walks
  maxNeighbours: 12, // ... and a member ends a walk (takes the newcomer) only while it has fewer connections than this
  walkLength: 4, // hops of a walk (a full member passes it on, up to MAX_HOPS)
  joinTimeoutMs: 15_000, // group-hello without an answer by then: join() fails with TIMEOUT
});
const MAX_MESSAGE = 16 * 1024; // group.send(data): characters of text
const SEEN_LIMIT = 2048; // message ids remembered for duplicate suppression
const HANDOFF_GRACE_MS = 2_000; // the connection join() made is closed this long after the walks' calls came
const WALK_WAIT_MS = 2_000; // a newcomer's walks not all answered by then: some were dropped (_handOff)
const REPAIR_PAUSE_MS = 2_000; // walks for ourselves at most this often (their calls take a few round trips)
const WALKS_PER_MINUTE = 60; // group-walk frames taken from one connection
const WALK_CALLS_PER_MINUTE = 12; // calls a group makes at walks' ends (a member chooses whom: each costs a call)
const MIN_SECRET = 16;
const JOIN_REPEAT_MS = 15_000; // a join hello on the same connection again within this long is a plain hello
const LOOKUPS_PER_MINUTE = 30; // hellos for a group not in memory (host.groupFor) taken from one connection
const MESSAGES_PER_MINUTE = 120; // group-msg frames taken from one connection
const LISTS_PER_MINUTE = 30; // group-members frames taken from one connection
const MAX_UNCONNECTED = 64; // members we know of but are not connected to (the oldest go first)
const VOUCH_MS = 60_000; // a vouch waits this long for its call to be looked at (admits)
const MAX_VOUCHES = 64;
const ADMIT_MS = 30_000; // a call taken without asking counts towards maxNeighbours until it opens, or this long
const RESERVED = 'pushpeer-'; // group names of the library's own (openGroup)

/** Whether a member entry (or none) holds a live connection to us. */
const isLive = (member) => Boolean(member?.connection && !member.connection.closed);

/** The groups of one PushPeer, and the control frames they use. host: the PushPeer (public methods only). */
export class Groups {
  constructor(host) {
    this.host = host;
    this.core = host.core;
    this.byId = new Map(); // group id (base64url) -> Group
    this.byName = new Map();
    this._vouches = new Map(); // key id -> { group, proof, until }: came with a carried call not looked at yet
  }

  /** The group `name`; created with `secret` (bytes or base64url; random when none) the first time. */
  group(name, { secret } = {}) {
    if (typeof name !== 'string' || !name) throw new PushPeerError('BAD_ARGUMENT', 'group(name): a name');
    if (name.startsWith(RESERVED)) throw new PushPeerError('BAD_ARGUMENT', `group names beginning with ${RESERVED} are the library's`);
    return this._group(name, { secret, open: false });
  }

  /**
   * An open group of the library's own (its name begins with `pushpeer-`): a swarm, whose secret is in every link
   * to it, so that its members are strangers to each other (see the top of this file).
   */
  openGroup(name, { secret }) {
    if (typeof name !== 'string' || !name.startsWith(RESERVED) || secret === undefined) {
      throw new PushPeerError('BAD_ARGUMENT', `openGroup(name, { secret }): a name beginning with ${RESERVED}`);
    }
    return this._group(name, { secret, open: true });
  }

  _group(name, { secret, open }) {
    const existing = this.byName.get(name);
    if (existing && secret === undefined) return existing;
    const bytes = secret === undefined ? crypto.getRandomValues(new Uint8Array(32))
      : typeof secret === 'string' ? this.core.base64urlDecode(secret) : new Uint8Array(secret);
    if (bytes.length < MIN_SECRET) throw new PushPeerError('BAD_ARGUMENT', `a group secret has at least ${MIN_SECRET} bytes`);
    const id = this.core.base64urlEncode(this.core.groupId(bytes));
    if (existing?.id === id) return existing;
    if (existing) throw new PushPeerError('BAD_ARGUMENT', `another group is named ${name}`);
    const group = new Group(this, { name, secret: bytes, id, open });
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
    // A hello for a group we do not hold in memory has the host look through what we serve (groupFor): at most
    // LOOKUPS_PER_MINUTE of those from one connection.
    const lookupAllowed = bucket(LOOKUPS_PER_MINUTE);
    connection.onControl('group-hello', (f) => void this._helloFor(connection, f, lookupAllowed)
      .catch((error) => this.host.error(error)));
    const listAllowed = bucket(LISTS_PER_MINUTE);
    connection.onControl('group-members', frame((g, f) => g._memberList(connection, f, listAllowed)));
    const messageAllowed = bucket(MESSAGES_PER_MINUTE);
    connection.onControl('group-msg', frame((g, f) => g._message(connection, f, messageAllowed)));
    connection.onControl('group-no', frame((g, f) => g._refused(connection, f)));
    // Walks make members call (and pass frames on): at most WALKS_PER_MINUTE taken from one connection.
    const walkAllowed = bucket(WALKS_PER_MINUTE);
    connection.onControl('group-walk', frame((g, f) => walkAllowed() && g._walk(connection, f)));
    connection.onControl('group-room', frame((g, f) => g._room(connection, f)));
    connection.addEventListener('close', () => {
      for (const g of this.byId.values()) g._closed(connection);
    });
    // A connection to someone we know as a member (an introduction while joining, or any later call between
    // members): say so, and it is a member's connection for both sides.
    for (const g of this.byId.values()) if (g._members.has(connection.remote.keyId)) g._sayHello(connection);
  }

  /**
   * A hello, for a group we are in, or one the host makes when asked (host.groupFor(id): the swarm of a share we
   * hold, js/swarm/introductions.js). A hello for a group we are not in gets the same refusal as a wrong proof (it
   * tells them nothing more).
   */
  async _helloFor(connection, f, lookupAllowed) {
    let group = typeof f.group === 'string' ? this.byId.get(f.group) : null;
    if (!group && typeof f.group === 'string' && f.group.length <= 64 && this.host.groupFor && lookupAllowed()) {
      group = (await this.host.groupFor(f.group)) ?? null;
    }
    if (!group || group._left) {
      connection.sendControl({ t: 'group-no', group: String(f.group).slice(0, 32), code: 'NOT_A_MEMBER' });
      return;
    }
    await group._hello(connection, f);
  }

  /**
   * A group both key ids are members of, connected to us with their own hello (the carrier's 'group' policy: the
   * two it stands between are its neighbours), or null. A member we were only told of does not count.
   */
  shared(a, b) {
    for (const g of this.byId.values()) if (g._isConnected(a) && g._isConnected(b)) return g;
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

  /**
   * A carried call came with `keyId`'s proof of membership (js/mesh/neighbours.js, vouch): a member at a walk's end
   * calls the newcomer, who has not heard of it. Kept aside until the call is looked at (admits), after its envelope
   * proved it is from `keyId`: a carrier that makes up a vouch with a bad envelope makes nobody a member.
   */
  vouch(keyId, { group, proof }) {
    if (!this.byId.has(group)) return;
    this._vouches.delete(keyId);
    this._vouches.set(keyId, { group, proof, until: Date.now() + VOUCH_MS });
    if (this._vouches.size > MAX_VOUCHES) this._vouches.delete(this._vouches.keys().next().value);
  }

  /**
   * The carrier's 'group' rule for a call passed on over several hops: `vouch` proves `keyId` (its caller) a member
   * of a group of ours that `a` and `b` (the two we stand between, connected to us) are members of.
   */
  vouches(keyId, { group: id, proof }, a, b) {
    const group = this.byId.get(id);
    return Boolean(group && group._isConnected(a) && group._isConnected(b) && group._checks(keyId, proof));
  }

  /**
   * A carried request (its envelope opened: `item.from` is the caller) from a member of one of our groups, carried
   * by a member connected to us: { group, accept, transient }, or null (the page is asked). `accept`: taken without
   * asking (joining a group is consent to connect with its members); false for an open group with maxNeighbours
   * connections already (declined). `transient`: an open group's member is kept as a transient peer.
   */
  admits(item) {
    if (!item.via) return null;
    const vouch = this._vouches.get(item.from);
    this._vouches.delete(item.from);
    // A closed group first: a friend who is also in a swarm with us is the friend (a peer for good, our card with
    // grants), not a swarm's transient member, and a full swarm does not decline it.
    for (const g of [...this.byId.values()].sort((a, b) => a.open - b.open)) {
      if (!g._isConnected(item.via)) continue;
      const vouched = vouch?.group === g.id && vouch.until > Date.now() && g._checks(item.from, vouch.proof);
      if (!vouched && !g._members.has(item.from)) continue;
      const accept = g._admit(item.from);
      if (accept && vouched) g._vouched(item.from, vouch.proof);
      return { group: g, accept, transient: g.open };
    }
    return null;
  }
}

/**
 * One group. Events: 'peerjoin' ({ keyId, name }): a member is connected to us; 'peerleave' ({ keyId, name }): that
 * connection ended; 'message' ({ from, name, data }). peers(), send(data), invite(), join(cardOrLink), leave().
 */
export class Group extends EventTarget {
  constructor(groups, { name, secret, id, open = false }) {
    super();
    this.groups = groups;
    this.name = name;
    this.id = id;
    this.open = open; // an open group (Groups.openGroup): members are strangers
    this._admitted = new Map(); // key id -> when its carried call was taken without asking (an open group)
    this._secret = secret;
    this._members = new Map(); // keyId -> { keyId, name, card (bytes), proof (bytes), connection | null }
    this._seen = new Set();
    this._joining = new Map(); // Connection -> { resolve, reject }
    this._joiningThrough = null; // the key id of the member we join through, until its member list came
    this._helloTo = new WeakSet(); // connections we said hello on
    this._helloFrom = new WeakSet(); // connections a member said hello on (its proof checked)
    this._joinsFrom = new WeakMap(); // connection -> when a join hello on it was last answered as one
    this._left = false;
    this._large = false; // beyond full mesh (we may know fewer members than that: our neighbours only)
    this._joinedVia = null; // the connection join() made (not one that was there before)
    this._handoff = null; // joining a large group: { connection (ours to close), timer } until the walks' calls came
    this._repairNext = 0; // walks for ourselves (a neighbour went): not again before then
    this._repairWait = REPAIR_PAUSE_MS; // ... and the wait after the next ones, doubling while we stay short
    this._calling = new Set(); // key ids we call at a walk's end, until that call settled
    this._walkCallAllowed = bucket(WALK_CALLS_PER_MINUTE);
    this._full = false; // what we last told our neighbours (group-room)
    const o = { ...GROUP_DEFAULTS, ...pick(groups.host.options, Object.keys(GROUP_DEFAULTS)) };
    for (const key of ['maxFullMesh', 'neighbourLimit', 'maxNeighbours', 'walkLength']) {
      if (!Number.isInteger(o[key]) || o[key] < 1) throw new PushPeerError('BAD_ARGUMENT', `${key}: a whole number ≥ 1`);
    }
    if (o.walkLength > MAX_HOPS) throw new PushPeerError('BAD_ARGUMENT', `walkLength: at most ${MAX_HOPS}`);
    if (o.maxNeighbours < o.neighbourLimit) throw new PushPeerError('BAD_ARGUMENT', 'maxNeighbours: at least neighbourLimit');
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
    return [...this._members.values()].map((m) => ({ keyId: m.keyId, name: m.name, connected: isLive(m) }));
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
      // A connection join() made is the group's: closed once walks brought others (a large group); one we had stays.
      connection = host.connectionTo(keyId);
      this._joinedVia = null;
      if (!connection) {
        connection = await host.connect(card);
        this._joinedVia = connection;
      }
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
    this._sayHello(connection, true);
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
    if (this.open) throw new PushPeerError('BAD_ARGUMENT', 'an open group (a swarm) carries no messages');
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
    return [...this._members.values()].filter(isLive);
  }

  /** Beyond full mesh: said by the members we know, or by a walk, a member list or a message that came. */
  _isLarge() {
    return this._large || this._members.size + 1 > this.options.maxFullMesh;
  }

  _isMember(keyId) {
    return keyId === this.groups.host.keyId || this._members.has(keyId);
  }

  /** Us, or a member connected to us (its hello on that connection, its proof checked). */
  _isConnected(keyId) {
    return keyId === this.groups.host.keyId || isLive(this._members.get(keyId));
  }

  /**
   * Whether to take `keyId`'s carried call without asking: always in a group of people who invited each other; in
   * an open group while we have fewer than maxNeighbours connections (those being opened count).
   */
  _admit(keyId) {
    if (!this.open) return true;
    const now = Date.now();
    for (const [k, at] of this._admitted) if (now - at > ADMIT_MS || this._isConnected(k)) this._admitted.delete(k);
    if (this._connected().length + this._admitted.size >= this.options.maxNeighbours) return false;
    this._admitted.set(keyId, now);
    return true;
  }

  /** Keeps what we know of a member; beyond MAX_UNCONNECTED members not connected to us, the oldest go. */
  _know(keyId, fields) {
    const known = this._members.get(keyId);
    this._members.delete(keyId);
    this._members.set(keyId, { ...known, keyId, ...fields });
    const unconnected = [...this._members.values()].filter((m) => !isLive(m));
    // (`keyId` is the newest: it stays)
    for (const m of unconnected.slice(0, Math.max(0, unconnected.length - MAX_UNCONNECTED))) this._members.delete(m.keyId);
  }

  /** Our hello; `join`: from join(), asking for the members (or walks) as a newcomer does. */
  _sayHello(connection, join = false) {
    this._helloTo.add(connection);
    connection.sendControl({ t: 'group-hello', group: this.id, proof: this._core.base64urlEncode(this._proof),
      ...(this.open ? { card: this.groups.host.card({ push: false }).text } : {}), ...(join ? { join: true } : {}) });
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
    // Joining (new to us, or a reloaded page back): it needs the members. Said by the joiner: what we know of it
    // (a walk's call that failed, a vouch) cannot tell a newcomer from a member whose call opened.
    // Once per JOIN_REPEAT_MS on one connection: each join sends every connected member a frame (a swarm's members
    // are whoever holds a link), so a repeated one is a plain hello, not a way to make us flood them.
    const last = this._joinsFrom.get(connection);
    const newcomer = frame.join === true && !(last !== undefined && Date.now() - last < JOIN_REPEAT_MS);
    if (newcomer) this._joinsFrom.set(connection, Date.now());
    this._connect(keyId, { name: connection.remote.name, card: known?.card ?? null, proof: frame.proof, connection });
    if (!this._helloTo.has(connection)) this._sayHello(connection);
    const joining = this._joining.get(connection);
    if (joining) {
      // The member we joined through: its hello answers ours; its member list follows.
      this._joining.delete(connection);
      joining.resolve();
    }
    // An open group's member is listed with the card its hello carried (no grants: nobody it meets here can push to
    // it), never with the one we keep (which may be a card it gave us, to push to it, when it called us).
    if (this.open) {
      const card = this._grantless(frame.card, keyId);
      if (card) this._members.get(keyId).card = card;
    }
    if (!newcomer && this._members.get(keyId).card) return;
    const card = this.open ? this._members.get(keyId).card : await this.groups.host.peerCard(keyId).catch(() => null);
    if (card) this._members.get(keyId).card = card;
    if (!newcomer) return; // a member vouched for (it called us from a walk's end): its card, kept above
    // Who is connected is read after the wait: two newcomers at once each hear of the other.
    const others = this._connected().filter((m) => m.keyId !== keyId && m.card);
    if (this._isLarge() && card && others.length) {
      // Beyond full mesh: walks find the newcomer its neighbours (they call it), so that it does not stay on us.
      connection.sendControl({ t: 'group-members', group: this.id, members: [], walks: this.options.neighbourLimit });
      this._walkFor(this.options.neighbourLimit, others, { card: this._core.base64urlEncode(card), proof: frame.proof });
      return;
    }
    if (card) {
      const entry = { card: this._core.base64urlEncode(card), proof: frame.proof };
      for (const m of others) m.connection.sendControl({ t: 'group-members', group: this.id, members: [entry] });
    }
    connection.sendControl({ t: 'group-members', group: this.id, members: others.map((m) => this._entry(m)) });
  }

  /** Card text `text` as bytes when it is `keyId`'s, valid and without grants; else null. */
  _grantless(text, keyId) {
    try {
      const card = this._core.decodeCard(text);
      if (card.grants.length || this._core.base64urlEncode(card.keyId) !== keyId) return null;
      return this._core.base64urlDecode(text);
    } catch {
      return null;
    }
  }

  _entry(member) {
    return { card: this._core.base64urlEncode(member.card), proof: member.proof };
  }

  /**
   * Members someone told us of: checked (card signature, proof), kept, and called through them when we are new.
   * The member we join through sends the members it is connected to (up to maxFullMesh count); any other member
   * only ever tells us of a newcomer (one entry).
   */
  async _memberList(connection, frame, allowed = () => true) {
    if (!this._isConnected(connection.remote.keyId) || !Array.isArray(frame.members) || !allowed()) return;
    const host = this.groups.host;
    const joining = connection.remote.keyId === this._joiningThrough;
    const fresh = [];
    for (const entry of frame.members.slice(0, joining ? this.options.maxFullMesh : 1)) {
      if (typeof entry?.card !== 'string' || typeof entry.proof !== 'string') continue;
      let card;
      try {
        card = this._core.decodeCard(entry.card);
      } catch {
        continue;
      }
      const keyId = this._core.base64urlEncode(card.keyId);
      if (keyId === host.keyId || !this._checks(keyId, entry.proof)) continue;
      if (this.open && card.grants.length) continue; // a member's card with grants: not ours to take or pass on
      const known = this._members.get(keyId);
      if (isLive(known)) continue;
      this._know(keyId, { name: card.name, card: this._core.base64urlDecode(entry.card), proof: entry.proof,
        connection: known?.connection ?? null });
      fresh.push({ keyId, card: entry.card });
      // A member we are connected to already (an earlier call, another group, another share's swarm): that
      // connection becomes the group's with a hello on it, no call (it answers with its own).
      const live = host.connectionTo(keyId);
      if (live && !this._helloTo.has(live)) this._sayHello(live);
    }
    // Who calls whom: the newcomer calls the members it was told of (they expect it); members told of a newcomer wait.
    if (connection.remote.keyId !== this._joiningThrough) return;
    this._joiningThrough = null;
    if (Number.isInteger(frame.walks) && frame.walks > 0) {
      // A large group: walks bring us our neighbours (they call us). The connection join() made is closed once
      // neighbourLimit of them are open, or when the join's time is up if at least one is.
      this._large = true;
      if (this._joinedVia === connection && !connection.closed) {
        this._handoff = { connection, timer: setTimeout(() => this._handOff(true), WALK_WAIT_MS), tries: 0 };
        this._handOff(false);
      }
      return;
    }
    // Beyond full mesh, neighbourLimit of them at random; a call that fails (the member left, the carrier lost its
    // route) is replaced by the next one in the list, so that a newcomer does not keep the one it joined through only.
    const limit = this._members.size + 1 > this.options.maxFullMesh ? this.options.neighbourLimit : Infinity;
    const candidates = shuffle(fresh);
    let need = limit - this._connected().length;
    while (need > 0 && candidates.length && !connection.closed) {
      const made = await Promise.all(candidates.splice(0, need).map(async ({ keyId, card }) => {
        try {
          // attach() says hello on it
          if (!host.connectionTo(keyId)) await host.connect(card, { via: connection, ...this._callOptions });
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
    const was = isLive(before);
    this._members.set(keyId, { ...before, keyId, name: name || before?.name || '', card: card ?? before?.card ?? null,
      proof, connection });
    if (!was) this._emit('peerjoin', { keyId, name: name || before?.name || '' });
    if (this._handoff) this._handOff(false);
    this._tellRoom(was ? null : connection);
  }

  /**
   * Large groups: when we reach maxNeighbours connections, or drop below, our neighbours hear of it (a walk past a
   * full member goes to one with room). A new neighbour hears it once when we are full.
   */
  _tellRoom(fresh) {
    if (!this._isLarge()) return;
    const full = this._connected().length >= this.options.maxNeighbours;
    if (full !== this._full) {
      this._full = full;
      for (const m of this._connected()) m.connection.sendControl({ t: 'group-room', group: this.id, full });
    } else if (full && fresh) {
      fresh.sendControl({ t: 'group-room', group: this.id, full });
    }
  }

  _room(connection, frame) {
    const member = this._members.get(connection.remote.keyId);
    if (member?.connection === connection && typeof frame.full === 'boolean') member.full = frame.full;
  }

  /**
   * Joining a large group: closes the connection join() made once the walks brought neighbourLimit others. Walks
   * that full members dropped do not come: after WALK_WAIT_MS, with some others we close it all the same (then walk
   * for the rest ourselves: _repair); with none, we walk again through it, less often each time.
   */
  _handOff(timeUp) {
    const handoff = this._handoff;
    const { connection } = handoff;
    const others = this._connected().filter((m) => m.connection !== connection).length;
    const done = () => {
      clearTimeout(handoff.timer);
      this._handoff = null;
    };
    if (connection.closed) {
      done();
    } else if (others >= this.options.neighbourLimit || (timeUp && others > 0)) {
      done();
      // A moment later: word on the walks' calls (fwd-ok) may still come back through it.
      setTimeout(() => connection.close('group: joined through the walks'), HANDOFF_GRACE_MS);
    } else if (timeUp) {
      // Nobody came: walk again through it, waiting longer each time (up to a minute), until somebody does.
      handoff.tries++;
      this._walkFor(this.options.neighbourLimit, [this._members.get(connection.remote.keyId)]);
      handoff.timer = setTimeout(() => this._handOff(true), Math.min(60_000, WALK_WAIT_MS * 2 ** handoff.tries));
      handoff.timer.unref?.(); // (Node: a page's timers do not hold a process)
    }
  }

  /** A member's proof came with its carried call (Groups.vouch): known as a member, its connection to come. */
  _vouched(keyId, proof) {
    const known = this._members.get(keyId);
    if (isLive(known)) return;
    this._know(keyId, { name: known?.name ?? '', card: known?.card ?? null, proof, connection: null });
  }

  /** What our calls to members add: an open group's members are kept as transient peers. */
  get _callOptions() {
    return this.open ? { transient: true } : {};
  }

  /**
   * A walk (a member wants a neighbour): passed on to a random member of ours until it has gone walkLength hops (or
   * further while we are full, joining ourselves, or connected to that member already, up to MAX_HOPS); at its end
   * we call the member back along the walk's carriers, vouched for by our proof. A walk that cannot go on is lost
   * (the member then has one neighbour fewer, and walks again: _handOff, _repair).
   */
  _walk(connection, frame) {
    if (!this._helloFrom.has(connection) || typeof frame.card !== 'string' || typeof frame.proof !== 'string') return;
    const host = this.groups.host;
    let card;
    let trail;
    try {
      card = this._core.decodeCard(frame.card); // its signature checked
      trail = checkRoute(frame.trail ?? []);
    } catch {
      return;
    }
    const keyId = this._core.base64urlEncode(card.keyId);
    if (keyId === host.keyId || !this._checks(keyId, frame.proof)) return;
    if (this.open && card.grants.length) return; // an open group's walks carry cards without grants
    this._large = true;
    const sender = connection.remote.keyId;
    const path = sender === keyId ? [] : [...trail, sender];
    if (path.length > MAX_HOPS || path.includes(host.keyId) || path.includes(keyId)) return;
    const there = host.connectionTo(keyId) || this._calling.has(keyId);
    const busy = this._connected().length + this._calling.size >= this.options.maxNeighbours ||
      this._joiningThrough !== null || this._handoff;
    if (path.length < this.options.walkLength || ((busy || there) && path.length < MAX_HOPS)) {
      const candidates = shuffle(this._connected().filter((m) => m.keyId !== sender && m.keyId !== keyId &&
        !path.includes(m.keyId)));
      // Past walkLength (we are full, or have it already): a member that said it has room, if any.
      const next = (path.length >= this.options.walkLength && candidates.find((m) => !m.full)) || candidates[0];
      if (next) {
        next.connection.sendControl({ t: 'group-walk', group: this.id, card: frame.card, proof: frame.proof, trail: path });
        return;
      }
    }
    // Lost: we are full or joining (or have it already) at MAX_HOPS, or nobody to pass it to. The member then has a
    // neighbour fewer; it walks again for itself when its join's time is up (_handOff) or a neighbour goes (_repair).
    if (there || busy || !path.length || !this._walkCallAllowed()) return;
    const known = this._members.get(keyId);
    this._know(keyId, { name: card.name, card: this._core.base64urlDecode(frame.card), proof: frame.proof,
      connection: known?.connection ?? null });
    this._calling.add(keyId);
    host.connect(frame.card, { via: connection, carriers: path.slice(0, -1).reverse(),
      vouch: { group: this.id, proof: this._core.base64urlEncode(this._proof) }, ...this._callOptions })
      .catch((error) => host.error(error)).finally(() => this._calling.delete(keyId));
  }

  /**
   * A large group's member whose neighbours went: walks for itself, for as many as it is short of neighbourLimit,
   * and again after a wait that doubles (up to a minute) while it stays short (walks can end among full members).
   */
  _repair() {
    if (this._left || !this._isLarge() || this._handoff || this._joiningThrough !== null) return;
    const connected = this._connected();
    const short = this.options.neighbourLimit - connected.length;
    if (short <= 0 || !connected.length) {
      this._repairWait = REPAIR_PAUSE_MS;
      return;
    }
    const now = Date.now();
    if (now < this._repairNext) return; // a timer comes back then
    this._walkFor(short, connected);
    this._repairNext = now + this._repairWait;
    setTimeout(() => this._repair(), this._repairWait).unref?.();
    this._repairWait = Math.min(60_000, 2 * this._repairWait);
  }

  /**
   * Sends `count` walks for a member (ourselves by default: its card text and proof), each through one of `members`
   * (connected), spread over them at random.
   */
  _walkFor(count, members, { card = this.groups.host.card({ push: !this.open }).text, proof = this._core.base64urlEncode(this._proof) } = {}) {
    const firsts = shuffle(members);
    for (let i = 0; i < count; i++) {
      firsts[i % firsts.length].connection.sendControl({ t: 'group-walk', group: this.id, card, proof, trail: [] });
    }
  }

  _message(connection, frame, allowed = () => true) {
    if (this.open || !this._isConnected(connection.remote.keyId) || typeof frame.mid !== 'string' || frame.mid.length > 16 ||
        typeof frame.data !== 'string' || frame.data.length > MAX_MESSAGE || typeof frame.from !== 'string') return;
    // Up to full mesh we hear each member we are connected to from itself: a message said to be one of theirs that
    // another member sends is made up. One from a member we do not know was passed on by a member of a larger group
    // than we know; we take it, but a message never makes us pass messages on (that is for a group we know is large).
    if (!this._isLarge() && frame.from !== connection.remote.keyId && this._isConnected(frame.from)) return;
    if (this._seen.has(frame.mid) || !allowed()) return;
    this._remember(frame.mid);
    const name = this._members.get(frame.from)?.name ?? '';
    this._emit('message', { from: frame.from, name, data: frame.data });
    // Beyond full mesh not everyone hears the origin: pass it on (duplicates are dropped by their id).
    if (this._isLarge()) {
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
    let lost = false;
    for (const m of this._members.values()) {
      if (m.connection !== connection) continue;
      m.connection = null;
      lost = true;
      this._emit('peerleave', { keyId: m.keyId, name: m.name });
    }
    if (this._handoff?.connection === connection) this._handOff(false);
    if (lost) {
      this._tellRoom(null);
      this._repair();
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
