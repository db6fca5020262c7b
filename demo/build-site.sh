#!/usr/bin/env bash
# Assembles the static site GitHub Pages publishes (.github/workflows/pages.yml): the demo plus the library files
# it imports, with relative paths only, so it works under any sub-path (https://<user>.github.io/<repo>/demo/).
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
echo "site in $dest: $(find "$dest" -type f | wc -l) files, $(du -sk "$dest" | cut -f1) KiB"
