"""End-to-end tests of kxld's TCP listener: only with TLS and a bearer token (a certificate
made by openssl for 127.0.0.1). Without a token or with a wrong one a request is 401; with a
right one the API and the events WebSocket work as on the Unix socket, and a guest made over
TCP is the one the command line sees. kxld refuses to start, in one line, when TLS files or
tokens are missing."""

import http.client
import json
import os
import socket
import ssl
import subprocess

from test_kxld import KXLD, KxldTestCase
from test_kxld_ws import websocket

TOKEN = "0123456789abcdef0123456789abcdef-kxl-e2e"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TlsKxldTestCase(KxldTestCase):
    """A kxld with a TCP listener: a certificate for 127.0.0.1, a token file, a free port."""

    def setUp(self):
        super().setUp()
        self.etc = os.path.join(self.root, "etc/kxl")
        os.makedirs(self.etc)
        self.cert = os.path.join(self.etc, "kxld.pem")
        self.key = os.path.join(self.etc, "kxld.key")
        self.tokens = os.path.join(self.etc, "tokens")
        self.port = free_port()

    def make_tls(self, tokens=(TOKEN,), mode=0o600):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True, timeout=60)
        with open(self.tokens, "w") as f:
            f.write("# kxld's bearer tokens\n" + "".join(t + "\n" for t in tokens))
        os.chmod(self.tokens, mode)

    def write_conf(self, **keys):
        keys = {"tcp_port": self.port, "tls_cert": "etc/kxl/kxld.pem",
                "tls_key": "etc/kxl/kxld.key", "token_file": "etc/kxl/tokens", **keys}
        path = os.path.join(self.etc, "kxld.conf")
        with open(path, "w") as f:
            for k, v in keys.items():
                if v is not None:
                    f.write(f"{k} = {json.dumps(v)}\n")
        return path

    def https(self, method, path, token=None, body=None, headers=None):
        ctx = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=120)
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)
        r = conn.getresponse()
        text = r.read()
        conn.close()
        if r.getheader("Content-Type", "").startswith("application/json"):
            return r.status, r.headers, json.loads(text) if text else None
        return r.status, r.headers, text

    def wss(self, path, token=None):
        header = [f"Authorization: Bearer {token}"] if token else []
        ws = websocket.create_connection(f"wss://127.0.0.1:{self.port}{path}", header=header,
                                         sslopt={"ca_certs": self.cert}, timeout=30)
        self.addCleanup(ws.close)
        return ws


class KxldTlsTest(TlsKxldTestCase):

    def test_tls_with_a_token_and_only_so(self):
        self.make_tls(tokens=("another-token-for-another-client", TOKEN))
        self.write_conf()
        self.start_kxld()
        status, headers, e = self.https("GET", "/api/v1/domains")
        self.assert_error(status, 401, "permission", e)
        self.assertEqual(headers["WWW-Authenticate"], 'Bearer realm="kxld"')
        for wrong in (TOKEN[:-1], TOKEN + "x", "x" * len(TOKEN)):
            status, _, e = self.https("GET", "/api/v1/domains", token=wrong)
            self.assert_error(status, 401, "permission", e)
        status, _, doms = self.https("GET", "/api/v1/domains", token=TOKEN)
        self.assertEqual((status, doms), (200, []))
        # a plain HTTP request on the TLS port gets no answer
        plain = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            plain.request("GET", "/api/v1/domains")
            plain.getresponse()
        plain.close()
        # the WebSockets need the token too
        with self.assertRaises(websocket.WebSocketException):
            self.wss("/api/v1/events")
        with self.assertRaises(websocket.WebSocketException):
            self.wss("/api/v1/events", token=TOKEN[::-1])
        events = self.wss("/api/v1/events?domain=tls", token=TOKEN)
        # a guest made over TCP is the one the command line sees
        status, _, d = self.https("POST", "/api/v1/domains", token=TOKEN,
                                  body={"config_file": self.write_cfg("tls")})
        self.assertEqual(status, 201, d)
        self.validate(d, "Domain")
        self.assertEqual(self.list_json()["tls"]["domid"], d["domid"])
        self.assertEqual(json.loads(events.recv())["event"], "appeared")
        self.wait_console("tls", r"KXL-HB 1\b")
        console = self.wss("/api/v1/domains/tls/console", token=TOKEN)
        out = b""
        while b"KXL-HB 1" not in out:   # the scrollback, over TLS
            out += console.recv()
        status, _, reply = self.https("DELETE", "/api/v1/domains/tls", token=TOKEN)
        self.assertEqual(status, 204, reply)
        self.assert_gone("tls")
        # the Unix socket needs no token
        status, _, doms = self.api("GET", "/api/v1/domains")
        self.assertEqual((status, doms), (200, []))

    def refused(self, want):
        r = subprocess.run([KXLD, "--foreground", "--root", self.root], env=self.env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual((r.returncode, r.stderr), (1, f"kxld: {want}\n"))
        self.assertFalse(os.path.exists(self.sock_path), "nothing listens")

    def test_no_tcp_listener_without_tls_and_tokens(self):
        conf = self.write_conf(tls_cert=None, token_file=None)
        self.refused(f"{conf}: tcp_port = {self.port} needs tls_cert, tls_key and token_file "
                     f"(missing: tls_cert, token_file): kxld never listens on TCP without TLS "
                     f"and a bearer token")
        self.write_conf()
        self.refused(f"token file '{self.tokens}': No such file or directory")
        self.make_tls(mode=0o644)
        self.refused(f"token file '{self.tokens}' is open to others (mode 0644): chmod 600 it")
        self.make_tls(tokens=("short",))
        self.refused(f"token file '{self.tokens}':2: a token is one word of at least 16 "
                     f"characters (make one with: openssl rand -hex 32)")
        self.make_tls(tokens=())
        self.refused(f"token file '{self.tokens}' has no token (one a line; make one with: "
                     f"openssl rand -hex 32)")
        self.make_tls()
        os.unlink(self.key)
        self.refused(f"tls_key '{self.key}': No such file or directory")
