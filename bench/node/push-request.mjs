// µs per push request (payload encryption + VAPID Authorization), same process, same inputs:
//   pushpeer Wasm core.buildPushRequest (release build; reuses its signed VAPID token, as a sender would)
//   web-push 3.6.7 generateRequestDetails (signs a new JWT every call)
//   webpush-webcrypto 1.0.5 generatePushHTTPRequest (async WebCrypto; signs every call; emits the older "aesgcm")
// plus pushpeer's parts on their own: core.encrypt and core.vapidAuthorization (a fresh signature each call).
//
// Usage: node bench/node/push-request.mjs [--iterations N] [--batch B] [--warmup W]
// The machines this runs on are noisy (shared hosts), so timing is paired: N/B cycles, each cycle runs every
// implementation for B calls in a rotating order; a row gives the median and interquartile range of the per-call
// time over the cycles, and the ratio column is the median of the per-cycle ratios to web-push (same cycle, so
// a slow patch of the machine affects both sides). Nothing here asserts timings.
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';

import webPush from 'web-push';
import { ApplicationServerKeys, generatePushHTTPRequest, setWebCrypto } from 'webpush-webcrypto';

import { loadCore } from '../../js/core.js';

const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '200' },
  },
});
const ITERATIONS = Number(args.iterations);
const BATCH = Number(args.batch);
const CYCLES = Math.max(1, Math.round(ITERATIONS / BATCH));
const WARMUP = Number(args.warmup);
const PAYLOAD_SIZES = [1024, 3993];
const SUBJECT = 'mailto:bench@pushpeer.test';

setWebCrypto(crypto.webcrypto);
const b64u = (bytes) => Buffer.from(bytes).toString('base64url');

// --- the same inputs for everyone ---

const core = await loadCore({ flavor: 'release' });
const vapid = core.generateVapidKeys();
const vapidText = { publicKey: b64u(vapid.publicKey), privateKey: b64u(vapid.privateKey) };
const pkcs8 = crypto.createPrivateKey({
  key: { kty: 'EC', crv: 'P-256', x: b64u(vapid.publicKey.subarray(1, 33)), y: b64u(vapid.publicKey.subarray(33)), d: vapidText.privateKey },
  format: 'jwk',
}).export({ format: 'der', type: 'pkcs8' });
const webcryptoKeys = await ApplicationServerKeys.fromJSON({ publicKey: vapidText.publicKey, privateKey: b64u(pkcs8) });

const receiver = crypto.createECDH('prime256v1');
receiver.generateKeys();
const subscription = {
  endpoint: 'https://fcm.googleapis.com/fcm/send/bench-subscription:APA91bH',
  expirationTime: null,
  keys: { p256dh: receiver.getPublicKey('base64url'), auth: crypto.randomBytes(16).toString('base64url') },
};

function implementations(payload) {
  const payloadBuffer = Buffer.from(payload);
  return [
    {
      name: 'pushpeer Wasm: core.buildPushRequest',
      run: () => core.buildPushRequest({ subscription, payload, vapidKeys: vapid, subject: SUBJECT, ttl: 60 }),
    },
    {
      name: 'web-push: generateRequestDetails',
      baseline: true,
      run: () => webPush.generateRequestDetails(subscription, payloadBuffer, {
        vapidDetails: { subject: SUBJECT, publicKey: vapidText.publicKey, privateKey: vapidText.privateKey }, TTL: 60,
      }),
    },
    {
      name: 'webpush-webcrypto: generatePushHTTPRequest (aesgcm)',
      async: true,
      run: () => generatePushHTTPRequest({ applicationServerKeys: webcryptoKeys, payload, target: subscription, adminContact: SUBJECT, ttl: 60 }),
    },
    {
      name: 'pushpeer Wasm: core.encrypt only',
      part: true,
      run: () => core.encrypt({ p256dh: subscription.keys.p256dh, auth: subscription.keys.auth, plaintext: payload }),
    },
    {
      name: 'pushpeer Wasm: core.vapidAuthorization only (fresh signature)',
      part: true,
      run: () => core.vapidAuthorization({ endpoint: subscription.endpoint, subject: SUBJECT, ...vapid }),
    },
  ];
}

async function time(impl, n) {
  const start = process.hrtime.bigint();
  if (impl.async) {
    for (let i = 0; i < n; i++) await impl.run();
  } else {
    for (let i = 0; i < n; i++) impl.run();
  }
  return Number(process.hrtime.bigint() - start) / 1000 / n; // µs per call
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

console.log(`# Push request benchmark (Node ${process.version}, ${process.platform}/${process.arch})`);
console.log('');
console.log(`${CYCLES * BATCH} requests per implementation in ${CYCLES} cycles of ${BATCH} (order rotating), ${WARMUP} warm-up calls. ` +
  'µs per request: median [p25–p75] over cycles; ratio: median of per-cycle ratios to web-push. ' +
  'Same VAPID key pair and subscription for every implementation.');

for (const size of PAYLOAD_SIZES) {
  const payload = new Uint8Array(crypto.randomBytes(size));
  const impls = implementations(payload);
  for (const impl of impls) await time(impl, WARMUP);
  const samples = new Map(impls.map((impl) => [impl, []]));
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const order = impls.map((_, i) => impls[(i + cycle) % impls.length]);
    for (const impl of order) samples.get(impl).push(await time(impl, BATCH));
  }
  const base = samples.get(impls.find((i) => i.baseline));
  const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  console.log('');
  console.log(`## Payload ${size} bytes`);
  console.log('');
  console.log('| implementation | µs/request, median [p25–p75] | ratio to web-push |');
  console.log('|---|---:|---:|');
  for (const impl of impls) {
    const xs = samples.get(impl);
    const ratio = median(xs.map((x, i) => x / base[i]));
    console.log(`| ${impl.name} | ${median(xs).toFixed(1)} [${quantile(xs, 0.25).toFixed(0)}–${quantile(xs, 0.75).toFixed(0)}] | ${ratio.toFixed(2)}× |`);
  }
}

console.log('');
console.log('Notes: pushpeer\'s buildPushRequest reuses its signed VAPID token per (origin, subject, key) — the cold path is ' +
  'roughly "encrypt only" + "vapidAuthorization only". web-push and webpush-webcrypto sign a JWT on every call. ' +
  'webpush-webcrypto produces the pre-RFC 8291 "aesgcm" coding, not aes128gcm.');
