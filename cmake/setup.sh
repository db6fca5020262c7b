#!/usr/bin/env bash
# Installs what building and testing pushpeer needs on a fresh Debian machine (idempotent, quiet when done).
# Debian packages: compilers, CMake, GoogleTest, Google Benchmark, Emscripten (+ node-acorn, which its optimizer
# needs), libsodium/zlib -dev for the native build, dpkg-dev for `apt-get source`, curl for the Wycheproof fetch,
# coturn (STUN/TURN for the browser tests and the SDP capture), ccache (the fresh-clone test builds the same sources
# again: cmake/build.sh). npm: the devDependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ clang pkg-config dpkg-dev libsodium-dev zlib1g-dev libgtest-dev libbenchmark-dev
          emscripten node-acorn chromium firefox-esr curl coturn ccache)
# PUSHPEER_SETUP=build (the Pages workflow): only what building the Wasm module needs.
if [ "${PUSHPEER_SETUP:-}" = build ]; then packages=(cmake ninja-build g++ pkg-config dpkg-dev emscripten node-acorn); fi
# Headed Firefox for the tests that need a shown notification (tests/browser/e2e-closed-tab.test.mjs,
# docs/TESTING.md).
[ "${PUSHPEER_SETUP:-}" = build ] || packages+=(xvfb xauth)
# PUSHPEER_SETUP=bench (bench/run.sh): also a desktop notification service for the soak benchmark's headed Firefox
# (tests/browser/notifier.mjs).
if [ "${PUSHPEER_SETUP:-}" = bench ]; then packages+=(dunst dbus); fi
# Fuzzing (tests/fuzz): clang 14's compiler-rt (libFuzzer, ASan and UBSan runtimes) and llvm-symbolizer.
[ "${PUSHPEER_SETUP:-}" = build ] || packages+=(libclang-rt-14-dev llvm-14)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages (${missing[*]}); run as root or install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# puppeteer-core downloads nothing; this keeps it so should a full `puppeteer` ever be pulled in.
export PUPPETEER_SKIP_DOWNLOAD=1
# npm ci when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
