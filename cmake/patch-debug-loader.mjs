// Post-link step for the debug Wasm flavour only. With -sASSERTIONS, Emscripten 3.1.6's loader throws unless it
// runs in a window or a classic worker, so the debug build would not load in Node (our test runner) or in a
// module service worker. The release build has no such checks; js/core.js hands both builds their .wasm bytes
// (no environment-specific loading is used). This removes exactly those three checks and fails if any is missing.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
let text = readFileSync(file, 'utf8');
const checks = [
  'throw new Error("environment detection error");',
  /assert\(!ENVIRONMENT_IS_NODE, "node environment detected but not enabled at build time[^;]*;/,
  /assert\(!ENVIRONMENT_IS_SHELL, "shell environment detected but not enabled at build time[^;]*;/,
];
for (const check of checks) {
  const before = text;
  text = text.replace(check, '/* environment check removed by cmake/patch-debug-loader.mjs */');
  if (text === before) {
    console.error(`patch-debug-loader: pattern not found in ${file}: ${check}`);
    process.exit(1);
  }
}
writeFileSync(file, text);
