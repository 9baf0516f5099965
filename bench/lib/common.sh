# bench/lib/common.sh — helpers shared by every peer of kxl's benchmarks.
#
# Usage (source it; bash >= 5 for $EPOCHREALTIME):
#   . bench/lib/common.sh
#   t0=$(bench_now_us)                     # wall clock, microseconds (no fork)
#   bench_elapsed "$t0"                    # prints seconds since t0, "3.812"
#   bench_wait_marker LOG MARKER [TIMEOUT] # 0 when MARKER (fixed string) is in
#                                          # LOG, 1 after TIMEOUT s (default
#                                          # $BENCH_BOOT_TIMEOUT or 120)
#   proc_rss_kib PID                       # VmRSS of PID in KiB ("" if gone)
#   bench_kib_to_mib KIB                   # "34.2"
#   bench_median X...                      # median of numbers, "%.3f"
#   bench_pid_alive PID                    # exists and is not a zombie
#   bench_cpu_busy [S]                     # % of all CPUs busy over S seconds
#   bench_wait_quiet [MAX_PCT] [TIMEOUT]   # wait until the host is idle
#   snap=$(bench_cpu_snapshot); bench_cpu_busy_since "$snap"  # % busy since
#   bench_guest_stamp LOG MARKER           # guest printk time of MARKER line
#   bench_lock [TIMEOUT_S]                 # one benchmark at a time (fd 8)
#
# Every peer (kxl, virsh, plain QEMU) must detect its marker with
# bench_wait_marker so they are timed the same way: the console log is polled
# every $BENCH_POLL_S seconds (default 0.01).

: "${BENCH_POLL_S:=0.01}"
: "${BENCH_BOOT_TIMEOUT:=120}"

bench_now_us() {
    local t=$EPOCHREALTIME
    printf '%s\n' "${t//[.,]/}"
}

# bench_elapsed START_US [END_US] -> seconds with ms precision
bench_elapsed() {
    local start=$1 end=${2:-$(bench_now_us)}
    local d=$(( (end - start + 500) / 1000 ))          # ms, rounded
    printf '%d.%03d\n' $(( d / 1000 )) $(( d % 1000 ))
}

bench_wait_marker() {
    local log=$1 marker=$2 timeout=${3:-$BENCH_BOOT_TIMEOUT}
    local now=${EPOCHREALTIME//[.,]/}
    local deadline=$(( now + timeout * 1000000 ))
    while :; do
        if [[ -r $log ]] && grep -qF -- "$marker" "$log"; then
            return 0
        fi
        now=${EPOCHREALTIME//[.,]/}
        (( now < deadline )) || return 1
        sleep "$BENCH_POLL_S"
    done
}

proc_rss_kib() {
    local pid=$1
    [[ -r /proc/$pid/status ]] || return 1
    awk '/^VmRSS:/ { print $2; found = 1 } END { exit !found }' "/proc/$pid/status"
}

bench_kib_to_mib() {
    awk -v k="$1" 'BEGIN { printf "%.1f\n", k / 1024 }'
}

# bench_pid_alive PID: true while PID exists and is not a zombie.
bench_pid_alive() {
    local pid=$1 state
    [[ -r /proc/$pid/stat ]] || return 1
    state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

# bench_median N1 N2 ... -> median (mean of the middle two for an even count)
bench_median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) exit 1
        if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]
        else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_cpu_busy [SECONDS]: percent of all CPUs busy over SECONDS (default 1)
bench_cpu_busy() {
    local a b
    a=($(head -n1 /proc/stat)); sleep "${1:-1}"; b=($(head -n1 /proc/stat))
    awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
        n = split(a, x, " "); split(b, y, " "); tot = 0; idle = 0
        for (i = 2; i <= n; i++) tot += y[i] - x[i]
        idle = (y[5] - x[5]) + (y[6] - x[6])
        printf "%d\n", tot ? 100 * (tot - idle) / tot : 0 }'
}

# bench_wait_quiet [MAX_BUSY_PCT] [TIMEOUT_S]: wait until the host's CPUs are
# less than MAX_BUSY_PCT (default 10) busy over 2 seconds, for at most
# TIMEOUT_S (default 600).  1 if it never got quiet.  Other work on a 2-core
# host (a parallel test run booting TCG guests) skews every figure.
bench_wait_quiet() {
    local max=${1:-10} timeout=${2:-600} busy
    local deadline=$(( ${EPOCHREALTIME//[.,]/} + timeout * 1000000 ))
    while :; do
        busy=$(bench_cpu_busy 2)
        (( busy < max )) && return 0
        (( ${EPOCHREALTIME//[.,]/} < deadline )) || return 1
    done
}

# snap=$(bench_cpu_snapshot); ...; bench_cpu_busy_since "$snap"
#   percent of all CPUs busy between the snapshot and now.  A run during which
#   the host was much busier than the peer itself makes it can be discarded
#   (a 1-vCPU TCG boot keeps about 60% of this 2-core host busy on its own).
bench_cpu_snapshot() {
    awk 'NR == 1 { b = 0; t = 0
        for (i = 2; i <= NF; i++) { t += $i; if (i != 5 && i != 6) b += $i }
        print b, t; exit }' /proc/stat
}
bench_cpu_busy_since() {
    local a=($1) b=($(bench_cpu_snapshot))
    local dt=$(( b[1] - a[1] ))
    (( dt > 0 )) || { echo 0; return 0; }
    echo $(( 100 * (b[0] - a[0]) / dt ))
}

# bench_guest_stamp LOG MARKER: the guest kernel's printk time (seconds since
# the kernel started) on the first line of LOG holding MARKER, e.g. 3.857 for
# "[    3.857141] Run /init as init process".  Wall time to that marker minus
# this is what came before the kernel ran: toolstack, QEMU start, firmware,
# kernel loading — the part that differs between peers, and that depends far
# less than the whole boot on how fast TCG runs at the moment.
bench_guest_stamp() {
    grep -F -m1 -- "$2" "$1" 2>/dev/null |
        sed -n 's/^[^[]*\[ *\([0-9]*\.[0-9]*\)\].*/\1/p' | awk '{ printf "%.3f\n", $1 }' | grep .
}

# bench_lock [TIMEOUT_S]: take $BENCH_LOCK (default /run/kxl-bench/bench.lock)
# exclusively on fd 8 for the rest of the calling shell, waiting at most
# TIMEOUT_S (default 3600; 0 = do not wait).  There is one libvirtd for the
# whole host, so two benchmark runs at once would stop each other's peer (and
# skew each other's figures): every bench script should take this first.
: "${BENCH_LOCK:=/run/kxl-bench/bench.lock}"
bench_lock() {
    local timeout=${1:-3600}
    mkdir -p "$(dirname "$BENCH_LOCK")" || return 1
    exec 8>>"$BENCH_LOCK" || return 1
    if ((timeout == 0)); then flock -n 8; else flock -w "$timeout" 8; fi
}
