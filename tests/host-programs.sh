#!/bin/bash
# The host programs that kxl and its end-to-end tests run, kept honest in both directions
# (the list is tests/host-programs.txt: one "PROGRAM PACKAGE" a line):
#
#   tests/host-programs.sh check          every listed program is installed (command -v, with
#                                         root's sbin); the fresh-machine check runs this after
#                                         tools/install-deps.sh --tests
#   tests/host-programs.sh wrap DIR LOG   fills DIR with one wrapper per program on PATH that
#                                         appends its name to LOG, then runs the real program
#                                         with the real PATH (what it runs in turn is its
#                                         package's business, not ours) -- except launchers
#                                         (ip netns exec, env, ...), whose command is ours
#   tests/host-programs.sh verify LOG     every program in LOG is on the list
#
# tests/run-all.sh runs the end-to-end tests with PATH=DIR:$PATH, then verify: a test or a kxl
# code path that runs a program nobody listed (and so nobody installs) fails the suite.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIST=$HERE/host-programs.txt
SBIN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

usage() { sed -n '5,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# The list without comments: "PROGRAM PACKAGE" lines.
entries() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$LIST"; }

check() {
    local missing=0 prog pkg
    while read -r prog pkg; do
        if ! PATH=$PATH:$SBIN_PATH command -v "$prog" >/dev/null; then
            echo "host-programs: $prog is not installed (package $pkg: add it to tools/install-deps.sh)" >&2
            missing=$((missing + 1))
        fi
    done < <(entries)
    [ "$missing" = 0 ] || { echo "host-programs: $missing program(s) missing" >&2; return 1; }
    echo "host-programs: all $(entries | wc -l) programs of $LIST are installed"
}

# Programs that run a command given to them: that command is still the caller's, so they keep
# the wrappers in PATH.
LAUNCHERS=" ip env timeout flock nsenter unshare setsid chrt nice "

wrap() {
    local dir=$1 log=$2 d f name real_path=$PATH:$SBIN_PATH path
    mkdir -p "$dir"
    : >"$log"
    IFS=: read -ra dirs <<<"$real_path"
    for d in "${dirs[@]}"; do
        [ -d "$d" ] && [ "$d" != "$dir" ] || continue
        for f in "$d"/*; do
            name=${f##*/}
            [ -x "$f" ] && [ ! -d "$f" ] && [ ! -e "$dir/$name" ] || continue
            path=$real_path
            [[ $LAUNCHERS == *" $name "* ]] && path=$dir:$real_path
            printf '#!/bin/sh\necho %s >>%s\nPATH=%s exec %s "$@"\n' \
                "$name" "$log" "$path" "$f" >"$dir/$name"
            chmod 0755 "$dir/$name"
        done
    done
}

verify() {
    local log=$1 unlisted
    unlisted=$(sort -u "$log" | grep -vxF -f <(entries | awk '{print $1}') || true)
    if [ -n "$unlisted" ]; then
        echo "host-programs: run by kxl or the end-to-end tests but not in $LIST:" $unlisted >&2
        echo "host-programs: add each with its package, and the package to tools/install-deps.sh --tests" >&2
        return 1
    fi
    echo "host-programs: the end-to-end run used $(sort -u "$log" | wc -l) programs, all listed"
}

case ${1:-} in
check) [ $# = 1 ] || usage; check ;;
wrap) [ $# = 3 ] || usage; wrap "$2" "$3" ;;
verify) [ $# = 2 ] || usage; verify "$2" ;;
*) usage ;;
esac
