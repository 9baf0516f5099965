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
