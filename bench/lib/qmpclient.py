"""qmpclient.py - the small QMP client of the benchmarks' plain-QEMU floors (qmp-save.py,
migrate-bench.py): connects (retrying while QEMU starts), negotiates, runs commands, passes a
descriptor with one (SCM_RIGHTS), skips events, and exits with QEMU's error text."""
import array
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path, who):
        """who prefixes the error a failed command exits with ("qmp-save")."""
        self.who = who
        self.sock = socket.socket(socket.AF_UNIX)
        for _ in range(1000):
            try:
                self.sock.connect(path)
                break
            except OSError:
                time.sleep(0.01)
        self.file = self.sock.makefile("r")
        self.file.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, fd=None, **args):
        msg = (json.dumps({"execute": name, "arguments": args}) + "\n").encode()
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))] if fd else []
        self.sock.sendmsg([msg], anc)
        while True:
            reply = json.loads(self.file.readline())
            if "event" in reply:
                continue
            if "error" in reply:
                sys.exit(f"{self.who}: {name}: {reply['error']['desc']}")
            return reply["return"]
