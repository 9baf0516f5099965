"""End-to-end tests of kxld's TCP listener: only with TLS and a bearer token or a client
certificate (certificates made by openssl for 127.0.0.1 and by the test's CAs). Without a token
or with a wrong one a request is 401; with a right one, or a client certificate of
tls_client_ca, the API and the WebSockets work as on the Unix socket, and a guest made over TCP
is the one the command line sees; another CA's certificate ends the handshake. kxld refuses to
start, in one line, when TLS files or tokens are missing."""

import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import time

import yaml

from test_kxld import KXLD, SPEC, KxldTestCase
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

    def https(self, method, path, token=None, body=None, headers=None, client=None):
        """client: (certificate, key) files of a client certificate to present."""
        ctx = ssl.create_default_context(cafile=self.cert)
        if client:
            ctx.load_cert_chain(*client)
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

    def wss(self, path, token=None, client=None):
        header = [f"Authorization: Bearer {token}"] if token else []
        sslopt = {"ca_certs": self.cert}
        if client:
            sslopt.update(certfile=client[0], keyfile=client[1])
        # websocket-client sends "Origin: http://HOST" by default, which is not this https
        # site: a certificate (which a browser may send by itself) does not outweigh a foreign
        # Origin, a token does; a script with a certificate sends none, as a script should
        ws = websocket.create_connection(f"wss://127.0.0.1:{self.port}{path}", header=header,
                                         sslopt=sslopt, timeout=30,
                                         suppress_origin=bool(client))
        self.addCleanup(ws.close)
        return ws


class KxldTlsTest(TlsKxldTestCase):

    def kxld_cpu_seconds(self):
        with open(f"/proc/{self.kxld.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
        # a paste far above what the console relay holds for the guest (64 KiB), from a client
        # that reads none of the echo: kxld stops reading this client for a while and goes on
        # serving without spinning, while the paste waits and after the client left (kxld
        # spun at 100% CPU when libwebsockets held the input the console's socket did not take)
        cpu0 = self.kxld_cpu_seconds()
        console.send_binary(b"#" + b"x" * (512 * 1024) + b"\n")
        time.sleep(3)
        t0 = time.monotonic()
        status, _, doms = self.https("GET", "/api/v1/domains", token=TOKEN)
        self.assertEqual(status, 200, doms)
        self.assertLess(time.monotonic() - t0, 5, "kxld answers while the paste waits")
        self.assertLess(self.kxld_cpu_seconds() - cpu0, 1.0, "kxld spins on the held paste")
        console.close()
        cpu1 = self.kxld_cpu_seconds()
        time.sleep(1)
        self.assertLess(self.kxld_cpu_seconds() - cpu1, 0.5, "kxld spins after the client left")
        # a new console follows the guest on (what it does with the paste is its own affair:
        # a serial line takes it in slowly)
        beats = [int(n) for n in re.findall(r"KXL-HB (\d+)", self.console_log("tls"))]
        console = self.wss("/api/v1/domains/tls/console", token=TOKEN)
        out, t0 = b"", time.monotonic()
        while f"KXL-HB {beats[-1] + 2}\r".encode() not in out and time.monotonic() - t0 < 30:
            out += console.recv()
        self.assertIn(f"KXL-HB {beats[-1] + 2}\r".encode(), out, "the console after the paste")
        status, _, reply = self.https("DELETE", "/api/v1/domains/tls", token=TOKEN)
        self.assertEqual(status, 204, reply)
        self.assert_gone("tls")
        # the Unix socket needs no token
        status, _, doms = self.api("GET", "/api/v1/domains")
        self.assertEqual((status, doms), (200, []))

    def test_every_route_over_tls_with_a_token(self):
        """Every route of the spec (which the golden test holds equal to kxld's route table),
        asked of a domain, job or file that does not exist: over TLS without a token or with
        a wrong one 401 (but the login, which needs none); with the token the same status as
        over the Unix socket, where no token is asked; and nothing was made."""
        self.make_tls()
        self.write_conf()
        self.start_kxld()
        with open(SPEC) as f:
            paths = yaml.safe_load(f)["paths"]
        values = {"name": "nosuch", "vdev": "xvdz", "vif": "9", "snapshot": "s1", "vcpu": "0",
                  "file": "walk.cfg", "id": "999999", "host": "nosuch", "path+": "domains"}
        sessions = ("/api/v1/login", "/api/v1/logout", "/api/v1/session")
        asked = 0
        for template, item in paths.items():
            path = template.format(**values)
            for method in (m.upper() for m in item if m in ("get", "post", "put", "delete")):
                body = {} if method in ("POST", "PUT") else None
                what = f"{method} {template}"
                if template == "/api/v1/login":
                    status, _, _ = self.https(method, path, body=body)
                    self.assertEqual(status, 400, what)   # no credentials in the body
                    continue
                for token in (None, TOKEN[::-1]):
                    status, _, _ = self.https(method, path, token=token, body=body)
                    self.assertEqual(status, 401, what)
                status, _, tls_reply = self.https(method, path, token=TOKEN, body=body)
                self.assertNotIn(status, (401, 403), f"{what}: {tls_reply}")
                if template not in sessions:
                    unix, _, unix_reply = self.api(method, path, body) \
                        if template != "/metrics" else self.metrics_status()
                    self.assertEqual(status, unix, f"{what}: {tls_reply} / {unix_reply}")
                asked += 1
        self.assertGreater(asked, 50)
        self.assertEqual(self.domain_names(), [], "nothing was made")
        self.assertFalse(os.path.exists(os.path.join(self.etc, "walk.cfg")))

    def metrics_status(self):
        self.conn.request("GET", "/metrics")
        r = self.conn.getresponse()
        return r.status, r.headers, r.read()

    def make_ca(self, name):
        """A CA of the test's (openssl), and a client certificate it signed: (CA file,
        (certificate, key))."""
        d = os.path.join(self.tmp, name)
        os.makedirs(d)
        ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
        cert, key, csr = (os.path.join(d, f) for f in ("client.pem", "client.key", "client.csr"))
        ext = os.path.join(d, "client.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=clientAuth\n")
        for argv in (["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                      f"/CN={name} CA", "-keyout", ca_key, "-out", ca],
                     ["req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name} client",
                      "-keyout", key, "-out", csr],
                     ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                      "-CAcreateserial", "-days", "1", "-extfile", ext, "-out", cert]):
            subprocess.run(["openssl", *argv], check=True, capture_output=True, timeout=60)
        return ca, (cert, key)

    def test_client_certificate_instead_of_a_token(self):
        """tls_client_ca: a client certificate that CA signed is let in without a token (the
        API, the WebSockets, a guest made with it); one of another CA ends the handshake; no
        certificate and no token is 401; a token still works; another site's Origin is 403
        even with the certificate."""
        self.make_tls()
        ca, client = self.make_ca("clients")
        _, stranger = self.make_ca("stranger")
        os.rename(ca, os.path.join(self.etc, "clients-ca.pem"))
        self.write_conf(tls_client_ca="etc/kxl/clients-ca.pem")
        self.start_kxld()
        status, _, doms = self.https("GET", "/api/v1/domains", client=client)
        self.assertEqual((status, doms), (200, []))
        status, _, e = self.https("GET", "/api/v1/domains")
        self.assert_error(status, 401, "permission", e)
        with self.assertRaises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
            self.https("GET", "/api/v1/domains", client=stranger)
        with self.assertRaises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
            self.https("GET", "/api/v1/domains", client=stranger, token=TOKEN)
        status, _, doms = self.https("GET", "/api/v1/domains", token=TOKEN)
        self.assertEqual((status, doms), (200, []))
        status, _, e = self.https("POST", "/api/v1/domains", client=client,
                                  body={"config_file": self.write_cfg("nope")},
                                  headers={"Origin": "https://evil.example"})
        self.assert_error(status, 403, "permission", e)
        self.assertEqual(self.domain_names(), [])

        events = self.wss("/api/v1/events?domain=cert", client=client)
        status, _, d = self.https("POST", "/api/v1/domains", client=client,
                                  body={"config_file": self.write_cfg("cert")})
        self.assertEqual(status, 201, d)
        self.assertEqual(self.list_json()["cert"]["domid"], d["domid"], "one truth")
        self.assertEqual(json.loads(events.recv())["event"], "appeared")
        self.wait_console("cert", r"KXL-HB 1\b")
        console = self.wss("/api/v1/domains/cert/console", client=client)
        out = b""
        while b"KXL-HB 1" not in out:
            out += console.recv()
        with self.assertRaises(websocket.WebSocketException):
            self.wss("/api/v1/domains/cert/console")
        status, _, reply = self.https("DELETE", "/api/v1/domains/cert", client=client)
        self.assertEqual(status, 204, reply)
        self.assert_gone("cert")

    def test_client_certificates_alone(self):
        """tls_client_ca without a token file: the listener runs on certificates only."""
        self.make_tls()
        ca, client = self.make_ca("only")
        self.write_conf(token_file=None, tls_client_ca=ca)
        self.start_kxld()
        status, _, doms = self.https("GET", "/api/v1/domains", client=client)
        self.assertEqual((status, doms), (200, []))
        for token in (None, TOKEN):
            status, _, e = self.https("GET", "/api/v1/domains", token=token)
            self.assert_error(status, 401, "permission", e)

    def refused(self, want):
        r = subprocess.run([KXLD, "--foreground", "--root", self.root], env=self.env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual((r.returncode, r.stderr), (1, f"kxld: {want}\n"))
        self.assertFalse(os.path.exists(self.sock_path), "nothing listens")

    def test_no_tcp_listener_without_tls_and_tokens(self):
        conf = self.write_conf(tls_cert=None, token_file=None)
        self.refused(f"{conf}: tcp_port = {self.port} needs tls_cert, tls_key, and token_file "
                     f"or tls_client_ca (missing: tls_cert, token_file or tls_client_ca): kxld "
                     f"never listens on TCP without TLS and a bearer token or client "
                     f"certificate")
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
        self.write_conf(token_file=None, tls_client_ca="etc/kxl/nosuch-ca.pem")
        self.refused(f"tls_client_ca '{self.etc}/nosuch-ca.pem': No such file or directory")
        self.write_conf()
        os.unlink(self.key)
        self.refused(f"tls_key '{self.key}': No such file or directory")
