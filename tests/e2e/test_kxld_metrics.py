"""End-to-end test of kxld's GET /metrics with a real guest: the text parses with the
Prometheus client's own parser (Debian's python3-prometheus-client), every family has its
type, the guest is counted running with its vCPUs and memory, and its CPU counter rises while
the guest spins a vCPU. CPU rates need a quiet host: run under the shared e2e lock."""

import sys
import time

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's python3-prometheus-client (pure Python) for a python3 that is not Debian's own
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

from test_kxld import KxldTestCase

# family (as the parser names it: a counter without _total) -> type
FAMILIES = {
    "kxl_domains": "gauge",
    "kxl_domain_cpu_seconds": "counter",
    "kxl_domain_memory_bytes": "gauge",
    "kxl_domain_vcpus": "gauge",
    "kxl_domain_state": "gauge",
    **{f"kxl_domain_vif_{d}_{u}": "counter" for d in ("rx", "tx") for u in ("bytes", "packets")},
    **{f"kxl_domain_disk_{d}_{u}": "counter" for d in ("read", "write") for u in ("bytes", "ops")},
}


class KxldMetricsTest(KxldTestCase):

    def scrape(self):
        """{(sample name, frozenset of labels): value} of one GET /metrics, after checking
        its status, content type and families."""
        self.conn.request("GET", "/metrics")
        r = self.conn.getresponse()
        text = r.read().decode()
        self.assertEqual(r.status, 200, text)
        self.assertTrue(r.getheader("Content-Type").startswith("text/plain; version=0.0.4"),
                        r.getheader("Content-Type"))
        families = {f.name: f for f in text_string_to_metric_families(text)}
        self.assertEqual({n: f.type for n, f in families.items()}, FAMILIES, text)
        return {(s.name, frozenset(s.labels.items())): s.value
                for f in families.values() for s in f.samples}

    def cpu(self, samples, name):
        return samples[("kxl_domain_cpu_seconds_total", frozenset({("domain", name)}))]

    def cpu_rate(self, name, seconds):
        """CPU seconds per second of the domain's vCPUs over about seconds, from two scrapes."""
        c0, t0 = self.cpu(self.scrape(), name), time.monotonic()
        time.sleep(seconds)
        c1, t1 = self.cpu(self.scrape(), name), time.monotonic()
        self.assertGreaterEqual(c1, c0, "a counter never goes back")
        return (c1 - c0) / (t1 - t0)

    def test_metrics_of_a_spinning_guest(self):
        self.start_kxld()
        self.assertEqual(self.scrape()[("kxl_domains", frozenset({("state", "running")}))], 0)
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": self.write_cfg("m")})
        self.assertEqual(status, 201, d)
        self.wait_ready("m")

        s = self.scrape()
        dom = frozenset({("domain", "m")})
        self.assertEqual(s[("kxl_domains", frozenset({("state", "running")}))], 1)
        self.assertEqual(s[("kxl_domain_state", dom | {("state", "running")})], 1)
        self.assertEqual(s[("kxl_domain_state", dom | {("state", "paused")})], 0)
        self.assertEqual(s[("kxl_domain_vcpus", dom)], 1)
        self.assertTrue(0 < s[("kxl_domain_memory_bytes", dom)] <= 256 << 20, s)

        # the same counter kxl top reads: idle, then with a vCPU spinning
        idle = self.cpu_rate("m", 3)
        self.guest_run("m", "while :; do :; done &")
        busy = self.cpu_rate("m", 4)
        self.assertGreater(busy, 0.25, f"a spinning vCPU got {busy:.2f} CPU s/s")
        self.assertGreater(busy, 2 * idle, f"idle {idle:.2f} CPU s/s, spinning {busy:.2f}")

        # paused: counted so, and errors stay JSON
        status, _, reply = self.api("POST", "/api/v1/domains/m/pause")
        self.assertEqual(status, 204, reply)
        s = self.scrape()
        self.assertEqual(s[("kxl_domain_state", dom | {("state", "paused")})], 1)
        self.assertEqual(s[("kxl_domains", frozenset({("state", "paused")}))], 1)
        status, headers, e = self.api("POST", "/metrics")
        self.assert_error(status, 405, "invalid", e)
        self.assertEqual(headers["Allow"], "GET")

        status, _, reply = self.api("DELETE", "/api/v1/domains/m")
        self.assertEqual(status, 204, reply)
        self.assert_gone("m")
        self.assertNotIn(("kxl_domain_vcpus", dom), self.scrape())
