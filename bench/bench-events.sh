#!/bin/bash
# bench/bench-events.sh - how soon a client hears of a guest's pause and resume, kxld next to
# libvirt in the same run (not a test). The issue's target: events delivered <= 50 ms after
# the QMP event.
#   - kxl: a 128 MiB guest booted to its readiness marker, its supervisor logging its QMP
#     traffic (KXL_DEBUG=1: QEMU's STOP and RESUME events with QEMU's own timestamps); a client
#     of kxld's events WebSocket (/api/v1/events, kxld's Unix socket) timing the "paused" and
#     "unpaused" events as they arrive, the pauses asked through the API;
#   - libvirt: the same guest under a libvirtd this script starts (bench/lib/libvirt.sh), with
#     a second QMP monitor (qemu:commandline) that QEMU sends the same events to, with their
#     timestamps; `virsh event --loop --timestamp` the client (its receipt time: ms), the
#     pauses asked with `virsh suspend` and `virsh resume`.
# Each side: N pauses and N resumes (0.3 s apart), latency = client's receipt - QEMU's event
# timestamp (the same wall clock); prints the median and p95 of each and the ratios.
#
#   bench/bench-events.sh [N]        (as root; default 20)
# Starts QEMUs: take the e2e lock first (flock /tmp/kxl-e2e.lock bench/bench-events.sh).
# BENCH_PEER=none skips libvirt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib/common.sh"
. "$HERE/lib/libvirt.sh"
. "$HERE/lib/kxl.sh"
bench_lock 3600 || { echo "bench-events: another benchmark holds $BENCH_LOCK" >&2; exit 1; }

N=${1:-20}
PEER=${BENCH_PEER:-libvirt}
GUEST=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
KXL=$TOP/build/src/cli/kxl
KXLD=$TOP/build/src/daemon/kxld
PY=${BENCH_PYTHON:-/usr/bin/python3}
CMDLINE="console=ttyS0 kxl.hostname=bench kxl.hb=0"
MARKER="KXL-READY"
kxl_bench_root events

cleanup() {
    kxl_bench_cleanup
    [ "$PEER" = none ] || libvirt_stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# summary LABEL FILE: the "median M p95 P n K" line of FILE, labelled
summary() { printf '%-44s %s\n' "$1" "$(tail -1 "$2")"; }
field() { awk -v f="$1" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }' "$2" | tail -1; }

"$TOP/tools/build.sh" >/dev/null
"$TOP/tests/guest/build.sh" >/dev/null
echo "bench-events: $N pauses and $N resumes each"

kxld_bench_start
KXL_DEBUG=1 "$KXL" create -q "$(kxl_bench_cfg ev 128 "$CMDLINE")" >/dev/null
bench_wait_marker "$KXL_ROOT/var/log/kxl/ev.console.log" "$MARKER" ||
    { echo "bench-events: the kxl guest did not boot" >&2; exit 1; }
bench_wait_quiet 30 60 || echo "bench-events: the host is busy: figures may be high" >&2
"$PY" "$HERE/lib/event-latency.py" kxl "$KXL_ROOT/run/kxl/kxld.sock" ev \
    "$KXL_ROOT/var/log/kxl/ev.log" "$N" >"$WORK/kxl.txt"
summary "kxld events WebSocket (ms after QEMU's event)" "$WORK/kxl.txt"
awk -v m="$(field median "$WORK/kxl.txt")" -v p="$(field p95 "$WORK/kxl.txt")" \
    'BEGIN { printf "target: events <= 50 ms after the QMP event: %s (median %s, p95 %s)\n",
             p <= 50 ? "met" : "NOT met", m, p }'
"$KXL" destroy ev >/dev/null

[ "$PEER" = none ] && exit 0
libvirt_install >/dev/null
libvirt_start
QMP=$WORK/lv-qmp.sock
xml=$(libvirt_domain_xml lvev "$GUEST/vmlinuz" "$GUEST/initrd.img" "$CMDLINE" 128 1 \
      "$WORK/lv.log")
xml=${xml/"<domain type='qemu'>"/"<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"}
xml=${xml/"</domain>"/"  <qemu:commandline>
    <qemu:arg value='-qmp'/>
    <qemu:arg value='unix:$QMP,server=on,wait=off'/>
  </qemu:commandline>
</domain>"}
printf '%s\n' "$xml" >"$WORK/lv.xml"
virsh_start lvev "$WORK/lv.xml"
bench_wait_marker "$WORK/lv.log" "$MARKER" || { echo "bench-events: the libvirt guest did not boot" >&2; exit 1; }
bench_wait_quiet 30 60 || echo "bench-events: the host is busy: figures may be high" >&2
"$PY" "$HERE/lib/event-latency.py" libvirt "$LIBVIRT_URI" lvev "$QMP" "$N" >"$WORK/lv.txt"
summary "virsh event (libvirt, ms after QEMU's event)" "$WORK/lv.txt"
virsh_stop lvev
awk -v km="$(field median "$WORK/kxl.txt")" -v kp="$(field p95 "$WORK/kxl.txt")" \
    -v lm="$(field median "$WORK/lv.txt")" -v lp="$(field p95 "$WORK/lv.txt")" 'BEGIN {
    printf "ratio kxld / libvirt: median %.2fx, p95 %.2fx\n", km / lm, kp / lp }'
