"""test_graphics.py - xl's graphics keys on real guests: the VNC server on the domain's Unix
socket or, with a password, on the network (spoken to as a VNC client does, RFB 3.8 with
VNC authentication), the graphics card the guest sees, and that no configuration gives an
unauthenticated network listener."""

import json
import os
import random
import socket
import stat
import struct
import subprocess
import unittest

from kxltest import KxlTestCase


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"the VNC server closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def vnc_response(password, challenge):
    """VNC authentication: the challenge DES-encrypted with the password (8 bytes, NUL
    padded, each byte's bits reversed), by openssl (single DES is in its legacy provider)."""
    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    r = subprocess.run(["openssl", "enc", "-des-ecb", "-nopad", "-K", key.hex(),
                        "-provider", "legacy", "-provider", "default"],
                       input=challenge, capture_output=True, check=True)
    return r.stdout


class Rfb:
    """The client side of an RFB 3.8 handshake."""

    def __init__(self, sock):
        self.sock = sock
        sock.settimeout(20)
        self.version = recv_exact(sock, 12)
        sock.sendall(b"RFB 003.008\n")
        n = recv_exact(sock, 1)[0]
        self.security_types = list(recv_exact(sock, n))

    def login(self, password=None):
        """Chooses None or VNC authentication; True when the server lets us in."""
        if password is None:
            self.sock.sendall(b"\x01")
        else:
            self.sock.sendall(b"\x02")
            challenge = recv_exact(self.sock, 16)
            self.sock.sendall(vnc_response(password, challenge))
        return struct.unpack(">I", recv_exact(self.sock, 4))[0] == 0

    def server_init(self):
        """(width, height, desktop name) after ClientInit."""
        self.sock.sendall(b"\x01")   # shared
        width, height = struct.unpack(">HH", recv_exact(self.sock, 4))
        recv_exact(self.sock, 16)    # pixel format
        n = struct.unpack(">I", recv_exact(self.sock, 4))[0]
        return width, height, recv_exact(self.sock, n).decode()


def assert_vnc_password(test, port, password, name, where=""):
    """The display on 127.0.0.1:port offers VNC authentication only, refuses a wrong password,
    lets password in and names the domain; where ("on B") goes into the messages."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        rfb = Rfb(s)
        test.assertEqual(rfb.security_types, [2], f"a network display without VNC auth {where}")
        test.assertFalse(rfb.login("wrong-pw"), f"a wrong password let the client in {where}")
    with socket.create_connection(("127.0.0.1", port)) as s:
        rfb = Rfb(s)
        test.assertTrue(rfb.login(password), f"the right password was refused {where}")
        test.assertIn(name, rfb.server_init()[2])


def unix_connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


class GraphicsTest(KxlTestCase):

    def display(self, name):
        r = self.kxl("vncviewer", "--json", name, check=True)
        return json.loads(r.stdout)["vnc"]

    def guest_has_vga(self, name):
        # the PCI display class (0x0300xx) among the guest's devices, or its absence
        m = self.guest_sh(name, "cat /sys/bus/pci/devices/*/class | sort -u | tr '\\n' ' '; "
                          "echo END-OF\"\"-CLASSES", rb"([0-9a-fx ]*)END-OF-CLASSES\s*\n")
        return b"0x0300" in m.group(1)

    def free_display(self):
        """A display whose port nothing listens on now."""
        for _ in range(50):
            d = random.randint(40, 90)
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", 5900 + d)) != 0:
                    return d
        self.skipTest("no free VNC port between 5940 and 5990")

    def test_vnc_on_the_unix_socket(self):
        self.create("gfx1", extra_lines="vnc = 1\nkeymap = \"en-us\"")
        self.wait_ready("gfx1")
        vnc = self.display("gfx1")
        path = os.path.join(self.root, "run/kxl/gfx1/vnc.sock")
        self.assertEqual(vnc, {"family": "unix", "path": path, "password": False})
        self.assertEqual(self.kxl("vncviewer", "-p", "gfx1", check=True).stdout.strip(), path)
        # only root reaches it: the socket or its directory closed to other users
        sock_mode = os.stat(path).st_mode
        dir_mode = os.stat(os.path.dirname(path)).st_mode
        self.assertTrue(stat.S_ISSOCK(sock_mode))
        self.assertFalse(sock_mode & stat.S_IWOTH and dir_mode & stat.S_IXOTH,
                         f"socket {oct(sock_mode)} in a directory {oct(dir_mode)}")
        with unix_connect(path) as s:
            rfb = Rfb(s)
            self.assertEqual(rfb.version, b"RFB 003.008\n")
            self.assertIn(1, rfb.security_types)
            self.assertTrue(rfb.login())
            width, height, title = rfb.server_init()
        self.assertIn("gfx1", title)
        self.assertGreater(width * height, 0)
        self.assertTrue(self.guest_has_vga("gfx1"), "the guest sees no graphics card")

    def test_network_listener_asks_the_password(self):
        display = self.free_display()
        self.create("gfx2", extra_lines=f'vnc = 1\nvnclisten = "127.0.0.1"\n'
                                        f'vncdisplay = {display}\nvncpasswd = "kxl-pw1"')
        self.wait_ready("gfx2")
        vnc = self.display("gfx2")
        self.assertEqual(vnc["family"], "ipv4")
        self.assertEqual(vnc["host"], "127.0.0.1")
        self.assertGreaterEqual(vnc["port"], 5900 + display)   # vncunused: the first free one
        self.assertTrue(vnc["password"])
        assert_vnc_password(self, vnc["port"], "kxl-pw1", "gfx2")
        # the password is on no command line and in nothing kxl shows
        for pid in self.qemu_pids("gfx2"):
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                self.assertNotIn(b"kxl-pw1", f.read())
        shown = self.kxl("list", "--json", "-l", "gfx2", check=True).stdout
        self.assertNotIn("kxl-pw1", shown)
        self.assertIn("********", shown)

    def test_network_listener_without_password_stays_local(self):
        display = self.free_display()
        cfg = self.write_cfg("gfx3", extra_lines=f'vnc = 1\nvnclisten = "127.0.0.1:{display}"')
        r = self.kxl("create", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"gfx3\.cfg:\d+: warning: vnclisten = \"127\.0\.0\.1\" "
                                   r"without vncpasswd")
        self.wait_ready("gfx3")
        self.assertEqual(self.display("gfx3")["family"], "unix")
        with socket.socket() as s:
            self.assertNotEqual(s.connect_ex(("127.0.0.1", 5900 + display)), 0,
                                "something listens on the display's port")

    def test_headless_by_default(self):
        self.create("gfx4")
        self.wait_ready("gfx4")
        r = self.kxl("vncviewer", "gfx4")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("has no display: add vnc = 1", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertFalse(self.guest_has_vga("gfx4"), "a headless guest has a graphics card")

    def test_usb_tablet(self):
        """usb = 1 and usbdevice = "tablet" (the pointer a VNC client needs): QEMU has Xen's
        USB 1.1 controller with the tablet on it, and usb-list shows it in xl's layout."""
        self.create("gfx5", extra_lines='vnc = 1\nusb = 1\nusbdevice = "tablet"')
        self.wait_ready("gfx5")
        info = self.kxl("qemu-monitor-command", "gfx5", "info usb", check=True).stdout
        self.assertRegex(info, r"Port 1, Speed 12 Mb/s, Product QEMU USB Tablet")
        self.assertEqual(self.kxl("usb-list", "gfx5", check=True).stdout,
                         "Devid  Type         BE  state usb-ver ports\n"
                         "0      devicemodel  0   1     1       2\n"
                         "  Port 1: tablet\n"
                         "  Port 2:\n")


if __name__ == "__main__":
    unittest.main()
