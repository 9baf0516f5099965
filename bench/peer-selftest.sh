#!/bin/bash
# bench/peer-selftest.sh — exercise the peers (libvirt, plain QEMU) alone and
# print their figures; checks that libvirt_stop leaves nothing behind.
#
#   bench/peer-selftest.sh [RUNS]          (as root; RUNS default 5)
#
# Guest: $KXL_GUEST_KERNEL / $KXL_GUEST_INITRD (default the test guest built
# by tests/guest/build.sh in /var/cache/kxl/test-guest), marker KXL-READY,
# cmdline "console=ttyS0", $MEM MiB (default 256), $VCPUS (default 1).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/libvirt.sh"
. "$HERE/lib/qemu.sh"

RUNS=${1:-5}
KERNEL=${KXL_GUEST_KERNEL:-/var/cache/kxl/test-guest/vmlinuz}
INITRD=${KXL_GUEST_INITRD:-/var/cache/kxl/test-guest/initrd.img}
CMDLINE=${CMDLINE:-console=ttyS0}
MEM=${MEM:-256}
VCPUS=${VCPUS:-1}
MARKER=${MARKER:-KXL-READY}
NDOMS=${NDOMS:-10}
WORK=$(mktemp -d /tmp/peer-selftest.XXXXXX)
fail=0

say() { printf '%s\n' "$*"; }
bad() { printf 'FAIL: %s\n' "$*"; fail=1; }

[[ -r $KERNEL && -r $INITRD ]] || { echo "no guest at $KERNEL / $INITRD" >&2; exit 2; }

host_state() {   # what must be the same before and after
    ip -o link | sed 's/ qlen [0-9]*//' | awk '{ print $2, $3 }'
    ip -o addr | awk '{ print $2, $3, $4 }'
    ip route; ip -6 route
    (iptables-save 2>/dev/null; nft list ruleset 2>/dev/null) | grep -v '^#'
    mount | grep -E 'libvirt|kxl-bench'
    ls /sys/fs/cgroup/*/ 2>/dev/null | grep -E '^machine'
}
# one benchmark at a time: another one's libvirt_stop would kill our libvirtd
bench_lock 0 || { echo "another benchmark holds $BENCH_LOCK; not starting" >&2; exit 2; }
libvirt_install || exit 1
if [[ -n $(libvirtd_pid) ]]; then
    echo "libvirt_start's libvirtd is running: another benchmark is using it; not starting" >&2
    exit 2
fi
libvirt_stop >/dev/null 2>&1
host_state >"$WORK/host.before"
t0=$(bench_now_us); libvirt_start || exit 1
say "libvirt_start (cold):            $(bench_elapsed "$t0") s"
t0=$(bench_now_us); libvirt_start || exit 1
say "libvirt_start (already running): $(bench_elapsed "$t0") s"
idle_rss=$(proc_rss_kib "$(libvirtd_pid)")
say "libvirtd RSS idle:               $(bench_kib_to_mib "$idle_rss") MiB"
say "virtlogd RSS idle:               $(bench_kib_to_mib "$(proc_rss_kib "$(virtlogd_pid)")") MiB"

xml_of() { libvirt_domain_xml "$1" "$KERNEL" "$INITRD" "$CMDLINE" "$MEM" "$VCPUS" "$WORK/$1.log"; }

# warm-up (first domain start does some one-off work in libvirtd)
virsh_boot_to_marker warm "$(xml_of warm)" "$WORK/warm.log" "$MARKER" >/dev/null ||
    bad "warm-up boot"

create=() boot=() plain=()
quiet() {   # other work on this 2-core host (parallel test runs) skews figures
    bench_wait_quiet "${2:-10}" "${QUIET_TIMEOUT:-300}" ||
        say "warning: host busy ($(bench_cpu_busy)% CPU) during $1"
}
# measure VAR CMD...: run CMD (prints seconds) on a quiet host; retry (up to
# $TRIES times) while the host was busier than $BUSY_MAX % during it, i.e.
# while something else ran next to the peer.  Sets VAR and VAR_busy.
TRIES=${TRIES:-10}
BUSY_MAX=${BUSY_MAX:-70}
measure() {
    local var=$1 try v="" snap busy=""; shift
    for ((try = 1; try <= TRIES; try++)); do
        quiet "$*"
        snap=$(bench_cpu_snapshot)
        v=$("$@") || { bad "$1 $2"; v=""; break; }
        busy=$(bench_cpu_busy_since "$snap")
        ((busy <= BUSY_MAX)) && break
        say "  (discarded $v s: host ${busy}% busy during $1 $2)"
    done
    printf -v "$var" '%s' "$v"; printf -v "${var}_busy" '%s' "$busy"
}
INIT_MARKER=${INIT_MARKER:-Run /init as init process}
create=() init=() boot=() pinit=() plain=() obefore=() pbefore=()
for ((i = 1; i <= RUNS; i++)); do
    # create (+ destroy) is short and loads both CPUs by itself: no busy check
    BUSY_MAX=100 measure c virsh_create_latency "c$i" "$(xml_of "c$i")"
    measure bi virsh_boot_to_marker "i$i" "$(xml_of "i$i")" "$WORK/i$i.log" "$INIT_MARKER"
    measure b virsh_boot_to_marker "b$i" "$(xml_of "b$i")" "$WORK/b$i.log" "$MARKER"
    PLAIN_QEMU_LOG=$WORK/pi$i.log measure pi plain_qemu_boot_to_marker "$KERNEL" "$INITRD" "$CMDLINE" "$MEM" "$VCPUS" "$INIT_MARKER"
    measure p plain_qemu_boot_to_marker "$KERNEL" "$INITRD" "$CMDLINE" "$MEM" "$VCPUS" "$MARKER"
    # wall time to /init minus the guest's own time at /init: what came
    # before the guest kernel ran (toolstack, QEMU start, firmware)
    sbi=$(bench_guest_stamp "$WORK/i$i.log" "$INIT_MARKER") &&
        obi=$(awk -v w="$bi" -v g="$sbi" 'BEGIN { printf "%.3f", w - g }') || obi=""
    spi=$(bench_guest_stamp "$WORK/pi$i.log" "$INIT_MARKER") &&
        opi=$(awk -v w="$pi" -v g="$spi" 'BEGIN { printf "%.3f", w - g }') || opi=""
    say "run $i: before kernel: virsh ${obi:-?} s, plain QEMU ${opi:-?} s (guest time at /init: ${sbi:-?}, ${spi:-?})"
    say "run $i: virsh create ${c:-?} s; virsh create->/init ${bi:-?} s (${bi_busy}% busy), ->$MARKER ${b:-?} s (${b_busy}%); plain QEMU ->/init ${pi:-?} s (${pi_busy}%), ->$MARKER ${p:-?} s (${p_busy}%)"
    obefore+=(${obi:-}) pbefore+=(${opi:-})
    create+=(${c:-}) init+=(${bi:-}) boot+=(${b:-}) pinit+=(${pi:-}) plain+=(${p:-})
done
say "median virsh create:             $(bench_median "${create[@]}") s   (${create[*]})"
say "median virsh create -> /init:    $(bench_median "${init[@]}") s   (${init[*]})"
say "median virsh create -> $MARKER: $(bench_median "${boot[@]}") s   (${boot[*]})"
say "median plain QEMU -> /init:      $(bench_median "${pinit[@]}") s   (${pinit[*]})"
say "median plain QEMU -> $MARKER:   $(bench_median "${plain[@]}") s   (${plain[*]})"
say "median before guest kernel: virsh $(bench_median "${obefore[@]}") s (${obefore[*]}), plain QEMU $(bench_median "${pbefore[@]}") s (${pbefore[*]})"

# destroy latency of one running guest
quiet destroy
virsh_start d1 "$(xml_of d1)" && bench_wait_marker "$WORK/d1.log" "$MARKER" || bad "d1"
t0=$(bench_now_us); lv_virsh destroy d1 >/dev/null || bad "destroy d1"
say "virsh destroy (booted guest):    $(bench_elapsed "$t0") s"

# virsh list timing (hyperfine, no shell), retried while something else ran
list_bench() {
    local n=$1 try snap busy
    for ((try = 1; try <= TRIES; try++)); do
        quiet "virsh list" 30
        snap=$(bench_cpu_snapshot)
        hyperfine -N --style none --warmup 5 --runs 100 \
            --export-json "$WORK/list.json" "virsh -c $LIBVIRT_URI list" >/dev/null 2>&1 ||
            { bad "hyperfine"; return; }
        busy=$(bench_cpu_busy_since "$snap")
        ((busy <= 75)) && break   # virsh back to back keeps ~60% busy itself
        say "  (discarded virsh list run: host ${busy}% busy)"
    done
    python3 - "$WORK/list.json" "$n" "$busy" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = sorted(r["times"])
print("virsh list (%s domains): median %.1f ms, mean %.1f ms, min %.1f ms, max %.1f ms (%s%% busy)"
      % (sys.argv[2], r["median"] * 1e3, r["mean"] * 1e3, t[0] * 1e3, t[-1] * 1e3, sys.argv[3]))
EOF
}
list_bench 0

# NDOMS running guests: virsh list, libvirtd RSS, per-guest QEMU RSS
for ((i = 1; i <= NDOMS; i++)); do
    virsh_start "g$i" "$(xml_of "g$i")" || bad "start g$i"
done
for ((i = 1; i <= NDOMS; i++)); do
    bench_wait_marker "$WORK/g$i.log" "$MARKER" 300 ||
        { bad "g$i did not boot"; tail -n 5 "$WORK/g$i.log"; keep=1; }
done
sleep 5   # let the guests settle into idle
say "CPU busy with $NDOMS idle guests: $(bench_cpu_busy 2)%"
say "running domains: $(lv_virsh list --name | grep -c .)"
list_bench "$NDOMS"
say "libvirtd RSS with $NDOMS domains:  $(bench_kib_to_mib "$(proc_rss_kib "$(libvirtd_pid)")") MiB"
rss=()
for ((i = 1; i <= NDOMS; i++)); do
    rss+=($(proc_rss_kib "$(libvirt_qemu_pid "g$i")"))
done
say "QEMU RSS per guest (KiB):        ${rss[*]}"
say "median QEMU RSS per guest:       $(bench_kib_to_mib "$(bench_median "${rss[@]}")") MiB"
PLAIN_QEMU_RSS=$WORK/plain.rss plain_qemu_boot_to_marker "$KERNEL" "$INITRD" "$CMDLINE" "$MEM" "$VCPUS" "$MARKER" >/dev/null
say "plain QEMU RSS at marker:        $(bench_kib_to_mib "$(cat "$WORK/plain.rss")") MiB (under load of $NDOMS guests)"

# stop: nothing may be left
t0=$(bench_now_us); libvirt_stop || bad "libvirt_stop"
say "libvirt_stop with $NDOMS domains:   $(bench_elapsed "$t0") s"
# ours: the daemons, tini running libvirt-ns.sh, QEMU started by libvirt
left=$(ps -eo pid,args | grep -E ' (libvirtd|virtlogd)$|libvirt-ns\.sh|/var/lib/libvirt/qemu/domain-' | grep -v grep)
[[ -z $left ]] || bad "left running: $left"
sleep 1   # zombies of reparented processes, if any, are PID 1's to reap
host_state >"$WORK/host.after"
if diff -u "$WORK/host.before" "$WORK/host.after"; then
    say "host network, firewall, mounts, cgroups: unchanged"
else
    bad "host state changed"
fi
libvirt_stop && say "libvirt_stop again: ok (idempotent)"
[[ ${keep:-0} == 1 ]] && say "kept $WORK" || rm -rf "$WORK"
((fail == 0)) && say "peer self-test: OK" || say "peer self-test: FAILED"
exit $fail
