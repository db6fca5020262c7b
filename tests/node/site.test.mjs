// Signed site versions, publisher side (docs/PROTOCOL.md §10): the core's site manifest against the document's
// vector and a forger's edits, and the command line (bin/pushpeer.mjs: keygen, publish) run as a publisher would,
// in a child process, on a folder of files.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { loadCore } from '../../js/core.js';
import { globToRegExp, publishSite, readPublisherKey, typeOf } from '../../bin/site-publish.mjs';
import { contentRoot } from './merkle-reference.mjs';

const run = promisify(execFile);
const CLI = new URL('../../bin/pushpeer.mjs', import.meta.url).pathname;
const doc = JSON.parse(await readFile(new URL('../../docs/vectors/content.json', import.meta.url), 'utf8'));

describe('site manifests (core)', () => {
  let core;
  before(async () => {
    core = await loadCore({ flavor: 'testing' });
  });

  it('the vector: the core makes its exact bytes and opens it (version, publisher, the share manifest inside)', () => {
    const m = doc.manifest;
    const keys = core.vapidKeysFromPrivate(core.base64urlDecode(m.identity_private_key));
    const files = m.files.map((f) => ({ ...f, root: Buffer.from(f.root_hex, 'hex') }));
    const bytes = core.createSiteManifest({ privateKey: keys.privateKey, version: doc.site.version,
      created: doc.site.created, title: m.title, files });
    assert.equal(core.base64urlEncode(bytes), doc.site.bytes);
    const opened = core.openSiteManifest(bytes);
    assert.equal(opened.version, 3);
    assert.equal(opened.created, doc.site.created);
    assert.deepEqual(opened.publisher, keys.publicKey);
    assert.deepEqual(opened.publisherKeyId, core.keyIdOf(keys.publicKey));
    assert.equal(Buffer.from(opened.manifest.id).toString('hex'), m.id_hex);
    assert.equal(core.base64urlEncode(opened.manifestBytes), m.bytes);
    assert.deepEqual(opened.manifest.files.map((f) => f.name), m.files.map((f) => f.name));
  });

  it('refusals: altered bytes, a share manifest alone, version 0, bad arguments, each with its code', () => {
    const bytes = core.base64urlDecode(doc.site.bytes);
    for (const at of [0, 1, 5, 9, 20, 60, 100, 138, 139, 200, bytes.length - 1]) {
      const altered = bytes.slice();
      altered[at] ^= 1;
      assert.throws(() => core.openSiteManifest(altered), (e) => ['BAD_MANIFEST', 'UNSUPPORTED_VERSION'].includes(e.code), `byte ${at}`);
    }
    assert.throws(() => core.openSiteManifest(core.base64urlDecode(doc.manifest.bytes)), { code: 'BAD_MANIFEST' });
    assert.throws(() => core.openSiteManifest(bytes.subarray(0, 139)), { code: 'BAD_MANIFEST' });
    assert.throws(() => core.openSiteManifest(new Uint8Array(200_000)), { code: 'BAD_MANIFEST' });
    assert.throws(() => core.openSiteManifest('not bytes'), { code: 'BAD_ARGUMENT' });
    const keys = core.generateVapidKeys();
    const files = [{ name: 'a.js', size: 1, type: 'text/javascript', root: new Uint8Array(32) }];
    assert.throws(() => core.createSiteManifest({ privateKey: keys.privateKey, version: 0, files }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => core.createSiteManifest({ privateKey: keys.privateKey, version: 1.5, files }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => core.createSiteManifest({ privateKey: keys.privateKey, version: 1, files: [] }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => core.createSiteManifest({ privateKey: keys.privateKey, version: 1,
      files: [{ ...files[0], name: '../x.js' }] }), { code: 'BAD_TEXT' });
    assert.equal(core.openSiteManifest(core.createSiteManifest({ privateKey: keys.privateKey, version: 2 ** 32 - 1, files }))
      .version, 2 ** 32 - 1);
  });
});

describe('pushpeer keygen / publish (bin/pushpeer.mjs)', () => {
  let core;
  let dir;
  let site;
  let keyFile;
  const assets = { 'app.js': 'console.log(1);\n', 'style.css': 'body{}', 'index.html': '<!doctype html>',
    'docs/about.htm': 'x', 'media/clip.webm': Buffer.alloc(70_000, 3), 'media/notes.map': '{}', 'data.xyz': 'q' };

  before(async () => {
    core = await loadCore();
    dir = await mkdtemp(join(tmpdir(), 'pushpeer-site-'));
    site = join(dir, 'dist');
    for (const [name, body] of Object.entries(assets)) {
      await mkdir(join(site, name, '..'), { recursive: true });
      await writeFile(join(site, name), body);
    }
    const { stdout } = await run(process.execPath, [CLI, 'keygen']);
    keyFile = join(dir, 'publisher.key');
    await writeFile(keyFile, stdout);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keygen writes a key file whose public key is its private key\'s; a broken one is BAD_KEY', async () => {
    const text = await readFile(keyFile, 'utf8');
    const keys = readPublisherKey(core, text);
    assert.equal(keys.publicKey.length, 65);
    const json = JSON.parse(text);
    assert.throws(() => readPublisherKey(core, 'nope'), { code: 'BAD_KEY' });
    assert.throws(() => readPublisherKey(core, JSON.stringify({ ...json, publicKey: core.base64urlEncode(core.generateVapidKeys().publicKey) })),
      { code: 'BAD_KEY' });
    assert.throws(() => readPublisherKey(core, JSON.stringify({ ...json, privateKey: 'AAAA' })), { code: 'BAD_KEY' });
  });

  it('publish lists every file but pages, labelled and hashed; the manifest opens; the JSON twin says the same', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'publish', site, '--key', keyFile]);
    assert.match(stdout, /version 1: 5 file\(s\)/);
    assert.match(stdout, /index\.html: not listed \(a page/);
    const opened = core.openSiteManifest(new Uint8Array(await readFile(join(site, 'pushpeer-site.bin'))));
    assert.equal(opened.version, 1);
    assert.deepEqual(opened.publisher, readPublisherKey(core, await readFile(keyFile, 'utf8')).publicKey);
    const listed = Object.fromEntries(opened.manifest.files.map((f) => [f.name, f]));
    assert.deepEqual(Object.keys(listed), ['app.js', 'data.xyz', 'media/clip.webm', 'media/notes.map', 'style.css']);
    for (const [name, f] of Object.entries(listed)) {
      const body = Buffer.from(assets[name]);
      assert.equal(f.size, body.length, name);
      assert.deepEqual(Buffer.from(f.root), Buffer.from(contentRoot(new Uint8Array(body))), `${name}: an independent BLAKE2b tree`);
    }
    assert.equal(listed['app.js'].type, 'text/javascript');
    assert.equal(listed['media/clip.webm'].type, 'video/webm');
    assert.equal(listed['data.xyz'].type, '');
    const twin = JSON.parse(await readFile(join(site, 'pushpeer-site.json'), 'utf8'));
    assert.equal(twin.version, 1);
    assert.deepEqual(twin.files.map((f) => [f.path, f.size, f.type, f.root]),
      opened.manifest.files.map((f) => [f.name, f.size, f.type, core.base64urlEncode(f.root)]));
  });

  it('the version goes up by one by default; one that goes back fails clearly; so does another key, or no key', async () => {
    const again = await run(process.execPath, [CLI, 'publish', site, '--key', keyFile, '--include', 'media/**',
      '--exclude', '*.map']);
    assert.match(again.stdout, /version 2: 1 file\(s\)/);
    const opened = core.openSiteManifest(new Uint8Array(await readFile(join(site, 'pushpeer-site.bin'))));
    assert.deepEqual(opened.manifest.files.map((f) => f.name), ['media/clip.webm']);
    await assert.rejects(run(process.execPath, [CLI, 'publish', site, '--key', keyFile, '--version', '2']),
      (e) => e.code === 1 && /VERSION_BACKWARDS: version 2 is not above the previous one \(2\)/.test(e.stderr));
    const other = join(dir, 'other.key');
    await writeFile(other, (await run(process.execPath, [CLI, 'keygen'])).stdout);
    await assert.rejects(run(process.execPath, [CLI, 'publish', site, '--key', other]),
      (e) => e.code === 1 && /WRONG_PUBLISHER/.test(e.stderr));
    await assert.rejects(run(process.execPath, [CLI, 'publish', site, '--key', join(dir, 'missing.key')]),
      (e) => e.code === 1 && /cannot read the key file/.test(e.stderr));
    await writeFile(join(dir, 'garbage.key'), 'hello');
    await assert.rejects(run(process.execPath, [CLI, 'publish', site, '--key', join(dir, 'garbage.key')]),
      (e) => e.code === 1 && /BAD_KEY/.test(e.stderr));
    await assert.rejects(run(process.execPath, [CLI, 'publish', site]), (e) => e.code === 1 && /usage/.test(e.stderr));
    // --version above, and a previous manifest kept elsewhere (a clean build): 5, then 6 from it.
    const keys = readPublisherKey(core, await readFile(keyFile, 'utf8'));
    assert.equal((await publishSite(core, site, { key: keys, version: 5 })).version, 5);
    await writeFile(join(dir, 'kept.bin'), await readFile(join(site, 'pushpeer-site.bin')));
    await rm(join(site, 'pushpeer-site.bin'));
    assert.equal((await publishSite(core, site, { key: keys, previous: join(dir, 'kept.bin') })).version, 6);
  });

  it('globs: ** any folders, * within a name, a glob without a slash anywhere; types from extensions', () => {
    assert.ok(globToRegExp('assets/**').test('assets/a/b.js'));
    assert.ok(!globToRegExp('assets/**').test('other/assets/b.js'));
    assert.ok(globToRegExp('**/*.js').test('a.js') && globToRegExp('**/*.js').test('x/y/a.js'));
    assert.ok(globToRegExp('*.map').test('deep/er/a.js.map'));
    assert.ok(!globToRegExp('a/*.js').test('a/b/c.js'));
    assert.ok(globToRegExp('img?.png').test('img1.png') && !globToRegExp('img?.png').test('img10.png'));
    assert.ok(globToRegExp('a+b(1).js').test('a+b(1).js'));
    assert.equal(typeOf('x/y.WASM'), 'application/wasm');
    assert.equal(typeOf('x.tar/readme'), '');
  });
});
