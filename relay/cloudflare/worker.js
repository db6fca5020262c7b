// Cloudflare Workers entry of the relay; wrangler.toml beside it deploys it (`npx wrangler deploy` in this folder).
// Configured by the [vars] of wrangler.toml (or the dashboard): see ../env.js. The tests run this very file in
// workerd, Cloudflare's runtime (tests/node/relay-runtimes.test.mjs).
import { createRelay } from '../relay.js';
import { relayOptionsFromEnv } from '../env.js';

let relay = null; // made at the first request: a Worker only sees its bindings (env) then

export default {
  fetch(request, env) {
    relay ??= createRelay(relayOptionsFromEnv((name) => env[name]));
    return relay(request);
  },
};
