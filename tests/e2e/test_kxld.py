"""End-to-end tests of kxld, the host daemon: a real daemon on its Unix socket, real HTTP
(http.client over AF_UNIX), real guests. What the API does is checked from outside too: the
command line sees the same domains (one truth), the guest's console shows its heartbeat stop
and resume, and domains outlive a kill -9 of the daemon. Responses are validated against the
schemas of docs/api/openapi.yaml."""

import http.client
import json
import os
import select
import signal
import socket
import stat
import statistics
import subprocess
import sys
import time

import jsonschema
import yaml

from kxltest import BUILD, KxlTestCase

KXLD = os.path.abspath(os.path.join(BUILD, "src/daemon/kxld"))
SPEC = os.path.join(os.path.dirname(__file__), "../../docs/api/openapi.yaml")


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over the daemon's Unix socket."""

    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def signal_if_alive(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def openapi_schemas():
    """The spec's components as JSON Schema: OpenAPI 3.0's nullable becomes a null type."""
    def convert(node):
        if isinstance(node, dict):
            out = {k: convert(v) for k, v in node.items() if k != "nullable"}
            if node.get("nullable") and "type" in out:
                out["type"] = [out["type"], "null"]
            return out
        if isinstance(node, list):
            return [convert(v) for v in node]
        return node
    with open(SPEC) as f:
        return convert(yaml.safe_load(f)["components"])


class KxldTestCase(KxlTestCase):
    """A test with its own KXL_ROOT and kxld on ROOT/run/kxl/kxld.sock."""

    components = openapi_schemas()

    def setUp(self):
        super().setUp()
        self.sock_path = os.path.join(self.root, "run/kxl/kxld.sock")
        self.kxld = None
        self.conn = None

    def tearDown(self):
        self.stop_kxld()
        super().tearDown()

    def start_kxld(self, *args, prefix=()):
        """kxld in the foreground on the test's root (under prefix: ip netns exec NS)."""
        log = open(os.path.join(self.tmp, "kxld.stderr"), "ab")
        # its stderr is a file: a supervisor it starts holds it until it opens its own log
        self.kxld = subprocess.Popen([*prefix, KXLD, "--foreground", "-v", "--root", self.root, *args],
                                     env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.assertIsNone(self.kxld.poll(), f"kxld ended: {self.kxld_log()}")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.sock_path)
                break
            except OSError:
                time.sleep(0.05)
        else:
            self.fail(f"kxld did not listen on {self.sock_path}: {self.kxld_log()}")
        self.conn = UnixHTTPConnection(self.sock_path)

    def stop_kxld(self):
        if self.conn:
            self.conn.close()
            self.conn = None
        if self.kxld and self.kxld.poll() is None:
            self.kxld.send_signal(signal.SIGTERM)
            self.assertEqual(self.kxld.wait(timeout=30), 0, self.kxld_log())
        self.kxld = None

    def kxld_log(self):
        with open(os.path.join(self.tmp, "kxld.stderr"), errors="replace") as f:
            return f.read()[-3000:]

    def api(self, method, path, body=None, raw=None):
        """(status, headers, parsed JSON or None)."""
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # closed by the server while idle (idle_timeout_s), as any HTTP client must expect
            self.conn.close()
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
        text = r.read()
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        return r.status, r.headers, json.loads(text) if text else None

    def save_held(self, name, path):
        """A save of domain name into path as an API job, held still once its supervisor has
        started it: its QEMU is stopped (SIGSTOP) at once, so the save cannot end until
        SIGCONT. (QEMU cannot be stopped before: the supervisor asks it things first.)
        Returns (the job's Location, the job, QEMU's pid)."""
        [qemu] = self.qemu_pids(name)
        sv_log = os.path.join(self.root, f"var/log/kxl/{name}.log")
        with open(sv_log) as f:
            start = len(f.read())
        status, headers, job = self.api("POST", f"/api/v1/domains/{name}/save", {"file": path})
        self.assertEqual(status, 202, job)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(sv_log) as f:
                if "save job started" in f.read()[start:]:
                    break
            time.sleep(0.002)
        else:
            self.fail(f"{name}'s supervisor never started the save")
        os.kill(qemu, signal.SIGSTOP)
        self.addCleanup(signal_if_alive, qemu, signal.SIGCONT)   # whatever happens next
        status, _, job = self.api("GET", headers["Location"])
        self.assertEqual((status, job["state"]), (200, "running"), job)
        return headers["Location"], job, qemu

    def validate(self, value, schema_name, array=False):
        ref = {"$ref": f"#/components/schemas/{schema_name}"}
        schema = {"allOf": [{"type": "array", "items": ref} if array else ref],
                  "components": self.components}
        jsonschema.Draft7Validator(schema).validate(value)

    def assert_error(self, status, want_status, want_code, reply):
        self.assertEqual(status, want_status, reply)
        self.validate(reply, "Error")
        self.assertEqual(reply["error"]["code"], want_code, reply)

    def domain_state(self, name):
        status, _, d = self.api("GET", f"/api/v1/domains/{name}")
        self.assertEqual(status, 200, d)
        self.validate(d, "DomainDetail")
        return d["info"]["state"]

    def heartbeats(self, name):
        return self.console_log(name).count("KXL-HB")


class KxldApiTest(KxldTestCase):

    def test_socket_is_not_world_accessible(self):
        self.start_kxld()
        mode = stat.S_IMODE(os.stat(self.sock_path).st_mode)
        self.assertIn(mode, (0o600, 0o660), oct(mode))
        self.assertEqual(mode & 0o007, 0)
        self.assertTrue(stat.S_ISSOCK(os.stat(self.sock_path).st_mode))
        status, _, host = self.api("GET", "/api/v1/host")
        self.assertEqual(status, 200, host)
        self.validate(host, "Host")
        self.assertEqual(host["nr_cpus"], os.cpu_count())
        self.assertEqual(host["kxl_root"], self.root)
        status, _, doms = self.api("GET", "/api/v1/domains")
        self.assertEqual((status, doms), (200, []))

    def test_create_pause_unpause_destroy(self):
        self.start_kxld()
        cfg = self.write_cfg("api")
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": cfg})
        self.assertEqual(status, 201, d)
        self.validate(d, "Domain")
        self.assertEqual(d["name"], "api")
        # one truth: the command line sees what the API made, and the same facts
        status, _, listed = self.api("GET", "/api/v1/domains")
        self.assertEqual(status, 200)
        self.validate(listed, "Domain", array=True)
        cli = self.list_json()
        self.assertEqual([x["name"] for x in listed], sorted(cli))
        for key in ("domid", "uuid", "memory_mib", "vcpus", "qemu_pid"):
            self.assertEqual(listed[0][key], cli["api"][key], key)
        self.wait_console("api", r"KXL-HB 2\b")

        status, _, reply = self.api("POST", "/api/v1/domains/api/pause")
        self.assertEqual((status, reply), (204, None))
        self.assertEqual(self.domain_state("api"), "paused")
        self.assertEqual(self.list_json()["api"]["state_letters"], "--p---")
        time.sleep(0.5)
        before = self.heartbeats("api")
        time.sleep(2.5)
        self.assertEqual(self.heartbeats("api"), before, "no heartbeat while paused")
        status, _, reply = self.api("POST", f"/api/v1/domains/{d['domid']}/unpause")
        self.assertEqual((status, reply), (204, None), "a domain by its id")
        self.assertEqual(self.domain_state("api"), "running")
        self.wait_console("api", rf"KXL-HB {before + 1}\b", timeout=20)

        status, _, disks = self.api("GET", "/api/v1/domains/api/disks")
        self.assertEqual(status, 200, disks)
        self.validate(disks, "Disk", array=True)

        status, _, reply = self.api("DELETE", "/api/v1/domains/api")
        self.assertEqual((status, reply), (204, None))
        self.assert_gone("api")
        status, _, reply = self.api("GET", "/api/v1/domains")
        self.assertEqual((status, reply), (200, []))

    def test_bad_requests_get_their_statuses(self):
        self.start_kxld()
        status, _, e = self.api("GET", "/api/v1/domains/nosuch")
        self.assert_error(status, 404, "not-found", e)
        self.assertIn("'nosuch'", e["error"]["message"])
        status, _, e = self.api("POST", "/api/v1/domains/nosuch/pause")
        self.assert_error(status, 404, "not-found", e)
        status, _, e = self.api("GET", "/api/v1/nothing")
        self.assert_error(status, 404, "not-found", e)
        status, headers, e = self.api("PUT", "/api/v1/domains")
        self.assert_error(status, 405, "invalid", e)
        self.assertEqual(headers["Allow"], "GET, POST")
        status, _, e = self.api("POST", "/api/v1/domains", raw="{not json")
        self.assert_error(status, 400, "invalid", e)
        status, _, e = self.api("POST", "/api/v1/domains", raw="[1, 2]")
        self.assert_error(status, 400, "invalid", e)
        status, _, e = self.api("POST", "/api/v1/domains", {"config_file": "relative.cfg"})
        self.assert_error(status, 400, "invalid", e)
        status, _, e = self.api("POST", "/api/v1/domains", {"config_file": "/nonexistent.cfg"})
        self.assert_error(status, 400, "invalid", e)
        status, _, e = self.api("POST", "/api/v1/domains", {"cfg": "x"})
        self.assert_error(status, 400, "invalid", e)
        status, _, e = self.api("POST", "/api/v1/domains", {"config": "x"})   # a config's text
        self.assert_error(status, 400, "config", e)
        bad_cfg = os.path.join(self.tmp, "bad.cfg")
        with open(bad_cfg, "w") as f:
            f.write('name = "bad"\nmemory = "lots"\n')
        status, _, e = self.api("POST", "/api/v1/domains", {"config_file": bad_cfg})
        self.assert_error(status, 400, "config", e)
        self.assertIn(f"{bad_cfg}:2:", e["error"]["message"])
        status, _, e = self.api("POST", "/api/v1/domains/x/shutdown", {"wait": "yes"})
        self.assert_error(status, 400, "invalid", e)
        status, _, e = self.api("POST", "/api/v1/domains", raw="x" * (64 * 1024 + 1))
        self.assert_error(status, 413, "invalid", e)
        # the connection goes on after each of them
        status, _, doms = self.api("GET", "/api/v1/domains")
        self.assertEqual((status, doms), (200, []))

    def test_state_and_exists_are_conflicts(self):
        self.start_kxld()
        cfg = self.write_cfg("twice")
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": cfg, "paused": True})
        self.assertEqual(status, 201, d)
        self.assertEqual(self.domain_state("twice"), "paused")
        status, _, e = self.api("POST", "/api/v1/domains", {"config_file": cfg})
        self.assert_error(status, 409, "exists", e)
        status, _, reply = self.api("POST", "/api/v1/domains/twice/unpause")
        self.assertEqual(status, 204, reply)
        status, _, e = self.api("POST", "/api/v1/domains/twice/unpause")
        self.assert_error(status, 409, "state", e)
        self.wait_ready("twice")

    def test_shutdown_wait_does_not_hold_up_other_requests(self):
        """shutdown {"wait": true} answers once the guest has powered off; meanwhile other
        requests on other connections are answered at once (the operation runs in a worker,
        not in the event loop)."""
        self.start_kxld()
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": self.write_cfg("sw")})
        self.assertEqual(status, 201, d)
        self.wait_ready("sw")
        waiting = UnixHTTPConnection(self.sock_path)
        waiting.request("POST", "/api/v1/domains/sw/shutdown", body=json.dumps({"wait": True}),
                        headers={"Content-Type": "application/json"})
        status, _, doms = self.api("GET", "/api/v1/domains")
        self.assertEqual(status, 200)
        self.assertEqual([x["name"] for x in doms], ["sw"])
        ready, _, _ = select.select([waiting.sock], [], [], 0)
        self.assertEqual(ready, [], "the shutdown's answer came before the guest powered off")
        r = waiting.getresponse()
        self.assertEqual((r.status, r.read()), (204, b""))
        waiting.close()
        log = self.console_log("sw")
        self.assertIn("KXL-POWEROFF power button pressed", log)
        self.assertIn("reboot: Power down", log, "a clean power-off")
        self.assert_gone("sw")
        status, _, e = self.api("POST", "/api/v1/domains/sw/reboot", {})
        self.assert_error(status, 404, "not-found", e)

    def test_domains_outlive_kill_9_of_kxld(self):
        """kill -9 of kxld while 3 domains run and a save of one is a job of the API: all 3 run
        on, a new kxld sees them, reports the job as failed (kxld restarted), and the save
        left nothing: no file, no temporary one, the domain running as before."""
        self.start_kxld()
        status, _, d = self.api("POST", "/api/v1/domains", {"config_file": self.write_cfg("k1")})
        self.assertEqual(status, 201, d)
        self.create("k2")   # made by the command line: the daemon sees it all the same
        self.create("k3", memory=512)   # its save takes a while
        names = ["k1", "k2", "k3"]
        for n in names:
            self.wait_console(n, r"KXL-HB 1\b")
        status, _, before = self.api("GET", "/api/v1/domains")
        self.assertEqual([x["name"] for x in before], names)
        self.measure(3)

        # a save that cannot end before kxld dies: k3's QEMU is held still until then
        out = os.path.join(self.tmp, "saves")
        os.makedirs(out)
        location, job, qemu = self.save_held("k3", os.path.join(out, "k3.save"))
        try:
            self.conn.close()
            self.kxld.send_signal(signal.SIGKILL)
            self.kxld.wait(timeout=10)
            self.kxld = None
        finally:
            os.kill(qemu, signal.SIGCONT)
        mark = {n: len(self.console_log(n)) for n in names}
        for n in names:
            self.wait_console(n, r"KXL-HB \d+", start=mark[n], timeout=30)
        self.assertEqual(sorted(self.list_json()), names)

        self.start_kxld()   # the dead one's socket is replaced
        status, _, after = self.api("GET", "/api/v1/domains")
        self.assertEqual(status, 200)
        self.assertEqual([(x["name"], x["domid"], x["uuid"]) for x in after],
                         [(x["name"], x["domid"], x["uuid"]) for x in before])
        status, _, job = self.api("GET", location)
        self.assertEqual(status, 200, job)
        self.validate(job, "Job")
        self.assertEqual((job["state"], job["status"], job["error"]["code"]),
                         ("failed", 500, "internal"), job)
        self.assertIn("kxld restarted while this job ran", job["error"]["message"])
        # the supervisor cancelled the save when its caller went: nothing of it stays
        deadline = time.monotonic() + 30
        while os.listdir(out) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(os.listdir(out), [], "no save file, no temporary file")
        self.assertFalse(os.path.exists(os.path.join(self.root, "run/kxl/k3/save.tmp")))
        self.assertEqual(self.domain_state("k3"), "running")
        mark = len(self.console_log("k3"))
        self.wait_console("k3", r"KXL-HB \d+", start=mark, timeout=20)
        with open(os.path.join(self.root, "var/log/kxl/k3.log")) as f:
            self.assertIn("went away: it is cancelled", f.read())
        # the new kxld's jobs number on after the old one's, and a save completes
        k2_save = os.path.join(self.tmp, "k2.save")
        status, headers, job2 = self.api("POST", "/api/v1/domains/k2/save",
                                         {"file": k2_save, "checkpoint": True})
        self.assertEqual(status, 202, job2)
        self.assertGreater(job2["id"], job["id"])
        status, _, done = self.api("GET", f"{headers['Location']}/wait?timeout=120")
        self.assertEqual((status, done["state"]), (200, "succeeded"), done)
        self.assertTrue(os.path.exists(k2_save))
        status, _, reply = self.api("DELETE", "/api/v1/domains/k2")
        self.assertEqual(status, 204, reply)
        self.assert_gone("k2")

    def measure(self, n_domains):
        """Median latency of GET /api/v1/domains and kxld's RSS, for the record."""
        times = []
        for _ in range(50):
            t = time.monotonic()
            status, _, _ = self.api("GET", "/api/v1/domains")
            times.append(time.monotonic() - t)
            self.assertEqual(status, 200)
        with open(f"/proc/{self.kxld.pid}/status") as f:
            rss = [l.split()[1] for l in f if l.startswith("VmRSS:")][0]
        print(f"\nkxld: GET /api/v1/domains with {n_domains} domains: median "
              f"{statistics.median(times) * 1000:.2f} ms over 50; RSS {int(rss) // 1024} MiB "
              f"({os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(KXLD))))})",
              file=sys.stderr)


class KxldProcessTest(KxldTestCase):
    """The daemon as a program: its config, one per socket, the background."""

    def test_bad_config_is_one_line_with_file_and_line(self):
        conf = os.path.join(self.root, "etc/kxl/kxld.conf")
        os.makedirs(os.path.dirname(conf))
        with open(conf, "w") as f:
            f.write('# kxld\nunix_socket = "run/kxl/api.sock"\nlisten = "0.0.0.0:8080"\n')
        r = subprocess.run([KXLD, "--foreground", "--root", self.root], env=self.env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, f"kxld: {conf}:3: unknown key 'listen'\n")
        self.assertFalse(os.path.exists(os.path.join(self.root, "run/kxl/api.sock")))

    def test_one_kxld_per_socket(self):
        self.start_kxld()
        r = subprocess.run([KXLD, "--foreground", "--root", self.root], env=self.env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("another kxld listens on", r.stderr)
        status, _, _ = self.api("GET", "/api/v1/domains")   # the first one is untouched
        self.assertEqual(status, 200)

    def test_background_and_config_socket(self):
        conf = os.path.join(self.root, "etc/kxl/kxld.conf")
        os.makedirs(os.path.dirname(conf))
        with open(conf, "w") as f:
            f.write('unix_socket = "run/api.sock"\n')
        r = subprocess.run([KXLD, "--root", self.root], env=self.env, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        path = os.path.join(self.root, "run/api.sock")
        pid = self.daemon_pid()
        try:
            self.conn = UnixHTTPConnection(path)
            status, _, doms = self.api("GET", "/api/v1/domains")
            self.assertEqual((status, doms), (200, []))
        finally:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(os.path.exists(path), "the socket is removed at exit")
        with open(os.path.join(self.root, "var/log/kxl/kxld.log")) as f:
            log = f.read()
        self.assertIn(f"listening on {path}", log)
        self.assertIn("stopping", log)

    def test_systemd_unit_execstart(self):
        """The unit in the tree, run the way the design says units are tested here: its
        ExecStart, with the built kxld for /usr/sbin/kxld (and the test's KXL_ROOT)."""
        unit = os.path.join(os.path.dirname(__file__), "../../etc/systemd/kxld.service")
        with open(unit) as f:
            keys = dict(l.split("=", 1) for l in f.read().splitlines()
                        if "=" in l and not l.startswith("#"))
        self.assertEqual(keys["Type"], "simple")
        self.assertEqual(keys["KillMode"], "process", "stopping kxld must not kill domains")
        argv = keys["ExecStart"].split()
        self.assertEqual(argv[0], "/usr/sbin/kxld")
        log = open(os.path.join(self.tmp, "kxld.stderr"), "ab")
        self.kxld = subprocess.Popen([KXLD, *argv[1:]], env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while not os.path.exists(self.sock_path) and time.monotonic() < deadline:
            self.assertIsNone(self.kxld.poll(), self.kxld_log())
            time.sleep(0.05)
        self.conn = UnixHTTPConnection(self.sock_path)
        status, _, doms = self.api("GET", "/api/v1/domains")
        self.assertEqual((status, doms), (200, []))

    def daemon_pid(self):
        """The kxld serving this test's root."""
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv[0].endswith(b"kxld") and self.root.encode() in argv:
                return int(pid)
        self.fail("no kxld process for this root")
