"""End-to-end test of a live migration from the web UI (issue 15): host A's kxld serves the UI
over HTTPS (Debian's chromium, playwright-core: tests/browser/webui_migrate.cjs), host B is a
second KXL_ROOT whose kxld runs the relocation server; the certificates are kxl tls-setup's (A
makes the CA and signs B's, which B imports), as in test_relocation. The card's Migrate sends
the running guest to B's relocation server (POST .../migrate, a job whose progress is
QEMU's); the card goes from A's page, and the guest's heartbeat goes on on B. Screenshots:
migrate, migrated."""

import re

from hostb import HostB
from test_kxld_tls import TOKEN, TlsKxldTestCase, free_port
from test_webui import WEB_DIR, browse


class WebUiMigrateTest(HostB, TlsKxldTestCase):

    def setUp(self):
        super().setUp()
        self.setup_host_b()
        self.make_tls()
        self.write_conf(web_dir=WEB_DIR)
        self.reloc_port = free_port()
        self.certify_hosts()

    def tearDown(self):
        try:
            self.teardown_host_b()
        finally:
            super().tearDown()

    def test_migrate_from_the_browser(self):
        name = "webmig"
        self.write_conf(web_dir=WEB_DIR,
                        relocation_peers=[f"host-b=127.0.0.1:{self.reloc_port}", "host-c=c:8002"])
        self.create(name)
        self.start_kxld()
        self.start_kxld_b("relocation_server = 1\nrelocation_address = \"127.0.0.1\"\n"
                          f"relocation_port = {self.reloc_port}\n"
                          "relocation_hosts_allow = [ \"host-a$\" ]\n")
        self.wait_ready(name)
        self.wait_console(name, r"KXL-HB 2\b", timeout=30)
        to = f"127.0.0.1:{self.reloc_port}"
        # refused at once: a bad body, an unknown domain (no job, nothing moves)
        for path, body, want in ((f"/api/v1/domains/{name}/migrate", {}, (400, "invalid")),
                                 (f"/api/v1/domains/{name}/migrate", {"host": to, "x": 1},
                                  (400, "invalid")),
                                 (f"/api/v1/domains/{name}/migrate",
                                  {"host": to, "bandwidth_mib": -1}, (400, "invalid")),
                                 ("/api/v1/domains/nosuch/migrate", {"host": to},
                                  (404, "not-found"))):
            status, _, e = self.api("POST", path, body)
            self.assert_error(status, *want, e)
        result = browse(self, "webui_migrate.cjs",
                        {"KXL_URL": f"https://127.0.0.1:{self.port}/", "KXL_TOKEN": TOKEN,
                         "KXL_DOMAIN": name, "KXL_TO": "host-b"})
        print(f"\nweb UI (migrate): {result}", flush=True)
        self.assertEqual(result["title"], f"Migrate {name}")
        # the peers of kxld.conf offered by name (GET /api/v1/peers)
        self.assertEqual(result["peers"], ["host-b", "host-c"])
        status, _, peers = self.api("GET", "/api/v1/peers")
        self.assertEqual((status, peers), (200, [{"name": "host-b", "relocation": to},
                                                 {"name": "host-c", "relocation": "c:8002"}]))
        self.assertEqual(result["domains_left"], 0)
        self.assertEqual(result["page_errors"], [])
        # the card showed the supervisor's migrate job on its way
        self.assertTrue([t for t in result["job_texts"] if t.startswith("migrate: ")],
                        result["job_texts"])
        # the API's job: succeeded, its last progress QEMU's handover
        status, _, job = self.api("GET", "/api/v1/jobs/1/wait?timeout=60")
        self.assertEqual((status, job["state"], job["status"]), (200, "succeeded", 200), job)
        self.validate(job, "Job")
        # its result: QEMU's final figures, as kxl migrate prints them
        self.validate(job["result"], "MigrateResult")
        self.assertGreater(job["result"]["transferred"], 0, job)
        self.assertGreater(job["result"]["seconds"], 0, job)
        self.assertGreaterEqual(job["result"]["passes"], 1, job)
        self.assertAlmostEqual(job["result"]["mib_sent"], job["result"]["transferred"] / 2**20,
                               places=3)
        self.assertEqual(job["request"], f"POST /api/v1/domains/{name}/migrate")
        self.assertEqual(job["progress"]["phase"], "handover", job)
        self.assertGreater(job["progress"]["total"], 0)
        # gone from A, running on B with its heartbeat going on
        self.assertNotIn(name, self.domain_names())
        with self.host_b():
            self.assertEqual(self.list_json()[name]["state"], "running")
            # B's console log starts at the guest's next beat after its arrival
            self.wait_console(name, r"KXL-HB \d+", timeout=30)
            last = max(int(n) for n in re.findall(r"KXL-HB (\d+)", self.console_log(name)))
            self.wait_console(name, rf"KXL-HB {last + 1}\b", timeout=30)
