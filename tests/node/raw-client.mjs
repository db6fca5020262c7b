// An HTTP/1.1 client on a raw socket, for what fetch and node:http will not do: stop in the middle of the request
// head or body and wait (a slow client), or connect from another loopback address (127.0.0.2) than 127.0.0.1.
import net from 'node:net';

/**
 * Connects to `url` (an http origin) from `localAddress`, writes `head` (the request line and header lines; a string
 * that need not end the head) and then `body` bytes, and waits. Returns:
 *   answer  resolves to { status, headers (Headers), body (string) } once a whole response has arrived, or to null
 *           when the connection closes without one;
 *   closed  resolves when the connection is closed (by either side);
 *   socket  to write more or destroy it.
 * Rejects `connected` when the connection cannot be made.
 */
export function rawRequest(url, { localAddress = '127.0.0.1', head, body = '' }) {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port), localAddress });
  let raw = Buffer.alloc(0);
  let settle;
  const answer = new Promise((resolve) => {
    settle = resolve;
  });
  const connected = new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  connected.catch(() => {});
  socket.on('error', () => {}); // a reset after the answer is the server cutting us off: `closed` tells
  socket.once('connect', () => {
    socket.write(head);
    if (body.length > 0) socket.write(body);
  });
  socket.on('data', (chunk) => {
    raw = Buffer.concat([raw, chunk]);
    const response = parseResponse(raw);
    if (response) settle(response);
  });
  const closed = new Promise((resolve) => socket.once('close', () => {
    settle(null);
    resolve();
  }));
  return { socket, connected, answer, closed };
}

/** The first complete response in `raw` (Content-Length framed, or none), or null when more is needed. */
function parseResponse(raw) {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...fields] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers = new Headers();
  for (const field of fields) {
    const colon = field.indexOf(':');
    headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
  }
  const length = Number(headers.get('content-length') ?? 0);
  if (raw.length < end + 4 + length) return null;
  return { status, headers, body: raw.subarray(end + 4, end + 4 + length).toString('utf8') };
}

/** A POST request head for `path` with `headers` (an object), ending with the blank line. */
export function requestHead(url, path, headers) {
  const lines = [`POST ${path} HTTP/1.1`, `Host: ${new URL(url).host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
