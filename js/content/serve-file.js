// A shared file as an HTTP response, for a service worker (sw/handler.js) to answer a URL with (docs/API.md, "Share
// by link": download.url(file)): the bytes of verified pieces only, read from the content store, with range
// requests, so that a <video> or <audio> plays a share while it downloads. A piece not stored yet is waited for
// (the page stores it as it is verified) up to WAIT_MS a piece; then the response ends with an error.
//
// The bytes are someone else's: whatever the manifest says, nothing served here may run in our origin. Media,
// images other than SVG, and plain text keep their type; anything else is application/octet-stream, an
// attachment. Every response is sandboxed (CSP sandbox, default-src 'none') and nosniff.
import { PIECE_LEAVES } from './content-store.js';

const LEAF = 16384;
const PIECE = PIECE_LEAVES * LEAF;
const WAIT_MS = 60_000;
const POLL_MS = 100;

/** The path a file of a share is served at, below the worker's scope. */
export const sharePath = (id, file) => `pushpeer-share/${id}/${file}`;
const PATH = /\/pushpeer-share\/([A-Za-z0-9_-]{43})\/(\d{1,4})$/;

/**
 * The type a page may render a shared file as: the essence of a media, raster image or plain text type (parameters
 * dropped: a comma in them would make a browser read another type); null for anything else, served as a download.
 */
export function safeType(type) {
  const essence = String(type).split(';')[0].trim().toLowerCase();
  if (/^(video|audio)\/[\w.+-]+$/.test(essence)) return essence;
  if (/^image\/[\w.+-]+$/.test(essence) && essence !== 'image/svg+xml') return essence;
  if (essence === 'text/plain') return 'text/plain; charset=utf-8';
  return null;
}

/**
 * The headers of someone else's file: its type only when safeType() allows it (else a download), sandboxed, never
 * sniffed or cached. (A site's own files, signed by its publisher, are served as they are listed: js/site/.)
 */
function sandboxed(f) {
  const type = safeType(f.type);
  const headers = {
    'Content-Type': type ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Content-Security-Policy': "sandbox; default-src 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
  if (!type) headers['Content-Disposition'] = 'attachment';
  return headers;
}

/** { id, file } when `url` is a share file's URL, else null. */
export function matchShareUrl(url) {
  const m = PATH.exec(new URL(url).pathname);
  return m ? { id: m[1], file: Number(m[2]) } : null;
}

function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start;
  let end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start <= end && start < size ? { start, end } : 'unsatisfiable';
}

async function pieceWhenStored(store, key, index, deadline, wanted) {
  for (let asked = false; ; asked = true) {
    const bytes = await store.pieceBytes(key, index);
    if (bytes) return bytes;
    if (!asked) wanted(index);
    if (Date.now() >= deadline) throw new Error(`piece ${index} did not arrive in time`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The response to a GET of a share file's URL (`request`), from `store` (js/content/content-store.js). `wanted(piece)`
 * is called for a piece the response waits for: the page's download fetches it next (a player reading the end of a
 * file for its index, or seeking, need not wait for everything before). `waitMs`: how long a piece is waited for
 * (0: a piece not stored ends the response at once, for files that are whole or nothing: a site's).
 */
export async function serveSharedFile(store, request, { id, file }, { wanted = () => {}, headersFor = sandboxed,
  waitMs = WAIT_MS } = {}) {
  const share = await store.getShare(id);
  const f = share?.files[file];
  if (!f) return new Response('not shared here', { status: 404 });
  const headers = headersFor(f);
  const range = parseRange(request.headers.get('Range'), f.size);
  if (range === 'unsatisfiable') {
    return new Response(null, { status: 416, headers: { ...headers, 'Content-Range': `bytes */${f.size}` } });
  }
  const { start, end } = range ?? { start: 0, end: f.size - 1 };
  let at = start;
  const body = f.size === 0 ? null : new ReadableStream({
    async pull(controller) {
      try {
        const index = Math.floor(at / PIECE);
        // Each piece may take WAIT_MS: playback that catches up with the download waits for it, not for the whole.
        const piece = await pieceWhenStored(store, f.key, index, Date.now() + waitMs, (p) => wanted({ id, file, piece: p }));
        const from = at - index * PIECE;
        const to = Math.min(piece.length, end + 1 - index * PIECE);
        controller.enqueue(piece.slice(from, to));
        at = index * PIECE + to;
        if (at > end) controller.close();
      } catch (error) {
        controller.error(error);
      }
    },
  }, { highWaterMark: 0 });
  const length = f.size === 0 ? 0 : end - start + 1;
  if (range) {
    return new Response(body, { status: 206, headers: { ...headers, 'Content-Length': String(length),
      'Content-Range': `bytes ${start}-${end}/${f.size}` } });
  }
  return new Response(body, { status: 200, headers: { ...headers, 'Content-Length': String(length) } });
}
