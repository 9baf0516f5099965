#!/bin/bash
# Installs the npm packages of SRCDIR/package-lock.json into NPMDIR/node_modules with `npm ci`,
# again only when the lockfile changed (a stamp: NPMDIR/package-lock.json). Used by the build
# for the web UI (web/build.sh) and the browser tests (tests/browser).
#   tools/npm-ci.sh SRCDIR NPMDIR [STAMP]   (STAMP: a file touched when done, for meson)
set -euo pipefail
src=$1 npmdir=$2
mkdir -p "$npmdir"
if ! cmp -s "$src/package-lock.json" "$npmdir/package-lock.json" || [ ! -d "$npmdir/node_modules" ]; then
    cp "$src/package.json" "$src/package-lock.json" "$npmdir/"
    rm -rf "$npmdir/node_modules"
    (cd "$npmdir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
        rm -f "$npmdir/package-lock.json"
        echo "npm-ci.sh: npm ci in $npmdir failed (the npm registry must be reachable; node" \
             "and npm come from tools/install-deps.sh --tests)" >&2
        exit 1
    }
fi
[ -z "${3:-}" ] || touch "$3"
