#!/bin/bash
# bench/bench-lifecycle.sh - lifecycle latencies, kxl against libvirt on the
# same guest in the same run (not a test):
#  - pause + unpause round trip: `kxl pause`/`kxl unpause` vs `virsh
#    suspend`/`virsh resume` (hyperfine, each pair as one command);
#  - clean shutdown: `kxl shutdown -w` vs `virsh shutdown` + wait until gone
#    (the guest powers off on the ACPI power button in both);
#  - the supervisor's CPU time while its guest idles for 60 s (target: 0,
#    it is event-driven and never polls).
#   bench/bench-lifecycle.sh [RUNS]   (as root; default 5 shutdowns each)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib/common.sh"
. "$HERE/lib/libvirt.sh"
bench_lock 3600 || { echo "bench-lifecycle: another benchmark holds $BENCH_LOCK" >&2; exit 1; }

RUNS=${1:-5}
GUEST=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
KXL=$TOP/build/src/cli/kxl
CMDLINE="console=ttyS0 kxl.hostname=bench kxl.hb=0"
export KXL_ROOT=$(mktemp -d /tmp/kxl-bench.XXXXXX)
WORK=$KXL_ROOT/work
mkdir -p "$WORK"
trap 'for d in lc sd; do "$KXL" destroy $d >/dev/null 2>&1 || true; done; libvirt_stop >/dev/null 2>&1 || true; rm -rf "$KXL_ROOT"' EXIT

"$TOP/tools/install-deps.sh" >/dev/null
"$TOP/tools/build.sh" >/dev/null
"$TOP/tests/guest/build.sh" >/dev/null
libvirt_install >/dev/null
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
libvirt_start

cfg() {
    printf 'name = "%s"\nmemory = 256\nkernel = "%s/vmlinuz"\nramdisk = "%s/initrd.img"\ncmdline = "%s"\n' \
        "$1" "$GUEST" "$GUEST" "$CMDLINE" >"$WORK/$1.cfg"
    echo "$WORK/$1.cfg"
}
kxl_up() {
    "$KXL" create -q "$(cfg "$1")" 2>/dev/null
    bench_wait_marker "$KXL_ROOT/var/log/kxl/$1.console.log" KXL-READY
}
lv_up() {
    virsh_start "$1" "$(libvirt_domain_xml "$1" "$GUEST/vmlinuz" "$GUEST/initrd.img" "$CMDLINE" 256 1 "$WORK/$1.log")"
    bench_wait_marker "$WORK/$1.log" KXL-READY
}
median_ms() { awk -F': ' '/"median"/ {gsub(/,/,"",$2); printf "%.1f", $2 * 1000; exit}' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "== pause + unpause round trip"
kxl_up lc
lv_up lvlc
hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/kp.json" \
    "bash -c '$KXL pause lc && $KXL unpause lc'" >/dev/null
hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/vp.json" \
    "bash -c 'virsh -q -c $LIBVIRT_URI suspend lvlc >/dev/null && virsh -q -c $LIBVIRT_URI resume lvlc >/dev/null'" >/dev/null
KP=$(median_ms "$WORK/kp.json"); VP=$(median_ms "$WORK/vp.json")
echo "  median: kxl ${KP} ms, virsh ${VP} ms, ratio $(ratio "$KP" "$VP")"

echo "== supervisor CPU while the guest idles, 60 s"
SV=$(awk '/^sv_pid/ {print $2}' "$KXL_ROOT/run/kxl/lc/status")
t0=$(awk '{print $14 + $15}' "/proc/$SV/stat")
sleep 60
t1=$(awk '{print $14 + $15}' "/proc/$SV/stat")
echo "  supervisor CPU ticks over 60 s: $((t1 - t0)) (clock ticks of $(getconf CLK_TCK) Hz; target 0)"
"$KXL" destroy lc
virsh_stop lvlc

echo "== clean shutdown (ACPI power button) until the domain is gone, $RUNS runs each"
k=() v=()
for ((i = 0; i < RUNS; i++)); do
    kxl_up sd
    t0=$(bench_now_us); "$KXL" shutdown -w sd; k+=("$(bench_elapsed "$t0")")
    lv_up lvsd
    t0=$(bench_now_us); lv_virsh shutdown lvsd >/dev/null
    while lv_virsh domstate lvsd >/dev/null 2>&1; do sleep 0.01; done
    v+=("$(bench_elapsed "$t0")")
    echo "  run $i: kxl ${k[-1]} s, virsh ${v[-1]} s"
done
KS=$(bench_median "${k[@]}"); VS=$(bench_median "${v[@]}")
echo "  median: kxl $KS s, virsh $VS s, ratio $(ratio "$KS" "$VS")"
