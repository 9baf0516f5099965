"""End-to-end tests of the web UI: a real kxld with TLS on 127.0.0.1 and a token, a real guest,
and Debian's chromium driven by playwright-core (tests/browser/webui.cjs): refused without a
login, logged in with the token, the domain started from its config in etc/kxl/ and running on
the dashboard, a CPU graph that gets live points, the guest's console answering in xterm.js,
pause and unpause seen within a second, a change without the CSRF token refused, destroy
through the confirmation. What the browser did is checked from outside too (`kxl list`). The
sessions' rules, the UI's files and the history are checked here over plain HTTPS as well.
Screenshots go to $KXL_SCREENSHOTS (default /tmp/kxl-webui-screenshots)."""

import json
import os
import secrets
import shutil
import subprocess
import time

from kxltest import BUILD
from test_kxld_tls import TOKEN, TlsKxldTestCase
from test_kxld_ws import websocket

WEB_DIR = os.path.abspath(os.path.join(BUILD, "web"))
BROWSER_MODULES = os.path.abspath(os.path.join(BUILD, "tests/browser/node_modules"))
SCRIPT = os.path.join(os.path.dirname(__file__), "../browser/webui.cjs")
SHOTS = os.environ.get("KXL_SCREENSHOTS", "/tmp/kxl-webui-screenshots")


def browse(test, script, env, answers=None, timeout=600, prefix=()):
    """Runs a browser script (tests/browser/NAME.cjs, which uses lib.cjs) with env on top of
    the test's (under prefix: ip netns exec NS), answering its questions ({"ask": WHAT} lines)
    with answers[WHAT](msg); returns the JSON object of its last line, after asserting it
    exited 0."""
    result = None
    env = dict(test.env, NODE_PATH=BROWSER_MODULES, KXL_SHOTS=SHOTS, **env)
    os.makedirs(SHOTS, exist_ok=True)
    with subprocess.Popen([*prefix, "node", os.path.join(os.path.dirname(__file__), "../browser", script)],
                          env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + timeout
        for line in proc.stdout:
            msg = json.loads(line)
            if "ask" in msg:
                proc.stdin.write(json.dumps(answers[msg["ask"]](msg)) + "\n")
                proc.stdin.flush()
            else:
                result = msg
            test.assertLess(time.monotonic(), deadline, f"{script} ran too long")
        stderr = proc.stderr.read()
        rc = proc.wait(timeout=60)
    test.assertIsNotNone(result, f"no result from {script}: {stderr[-3000:]}")
    test.assertEqual(rc, 0, f"{json.dumps(result, indent=1)}\n{stderr[-3000:]}\n"
                            f"kxld: {test.kxld_log()}")
    return result


class WebUiTest(TlsKxldTestCase):

    def setUp(self):
        super().setUp()
        self.make_tls()
        self.write_conf(web_dir=WEB_DIR)
        self.origin = f"https://127.0.0.1:{self.port}"

    def login(self):
        """A session over HTTPS: (cookie header, CSRF token)."""
        status, headers, s = self.https("POST", "/api/v1/login", body={"token": TOKEN})
        self.assertEqual(status, 200, s)
        self.validate(s, "Session")
        cookie = headers["Set-Cookie"]
        for attr in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/"):
            self.assertIn(attr, cookie)
        return cookie.split(";")[0], s["csrf_token"]

    def test_sessions_files_and_history(self):
        self.start_kxld()
        # the UI's files without credentials, with a policy that allows no inline script
        status, headers, page = self.https("GET", "/")
        headers_html = "text/html; charset=utf-8"
        self.assertEqual((status, headers["Content-Type"]), (200, headers_html))
        csp = headers["Content-Security-Policy"]
        script_src = [d for d in csp.split(";") if d.strip().startswith("script-src")][0]
        self.assertEqual(script_src.strip(), "script-src 'self'")
        self.assertIn(b'<script type="module" src="app.js">', page)
        self.assertNotIn(b"<script>", page)
        status, headers, _ = self.https("GET", "/app.js")
        self.assertEqual((status, headers["Content-Type"]), (200, "text/javascript; charset=utf-8"))
        # the same page on the Unix socket (for a local reverse proxy)
        self.conn.request("GET", "/")
        r = self.conn.getresponse()
        self.assertEqual((r.status, r.getheader("Content-Type"), r.read()), (200, headers_html, page))
        # (libwebsockets resolves dot segments first: "/x/../index.html" is "/index.html")
        for bad in ("/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/.hidden", "/app.js/x",
                    "/%2fetc%2fpasswd"):
            status, _, e = self.https("GET", bad)
            self.assert_error(status, 404, "not-found", e)
        # the API: 401 without credentials, a wrong token refused at login
        status, _, e = self.https("GET", "/api/v1/domains")
        self.assert_error(status, 401, "permission", e)
        status, _, e = self.https("POST", "/api/v1/login", body={"token": TOKEN[::-1]})
        self.assert_error(status, 403, "permission", e)
        cookie, csrf = self.login()
        with_cookie = {"Cookie": cookie, "Origin": self.origin}
        status, _, s = self.https("GET", "/api/v1/session", headers=with_cookie)
        self.assertEqual((status, s["auth"], s["csrf_token"]), (200, "cookie", csrf))
        status, _, doms = self.https("GET", "/api/v1/domains", headers=with_cookie)
        self.assertEqual((status, doms), (200, []))
        # what a domain can be started from: the configs in etc/kxl/
        cfg = self.write_cfg("hist")
        etc_cfg = os.path.join(self.etc, "hist.cfg")
        os.rename(cfg, etc_cfg)
        status, _, configs = self.https("GET", "/api/v1/configs", headers=with_cookie)
        self.assertEqual(status, 200, configs)
        self.validate(configs, "ConfigFile", array=True)
        self.assertEqual(configs, [{"name": "hist", "config_file": etc_cfg}])
        cfg = etc_cfg
        # another site's Origin, another Host, a change without the CSRF token: 403
        for headers in ({"Cookie": cookie, "Origin": "https://evil.example"},
                        {"Cookie": cookie, "Host": "evil.example"}):
            status, _, e = self.https("GET", "/api/v1/domains", headers=headers)
            self.assert_error(status, 403, "permission", e)
        status, _, e = self.https("POST", "/api/v1/domains", headers=with_cookie,
                                  body={"config_file": cfg})
        self.assert_error(status, 403, "permission", e)
        self.assertEqual(self.domain_names(), [])
        status, _, e = self.https("POST", "/api/v1/domains", body={"config_file": cfg},
                                  headers={**with_cookie, "X-CSRF-Token": csrf[::-1]})
        self.assert_error(status, 403, "permission", e)
        # with it, the guest starts; a bearer client needs none
        status, _, d = self.https("POST", "/api/v1/domains", body={"config_file": cfg},
                                  headers={**with_cookie, "X-CSRF-Token": csrf})
        self.assertEqual(status, 201, d)
        # WebSockets with the cookie need the page's Origin
        sslopt = {"ca_certs": self.cert}
        url = f"wss://127.0.0.1:{self.port}/api/v1/events?domain=hist"
        with self.assertRaises(websocket.WebSocketException):
            websocket.create_connection(url, cookie=cookie, origin="https://evil.example",
                                        sslopt=sslopt, timeout=30)
        events = websocket.create_connection(url, cookie=cookie, origin=self.origin,
                                             sslopt=sslopt, timeout=30)
        self.addCleanup(events.close)
        token_events = self.wss("/api/v1/events?domain=hist", token=TOKEN)
        # a stats event every 5 s, and the history has the same samples
        t0 = time.monotonic()
        stats = []
        while len(stats) < 2:
            ev = json.loads(events.recv())
            if ev["event"] == "stats":
                self.validate(ev["data"], "Sample")
                stats.append(ev["data"])
        gap = stats[1]["time"] - stats[0]["time"]
        self.assertTrue(4 <= gap <= 6.5, f"samples {gap:.1f} s apart")
        self.assertLess(time.monotonic() - t0, 15)
        status, _, h = self.https("GET", "/api/v1/domains/hist/history", token=TOKEN)
        self.assertEqual(status, 200, h)
        self.validate(h, "History")
        times = [s["time"] for s in h["samples"]]
        self.assertIn(stats[1]["time"], times)
        self.assertEqual(times, sorted(times))
        self.assertEqual(h["step_s"], 5)
        self.assertGreater(h["samples"][-1]["mem_kib"], 0)
        status, _, e = self.https("GET", "/api/v1/domains/nosuch/history", token=TOKEN)
        self.assert_error(status, 404, "not-found", e)
        # logged out: the cookie is cleared and no longer lets anyone in
        status, headers, _ = self.https("POST", "/api/v1/logout",
                                        headers={**with_cookie, "X-CSRF-Token": csrf})
        self.assertEqual(status, 204)
        self.assertIn("Max-Age=0", headers["Set-Cookie"])
        status, _, e = self.https("GET", "/api/v1/domains", headers=with_cookie)
        self.assert_error(status, 401, "permission", e)
        # ...and the WebSocket it opened closes within seconds, saying why; a token's stays
        t0 = time.monotonic()
        opcode, data = events.recv_data(control_frame=True)
        while opcode != websocket.ABNF.OPCODE_CLOSE:   # (stats come every 5 s meanwhile)
            self.assertLess(time.monotonic() - t0, 5, "the session's WebSocket outlived it")
            opcode, data = events.recv_data(control_frame=True)
        self.assertEqual(int.from_bytes(data[:2], "big"), 1008, data)
        self.assertIn(b"the session ended", data)
        while json.loads(token_events.recv())["event"] != "stats":
            pass

    def throwaway_user(self, group):
        """A user with a random password in a new group, both removed after the test."""
        user = f"kxlt{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(12)
        subprocess.run(["groupadd", group], check=True)
        self.addCleanup(subprocess.run, ["groupdel", group])
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        "--groups", group, user], check=True)
        self.addCleanup(subprocess.run, ["userdel", user])
        subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)
        return user, password

    def test_password_login(self):
        # the shipped PAM service under a name of this test's own
        service = f"kxld-e2e-{secrets.token_hex(4)}"
        pam_file = f"/etc/pam.d/{service}"
        shutil.copy(os.path.join(os.path.dirname(__file__), "../../etc/pam.d/kxld"), pam_file)
        self.addCleanup(os.unlink, pam_file)
        group = f"kxlg{secrets.token_hex(3)}"
        user, password = self.throwaway_user(group)
        self.write_conf(web_dir=WEB_DIR, pam_service=service, login_group=group)
        self.start_kxld()
        status, headers, s = self.https("POST", "/api/v1/login",
                                        body={"user": user, "password": password})
        self.assertEqual(status, 200, s)
        self.validate(s, "Session")
        self.assertEqual((s["user"], s["auth"]), (user, "cookie"))
        cookie = headers["Set-Cookie"].split(";")[0]
        status, _, doms = self.https("GET", "/api/v1/domains", headers={"Cookie": cookie})
        self.assertEqual((status, doms), (200, []))
        for body in ({"user": user, "password": password + "x"},
                     {"user": "nosuchuser-kxl", "password": password}):
            status, headers, e = self.https("POST", "/api/v1/login", body=body)
            self.assert_error(status, 403, "permission", e)
            self.assertNotIn("Set-Cookie", headers)
        # out of the group: the right password is not enough
        subprocess.run(["gpasswd", "--delete", user, group], check=True, capture_output=True)
        status, _, e = self.https("POST", "/api/v1/login",
                                  body={"user": user, "password": password})
        self.assert_error(status, 403, "permission", e)
        # the fifth refusal within a minute holds this address: PAM is not asked any more
        subprocess.run(["gpasswd", "--add", user, group], check=True, capture_output=True)
        for n in (4, 5):
            status, _, e = self.https("POST", "/api/v1/login",
                                      body={"user": user, "password": f"wrong{n}"})
            self.assert_error(status, 403, "permission", e)
        status, headers, e = self.https("POST", "/api/v1/login",
                                        body={"user": user, "password": password})
        self.assert_error(status, 429, "permission", e)
        self.assertIn("5 failed logins from 127.0.0.1 within 60 s", e["error"]["message"])
        self.assertNotIn("Set-Cookie", headers)

    def test_in_a_browser(self):
        name = "webui"
        etc_cfg = os.path.join(self.etc, f"{name}.cfg")
        os.rename(self.write_cfg(name), etc_cfg)
        self.start_kxld()
        os.makedirs(SHOTS, exist_ok=True)
        env = dict(self.env, KXL_URL=f"{self.origin}/", KXL_TOKEN=TOKEN, KXL_DOMAIN=name,
                   KXL_SHOTS=SHOTS, NODE_PATH=BROWSER_MODULES)
        r = subprocess.run(["node", SCRIPT], env=env, capture_output=True, text=True,
                           timeout=600)
        lines = r.stdout.strip().splitlines()
        self.assertTrue(lines, f"no result from the browser: {r.stderr[-3000:]}")
        result = json.loads(lines[-1])
        self.assertEqual(r.returncode, 0, f"{json.dumps(result, indent=1)}\n{r.stderr[-3000:]}"
                                          f"\nkxld: {self.kxld_log()}")
        print(f"\nweb UI: {json.dumps(result)}", flush=True)
        self.assertEqual(result["unauthenticated_status"], 401)
        self.assertEqual(result["no_csrf_status"], 403)
        self.assertEqual(result["after_logout_status"], 401)
        self.assertLess(result["pause_ms"], 1000)
        self.assertLess(result["unpause_ms"], 1000)
        self.assertGreater(result["cpu_points_after"], result["cpu_points_before"])
        self.assertIn("42", result["console_tail"])
        # the four graphs' x axes: the same span of clock time, a minute or more, ending now
        axes = result["x_axes"]
        now = axes.pop("now")
        self.assertEqual(sorted(axes), ["cpu", "disk", "mem", "net"])
        for graph, a in axes.items():
            self.assertEqual((a["min"], a["max"]), (axes["cpu"]["min"], axes["cpu"]["max"]), graph)
            self.assertGreaterEqual(a["max"] - a["min"], 60, graph)
            self.assertLess(a["max"] - a["min"], 3700, graph)
            self.assertLess(abs(now - a["max"]), 30, graph)
        self.assertLess(result["console_rows_resized"], result["console_rows"])
        self.assertIn(name, result["confirm_text"])
        self.assertEqual(result["page_errors"], [])
        # what the browser did, seen from outside: the domain is gone for the command line too
        self.assertNotIn(name, self.domain_names())
        self.assert_gone(name)
        for shot in ("login.png", "dashboard.png", "console.png"):
            self.assertGreater(os.path.getsize(os.path.join(SHOTS, shot)), 10000)
