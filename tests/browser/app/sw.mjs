// The test app's own module service worker: it imports pushpeer's handler, as an app would.
import { installPushPeer } from '/sw/handler.js';

installPushPeer(self);
