"""End-to-end tests of kxld's WebSockets, with real guests: the events WebSocket shows the
sequence of a domain made and ended through the API (kxld's own "appeared" and "gone" around
the supervisor's events), the console WebSocket carries the guest's serial console both ways
to several clients at once. The client is websocket-client (Debian's python3-websocket), on
the daemon's Unix socket."""

import json
import os
import socket
import statistics
import sys
import threading
import time

try:
    import websocket
except ImportError:
    # Debian's python3-websocket (pure Python) for a python3 that is not Debian's own
    sys.path.append("/usr/lib/python3/dist-packages")
    import websocket

from test_kxld import KxldTestCase

LIFECYCLE = {"appeared", "started", "paused", "unpaused", "destroyed", "gone"}


class WsClient:
    """A WebSocket on kxld's socket (a Unix socket path, or a connected socket), its frames
    read as they come by a thread: (arrival time, opcode, payload)."""

    def __init__(self, sock, path, header=None):
        if isinstance(sock, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(sock)
            sock = s
        self.ws = websocket.create_connection("ws://localhost" + path, socket=sock,
                                              header=header or [])
        sock.settimeout(None)
        self.frames = []
        self.close_code = self.close_reason = None
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while True:
            try:
                f = self.ws.recv_frame()
            except Exception:   # the connection went without a close frame
                f = None
            with self.cond:
                if f is None or f.opcode == websocket.ABNF.OPCODE_CLOSE:
                    data = f.data if f is not None else b""
                    self.close_code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 0
                    self.close_reason = data[2:].decode(errors="replace")
                    self.cond.notify_all()
                    return
                if f.opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                    self.frames.append((time.time(), f.opcode, f.data))
                    self.cond.notify_all()

    def events(self):
        with self.cond:
            return [(t, json.loads(d)) for t, op, d in self.frames]

    def output(self):
        with self.cond:
            return b"".join(d for _, _, d in self.frames)

    def wait(self, predicate, timeout=60, what="it"):
        """Waits until predicate(self) holds; fails naming what was awaited."""
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self) or self.close_code is not None,
                                      timeout) or not predicate(self):
                raise AssertionError(f"WebSocket: {what} not seen within {timeout} s (closed: "
                                     f"{self.close_code} {self.close_reason!r}); got "
                                     f"{b''.join(d for _, _, d in self.frames)[-2000:]!r}")

    def wait_closed(self, timeout=30):
        with self.cond:
            self.cond.wait_for(lambda: self.close_code is not None, timeout)
            return self.close_code, self.close_reason

    def send(self, text):
        self.ws.send(text)

    def close(self):
        try:
            self.ws.close(timeout=2)
        except Exception:
            pass
        self.thread.join(5)


class KxldWebSocketTest(KxldTestCase):

    def setUp(self):
        super().setUp()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        super().tearDown()

    def ws(self, path):
        c = WsClient(self.sock_path, path)
        self.clients.append(c)
        return c

    def names(self, client, domain):
        return [e["event"] for _, e in client.events()
                if e["domain"] == domain and e["event"] in LIFECYCLE]

    def test_events_websocket_shows_a_domain_from_create_to_gone(self):
        self.start_kxld()
        everything = self.ws("/api/v1/events")
        mine = self.ws("/api/v1/events?domain=ev")
        other = self.ws("/api/v1/events?domain=other")
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": self.write_cfg("ev")})
        self.assertEqual(status, 201, d)
        self.wait_console("ev", r"KXL-HB 1\b")
        for op in ("pause", "unpause"):
            status, _, reply = self.api("POST", f"/api/v1/domains/ev/{op}")
            self.assertEqual(status, 204, reply)
        status, _, reply = self.api("DELETE", "/api/v1/domains/ev")
        self.assertEqual(status, 204, reply)
        everything.wait(lambda c: "gone" in self.names(c, "ev"), what="'gone' of ev")
        # "gone" means out of the list: a client that reads it on the event does not find it
        status, _, doms = self.api("GET", "/api/v1/domains")
        self.assertEqual((status, [x["name"] for x in doms]), (200, []))
        mine.wait(lambda c: "gone" in self.names(c, "ev"), what="'gone' of ev")
        want = ["appeared", "started", "paused", "unpaused", "destroyed", "gone"]
        self.assertEqual(self.names(everything, "ev"), want)
        self.assertEqual([e for _, e in mine.events()], [e for _, e in everything.events()])
        self.assertEqual([e for _, e in other.events()], [], "?domain=other sees nothing of ev")
        events = [e for _, e in everything.events()]
        for e in events:
            self.validate(e, "Event")
        appeared = events[0]
        self.assertEqual((appeared["event"], appeared["data"]["domid"]), ("appeared", d["domid"]))
        # the supervisor's events arrive in order, each at once
        seqs = [e["seq"] for e in events if "seq" in e]
        self.assertEqual(seqs, sorted(seqs))
        # a new domain's first events are its history, read when kxld finds it (a look every
        # 200 ms); from the pause on they are live
        timed = everything.events()
        live = next(i for i, (_, e) in enumerate(timed) if e["event"] == "paused")
        lag = [t - e["time"] for t, e in timed[live:] if "seq" in e]
        print(f"\nkxld events WebSocket: {len(lag)} live supervisor events, delivered after the "
              f"event: median {statistics.median(lag) * 1000:.1f} ms, max "
              f"{max(lag) * 1000:.1f} ms", file=sys.stderr)
        self.assertLess(max(lag), 1.0, "an event waited in kxld")

    def test_events_websocket_refuses_a_bad_filter(self):
        self.start_kxld()
        c = self.ws("/api/v1/events?domain=x/y")
        code, reason = c.wait_closed()
        self.assertEqual((code, reason), (1011, "?domain='x/y': not a domain name"))
        status, _, e = self.api("GET", "/api/v1/events")
        self.assert_error(status, 426, "invalid", e)

    def test_console_websocket_both_ways_for_two_clients(self):
        self.start_kxld()
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": self.write_cfg("con")})
        self.assertEqual(status, 201, d)
        self.wait_ready("con")
        a = self.ws("/api/v1/domains/con/console")
        b = self.ws(f"/api/v1/domains/{d['domid']}/console")   # a domain by its id
        for c in (a, b):   # the scrollback comes first
            c.wait(lambda c: b"KXL-READY hostname=con" in c.output(), what="the scrollback")
        a.send("\r")
        a.wait(lambda c: b"con# " in c.output(), what="the guest's prompt")
        a.send("echo $((6 * 7))-KXL-WS-ANSWER\r")
        for c in (a, b):   # both see what the guest answered the one who typed
            c.wait(lambda c: b"42-KXL-WS-ANSWER" in c.output(), what="the guest's answer")
        self.assertIn("42-KXL-WS-ANSWER", self.console_log("con"), "the console log has it too")
        self.assertTrue(all(op == websocket.ABNF.OPCODE_BINARY for _, op, _ in a.frames))
        status, _, reply = self.api("DELETE", "/api/v1/domains/con")
        self.assertEqual(status, 204, reply)
        for c in (a, b):
            self.assertEqual(c.wait_closed(), (1000, "the console closed: the domain ended"))
        self.assert_gone("con")

    def test_console_websocket_of_no_domain_says_why(self):
        self.start_kxld()
        c = self.ws("/api/v1/domains/nosuch/console")
        self.assertEqual(c.wait_closed(), (1011, "domain 'nosuch' does not exist"))
        status, _, doms = self.api("GET", "/api/v1/domains")   # the daemon goes on
        self.assertEqual((status, doms), (200, []))
