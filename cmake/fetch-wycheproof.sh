#!/usr/bin/env bash
# Project Wycheproof test vectors (Apache-2.0, third-party data): fetched, verified by SHA-256, never committed.
# Usage: fetch-wycheproof.sh DEST   (tests/run.sh calls it with build/wycheproof)
#
# Where from, in this order:
#   1. $PUSHPEER_WYCHEPROOF_DIR, a local mirror: a directory holding the files below by name (CI on our machines
#      points it at the copy beside the checkout);
#   2. upstream, the pinned commit: $PUSHPEER_WYCHEPROOF_URL/<file> (default: the C2SP/wycheproof repository's raw
#      files at that commit, testvectors_v1/).
# Either way every file must match its pinned SHA-256: a mismatch is an error, never a skip.
# When neither place has them, DEST/UNAVAILABLE says why and the Wycheproof tests report themselves skipped with
# that reason (everything else still runs). PUSHPEER_WYCHEPROOF_REQUIRED=1 turns that into an error (CI with a
# mirror must run them all). Prints one line saying which it was.
set -euo pipefail
dest=${1:?usage: fetch-wycheproof.sh DEST}
commit=317c1b30f751803b7628995278251e6b798247ed
upstream=${PUSHPEER_WYCHEPROOF_URL:-https://raw.githubusercontent.com/C2SP/wycheproof/$commit/testvectors_v1}
mirror=${PUSHPEER_WYCHEPROOF_DIR:-}

# The files the tests read (tests/native/wycheproof_test.cpp, tests/node/wycheproof.test.mjs) and their SHA-256.
files=(
  "aes_gcm_test.json                      f7d77a3a059f30c80b05376a44286f79c50150537b9588e74d87158c2c64de80"
  "ecdh_secp256r1_ecpoint_test.json       f434193a207308d041d5445ec3865e950e94ff40aaf9cdde20c1cceea0e14785"
  "ecdh_secp256r1_test.json               8b947ff47bd662cd49ba034f69bb3d5047ea9f271be5802e975971ce370d825c"
  "ecdh_secp256r1_webcrypto_test.json     097cf268876dd0a41618d96f1c4cd14a35e4b461af8ac8d0d783c1f71e8a159b"
  "ecdsa_secp256r1_sha256_p1363_test.json 1f46da75f52d60a81f2d3bf35e8e2e648a7d6465b5c98853e6e43e151e64c4aa"
  "hkdf_sha256_test.json                  b68987f22a7f748c8a14e4d0ad23861f20db564ce06cbfa57fdaf89112313c09"
  "hmac_sha256_test.json                  1a86eeafc894491322137f4352608e4422670c906e18722e2892dde6ecaba688"
)

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
stamp="$dest/VERIFIED"
pins=$(printf '%s\n' "$commit" "${files[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$pins" ]; then
  echo "wycheproof: ${#files[@]} files verified earlier ($(sed -n 2p "$stamp"))"
  exit 0
fi
rm -f "$stamp" "$dest/UNAVAILABLE" "$dest"/*.json
tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# get SOURCE: copies or downloads every file into $tmp; returns non-zero (with $why set) if one cannot be had.
why=""
get() {
  local source=$1 row name
  for row in "${files[@]}"; do
    read -r name _ <<<"$row"
    if [ "$source" = mirror ]; then
      cp "$mirror/$name" "$tmp/$name" 2>/dev/null || { why="$mirror/$name: not readable"; return 1; }
    else
      curl -fsSL --connect-timeout 10 --max-time 120 -o "$tmp/$name" "$upstream/$name" 2>"$tmp/curl.err" ||
        { why="$upstream/$name: $(tr -d '\n' <"$tmp/curl.err" | sed 's/^curl: //')"; return 1; }
    fi
  done
}

verify() {
  local row name sha got
  for row in "${files[@]}"; do
    read -r name sha <<<"$row"
    got=$(sha256sum "$tmp/$name" | cut -d' ' -f1)
    if [ "$got" != "$sha" ]; then
      echo "fetch-wycheproof: SHA-256 mismatch for $name from $1: got $got, pinned $sha" >&2
      exit 1
    fi
  done
}

reasons=()
from=""
if [ -n "$mirror" ]; then
  if get mirror; then from="mirror $mirror"; else reasons+=("mirror: $why"); fi
else
  reasons+=("no mirror (PUSHPEER_WYCHEPROOF_DIR unset)")
fi
if [ -z "$from" ]; then
  if get upstream; then from="upstream $upstream"; else reasons+=("upstream: $why"); fi
fi

if [ -z "$from" ]; then
  reason="Wycheproof vectors unavailable: $(IFS=';'; echo "${reasons[*]}" | sed 's/;/; /g')"
  echo "$reason" > "$dest/UNAVAILABLE"
  if [ "${PUSHPEER_WYCHEPROOF_REQUIRED:-}" = 1 ]; then
    echo "fetch-wycheproof: $reason (PUSHPEER_WYCHEPROOF_REQUIRED=1)" >&2
    exit 1
  fi
  echo "wycheproof: SKIPPED: $reason"
  exit 0
fi
verify "$from"
for row in "${files[@]}"; do
  read -r name _ <<<"$row"
  mv "$tmp/$name" "$dest/$name"
done
printf '%s\n%s\n' "$pins" "commit $commit, from $from" > "$stamp"
echo "wycheproof: ${#files[@]} files verified (commit $commit, from $from)"
