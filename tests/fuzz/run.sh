#!/usr/bin/env bash
# Runs the libFuzzer targets built in build/fuzz (cmake/build.sh fuzz) for a bounded time each, two at a time.
# Each target first replays its saved reproducers (tests/fuzz/regressions/<target>/), then fuzzes a temporary copy
# of its seed corpus: nothing is written into tests/fuzz. Fails on any crash, leak, UB report or timeout; the
# failing input is kept in build/fuzz/artifacts/<target>/.
# Usage: tests/fuzz/run.sh [seconds per target (15)] [target...]
# Env: PUSHPEER_FUZZ_JOBS (targets at a time, default: cores), PUSHPEER_FUZZ_LOGS (a directory to keep the logs in).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ece_decrypt webpush_decrypt jwt subscription base64url sdp_unpack card_decode
                                     envelope_open manifest_decode content_frame site_decode)
jobs=${PUSHPEER_FUZZ_JOBS:-$(nproc)}
bin_dir=${PUSHPEER_FUZZ_BIN:-build/fuzz/tests/fuzz}
artifacts=build/fuzz/artifacts

# Every sanitizer report is fatal; symbolised stacks when llvm-symbolizer is there.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ] && export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One target: replay, then fuzz. Output to $work/<target>.log; exit status 0 only when nothing was reported.
run_one() {
  local t=$1 bin=$bin_dir/fuzz_$1 dir=$work/$1
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if [ ! -x "$bin" ]; then
    echo "missing $bin: run cmake/build.sh fuzz" > "$work/$t.log"
    return 1
  fi
  local status=0
  if compgen -G "tests/fuzz/regressions/$t/*" >/dev/null; then
    "$bin" -artifact_prefix="$dir/artifacts/" tests/fuzz/regressions/"$t"/* > "$work/$t.log" 2>&1 || status=1
  fi
  if [ $status = 0 ]; then
    cp tests/fuzz/corpus/"$t"/* "$dir/corpus/"
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/" "$dir/corpus" >> "$work/$t.log" 2>&1 || status=1
  fi
  # Belt and braces: a report that did not end the process still fails the run.
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant broken' "$work/$t.log"; then
    status=1
  fi
  if [ $status != 0 ] && compgen -G "$dir/artifacts/*" >/dev/null; then
    mkdir -p "$artifacts/$t"
    cp "$dir"/artifacts/* "$artifacts/$t/"
  fi
  return $status
}

# Up to $jobs targets at a time; each records its exit status in $work/<target>.rc.
running=0
for t in "${targets[@]}"; do
  if [ $running -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  ( rc=0; run_one "$t" || rc=$?; echo $rc > "$work/$t.rc" ) &
  running=$((running + 1))
done
wait

failed=0
if [ -n "${PUSHPEER_FUZZ_LOGS:-}" ]; then
  mkdir -p "$PUSHPEER_FUZZ_LOGS"
  for t in "${targets[@]}"; do cp "$work/$t.log" "$PUSHPEER_FUZZ_LOGS/fuzz_$t.log" 2>/dev/null || true; done
fi
for t in "${targets[@]}"; do
  # The final status line, e.g. "#123456 DONE cov: 389 ft: 1007 corp: 20/1049b lim: 164 exec/s: 8230 rss: 60Mb".
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$t.log" | tail -1 | tr -s ' \t' ' ' || true)
  if [ "$(cat "$work/$t.rc" 2>/dev/null || echo 1)" = 0 ]; then
    echo "fuzz_$t: ok (${seconds}s) $done_line"
  else
    failed=1
    echo "fuzz_$t: FAILED; last lines of its log:"
    tail -n 60 "$work/$t.log" | sed 's/^/    /'
    echo "    inputs kept in $artifacts/$t/ (reproduce: $bin_dir/fuzz_$t FILE)"
  fi
done
exit $failed
