"""kxltest - helpers for kxl's end-to-end tests: a private KXL_ROOT per test,
the kxl binary, guest configs built on the test guest, and observation of
what the guest printed on its console.

Everything is observed from outside: console logs, the process table,
the runtime directory. Nothing here imitates QEMU."""

import contextlib
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

BUILD = os.environ.get("KXL_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
KXL = os.path.abspath(os.path.join(BUILD, "src/cli/kxl"))
GUEST = os.environ.get("KXL_GUEST_DIR", "/var/cache/kxl/test-guest")
BOOT_TIMEOUT = float(os.environ.get("KXL_BOOT_TIMEOUT", "90"))


class KxlTestCase(unittest.TestCase):
    """A test with its own KXL_ROOT; every domain it made is destroyed after it."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kxl-e2e-")
        # a cleanup, not tearDown's: it also runs when a setUp fails (a subclass's), and after
        # the test's own cleanups (a mount in the tree goes first)
        if not os.environ.get("KXL_TEST_KEEP"):   # set: the roots and logs stay, to read
            self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.root = os.path.join(self.tmp, "root")
        os.makedirs(self.root)
        # sanitizer reports of every kxl process (the supervisor's stderr is
        # /dev/null once the guest runs) land here and fail the test
        self.san_dir = os.path.join(self.tmp, "sanitizer")
        os.makedirs(self.san_dir)
        san = f"log_path={self.san_dir}/report:halt_on_error=1"
        self.env = dict(os.environ, KXL_ROOT=self.root,
                        ASAN_OPTIONS=san + ":detect_leaks=1",
                        UBSAN_OPTIONS=san + ":print_stacktrace=1")

    def tearDown(self):
        for name in self.domain_names():
            self.kxl("destroy", name)
        time.sleep(0.2)
        reports = os.listdir(self.san_dir)
        text = "".join(open(os.path.join(self.san_dir, r)).read() for r in reports)
        self.assertEqual(reports, [], f"sanitizer reports:\n{text[:4000]}")

    # -- running kxl -------------------------------------------------------

    def kxl_prefix(self):
        """What kxl runs under: a test whose host is a network namespace returns
        ["ip", "netns", "exec", NS]."""
        return []

    def kxl(self, *args, check=False, timeout=60, stdin=None):
        r = subprocess.run([*self.kxl_prefix(), KXL, *args], env=self.env, capture_output=True,
                           text=True, timeout=timeout, stdin=stdin)
        if check and r.returncode != 0:
            self.fail(f"kxl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def domain_names(self):
        r = self.kxl("list", "--json")
        if r.returncode != 0:
            return []
        return [d["name"] for d in json.loads(r.stdout)]

    def list_json(self):
        return {d["name"]: d for d in json.loads(self.kxl("list", "--json", check=True).stdout)}

    # -- configs -----------------------------------------------------------

    def write_cfg(self, name, extra_lines="", cmdline="", memory=256, vcpus=1):
        path = os.path.join(self.tmp, f"{name}.cfg")
        with open(path, "w") as f:
            f.write(f'name = "{name}"\n'
                    f'type = "pvh"\n'
                    f"memory = {memory}\n"
                    f"vcpus = {vcpus}\n"
                    f'kernel = "{GUEST}/vmlinuz"\n'
                    f'ramdisk = "{GUEST}/initrd.img"\n'
                    f'extra = "console=ttyS0 kxl.hostname={name} {cmdline}"\n'
                    f"{extra_lines}\n")
        return path

    def create(self, name, *extra_args, **cfg_args):
        cfg = self.write_cfg(name, **cfg_args)
        r = self.kxl("create", cfg, *extra_args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return cfg

    # -- observing the guest -------------------------------------------------

    def console_log(self, name):
        path = os.path.join(self.root, "var/log/kxl", f"{name}.console.log")
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_console(self, name, pattern, timeout=BOOT_TIMEOUT, start=0):
        """Waits until pattern (a regex) appears in the console log after
        offset start; returns the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            m = rx.search(self.console_log(name), start)
            if m:
                return m
            time.sleep(0.1)
        self.fail(f"'{pattern}' not on the console of {name} within {timeout}s; "
                  f"last output:\n{self.console_log(name)[-2000:]}")

    def wait_ready(self, name):
        return self.wait_console(name, r"KXL-READY hostname=(\S+) cpus=(\d+) mem_kib=(\d+) "
                                       r"disks=(\S+) net=(\S+)")

    @contextlib.contextmanager
    def qemu_stopped(self, name):
        """The domain's one QEMU SIGSTOPped (it answers nothing) for the block's time, then
        continued; yields its pid."""
        pids = self.qemu_pids(name)
        self.assertEqual(len(pids), 1)
        os.kill(pids[0], signal.SIGSTOP)
        try:
            yield pids[0]
        finally:
            os.kill(pids[0], signal.SIGCONT)

    def qemu_pids(self, name):
        """QEMU processes whose command line names this domain under this root."""
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if (argv and argv[0].endswith(b"qemu-system-x86_64")
                    and f"guest={name},".encode() in b" ".join(argv)
                    and self.root.encode() in b" ".join(argv)):
                pids.append(int(pid))
        return pids

    def supervisor_pid(self, name):
        """The pid of the supervisor of this test's domain name, from the process table."""
        out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            pid, _, args = line.strip().partition(" ")
            if "kxl-supervisor" in args and args.endswith(f" {name}") and self.root in args:
                return int(pid)
        self.fail(f"no supervisor of '{name}' in the process table")

    def console_argv(self, name):
        return [KXL, "console", name]

    def guest_run(self, name, command):
        """Types a command on the guest's shell through `kxl console`, without waiting for
        what it does."""
        con = Pty(self.console_argv(name), self.env)
        con.send("\r")
        con.expect(rf"{name}# ")
        con.send(command + "\r")
        time.sleep(0.5)
        con.send(b"\x1d")
        con.wait()

    def guest_sh(self, name, command, expect, timeout=40):
        """Runs a command on the guest's console and waits for expect, which must not
        match the command itself: the console echoes it, and the wait would end at once."""
        text = command.encode() if isinstance(expect, bytes) else command
        if re.search(expect, text):
            raise ValueError(f"guest_sh: {expect!r} matches the echo of {command!r}")
        con = Pty(self.console_argv(name), self.env)
        con.send("\r")
        con.expect(rf"{name}# ")
        con.send(command + "\r")
        try:
            return con.expect(expect, timeout=timeout)
        finally:
            con.send(b"\x1d")
            con.wait()

    def assert_gone(self, name, timeout=10):
        """No QEMU, no runtime directory, no socket left for name."""
        deadline = time.monotonic() + timeout
        run_dir = os.path.join(self.root, "run/kxl", name)
        while time.monotonic() < deadline:
            if not self.qemu_pids(name) and not os.path.exists(run_dir):
                break
            time.sleep(0.1)
        self.assertEqual(self.qemu_pids(name), [], f"QEMU of {name} still running")
        self.assertFalse(os.path.exists(run_dir), f"{run_dir} left behind")
        self.assertNotIn(name, self.domain_names())


class Pty:
    """A command on a pseudo-terminal, as an administrator would run it."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(argv[0], argv, env)
        self.out = b""

    def send(self, data):
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def expect(self, pattern, timeout=30):
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.out)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"pty: {pattern!r} not seen; got {self.out[-1500:]!r}")
            r, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if r:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    raise AssertionError(f"pty closed before {pattern!r}; got {self.out[-1500:]!r}")

    def wait(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            try:
                r, _, _ = select.select([self.fd], [], [], 0.1)
                if r:
                    self.out += os.read(self.fd, 65536)
            except OSError:
                time.sleep(0.05)
        raise AssertionError("pty command did not end")


def control(root, name, request, sock=None):
    """Sends one request on the domain's control socket and returns its reply."""
    s = sock or socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    if not sock:
        s.connect(os.path.join(root, "run/kxl", name, "control.sock"))
    s.sendall((json.dumps(request) + "\n").encode())
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"the supervisor hung up on {request}")
        reply += chunk
    if not sock:
        s.close()
    return json.loads(reply)


def wait_for_job(root, name, sock, timeout=60):
    """Asks the supervisor of name for its status (on the connected control socket sock) until
    it runs a job; returns the job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = control(root, name, {"execute": "status"}, sock)["return"]["job"]
        if job:
            return job
    raise AssertionError(f"no job of {name} seen within {timeout} s")


class Subscriber:
    """`kxl events ARGS`, its lines read as they come (a pipe left unread would make it a
    subscriber that does not keep up)."""

    def __init__(self, env, *args):
        self.proc = subprocess.Popen([KXL, "events", *args], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait(self, timeout=20, stop=False):
        """Waits for its end (or ends it) and returns (exit status, stderr, lines)."""
        if stop:
            self.proc.terminate()
        self.proc.wait(timeout)
        self.thread.join(timeout)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, err, "".join(self.lines)
