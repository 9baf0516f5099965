#!/usr/bin/python3
"""bench/lib/event-latency.py - how long a guest's pause and resume take to reach a client as
events, from the moment QEMU emitted them (the "timestamp" of its STOP and RESUME events, its
wall clock in microseconds), for bench/bench-events.sh. Not a test.

  event-latency.py kxl SOCKET DOMAIN DOMAIN_LOG N
      kxld's events WebSocket (/api/v1/events?domain=DOMAIN on kxld's Unix socket), its
      "paused" and "unpaused" events timed as they arrive (a reader thread); the pauses asked
      through the API (POST .../pause, .../unpause); QEMU's timestamps from the supervisor's
      debug log DOMAIN_LOG (KXL_DEBUG=1: every QMP message, "qmp: << {...}").
  event-latency.py libvirt URI DOMAIN QMP_SOCKET N
      `virsh event --loop --timestamp --event lifecycle` (virsh's own receipt time, ms), the
      pauses asked with `virsh suspend` and `virsh resume`; QEMU's timestamps from a second QMP
      monitor of the domain's QEMU (QMP_SOCKET, from the domain XML's qemu:commandline), which
      QEMU sends every event too.

Prints one line per event ("pause 1.234" in ms), then "median MS p95 MS n N".
"""
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime

import websocket

SETTLE_S = 0.3   # between a pause and a resume: each event stands alone


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def qemu_stamp(event):
    t = event["timestamp"]
    return t["seconds"] + t["microseconds"] / 1e6


class Arrivals:
    """(arrival time, kind) of events, appended by a reader thread."""

    def __init__(self):
        self.items = []
        self.cond = threading.Condition()

    def add(self, when, kind):
        with self.cond:
            self.items.append((when, kind))
            self.cond.notify_all()

    def wait_count(self, kind, n, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cond:
            while sum(1 for _, k in self.items if k == kind) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    sys.exit(f"event-latency: no '{kind}' event #{n} within {timeout} s")
                self.cond.wait(left)


def pair(stamps, arrivals):
    """For each arrival, the latest QEMU event of its kind at or before it: ms between."""
    out = []
    for when, kind in arrivals:
        before = [t for t, k in stamps if k == kind and t <= when + 0.0005]
        if before:
            out.append((kind, (when - max(before)) * 1000))
    return out


def run_kxl(sock, dom, log, n):
    arrivals = Arrivals()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    ws = websocket.create_connection(f"ws://localhost/api/v1/events?domain={dom}", socket=s)

    def read():
        while True:
            try:
                msg = ws.recv()
            except Exception:
                return
            when = time.time()
            ev = json.loads(msg)
            if ev.get("event") in ("paused", "unpaused"):
                arrivals.add(when, "pause" if ev["event"] == "paused" else "resume")

    threading.Thread(target=read, daemon=True).start()
    api = UnixHTTP(sock)
    for i in range(1, n + 1):
        for verb, kind in (("pause", "pause"), ("unpause", "resume")):
            api.request("POST", f"/api/v1/domains/{dom}/{verb}")
            r = api.getresponse()
            r.read()
            if r.status != 204:
                sys.exit(f"event-latency: POST {verb}: {r.status}")
            arrivals.wait_count(kind, i)
            time.sleep(SETTLE_S)
    stamps = []
    rx = re.compile(r"qmp: << (\{.*\})\s*$")
    with open(log, errors="replace") as f:
        for line in f:
            m = rx.search(line)
            if not m or '"event"' not in m.group(1):
                continue
            ev = json.loads(m.group(1))
            if ev.get("event") in ("STOP", "RESUME"):
                stamps.append((qemu_stamp(ev), "pause" if ev["event"] == "STOP" else "resume"))
    return pair(stamps, arrivals.items)


def qmp_follow(path, stamps_out, ready):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rwb", buffering=0)
    json.loads(f.readline())                       # the greeting
    f.write(b'{"execute": "qmp_capabilities"}\n')
    json.loads(f.readline())
    ready.set()
    for line in f:
        ev = json.loads(line)
        if ev.get("event") in ("STOP", "RESUME"):
            stamps_out.append((qemu_stamp(ev), "pause" if ev["event"] == "STOP" else "resume"))


def virsh_time(text):
    # "2026-12-07 02:50:00.123+0000"
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f%z").timestamp()


def run_libvirt(uri, dom, qmp_path, n):
    arrivals = Arrivals()
    stamps = []
    ready = threading.Event()
    threading.Thread(target=qmp_follow, args=(qmp_path, stamps, ready), daemon=True).start()
    if not ready.wait(30):
        sys.exit(f"event-latency: no QMP greeting on {qmp_path}")
    ev = subprocess.Popen(["virsh", "-c", uri, "event", "--domain", dom, "--event",
                           "lifecycle", "--loop", "--timestamp"], stdout=subprocess.PIPE,
                          text=True)
    rx = re.compile(r"^(\S+ \S+): event 'lifecycle' for domain '?[^:]*'?: (Suspended|Resumed)")

    def read():
        for line in ev.stdout:
            m = rx.match(line)
            if m:
                arrivals.add(virsh_time(m.group(1)),
                             "pause" if m.group(2) == "Suspended" else "resume")

    threading.Thread(target=read, daemon=True).start()
    time.sleep(1)   # virsh registered its callback
    try:
        for i in range(1, n + 1):
            for verb, kind in (("suspend", "pause"), ("resume", "resume")):
                subprocess.run(["virsh", "-q", "-c", uri, verb, dom], check=True,
                               stdout=subprocess.DEVNULL)
                arrivals.wait_count(kind, i)
                time.sleep(SETTLE_S)
    finally:
        ev.kill()
        ev.wait()
    return pair(stamps, arrivals.items)


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("kxl", "libvirt"):
        sys.exit(__doc__)
    mode, a, dom, b, n = sys.argv[1:]
    pairs = (run_kxl if mode == "kxl" else run_libvirt)(a, dom, b, int(n))
    if len(pairs) < 2 * int(n):
        sys.exit(f"event-latency: {len(pairs)} events paired with QEMU's, not {2 * int(n)}")
    for kind, ms in pairs:
        print(f"{kind} {ms:.3f}")
    ms = sorted(m for _, m in pairs)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    mid = len(ms) // 2
    median = ms[mid] if len(ms) % 2 else (ms[mid - 1] + ms[mid]) / 2
    print(f"median {median:.3f} p95 {p95:.3f} n {len(ms)}")


if __name__ == "__main__":
    main()
