#!/usr/bin/env bash
# `npm test`: installs what it needs, builds, then runs every suite: native (GoogleTest via ctest) and Wasm
# (node:test, release and debug flavours). Usage: run.sh [native|wasm|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
bash cmake/setup.sh
bash cmake/build.sh "$what"

status=0
if [ "$what" = native ] || [ "$what" = all ]; then
  echo "== native tests"
  ctest --test-dir build/native --output-on-failure || status=1
fi
if [ "$what" = wasm ] || [ "$what" = all ]; then
  echo "== wasm tests (node)"
  node --test --test-reporter=spec tests/node/ || status=1
fi
exit $status
