#!/bin/bash
# The main job, end to end on a fresh Debian bookworm machine (as root):
# install what kxl needs, build it, build the test guest from Debian packages,
# then boot the demo domain with its console attached. The demo guest powers
# itself off after a few seconds, which ends the domain and the console.
set -euo pipefail
cd "$(dirname "$0")/.."
# No silent failure under set -e: name the step that failed.
trap 'echo "kxl demo: \"$BASH_COMMAND\" failed (line $LINENO; its error is above)" >&2' ERR

echo "kxl demo: [1/4] installing what kxl needs (apt-get; nothing when it is all there)"
tools/install-deps.sh
echo "kxl demo: [2/4] building kxl"
tools/build.sh
echo "kxl demo: [3/4] building the test guest (the first time, downloads Debian's cloud kernel" \
     "and busybox-static, about 30 MB)"
tests/guest/build.sh
echo "kxl demo: [4/4] starting the demo domain (Ctrl+] leaves the console)"
exec build/src/cli/kxl create -c examples/demo.cfg
