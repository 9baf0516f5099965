#!/bin/bash
# bench/bench-api.sh - kxld's answer time and memory next to libvirtd's (not a test).
#   - GET /api/v1/domains with N domains: the median of M requests on one kept connection
#     (curl, several URLs in one run: the request, not curl's start), and of M one-shot
#     `curl` processes (a new connection each, as a script calls it);
#   - the peer: `virsh list` (a process and a connection each, what a script runs) against a
#     libvirtd this script starts (bench/lib/libvirt.sh), with N domains;
#   - kxld's and libvirtd's resident memory, idle and with the N domains.
# Domains are cheap: created paused (kxl create -p, virsh create --paused), so no guest runs
# and the host stays quiet for the timing. Prints the ratios; targets: <= 5 ms median,
# <= 0.3x libvirtd's RSS.
#
#   bench/bench-api.sh [N] [M]   (as root; defaults 10 domains, 200 requests)
# Starts QEMUs: take the e2e lock first (flock /tmp/kxl-e2e.lock bench/bench-api.sh).
# BENCH_PEER=none skips libvirt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib/common.sh"
. "$HERE/lib/libvirt.sh"
. "$HERE/lib/kxl.sh"
bench_lock 3600 || { echo "bench-api: another benchmark holds $BENCH_LOCK" >&2; exit 1; }

N=${1:-10}
M=${2:-200}
PEER=${BENCH_PEER:-libvirt}
GUEST=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
KXL=$TOP/build/src/cli/kxl
KXLD=$TOP/build/src/daemon/kxld
CMDLINE="console=ttyS0 kxl.hostname=bench kxl.hb=0"
kxl_bench_root api
SOCK=$KXL_ROOT/run/kxl/kxld.sock
URL=http://localhost/api/v1/domains

cleanup() {
    [ "$PEER" = none ] || libvirt_stop >/dev/null 2>&1 || true
    kxl_bench_cleanup
}
trap cleanup EXIT

# ms_median: the median of the milliseconds on stdin (one a line)
ms_median() {
    local v
    mapfile -t v
    bench_median "${v[@]}"
}

# kept_ms: the median time of M requests on one connection
kept_ms() {
    local urls=() i
    for i in $(seq 1 "$M"); do urls+=(-o /dev/null "$URL"); done   # an -o for each URL
    curl -s --fail --unix-socket "$SOCK" -w '%{time_total}\n' "${urls[@]}" |
        awk '{ printf "%.3f\n", $1 * 1000 }' | ms_median
}

# oneshot_ms CMD...: the median wall time of M runs of CMD (output discarded)
oneshot_ms() {
    local i t0 t1 out=()
    for i in $(seq 1 "$M"); do
        t0=${EPOCHREALTIME//[.,]/}   # no subshell around the timed command
        "$@" >/dev/null
        t1=${EPOCHREALTIME//[.,]/}
        out+=($((t1 - t0)))
    done
    printf '%s\n' "${out[@]}" | awk '{ printf "%.3f\n", $1 / 1000 }' | ms_median
}

create_libvirt() {
    local i xml
    for i in $(seq 1 "$N"); do
        xml=$(libvirt_domain_xml "lvapi$i" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$CMDLINE" 128 \
              1 "$WORK/lv$i.log")
        printf '%s\n' "$xml" >"$WORK/lv$i.xml"
        lv_virsh create --paused "$WORK/lv$i.xml" >/dev/null
    done
}

"$TOP/tools/build.sh" >/dev/null
"$TOP/tests/guest/build.sh" >/dev/null
echo "bench-api: $N paused domains, $M requests each way"
kxld_bench_start
sleep 1
KXLD_IDLE=$(proc_rss_kib "$KXLD_PID")
kxl_bench_paused "$N" api 128 "$CMDLINE"
bench_wait_quiet 30 60 || echo "bench-api: the host is busy: figures may be high" >&2
KEPT=$(kept_ms)
ONESHOT=$(oneshot_ms curl -s --fail --unix-socket "$SOCK" "$URL")
KXL_LIST=$(oneshot_ms "$KXL" list)
KXLD_BUSY=$(proc_rss_kib "$KXLD_PID")
printf '%-44s %8s ms\n' "kxld GET /api/v1/domains (kept connection)" "$KEPT" \
    "kxld GET /api/v1/domains (one curl each)" "$ONESHOT" "kxl list (no daemon)" "$KXL_LIST"
printf '%-44s %8s MiB idle, %s MiB with %d domains\n' "kxld RSS" \
    "$(bench_kib_to_mib "$KXLD_IDLE")" "$(bench_kib_to_mib "$KXLD_BUSY")" "$N"
awk -v k="$KEPT" 'BEGIN { printf "target: GET /api/v1/domains median <= 5 ms: %s\n",
                          k <= 5 ? "met" : "NOT met" }'
for d in $("$KXL" list | awk 'NR > 2 {print $1}'); do "$KXL" destroy "$d" >/dev/null; done

[ "$PEER" = none ] && exit 0
libvirt_install >/dev/null
libvirt_start
sleep 1
LV_IDLE=$(proc_rss_kib "$(libvirtd_pid)")
create_libvirt
[ "$(lv_virsh list --all | grep -c lvapi)" -eq "$N" ] || { echo "bench-api: not $N libvirt domains" >&2; exit 1; }
bench_wait_quiet 30 60 || echo "bench-api: the host is busy: figures may be high" >&2
VIRSH=$(oneshot_ms virsh -q -c "$LIBVIRT_URI" list)
LV_BUSY=$(proc_rss_kib "$(libvirtd_pid)")
printf '%-44s %8s ms\n' "virsh list (libvirt)" "$VIRSH"
printf '%-44s %8s MiB idle, %s MiB with %d domains\n' "libvirtd RSS" \
    "$(bench_kib_to_mib "$LV_IDLE")" "$(bench_kib_to_mib "$LV_BUSY")" "$N"
awk -v k="$KEPT" -v o="$ONESHOT" -v v="$VIRSH" -v ki="$KXLD_IDLE" -v kb="$KXLD_BUSY" \
    -v li="$LV_IDLE" -v lb="$LV_BUSY" 'BEGIN {
    printf "ratio kxld GET (kept) / virsh list: %.3fx; one curl each / virsh list: %.3fx\n",
           k / v, o / v
    printf "ratio kxld RSS / libvirtd RSS: idle %.2fx, with the domains %.2fx (target <= 0.3x): %s\n",
           ki / li, kb / lb, (ki / li <= 0.3 && kb / lb <= 0.3) ? "met" : "NOT met" }'
for i in $(seq 1 "$N"); do virsh_stop "lvapi$i"; done
