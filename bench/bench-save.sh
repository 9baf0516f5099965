#!/bin/bash
# bench/bench-save.sh - kxl save and restore against plain QEMU in the same run (not a test):
# a 256 MiB guest booted to its readiness marker, then
#   kxl:        `kxl save DOM FILE` (the guest stopped, its state streamed through an fd into
#               a temporary file, fsync, rename, the domain destroyed), then `kxl restore FILE`
#               (the header checked, a supervisor and QEMU started, the stream loaded, the
#               guest running);
#   plain QEMU: the same QEMU driven directly over QMP by bench/lib/qmp-save.py (stop, getfd,
#               migrate fd:, fsync, quit; then a QEMU started with -S -incoming defer,
#               getfd, migrate-incoming fd:, cont): the floor, which pays one Python start
#               (about 40 ms) for each of save and restore.
# Prints each run, the medians, the files' sizes and the ratio kxl/plain of save + restore.
# Target (issue 13): save and restore of 256 MiB <= 1.2x plain QEMU's.
#
#   bench/bench-save.sh [RUNS]       (as root; default 5)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib/common.sh"
bench_lock 3600 || { echo "bench-save: another benchmark holds $BENCH_LOCK" >&2; exit 1; }

RUNS=${1:-5}
GUEST=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
KXL=$TOP/build/src/cli/kxl
QEMU=${PLAIN_QEMU:-qemu-system-x86_64}
# Debian's interpreter: a pyenv shim first in PATH costs seconds on a busy host, not the floor's
PY=${BENCH_PYTHON:-/usr/bin/python3}
MEM=256
CMDLINE="console=ttyS0 kxl.hostname=bench"
MARKER="KXL-READY"
export KXL_ROOT=$(mktemp -d /tmp/kxl-bench.XXXXXX)
WORK=$KXL_ROOT/work
mkdir -p "$WORK"
QPID=

cleanup() {
    for d in $("$KXL" list 2>/dev/null | awk 'NR > 2 {print $1}'); do
        "$KXL" destroy "$d" >/dev/null 2>&1 || true
    done
    [[ -n $QPID ]] && { kill -KILL "$QPID" 2>/dev/null || true; wait "$QPID" 2>/dev/null || true; }
    rm -rf "$KXL_ROOT"
}
trap cleanup EXIT

setup() {
    "$TOP/tools/install-deps.sh" --tests >/dev/null   # python3 for qmp-save.py
    "$TOP/tools/build.sh" >/dev/null
    "$TOP/tests/guest/build.sh" >/dev/null
    cat >"$WORK/bench.cfg" <<CFG
name = "bench"
memory = $MEM
vcpus = 1
kernel = "$GUEST/vmlinuz"
ramdisk = "$GUEST/initrd.img"
cmdline = "$CMDLINE"
CFG
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# kxl_run: "SAVE RESTORE" seconds; checks that the restored guest goes on (a heartbeat that
# follows the last one saved, no second boot)
kxl_run() {
    local log=$KXL_ROOT/var/log/kxl/bench.console.log t0 ts tr last
    rm -f "$WORK/kxl.save"
    "$KXL" create -q "$WORK/bench.cfg" 2>/dev/null
    bench_wait_marker "$log" "$MARKER" || { echo "kxl: the guest did not boot" >&2; return 1; }
    bench_wait_marker "$log" "KXL-HB 2" 30 || return 1
    bench_wait_quiet 15 120 || true
    t0=$(bench_now_us)
    "$KXL" save bench "$WORK/kxl.save"
    ts=$(bench_elapsed "$t0")
    last=$(grep -o 'KXL-HB [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    bench_wait_quiet 15 120 || true
    t0=$(bench_now_us)
    "$KXL" restore "$WORK/kxl.save"
    tr=$(bench_elapsed "$t0")
    bench_wait_marker "$log" "KXL-HB $((last + 2))" 30 || { echo "kxl: no heartbeat after restore" >&2; return 1; }
    ! grep -q "$MARKER" "$log" || { echo "kxl: the restored guest booted again" >&2; return 1; }
    "$KXL" destroy bench
    echo "$ts $tr"
}

# plain_start LOG SOCK [ARGS...]: QEMU as kxl starts it (pc, TCG, qemu64, paused, the kernel
# booted at its PVH entry point from the ELF kxl extracted, so that the guest's memory holds
# what it holds under kxl; its RAM 8 KiB over MEM MiB, as kxl gives a TCG guest:
# QEMU_TCG_RAM_PAD_KIB in src/qemu/qemu_argv.h), in the background as $QPID
plain_start() {
    local log=$1 sock=$2 elf
    shift 2
    elf=$(ls "$KXL_ROOT"/var/lib/kxl/pvh-kernels/*.elf 2>/dev/null | head -1)
    "$QEMU" -machine pc -accel tcg -cpu qemu64 -m "$((MEM * 1024 + 8))k" -smp 1 -nodefaults -display none -S \
        -kernel "${elf:-$GUEST/vmlinuz}" -initrd "$GUEST/initrd.img" -append "$CMDLINE" \
        -serial "file:$log" -qmp "unix:$sock,server=on,wait=off" "$@" \
        </dev/null >>"$WORK/plain.out" 2>&1 &
    QPID=$!
}

# plain_run: "SAVE RESTORE" seconds for QEMU driven over QMP
plain_run() {
    local t0 ts tr
    rm -f "$WORK/plain.save" "$WORK/p.sock" "$WORK/p1.log" "$WORK/p2.log"
    plain_start "$WORK/p1.log" "$WORK/p.sock"
    "$PY" "$HERE/lib/qmp-save.py" cont "$WORK/p.sock"
    bench_wait_marker "$WORK/p1.log" "$MARKER" || { echo "qemu: the guest did not boot" >&2; return 1; }
    bench_wait_marker "$WORK/p1.log" "KXL-HB 2" 30 || return 1
    bench_wait_quiet 15 120 || true
    t0=$(bench_now_us)
    "$PY" "$HERE/lib/qmp-save.py" save "$WORK/p.sock" "$WORK/plain.save"
    wait "$QPID" || true
    ts=$(bench_elapsed "$t0")
    rm -f "$WORK/p.sock"
    bench_wait_quiet 15 120 || true
    t0=$(bench_now_us)
    plain_start "$WORK/p2.log" "$WORK/p.sock" -incoming defer
    "$PY" "$HERE/lib/qmp-save.py" restore "$WORK/p.sock" "$WORK/plain.save"
    tr=$(bench_elapsed "$t0")
    bench_wait_marker "$WORK/p2.log" "KXL-HB" 30 || { echo "qemu: no heartbeat after restore" >&2; return 1; }
    kill -KILL "$QPID"; wait "$QPID" 2>/dev/null || true; QPID=
    echo "$ts $tr"
}

bench_save() {
    local ks=() kr=() qs=() qr=() s r i
    echo "== save + restore of a $MEM MiB guest (TCG), $RUNS runs each"
    for ((i = 0; i < RUNS; i++)); do
        read -r s r < <(kxl_run); ks+=("$s"); kr+=("$r")
        read -r s r < <(plain_run); qs+=("$s"); qr+=("$r")
        echo "  run $i: kxl save ${ks[-1]} s, restore ${kr[-1]} s;" \
             "plain QEMU save ${qs[-1]} s, restore ${qr[-1]} s"
    done
    local mks mkr mqs mqr
    mks=$(bench_median "${ks[@]}"); mkr=$(bench_median "${kr[@]}")
    mqs=$(bench_median "${qs[@]}"); mqr=$(bench_median "${qr[@]}")
    echo "  median: kxl save $mks s, restore $mkr s; plain QEMU save $mqs s, restore $mqr s"
    echo "  files: kxl $(mib "$WORK/kxl.save") MiB, plain QEMU $(mib "$WORK/plain.save") MiB"
    echo "  ratio kxl/plain: save $(ratio "$mks" "$mqs"), restore $(ratio "$mkr" "$mqr")," \
         "save + restore $(ratio "$(sum "$mks" "$mkr")" "$(sum "$mqs" "$mqr")") (target <= 1.20)"
}

setup
bench_save
