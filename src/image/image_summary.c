/* image_summary.c - what create-image writes and prints: the domain's xl.cfg text and the
 * Installation Summary (both pure), and the random values a new guest gets (UUIDs, a Xen
 * MAC address, a generated password). */
#include "image/image_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cfg/cfg_parse.h"
#include "util/cleanup.h"
#include "util/err.h"

static void random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
}

char *image_random_uuid(void)
{
    unsigned char b[16];
    random_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    return kx_asprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                       b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                       b[12], b[13], b[14], b[15]);
}

char *image_random_mac(void)
{
    unsigned char b[3];
    random_bytes(b, sizeof(b));
    return kx_asprintf("00:16:3e:%02x:%02x:%02x", b[0] & 0x7f, b[1], b[2]);
}

char *image_random_password(size_t n)
{
    /* no 0/O, 1/l/I: it is read off a screen and typed */
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    const size_t m = sizeof(alphabet) - 1;
    char *p = kx_malloc0(n + 1);
    for (size_t i = 0; i < n;) {
        unsigned char c;
        random_bytes(&c, 1);
        if (c < 256 - 256 % m)   /* no modulo bias */
            p[i++] = alphabet[c % m];
    }
    return p;
}

char *image_mib_text(uint64_t mib)
{
    if (mib >= 1024 && mib % 1024 == 0)
        return kx_asprintf("%llu GiB", (unsigned long long)(mib / 1024));
    return kx_asprintf("%llu MiB", (unsigned long long)mib);
}

/* One disk of the disk = [...] list, as a quoted string (a path may hold a quote). */
static void disk_spec(kx_buf *b, const image_opts *o, const char *path, const char *vdev)
{
    AUTOFREE char *spec = NULL;
    if (o->lvm)
        spec = kx_asprintf("phy:%s,%s,w", path, vdev);
    else if (o->format == IMG_FORMAT_QCOW2)
        spec = kx_asprintf("format=qcow2,vdev=%s,access=rw,target=%s", vdev, path);
    else
        spec = kx_asprintf("file:%s,%s,w", path, vdev);
    cfg_write_string(b, spec, '\'');
}

char *image_config_text(const image_opts *o, const image_result *r)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_printf(&b, "#\n# The domain %s, made by kxl create-image (%s %s).\n"
                      "# Start it with: kxl create -c %s\n#\n\n",
                  o->hostname, o->method == IMG_INSTALL_DEBOOTSTRAP ? o->dist : o->source,
                  o->arch, r->cfg_path);
    kx_buf_add(&b, "name        = ");
    cfg_write_string(&b, o->hostname, '"');
    kx_buf_printf(&b, "\nmemory      = %llu\nvcpus       = %u\n\n",
                  (unsigned long long)o->memory_mib, o->vcpus);
    kx_buf_add(&b, "# The kernel, initrd and kernel arguments are read from the guest's own\n"
                   "# /boot/grub/grub.cfg at each start (kxl's replacement for pygrub).\n"
                   "bootloader  = \"pygrub\"\n\n");
    kx_buf_add(&b, "disk        = [ ");
    disk_spec(&b, o, r->disk, "xvda");
    if (r->swap) {
        kx_buf_add(&b, ",\n                ");
        disk_spec(&b, o, r->swap, "xvdb");
    }
    kx_buf_add(&b, " ]\n");
    kx_buf vif = KX_BUF_INIT;
    if (o->ip)
        kx_buf_printf(&vif, "ip=%s,", o->ip);
    kx_buf_printf(&vif, "mac=%s", r->mac);
    if (o->bridge)
        kx_buf_printf(&vif, ",bridge=%s", o->bridge);
    kx_buf_add(&b, "vif         = [ ");
    cfg_write_string(&b, kx_buf_str(&vif), '\'');
    kx_buf_add(&b, " ]\n\n");
    kx_buf_dispose(&vif);
    kx_buf_add(&b, "on_poweroff = \"destroy\"\non_reboot   = \"restart\"\n"
                   "on_crash    = \"restart\"\n");
    return kx_buf_steal(&b);
}

/* "256 SHA256:abc root@h (ED25519)" -> "SHA256:abc (ED25519)" */
static void fingerprint_line(kx_buf *b, const char *fp)
{
    char bits[16], hash[128], type[32];
    const char *paren = strrchr(fp, '(');
    if (sscanf(fp, "%15s %127s", bits, hash) == 2 && paren && sscanf(paren, "(%31[^)])", type) == 1)
        kx_buf_printf(b, "SSH Fingerprint :  %s (%s)\n", hash, type);
    else
        kx_buf_printf(b, "SSH Fingerprint :  %s\n", fp);
}

char *image_summary_text(const image_opts *o, const image_result *r)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, "\nInstallation Summary\n---------------------\n");
    kx_buf_printf(&b, "Hostname        :  %s\n", o->hostname);
    kx_buf_printf(&b, "Distribution    :  %s (%s)\n",
                  o->method == IMG_INSTALL_DEBOOTSTRAP ? o->dist : o->source, o->arch);
    kx_buf_printf(&b, "Kernel          :  %s\n", r->kernel ? r->kernel : "-");
    kx_buf_printf(&b, "MAC Address     :  %s\n", r->mac);
    if (o->ip)
        kx_buf_printf(&b, "IP Address(es)  :  %s/%u%s%s\n", o->ip, o->prefix,
                      o->gateway ? " via " : "", o->gateway ? o->gateway : "");
    else
        kx_buf_add(&b, "IP Address(es)  :  dynamic (DHCP)\n");
    for (size_t i = 0; i < r->fingerprints.n; i++)
        fingerprint_line(&b, r->fingerprints.v[i]);
    if (r->password)
        kx_buf_printf(&b, "Root Password   :  %s\n", r->password);
    else if (o->password || o->hash)
        kx_buf_add(&b, "Root Password   :  as given\n");
    else
        kx_buf_add(&b, "Root Password   :  none (root cannot log in with a password; use "
                       "--genpass, --password or --hash)\n");
    kx_buf_printf(&b, "Disk            :  %s\n", r->disk);
    if (r->swap)
        kx_buf_printf(&b, "Swap            :  %s\n", r->swap);
    kx_buf_printf(&b, "Config          :  %s\n", r->cfg_path);
    if (o->method == IMG_INSTALL_DEBOOTSTRAP)
        kx_buf_printf(&b, "Template        :  %s\n",
                      r->from_cache ? "cached" : "built now");
    kx_buf_printf(&b, "Time            :  %.1f s", r->seconds);
    if (!r->from_cache && r->template_seconds > 0)
        kx_buf_printf(&b, " (%.1f s of them debootstrap)", r->template_seconds);
    kx_buf_printf(&b, "\n\nStart it with: kxl create -c %s\n", r->cfg_path);
    return kx_buf_steal(&b);
}
