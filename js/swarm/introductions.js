// Swarm introductions (docs/PROTOCOL.md §9.6): the peers that fetch or serve one share meet through the peers they
// are connected to already, with no push. Each share is a group (js/mesh/groups.js, PROTOCOL §7.8) whose secret is
// the share's id: whoever holds the link holds the id, so a group proof proves its sender holds the link, and the
// group's rules do the rest: a downloader says hello to the peer its link named (over the connection its download
// made: no new call), gets the members that peer is connected to, and calls each of them through it (carried
// envelopes, zero pushes); members take a carried call from a member without asking. Up to maxFullMesh members
// everyone meets everyone; beyond, random walks give each newcomer neighbourLimit neighbours, so that no peer's
// connections grow with the swarm. Every member a download meets becomes one of its sources.
//
// A peer answers a swarm's hello only for a share it serves (complete, or a download running here): a paused
// download, or a share removed, is not found, as for the content frames (js/content/server.js).
import { PushPeerError } from '../errors.js';

const NAME = 'pushpeer-swarm:';

export class Swarms {
  /**
   * groups (js/mesh/groups.js), core, connectionTo (keyId) -> a live Connection or null, peerCard (keyId) -> card
   * bytes or null, served () -> Promise<share ids (base64url) we serve now>, error (e).
   */
  constructor({ core, groups, connectionTo, peerCard, served, error = () => {} }) {
    this.core = core;
    this.groups = groups;
    this._connectionTo = connectionTo;
    this._peerCard = peerCard;
    this._served = served;
    this._error = error;
    this._groupIds = new Map(); // share id -> its group's id (a hash each: computed once)
    this._joined = new Map(); // share id -> { group, detach } for the downloads running here
    this._left = 0; // leave() calls so far: a lookup that saw one happen looks again
  }

  /** The group of share `id` (base64url), made the first time. */
  groupOf(id) {
    const group = this.groups.openGroup(`${NAME}${id}`, { secret: this.core.base64urlDecode(id) });
    this._groupIds.set(id, group.id);
    return group;
  }

  /** The group named by a hello we got, when it is the swarm of a share we serve now; else null. */
  async groupFor(groupId) {
    let left;
    let served;
    do {
      left = this._left;
      served = await this._served();
    } while (left !== this._left); // a share removed meanwhile: what we serve is read again, so we do not rejoin it
    for (const id of served) {
      if (!this._groupIds.has(id)) this._groupIds.set(id, this.core.base64urlEncode(this.core.groupId(this.core.base64urlDecode(id))));
      if (this._groupIds.get(id) === groupId) return this.groupOf(id);
    }
    return null;
  }

  /**
   * A download of share `id` is connected to `connection` (the peer its link named): we join the swarm through
   * it, and each member we meet is given to `addSource`. Called again after a reconnect (the peer reloaded and
   * forgot us). Resolves once that peer answered; a peer that is not in the swarm (an older version, or it does not
   * serve the share any more) leaves the download as it was.
   */
  async join(id, connection, addSource) {
    try {
      await this._join(id, connection, addSource);
    } catch (error) {
      // Extra sources only: the download goes on from its link's peer (and the page hears why, unless refused).
      if (!(error instanceof PushPeerError) || error.code !== 'NOT_A_MEMBER') this._error(error);
    }
  }

  async _join(id, connection, addSource) {
    const group = this.groupOf(id);
    if (!this._joined.has(id)) {
      const onJoin = (e) => {
        const c = this._connectionTo(e.keyId);
        if (c) addSource(c);
      };
      group.addEventListener('peerjoin', onJoin);
      this._joined.set(id, { group, detach: () => group.removeEventListener('peerjoin', onJoin) });
    }
    for (const member of group.peers()) {
      const c = member.connected ? this._connectionTo(member.keyId) : null;
      if (c) addSource(c);
    }
    const card = await this._peerCard(connection.remote.keyId);
    // Only over a connection we hold: join() would call the card (a push) when there is none.
    if (!card || connection.closed || !this._connectionTo(connection.remote.keyId)) return;
    // The card names the peer we are connected to: join() takes that connection (no call, no push).
    await group.join(card);
  }

  /** The download ended (done: we go on serving it, still in the swarm) or the share is gone (we leave). */
  stopJoining(id) {
    this._joined.get(id)?.detach();
    this._joined.delete(id);
  }

  /** We no longer serve share `id` (removed, or its download failed or was cancelled): we leave its swarm. */
  leave(id) {
    this._left++;
    this.stopJoining(id);
    const group = this.groups.byName.get(`${NAME}${id}`);
    group?.leave();
  }
}
