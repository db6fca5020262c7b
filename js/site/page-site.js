// A page's part in a signed site (docs/PROTOCOL.md §10.3–§10.5), behind one object for js/pushpeer.js: it fetches
// the site's files the worker asks for from our peers (js/site/peer-fetch.js), tells each peer the version we use
// and spreads newer ones (js/site/site-versions.js, the page's one reader of the worker's site record), and joins
// the site's swarm through each connection (js/site/site-swarm.js; not with `swarm: false`).
import { SitePeerFetch, SiteRequestAnswers } from './peer-fetch.js';
import { SiteSwarm } from './site-swarm.js';
import { SiteVersions } from './site-versions.js';

export class PageSite {
  /**
   * core, store (the peer's), contentStore, swarms (js/swarm/introductions.js), connections () -> the live ones,
   * channelOf (connection) -> its content channel, post (message) -> to the worker, swarm: join the site's swarm.
   */
  constructor({ core, store, contentStore, swarms, connections, channelOf, post, swarm = true }) {
    this._requests = new SiteRequestAnswers({ post,
      fetcher: new SitePeerFetch({ core, store: contentStore, connections, channelOf }) });
    this._versions = new SiteVersions({ core, store, post });
    this._swarm = swarm ? new SiteSwarm({ site: () => this._versions.site(), swarms, connections }) : null;
  }

  /** A connection opened: the worker hears we have one more source, the peer our version, and we join the swarm. */
  attach(connection) {
    connection.addEventListener('close', () => this._requests.announce());
    this._requests.announce();
    this._versions.attach(connection);
    void this._swarm?.attach(connection);
  }

  /** A message from the worker (the pages' channel). */
  receive(message) {
    this._requests.receive(message);
    if (message?.pushpeer === 'siteupdate') {
      void this._versions.updated(); // first: it reads the new site, which the swarm then takes
      void this._swarm?.updated();
    }
  }

  /** The page goes (or stops listening): the worker asks it for nothing more. */
  leave() {
    this._requests.announce({ peers: 0 });
  }
}
