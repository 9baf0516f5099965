#!/bin/bash
# Builds the web UI's bundle (web/README.md): the npm packages of package-lock.json into NPMDIR
# (tools/npm-ci.sh), then esbuild bundles src/main.js and the CSS it imports into OUTDIR/app.js
# and OUTDIR/app.css, and index.html is copied beside them. Run by meson (web/meson.build).
#   web/build.sh SRCDIR NPMDIR OUTDIR
set -euo pipefail
src=$1 npmdir=$2 out=$3
"$src/../tools/npm-ci.sh" "$src" "$npmdir"
mkdir -p "$out"
NODE_PATH="$npmdir/node_modules" "$npmdir/node_modules/.bin/esbuild" "$src/src/main.js" \
    --bundle --minify --format=esm --target=es2022 --sourcemap --log-level=warning \
    --outfile="$out/app.js"
cp "$src/index.html" "$out/index.html"
