#!/usr/bin/env bash
# Fetch the pinned third-party sources, verify their SHA-256 and unpack them into DEST/<name>.
# Nothing fetched here is ever committed. Source of truth for versions and hashes: the table below.
#
# Where from: Debian's source packages (`apt-get source`), which these machines reach; the orig tarballs are
# pinned by hash, so a newer Debian revision of the same upstream version still verifies. A directory of
# already-downloaded tarballs can be given with PUSHPEER_SOURCE_CACHE (checked against the same hashes).
set -euo pipefail
dest=${1:?usage: fetch-sources.sh DEST}
mkdir -p "$dest/_downloads"
dest=$(cd "$dest" && pwd)
cache=${PUSHPEER_SOURCE_CACHE:-$dest/_downloads}

#      name      debian-source   orig tarball                           sha256                                                            top dir
deps=(
  "bearssl   bearssl         bearssl_0.6+dfsg.1.orig.tar.xz          102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004  bearssl-0.6"
  "libsodium libsodium       libsodium_1.0.18.orig.tar.gz            d59323c6b712a1519a5daf710b68f5e7fde57040845ffec53850911f10a5d4f4  libsodium-1.0.18"
  "zlib      zlib            zlib_1.2.13.dfsg.orig.tar.bz2           71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1  zlib-1.2.13.dfsg"
  "json      nlohmann-json3  nlohmann-json3_3.11.2.orig.tar.gz       d69f9deb6a75e2580465c6c4c5111b89c4dc2fa94e3a85fcd2ffcd9a143d9273  json-3.11.2"
)

ensure_deb_src() {
  # apt-get source needs deb-src entries; derive them from the binary entries this machine already uses.
  if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    [ "$(id -u)" = 0 ] || { echo "fetch-sources: need root to add deb-src entries" >&2; exit 1; }
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > /etc/apt/sources.list.d/pushpeer-deb-src.sources
    apt-get update -qq
  fi
}

# Downloads the source package that carries the pinned orig tarball. Every Debian revision of one upstream version
# has the same orig tarball, so each revision the index lists is tried in turn: a mirror may list a security update
# whose files it does not serve (seen: zlib 1.2.13.dfsg-1+deb12u1 answered 404 while -1 was there).
fetch_orig() {
  local pkg=$1 orig=$2 version
  (cd "$dest/_downloads" && apt-get source --download-only -qq "$pkg" >/dev/null 2>&1) && [ -f "$dest/_downloads/$orig" ] &&
    return 0
  for version in $(apt-cache showsrc "$pkg" 2>/dev/null | awk '/^Version:/ { print $2 }' | sort -u); do
    (cd "$dest/_downloads" && apt-get source --download-only -qq "$pkg=$version" >/dev/null 2>&1) || continue
    [ -f "$dest/_downloads/$orig" ] && return 0
  done
  return 1
}

for row in "${deps[@]}"; do
  read -r name pkg orig sha top <<<"$row"
  stamp="$dest/$name/.pushpeer-verified"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha" ]; then continue; fi
  file="$cache/$orig"
  if [ ! -f "$file" ]; then
    ensure_deb_src
    fetch_orig "$pkg" "$orig" || { apt-get update -qq && fetch_orig "$pkg" "$orig"; } || {
      echo "fetch-sources: no Debian source package of $pkg could be downloaded with $orig" >&2
      exit 1
    }
    file="$dest/_downloads/$orig"
  fi
  got=$(sha256sum "$file" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    echo "fetch-sources: SHA-256 mismatch for $orig: got $got, pinned $sha" >&2
    exit 1
  fi
  rm -rf "$dest/$name" "$dest/$top"
  tar -xf "$file" -C "$dest"
  mv "$dest/$top" "$dest/$name"
  echo "$sha" > "$stamp"
  echo "fetch-sources: $name verified ($orig)"
done
