#!/usr/bin/env bash
# Builds the native tree (tests, benchmarks) into build/native and the Wasm module into build/wasm, which writes
# js/wasm/pushpeer-core{,-debug}.{mjs,wasm} where js/core.js loads them, and the libFuzzer targets (Clang,
# ASan + UBSan) into build/fuzz. Usage: build.sh [native|wasm|fuzz|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
export NODE_PATH=/usr/share/nodejs  # Debian's emcc optimizer needs acorn from there
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
# ccache, when there: the fresh-clone test (tests/fresh-clone.sh) builds the same sources again in another
# directory, and gets the objects of this build (paths below the checkout are hashed relative to it; a hit is the
# same preprocessed source with the same flags, so the clone still builds what it holds).
if command -v ccache >/dev/null; then
  gen+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CCACHE_BASEDIR=$(pwd)
  export CCACHE_BASEDIR CCACHE_NOHASHDIR=1
fi

if [ "$what" = native ] || [ "$what" = all ]; then
  cmake -S . -B build/native "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DPUSHPEER_TESTS=ON -DPUSHPEER_BENCH=ON >/dev/null
  cmake --build build/native -j"$(nproc)"
fi
if [ "$what" = wasm ] || [ "$what" = all ]; then
  emcmake cmake -S . -B build/wasm "${gen[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/wasm -j"$(nproc)"
  node cmake/bundle-classic-sw.mjs >/dev/null
fi
if [ "$what" = fuzz ] || [ "$what" = all ]; then
  # Debug keeps assert()s live; the fuzz flags add -O1 after it (CMakeLists.txt).
  CC=clang CXX=clang++ cmake -S . -B build/fuzz "${gen[@]}" -DCMAKE_BUILD_TYPE=Debug -DPUSHPEER_FUZZ=ON \
    -DPUSHPEER_TESTS=OFF -DPUSHPEER_BENCH=OFF >/dev/null
  cmake --build build/fuzz -j"$(nproc)"
fi
