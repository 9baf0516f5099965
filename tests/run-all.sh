#!/bin/bash
# The whole test suite, on a fresh Debian bookworm machine (as root):
# dependencies, a normal and an ASan/UBSan build, unit and golden tests in
# both, the test guest, then the end-to-end tests that boot real guests
# (TCG here, KVM where the host can run it) with the sanitized binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --tests
tools/build.sh --asan

echo "== unit and golden tests"
meson test -C build --print-errorlogs
meson test -C build-asan --print-errorlogs

echo "== man pages"
for page in docs/kxl.1 docs/kxl.cfg.5; do
    out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' groff -man -ww -z "$page" 2>&1)
    [ -z "$out" ] || { echo "$page: $out"; exit 1; }
done

echo "== test guest"
tests/guest/build.sh

echo "== end-to-end tests (booting guests)"
cd tests/e2e
KXL_BUILD="$PWD/../../build-asan" python3 -m unittest discover -v -p 'test_*.py'
