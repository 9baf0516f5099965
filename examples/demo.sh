#!/bin/bash
# The main job, end to end on a fresh Debian bookworm machine (as root):
# install what kxl needs, build it, build the test guest from Debian packages,
# then boot the demo domain with its console attached. The demo guest powers
# itself off after a few seconds, which ends the domain and the console.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
tests/guest/build.sh
echo "kxl: starting the demo domain (Ctrl+] leaves the console)"
exec build/src/cli/kxl create -c examples/demo.cfg
