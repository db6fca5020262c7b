// The publisher's side of signed site versions (docs/PROTOCOL.md §10, README "Serve your site from its visitors"):
// a key file, and the site manifest of a built site's folder. Node only (files); the signing and hashing are the
// Wasm core's, as in the browser. bin/pushpeer.mjs is the command line around it.
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';

import { PushPeerError } from '../js/errors.js';
import { isPage } from '../js/site/site-files.js';

export const SITE_FILE = 'pushpeer-site.bin';
export const SITE_JSON = 'pushpeer-site.json';
const KEY_TYPE = 'pushpeer-publisher-key';
const READ_CHUNK = 1 << 20;

const TYPES = {
  js: 'text/javascript', mjs: 'text/javascript', css: 'text/css', json: 'application/json', map: 'application/json',
  wasm: 'application/wasm', txt: 'text/plain', xml: 'application/xml', pdf: 'application/pdf',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif',
  svg: 'image/svg+xml', ico: 'image/x-icon', woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf',
  mp4: 'video/mp4', webm: 'video/webm', ogv: 'video/ogg', mp3: 'audio/mpeg', ogg: 'audio/ogg', oga: 'audio/ogg',
  wav: 'audio/wav', flac: 'audio/flac', m4a: 'audio/mp4', zip: 'application/zip', bin: 'application/octet-stream',
};

/** The MIME type we label a file with, from its extension ('' when we do not know it). */
export function typeOf(path) {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? TYPES[path.slice(dot + 1).toLowerCase()] ?? '' : '';
}

/** A glob ('**' any path, '*' any name part, '?' one character) as a RegExp over '/'-separated relative paths. */
export function globToRegExp(glob) {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // '**/' matches any folders (none included); '**' at the end anything
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A glob without a slash names a file anywhere (as .gitignore does): '*.html' is '**/*.html'.
  return new RegExp(glob.includes('/') ? `^${out}$` : `^(?:.*/)?${out}$`);
}

/** A new publisher key: the JSON text of a key file ({ type, publicKey, privateKey }, base64url). */
export function generatePublisherKey(core) {
  const { publicKey, privateKey } = core.generateVapidKeys();
  return `${JSON.stringify({ type: KEY_TYPE, version: 1, publicKey: core.base64urlEncode(publicKey),
    privateKey: core.base64urlEncode(privateKey) }, null, 2)}\n`;
}

/** A key file's keys; BAD_KEY for anything that is not one (its public key must be its private key's). */
export function readPublisherKey(core, text) {
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PushPeerError('BAD_KEY', 'the key file is not JSON (make one with: pushpeer keygen > publisher.key)');
  }
  if (json?.type !== KEY_TYPE || json.version !== 1 || typeof json.privateKey !== 'string') {
    throw new PushPeerError('BAD_KEY', `not a ${KEY_TYPE} file (version 1)`);
  }
  let keys;
  try {
    keys = core.vapidKeysFromPrivate(core.base64urlDecode(json.privateKey));
  } catch (error) {
    throw new PushPeerError('BAD_KEY', `the key file's private key is not a P-256 key: ${error.message}`);
  }
  if (core.base64urlEncode(keys.publicKey) !== json.publicKey) {
    throw new PushPeerError('BAD_KEY', 'the key file\'s public key is not its private key\'s');
  }
  return keys;
}

/** Every file under `dir`, as '/'-separated paths relative to it, in code-point order. */
async function walk(dir, root = dir, out = []) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, root, out);
    else if (entry.isFile()) out.push(relative(root, path).split(sep).join('/'));
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The merkle root of a file (docs/PROTOCOL.md §9.1), read in 1 MiB chunks: never the whole file in memory. */
async function rootOf(core, path) {
  const hasher = core.contentHasher();
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) hasher.update(chunk);
    return hasher.finish();
  } finally {
    hasher.release();
  }
}

/** The site manifest in `dir` (or at `path`) opened, or null when there is none. */
async function previousManifest(core, path) {
  let bytes;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
  return core.openSiteManifest(new Uint8Array(bytes));
}

/**
 * Writes the site manifest of `dir` (pushpeer-site.bin and its readable twin, pushpeer-site.json): the files that
 * `include` globs name (default every file) and `exclude` globs do not, never a page (.html) or the manifest
 * itself; `version` (default: the previous manifest's + 1, from `previous` or the one in `dir`; 1 with none). A
 * version that is not above the previous one is VERSION_BACKWARDS; a previous manifest signed by another key is
 * WRONG_PUBLISHER. Resolves to { version, files: [{ name, size, type, root }], skipped, bytes, path }.
 */
export async function publishSite(core, dir, { key, include = ['**'], exclude = [], version, previous, title,
  now = Math.floor(Date.now() / 1000) } = {}) {
  if (!(await stat(dir)).isDirectory()) throw new PushPeerError('BAD_ARGUMENT', `${dir} is not a folder`);
  const keys = typeof key === 'string' ? readPublisherKey(core, key) : key;
  const before = await previousManifest(core, previous ?? join(dir, SITE_FILE));
  if (before && core.base64urlEncode(before.publisher) !== core.base64urlEncode(keys.publicKey)) {
    throw new PushPeerError('WRONG_PUBLISHER', 'the previous site manifest was signed by another publisher key');
  }
  const next = version ?? (before ? before.version + 1 : 1);
  if (!Number.isInteger(next) || next < 1 || next > 0xffffffff) throw new PushPeerError('BAD_ARGUMENT', `version ${version}: a whole number from 1`);
  if (before && next <= before.version) {
    throw new PushPeerError('VERSION_BACKWARDS', `version ${next} is not above the previous one (${before.version}): visitors would refuse it`);
  }
  const includes = include.map(globToRegExp);
  const excludes = exclude.map(globToRegExp);
  const files = [];
  const skipped = [];
  for (const name of await walk(dir)) {
    // Never listed, whatever --include says: the manifest itself (in any folder), and pages.
    if ([SITE_FILE, SITE_JSON].includes(name.slice(name.lastIndexOf('/') + 1))) continue;
    if (isPage(name)) {
      skipped.push({ name, why: 'a page: always from the origin' });
      continue;
    }
    if (!includes.some((re) => re.test(name)) || excludes.some((re) => re.test(name))) {
      skipped.push({ name, why: 'not included' });
      continue;
    }
    const { root, size } = await rootOf(core, join(dir, name));
    files.push({ name, size, type: typeOf(name), root });
  }
  if (!files.length) throw new PushPeerError('BAD_ARGUMENT', 'no file to list: check --include and --exclude');
  const bytes = core.createSiteManifest({ privateKey: keys.privateKey, version: next, created: now,
    title: title ?? basename(dir), files });
  const path = join(dir, SITE_FILE);
  await writeFile(path, bytes);
  await writeFile(join(dir, SITE_JSON), `${JSON.stringify({ version: next, created: now,
    publisher: core.base64urlEncode(keys.publicKey), files: files.map((f) => ({ path: f.name, size: f.size,
      type: f.type, root: core.base64urlEncode(f.root) })) }, null, 2)}\n`);
  return { version: next, files, skipped, bytes, path };
}
