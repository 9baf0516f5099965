#!/bin/bash
# Configures and builds kxl into build/ (and, with --asan, also build-asan/
# with AddressSanitizer and UndefinedBehaviorSanitizer).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
if [ "${1:-}" = "--asan" ]; then
    [ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null
    ninja -C build-asan
fi
