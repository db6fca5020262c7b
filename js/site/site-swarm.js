// The site's swarm (docs/PROTOCOL.md §10.5): a visitor meets the other visitors its peers are connected to. The
// site's listed files are a share (§10.1) whose swarm (§9.6: an open group, its secret the share id, which every
// visitor's manifest holds) we join through every connection, with no push: a peer that is a visitor of the same
// version answers and introduces us to the members it is connected to (carried calls, at most maxNeighbours taken
// by each without asking); one that is not says so and nothing happens. Every connection is a source for the site's
// files (js/site/peer-fetch.js), so the swarm is more sources. A new version is a new share: joined on siteupdate.
export class SiteSwarm {
  /** site () -> Promise of the site in use ({ id }) or null (SiteVersions.site), swarms, connections () -> the live ones. */
  constructor({ site, swarms, connections }) {
    this._site = site;
    this._swarms = swarms;
    this._connections = connections;
  }

  async _id() {
    return (await this._site())?.id ?? null;
  }

  /** A connection opened: we join the site's swarm through it. */
  async attach(connection) {
    const id = await this._id();
    if (id && !connection.closed) await this._swarms.join(id, connection, () => {});
  }

  /** The worker took a new version: its swarm, through every connection. */
  async updated() {
    const id = await this._id();
    if (!id) return;
    for (const connection of this._connections()) if (!connection.closed) void this._swarms.join(id, connection, () => {});
  }
}
