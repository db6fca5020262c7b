#!/usr/bin/env bash
# `npm test`: installs what it needs, builds, then runs every suite: native (GoogleTest via ctest), Wasm
# (node:test, release, testing and debug flavours, and the relay's entries in workerd, Deno, Bun and Node, the first
# three installed by npm ci as devDependencies: tests/node/relay-runtimes.test.mjs), real browsers (headless Chromium
# and Firefox ESR under puppeteer-core, node:test), the libFuzzer targets for a few seconds each (tests/fuzz), and
# the fresh-clone check (tests/fresh-clone.sh: a clone with nothing beside it passes the native and Wasm stages).
# Wycheproof vectors are fetched first (cmake/fetch-wycheproof.sh): from $PUSHPEER_WYCHEPROOF_DIR, a local mirror,
# else upstream; if neither has them their tests are skipped, with the reason, and the last line here says so.
# Usage: run.sh [native|wasm|browser|fuzz|clone|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
bash cmake/setup.sh
# The browser stage needs the Wasm module (pages load js/core.js); the clone stage builds in its own clone.
case "$what" in
  browser) bash cmake/build.sh wasm ;;
  clone) ;;
  *) bash cmake/build.sh "$what" ;;
esac

status=0
wycheproof=""
if [ "$what" = native ] || [ "$what" = wasm ] || [ "$what" = all ]; then
  wycheproof=$(bash cmake/fetch-wycheproof.sh build/wycheproof)
  echo "$wycheproof"
fi
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
  # Each target on a temporary copy of its seed corpus, two at a time: ~80 s. Longer: PUSHPEER_FUZZ_SECONDS.
  echo "== fuzz (libFuzzer, ASan + UBSan)"
  bash tests/fuzz/run.sh "${PUSHPEER_FUZZ_SECONDS:-15}" || status=1
fi
if [ "$what" = clone ] || [ "$what" = all ]; then
  echo "== fresh clone (nothing beside it, no Wycheproof mirror): native and Wasm stages"
  bash tests/fresh-clone.sh || status=1
fi
# The summary names what was not run and why (skipped Wycheproof tests must not look like passing ones).
if [ -n "$wycheproof" ]; then echo "== $wycheproof"; fi
exit $status
