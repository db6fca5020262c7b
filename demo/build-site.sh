#!/usr/bin/env bash
# Assembles the static site GitHub Pages publishes (.github/workflows/pages.yml): the demo plus the library files
# it imports, with relative paths only, so it works under any sub-path (https://<user>.github.io/<repo>/demo/).
# The site is signed (docs/PROTOCOL.md §10): its Wasm core and a media sample are listed in pushpeer-site.bin, and
# the demo's worker pins the publisher's key, so visitors serve those files to each other, verified. The key is
# PUSHPEER_PUBLISHER_KEY_FILE (a `pushpeer keygen` file: keep it across deploys, e.g. from a repository secret, and
# versions go on), else build/demo-publisher.key, made on first use (a new key on a fresh machine: visitors' workers
# then start over with it).
# Needs the Wasm build (cmake/build.sh wasm). Usage: build-site.sh [DEST, default _site]
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-_site}
rm -rf "$dest"
mkdir -p "$dest/js/wasm" "$dest/sw" "$dest/demo"
cp demo/*.html demo/*.css demo/*.js "$dest/demo/"
# GitHub Actions names the repository: the demo's footer links to it.
if [ -n "${GITHUB_REPOSITORY:-}" ]; then
  repo="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY"
  sed -i "s|<title>|<meta name=\"pushpeer-repository\" content=\"$repo\">\n<title>|" "$dest/demo/index.html"
fi
# The library keeps its folders (js/push/, js/signaling/, …): its modules import each other by relative paths.
find js -name '*.js' -not -path 'js/wasm/*' -exec cp --parents -t "$dest/" {} +
cp js/wasm/pushpeer-core.mjs js/wasm/pushpeer-core.wasm js/wasm/pushpeer-sw.classic.js "$dest/js/wasm/"
cp sw/*.js "$dest/sw/"
# The redirect names an empty icon too: without it a browser may ask the host for /favicon.ico (a 404 on Pages).
printf '<!doctype html>\n<meta charset="utf-8">\n<title>pushpeer</title>\n<link rel="icon" href="data:,">\n<meta http-equiv="refresh" content="0; url=demo/">\n<a href="demo/">pushpeer demo</a>\n' > "$dest/index.html"
touch "$dest/.nojekyll"
# The media sample, and the signature over what visitors may serve each other.
mkdir -p "$dest/demo/media"
node demo/make-sample.mjs "$dest/demo/media/tones.wav"
key=${PUSHPEER_PUBLISHER_KEY_FILE:-build/demo-publisher.key}
if [ ! -s "$key" ]; then
  mkdir -p "$(dirname "$key")"
  node bin/pushpeer.mjs keygen > "$key.tmp" 2>/dev/null && mv "$key.tmp" "$key"
fi
public=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).publicKey)' "$key")
sed -i "s|^const SITE_PUBLISHER_KEY = '';|const SITE_PUBLISHER_KEY = '$public';|" "$dest/demo/sw.js"
grep -q "SITE_PUBLISHER_KEY = '$public'" "$dest/demo/sw.js"
# The version is the build's time (seconds): each deploy is above the last with no state kept between builds.
node bin/pushpeer.mjs publish "$dest" --key "$key" --include 'js/wasm/*.wasm' --include 'demo/media/*' \
  --title 'pushpeer demo' --version "${PUSHPEER_SITE_VERSION:-$(date +%s)}" | grep -v 'not listed (not included)' >&2
echo "site in $dest: $(find "$dest" -type f | wc -l) files, $(du -sk "$dest" | cut -f1) KiB"
