"""End-to-end tests of kxld's relocation server: host B is a second KXL_ROOT with its own kxld
(relocation_server = 1 on a free loopback port), host A sends with `kxl migrate --relocation`.
The certificates are kxl tls-setup's: A makes the CA and signs B's, which B imports. A live
migration goes through it (the guest's heartbeat goes on on B's console, A keeps nothing,
QEMU's own TLS carried the memory);
peers that must be refused are, before any byte of the protocol, each with its reason in B's
log, nothing started on B, and kxld B still serving: a host not in relocation_hosts_allow (a
real migration, whose guest runs on at A), a certificate from another CA, no certificate, a
plain TCP client, garbage after a good handshake, and the recorded bytes of a good session
sent again (a replay). --copy-storage through it: the disks' NBD connections go inside the
protocol's TLS connection."""

import os
import re
import socket
import ssl
import subprocess
import threading
import time

from kxltest import KXL
from test_kxld import KXLD, UnixHTTPConnection
from test_kxld_tls import free_port
import test_migrate
from test_migrate import FIGURES

BANNER = b"kxl migration receiver ready"


class RelocationTest(test_migrate.MigrateTest):

    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.kxld = None
        self.log_path = os.path.join(self.tmp, "kxld-b.log")
        self.tls_a = os.path.join(self.root, "etc/kxl/tls")
        self.tls_b = os.path.join(self.root_b, "etc/kxl/tls")
        self.tls_setup(self.env, "--name", "host-a")
        out = os.path.join(self.tmp, "for-b")
        self.tls_setup(self.env, "--sign", "host-b", "--ip", "127.0.0.1", "--out", out)
        self.tls_setup(self.env_b, "--import", out)

    def tearDown(self):
        try:
            self.stop_kxld_b()   # first: its log and sanitizer reports are in tmp
        finally:
            super().tearDown()

    def assert_root_b_empty(self, timeout=20):
        """Nothing of any domain on B (kxld's own socket aside)."""
        run = os.path.join(self.root_b, "run/kxl")
        deadline = time.monotonic() + timeout
        while True:
            dirs = [d for d in os.listdir(run) if not d.startswith(".") and
                    os.path.isdir(os.path.join(run, d))]
            left = (dirs, self.qemus_of_root(self.root_b))
            if left == ([], []) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(left, ([], []), "B keeps runtime directories or QEMUs")
        with self.host_b():
            self.assertEqual(self.domain_names(), [])

    def tls_setup(self, env, *args):
        r = subprocess.run([KXL, "tls-setup", *args], env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def start_kxld_b(self, allow=("host-a$",)):
        with open(os.path.join(self.root_b, "etc/kxl/kxld.conf"), "w") as f:
            f.write("relocation_server = 1\nrelocation_address = \"127.0.0.1\"\n"
                    f"relocation_port = {self.port}\n"
                    "relocation_hosts_allow = [ %s ]\n" % ", ".join(f'"{a}"' for a in allow))
        log = open(self.log_path, "ab")
        self.kxld = subprocess.Popen([KXLD, "--foreground", "-v", "--root", self.root_b],
                                     env=self.env_b, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while "relocation server on" not in self.kxld_log():
            self.assertIsNone(self.kxld.poll(), f"kxld B ended: {self.kxld_log()}")
            self.assertLess(time.monotonic(), deadline, self.kxld_log())
            time.sleep(0.05)

    def stop_kxld_b(self):
        if self.kxld and self.kxld.poll() is None:
            self.kxld.terminate()
            self.assertEqual(self.kxld.wait(timeout=30), 0, self.kxld_log())
        self.kxld = None

    def kxld_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pattern in self.kxld_log():
                return
            time.sleep(0.1)
        self.fail(f"'{pattern}' not in kxld B's log:\n{self.kxld_log()[-3000:]}")

    def assert_kxld_serves(self):
        """kxld B is up: its API answers on the Unix socket."""
        self.assertIsNone(self.kxld.poll(), self.kxld_log())
        conn = UnixHTTPConnection(os.path.join(self.root_b, "run/kxl/kxld.sock"), timeout=20)
        conn.request("GET", "/api/v1/domains")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()

    def relocate(self, name, *args):
        return self.migrate("--relocation", f"127.0.0.1:{self.port}", *args, name)

    def tls_client(self, tls_dir=None):
        """A TLS connection to B's relocation port, with tls_dir's certificate (None: none),
        verifying B's certificate with A's CA."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(self.tls_a, "ca-cert.pem"))
        if tls_dir:
            ctx.load_cert_chain(os.path.join(tls_dir, "host-cert.pem"),
                                os.path.join(tls_dir, "host-key.pem"))
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        return ctx.wrap_socket(sock, server_hostname="127.0.0.1")

    @staticmethod
    def read_all(sock):
        """What the server sends until it closes (an error from a refused TLS is the end)."""
        data = b""
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ssl.SSLError, ConnectionResetError, socket.timeout):
            pass
        return data

    def test_live_migration_through_relocation_server(self):
        """The guest moves through B's relocation server and goes on counting there with its
        disk's file; A keeps no domain, process or runtime directory."""
        self.start_kxld_b()
        self.booted("rl", extra_lines=self.data_disk())
        self.guest_sh("rl", "echo before-the-move > /mnt/data/mark.txt; sync; echo w-$((6*7))",
                      r"w-42")
        t0 = time.monotonic()
        r = self.relocate("rl")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, r.stderr + self.kxld_log()[-3000:])
        figures = FIGURES.search(r.stderr)
        self.assertIsNotNone(figures, r.stderr)
        print(f"\nmigrate --relocation: {took:.2f} s wall, {figures.group(0)}")
        self.assert_gone("rl")
        run_a = os.path.join(self.root, "run/kxl")
        self.assertEqual([d for d in os.listdir(run_a) if not d.startswith(".")], [])
        self.assert_goes_on_at_b("rl", self.last_beat("rl"))
        with self.host_b():
            self.guest_sh("rl", "cat /mnt/data/mark.txt", r"before-the-move")
            # the memory came on a connection of its own, which QEMU's TLS wrapped
            self.assertIn("(QEMU's TLS)", self.kxl("dmesg", check=True).stdout)
        self.wait_log("relocation from 127.0.0.1: accepted (host-a, 127.0.0.1) by the "
                      "pattern 'host-a$'")
        self.wait_log("domain 'rl' received and running here")
        self.assert_kxld_serves()

    def test_copy_storage_through_relocation_server(self):
        """--copy-storage through the relocation server: the disks' NBD connections go through
        the mutually authenticated TLS connection (framed with the protocol), the memory through
        QEMU's TLS; the guest's checksum of its raw disk is the same on B."""
        self.start_kxld_b()
        cfg_b, _, dir_b = self.copy_storage_domain("rc")
        before = self.guest_sum("rc")
        r = self.relocate("rc", "--copy-storage", "-C", cfg_b)
        self.assertEqual(r.returncode, 0, r.stderr + self.kxld_log()[-3000:])
        print(f"\nmigrate --relocation --copy-storage: {FIGURES.search(r.stderr).group(0)}")
        self.assert_gone("rc")
        self.assertEqual(sorted(os.listdir(dir_b)), ["fs.img", "raw.img"])
        self.assert_goes_on_at_b("rc", self.last_beat("rc"))
        with self.host_b():
            self.assertEqual(self.guest_sum("rc"), before, "the raw disk differs on B")
            self.guest_sh("rc", "cat /mnt/data/mark.txt", r"copied-disk\r?\n")
        self.assert_kxld_serves()

    def relocation_receivers(self):
        """kxld B's receivers: a relocation peer's child (kxld --relocation-peer forked)."""
        def argv(pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    return f.read().split(b"\0")
            except OSError:
                return []
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if b"--relocation-peer" not in argv(pid):
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = f.read().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if b"--relocation-peer" in argv(ppid) and self.root_b.encode() in argv(pid):
                pids.append(int(pid))
        return pids

    def test_copy_storage_relocation_receiver_killed_kxld_cleans(self):
        """kxld B's receiver killed (-9) after making the disk's image, before the domain's
        supervisor took it over: the sender fails, the guest runs on at A, and kxld removes
        the image as soon as its receiver has ended (no next receive needed) and says so."""
        self.start_kxld_b()
        cfg_b, dir_b, _ = self.qcow2_domain("rk")
        proc = subprocess.Popen([KXL, "migrate", "--relocation", f"127.0.0.1:{self.port}",
                                 "--copy-storage", "-C", cfg_b, "rk"], env=self.env,
                                stderr=subprocess.PIPE, text=True)
        left = self.kill_receiver_once_made("rk", proc, dir_b, self.relocation_receivers)
        for f in left:
            self.wait_log(f"'{dir_b}/{f}' removed: it was made for a disk's copy")
        self.assertEqual(os.listdir(dir_b), [])
        self.assertEqual(os.listdir(os.path.join(self.root_b, "var/lib/kxl/incoming")), [])
        self.assert_kxld_serves()

    def recording_proxy(self):
        """A TCP proxy on a free loopback port to B's relocation port, for one connection: it
        records what the client sends. (port, the thread, the list of chunks.)"""
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        chunks = []

        def pipe(src, dst, record):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if record:
                        chunks.append(data)
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for sk in (src, dst):
                    try:
                        sk.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        def serve():
            client, _ = lsock.accept()
            lsock.close()
            server = socket.create_connection(("127.0.0.1", self.port), timeout=120)
            back = threading.Thread(target=pipe, args=(server, client, False))
            back.start()
            pipe(client, server, True)
            back.join()
            client.close()
            server.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        return lsock.getsockname()[1], t, chunks

    def test_replayed_session_is_refused(self):
        """The bytes A sent in a good migration's protocol connection, recorded by a proxy
        and sent again to the relocation port: TLS refuses them (the server's fresh random
        makes the recorded handshake worthless), the banner never comes, the refusal is
        logged, B starts nothing more and kxld serves on."""
        self.start_kxld_b()
        self.booted("rp")
        port, proxy, chunks = self.recording_proxy()
        r = self.migrate("--relocation", f"127.0.0.1:{port}", "rp")
        self.assertEqual(r.returncode, 0, r.stderr + self.kxld_log()[-3000:])
        proxy.join(timeout=60)
        recorded = b"".join(chunks)
        self.assertGreater(len(recorded), 1000, "the proxy recorded the session")
        with self.host_b():
            self.assertEqual(self.domain_names(), ["rp"])
        before = self.kxld_log().count("refused")
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as sock:
            try:
                sock.sendall(recorded)
            except (BrokenPipeError, ConnectionResetError):
                pass   # refused before it had all
            answer = self.read_all(sock)
        self.assertNotIn(BANNER, answer)
        deadline = time.monotonic() + 15
        while self.kxld_log().count("refused") == before:
            self.assertLess(time.monotonic(), deadline, self.kxld_log()[-2000:])
            time.sleep(0.1)
        self.assertIn("refused: TLS handshake failed", self.kxld_log())
        time.sleep(1)
        with self.host_b():
            self.assertEqual(self.domain_names(), ["rp"], "the replay started something")
        dirs = sorted(d for d in os.listdir(os.path.join(self.root_b, "run/kxl"))
                      if not d.startswith(".") and
                      os.path.isdir(os.path.join(self.root_b, "run/kxl", d)))
        self.assertEqual(dirs, ["rp"])
        self.assert_kxld_serves()

    def test_host_not_allowed_is_refused(self):
        """A's certificate is good but B allows only host-z: the migration fails at once with
        the refusal, the guest runs on at A, B started nothing and says why."""
        self.start_kxld_b(allow=("host-z$", "10[.]9[.]"))
        self.booted("rn")
        r = self.relocate("rn")
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"kxl: the relocation server on '127.0.0.1' port \d+ refused "
                                   r"the migration: .*relocation_hosts_allow does not list this "
                                   r"host \(host-a, 127.0.0.1\)")
        self.wait_log("relocation from 127.0.0.1 refused: its names (host-a, 127.0.0.1) match "
                      "no pattern of relocation_hosts_allow")
        self.assert_root_b_empty(timeout=5)
        self.assert_runs_on("rn")
        self.assert_kxld_serves()

    def test_receiver_gone_mid_stream_then_a_plain_save(self):
        """kxld B stopped while memory moves (its peers end with it): the sender says so,
        the guest runs on at A, B keeps nothing; A's QEMU is left without TLS, so a save (a
        plain stream) works after."""
        self.start_kxld_b()
        self.booted("rg", memory=256)
        self.fill_memory("rg", 96)
        proc = subprocess.Popen([KXL, "migrate", "--bandwidth", "8", "--relocation",
                                 f"127.0.0.1:{self.port}", "rg"], env=self.env,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not os.path.isdir(os.path.join(self.root_b, "run/kxl/rg")):
            self.assertLess(time.monotonic(), deadline, "B never started receiving")
            time.sleep(0.1)
        time.sleep(2)
        self.assertIsNone(proc.poll(), "the migration ended before kxld B stopped")
        self.stop_kxld_b()
        err = proc.communicate(timeout=120)[1]
        self.assertNotEqual(proc.returncode, 0)
        self.assertRegex(err, r"kxl: .*(hung up|cancelled|cannot|ended before)")
        self.assert_root_b_empty()
        self.assert_runs_on("rg")
        save = os.path.join(self.tmp, "rg.save")
        self.kxl("save", "-c", "rg", save, check=True, timeout=120)
        with open(save, "rb") as f:
            self.assertEqual(f.read(7), b"KXLSAVE")
        self.assert_runs_on("rg")

    def read_until(self, sock, text, timeout=60):
        """What sock gives until text is in it."""
        got = b""
        sock.settimeout(timeout)
        while text not in got:
            chunk = sock.recv(4096)
            self.assertTrue(chunk, f"no {text!r} in {got!r}")
            got += chunk
        return got

    def test_plain_stream_to_the_stream_port_is_refused(self):
        """A good peer sends a real header (from kxl save), then the saved QEMU stream in
        plain TCP to the port named for QEMU's stream: the receiving QEMU demands its TLS, so
        the stream never begins, the peer is told (within the supervisor's 30 s for a stream
        to begin), and nothing stays on B."""
        self.start_kxld_b()
        self.booted("ps")
        save = os.path.join(self.tmp, "ps.save")
        self.kxl("save", "ps", save, check=True, timeout=120)
        with open(save, "rb") as f:
            saved = f.read()
        hlen = 24 + int.from_bytes(saved[12:16], "little") + 4
        sock = self.tls_client(self.tls_a)
        got = self.read_until(sock, BANNER)
        port = int(re.search(rb"QEMU's stream with TLS to port (\d+)", got).group(1))
        sock.sendall(saved[:hlen])
        self.read_until(sock, b"preflight passed")
        with socket.create_connection(("127.0.0.1", port), timeout=20) as plain:
            try:
                plain.sendall(saved[hlen:hlen + 65536])   # fits the socket's buffer
            except (BrokenPipeError, ConnectionResetError):
                pass   # QEMU hung up at once
            try:
                answer = self.read_until(sock, b"error: ", timeout=90) + self.read_all(sock)
            except socket.timeout:
                with self.host_b():
                    events = self.kxl("dmesg").stdout
                self.fail(f"no error from B:\n{self.kxld_log()[-2000:]}\n{events[-3000:]}")
        sock.close()
        self.assertIn(b"QEMU could not load the saved state (the stream did not begin", answer)
        self.wait_log("relocation from 127.0.0.1 failed: ")
        self.assert_root_b_empty()
        self.assert_kxld_serves()

    def test_kxld_refuses_to_start_without_usable_certificates(self):
        """relocation_server = 1 with the key open to others, or missing: kxld does not start,
        and its one-line error names the file (no unauthenticated listener is possible)."""
        key = os.path.join(self.tls_b, "host-key.pem")
        for what, change, words in (("open key", lambda: os.chmod(key, 0o644),
                                     f"'{key}' may be read by others (mode 644)"),
                                    ("missing key", lambda: os.unlink(key),
                                     f"cannot read '{key}' (kxl tls-setup makes it)")):
            with self.subTest(what):
                change()
                with open(os.path.join(self.root_b, "etc/kxl/kxld.conf"), "w") as f:
                    f.write(f"relocation_server = 1\nrelocation_port = {self.port}\n")
                r = subprocess.run([KXLD, "--foreground", "--root", self.root_b],
                                   env=self.env_b, capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 1, r.stderr)
                err = [line for line in r.stderr.splitlines() if line.startswith("kxld: ")]
                self.assertEqual(len(err), 1, r.stderr)
                self.assertIn(f"kxld: relocation_server = 1: {words}", err[0])
                with socket.socket() as s:
                    self.assertNotEqual(s.connect_ex(("127.0.0.1", self.port)), 0)

    def test_bad_peers_are_refused(self):
        """Another CA's certificate, no certificate, plain TCP, and garbage after a good
        handshake: none gets the protocol's banner (but the last, whose garbage is refused as
        a stream), each is logged with its reason, B starts nothing, kxld B serves on and
        still takes a good peer."""
        self.start_kxld_b()
        other = os.path.join(self.tmp, "other-root")
        os.makedirs(other)
        self.tls_setup(dict(self.env, KXL_ROOT=other), "--name", "host-a")
        cases = {
            "another CA": (lambda: self.tls_client(os.path.join(other, "etc/kxl/tls")),
                           "refused: certificate verify failed"),
            "no certificate": (lambda: self.tls_client(None),
                               "refused: TLS handshake failed: "),
            "plain TCP": (lambda: socket.create_connection(("127.0.0.1", self.port),
                                                           timeout=20),
                          "refused: TLS handshake failed: "),
        }
        for what, (connect, logged) in cases.items():
            with self.subTest(what):
                before = self.kxld_log().count("refused")
                try:
                    sock = connect()
                except (ssl.SSLError, ConnectionResetError):
                    sock = None   # refused during the handshake itself
                if sock:
                    if what == "plain TCP":
                        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    self.assertNotIn(BANNER, self.read_all(sock))
                    sock.close()
                deadline = time.monotonic() + 15
                while self.kxld_log().count("refused") == before:
                    self.assertLess(time.monotonic(), deadline, self.kxld_log()[-2000:])
                    time.sleep(0.1)
                self.assertIn(logged, self.kxld_log())
                self.assert_root_b_empty(timeout=5)
                self.assert_kxld_serves()
        with self.subTest("garbage after the handshake"):
            sock = self.tls_client(self.tls_a)
            got = b""
            while BANNER not in got and len(got) < 4096:
                chunk = sock.recv(4096)
                self.assertTrue(chunk, f"no banner: {got}")
                got += chunk
            self.assertIn(b"QEMU's stream with TLS to port ", got)
            sock.sendall(os.urandom(8192))
            answer = self.read_all(sock)
            sock.close()
            self.assertIn(b"not a kxl save file or migration stream", answer)
            self.wait_log("is not a kxl save file or migration stream")
            self.assert_root_b_empty(timeout=5)
            self.assert_kxld_serves()
        log = self.kxld_log()
        self.assertIn("refused: certificate verify failed", log)
        self.assertIn("peer did not return a certificate", log)


# the relocation class inherits MigrateTest's tests; they run once, in test_migrate
for _name in [n for n in vars(test_migrate.MigrateTest) if n.startswith("test_")]:
    setattr(RelocationTest, _name, None)
