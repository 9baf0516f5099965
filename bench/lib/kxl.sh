# bench/lib/kxl.sh — kxl's own side of a benchmark: a private KXL_ROOT, kxld on its socket,
# and leaving nothing behind.
#
# Usage (as root, bash >= 5; KXL and KXLD name the binaries):
#   . bench/lib/kxl.sh
#   kxl_bench_root NAME        # KXL_ROOT=/tmp/kxl-bench-NAME.XXXXXX (exported), WORK=$KXL_ROOT/work
#   kxld_bench_start           # kxld --foreground on $KXL_ROOT/run/kxl/kxld.sock (KXLD_PID),
#                              # returns once it answers; its log is $WORK/kxld.log
#   kxl_bench_cleanup          # destroys every kxl domain, stops kxld, removes KXL_ROOT
#   kxl_bench_cfg NAME MEM CMDLINE [EXTRA]  # a config of the test guest, its path on stdout
#   kxl_bench_paused N PREFIX MEM CMDLINE   # N domains PREFIX1..PREFIXN created paused (no
#                                           # guest runs: cheap), or fails saying how many
#   kxld_bench_start_tls PORT TOKEN [CONF]  # kxld as kxld_bench_start, with a TCP listener
#                                           # on 127.0.0.1:PORT (TLS, a self-signed
#                                           # certificate, TOKEN its one token) and CONF's
#                                           # further kxld.conf lines

kxl_bench_root() {
    KXL_ROOT=$(mktemp -d "/tmp/kxl-bench-$1.XXXXXX")
    export KXL_ROOT
    WORK=$KXL_ROOT/work
    mkdir -p "$WORK"
    KXLD_PID=
}

kxld_bench_start() {
    local sock=$KXL_ROOT/run/kxl/kxld.sock i
    "$KXLD" --foreground --root "$KXL_ROOT" 2>"$WORK/kxld.log" &
    KXLD_PID=$!
    for i in $(seq 1 200); do
        [ -S "$sock" ] && curl -s --fail --unix-socket "$sock" -o /dev/null \
            http://localhost/api/v1/domains && return 0
        sleep 0.05
    done
    echo "kxl.sh: kxld did not answer on $sock: $(cat "$WORK/kxld.log")" >&2
    return 1
}

kxl_bench_cleanup() {
    local d
    for d in $("$KXL" list 2>/dev/null | awk 'NR > 2 {print $1}'); do
        "$KXL" destroy "$d" >/dev/null 2>&1 || true
    done
    if [ -n "${KXLD_PID:-}" ]; then
        kill "$KXLD_PID" 2>/dev/null || true
        wait "$KXLD_PID" 2>/dev/null || true
        KXLD_PID=
    fi
    [ -n "${KXL_ROOT:-}" ] && rm -rf "$KXL_ROOT"
}

kxl_bench_cfg() {
    local guest=${KXL_GUEST_CACHE:-/var/cache/kxl/test-guest}
    cat >"$WORK/$1.cfg" <<CFG
name = "$1"
memory = $2
vcpus = 1
kernel = "$guest/vmlinuz"
ramdisk = "$guest/initrd.img"
cmdline = "$3"
${4:-}
CFG
    printf '%s\n' "$WORK/$1.cfg"
}

kxl_bench_paused() {
    local n=$1 prefix=$2 mem=$3 cmdline=$4 i have
    for i in $(seq 1 "$n"); do
        "$KXL" create -q -p "$(kxl_bench_cfg "$prefix$i" "$mem" "$cmdline")" >/dev/null 2>&1
    done
    have=$("$KXL" list | awk 'NR > 2' | wc -l)
    [ "$have" -eq "$n" ] && return 0
    echo "kxl.sh: $have domains, not $n" >&2
    return 1
}

kxld_bench_start_tls() {
    local port=$1 token=$2 etc=$KXL_ROOT/etc/kxl i
    mkdir -p "$etc"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$etc/kxld.key" -out "$etc/kxld.pem" \
        >/dev/null 2>&1
    printf '%s\n' "$token" >"$etc/tokens"
    chmod 600 "$etc/tokens"
    cat >"$etc/kxld.conf" <<CONF
tcp_port = $port
tls_cert = "etc/kxl/kxld.pem"
tls_key = "etc/kxl/kxld.key"
token_file = "etc/kxl/tokens"
${3:-}
CONF
    kxld_bench_start || return 1
    for i in $(seq 1 200); do
        curl -s -k --fail -o /dev/null -H "Authorization: Bearer $token" \
            "https://127.0.0.1:$port/api/v1/host" && return 0
        sleep 0.05
    done
    echo "kxl.sh: kxld did not answer on port $port: $(cat "$WORK/kxld.log")" >&2
    return 1
}
