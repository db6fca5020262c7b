// A tiny static HTTP server for the browser tests (node:http, no dependencies). It serves the repository root on
// 127.0.0.1 with a free port; pages are opened as http://localhost:PORT/..., which browsers treat as a secure
// context (service workers, push, getUserMedia, WebCrypto).
//
//   const server = await startServer();          // { port, origin: 'http://localhost:PORT', url(path), close() }
//   node tests/browser/server.mjs [port]         // by hand: serve the repo until Ctrl-C
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.sdp': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export function mimeType(file) {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function send(res, status, text, extra = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : `${text}\n`);
}

/** Maps a request path to a file inside `rootReal`, or returns null (404/403 decided by the caller). */
async function resolveFile(rootReal, rawPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { status: 400 };
  }
  // No NULs, no backslashes (never valid in our URLs, and a way around '/'-based checks), no '..' segments at all.
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400 };
  if (decoded.split('/').some((seg) => seg === '..')) return { status: 403 };
  let file = path.join(rootReal, path.normalize(decoded));
  if (file !== rootReal && !file.startsWith(rootReal + path.sep)) return { status: 403 };
  let info;
  try {
    info = await stat(file);
    if (info.isDirectory()) {
      file = path.join(file, 'index.html');
      info = await stat(file);
    }
  } catch {
    return { status: 404 };
  }
  if (!info.isFile()) return { status: 404 };
  // Symlinks must not lead out of the root either.
  const real = await realpath(file);
  if (real !== rootReal && !real.startsWith(rootReal + path.sep)) return { status: 403 };
  return { status: 200, file: real, size: info.size };
}

/**
 * Starts the server. Options: root (default: the repository), port (default 0 = any free port), host (default
 * 127.0.0.1; the origin always says localhost so that pages are secure contexts), log (function for each request).
 */
export async function startServer({ root = repoRoot, port = 0, host = '127.0.0.1', log = null } = {}) {
  const rootReal = await realpath(root);
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
        return;
      }
      const url = new URL(req.url, 'http://localhost');
      const found = await resolveFile(rootReal, url.pathname);
      log?.(`${req.method} ${url.pathname} ${found.status}`);
      if (found.status !== 200) {
        send(res, found.status, { 400: 'bad request', 403: 'forbidden', 404: 'not found' }[found.status]);
        return;
      }
      res.writeHead(200, {
        'Content-Type': mimeType(found.file),
        'Content-Length': found.size,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const stream = createReadStream(found.file);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    } catch (error) {
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
      log?.(`error: ${error?.message ?? error}`);
    }
  });
  // Browsers keep connections alive; do not let them hold close() up.
  server.keepAliveTimeout = 2000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const origin = `http://localhost:${actualPort}`;
  return {
    server,
    port: actualPort,
    origin,
    url: (p = '/') => new URL(p, origin).href,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const s = await startServer({ port: Number(process.argv[2] ?? 0), log: (line) => console.log(line) });
  console.log(`serving ${repoRoot} at ${s.origin}/`);
}
