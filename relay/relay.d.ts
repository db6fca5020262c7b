// Types for relay/relay.js: a stateless Web Push relay for push services that do not answer CORS (FCM, WNS, Apple).

export { PushPeerError } from '../js/core.js';

/**
 * `error` of the JSON body, and value of the `X-Push-Relay-Error` header, of an answer made by the relay itself
 * (an answer from the push service never carries that header).
 */
export type RelayErrorCode =
  | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'ORIGIN_NOT_ALLOWED'
  /** 400: X-Push-Endpoint missing, not an absolute http(s) URL, or with credentials or a fragment. */
  | 'BAD_ENDPOINT'
  /** 403: not a known push service (nor in allowHosts), or http to a host that is not a listed loopback origin. */
  | 'HOST_NOT_ALLOWED'
  /** 400: missing, or not `vapid t=<jwt>, k=<key>` (RFC 8292). */
  | 'BAD_AUTHORIZATION'
  /** 400: missing, or not an integer in [0, 2419200]. */
  | 'BAD_TTL'
  /** 400: not aes128gcm, or missing while there is a body. */
  | 'BAD_CONTENT_ENCODING'
  | 'BAD_CONTENT_TYPE'
  /** 400: not very-low, low, normal or high. */
  | 'BAD_URGENCY'
  /** 400: not 1 to 32 base64url characters. */
  | 'BAD_TOPIC'
  /** 413: body over 4096 bytes (nothing was forwarded). */
  | 'PAYLOAD_TOO_LARGE'
  /** 408: the body did not arrive within bodyTimeoutMs (a slow or stalled client; nothing was forwarded). */
  | 'BODY_TIMEOUT'
  /** 400 (431 for a head over Node's limit): serveRelayNode could not parse the request. */
  | 'BAD_REQUEST'
  | 'BAD_REQUEST_BODY'
  /**
   * 408, serveRelayNode: the request head did not arrive within headersTimeoutMs, or the whole request within
   * requestTimeoutMs; the connection is closed.
   */
  | 'REQUEST_TIMEOUT'
  /**
   * 429 with Retry-After, serveRelayNode: the client's address already holds maxConnectionsPerClient connections;
   * answered as soon as the connection opens (before the request is read, so it grants CORS only when allowOrigins
   * is '*'), then closed.
   */
  | 'TOO_MANY_CONNECTIONS'
  /** 504: no answer within timeoutMs. */
  | 'UPSTREAM_TIMEOUT'
  /** 502: DNS, connection or TLS failure. */
  | 'UPSTREAM_UNREACHABLE'
  | 'BAD_UPSTREAM_RESPONSE'
  | 'INTERNAL';

/** JSON body of a relay-made answer. */
export interface RelayErrorBody {
  error: RelayErrorCode;
  message: string;
}

/** What options.log receives: never the endpoint's path, the body or Authorization. */
export interface RelayLogEntry {
  method: string;
  /** host[:port] of the target push service, null when the request had no usable endpoint. */
  host: string | null;
  status: number;
  durationMs: number;
}

export interface RelayOptions {
  /**
   * More push-service hosts, exactly: 'push.example:8443' (https), or origins 'https://push.example' and, for loopback
   * hosts only, 'http://127.0.0.1:8080' (tests, a local push server). Throws BAD_ARGUMENT for http elsewhere.
   */
  allowHosts?: string[];
  /** Also allow the known push services (DEFAULT_PUSH_HOSTS). Default true. */
  defaultHosts?: boolean;
  /**
   * '*' (default) or the origins of the pages that may use the relay: a listed Origin is echoed with Vary: Origin,
   * another gets 403 ORIGIN_NOT_ALLOWED (nothing forwarded); requests without Origin (not from a browser) pass.
   */
  allowOrigins?: '*' | string[];
  /** Upstream deadline, including reading its answer, in ms (at most 2^31 - 1). Default 10000. */
  timeoutMs?: number;
  /**
   * Deadline for receiving the whole body, from when the relay starts reading it, in ms (at most 2^31 - 1); then
   * 408 BODY_TIMEOUT. Default 5000. With timeoutMs it bounds a request: at most bodyTimeoutMs + timeoutMs.
   */
  bodyTimeoutMs?: number;
  /** Access-Control-Max-Age of the preflight, seconds. Default 7200. */
  maxAge?: number;
  /** Path of the relay. Default '/push'. */
  path?: string;
  /** Default globalThis.fetch. Called with redirect: 'manual' and an AbortSignal. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Called once per request, after the answer is made; exceptions are ignored. */
  log?: (entry: RelayLogEntry) => void;
}

/** A standard fetch handler (Cloudflare Workers, Deno.serve, Bun.serve; Node via serveRelayNode). Never rejects. */
export type RelayHandler = (request: Request) => Promise<Response>;

/**
 * The relay. Clients send `POST {relay}/push` with `X-Push-Endpoint: <endpoint URL>`, the push headers
 * (Authorization, TTL required; Content-Encoding: aes128gcm with a body; Content-Type, Urgency, Topic optional) and
 * at most 4096 bytes of body. Throws PushPeerError('BAD_ARGUMENT') for bad options.
 */
export function createRelay(options?: RelayOptions): RelayHandler;

export interface NodeRelayOptions extends RelayOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** The request head (request line and headers) must arrive within this many ms. Default 10000. */
  headersTimeoutMs?: number;
  /**
   * The whole request, head and body, must arrive within this many ms (at least headersTimeoutMs). Default
   * headersTimeoutMs + bodyTimeoutMs.
   */
  requestTimeoutMs?: number;
  /**
   * Open connections one client address may hold (an IPv4 client of a dual-stack server counts as IPv4); more are
   * answered 429 TOO_MANY_CONNECTIONS and closed. Default 16. Behind a reverse proxy every client has the proxy's
   * address: use Infinity there and cap at the proxy.
   */
  maxConnectionsPerClient?: number;
}

export interface NodeRelay {
  /** Origin of the relay, e.g. 'http://127.0.0.1:8787'; POST to `${url}/push` (or options.path). */
  url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves createRelay(options) with node:http (tests, local use). Resolves once listening. Throws
 * PushPeerError('BAD_ARGUMENT') for bad options.
 */
export function serveRelayNode(options?: NodeRelayOptions): Promise<NodeRelay>;

/** Authorization, Content-Encoding, Content-Type, TTL, Urgency, Topic. */
export const FORWARDED_REQUEST_HEADERS: readonly string[];
/** Location, Retry-After, Link, Content-Type. */
export const FORWARDED_RESPONSE_HEADERS: readonly string[];
/** Known push-service hosts; '*.' matches exactly one DNS label. */
export const DEFAULT_PUSH_HOSTS: readonly string[];
