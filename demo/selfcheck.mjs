// `npm start` for now: loads the Wasm core and shows a Web Push round trip, sizes and timings.
// (This grows into the demo server: see the issues.)
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { loadCore } from '../js/core.js';

const core = await loadCore();
const vapid = core.generateVapidKeys();
const subscriber = core.generateVapidKeys();
const auth = crypto.getRandomValues(new Uint8Array(16));
const subscription = {
  endpoint: 'http://127.0.0.1:8090/push/selfcheck',
  keys: { p256dh: core.base64urlEncode(subscriber.publicKey), auth: core.base64urlEncode(auth) },
};
const text = 'hello from pushpeer';
const request = core.buildPushRequest({
  subscription, payload: text, vapidKeys: vapid, subject: 'mailto:selfcheck@example.invalid', urgency: 'high',
});
const back = new TextDecoder().decode(core.decrypt({
  privateKey: subscriber.privateKey, publicKey: subscriber.publicKey, auth, body: request.body,
}));
const claims = core.verifyVapidJwt(/t=([^,]+)/.exec(request.headers.Authorization)[1], vapid.publicKey);
const wasm = readFileSync(new URL('../js/wasm/pushpeer-core.wasm', import.meta.url));
console.log(`pushpeer core self-check
  push request  ${request.body.length} bytes body for ${text.length} bytes payload, headers: ${Object.keys(request.headers).join(', ')}
  decrypted     ${JSON.stringify(back)} ${back === text ? 'OK' : 'MISMATCH'}
  VAPID JWT     aud=${claims.aud} exp in ${Math.round((claims.exp - Date.now() / 1000) / 3600)} h OK
  wasm size     ${wasm.length} bytes, ${gzipSync(wasm, { level: 9 }).length} gzip`);
if (back !== text) process.exit(1);
