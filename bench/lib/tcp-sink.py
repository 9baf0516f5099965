#!/usr/bin/env python3
"""tcp-sink PORT: accepts one TCP connection on 0.0.0.0:PORT, reads until EOF,
prints "BYTES SECONDS MiB/s" measured from the first to the last byte."""
import socket
import sys
import time

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen(1)
conn, _ = srv.accept()
first = last = None
total = 0
while True:
    data = conn.recv(1 << 20)
    if not data:
        break
    now = time.monotonic()
    first = first or now
    last = now
    total += len(data)
secs = (last - first) if first and last and last > first else 1e-9
print(f"{total} {secs:.3f} {total / secs / (1 << 20):.3f}")
