#!/usr/bin/env python3
"""test_cli.py - golden test of the kxl command line's answers where no guest is needed: usage
errors, unknown domains, bad names and files. Each tests/data/cli/NAME.cmd holds the arguments
(one line, shell words); NAME.out holds the exit status, stdout and stderr that kxl gives with an
empty KXL_ROOT (its path shows as $ROOT; list's Domain-0 row, the host's, with $MEM, $CPUS and
$TIME for its figures). KXL_TEST_REGENERATE=1 rewrites the .out files; a .out
without a .cmd fails the run.

    test_cli.py KXL_BINARY DATA_DIR
"""
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile


def run_case(kxl, cmd_file):
    with open(cmd_file) as f:
        args = shlex.split(f.read())
    with tempfile.TemporaryDirectory(prefix="kxl-cli-") as root:
        env = dict(os.environ, KXL_ROOT=root, LC_ALL="C")
        r = subprocess.run([kxl, *args], env=env, capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        out = r.stdout.replace(root, "$ROOT")
        # the host's own figures; the row's layout is still checked (but the padding before
        # the time, right-aligned: its width is the host's CPU time's number of digits)
        out = re.sub(r"^(Domain-0 +0) +\d+ +\d+ ( +r-----) +\d+\.\d$",
                     r"\1 $MEM $CPUS\2   $TIME", out, flags=re.M)
        err = r.stderr.replace(root, "$ROOT")
    return f"exit {r.returncode}\n--- stdout\n{out}--- stderr\n{err}"


def main():
    kxl, data = sys.argv[1], sys.argv[2]
    regenerate = os.environ.get("KXL_TEST_REGENERATE") == "1"
    cmds = sorted(glob.glob(os.path.join(data, "*.cmd")))
    failed = 0
    for cmd in cmds:
        want_file = cmd[:-4] + ".out"
        got = run_case(kxl, cmd)
        if regenerate:
            with open(want_file, "w") as f:
                f.write(got)
            continue
        want = open(want_file).read() if os.path.exists(want_file) else "(no .out file)\n"
        if got != want:
            failed += 1
            print(f"FAIL {os.path.basename(cmd)}\n--- want\n{want}--- got\n{got}")
    unused = [o for o in glob.glob(os.path.join(data, "*.out")) if not os.path.exists(o[:-4] + ".cmd")]
    for o in unused:
        failed += 1
        print(f"FAIL unused data file {os.path.basename(o)}")
    print(f"{len(cmds)} cases, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
