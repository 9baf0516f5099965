#!/bin/bash
# Runs the libFuzzer targets (tests/fuzz/fuzz_*.c), built first by tests/fuzz/build.sh.
#
#   tests/fuzz/run.sh TARGET MINUTES   fuzzes one target (cfg, spec, qcow2, ...) for longer;
#                                      what it finds new is kept in build-fuzz/corpus/TARGET,
#                                      crashes in build-fuzz/artifacts/TARGET/
#   tests/fuzz/run.sh --ci             every target for KXL_FUZZ_SECONDS (default 30) from its
#                                      seed corpus only; fails on any crash, sanitizer report,
#                                      leak, timeout or out-of-memory
#   tests/fuzz/run.sh --list           the targets
#
# Each run starts by running every seed in tests/fuzz/corpus/TARGET, so a reproducer put there
# is a regression test. Runs are niced (the machine is shared); the last line of each says
# its executions per second and coverage (cov: edges, ft: features).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build-fuzz
# readable stack traces (llvm-14's symbolizer has no unversioned name without Debian's llvm)
[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ] &&
    export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-14/bin/llvm-symbolizer}

usage() { sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

targets() { (cd "$HERE" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//' | grep -vx ''); }

# Per-target limits: the largest input worth mutating (the seeds' own sizes are kept).
max_len() {
    case $1 in
    spec|http_route) echo 1024 ;;
    qcow2|parts) echo 8192 ;;
    cfg|grubcfg|qmp) echo 16384 ;;
    bootfs) echo 270000 ;;
    *) echo 4096 ;;
    esac
}

# fuzz TARGET SECONDS WORKDIR: runs fuzz_TARGET on WORKDIR (new inputs) and the seeds; its
# output goes to WORKDIR.log; libFuzzer's exit status is returned.
fuzz() {
    local t=$1 secs=$2 work=$3 dict=() artifacts=$BUILD/artifacts/$1/
    mkdir -p "$work" "$artifacts"
    [ -f "$HERE/dict/$t.dict" ] && dict=(-dict="$HERE/dict/$t.dict")
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    LSAN_OPTIONS=suppressions=$HERE/known-defects.supp:print_suppressions=0 \
        nice -n 10 "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=25 \
        -rss_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 \
        -artifact_prefix="$artifacts" "${dict[@]}" "$work" "$HERE/corpus/$t" >"$work.log" 2>&1
}

# The figures of a finished run: "N execs, E/s, cov: C ft: F".
summary() {
    local log=$1 last execs rate
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "${execs:-?} execs, ${rate:-?}/s, $(grep -o 'cov: [0-9]* ft: [0-9]*' <<<"$last")"
}

# A failed run: where libFuzzer put the input, and the report.
show_failure() {
    local t=$1 log=$2
    grep -E -A40 '==ERROR|runtime error|fuzz: invariant|ALARM|out-of-memory|deadly signal' "$log" |
        head -n 60 >&2 || tail -n 40 "$log" >&2
    grep -o "Test unit written to .*" "$log" >&2 || true
    echo "fuzz: $t failed: add the input above to tests/fuzz/corpus/$t/ as a regression seed" \
         "once it is fixed (tests/fuzz/README.md)" >&2
}

ci() {
    local secs=${KXL_FUZZ_SECONDS:-30} t failed=() rc
    CI_TMP=$(mktemp -d)
    trap 'rm -rf "$CI_TMP"' EXIT
    for t in $(targets); do
        rc=0
        fuzz "$t" "$secs" "$CI_TMP/$t" || rc=$?
        if [ "$rc" = 0 ]; then
            echo "fuzz: $t: ok, $(summary "$CI_TMP/$t.log")"
        else
            show_failure "$t" "$CI_TMP/$t.log"
            failed+=("$t")
        fi
    done
    [ ${#failed[@]} = 0 ] || { echo "fuzz: failed: ${failed[*]}" >&2; return 1; }
    echo "fuzz: all $(targets | wc -l) targets ran ${secs} s each without a finding"
}

case ${1:-} in
--ci) [ $# = 1 ] || usage; "$HERE/build.sh"; ci ;;
--list) targets ;;
-h|--help|"") usage ;;
*)
    [ $# = 2 ] && [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || usage
    targets | grep -qx "$1" ||
        { echo "fuzz: no target '$1' (tests/fuzz/run.sh --list)" >&2; exit 2; }
    "$HERE/build.sh"
    echo "fuzz: $1 for $2 min (corpus build-fuzz/corpus/$1, log build-fuzz/corpus/$1.log)"
    rc=0
    fuzz "$1" $(($2 * 60)) "$BUILD/corpus/$1" || rc=$?
    if [ "$rc" = 0 ]; then
        echo "fuzz: $1: ok, $(summary "$BUILD/corpus/$1.log")"
    else
        show_failure "$1" "$BUILD/corpus/$1.log"
        exit 1
    fi
    ;;
esac
