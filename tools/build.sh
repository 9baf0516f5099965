#!/bin/bash
# Configures and builds kxl into build/ (and, with --asan, also build-asan/ with
# AddressSanitizer and UndefinedBehaviorSanitizer).
#   tools/build.sh [--tests] [--asan]
# --tests requires the unit tests (cmocka); without it they are built when cmocka is there.
# Every step says what it does; a failing step shows its output and what to do.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=auto asan=0
for a in "$@"; do
    case $a in
    --tests) tests=enabled ;;
    --asan) asan=1 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: tools/build.sh [--tests] [--asan]" >&2; exit 2 ;;
    esac
done

# run_logged WHAT CMD...: runs CMD with its output kept aside, shown only when it fails.
run_logged() {
    local what=$1 log
    shift
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "kxl: $what failed (its output is above). A missing library or tool?" \
             "Run tools/install-deps.sh (with --tests for the tests)." >&2
        exit 1
    fi
    rm -f "$log"
}

# tests_option DIR: the value of the tests option DIR was configured with.
tests_option() {
    meson introspect --buildoptions "$1" |
        python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "tests"][0])'
}

# configure DIR [MESON OPTIONS...]: sets DIR up once; a DIR set up before cmocka was
# installed is switched to building the tests when --tests asks for them.
configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        if [ "$tests" = enabled ] && [ "$(tests_option "$dir")" != enabled ]; then
            echo "kxl: $dir: turning the unit tests on"
            run_logged "meson configure $dir" meson configure "$dir" -Dtests=enabled
        fi
    else
        echo "kxl: configuring $dir (meson)"
        run_logged "meson setup $dir" meson setup "$dir" -Dtests="$tests" "$@"
    fi
}

configure build
echo "kxl: building build/ (ninja)"
ninja -C build || { echo "kxl: the build failed (errors above)" >&2; exit 1; }
if [ "$asan" = 1 ]; then
    configure build-asan -Db_sanitize=address,undefined -Db_lundef=false
    echo "kxl: building build-asan/ with ASan and UBSan (ninja)"
    ninja -C build-asan || { echo "kxl: the ASan build failed (errors above)" >&2; exit 1; }
fi
