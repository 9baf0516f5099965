#!/usr/bin/env python3
"""What kxl's short-lived programs load at every start: none of them may link a library
that tests/data/linkage.txt does not allow them. OpenSSL crept into kxl and every
supervisor once (libkxl's tls-setup code, reached from a path helper) and cost each start
5 ms of CPU and the supervisor 1.4 MiB of resident memory; this test keeps such a
dependency from coming back unnoticed. Usage: test_linkage.py ALLOWED_FILE NAME=PATH..."""
import re
import subprocess
import sys


def needed(path):
    out = subprocess.run(["readelf", "-d", path], check=True, capture_output=True,
                         text=True).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def allowed_of(path):
    allowed = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line:
            name, libs = line.split(":", 1)
            allowed[name.strip()] = set(libs.split())
    return allowed


def main():
    allowed = allowed_of(sys.argv[1])
    bad = 0
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        extra = sorted(needed(path) - allowed[name] - allowed.get("*", set()))
        if extra:
            print(f"{name} links {', '.join(extra)}: not in {sys.argv[1]} (if it must, add it "
                  "there and say why; it is loaded at every start)")
            bad += 1
    if not bad:
        print(f"{len(sys.argv) - 2} programs link only what they may")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
