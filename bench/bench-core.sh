#!/bin/bash
# bench/bench-core.sh - kxl against its peers in the same run (not a test):
#  (a) create until the guest's readiness marker: kxl vs libvirt (`virsh
#      create`, libvirt's default machine) vs plain qemu-system-x86_64 with
#      its default options, same kernel, initramfs and accelerator (TCG here);
#  (b) `kxl list` with 10 running domains vs `virsh list` with 10 (hyperfine);
#  (c) resident memory: kxl's supervisor, and QEMU per domain under kxl vs
#      under libvirt, for the same guest.
#  (a) also, for kxl and libvirt side by side: the time before the guest's
#      kernel clock starts (wall time from the command to the console line
#      'Run /init', minus that line's printk time: what the toolstack, QEMU and
#      the firmware own), and how long the create command takes to return
#      with the guest running.
# Prints medians and ratios. Targets (issue "kxl core"): boot ≤ 0.6× libvirt,
# list ≤ 0.2× virsh list, supervisor RSS ≤ 4 MiB, QEMU RSS ≤ libvirt's;
# (issue 11) before the kernel ≤ 0.1× libvirt, create returns ≤ 0.25× virsh; next to the
# first, plain QEMU booting kxl's PVH ELF with no toolstack: the floor of that figure here.
#
#   bench/bench-core.sh [RUNS]       (as root; RUNS of (a), default 5)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib/common.sh"
. "$HERE/lib/libvirt.sh"
bench_lock 3600 || { echo "bench-core: another benchmark holds $BENCH_LOCK" >&2; exit 1; }
. "$HERE/lib/qemu.sh"

RUNS=${1:-5}
GUEST=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
KXL=$TOP/build/src/cli/kxl
MEM=256
# tsc_early_khz: under TCG the guest kernel's first TSC calibration against the PIT often
# fails and it falls back to a slower one, restarting its printk clock only then (0.1-0.6 s
# of the kernel's own work that "before the kernel" would otherwise count as the toolstack's,
# and the cause of that figure's bimodal spread). Told the TSC's rate, the kernel's clock
# runs from its first instructions. The same line for every peer; on a KVM host kvmclock
# makes it moot. The host's rate is the guest's under TCG (QEMU passes the host's TSC).
host_tsc_khz() { awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo; }
CMDLINE="console=ttyS0 kxl.hostname=bench kxl.hb=0 tsc_early_khz=$(host_tsc_khz)"
MARKER="KXL-READY"
INIT_MARKER="Run /init"
export KXL_ROOT=$(mktemp -d /tmp/kxl-bench.XXXXXX)
WORK=$KXL_ROOT/work
mkdir -p "$WORK"

cleanup() {
    for d in $("$KXL" list 2>/dev/null | awk 'NR > 2 {print $1}'); do
        "$KXL" destroy "$d" >/dev/null 2>&1 || true
    done
    libvirt_stop >/dev/null 2>&1 || true
    rm -rf "$KXL_ROOT"
}
trap cleanup EXIT

setup() {
    "$TOP/tools/install-deps.sh" >/dev/null
    "$TOP/tools/build.sh" >/dev/null
    "$TOP/tests/guest/build.sh" >/dev/null
    libvirt_install >/dev/null
    command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
    libvirt_start
}

kxl_cfg() {
    cat >"$WORK/$1.cfg" <<CFG
name = "$1"
memory = $MEM
vcpus = 1
kernel = "$GUEST/vmlinuz"
ramdisk = "$GUEST/initrd.img"
cmdline = "$CMDLINE"
CFG
    echo "$WORK/$1.cfg"
}

# after_start T0 T_RETURNED LOG: waits for 'Run /init', then the marker, on LOG; prints
# "TOTAL BEFORE_KERNEL RETURNED" in seconds: T0 to the marker; T0 to 'Run /init' minus that
# line's printk time; T0 to T_RETURNED (the create command returned).
after_start() {
    local t0=$1 tr=$2 log=$3 ti t1 stamp
    bench_wait_marker "$log" "$INIT_MARKER" || { echo "no '$INIT_MARKER' in $log" >&2; return 1; }
    ti=$(bench_now_us)
    bench_wait_marker "$log" "$MARKER" || { echo "no marker in $log" >&2; return 1; }
    t1=$(bench_now_us)
    stamp=$(bench_guest_stamp "$log" "$INIT_MARKER") || { echo "no printk time in $log" >&2; return 1; }
    echo "$(bench_elapsed "$t0" "$t1") $(awk -v a="$(bench_elapsed "$t0" "$ti")" -v s="$stamp" \
        'BEGIN { printf "%.3f", a - s }') $(bench_elapsed "$t0" "$tr")"
}

# kxl_boot_to_marker NAME: "TOTAL BEFORE_KERNEL RETURNED" (after_start) for `kxl create`;
# leaves it running
kxl_boot_to_marker() {
    local cfg t0 tr log=$KXL_ROOT/var/log/kxl/$1.console.log
    cfg=$(kxl_cfg "$1")
    rm -f "$log"
    t0=$(bench_now_us)
    "$KXL" create -q "$cfg" 2>/dev/null
    tr=$(bench_now_us)
    after_start "$t0" "$tr" "$log" || { echo "kxl: $1 did not boot" >&2; return 1; }
}

# virsh_boot_rss NAME XML LOG: "TOTAL BEFORE_KERNEL RETURNED" (after_start) for `virsh
# create`, also keeping QEMU's RSS at the marker
virsh_boot_rss() {
    local t0 tr out
    rm -f "$3"
    t0=$(bench_now_us)
    virsh_start "$1" "$2" || return 1
    tr=$(bench_now_us)
    out=$(after_start "$t0" "$tr" "$3") || { echo "virsh: $1 did not boot" >&2; return 1; }
    proc_rss_kib "$(libvirt_qemu_pid "$1")" >"$WORK/lv.rss"   # we run in $(...)
    virsh_stop "$1"
    echo "$out"
}

# plain_pvh_before_kernel: the floor of the time before the kernel for kxl's way of booting:
# plain QEMU (no toolstack; -machine pc -nodefaults, SeaBIOS) given the same PVH ELF kxl made
# of the guest's kernel; prints the seconds from QEMU's start to 'Run /init' minus its printk
# time.
plain_pvh_before_kernel() {
    local elf log=$WORK/pvh.log t0 ti stamp pid
    elf=$(ls "$KXL_ROOT"/var/lib/kxl/pvh-kernels/*.elf 2>/dev/null | head -1)
    [ -n "$elf" ] || { echo "no PVH ELF in kxl's cache" >&2; return 1; }
    rm -f "$log"
    t0=$(bench_now_us)
    "$PLAIN_QEMU" -accel tcg -machine pc -nodefaults -m "$MEM" -kernel "$elf" \
        -initrd "$GUEST/initrd.img" -append "$CMDLINE" -display none -serial "file:$log" \
        </dev/null >/dev/null 2>&1 &
    pid=$!
    bench_wait_marker "$log" "$INIT_MARKER" || { kill "$pid"; wait "$pid"; return 1; }
    ti=$(bench_now_us)
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    stamp=$(bench_guest_stamp "$log" "$INIT_MARKER") || return 1
    awk -v a="$(bench_elapsed "$t0" "$ti")" -v s="$stamp" 'BEGIN { printf "%.3f\n", a - s }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

bench_boot() {
    local k=() v=() q=() kp=() vp=() qp=() kr=() vr=() i t p r xml
    echo "== (a) create to '$MARKER' on the console, $RUNS runs each (TCG)"
    for ((i = 0; i < RUNS; i++)); do
        bench_wait_quiet 15 120 || true
        read -r t p r < <(kxl_boot_to_marker "boot$i"); k+=("$t"); kp+=("$p"); kr+=("$r")
        KXL_QEMU_PID=$(awk '/^qemu_pid/ {print $2}' "$KXL_ROOT/run/kxl/boot$i/status")
        SV_PID=$(awk '/^sv_pid/ {print $2}' "$KXL_ROOT/run/kxl/boot$i/status")
        KXL_QEMU_RSS=$(proc_rss_kib "$KXL_QEMU_PID"); SV_RSS=$(proc_rss_kib "$SV_PID")
        "$KXL" destroy "boot$i"
        bench_wait_quiet 15 120 || true
        xml=$(libvirt_domain_xml "lvboot$i" "$GUEST/vmlinuz" "$GUEST/initrd.img" \
            "$CMDLINE" "$MEM" 1 "$WORK/lv$i.log")
        read -r t p r < <(virsh_boot_rss "lvboot$i" "$xml" "$WORK/lv$i.log"); v+=("$t"); vp+=("$p")
        vr+=("$r")
        LV_QEMU_RSS=$(cat "$WORK/lv.rss")
        bench_wait_quiet 15 120 || true
        t=$(PLAIN_QEMU_RSS=$WORK/pq.rss plain_qemu_boot_to_marker "$GUEST/vmlinuz" \
            "$GUEST/initrd.img" "$CMDLINE" "$MEM" 1 "$MARKER"); q+=("$t")
        bench_wait_quiet 15 120 || true
        qp+=("$(plain_pvh_before_kernel)")
        echo "  run $i: kxl ${k[-1]} s, virsh ${v[-1]} s, qemu ${q[-1]} s;" \
             "before the kernel: kxl ${kp[-1]} s, virsh ${vp[-1]} s, plain QEMU (PVH) ${qp[-1]} s;" \
             "create returned: kxl ${kr[-1]} s, virsh ${vr[-1]} s"
    done
    BOOT_K=$(bench_median "${k[@]}"); BOOT_V=$(bench_median "${v[@]}"); BOOT_Q=$(bench_median "${q[@]}")
    echo "  median: kxl $BOOT_K s, virsh $BOOT_V s, plain qemu $BOOT_Q s"
    echo "  ratio kxl/virsh $(ratio "$BOOT_K" "$BOOT_V") (target <= 0.60), kxl/qemu $(ratio "$BOOT_K" "$BOOT_Q")"
    local pk pv rk rv
    pk=$(bench_median "${kp[@]}"); pv=$(bench_median "${vp[@]}")
    rk=$(bench_median "${kr[@]}"); rv=$(bench_median "${vr[@]}")
    echo "  before the guest's kernel clock starts (median): kxl $pk s, virsh $pv s," \
         "ratio $(ratio "$pk" "$pv") (target <= 0.10)"
    local pq
    pq=$(bench_median "${qp[@]}")
    echo "  the same for plain QEMU with kxl's PVH ELF, no toolstack (the floor): $pq s," \
         "ratio to virsh $(ratio "$pq" "$pv"); kxl's own share $(awk -v a="$pk" -v b="$pq" \
         'BEGIN { printf "%.3f", a - b }') s"
    echo "  create returns with the guest running (median): kxl $rk s, virsh $rv s," \
         "ratio $(ratio "$rk" "$rv") (target <= 0.25)"
}

bench_list() {
    local i xml
    echo "== (b) listing 10 running domains"
    for i in $(seq 1 10); do "$KXL" create -q "$(kxl_cfg "l$i")" 2>/dev/null; done
    # measured once all ten have booted and settled, the same for both
    for i in $(seq 1 10); do bench_wait_marker "$KXL_ROOT/var/log/kxl/l$i.console.log" "$MARKER"; done
    bench_wait_quiet 30 120 || true
    hyperfine -N --warmup 5 --runs 100 --export-json "$WORK/kl.json" "$KXL list" >/dev/null
    LIST_K=$(awk -F': ' '/"median"/ {gsub(/,/,"",$2); print $2 * 1000; exit}' "$WORK/kl.json")
    [ "$("$KXL" list | tail -n +3 | wc -l)" -eq 10 ] || echo "  warning: kxl list did not show 10 domains"
    for i in $(seq 1 10); do "$KXL" destroy "l$i"; done
    for i in $(seq 1 10); do
        xml=$(libvirt_domain_xml "lv$i" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$CMDLINE" "$MEM" 1 \
            "$WORK/lvl$i.log")
        virsh_start "lv$i" "$xml" >/dev/null
    done
    for i in $(seq 1 10); do bench_wait_marker "$WORK/lvl$i.log" "$MARKER"; done
    bench_wait_quiet 30 120 || true
    hyperfine -N --warmup 5 --runs 100 --export-json "$WORK/vl.json" \
        "virsh -c $LIBVIRT_URI list" >/dev/null
    LIST_V=$(awk -F': ' '/"median"/ {gsub(/,/,"",$2); print $2 * 1000; exit}' "$WORK/vl.json")
    LIBVIRTD_RSS=$(proc_rss_kib "$(libvirtd_pid)")
    for i in $(seq 1 10); do virsh_stop "lv$i"; done
    echo "  median: kxl list ${LIST_K} ms, virsh list ${LIST_V} ms"
    echo "  ratio kxl/virsh $(ratio "$LIST_K" "$LIST_V") (target <= 0.20)"
}

bench_memory() {
    echo "== (c) resident memory (guest booted to its marker, $MEM MiB guest)"
    echo "  kxl supervisor:      $(bench_kib_to_mib "$SV_RSS") MiB (target <= 4 MiB)"
    echo "  QEMU under kxl:      $(bench_kib_to_mib "$KXL_QEMU_RSS") MiB"
    echo "  QEMU under libvirt:  $(bench_kib_to_mib "$LV_QEMU_RSS") MiB "
    echo "  plain QEMU:          $(bench_kib_to_mib "$(cat "$WORK/pq.rss")") MiB"
    echo "  libvirtd:            $(bench_kib_to_mib "$LIBVIRTD_RSS") MiB"
    echo "  ratio QEMU kxl/libvirt $(ratio "$KXL_QEMU_RSS" "$LV_QEMU_RSS") (target <= 1.00)"
}

setup
bench_boot
bench_list
bench_memory
