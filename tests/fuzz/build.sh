#!/bin/bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) into build-fuzz/: a meson build of the
# whole tree with clang, every object instrumented for libFuzzer's coverage
# (-fsanitize=fuzzer-no-link) and with ASan and UBSan (any UBSan report aborts). The gcc builds
# (tools/build.sh) are not touched. Needs clang-14 and libclang-rt-14-dev
# (tools/install-deps.sh --tests).
#   tests/fuzz/build.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

case ${1:-} in
"") ;;
-h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: tests/fuzz/build.sh" >&2; exit 2 ;;
esac
CLANG=${CLANG:-clang-14}
command -v "$CLANG" >/dev/null ||
    { echo "fuzz: $CLANG is missing: run tools/install-deps.sh --tests" >&2; exit 1; }

if [ ! -f build-fuzz/build.ninja ]; then
    echo "fuzz: configuring build-fuzz/ (meson, $CLANG, ASan + UBSan + libFuzzer coverage)"
    log=$(mktemp)
    # clang's -Wformat=2 also warns of a va_list handed on by a function without a format
    # attribute (util/err.c), which gcc's does not: that one warning is off here
    cflags="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    cflags+=" -Wno-format-nonliteral"
    if ! CC=$CLANG meson setup build-fuzz -Dfuzz=enabled -Dtests=disabled \
            -Db_sanitize=address,undefined -Db_lundef=false -Dc_args="$cflags" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "fuzz: meson setup build-fuzz failed (its output is above). clang or" \
             "libclang-rt-14-dev missing? Run tools/install-deps.sh --tests" >&2
        exit 1
    fi
    rm -f "$log"
fi
echo "fuzz: building the fuzz targets in build-fuzz/ (ninja)"
# only the targets (and the libraries they link): kxl's programs are the gcc builds' business
targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//; s|^|tests/fuzz/|')
ninja -C build-fuzz $targets || { echo "fuzz: the build failed (errors above)" >&2; exit 1; }
