"""End-to-end test of the web UI's New image form (issue 15): kxl create-image's options as a
form, POST /api/v1/images (a job whose progress is the run's step), the Installation Summary,
and the new Debian guest started at once from the form and logged into as root on its serial
console in the page (tests/browser/webui_image.cjs, Debian's chromium driven by
playwright-core). The API's own checks of the options come first (400 at once, nothing made).

The base system is debootstrapped once per machine into a cache of this test's
(TEMPLATE_CACHE: create-image's template, made by `kxl create-image` in a scratch root, which
needs the host's package mirror) and copied into the test's root, so the form's run takes its
"cached" path; kxld, the guest and the browser then run in a network namespace of the test's
with a bridge for the guest. Screenshots: image-form, image, image-console.

A second test follows a run step by step and cancels it from the keyboard mid-run
(tests/browser/webui_image_cancel.cjs): the run unpacks a tar of the test's
(--install-method=tar, no download; 512 MiB of filler, so that its first step lasts long
enough to be seen) whose mkdir sleeps, so it stops at its second step until the cancel, after
which nothing of it is left on disk. Screenshots: image-running,
image-cancelled."""

import os
import shutil
import subprocess
import tarfile
import uuid

from kxltest import KXL
from test_kxld_tls import TOKEN, TlsKxldTestCase
from test_webui import WEB_DIR, browse

TEMPLATE_CACHE = os.environ.get("KXL_WEBUI_TEMPLATES", "/var/cache/kxl/webui-templates")


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def stalling_tree(path):
    """A guest tree for --install-method=copy: a kernel's name in /boot, and a /bin/sh (the
    host's dash and the libraries it needs) whose mkdir sleeps, so that the run's
    configuration step (its grub.cfg hook runs mkdir in the tree) stops until cancelled."""
    for d in ("bin", "usr/bin", "lib/x86_64-linux-gnu", "lib64", "boot", "etc/default"):
        os.makedirs(os.path.join(path, d))
    for host, there in (("/bin/dash", "bin/sh"), ("/bin/sleep", "bin/sleep"),
                        ("/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6"),
                        ("/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2")):
        shutil.copy(host, os.path.join(path, there))
    for there in ("bin/mkdir", "usr/bin/mkdir"):
        with open(os.path.join(path, there), "w") as f:
            f.write("#!/bin/sh\nexec /bin/sleep 600\n")
        os.chmod(os.path.join(path, there), 0o755)
    with open(os.path.join(path, "boot/vmlinuz-6.1.0-kxltest"), "w") as f:
        f.write("not a kernel: the run is cancelled before it is needed\n")


def stalling_tar(tar, tree, filler_mib=512):
    """stalling_tree(tree) as a tar, with filler_mib MiB of zeros in /var/filler."""
    stalling_tree(tree)
    with tarfile.open(tar, "w") as t, open("/dev/zero", "rb") as zero:
        t.add(tree, arcname=".")
        info = tarfile.TarInfo("./var/filler")
        info.size = filler_mib << 20
        t.addfile(info, zero)


def host_codename():
    with open("/etc/os-release") as f:
        return dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)["VERSION_CODENAME"]


class WebUiImageTest(TlsKxldTestCase):

    def setUp(self):
        super().setUp()
        self.make_tls()
        self.write_conf(web_dir=WEB_DIR)

    def template(self):
        """The cached base system (TEMPLATE_CACHE/DIST-amd64), made once; its path."""
        name = f"{host_codename()}-amd64"
        cached = os.path.join(TEMPLATE_CACHE, name)
        if os.path.isdir(cached):
            return cached
        os.makedirs(TEMPLATE_CACHE, exist_ok=True)
        scratch = os.path.join(TEMPLATE_CACHE, f".build-{uuid.uuid4().hex[:6]}")
        try:
            r = subprocess.run([KXL, "create-image", "--hostname=template", "--noswap",
                                "--size=2gb", f"--dir={scratch}/images"],
                               env=dict(self.env, KXL_ROOT=scratch), capture_output=True,
                               text=True, timeout=1200)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            os.rename(os.path.join(scratch, "var/lib/kxl/templates", name), cached)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return cached

    def test_create_image_start_and_log_in(self):
        # the base system in the test's template cache, as a first run would have left it
        templates = os.path.join(self.root, "var/lib/kxl/templates")
        os.makedirs(templates)
        src = self.template()
        run("cp", "-a", "--reflink=auto", src, templates)
        # kxld, its guests and the browser in a namespace with a bridge for the guest
        ns = f"kxlt-{uuid.uuid4().hex[:6]}"
        run("ip", "netns", "add", ns)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", ns], capture_output=True)
        nsx = ("ip", "netns", "exec", ns)
        run(*nsx, "ip", "link", "set", "lo", "up")
        run(*nsx, "ip", "link", "add", "br0", "type", "bridge")
        run(*nsx, "ip", "addr", "add", "10.0.9.1/24", "dev", "br0")
        run(*nsx, "ip", "link", "set", "br0", "up")
        self.start_kxld(prefix=nsx)
        images = os.path.join(self.root, "var/lib/kxl/images")

        # the API checks the options as the command line does, before any job: nothing made
        for body, want in (({"size": "2gb"}, "'hostname' is required"),
                           ({"hostname": "bad", "size": "big"}, "--size 'big'"),
                           ({"hostname": "bad", "role": "/bin/sh"}, "command line only"),
                           ({"hostname": "bad", "frobnicate": True}, "unknown option"),
                           ({"hostname": "bad", "genpass": "yes"}, "takes no value"),
                           ({"hostname": "bad", "size": ["2gb"]}, "must be a string"),
                           ({"hostname": "bad", "dir": "images"}, "not an absolute path")):
            status, _, e = self.api("POST", "/api/v1/images", body)
            self.assert_error(status, 400, "invalid", e)
            self.assertIn(want, e["error"]["message"])
        self.assertFalse(os.path.exists(os.path.join(self.etc, "bad.cfg")))

        name = "webimg"
        result = browse(self, "webui_image.cjs",
                        {"KXL_URL": f"https://127.0.0.1:{self.port}/", "KXL_TOKEN": TOKEN,
                         "KXL_IMAGE": name, "KXL_BRIDGE": "br0"},
                        timeout=900, prefix=nsx)
        shown = {k: v for k, v in result.items() if k != "summary"}
        print(f"\nweb UI (image): {shown}", flush=True)
        # the job's step as the command line prints it, each as kxld had it (.../wait?after=N)
        self.assertEqual(result["steps"][0], "Starting…")
        self.assertTrue(result["steps"][1:], result["steps"])
        for step in result["steps"][1:]:
            self.assertRegex(step, r"^\[[1-6]/6\] \S")
        self.assertEqual(result["error"], "")
        self.assertRegex(result["summary"], rf"(?m)^Hostname\s*:\s+{name}$")
        self.assertRegex(result["summary"], r"(?m)^Template\s*:\s+cached")
        cfg = os.path.join(self.etc, f"{name}.cfg")
        self.assertEqual((result["config_file"], result["started"]), (cfg, name))
        with open(cfg) as f:
            text = f.read()
        self.assertIn('bootloader  = "pygrub"', text)
        self.assertIn("bridge=br0", text)
        self.assertIn("memory      = 512", text)
        self.assertTrue(os.path.exists(os.path.join(images, "domains", name, "disk.img")))
        # it booted at once and root logged in with the password the summary gave
        self.assertIn(f"{name}-42", result["console_tail"])
        self.assertEqual(self.list_json()[name]["state"], "running")
        self.assertIn(f"{name} login:", self.console_log(name))
        # (xterm.js logs the guest's escape sequences it cannot parse as errors)
        self.assertEqual([e for e in result["page_errors"] if "xterm.js: Parsing error" not in e],
                         [])
        # the API's job: succeeded with what it made
        status, _, job = self.api("GET", "/api/v1/jobs/1")
        self.assertEqual((status, job["state"], job["status"]), (200, "succeeded", 201), job)
        self.validate(job, "Job")
        self.validate(job["result"], "ImageResult")
        self.assertEqual((job["progress"]["step"], job["progress"]["total"]), (6, 6))
        self.assertEqual(job["progress"]["what"], f"Writing the domain config {cfg} ...")
        self.kxl("destroy", name, check=True)

    def test_steps_as_they_come_and_cancel_leaves_nothing(self):
        tar = os.path.join(self.tmp, "stalling.tar")
        stalling_tar(tar, os.path.join(self.tmp, "stalling-tree"))
        self.start_kxld()
        name = "webcancel"
        result = browse(self, "webui_image_cancel.cjs",
                        {"KXL_URL": f"https://127.0.0.1:{self.port}/", "KXL_TOKEN": TOKEN,
                         "KXL_IMAGE": name, "KXL_SOURCE": tar}, timeout=300)
        print(f"\nweb UI (image cancel): {result}", flush=True)
        steps = [s["text"] for s in result["steps"]]
        # each step shown as kxld had it, in order, the second while the job still ran
        self.assertEqual(steps[0], "Starting…")
        numbered = [t for t in steps if t.startswith("[")]
        self.assertRegex(numbered[0], r"^\[1/\d\] Unpacking ")
        self.assertRegex(numbered[1], r"^\[2/\d\] Configuring webcancel: ")
        self.assertEqual(len(set(numbered)), len(numbered), steps)
        self.assertEqual(result["state_at_step2"], "running")
        self.assertEqual(steps[-1], "Cancelling…")
        # followed by waits for the next change, one per change, never by a timer
        self.assertEqual(result["job_requests"],
                         [f"GET /api/v1/jobs/1/wait?after={n}&timeout=60" for n in range(3)]
                         + ["POST /api/v1/jobs/1/cancel"], result["job_requests"])
        # the form says it was cancelled
        self.assertEqual(result["state"], "cancelled")
        self.assertTrue(result["job_hidden"])
        self.assertEqual(result["error"],
                         f"create-image of '{name}' was cancelled; nothing was left behind")
        # the API's job: failed as cancelled, with the steps it went through
        status, _, job = self.api("GET", f"/api/v1/jobs/{result['job']}")
        self.assertEqual((status, job["state"], job["status"]), (200, "failed", 409), job)
        self.validate(job, "Job")
        self.assertEqual(job["error"]["code"], "state")
        self.assertEqual((job["progress"]["step"], job["updates"]), (2, 2), job)
        # the wait the form follows it with: at once past the updates seen, or once it ended
        status, _, e = self.api("GET", f"/api/v1/jobs/{result['job']}/wait?after=-1")
        self.assert_error(status, 400, "invalid", e)
        self.assertIn("?after='-1'", e["error"]["message"])
        status, _, waited = self.api("GET", f"/api/v1/jobs/{result['job']}/wait?after=9&timeout=60")
        self.assertEqual((status, waited), (200, job))
        status, _, e = self.api("POST", f"/api/v1/jobs/{result['job']}/cancel")
        self.assert_error(status, 409, "state", e)
        self.assertIn("has ended (failed)", e["error"]["message"])
        # nothing of the run on disk: no config, no image, no work tree, no process
        self.assertFalse(os.path.exists(os.path.join(self.etc, f"{name}.cfg")))
        made = [os.path.join(d, f) for d, dirs, files in os.walk(self.root)
                for f in dirs + files if name in f or f.startswith("create-image.")]
        self.assertEqual(made, [])
        self.assertFalse(os.path.exists(os.path.join(self.root, "var/lib/kxl/images/domains",
                                                     name)))
        sleeping = [p for p in os.listdir("/proc") if p.isdigit() and
                    os.path.exists(f"/proc/{p}/root") and
                    os.path.realpath(f"/proc/{p}/root").startswith(self.root)]
        self.assertEqual(sleeping, [])
