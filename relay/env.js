// Relay options from environment variables, shared by every deployment entry in this folder (Cloudflare's [vars],
// Deno.env, Bun.env, process.env), so that each platform is configured the same way:
//
//   RELAY_ALLOW_ORIGINS    '*' (the default) or the origins of the app's pages, separated by commas or spaces
//   RELAY_ALLOW_HOSTS      more push-service hosts than the known ones (createRelay's allowHosts), same separators
//   RELAY_TIMEOUT_MS       deadline for the push service's answer (default 10000)
//   RELAY_BODY_TIMEOUT_MS  deadline for reading the client's body (default 5000)
// and for the Node entry (serveRelayNode) only:
//   RELAY_MAX_CONNECTIONS_PER_CLIENT  open connections one client address may hold (default 16; 0: no cap, for a
//                                     relay behind a proxy, where every client has the proxy's address)
//
// An unset or empty variable keeps createRelay's default. A value that is not valid throws PushPeerError
// BAD_ARGUMENT naming the variable, so a misconfigured deployment fails at its first request, not quietly.
import { PushPeerError } from './relay.js';

function list(text) {
  return text.split(/[\s,]+/).filter((item) => item.length > 0);
}

function milliseconds(name, text) {
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) === 0) {
    throw new PushPeerError('BAD_ARGUMENT', `${name} must be a positive integer (milliseconds), got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** A variable's text, trimmed ('' when unset). */
function readVariable(get, name) {
  const value = get(name);
  return value === undefined || value === null ? '' : String(value).trim();
}

/**
 * createRelay options from `get(name)`, which returns a variable's text or undefined. Returns only the options that
 * are set.
 */
export function relayOptionsFromEnv(get) {
  const read = (name) => readVariable(get, name);
  const options = {};
  const origins = read('RELAY_ALLOW_ORIGINS');
  if (origins !== '') options.allowOrigins = origins === '*' ? '*' : list(origins);
  const hosts = read('RELAY_ALLOW_HOSTS');
  if (hosts !== '') options.allowHosts = list(hosts);
  const timeout = read('RELAY_TIMEOUT_MS');
  if (timeout !== '') options.timeoutMs = milliseconds('RELAY_TIMEOUT_MS', timeout);
  const bodyTimeout = read('RELAY_BODY_TIMEOUT_MS');
  if (bodyTimeout !== '') options.bodyTimeoutMs = milliseconds('RELAY_BODY_TIMEOUT_MS', bodyTimeout);
  return options;
}

/** relayOptionsFromEnv plus serveRelayNode's own options. */
export function nodeRelayOptionsFromEnv(get) {
  const options = relayOptionsFromEnv(get);
  const cap = readVariable(get, 'RELAY_MAX_CONNECTIONS_PER_CLIENT');
  if (cap !== '') {
    if (!/^[0-9]{1,9}$/.test(cap)) {
      throw new PushPeerError('BAD_ARGUMENT', `RELAY_MAX_CONNECTIONS_PER_CLIENT must be a whole number (0: no cap), got ${JSON.stringify(cap)}`);
    }
    options.maxConnectionsPerClient = Number(cap) === 0 ? Infinity : Number(cap);
  }
  return options;
}
