#!/usr/bin/env bash
# `npm test`: installs what it needs, builds, then runs every suite: native (GoogleTest via ctest), Wasm
# (node:test, release and debug flavours, and the relay's entries in workerd, Deno, Bun and Node, the first three
# installed by npm ci as devDependencies: tests/node/relay-runtimes.test.mjs), real browsers (headless Chromium and
# Firefox ESR under puppeteer-core, node:test), and the libFuzzer targets for a few seconds each (tests/fuzz).
# Usage: run.sh [native|wasm|browser|fuzz|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
bash cmake/setup.sh
# The browser stage needs the Wasm module (pages load js/core.js).
if [ "$what" = browser ]; then bash cmake/build.sh wasm; else bash cmake/build.sh "$what"; fi

status=0
if [ "$what" = native ] || [ "$what" = all ]; then
  echo "== native tests"
  ctest --test-dir build/native --output-on-failure || status=1
fi
if [ "$what" = wasm ] || [ "$what" = all ]; then
  echo "== wasm tests (node)"
  node --test --test-reporter=spec tests/node/ tests/push-service/ || status=1
  echo "== types (tsc --noEmit over the package's exports)"
  node node_modules/typescript/bin/tsc -p tests/types || status=1
fi
if [ "$what" = browser ] || [ "$what" = all ]; then
  echo "== browser tests (chromium, firefox-esr)"
  # One file at a time: each file launches its own browsers and 2 cores are all there is.
  node --test --test-concurrency=1 --test-reporter=spec tests/browser/ || status=1
  echo "== package (npm pack contents; a Vite app bundles it and runs it in Chromium)"
  node --test --test-concurrency=1 --test-reporter=spec tests/package/ || status=1
fi
if [ "$what" = fuzz ] || [ "$what" = all ]; then
  # Each target on a temporary copy of its seed corpus, two at a time: ~45 s. Longer: PUSHPEER_FUZZ_SECONDS.
  echo "== fuzz (libFuzzer, ASan + UBSan)"
  bash tests/fuzz/run.sh "${PUSHPEER_FUZZ_SECONDS:-15}" || status=1
fi
exit $status
