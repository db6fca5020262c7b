#!/usr/bin/env bash
# `npm run bench`: builds, runs every benchmark and writes bench/RESULTS.md (figures with the commands that made
# them). Benchmarks inform; one asserts: bench/browser/groups.mjs fails when a newcomer costs anything but two pushes.
set -euo pipefail
cd "$(dirname "$0")/.."
PUSHPEER_SETUP=bench bash cmake/setup.sh
bash cmake/build.sh >/dev/null
# The release module again with function names, for the size breakdown (bench/sizes.mjs).
NODE_PATH=/usr/share/nodejs emcmake cmake -S . -B build/wasm-names -DCMAKE_BUILD_TYPE=Release -DPUSHPEER_WASM_NAMES=ON \
  -DPUSHPEER_WASM_OUT="$PWD/build/wasm-names/out" >/dev/null
NODE_PATH=/usr/share/nodejs cmake --build build/wasm-names --target pushpeer-core >/dev/null

out=bench/RESULTS.md
native_cmd="build/native/bench/native/pushpeer_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_min_time=0.2"
node_cmd="node bench/node/push-request.mjs --iterations 2000 --batch 20"
sizes_cmd="node bench/sizes.mjs"
sdp_cmd="node bench/node/sdp-sizes.mjs"
connect_cmd="node bench/browser/connect.mjs --runs 20"
dtls_cmd="node bench/browser/dtls-roles.mjs --runs 20"
intro_cmd="node bench/browser/introductions.mjs --runs 20"
groups_cmd="node bench/browser/groups.mjs --rounds 10"
groups_sim_cmd="node --max-old-space-size=12000 bench/sim/groups.mjs --sizes 10,100,1000,10000 --seed 1"
soak_cmd="node bench/browser/soak.mjs --calls 1000"
swarm_sim_cmd="node bench/sim/swarm.mjs --sizes 10,100,1000 --svg bench/sim/swarm.svg"
swarm_flash_cmd="node bench/sim/swarm.mjs --sizes 10,100,1000 --join-s 0 --leave 0 --svg bench/sim/swarm-flash-crowd.svg"
share_cmd="node bench/browser/share.mjs --mib 256 --memory-mib 1024 --hash-mib 256"
site_cmd="node bench/browser/site.mjs --kib 100 --requests 200"
site_visitors_cmd="node bench/browser/site-visitors.mjs --mib 20 --visitors 5"

{
  echo "# Benchmark results"
  echo
  echo "Written by \`npm run bench\` (bench/run.sh) on $(date -u +%Y-%m-%d): $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
  echo "Node $(node --version), emcc $(NODE_PATH=/usr/share/nodejs emcc --version 2>/dev/null | head -1 | grep -o '[0-9]*\.[0-9]*\.[0-9]*' | head -1), g++ $(g++ -dumpfullversion)."
  echo "These machines share their host: timings move by tens of percent from one minute to the next, so compare"
  echo "rows measured together (same table), not numbers across runs."
  echo
  echo "## Web Push request: pushpeer (Wasm) beside web-push and webpush-webcrypto, one Node process"
  echo
  echo "\`$node_cmd\`"
  echo
  $node_cmd | sed '1,2d; s/^## /### /'
  echo
  echo "Reading these rows: a pushpeer request is two P-256 scalar multiplications (the ephemeral key k*G and the"
  echo "ECDH k*P), HKDF and AES-128-GCM, all in constant-time Wasm (BearSSL's 30-bit limb representation and AES,"
  echo "our field multiplication with one NIST fast reduction, our windowed scalar multiplication); the VAPID token"
  echo "is signed once per push service and reused. Our field code made encrypt 0.79x the time of BearSSL's (paired"
  echo "in one process) and 3.95M -> 3.38M instructions natively (callgrind). At 3993 B, AES-128-GCM in constant-time"
  echo "Wasm (~100 us) is the rest of the gap to native code. web-push does its EC and AES work in OpenSSL's native"
  echo "code (with AES-NI) and"
  echo "loses its time in JS around it (key conversion through asn1.js, JWT signing on every call)."
  echo
  echo "## Signaling message sizes over the SDP corpus (bytes), and Wasm pack/unpack time"
  echo
  echo "\`$sdp_cmd\`"
  echo
  $sdp_cmd
  echo
  echo "## Sizes of the core"
  echo
  echo "\`$sizes_cmd\`"
  echo
  $sizes_cmd
  echo
  echo "## Connection setup over push: connect() to open data channel, real browsers"
  echo
  echo "\`$connect_cmd\`"
  echo
  $connect_cmd
  echo
  echo "## DTLS roles: the answer as browsers make it, and passive, raw RTCPeerConnections"
  echo
  echo "\`$dtls_cmd\`"
  echo
  $dtls_cmd
  echo
  echo "Reading these rows: only a Chromium answerer to a Firefox offerer is slow as made, and its passive answer"
  echo "is not; no pair is slower passive beyond the noise. So pushpeer's first answer is passive unless this browser"
  echo "is Firefox (js/connection/connection.js passiveAnswerSdp), and a Firefox → Chromium call saves the difference."
  echo
  echo "## Introductions: connect(card, { via }) to open data channel, no push, beside a push connect"
  echo
  echo "\`$intro_cmd\`"
  echo
  $intro_cmd
  echo
  echo "Reading these rows: the goal (issue #11) is an introduction's median at most 100 ms on loopback; where the"
  echo "host is noisy, compare the ratio to the push connect measured beside it. What an introduction replaces is"
  echo "the two push legs (the offer and answer rows): each carried leg is a seal to the recipient's identity key, two"
  echo "data-channel hops through Bob (his policy reads both peers from his store) and the recipient's service worker"
  echo "opening and keeping it like a push. Everything else (ICE gathering, cut short by gatherQuietMs; DTLS, with a"
  echo "Chromium answer passive: see DTLS roles; SCTP) is the same work on both paths."
  echo
  echo "## Groups: joining, pushes and time to a full mesh, real browsers"
  echo
  echo "\`$groups_cmd\`"
  echo
  # Fails (and so stops this script) when a newcomer costs anything but two pushes.
  $groups_cmd
  echo
  echo "Reading these rows: every newcomer costs the two pushes of its call to the inviter, whatever the size; the rest"
  echo "of the mesh is introductions carried by the inviter (2 carried envelopes per member met). The time to a full mesh"
  echo "is the push connect to the inviter plus the newcomer's N-2 introductions, made at once; on one 2-core host the"
  echo "pages share the CPU, so that part grows with N."
  echo
  echo "## Groups at scale: the same logic over simulated links"
  echo
  echo "\`$groups_sim_cmd\`"
  echo
  $groups_sim_cmd
  echo
  echo "Reading these tables: the pushes per join must stay at 2; beyond full mesh newcomers get their neighbours from"
  echo "random walks (PROTOCOL §7.8), so no member, the one in the invite included, should stay far above maxNeighbours;"
  echo "the group should stay one part as members leave; a group message's frames are the sum of the members'"
  echo "connections; members who come back after a reload get neighbourLimit connections again."
  echo
  echo "## Swarm at scale: the library's scheduler in a simulation"
  echo
  echo "\`$swarm_sim_cmd\` (the model is described at the top of the script; plot in bench/sim/swarm.svg). One seeder"
  echo "and N downloaders of 64 MiB; each downloader's choices are made by js/swarm/scheduler.js and the seeder's offers"
  echo "by js/swarm/seed-offers.js (docs/PROTOCOL.md §9.5). The ratio is against the larger of the classic bound and"
  echo "max(join + F/d). Goal (issue #13): 1.3x at N = 1000."
  echo
  $swarm_sim_cmd
  echo
  echo "A flash crowd: \`$swarm_flash_cmd\`"
  echo
  $swarm_flash_cmd
  echo
  # Prints its own heading and command line.
  $share_cmd
  echo
  echo "Reading these rows: a fetch reads every piece from the sharer's storage (the origin private file system), proves"
  echo "it in Wasm, checks it on arrival (BLAKE2b over 128 KiB) and stores it (bytes in OPFS, then a record with its leaf"
  echo "hashes in IndexedDB) before it counts; the raw channel only moves bytes. Both browsers of a pair share this host's"
  echo "two cores. Goals (issue #12): 0.8x the raw figure, a first verified piece within 200 ms, JS heap + Wasm at most"
  echo "64 MB for 1 GiB, hashing at least 600 MiB/s."
  echo
  echo "### Storage alone: a piece's bytes in IndexedDB or in OPFS"
  echo
  # Prints its own command line.
  node bench/browser/idb-pieces.mjs
  echo
  echo "### Where a fetch spends the pages' main threads (Chromium → Chromium, CPU profile)"
  echo
  echo "\`node bench/browser/share-profile.mjs 64\`"
  echo
  echo '```'
  node bench/browser/share-profile.mjs 64
  echo '```'
  echo
  $site_cmd
  echo
  echo "Goal (issue #14): under 1 ms added per request for a file the worker holds (compare the medians measured together)."
  echo
  echo "### Origin bytes and load time as visitors come, N = 1…5"
  echo
  echo "\`$site_visitors_cmd\`"
  echo
  $site_visitors_cmd
  echo
  echo "Goal (issue #14): the origin serves at most 1.3 copies of the listed assets for five visitors."
  echo
  echo "## Reliability under load: the soak, real Firefox"
  echo
  echo "\`$soak_cmd\`"
  echo
  echo "Two Firefox pages (Alice and Bob, one profile each, headed on Xvfb with a desktop notification service, dunst,"
  echo "so that every push shows a notification as on a user's desktop) through the local push service; loopback ICE."
  echo "Each call is closed and dropped on both sides once open. Per block: success, latency (connect() to open),"
  echo "pushes per call, what the stores hold, and the resident memory of each Firefox (its process tree). Then the"
  echo "baseline in the same two pages: a raw RTCPeerConnection with one data channel per call, SDP carried by the"
  echo "benchmark (no push, no pushpeer). Then simultaneous callers (Chromium, a context each), and Bob's page"
  echo "reloaded at a random step of a call."
  echo
  $soak_cmd 2>/dev/null
  echo
  echo "Reading these rows: Firefox's memory grows with every RTCPeerConnection made and closed, pushpeer or not (the"
  echo "raw baseline adds as much per call, or more, in the same processes); a page making raw connection pairs on its"
  echo "own levels off after a few hundred and gives memory back when idle (garbage collection), and turning off"
  echo "about:webrtc's history (media.aboutwebrtc.hist.*) changes nothing. What pushpeer keeps is bounded: the inbox"
  echo "at 200 items, no session for a call that opened, the replay guard at 256 entries per sender."
  echo "The few sessions Bob holds are calls the benchmark closed before Bob's end saw its channel open: a stored"
  echo "answer kept at most twice offerMaxAge (20 min). With --notifications xul (Firefox's fallback alert windows,"
  echo "what the tests use) Firefox adds about 1 MiB per notification shown (measured apart from calls)."
  echo
  echo "## Native (Google Benchmark)"
  echo
  echo "\`$native_cmd\`"
  echo
  echo '```'
  $native_cmd 2>/dev/null | grep -E '^(BM_|Benchmark|---)' | grep -vE '_(stddev|cv)\b'
  echo '```'
  if [ -f tests/fuzz/LONG_RUN.md ]; then
    echo
    echo "## Fuzzing: long runs (recorded in tests/fuzz/LONG_RUN.md, not re-run by this script)"
    echo
    sed '1{/^# /d}; s/^## /### /' tests/fuzz/LONG_RUN.md
  fi
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "bench: wrote $out"
