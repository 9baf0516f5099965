"""End-to-end tests of a domain's events (`kxl events`, the control socket's "watch"): what a
subscriber sees of a domain's life as the guest lives it, that every subscriber sees the same,
and that one that stops reading is dropped without holding anyone up."""

import json
import os
import socket
import time

from kxltest import KXL, KxlTestCase, Pty, Subscriber, control

LIFECYCLE = {"started", "adopted", "paused", "unpaused", "shutdown", "reboot", "crashed",
             "restarted", "destroyed"}


class EventsTest(KxlTestCase):

    def subscribe(self, *args):
        return Subscriber(self.env, *args)

    @staticmethod
    def read(path):
        with open(path) as f:
            return f.read()

    def test_a_domains_life_in_order(self):
        """create, pause, unpause, a reboot and a poweroff from inside the guest: two
        subscribers see them in that order, the same lines, and end with the domain."""
        self.create("ev")
        subs = [self.subscribe("ev"), self.subscribe("ev")]
        self.wait_ready("ev")
        self.kxl("pause", "ev", check=True)
        self.kxl("unpause", "ev", check=True)
        mark = len(self.console_log("ev"))
        self.guest_run("ev", "reboot")
        self.wait_console("ev", r"KXL-READY", start=mark)
        self.guest_run("ev", "poweroff")
        self.assert_gone("ev", timeout=30)
        outs = []
        for sub in subs:
            code, err, out = sub.wait()
            self.assertEqual(code, 0, err)
            outs.append(out)
        self.assertEqual(outs[0], outs[1], "both subscribers saw the same events")
        events = [json.loads(line) for line in outs[0].splitlines()]
        self.assertEqual([e["event"] for e in events if e["event"] in LIFECYCLE],
                         ["started", "paused", "unpaused", "reboot", "restarted", "shutdown",
                          "destroyed"])
        self.assertEqual([e["seq"] for e in events], list(range(1, len(events) + 1)))
        for e in events:
            self.assertEqual(e["domain"], "ev")
            self.assertAlmostEqual(e["time"], time.time(), delta=300)
        # the state changes follow each other, from starting to gone
        states = [e["data"] for e in events if e["event"] == "state"]
        self.assertEqual(states[0]["from"], "starting")
        self.assertEqual(states[-1]["to"], "gone")
        for a, b in zip(states, states[1:]):
            self.assertEqual(a["to"], b["from"])
        self.assertIn({"from": "running", "to": "restarting", "cause": "restart"}, states)
        shutdown = next(e for e in events if e["event"] == "shutdown")
        self.assertEqual(shutdown["data"], {"reason": "poweroff", "action": "destroy"})
        self.assertEqual(next(e for e in events if e["event"] == "reboot")["data"],
                         {"action": "restart"})

    def test_host_wide_subscriber_sees_new_domains(self):
        """kxl events without a domain picks up a domain created after it started, from its
        start, and goes on after that domain has ended."""
        sub = self.subscribe()
        time.sleep(0.5)
        self.create("h1")
        time.sleep(0.5)                     # it looks every 200 ms
        self.kxl("pause", "h1", check=True)
        self.kxl("destroy", "h1", check=True)
        self.create("h2")
        time.sleep(0.5)
        self.kxl("destroy", "h2", check=True)
        time.sleep(0.5)
        _, _, out = sub.wait(stop=True)
        seen = [(e["domain"], e["event"]) for e in map(json.loads, out.splitlines())
                if e["event"] in LIFECYCLE]
        self.assertEqual(seen, [("h1", "started"), ("h1", "paused"), ("h1", "destroyed"),
                                ("h2", "started"), ("h2", "destroyed")])

    def test_a_subscriber_that_does_not_read_is_dropped(self):
        """A watcher that never reads does not hold up the supervisor: while events pile up
        for it, the console and list answer and another subscriber gets every event; past
        256 KiB it is dropped, and the event log says so."""
        self.create("sl")
        self.wait_ready("sl")
        stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stuck.connect(os.path.join(self.root, "run/kxl/sl/control.sock"))
        stuck.sendall(b'{"execute": "watch"}\n')       # and never a read
        reader = self.subscribe("-n", "sl")
        time.sleep(0.5)
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl.connect(os.path.join(self.root, "run/kxl/sl/control.sock"))
        log = os.path.join(self.root, "var/log/kxl/sl.log")
        slowest = 0.0
        rounds = 0
        start = time.monotonic()
        while "dropped" not in self.read(log):
            self.assertLess(time.monotonic() - start, 120, "the stuck subscriber was not dropped")
            for verb in ("pause", "unpause"):
                t = time.monotonic()
                self.assertIn("return", control(self.root, "sl", {"execute": verb}, ctl))
                slowest = max(slowest, time.monotonic() - t)
            rounds += 1
            if rounds % 100 == 0:
                t = time.monotonic()
                self.kxl("list", check=True)
                slowest = max(slowest, time.monotonic() - t)
        print(f"\n  dropped after {rounds} pause/unpause rounds ({4 * rounds} events) in "
              f"{time.monotonic() - start:.1f} s; slowest request {slowest * 1000:.0f} ms")
        self.assertLess(slowest, 1.0, "no request waited for the stuck subscriber")
        self.assertRegex(self.read(log), r"event subscriber \d+ dropped \(it did not read its "
                                         r"events: 256 KiB were waiting\)")
        # the console still answers, the supervisor goes on, and the reader got everything
        con = Pty([KXL, "console", "sl"], self.env)
        con.send("\r")
        con.expect(r"sl# ")
        con.send("echo still-$((6*7))\r")
        con.expect(r"still-42")
        con.send(b"\x1d")
        con.wait()
        self.kxl("destroy", "sl", check=True)
        code, err, out = reader.wait()
        self.assertEqual(code, 0, err)
        events = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(sum(e["event"] == "paused" for e in events), rounds)
        self.assertEqual(events[-1]["event"], "destroyed")
        # what the stuck one was sent ends; its socket is closed
        stuck.settimeout(10)
        got = b""
        while (chunk := stuck.recv(1 << 20)):
            got += chunk
        self.assertTrue(got.startswith(b'{"return"'))
        stuck.close()
        ctl.close()
