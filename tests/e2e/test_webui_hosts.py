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
confirmed in the Migrate dialog and seen arriving under B. Screenshots: hosts, drop-migrate,
dropped."""

import http.client
import json
import os
import re
import ssl
import time

from hostb import HostB
from test_kxld_tls import TOKEN, TlsKxldTestCase, free_port
from test_webui import WEB_DIR, browse


class WebUiHostsTest(HostB, TlsKxldTestCase):

    def setUp(self):
        super().setUp()
        self.setup_host_b()
        self.make_tls()
        self.port_b = free_port()
        self.reloc_port = free_port()

    def tearDown(self):
        try:
            self.teardown_host_b()
        finally:
            super().tearDown()

    def start_hosts(self, down_peer=False):
        """kxld A with B (and, with down_peer, host-c where nothing listens) as api_peers and
        B as a relocation peer; kxld B with its TCP listener on B's certificate, trusting the
        CA's clients, and its relocation server."""
        peers = [f"host-b=127.0.0.1:{self.port_b}"] + (["host-c=127.0.0.1:1"] if down_peer else [])
        self.write_conf(web_dir=WEB_DIR, api_peers=peers,
                        relocation_peers=[f"host-b=127.0.0.1:{self.reloc_port}"])
        self.start_kxld()
        self.start_kxld_b(f"tcp_port = {self.port_b}\ntcp_address = \"127.0.0.1\"\n"
                          "tls_cert = \"etc/kxl/tls/host-cert.pem\"\n"
                          "tls_key = \"etc/kxl/tls/host-key.pem\"\n"
                          "tls_client_ca = \"etc/kxl/tls/ca-cert.pem\"\n"
                          "relocation_server = 1\nrelocation_address = \"127.0.0.1\"\n"
                          f"relocation_port = {self.reloc_port}\n"
                          "relocation_hosts_allow = [ \"host-a$\" ]\n", ready=None)

    def raw_https(self, method, path, headers=None):
        """A request of A with the token, the path sent as it is: (status, headers, body)."""
        ctx = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=60)
        conn.request(method, path, headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})})
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return r.status, r.headers, body

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
                        answers={"peer-state": lambda m: self.state_on_b(m["domain"])})
        print(f"\nweb UI (hosts): {json.dumps(result)}", flush=True)
        self.assertEqual(result["sections"], ["host-b", "host-c"])
        self.assertIn("unreachable", result["down_status"])
        self.assertEqual(result["peer_state_after_pause"], "paused")
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
