// Shared by the package tests: `npm pack` of this repository (exactly what `npm publish` would upload) and a
// throwaway consumer app that installs that tarball, as a user's project would.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../browser/server.mjs';

const run = promisify(execFile);

// `npm` from PATH, as a user runs it; nothing to ask the registry (no audit, no update check).
async function npm(args, cwd) {
  const common = ['--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error'];
  const { stdout } = await run('npm', [...args, ...common], { cwd, maxBuffer: 16 << 20 });
  return stdout;
}

/** `npm pack --dry-run --json` of the repository: [{ path, size, mode }] and the manifest npm would publish. */
export async function packDryRun() {
  const [entry] = JSON.parse(await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], repoRoot));
  return entry;
}

/** `npm pack` of the repository into `dir`; returns the tarball's path. */
export async function packInto(dir) {
  const [entry] = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], repoRoot));
  return path.join(dir, entry.filename);
}

/** Writes `files` ({ relative path: text }) under `dir` and installs the tarball there, offline (no dependencies). */
export async function createApp(dir, tarball, files) {
  await mkdir(dir, { recursive: true });
  const manifest = {
    name: 'pushpeer-consumer-app',
    private: true,
    type: 'module',
    dependencies: { pushpeer: `file:${tarball}` },
  };
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  await npm(['install', '--offline', '--ignore-scripts', '--no-package-lock'], dir);
}
