// Starts the relay's deployment entries (relay/) in the runtimes they are written for, the way a person runs them,
// each on a free loopback port and configured only through its environment (relay/env.js):
//   workerd  relay/cloudflare/worker.js with the compatibility date, flags and [vars] of relay/cloudflare/wrangler.toml
//            (a Cap'n Proto config made here, since wrangler itself is not a dependency)
//   deno     deno run --allow-net --allow-env relay/deno/main.js
//   bun      bun relay/bun/main.js
//   node     node relay/node/main.js
// workerd, deno and bun are the pinned devDependencies (node_modules/.bin); one that is missing or does not run
// throws, so that a test using it fails instead of being skipped.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const RUNTIMES = Object.freeze(['workerd', 'deno', 'bun', 'node']);

const devDependencies = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).devDependencies;
const START_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 64 * 1024;

/** What `--version` prints for the pinned version of a runtime package. */
function expectedVersionText(name, version) {
  // workerd's npm versions are 1.YYYYMMDD.N; the binary names its date.
  if (name === 'workerd') return version.replace(/^1\.(\d{4})(\d{2})(\d{2})\.\d+$/, '$1-$2-$3');
  return version;
}

/** Path of a runtime's executable, checked to run and to be the pinned version. Throws otherwise. */
export function runtimeBinary(name) {
  if (name === 'node') return process.execPath;
  const version = devDependencies[name];
  if (!version) throw new Error(`${name} is not a devDependency in package.json`);
  const bin = path.join(repoRoot, 'node_modules', '.bin', name);
  if (!existsSync(bin)) {
    throw new Error(`${name} is not installed (no ${path.relative(repoRoot, bin)}): npm ci installs ${name}@${version}`);
  }
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: START_TIMEOUT_MS, env: runtimeEnv({}) });
  if (result.status !== 0) {
    throw new Error(`${bin} --version failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}`);
  }
  if (!result.stdout.includes(expectedVersionText(name, version))) {
    throw new Error(`${bin} --version printed ${JSON.stringify(result.stdout.trim())}, expected ${name}@${version}`);
  }
  return bin;
}

/** A lean environment: no colours, no update checks, nothing of the parent's RELAY_* or PORT. */
function runtimeEnv(extra, tmp) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? os.homedir(), NO_COLOR: '1', DO_NOT_TRACK: '1',
    DENO_NO_UPDATE_CHECK: '1' };
  if (tmp) env.DENO_DIR = path.join(tmp, 'deno');
  return { ...env, ...extra };
}

// --- wrangler.toml, as far as our file uses it ---

/**
 * Top-level string and string-array keys plus [vars] string values. Anything else throws: the test must not run
 * the worker differently from how the shipped file configures it without noticing.
 */
export function readWranglerToml(file) {
  const out = { vars: {} };
  let section = null;
  for (const [i, raw] of readFileSync(file, 'utf8').split('\n').entries()) {
    const line = raw.replace(/^\s+|\s+$/g, '');
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([A-Za-z0-9_.-]+)\]$/.exec(line);
    if (header) {
      if (header[1] !== 'vars') throw new Error(`${file}:${i + 1}: section [${header[1]}] is not understood by this test`);
      section = header[1];
      continue;
    }
    const m = /^([A-Za-z0-9_]+)\s*=\s*(.+?)\s*(#.*)?$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: cannot read ${JSON.stringify(line)}`);
    let value;
    try {
      value = JSON.parse(m[2]);
    } catch {
      throw new Error(`${file}:${i + 1}: only "strings" and ["string", …] values are understood here`);
    }
    const ok = typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!ok) throw new Error(`${file}:${i + 1}: only "strings" and ["string", …] values are understood here`);
    if (section === 'vars') out.vars[m[1]] = value;
    else out[m[1]] = value;
  }
  return out;
}

/** The modules a worker needs: `entry` and every file it imports statically with a relative specifier, transitively. */
function moduleGraph(entry) {
  const seen = new Set();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm),
      ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ].map((m) => m[1]);
    for (const specifier of specifiers) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
        throw new Error(`${path.relative(repoRoot, file)} imports ${specifier}: a Worker bundle here has relative imports only`);
      }
      queue.push(path.resolve(path.dirname(file), specifier));
    }
  }
  return [...seen];
}

const capnpString = (text) => JSON.stringify(text);

/** A workerd config serving the shipped worker entry, with outbound fetch allowed to loopback (the push service). */
function workerdConfig(dir, vars) {
  const wranglerDir = path.join(repoRoot, 'relay', 'cloudflare');
  const toml = readWranglerToml(path.join(wranglerDir, 'wrangler.toml'));
  if (typeof toml.main !== 'string' || typeof toml.compatibility_date !== 'string') {
    throw new Error('relay/cloudflare/wrangler.toml needs main and compatibility_date');
  }
  const main = path.resolve(wranglerDir, toml.main);
  const modules = moduleGraph(main).map((file) => {
    // Named by their path in the repository, so that relative imports resolve between them as on disk.
    const name = path.relative(repoRoot, file).split(path.sep).join('/');
    return `(name = ${capnpString(name)}, esModule = embed ${capnpString(path.relative(dir, file).split(path.sep).join('/'))})`;
  });
  const bindings = Object.entries({ ...toml.vars, ...vars })
    .map(([name, value]) => `(name = ${capnpString(name)}, text = ${capnpString(value)})`);
  const flags = (toml.compatibility_flags ?? []).map(capnpString);
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "relay", worker = .relayWorker),
    # Outbound fetch: workerd's default network allows public addresses only; the push service is on loopback.
    (name = "internet", network = (allow = ["public", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "relay")],
);

const relayWorker :Workerd.Worker = (
  modules = [
    ${modules.join(',\n    ')},
  ],
  compatibilityDate = ${capnpString(toml.compatibility_date)},
  compatibilityFlags = [${flags.join(', ')}],
  bindings = [
    ${bindings.join(',\n    ')},
  ],
  globalOutbound = "internet",
);
`;
}

// --- processes ---

const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts `runtime`'s entry with `vars` (RELAY_* variables). Resolves to { runtime, url, output(), close() } once it
 * listens; rejects when the runtime is missing, exits, or does not listen within 30 s.
 */
export async function startRelay(runtime, vars) {
  if (!RUNTIMES.includes(runtime)) throw new Error(`unknown runtime ${runtime}`);
  const bin = runtimeBinary(runtime);
  const tmp = mkdtempSync(path.join(os.tmpdir(), `pushpeer-relay-${runtime}-`));
  let args;
  let env = runtimeEnv({ ...vars, PORT: '0', HOST: '127.0.0.1' }, tmp);
  const stdio = ['ignore', 'pipe', 'pipe'];
  if (runtime === 'workerd') {
    const config = path.join(tmp, 'relay.capnp');
    writeFileSync(config, workerdConfig(tmp, vars));
    args = ['serve', config, '--control-fd=3'];
    env = runtimeEnv({}, tmp); // a Worker sees its bindings, not the process environment
    stdio.push('pipe');
  } else if (runtime === 'deno') {
    args = ['run', '--allow-net', '--allow-env', '--no-prompt', '--no-lock', 'relay/deno/main.js'];
  } else {
    args = [`relay/${runtime}/main.js`];
  }

  // Its own process group, so that close() also ends anything the runtime started.
  const child = spawn(bin, args, { cwd: repoRoot, env, stdio, detached: true });
  running.add(child);
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    running.delete(child);
    resolve({ code, signal });
  }));

  const close = async () => {
    if (running.has(child)) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(tmp, { recursive: true, force: true });
  };

  const listening = new Promise((resolve) => {
    if (runtime === 'workerd') {
      // --control-fd: one JSON line per socket once it listens, {"event":"listen","socket":"http","port":N}.
      let control = '';
      child.stdio[3].on('data', (chunk) => {
        control += chunk.toString();
        const m = /"event":"listen","socket":"http","port":(\d+)/.exec(control);
        if (m) resolve(`http://127.0.0.1:${m[1]}`);
      });
    } else {
      let text = '';
      child.stdout.on('data', (chunk) => {
        text += chunk.toString();
        const m = /pushpeer relay listening on (http:\/\/[^\s/]+)/.exec(text);
        if (m) resolve(m[1]);
      });
    }
  });
  let timer;
  const outcome = await Promise.race([
    listening.then((url) => ({ url })),
    exited.then(({ code, signal }) => ({ error: `exited (${signal ?? `code ${code}`}) before listening` })),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve({ error: `did not listen within ${START_TIMEOUT_MS} ms` }), START_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome.error) {
    await close();
    throw new Error(`${runtime} (${bin} ${args.join(' ')}) ${outcome.error}:\n${output}`);
  }
  return { runtime, url: outcome.url, output: () => output, close };
}
