#!/bin/bash
# The whole test suite, on a fresh Debian bookworm machine (as root):
# dependencies, a normal and an ASan/UBSan build, unit and golden tests in
# both, the fuzz targets for a bounded time, the test guest, then the
# end-to-end tests that boot real guests (TCG here, KVM where the host can
# run it) with the sanitized binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --tests
tools/build.sh --tests --asan

echo "== unit and golden tests"
meson test -C build --print-errorlogs
meson test -C build-asan --print-errorlogs

echo "== fuzz targets (tests/fuzz: each from its seeds, 30 s)"
tests/fuzz/run.sh --ci

echo "== man pages"
for page in docs/kxl.1 docs/kxl.cfg.5 docs/kxld.8; do
    out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' groff -man -ww -z "$page" 2>&1)
    [ -z "$out" ] || { echo "$page: $out"; exit 1; }
done

echo "== test guest"
tests/guest/build.sh

echo "== host programs (tests/host-programs.txt)"
tests/host-programs.sh check

echo "== end-to-end tests (booting guests)"
# Every program kxl and the tests run goes through a logging wrapper, so one that is not on
# the list (and so installed by nobody) fails the suite even where this host happens to have it.
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
tests/host-programs.sh wrap "$wrap/bin" "$wrap/ran"
# the interpreter itself, not a launcher script (pyenv's shims) that a wrapper would reset
python=$(python3 -c 'import sys; print(sys.executable)')
# the web UI's tests write a screenshot of each page here, for CI to keep and a person to see
shots=${KXL_SCREENSHOTS:-$PWD/build-asan/e2e-screenshots}
rm -rf "$shots"
mkdir -p "$shots"
e2e=0
(cd tests/e2e && PATH="$wrap/bin:$PATH" KXL_BUILD="$PWD/../../build-asan" \
    KXL_SCREENSHOTS="$shots" "$python" -m unittest discover -v -p 'test_*.py') || e2e=$?
tests/host-programs.sh verify "$wrap/ran"
echo "== screenshots of the web UI: $(ls "$shots" | wc -l) in $shots"
exit "$e2e"
