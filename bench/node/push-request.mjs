// µs per push request (payload encryption + VAPID Authorization), same process, same inputs:
//   pushpeer Wasm core.buildPushRequest (release build; reuses its signed VAPID token, as a sender would)
//   web-push 3.6.7 generateRequestDetails (signs a new JWT every call)
//   webpush-webcrypto 1.0.5 generatePushHTTPRequest (async WebCrypto; signs every call; emits the older "aesgcm")
// plus pushpeer's parts on their own: core.encrypt and core.vapidAuthorization (a fresh signature each call).
//
// Usage: node bench/node/push-request.mjs [--iterations N] [--rounds R] [--warmup W]
// Implementations alternate within every round (to spread drift); each row is the median over the rounds.
// Nothing here asserts timings.
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';

import webPush from 'web-push';
import { ApplicationServerKeys, generatePushHTTPRequest, setWebCrypto } from 'webpush-webcrypto';

import { loadCore } from '../../js/core.js';

const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '200' },
  },
});
const ITERATIONS = Number(args.iterations);
const ROUNDS = Number(args.rounds);
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
console.log(`${ITERATIONS} requests per implementation per round, ${ROUNDS} rounds (order alternating), ${WARMUP} warm-up calls; ` +
  'median µs per request. Same VAPID key pair and subscription for every implementation.');

for (const size of PAYLOAD_SIZES) {
  const payload = new Uint8Array(crypto.randomBytes(size));
  const impls = implementations(payload);
  for (const impl of impls) await time(impl, WARMUP);
  const samples = new Map(impls.map((impl) => [impl, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? impls : [...impls].reverse();
    for (const impl of order) samples.get(impl).push(await time(impl, ITERATIONS));
  }
  const baseline = median(samples.get(impls.find((i) => i.baseline)));
  console.log('');
  console.log(`## Payload ${size} bytes`);
  console.log('');
  console.log('| implementation | µs/request | ratio to web-push |');
  console.log('|---|---:|---:|');
  for (const impl of impls) {
    const us = median(samples.get(impl));
    console.log(`| ${impl.name} | ${us.toFixed(1)} | ${(us / baseline).toFixed(2)}× |`);
  }
}

console.log('');
console.log('Notes: pushpeer\'s buildPushRequest reuses its signed VAPID token per (origin, subject, key) — the cold path is ' +
  'roughly "encrypt only" + "vapidAuthorization only". web-push and webpush-webcrypto sign a JWT on every call. ' +
  'webpush-webcrypto produces the pre-RFC 8291 "aesgcm" coding, not aes128gcm.');
