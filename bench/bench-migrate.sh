#!/bin/bash
# bench/bench-migrate.sh - live migration from host A to host B (network namespaces joined by
# a switch, tests/e2e/twohost.py; a client pings the guest every 10 ms), by kxl over ssh, kxl
# through the relocation server (QEMU's TLS), and plain QEMU driven directly over QMP with the
# same settings, in plain TCP and in TLS (the floors), and libvirt's virsh migrate --live between
# two libvirtd (one in each host's namespaces, distinct host UUIDs; bench/lib/libvirthost.py)
# over qemu+ssh, the memory over plain TCP (virsh) or through libvirt's ssh connection
# (virsh-tunnelled, --p2p --tunnelled): bench/lib/migrate-bench.py. Idle and memory-dirtying guests (a loop of dd
# from /dev/urandom into a tmpfs file of a quarter of the memory); 256 MiB, and 1 GiB with
# BENCH_MIGRATE_BIG=1. Prints each run, the medians and the ratios against the targets
# (issue 13): total <= 1.1x plain QEMU's; downtime <= 50 ms
# idle; <= 3 pings lost at 10 ms; kxl-tls throughput >= 0.8x plain QEMU's with TLS; and
# kxl-ssh against virsh and virsh-tunnelled (both over ssh). Not a test.
#
#   bench/bench-migrate.sh [RUNS]     (as root; default 3)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib/common.sh"
. "$HERE/lib/libvirt.sh"
bench_lock 3600 || { echo "bench-migrate: another benchmark holds $BENCH_LOCK" >&2; exit 1; }

RUNS=${1:-3}
PY=${BENCH_PYTHON:-/usr/bin/python3}
SIZES="256"
[[ ${BENCH_MIGRATE_BIG:-0} == 1 ]] && SIZES="256 1024"

"$TOP/tools/install-deps.sh" --tests >/dev/null
libvirt_install
"$TOP/tools/build.sh" >/dev/null
"$TOP/tests/guest/build.sh" >/dev/null

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

for mem in $SIZES; do
    for load in idle dirty; do
        echo "== $mem MiB guest, $load, $RUNS runs per peer (TCG)"
        declare -A total=() down=() lost=() rate=() proper=()
        for peer in kxl-ssh kxl-tls qemu qemu-tls virsh virsh-tunnelled; do
            bench_wait_quiet 20 120 || true
            out=$("$PY" "$HERE/lib/migrate-bench.py" "$TOP" "$mem" "$load" "$peer" "$RUNS")
            grep -v '^median ' <<<"$out"
            read -r _ _ t d l r p < <(grep '^median ' <<<"$out")
            total[$peer]=$t; down[$peer]=$d; lost[$peer]=$l; rate[$peer]=$r; proper[$peer]=$p
        done
        for peer in kxl-ssh kxl-tls qemu qemu-tls virsh virsh-tunnelled; do
            echo "  median $peer: total ${total[$peer]} s (migration proper ${proper[$peer]} s)," \
                 "downtime ${down[$peer]} ms, ${lost[$peer]} pings lost, ${rate[$peer]} MiB/s"
        done
        echo "  total, end to end: kxl-ssh/qemu $(ratio "${total[kxl-ssh]}" "${total[qemu]}")," \
             "kxl-tls/qemu-tls $(ratio "${total[kxl-tls]}" "${total[qemu-tls]}") (target <= 1.10);" \
             "kxl-ssh/virsh $(ratio "${total[kxl-ssh]}" "${total[virsh]}")," \
             "kxl-ssh/virsh-tunnelled $(ratio "${total[kxl-ssh]}" "${total[virsh-tunnelled]}")"
        echo "  migration proper: kxl-ssh/qemu $(ratio "${proper[kxl-ssh]}" "${proper[qemu]}")," \
             "kxl-tls/qemu-tls $(ratio "${proper[kxl-tls]}" "${proper[qemu-tls]}")," \
             "kxl-ssh/virsh $(ratio "${proper[kxl-ssh]}" "${proper[virsh]}")," \
             "kxl-ssh/virsh-tunnelled $(ratio "${proper[kxl-ssh]}" "${proper[virsh-tunnelled]}")"
        echo "  throughput kxl-tls/qemu-tls $(ratio "${rate[kxl-tls]}" "${rate[qemu-tls]}")," \
             "kxl-ssh/qemu $(ratio "${rate[kxl-ssh]}" "${rate[qemu]}"), kxl-ssh/virsh" \
             "$(ratio "${rate[kxl-ssh]}" "${rate[virsh]}"), kxl-ssh/virsh-tunnelled" \
             "$(ratio "${rate[kxl-ssh]}" "${rate[virsh-tunnelled]}") (target >= 0.80 for TLS)"
        echo "  downtime kxl-ssh ${down[kxl-ssh]} ms, kxl-tls ${down[kxl-tls]} ms" \
             "(target <= 50 ms idle); pings lost kxl-ssh ${lost[kxl-ssh]}," \
             "kxl-tls ${lost[kxl-tls]} (target <= 3); virsh: downtime ${down[virsh]} ms" \
             "(libvirt's Total downtime), ${lost[virsh]} pings lost; virsh-tunnelled:" \
             "${down[virsh-tunnelled]} ms, ${lost[virsh-tunnelled]} lost"
        unset total down lost rate proper
    done
done
