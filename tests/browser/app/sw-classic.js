// The test app's classic service worker: the same handler, from the classic-script build (npm run build writes
// js/wasm/pushpeer-sw.classic.js).
importScripts('/js/wasm/pushpeer-sw.classic.js');
pushpeer.installPushPeer(self);
