"""End-to-end tests of several hosts in one view (issue 15): host A's kxld (TLS on 127.0.0.1,
a token) relays /api/v1/hosts/host-b/... to host B's kxld, a second KXL_ROOT whose TCP listener
uses B's certificate of kxl tls-setup and trusts A's through tls_client_ca (A made the CA and
signed B's). Over real HTTPS: B's domains listed through A, one paused and unpaused through it
(B's own command line sees it, the guest's heartbeat stops and goes on), a job of B's with its
Location rewritten to A's path, B's domain destroyed through A; refused: a host that is no peer
(404), a path that would leave B's /api/v1/ or hop on (400, and B never sees it), a caller
without credentials (401) or a session's change without its CSRF token (403), a peer that is
down or answers with a certificate of another CA (503, saying why). In the browser
(tests/browser/webui_hosts.cjs): both hosts' domains on one dashboard, a peer that is down shown
as unreachable, a peer's domain paused from A's page, and A's domain dragged onto B's section,
confirmed in the Migrate dialog and seen arriving under B; B's domain paused by B's own kxl
pause shows as paused on A's page within a second (the relayed events: no polling), and its
console opens from A's page and answers a command. A peer domain's VNC display through A
(GET /api/v1/hosts/{host}/domains/{name}/vnc: refused 401/403/404 before the upgrade; the RFB
stream of B's guest through it; in the browser noVNC connected at the guest's screen size), and
B's domain dragged onto A's own card, migrated from B to A by A's relay of B's migrate call,
and with a third host C, B's domain dragged onto C's section and moved from B to C
(tests/browser/webui_hosts_peer.cjs). This host's certificate for its peers renewed under a
running kxld A (a new CA for both hosts): the next relayed request and WebSocket use it, no
restart; a certificate that does not match its key is refused, saying so. Screenshots: hosts,
peer-paused, peer-console, drop-migrate, dropped, peer-vnc, peer-drop-migrate,
peer-dropped-here."""

import base64
import contextlib
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import sys
import threading
import time

from hostb import HostB
from test_kxld_tls import TOKEN, TlsKxldTestCase, free_port
from test_kxld_ws import WsClient, websocket
from test_graphics import Rfb, unix_connect
from test_webui import WEB_DIR, browse
from test_webui_manage import WsStream


class SlowPeer:
    """A peer kxld's TCP listener played by the test, for the relay's flow control: TLS with
    host B's certificate (the CA's, for 127.0.0.1), one WebSocket upgrade answered 101, then
    frames sent and read only when the test says (websocket-client's ABNF frames them)."""

    GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, tls_dir):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(tls_dir, "host-cert.pem"),
                                 os.path.join(tls_dir, "host-key.pem"))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conn = None
        self.sent = 0

    def accept(self, answer=True):
        """The relay's connection, upgraded (without answer, the upgrade asked is left
        unanswered): the path it asked for."""
        self.listener.settimeout(30)
        raw, _ = self.listener.accept()
        self.conn = self.ctx.wrap_socket(raw, server_side=True)
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.conn.recv(4096)
        lines = head.decode().split("\r\n")
        key = next(l.split(":", 1)[1].strip() for l in lines
                   if l.lower().startswith("sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key.encode() + self.GUID).digest()).decode()
        if not answer:
            return lines[0].split()[1]
        self.conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")
                          .encode())
        return lines[0].split()[1]

    def flood(self, block, n):
        """Sends n binary messages of block in a thread (blocked while the relay reads none)."""
        frame = websocket.ABNF(1, 0, 0, 0, websocket.ABNF.OPCODE_BINARY, 0, block).format()

        def send():
            for _ in range(n):
                self.conn.sendall(frame)
                self.sent += len(block)
        t = threading.Thread(target=send, daemon=True)
        t.start()
        return t

    def messages(self, n):
        """The next n messages the relay sends (fragments joined)."""
        self.conn.settimeout(60)
        frames = websocket._abnf.frame_buffer(self.conn.recv, True)
        out, part = [], b""
        while len(out) < n:
            f = frames.recv_frame()
            part += f.data
            if f.fin:
                out.append(part)
                part = b""
        return out

    def close(self):
        for s in (self.conn, self.listener):
            if s:
                s.close()


class WebUiHostsTest(HostB, TlsKxldTestCase):

    def setUp(self):
        super().setUp()
        self.setup_host_b()
        self.make_tls()
        self.port_b = free_port()
        self.reloc_port = free_port()

    def tearDown(self):
        try:
            try:
                if getattr(self, "root_c", None):   # a third host's (before the root goes)
                    self.teardown_host_c()
            finally:
                self.teardown_host_b()
        finally:
            super().tearDown()

    def start_hosts(self, down_peer=False, more_peers=(), a_receives=False, b_extra=""):
        """kxld A with B (and, with down_peer, host-c where nothing listens; more_peers) as
        api_peers and B as a relocation peer; kxld B with its TCP listener on B's certificate,
        trusting the CA's clients, and its relocation server. With a_receives, A runs a
        relocation server too (for host-b) and B names it host-a in its relocation_peers."""
        peers = [f"host-b=127.0.0.1:{self.port_b}"] + (["host-c=127.0.0.1:1"] if down_peer else [])
        peers += list(more_peers)
        more_a = {}
        more_b = b_extra
        if a_receives:
            self.reloc_port_a = free_port()
            more_a = {"relocation_server": 1, "relocation_address": "127.0.0.1",
                      "relocation_port": self.reloc_port_a,
                      "relocation_hosts_allow": ["host-b$"]}
            more_b += f'relocation_peers = [ "host-a=127.0.0.1:{self.reloc_port_a}" ]\n'
        self.write_conf(web_dir=WEB_DIR, api_peers=peers,
                        relocation_peers=[f"host-b=127.0.0.1:{self.reloc_port}"], **more_a)
        self.start_kxld()
        self.start_kxld_b(f"tcp_port = {self.port_b}\ntcp_address = \"127.0.0.1\"\n"
                          "tls_cert = \"etc/kxl/tls/host-cert.pem\"\n"
                          "tls_key = \"etc/kxl/tls/host-key.pem\"\n"
                          "tls_client_ca = \"etc/kxl/tls/ca-cert.pem\"\n"
                          "relocation_server = 1\nrelocation_address = \"127.0.0.1\"\n"
                          f"relocation_port = {self.reloc_port}\n"
                          "relocation_hosts_allow = [ \"host-a$\" ]\n" + more_b, ready=None)

    def raw_https(self, method, path, headers=None):
        """A request of A with the token, the path sent as it is: (status, headers, body)."""
        ctx = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=60)
        conn.request(method, path, headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})})
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return r.status, r.headers, body

    def upgrade(self, path, token=None, extra=None):
        """A WebSocket upgrade asked of A that A refuses: (status, headers, body as it came)."""
        headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(), **(extra or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        ctx = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=60)
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return r.status, r.headers, body

    def ws_a(self, path):
        """A WebSocket of A with the token (websocket-client on a TLS socket), its frames read
        as they come (test_kxld_ws.WsClient)."""
        ctx = ssl.create_default_context(cafile=self.cert)
        sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=30),
                               server_hostname="127.0.0.1")
        c = WsClient(sock, path, header=[f"Authorization: Bearer {TOKEN}"])
        self.addCleanup(c.close)
        return c

    def connections_to_b(self):
        """Established TCP connections to B's listener (/proc/net/tcp: both hosts are here)."""
        n = 0
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                n += int(local.split(":")[1], 16) == self.port_b and state == "01"
        return n

    def pause_on_b(self, name):
        """kxl pause on B, by B's own command line (the browser script waits for it on A's
        page): when it began, in milliseconds of the clock the page's Date.now() reads."""
        t0 = time.time()
        with self.host_b():
            self.kxl("pause", name, check=True)
        return {"t0_ms": t0 * 1000}

    def state_on_b(self, name):
        with self.host_b():
            return self.list_json()[name]["state"]

    def test_relay_to_a_peer(self):
        name = "peerdom"
        self.certify_hosts()
        with self.host_b():
            self.create(name)
        self.start_hosts(down_peer=True)
        status, _, hosts = self.https("GET", "/api/v1/hosts", token=TOKEN)
        self.assertEqual((status, hosts), (200, [
            {"name": "host-b", "api": f"127.0.0.1:{self.port_b}"},
            {"name": "host-c", "api": "127.0.0.1:1"}]))
        with self.host_b():
            self.wait_ready(name)
        # B's list through A: what B's command line sees
        status, headers, doms = self.https("GET", "/api/v1/hosts/host-b/domains", token=TOKEN)
        self.assertEqual(status, 200, doms)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual([(d["name"], d["state"]) for d in doms], [(name, "running")])
        for d in doms:
            self.validate(d, "Domain")
        with self.host_b():
            self.assertEqual(self.list_json()[name]["domid"], doms[0]["domid"])
        self.assertEqual(self.domain_names(), [], "A has none of its own")
        # refusals, each before B is asked
        for path, want in (("/api/v1/hosts/nosuch/domains", (404, "not-found")),
                           ("/api/v1/hosts/host-b/hosts/host-b/domains", (400, "invalid"))):
            status, _, e = self.https("GET", path, token=TOKEN)
            self.assert_error(status, *want, e)
        for path in ("/api/v1/hosts/host-b/../../../metrics",
                     "/api/v1/hosts/host-b/%2e%2e/%2e%2e/%2e%2e/metrics",
                     "/api/v1/hosts/host-b/..%2f..%2f..%2fmetrics"):
            status, _, body = self.raw_https("GET", path)
            self.assertIn(status, (400, 404), f"{path}: {body[:200]}")
        self.assertNotIn("/metrics", self.kxld_b_log())
        status, headers, e = self.https("GET", "/api/v1/hosts/host-b/domains")
        self.assert_error(status, 401, "permission", e)
        # a session's change without its CSRF token: refused here, B's domain untouched
        status, headers, s = self.https("POST", "/api/v1/login", body={"token": TOKEN})
        self.assertEqual(status, 200, s)
        cookie = headers["Set-Cookie"].split(";")[0]
        status, _, e = self.https("POST", f"/api/v1/hosts/host-b/domains/{name}/pause",
                                  headers={"Cookie": cookie, "Origin": f"https://127.0.0.1:{self.port}"})
        self.assert_error(status, 403, "permission", e)
        self.assertEqual(self.state_on_b(name), "running")
        # with it: paused on B (the heartbeat stops), unpaused (it goes on)
        status, _, reply = self.https("POST", f"/api/v1/hosts/host-b/domains/{name}/pause",
                                      headers={"Cookie": cookie, "X-CSRF-Token": s["csrf_token"],
                                               "Origin": f"https://127.0.0.1:{self.port}"})
        self.assertEqual(status, 204, reply)
        self.assertEqual(self.state_on_b(name), "paused")
        with self.host_b():
            before = self.console_log(name)
            time.sleep(2.5)
            self.assertEqual(self.console_log(name), before, "the guest ran on while paused")
        status, _, reply = self.https("POST", f"/api/v1/hosts/host-b/domains/{name}/unpause",
                                      token=TOKEN)
        self.assertEqual(status, 204, reply)
        with self.host_b():
            last = max(int(n) for n in re.findall(r"KXL-HB (\d+)", before))
            self.wait_console(name, rf"KXL-HB {last + 1}\b", timeout=30)
        # a job of B's: its Location as A's path to it
        status, headers, job = self.https("DELETE", f"/api/v1/hosts/host-b/domains/{name}",
                                          token=TOKEN, headers={"Prefer": "respond-async"})
        self.assertEqual(status, 202, job)
        self.assertEqual(headers["Location"], f"/api/v1/hosts/host-b/jobs/{job['id']}")
        status, _, job = self.https("GET", headers["Location"] + "/wait?timeout=60", token=TOKEN)
        self.assertEqual((status, job["state"], job["status"]), (200, "succeeded", 204), job)
        self.assertEqual(job["request"], f"DELETE /api/v1/domains/{name}")
        with self.host_b():
            self.assertEqual(self.domain_names(), [])
        # host-c: nothing listens; then B down too: 503 each, saying so, and A serves on
        t0 = time.monotonic()
        status, _, e = self.https("GET", "/api/v1/hosts/host-c/domains", token=TOKEN)
        self.assert_error(status, 503, "host", e)
        self.assertIn("unreachable", e["error"]["message"])
        self.assertLess(time.monotonic() - t0, 10)
        self.stop_kxld_b()
        status, _, e = self.https("GET", "/api/v1/hosts/host-b/domains", token=TOKEN)
        self.assert_error(status, 503, "host", e)
        self.assertIn("host 'host-b' (127.0.0.1:", e["error"]["message"])
        status, _, doms = self.https("GET", "/api/v1/domains", token=TOKEN)
        self.assertEqual((status, doms), (200, []))

    def test_relayed_websockets(self):
        name = "wsdom"
        self.certify_hosts()
        with self.host_b():
            self.create(name)
        # host-d: a listener of the test's own, to see whether A connects to it
        fake = socket.socket()
        fake.bind(("127.0.0.1", 0))
        fake.listen(4)
        fake.settimeout(3)
        self.addCleanup(fake.close)
        self.start_hosts(more_peers=[f"host-d=127.0.0.1:{fake.getsockname()[1]}"])
        with self.host_b():
            self.wait_ready(name)
        # refused before any connection to the peer: an HTTP answer, one line of JSON
        for path, token, want in (("/api/v1/hosts/host-d/events", None, (401, "permission")),
                                  (f"/api/v1/hosts/host-d/domains/{name}/console", None,
                                   (401, "permission")),
                                  ("/api/v1/hosts/nosuch/events", TOKEN, (404, "not-found")),
                                  (f"/api/v1/hosts/nosuch/domains/{name}/console", TOKEN,
                                   (404, "not-found"))):
            status, headers, body = self.upgrade(path, token)
            self.assertEqual(body.count(b"\n"), 0, body)
            self.assert_error(status, *want, json.loads(body))
            self.assertEqual(headers["Content-Type"], "application/json")
            if status == 401:
                self.assertEqual(headers["WWW-Authenticate"], 'Bearer realm="kxld"')
        with self.assertRaises(socket.timeout, msg="A connected to host-d for a refused client"):
            fake.accept()[0].close()
        # the same upgrade with the token does connect (so the check above could fail); host-d
        # speaks no TLS, and the client is told so
        d = self.ws_a("/api/v1/hosts/host-d/events")
        conn, _ = fake.accept()
        conn.close()
        code, reason = d.wait_closed()
        self.assertEqual(code, 1011, reason)
        self.assertIn("host 'host-d' (127.0.0.1:", reason)
        # B's events through A: a pause by B's own command line, within a second
        self.assertEqual(self.connections_to_b(), 0)
        events = self.ws_a(f"/api/v1/hosts/host-b/events?domain={name}")
        other = self.ws_a("/api/v1/hosts/host-b/events?domain=other")
        deadline = time.monotonic() + 10
        while self.connections_to_b() < 2:   # each WebSocket is a connection of A to B
            self.assertLess(time.monotonic(), deadline, self.kxld_log()[-2000:])
            time.sleep(0.05)
        time.sleep(0.5)
        with self.host_b():
            t0 = time.time()
            self.kxl("pause", name, check=True)
        events.wait(lambda c: any(e["event"] == "paused" for _, e in c.events()), timeout=10,
                    what="B's 'paused'")
        arrived, paused = next((t, e) for t, e in events.events() if e["event"] == "paused")
        self.validate(paused, "Event")
        self.assertEqual(paused["domain"], name)
        print(f"\nrelayed events: B's 'paused' reached A's client {(arrived - t0) * 1000:.0f} ms "
              f"after kxl pause began on B ({(arrived - paused['time']) * 1000:.0f} ms after the "
              f"event)", file=sys.stderr)
        self.assertLess(arrived - t0, 1.0, "the pause took more than a second to arrive")
        with self.host_b():
            self.kxl("unpause", name, check=True)
        events.wait(lambda c: any(e["event"] == "unpaused" for _, e in c.events()), timeout=10,
                    what="B's 'unpaused'")
        self.assertEqual([e for _, e in other.events()], [], "?domain= went to B with it")
        # the client's close ends A's connection to B
        other.close()
        deadline = time.monotonic() + 10
        while self.connections_to_b() > 1:
            self.assertLess(time.monotonic(), deadline, "A kept its connection to B")
            time.sleep(0.05)
        # B's console through A, both ways
        console = self.ws_a(f"/api/v1/hosts/host-b/domains/{name}/console")
        console.wait(lambda c: b"KXL-READY hostname=" + name.encode() in c.output(),
                     what="B's scrollback")
        console.send("\r")
        console.wait(lambda c: name.encode() + b"# " in c.output(), what="the guest's prompt")
        console.send("echo $((6*7))-KXL-RELAYED\r")
        console.wait(lambda c: b"42-KXL-RELAYED" in c.output(), what="the guest's answer")
        with self.host_b():
            self.assertIn("42-KXL-RELAYED", self.console_log(name), "B's console log has it")
        # B's close reaches the client, with its code and reason
        with self.host_b():
            self.kxl("destroy", name, check=True)
        self.assertEqual(console.wait_closed(), (1000, "the console closed: the domain ended"))
        events.wait(lambda c: any(e["event"] == "gone" for _, e in c.events()), what="'gone'")
        # B gone: the relayed events close too, and A goes on
        self.stop_kxld_b()
        code, _ = events.wait_closed()
        self.assertIsNotNone(code, "the events WebSocket stayed open without B")
        status, _, doms = self.https("GET", "/api/v1/domains", token=TOKEN)
        self.assertEqual((status, doms), (200, []))

    def stalled(self, count, what):
        """count() once it has stopped growing (the flow control held it): at most 48 MiB."""
        time.sleep(4)
        before = count()
        time.sleep(2)
        self.assertEqual(count(), before, f"{what} went on: nothing held it")
        self.assertLess(before, 48 << 20, f"{what}: {before} bytes taken with none read")
        return before

    def test_relayed_websocket_back_pressure(self):
        """The relay keeps no more than its bound for a side that does not read: a peer that
        sends 128 MiB to a client that reads nothing is stopped (A stops reading it), and so
        is a client that sends 128 MiB to a peer that reads nothing; once the slow side reads,
        every message arrives whole and in order."""
        self.certify_hosts()
        peer = SlowPeer(os.path.join(self.root_b, "etc/kxl/tls"))
        self.addCleanup(peer.close)
        self.write_conf(api_peers=[f"slow=127.0.0.1:{peer.port}"])
        self.start_kxld()
        ctx = ssl.create_default_context(cafile=self.cert)
        sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=30),
                               server_hostname="127.0.0.1")
        client = websocket.create_connection("ws://localhost/api/v1/hosts/slow/events?domain=x",
                                             socket=sock, header=[f"Authorization: Bearer {TOKEN}"])
        self.addCleanup(client.close)
        self.assertEqual(peer.accept(), "/api/v1/events?domain=x")
        block, n = os.urandom(64 << 10), 2048   # 128 MiB
        # the peer faster than the client
        sender = peer.flood(block, n)
        held = self.stalled(lambda: peer.sent, "the peer's sending")
        with open(f"/proc/{self.kxld.pid}/status") as f:
            rss = int(re.search(r"VmRSS:\s+(\d+)", f.read())[1])
        got = [client.recv() for _ in range(n)]
        sender.join(30)
        self.assertEqual((len(got), got.count(block)), (n, n), "a message lost or changed")
        # the client faster than the peer
        sent = [0]

        def send():
            for _ in range(n):
                client.send_binary(block)
                sent[0] += len(block)
        t = threading.Thread(target=send, daemon=True)
        t.start()
        held_in = self.stalled(lambda: sent[0], "the client's sending")
        got = peer.messages(n)
        t.join(30)
        self.assertEqual((len(got), got.count(block)), (n, n), "a message lost or changed")
        print(f"\nrelay flow control: {held >> 20} MiB of 128 taken from a peer the client did "
              f"not read, {held_in >> 20} MiB from a client the peer did not read; kxld A "
              f"{rss >> 10} MiB resident while held", file=sys.stderr)

    def test_closed_before_the_peer_answers(self):
        """A client that closes its relayed WebSocket while the peer has not answered the
        upgrade yet: the connection to the peer ends with it, and kxld goes on (it once used
        the peer's connection after libwebsockets had freed it: a crash)."""
        self.certify_hosts()
        peer = SlowPeer(os.path.join(self.root_b, "etc/kxl/tls"))
        self.addCleanup(peer.close)
        self.write_conf(api_peers=[f"slow=127.0.0.1:{peer.port}"])
        self.start_kxld()
        for what in ("events?domain=x", "domains/x/console", "domains/x/vnc"):
            ctx = ssl.create_default_context(cafile=self.cert)
            sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=30),
                                   server_hostname="127.0.0.1")
            client = websocket.create_connection(f"ws://localhost/api/v1/hosts/slow/{what}",
                                                 socket=sock,
                                                 header=[f"Authorization: Bearer {TOKEN}"])
            self.assertEqual(peer.accept(answer=False), f"/api/v1/{what}")
            client.close(timeout=2)
            peer.conn.settimeout(10)
            self.assertEqual(peer.conn.recv(4096), b"", "the connection to the peer stayed")
            peer.conn.close()
            status, _, doms = self.https("GET", "/api/v1/domains", token=TOKEN)
            self.assertEqual((status, doms), (200, []), f"kxld ended: {self.kxld_log()[-2000:]}")

    def test_a_peer_of_another_ca(self):
        """B's certificate is from a CA of its own, which A does not trust (nor B A's): the
        relay refuses it at the handshake, and B never sees a request."""
        self.tls_setup(self.env, "--name", "host-a", "--ip", "127.0.0.1")
        self.tls_setup(self.env_b, "--name", "host-b", "--ip", "127.0.0.1")
        with self.host_b():
            self.create("other")
        self.start_hosts()
        with self.host_b():
            self.wait_ready("other")
        status, _, e = self.https("GET", "/api/v1/hosts/host-b/domains", token=TOKEN)
        self.assert_error(status, 503, "host", e)
        self.assertRegex(e["error"]["message"], r"unreachable: .*certificate")
        self.assertNotIn("GET /api/v1/domains", self.kxld_b_log())
        self.assertEqual(self.state_on_b("other"), "running")

    def test_hosts_in_the_browser(self):
        local, remote = "here", "there"
        self.certify_hosts()
        self.create(local)
        with self.host_b():
            self.create(remote)
        self.start_hosts(down_peer=True)
        self.wait_ready(local)
        self.wait_console(local, r"KXL-HB 2\b", timeout=30)
        with self.host_b():
            self.wait_ready(remote)
        result = browse(self, "webui_hosts.cjs",
                        {"KXL_URL": f"https://127.0.0.1:{self.port}/", "KXL_TOKEN": TOKEN,
                         "KXL_LOCAL": local, "KXL_REMOTE": remote, "KXL_PEER": "host-b",
                         "KXL_DOWN": "host-c"},
                        answers={"peer-state": lambda m: self.state_on_b(m["domain"]),
                                 "peer-kxl-pause": lambda m: self.pause_on_b(m["domain"])})
        print(f"\nweb UI (hosts): {json.dumps(result)}", flush=True)
        self.assertEqual(result["sections"], ["host-b", "host-c"])
        self.assertIn("unreachable", result["down_status"])
        # B's own kxl pause on A's page within a second (its relayed event); unpaused from it
        self.assertLess(result["peer_cli_pause_ms"], 1000, result)
        self.assertGreater(result["peer_cli_pause_ms"], 0, result)
        self.assertEqual(result["peer_state_after_unpause"], "running")
        # B's console from A's page: the guest's answer
        self.assertEqual(result["console_title"], f"Console of {remote} on host-b")
        self.assertIn("42", result["console_tail"])
        self.assertEqual(result["dialog_host"], "host-b")
        self.assertEqual(result["dialog_title"], f"Migrate {local}")
        # the only errors: the browser's note of host-c's 503s
        self.assertEqual([e for e in result["page_errors"] if "status of 503" not in e], [])
        # A's domain moved to B by the drop: gone from A, running on B, heartbeat going on
        self.assertNotIn(local, self.domain_names())
        with self.host_b():
            self.assertEqual(self.list_json()[local]["state"], "running")
            # B's console log starts at the guest's next beat after its arrival
            self.wait_console(local, r"KXL-HB \d+", timeout=30)
            last = max(int(n) for n in re.findall(r"KXL-HB (\d+)", self.console_log(local)))
            self.wait_console(local, rf"KXL-HB {last + 1}\b", timeout=30)

    def screen_on_b(self, name):
        """B's guest's screen as its VNC server tells a client: [width, height]."""
        with unix_connect(os.path.join(self.root_b, f"run/kxl/{name}/vnc.sock")) as s:
            rfb = Rfb(s)
            self.assertTrue(rfb.login())
            return list(rfb.server_init()[:2])

    def test_peer_display_and_migration_here(self):
        shown, moved = "peervnc", "peermove"
        self.certify_hosts()
        with self.host_b():
            self.create(shown, extra_lines="vnc = 1")
            self.create(moved)
        self.start_hosts(a_receives=True)
        with self.host_b():
            self.wait_ready(shown)
            self.wait_ready(moved)
            self.wait_console(moved, r"KXL-HB 2\b", timeout=30)
        # refused before any connection to B: an HTTP answer, one line of JSON
        status, headers, s = self.https("POST", "/api/v1/login", body={"token": TOKEN})
        self.assertEqual(status, 200, s)
        cookie = headers["Set-Cookie"].split(";")[0]
        vnc = f"/api/v1/hosts/host-b/domains/{shown}/vnc"
        for path, token, extra, want in (
                (vnc, None, {}, (401, "permission")),
                (f"/api/v1/hosts/nosuch/domains/{shown}/vnc", TOKEN, {}, (404, "not-found")),
                (vnc, None, {"Cookie": cookie, "Origin": "https://evil.example"},
                 (403, "permission"))):
            status, headers, body = self.upgrade(path, token, extra)
            self.assertEqual(body.count(b"\n"), 0, body)
            self.assert_error(status, *want, json.loads(body))
        self.assertEqual(self.connections_to_b(), 0, "A connected to B for a refused client")
        # the RFB stream of B's guest through A: its handshake, its screen's size, a
        # framebuffer update
        ctx = ssl.create_default_context(cafile=self.cert)
        sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=30),
                               server_hostname="127.0.0.1")
        ws = websocket.create_connection("ws://localhost" + vnc, socket=sock,
                                         header=[f"Authorization: Bearer {TOKEN}"])
        self.addCleanup(ws.close)
        rfb = Rfb(WsStream(ws))
        self.assertEqual(rfb.version, b"RFB 003.008\n")
        self.assertTrue(rfb.login())
        width, height, title = rfb.server_init()
        self.assertIn(shown, title)
        self.assertEqual([width, height], self.screen_on_b(shown))
        ws.send_binary(b"\x02\x00\x00\x01\x00\x00\x00\x00")   # SetEncodings: raw
        ws.send_binary(b"\x03\x00\x00\x00\x00\x00" + width.to_bytes(2, "big") +
                       height.to_bytes(2, "big"))
        self.assertEqual(WsStream(ws).recv(4)[0], 0, "not a FramebufferUpdate")
        ws.close()
        # in the browser: the display, then B's other domain dropped on A
        result = browse(self, "webui_hosts_peer.cjs",
                        {"KXL_URL": f"https://127.0.0.1:{self.port}/", "KXL_TOKEN": TOKEN,
                         "KXL_VNC": shown, "KXL_MOVE": moved, "KXL_PEER": "host-b"},
                        answers={"screen": lambda m: self.screen_on_b(m["domain"])})
        print(f"\nweb UI (a peer's display, a peer's domain moved here): {json.dumps(result)}",
              flush=True)
        self.assertEqual(result["canvas"], result["screen"])
        self.assertGreater(result["canvas"][0], 0)
        self.assertEqual(result["vnc_title_host"], "host-b")
        self.assertFalse(result["display_button_without_vnc"])
        self.assertEqual(result["dialog_title"], f"Migrate {moved} from host-b")
        self.assertEqual(result["dialog_host"], "host-a")   # A's certificate's name
        self.assertEqual(result["dialog_peers"], ["host-a"])   # B's relocation_peers
        self.assertEqual(result["page_errors"], [])
        # A's relay of B's migrate call: B's job; the domain gone from B, running on A
        self.assertIn(f"relay: POST https://127.0.0.1:{self.port_b}/api/v1/domains/{moved}/migrate",
                      self.kxld_log())
        with self.host_b():
            self.assertNotIn(moved, self.domain_names())
        self.assertEqual(self.list_json()[moved]["state"], "running")
        self.wait_console(moved, r"KXL-HB \d+", timeout=30)
        last = max(int(n) for n in re.findall(r"KXL-HB (\d+)", self.console_log(moved)))
        self.wait_console(moved, rf"KXL-HB {last + 1}\b", timeout=30)

    @contextlib.contextmanager
    def host_c(self):
        """HostB's helpers (start_kxld_b, stop_kxld_b, host_b, kxld_b_log) act on a third
        host, C, meanwhile."""
        saved = self.root_b, self.env_b, self.log_b, self.kxld_b
        self.root_b, self.env_b, self.log_b, self.kxld_b = (self.root_c, self.env_c, self.log_c,
                                                            self.kxld_c)
        try:
            yield
        finally:
            self.kxld_c = self.kxld_b
            self.root_b, self.env_b, self.log_b, self.kxld_b = saved

    def teardown_host_c(self):
        with self.host_c():
            self.teardown_host_b()

    def test_migration_from_peer_to_peer(self):
        """B's domain dragged onto C's section of A's page: A relays B's migrate call to B,
        whose relocation_peers name host-c; the domain leaves B and runs on C."""
        moved = "peer2peer"
        self.root_c = os.path.join(self.tmp, "host-c")
        os.makedirs(self.root_c)
        self.env_c = dict(self.env, KXL_ROOT=self.root_c)
        self.log_c = os.path.join(self.tmp, "kxld-c.log")
        self.kxld_c = None
        self.certify_hosts()
        out = os.path.join(self.tmp, "for-c")
        self.tls_setup(self.env, "--sign", "host-c", "--ip", "127.0.0.1", "--out", out)
        self.tls_setup(self.env_c, "--import", out)
        port_c, reloc_c = free_port(), free_port()
        with self.host_b():
            self.create(moved)
        self.start_hosts(more_peers=[f"host-c=127.0.0.1:{port_c}"],
                         b_extra=f'relocation_peers = [ "host-c=127.0.0.1:{reloc_c}" ]\n')
        with self.host_c():
            self.start_kxld_b(f"tcp_port = {port_c}\ntcp_address = \"127.0.0.1\"\n"
                              "tls_cert = \"etc/kxl/tls/host-cert.pem\"\n"
                              "tls_key = \"etc/kxl/tls/host-key.pem\"\n"
                              "tls_client_ca = \"etc/kxl/tls/ca-cert.pem\"\n"
                              "relocation_server = 1\nrelocation_address = \"127.0.0.1\"\n"
                              f"relocation_port = {reloc_c}\n"
                              "relocation_hosts_allow = [ \"host-b$\" ]\n")
        with self.host_b():
            self.wait_ready(moved)
            self.wait_console(moved, r"KXL-HB 2\b", timeout=30)
        result = browse(self, "webui_hosts_peer.cjs",
                        {"KXL_URL": f"https://127.0.0.1:{self.port}/", "KXL_TOKEN": TOKEN,
                         "KXL_VNC": "", "KXL_MOVE": moved, "KXL_PEER": "host-b",
                         "KXL_TO": "host-c"})
        print(f"\nweb UI (a peer's domain moved to another peer): {json.dumps(result)}",
              flush=True)
        self.assertEqual(result["dialog_title"], f"Migrate {moved} from host-b")
        self.assertEqual(result["dialog_host"], "host-c")
        self.assertEqual(result["dialog_peers"], ["host-c"])   # B's relocation_peers
        self.assertEqual(result["page_errors"], [])
        self.assertEqual(self.domain_names(), [], "A has none of its own")
        with self.host_b():
            self.assertNotIn(moved, self.domain_names())
        saved = self.root, self.env
        self.root, self.env = self.root_c, self.env_c
        try:
            self.assertEqual(self.list_json()[moved]["state"], "running")
            self.wait_console(moved, r"KXL-HB \d+", timeout=30)
            last = max(int(n) for n in re.findall(r"KXL-HB (\d+)", self.console_log(moved)))
            self.wait_console(moved, rf"KXL-HB {last + 1}\b", timeout=30)
        finally:
            self.root, self.env = saved

    def renew_pool(self, tag):
        """A new CA (made in a third root) and certificates of host-a and host-b signed by it,
        each imported over the host's own with kxl tls-setup --import --force: the CA of
        both hosts replaced, as a renewal of the pool's would."""
        env_c = dict(self.env, KXL_ROOT=os.path.join(self.tmp, f"ca-{tag}"))
        os.makedirs(env_c["KXL_ROOT"])
        self.tls_setup(env_c, "--name", f"ca-{tag}")
        for host, env in (("host-a", self.env), ("host-b", self.env_b)):
            out = os.path.join(self.tmp, f"{tag}-{host}")
            self.tls_setup(env_c, "--sign", host, "--ip", "127.0.0.1", "--out", out)
            self.tls_setup(env, "--import", out, "--force")

    def test_renewed_certificate(self):
        """kxld A's certificate for its peers renewed while A runs: the next relayed request
        and WebSocket show the new one (B, restarted on the new CA, would refuse the old), with
        no restart of A; a certificate that does not match its key (one file of the pair
        replaced) is refused, saying so, until the pair matches again."""
        name = "renewdom"
        self.certify_hosts()
        with self.host_b():
            self.create(name)
        self.start_hosts()
        with self.host_b():
            self.wait_ready(name)
        status, _, doms = self.https("GET", "/api/v1/hosts/host-b/domains", token=TOKEN)
        self.assertEqual((status, [d["name"] for d in doms]), (200, [name]), doms)
        events = self.ws_a(f"/api/v1/hosts/host-b/events?domain={name}")
        deadline = time.monotonic() + 10
        while self.connections_to_b() < 1:
            self.assertLess(time.monotonic(), deadline, self.kxld_log()[-2000:])
            time.sleep(0.05)
        events.close()
        # a new CA for both; B restarted on it (its listener reads its files at start)
        self.renew_pool("renewed")
        self.stop_kxld_b()
        self.start_hosts_b_only()
        status, _, doms = self.https("GET", "/api/v1/hosts/host-b/domains", token=TOKEN)
        self.assertEqual(status, 200, f"the relay showed the old certificate: {doms}")
        self.assertEqual([d["name"] for d in doms], [name])
        self.assertIn("(the files changed: read again)", self.kxld_log())
        # the WebSocket relay too: B's pause through A's relayed events
        events = self.ws_a(f"/api/v1/hosts/host-b/events?domain={name}")
        deadline = time.monotonic() + 10
        while self.connections_to_b() < 1:
            self.assertLess(time.monotonic(), deadline, self.kxld_log()[-2000:])
            time.sleep(0.05)
        time.sleep(0.5)
        with self.host_b():
            self.kxl("pause", name, check=True)
        events.wait(lambda c: any(e["event"] == "paused" for _, e in c.events()), timeout=10,
                    what="B's 'paused' through the renewed certificate")
        events.close()
        # half a pair: B's certificate (the same CA's) over A's, A's key left: refused
        tls_a = os.path.join(self.root, "etc/kxl/tls")
        with open(os.path.join(tls_a, "host-cert.pem"), "rb") as f:
            good = f.read()
        with open(os.path.join(self.root_b, "etc/kxl/tls/host-cert.pem"), "rb") as f:
            other = f.read()
        with open(os.path.join(tls_a, "host-cert.pem"), "wb") as f:
            f.write(other)
        status, _, e = self.https("GET", "/api/v1/hosts/host-b/domains", token=TOKEN)
        self.assert_error(status, 503, "host", e)
        self.assertIn("does not belong to its key", e["error"]["message"])
        self.assertIn("kxl tls-setup", e["error"]["message"])
        c = self.ws_a(f"/api/v1/hosts/host-b/domains/{name}/console")
        code, reason = c.wait_closed()
        self.assertIsNotNone(code, "the console opened with half a pair")
        self.assertIn("do not belong together", reason)
        self.assertEqual(self.connections_to_b(), 0)
        # the pair whole again: relayed again
        with open(os.path.join(tls_a, "host-cert.pem"), "wb") as f:
            f.write(good)
        status, _, doms = self.https("GET", "/api/v1/hosts/host-b/domains", token=TOKEN)
        self.assertEqual((status, [(d["name"], d["state"]) for d in doms]), (200, [(name, "paused")]))

    def start_hosts_b_only(self):
        """kxld B again as start_hosts started it."""
        self.start_kxld_b(f"tcp_port = {self.port_b}\ntcp_address = \"127.0.0.1\"\n"
                          "tls_cert = \"etc/kxl/tls/host-cert.pem\"\n"
                          "tls_key = \"etc/kxl/tls/host-key.pem\"\n"
                          "tls_client_ca = \"etc/kxl/tls/ca-cert.pem\"\n", ready=None)
