# bench/lib/qemu.sh — plain QEMU as a peer in kxl's benchmarks.
#
# Usage (bash >= 5):
#   . bench/lib/qemu.sh
#   plain_qemu_boot_to_marker KERNEL INITRD CMDLINE MEM_MIB VCPUS MARKER
#       Starts qemu-system-x86_64 with its defaults (default machine, default
#       devices; only -accel tcg -m -smp -kernel -initrd -append
#       -display none -serial file:LOG), prints the seconds from the start to
#       MARKER on the serial console ("3.601"), then kills and reaps QEMU.
#       Returns 1 (nothing printed) if MARKER does not show within
#       $BENCH_BOOT_TIMEOUT s.
#
# Environment:
#   PLAIN_QEMU       QEMU binary (default qemu-system-x86_64)
#   PLAIN_QEMU_LOG   serial log (default: a temp file, removed afterwards);
#                    when set it is kept for inspection
#   PLAIN_QEMU_RSS   if set to a file name, QEMU's VmRSS (KiB) at the moment
#                    the marker appeared is written there

_pq_libdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$_pq_libdir/common.sh"

: "${PLAIN_QEMU:=qemu-system-x86_64}"

plain_qemu_boot_to_marker() {
    (($# == 6)) || { echo "usage: plain_qemu_boot_to_marker KERNEL INITRD CMDLINE MEM_MIB VCPUS MARKER" >&2; return 2; }
    local kernel=$1 initrd=$2 cmdline=$3 mem=$4 vcpus=$5 marker=$6
    local log=${PLAIN_QEMU_LOG:-} tmp="" t0 t1 pid rc=0
    if [[ -z $log ]]; then
        tmp=$(mktemp -d /tmp/plain-qemu.XXXXXX) || return 1
        log=$tmp/serial.log
    fi
    rm -f "$log"
    t0=$(bench_now_us)
    "$PLAIN_QEMU" -accel tcg -m "$mem" -smp "$vcpus" \
        -kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
        -display none -serial "file:$log" \
        </dev/null >"${tmp:-/tmp}/plain-qemu.$$.out" 2>&1 &
    pid=$!
    if bench_wait_marker "$log" "$marker"; then
        t1=$(bench_now_us)
        [[ -n ${PLAIN_QEMU_RSS:-} ]] && { proc_rss_kib "$pid" >"$PLAIN_QEMU_RSS" || true; }
    else
        echo "plain_qemu: no '$marker' in $log after ${BENCH_BOOT_TIMEOUT}s" >&2
        cat "${tmp:-/tmp}/plain-qemu.$$.out" >&2
        rc=1
    fi
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true  # we are its parent: reaped at once
    rm -f "${tmp:-/tmp}/plain-qemu.$$.out"
    [[ -n $tmp ]] && rm -rf "$tmp"
    ((rc == 0)) && bench_elapsed "$t0" "$t1"
    return $rc
}
