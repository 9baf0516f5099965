#!/bin/bash
# bench/bench-top.sh - CPU cost of `kxl top -b` per frame with N running domains (not a test).
# Everything a frame costs is counted: the kxl process (user+system, from bash's `time`, its
# start-up spread over the frames) and the supervisors that answer its "stats" requests
# (their threads' run time from /proc/PID/task/*/schedstat, before and after). QEMU's share
# of answering query-blockstats cannot be told apart from the guest's own work and is left
# out. From the per-domain cost it extrapolates the issue's budget: 50 domains at a 1 s
# interval under 1% of one CPU.
# The peer: virt-top is not in Debian bookworm (bench/README.md), so libvirt's own statistics
# call, `virsh domstats` (what virt-top's frames are made of), is timed on N libvirt domains
# with libvirtd's CPU counted the same way. BENCH_PEER=none skips it.
#
#   bench/bench-top.sh [N] [FRAMES]   (as root; defaults 10 domains, 50 frames)
# BENCH_BUILD=DIR measures the kxl (and supervisors) built in DIR instead of build/, unbuilt:
# a copy of an older build/ gives before and after on the same host in one sitting.
# Boots guests: take the e2e lock first (flock /tmp/kxl-e2e.lock bench/bench-top.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib/common.sh"
. "$HERE/lib/libvirt.sh"
bench_lock 3600 || { echo "bench-top: another benchmark holds $BENCH_LOCK" >&2; exit 1; }

N=${1:-10}
FRAMES=${2:-50}
PEER=${BENCH_PEER:-libvirt}
GUEST=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
BUILD=${BENCH_BUILD:-$TOP/build}
KXL=$BUILD/src/cli/kxl
CMDLINE="console=ttyS0 kxl.hostname=bench kxl.hb=0"
export KXL_ROOT=$(mktemp -d /tmp/kxl-bench-top.XXXXXX)
WORK=$KXL_ROOT/work
mkdir -p "$WORK"

cleanup() {
    for d in $("$KXL" list 2>/dev/null | awk 'NR > 2 {print $1}'); do
        "$KXL" destroy "$d" >/dev/null 2>&1 || true
    done
    [ "$PEER" = none ] || libvirt_stop >/dev/null 2>&1 || true
    rm -rf "$KXL_ROOT"
}
trap cleanup EXIT

# proc_cpu_ns PID...: nanoseconds on a CPU of the processes' threads (the first field of
# /proc/PID/task/TID/schedstat): clock ticks (10 ms) were too coarse for 50 frames of idle
# supervisors, a tick or two in all
proc_cpu_ns() {
    local pid
    for pid in "$@"; do cat /proc/"$pid"/task/*/schedstat 2>/dev/null || true; done |
        awk '{ t += $1 } END { printf "%.0f\n", t }'
}

# timed_cpu CMD...: runs CMD (output discarded), prints its user+system seconds
timed_cpu() {
    local TIMEFORMAT='%3U %3S' out
    out=$({ time "$@" >/dev/null 2>&1; } 2>&1)
    awk -v u="${out% *}" -v s="${out#* }" 'BEGIN { printf "%.3f", u + s }'
}

start_kxl() {
    local i
    for i in $(seq 1 "$N"); do
        truncate -s 16M "$WORK/d$i.raw"
        cat >"$WORK/top$i.cfg" <<CFG
name = "top$i"
memory = 128
vcpus = 1
kernel = "$GUEST/vmlinuz"
ramdisk = "$GUEST/initrd.img"
cmdline = "$CMDLINE"
disk = [ 'file:$WORK/d$i.raw,xvda,w' ]
CFG
        "$KXL" create -q "$WORK/top$i.cfg" >/dev/null
    done
    for i in $(seq 1 "$N"); do
        bench_wait_marker "$KXL_ROOT/var/log/kxl/top$i.console.log" KXL-READY ||
            { echo "bench-top: top$i did not boot" >&2; exit 1; }
    done
}

# measure_kxl ARGS...: prints "KXL_S SV_S" (seconds of CPU over FRAMES frames)
measure_kxl() {
    local svs=() i s0 s1 c
    for i in $(seq 1 "$N"); do
        svs+=("$(awk '$1 == "sv_pid" {print $2}' "$KXL_ROOT/run/kxl/top$i/status")")
    done
    s0=$(proc_cpu_ns "${svs[@]}")
    c=$(timed_cpu "$KXL" top -b -i "$FRAMES" -d 0.1 "$@")
    s1=$(proc_cpu_ns "${svs[@]}")
    echo "$c $(awk -v d=$((s1 - s0)) 'BEGIN { printf "%.4f", d / 1e9 }')"
}

# measure_virsh: FRAMES calls of `virsh domstats` on the N libvirt domains; "VIRSH_S LIBVIRTD_S"
measure_virsh() {
    local lp d0 d1 c
    lp=$(libvirtd_pid)
    d0=$(proc_cpu_ns "$lp")
    c=$(timed_cpu bash -c \
        "for i in \$(seq 1 $FRAMES); do virsh -c '$LIBVIRT_URI' domstats --raw; done")
    d1=$(proc_cpu_ns "$lp")
    echo "$c $(awk -v d=$((d1 - d0)) 'BEGIN { printf "%.4f", d / 1e9 }')"
}

report() {   # report WHAT CLIENT_S SERVER_S
    awk -v w="$1" -v c="$2" -v s="$3" -v f="$FRAMES" -v n="$N" 'BEGIN {
        per = (c + s) / f * 1000
        printf "%-28s %8.2f ms/frame (client %.2f, daemons %.2f)  %6.3f ms/domain/frame" \
               "  50 domains at 1 s: %.2f%% of a CPU\n", w, per, c / f * 1000, s / f * 1000,
               per / n, per / n * 50 / 1000 * 100 }'
}

[ -n "${BENCH_BUILD:-}" ] || "$TOP/tools/build.sh" >/dev/null
"$TOP/tests/guest/build.sh" >/dev/null
echo "bench-top: $N domains, $FRAMES frames each ($BUILD)"
start_kxl
sleep 2
read -r c s < <(measure_kxl)
report "kxl top -b" "$c" "$s"
read -r c s < <(measure_kxl -n -x -v)
report "kxl top -b -n -x -v" "$c" "$s"
read -r c s < <(measure_kxl --json)
report "kxl top --json" "$c" "$s"
KXL_FRAME=$(awk -v c="$c" -v s="$s" -v f="$FRAMES" 'BEGIN { print (c + s) / f }')
for d in $("$KXL" list | awk 'NR > 2 {print $1}'); do "$KXL" destroy "$d" >/dev/null; done

[ "$PEER" = none ] && exit 0
libvirt_install >/dev/null
libvirt_start
for i in $(seq 1 "$N"); do
    xml=$(libvirt_domain_xml "lvtop$i" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$CMDLINE" 128 1 \
          "$WORK/lv$i.log")
    virsh_start "lvtop$i" "$xml" >/dev/null
done
for i in $(seq 1 "$N"); do bench_wait_marker "$WORK/lv$i.log" KXL-READY || true; done
sleep 2
read -r c s < <(measure_virsh)
report "virsh domstats (libvirt)" "$c" "$s"
awk -v k="$KXL_FRAME" -v c="$c" -v s="$s" -v f="$FRAMES" \
    'BEGIN { printf "ratio kxl top --json / virsh domstats: %.2fx (target <= 0.3x vs virt-top)\n",
             k / ((c + s) / f) }'
for i in $(seq 1 "$N"); do virsh_stop "lvtop$i"; done
