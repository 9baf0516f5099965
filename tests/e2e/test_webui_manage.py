"""End-to-end tests of the web UI's management pages and the kxld routes under them (issue 15):
the config files of etc/kxl/ over HTTPS (read, write through a temporary file, the checker of
`kxl create -n` with FILE:LINE, names refused, the old file kept on a refusal), the VNC
WebSocket spoken to as noVNC speaks (RFB through kxld to a real guest's display), and Debian's
chromium (playwright-core, tests/browser/webui_manage.cjs) editing a config with an error shown
at its line, turning autostart on with an order and off, creating a domain from the New domain
form and starting it, and its graphical console in noVNC at the guest's screen size.
Screenshots go to $KXL_SCREENSHOTS (default /tmp/kxl-webui-screenshots)."""

import gzip
import json
import os
import random
import socket
import stat
import subprocess
import time

from kxltest import GUEST
from test_graphics import Rfb, unix_connect, vnc_response
from test_kxld_tls import TOKEN, TlsKxldTestCase
from test_kxld_ws import websocket
from test_webui import BROWSER_MODULES, SHOTS, WEB_DIR

SCRIPT = os.path.join(os.path.dirname(__file__), "../browser/webui_manage.cjs")


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class WsStream:
    """A WebSocket as the byte stream Rfb reads and writes (frames joined and split)."""

    def __init__(self, ws):
        self.ws = ws
        self.buf = b""

    def settimeout(self, t):
        self.ws.settimeout(t)

    def recv(self, n):
        while not self.buf:
            self.buf = self.ws.recv()
            if isinstance(self.buf, str):
                self.buf = self.buf.encode()
            if not self.buf:
                return b""
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def sendall(self, data):
        self.ws.send_binary(data)


class WebUiManageTest(TlsKxldTestCase):

    def setUp(self):
        super().setUp()
        self.make_tls()
        self.write_conf(web_dir=WEB_DIR)

    def put(self, file, text, **extra):
        return self.https("PUT", f"/api/v1/configs/{file}", token=TOKEN,
                          body={"text": text, **extra})

    def read(self, file):
        with open(os.path.join(self.etc, file)) as f:
            return f.read()

    def test_bundle_size(self):
        """The page's script and style, as a browser gets them compressed: at most 400 KiB
        (issue 15's benchmark), noVNC, xterm.js and uPlot included."""
        total = 0
        for name in ("app.js", "app.css"):
            with open(os.path.join(WEB_DIR, name), "rb") as f:
                total += len(gzip.compress(f.read(), 9))
        print(f"\nweb UI bundle: {total / 1024:.0f} KiB compressed", flush=True)
        self.assertLess(total, 400 * 1024)

    def test_config_routes(self):
        self.start_kxld()
        with open(self.write_cfg("cfg1")) as f:
            good = f.read()
        # a new file: 201, mode 0600, what GET gives back, listed
        status, _, r = self.put("cfg1.cfg", good)
        self.assertEqual(status, 201, r)
        self.validate(r, "ConfigWritten")
        path = os.path.join(self.etc, "cfg1.cfg")
        self.assertEqual(r, {"file": "cfg1.cfg", "config_file": path, "name": "cfg1"})
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        status, _, r = self.https("GET", "/api/v1/configs/cfg1.cfg", token=TOKEN)
        self.assertEqual(status, 200, r)
        self.validate(r, "ConfigText")
        self.assertEqual(r["text"], good)
        status, _, r = self.https("GET", "/api/v1/configs", token=TOKEN)
        self.assertIn({"name": "cfg1", "config_file": path}, r)
        # a wrong text: the message and line kxl create -n gives; PUT refuses and keeps the file
        bad = good.replace("memory = 256", "memory = lots")
        line = bad.splitlines().index("memory = lots") + 1
        status, _, r = self.https("POST", "/api/v1/configs/cfg1.cfg/validate", token=TOKEN,
                                  body={"text": bad})
        self.assertEqual(status, 200, r)
        self.validate(r, "ConfigCheck")
        self.assertFalse(r["valid"])
        self.assertEqual(r["line"], line)
        self.assertTrue(r["message"].startswith(f"{path}:{line}: "), r["message"])
        # the same words as the command line's checker, for the same text in a file
        cli_file = os.path.join(self.tmp, "cfg1.cfg")
        with open(cli_file, "w") as f:
            f.write(bad)
        cli = self.kxl("create", "-n", cli_file)
        self.assertNotEqual(cli.returncode, 0)
        self.assertIn(r["message"].split(": ", 1)[1], cli.stderr)
        status, _, e = self.put("cfg1.cfg", bad)
        self.assert_error(status, 400, "config", e)
        self.assertIn(f"cfg1.cfg:{line}:", e["error"]["message"])
        self.assertEqual(self.read("cfg1.cfg"), good)
        self.assertEqual([f for f in os.listdir(self.etc) if f.startswith(".")], [],
                         "a temporary file was left behind")
        # a valid change replaces it (200), keeping the file's mode
        os.chmod(path, 0o640)
        status, _, r = self.https("POST", "/api/v1/configs/cfg1.cfg/validate", token=TOKEN,
                                  body={"text": good + "vcpus = 2\n"})
        self.assertEqual((status, r["valid"], r["name"]), (200, True, "cfg1"), r)
        status, _, r = self.put("cfg1.cfg", good + "vcpus = 2\n")
        self.assertEqual(status, 200, r)
        self.assertEqual(self.read("cfg1.cfg"), good + "vcpus = 2\n")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        # replace false: an existing file stays
        status, _, e = self.put("cfg1.cfg", good, replace=False)
        self.assert_error(status, 409, "exists", e)
        self.assertEqual(self.read("cfg1.cfg"), good + "vcpus = 2\n")
        # names: no leading dot, NAME.cfg, no slash (an encoded one included)
        for name in (".hidden.cfg", "x.txt", ".cfg", "a%2fb.cfg", "a%0ab.cfg"):
            for method, path_, body in (("GET", "", None), ("PUT", "", {"text": good}),
                                        ("POST", "/validate", {"text": good})):
                status, _, e = self.https(method, f"/api/v1/configs/{name}{path_}",
                                          token=TOKEN, body=body)
                # (libwebsockets decodes the path first: a %0a ends it, so 405 for some)
                self.assertIn(status, (400, 404, 405), f"{method} {name}: {e}")
                self.validate(e, "Error")
        self.assertFalse(os.path.exists(os.path.join(self.etc, ".hidden.cfg")))
        self.assertFalse(os.path.exists(os.path.join(self.root, "etc/b.cfg")))
        status, _, e = self.https("GET", "/api/v1/configs/none.cfg", token=TOKEN)
        self.assert_error(status, 404, "not-found", e)
        # bad bodies
        for body in ({}, {"text": 1}, {"text": good, "extra": 1}, {"text": good, "replace": 1}):
            status, _, e = self.https("PUT", "/api/v1/configs/cfg1.cfg", token=TOKEN, body=body)
            self.assert_error(status, 400, "invalid", e)
        self.assertEqual(self.read("cfg1.cfg"), good + "vcpus = 2\n")
        # without credentials nothing is read or written
        status, _, e = self.https("GET", "/api/v1/configs/cfg1.cfg")
        self.assert_error(status, 401, "permission", e)
        status, _, e = self.https("PUT", "/api/v1/configs/cfg1.cfg", body={"text": good})
        self.assert_error(status, 401, "permission", e)
        self.assertEqual(self.read("cfg1.cfg"), good + "vcpus = 2\n")

    def screen_size(self, name):
        """The guest's screen as its VNC server tells a client."""
        with unix_connect(os.path.join(self.root, f"run/kxl/{name}/vnc.sock")) as s:
            rfb = Rfb(s)
            self.assertTrue(rfb.login())
            return rfb.server_init()[:2]

    def test_vnc_websocket(self):
        self.create("vncws", extra_lines="vnc = 1")
        self.create("novnc")
        self.start_kxld()
        self.wait_ready("vncws")
        # no credentials: refused at the upgrade
        with self.assertRaises(websocket.WebSocketException):
            self.wss("/api/v1/domains/vncws/vnc")
        ws = self.wss("/api/v1/domains/vncws/vnc", token=TOKEN)
        rfb = Rfb(WsStream(ws))
        self.assertEqual(rfb.version, b"RFB 003.008\n")
        self.assertIn(1, rfb.security_types)
        self.assertTrue(rfb.login())
        width, height, title = rfb.server_init()
        self.assertIn("vncws", title)
        self.assertEqual((width, height), self.screen_size("vncws"))
        # a framebuffer update through the relay: SetEncodings (raw), then a full request
        ws.send_binary(b"\x02\x00\x00\x01\x00\x00\x00\x00")
        ws.send_binary(b"\x03\x00\x00\x00\x00\x00" + width.to_bytes(2, "big") +
                       height.to_bytes(2, "big"))
        stream, got = WsStream(ws), 0
        header = stream.recv(4)
        self.assertEqual(header[0], 0, f"not a FramebufferUpdate: {header!r}")
        # a domain without vnc: closed with the reason
        ws2 = self.wss("/api/v1/domains/novnc/vnc", token=TOKEN)
        with self.assertRaises(websocket.WebSocketConnectionClosedException):
            while True:
                got += len(ws2.recv() or b"")
        self.assertEqual(got, 0)
        # the domain ends: the WebSocket closes
        self.kxl("destroy", "vncws", check=True)
        deadline = time.monotonic() + 20
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                if ws.recv() in (b"", ""):
                    closed = True
            except (websocket.WebSocketConnectionClosedException, ConnectionError):
                closed = True
        self.assertTrue(closed, "the VNC WebSocket stayed open after the domain ended")

    def test_vnc_websocket_with_a_password(self):
        """A display on the network (vnclisten, vncpasswd): kxld relays to QEMU's port, and
        the password is asked in the RFB stream, between the client and QEMU."""
        display = next(d for d in random.sample(range(40, 90), 50) if port_free(5900 + d))
        self.create("vncpw", extra_lines=f'vnc = 1\nvnclisten = "127.0.0.1"\n'
                                         f'vncdisplay = {display}\nvncpasswd = "kxl-pw9"')
        self.start_kxld()
        self.wait_ready("vncpw")
        rfb = Rfb(WsStream(self.wss("/api/v1/domains/vncpw/vnc", token=TOKEN)))
        self.assertEqual(rfb.security_types, [2], "the network display asks no password")
        self.assertFalse(rfb.login("wrong-pw"))
        rfb = Rfb(WsStream(self.wss("/api/v1/domains/vncpw/vnc", token=TOKEN)))
        self.assertTrue(rfb.login("kxl-pw9"), "the right password was refused")
        self.assertIn("vncpw", rfb.server_init()[2])
        self.assertNotIn("kxl-pw9", self.kxld_log())

    def test_in_a_browser(self):
        name, form_name = "webcfg", "webform"
        etc_cfg = os.path.join(self.etc, f"{name}.cfg")
        os.rename(self.write_cfg(name), etc_cfg)
        original = self.read(f"{name}.cfg")
        display = next(d for d in random.sample(range(40, 90), 50) if port_free(5900 + d))
        self.create("webpw", extra_lines=f'vnc = 1\nvnclisten = "127.0.0.1"\n'
                                         f'vncdisplay = {display}\nvncpasswd = "kxl-pw8"')
        self.start_kxld()
        os.makedirs(SHOTS, exist_ok=True)
        env = dict(self.env, KXL_URL=f"https://127.0.0.1:{self.port}/", KXL_TOKEN=TOKEN,
                   KXL_CONFIG=name, KXL_NEW=form_name, KXL_GUEST=GUEST, KXL_SHOTS=SHOTS,
                   KXL_PW_DOMAIN="webpw", KXL_PW="kxl-pw8",
                   NODE_PATH=BROWSER_MODULES)
        # the script asks the test what it cannot see from the page (one line each way)
        answers = {"screen": lambda: list(self.screen_size(form_name)),
                   "file": lambda: self.read(f"{name}.cfg"),
                   "autostart": lambda: os.listdir(os.path.join(self.etc, "auto"))
                   if os.path.isdir(os.path.join(self.etc, "auto")) else []}
        result = None
        with subprocess.Popen(["node", SCRIPT], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as proc:
            for line in proc.stdout:
                msg = json.loads(line)
                if "ask" in msg:
                    proc.stdin.write(json.dumps(answers[msg["ask"]]()) + "\n")
                    proc.stdin.flush()
                else:
                    result = msg
            stderr = proc.stderr.read()
            rc = proc.wait(timeout=60)
        self.assertIsNotNone(result, f"no result from the browser: {stderr[-3000:]}")
        self.assertEqual(rc, 0, f"{json.dumps(result, indent=1)}\n{stderr[-3000:]}"
                                f"\nkxld: {self.kxld_log()}")
        print(f"\nweb UI (manage): {json.dumps(result)}", flush=True)
        # the editor: the error shown at its line, the refused text not written, the fix saved
        self.assertEqual(result["error_line"], result["bad_line"])
        self.assertEqual(result["file_after_refusal"], original)
        self.assertTrue(result["mark_at_line"], result)
        self.assertIn("# edited in the browser", self.read(f"{name}.cfg"))
        # autostart: on with order 7 (in the file and the plan), then off
        self.assertEqual(result["autostart_on"], [f"{name}.cfg"])
        self.assertEqual(result["order_in_plan"], 7)
        self.assertIn('startup = "order=7"', self.read(f"{name}.cfg"))
        self.assertEqual(result["autostart_off"], [])
        # the New domain form: a readable file, the domain running, its screen in noVNC
        text = self.read(f"{form_name}.cfg")
        for want in (f'name = "{form_name}"', "memory = 256", "vcpus = 1", "vnc = 1",
                     f'kernel = "{GUEST}/vmlinuz"'):
            self.assertIn(want, text)
        self.assertIn(form_name, self.domain_names())
        self.assertEqual(result["canvas"], result["screen"])
        self.assertGreater(result["canvas"][0] * result["canvas"][1], 0)
        # a display with vncpasswd: asked in the page, connected with it
        self.assertTrue(result["password_asked"])
        self.assertGreater(result["password_canvas"][0] * result["password_canvas"][1], 0)
        self.assertEqual(result["page_errors"], [])
        self.assertEqual(result["refused_requests"], 1)   # the save of the wrong text
        self.assertEqual(result["dark_background"], "rgb(22, 24, 28)")   # style.css's dark --bg
        for shot in ("configs.png", "editor.png", "editor-dark.png", "create.png", "vnc.png",
                     "configs-phone.png"):
            self.assertGreater(os.path.getsize(os.path.join(SHOTS, shot)), 5000, shot)


if __name__ == "__main__":
    import unittest
    unittest.main()
