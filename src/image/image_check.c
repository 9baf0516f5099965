/* image_check.c - create-image's options checked against each other and the host, and the
 * defaults that come from the host (its release, its apt mirror, its nameservers). Each
 * failure is one sentence naming the option. */
#include "image/image_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

#define HOSTNAME_MAX 64   /* the domain's name is the host name: KXL_NAME_MAX */

/* Records a bad option and evaluates to -1. */
#define BAD(...) (kx_err(KXL_ERR_INVALID, __VA_ARGS__), -1)

/* RFC 1123 labels: letters, digits, '-' not at either end, at most 63; dot-separated. */
static bool hostname_valid(const char *h)
{
    size_t len = strlen(h);
    if (len == 0 || len > HOSTNAME_MAX || h[len - 1] == '.')
        return false;
    size_t label = 0;
    for (const char *p = h;; p++) {
        if (*p == '.' || *p == '\0') {
            if (label == 0 || label > 63 || p[-1] == '-')
                return false;
            if (*p == '\0')
                return true;
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)*p) && !(*p == '-' && label > 0))
            return false;
        label++;
    }
}

static char *absolute(const char *path)
{
    if (path[0] == '/')
        return kx_strdup(path);
    char cwd[4096];
    return getcwd(cwd, sizeof(cwd)) ? kx_path_join(cwd, path) : kx_strdup(path);
}

static void make_absolute(char **path)
{
    if (*path) {
        char *a = absolute(*path);
        free(*path);
        *path = a;
    }
}

int image_check_hostname(const char *h)
{
    if (!hostname_valid(h))
        return BAD("--hostname '%s': not a valid host name (dot-separated labels of letters, "
                   "digits and '-', not starting or ending with '-', at most %d characters)",
                   h, HOSTNAME_MAX);
    /* the guest's name becomes its domain name too, and one of digits and dots reads as an
     * address (or a domain id) everywhere it is shown */
    if (strspn(h, "0123456789.") == strlen(h))
        return BAD("--hostname '%s': a host name needs a letter (this one reads as an address "
                   "or a domain id)", h);
    return 0;
}

static int check_names(image_opts *o)
{
    if (!o->hostname) {
        kx_err(KXL_ERR_INVALID, "--hostname is required");
        return -1;
    }
    if (image_check_hostname(o->hostname) < 0)
        return -1;
    if (strcmp(o->arch, "amd64") != 0 && strcmp(o->arch, "i386") != 0)
        return BAD("--arch '%s': kxl runs x86 guests only (use amd64 or i386)", o->arch);
    if (strcmp(o->fs, "ext4") && strcmp(o->fs, "ext3") && strcmp(o->fs, "ext2"))
        return BAD("--fs '%s': kxl fills the file system without mounting it, which mke2fs "
                   "can do for ext4, ext3 and ext2 only", o->fs);
    if (o->bridge && (strlen(o->bridge) > 15 || strpbrk(o->bridge, "/,=: \t")))
        return BAD("--bridge '%s': not an interface name", o->bridge);
    if (o->memory_mib < 64)
        return BAD("--memory: less than 64mb is too little for a Debian guest");
    if (o->size_mib < 128)
        return BAD("--size: less than 128mb is too small for a Debian guest");
    return 0;
}

static int check_dist(image_opts *o)
{
    if (!o->dist && !(o->dist = image_host_codename())) {
        if (o->method == IMG_INSTALL_DEBOOTSTRAP)
            return -1;
        kx_err_clear();   /* copy, tar, image: the release is the source's */
        return 0;
    }
    if (strspn(o->dist, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(o->dist))
        return BAD("--dist '%s': not a distribution name (e.g. bookworm)", o->dist);
    if (o->method != IMG_INSTALL_DEBOOTSTRAP)
        return 0;
    AUTOFREE char *script = kx_asprintf("/usr/share/debootstrap/scripts/%s", o->dist);
    if (image_have_tool("debootstrap") && !kx_path_exists(script))
        return BAD("--dist '%s': debootstrap does not know this distribution (no %s)",
                   o->dist, script);
    if (!o->mirror && !(o->mirror = image_host_mirror("/etc/apt", o->dist)))
        return -1;
    if (!kx_startswith(o->mirror, "http://") && !kx_startswith(o->mirror, "https://") &&
        !kx_startswith(o->mirror, "file:/"))
        return BAD("--mirror '%s': not an http://, https:// or file:/ URL", o->mirror);
    size_t n = strlen(o->mirror);
    while (n > 1 && o->mirror[n - 1] == '/')
        o->mirror[--n] = '\0';
    return 0;
}

static int check_network(image_opts *o)
{
    if (o->dhcp && o->ip)
        return BAD("--dhcp and --ip exclude each other");
    if (!o->ip && (o->gateway || o->prefix))
        return BAD("--%s needs --ip", o->gateway ? "gateway" : "netmask");
    if (!o->ip)
        o->dhcp = true;
    if (o->ip && !o->prefix)
        o->prefix = 24;
    if (o->ip && !o->nameserver)
        o->nameserver = image_host_nameservers();
    if (!o->mac)
        o->mac = image_random_mac();
    return 0;
}

static int check_password(image_opts *o)
{
    int given = (o->password != NULL) + o->genpass + (o->hash != NULL);
    if (given > 1)
        return BAD("--password, --genpass and --hash exclude each other");
    if (o->password && strpbrk(o->password, "\n\r"))
        return BAD("--password: a password cannot hold a line break");
    if (o->hash && (strpbrk(o->hash, ":\n\r \t") || (o->hash[0] != '$' && o->hash[0] != '!')))
        return BAD("--hash '%s': not a crypt(3) hash (e.g. from 'mkpasswd -m yescrypt' or "
                   "'openssl passwd -6')", o->hash);
    return 0;
}

static int check_file(const char *opt, char **path, bool dir, bool exec)
{
    make_absolute(path);
    struct stat st;
    if (stat(*path, &st) < 0)
        return BAD("--%s '%s': no such file or directory", opt, *path);
    if (dir && !S_ISDIR(st.st_mode))
        return BAD("--%s '%s': not a directory", opt, *path);
    if (!dir && !S_ISREG(st.st_mode))
        return BAD("--%s '%s': not a regular file", opt, *path);
    if (access(*path, exec ? X_OK : R_OK) < 0)
        return BAD("--%s '%s': not %s", opt, *path, exec ? "executable" : "readable");
    return 0;
}

static int check_ssh_key(image_opts *o)
{
    if (check_file("ssh-key", &o->ssh_key, false, false) < 0)
        return -1;
    AUTOFREE char *text = kx_read_file(o->ssh_key, NULL);
    if (!text)
        return -1;
    if (strstr(text, "PRIVATE KEY"))
        return BAD("--ssh-key '%s' is a private key; give the public one (%s.pub)", o->ssh_key,
                   o->ssh_key);
    if (!strstr(text, "ssh-") && !strstr(text, "ecdsa-") && !strstr(text, "sk-"))
        return BAD("--ssh-key '%s': no public key in it (a line such as 'ssh-ed25519 AAAA... "
                   "user@host')", o->ssh_key);
    return 0;
}

static int check_files(image_opts *o)
{
    static const char *const method_names[] = {"debootstrap", "copy", "tar", "image"};
    if (o->ssh_key && check_ssh_key(o) < 0)
        return -1;
    if (o->role && check_file("role", &o->role, false, true) < 0)
        return -1;
    if (o->method == IMG_INSTALL_DEBOOTSTRAP && o->source)
        return BAD("--install-source is for --install-method copy, tar or image");
    if (o->method != IMG_INSTALL_DEBOOTSTRAP && !o->source)
        return BAD("--install-method %s needs --install-source", method_names[o->method]);
    if (o->source && check_file("install-source", &o->source, o->method == IMG_INSTALL_COPY,
                                false) < 0)
        return -1;
    return 0;
}

static int check_storage(image_opts *o, const char *etc_dir)
{
    if (o->dir && o->lvm)
        return BAD("--dir and --lvm exclude each other");
    if (o->lvm && o->format == IMG_FORMAT_QCOW2)
        return BAD("--format qcow2 is for image files, not --lvm volumes");
    if (o->lvm && strspn(o->lvm, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789+_.-") != strlen(o->lvm))
        return BAD("--lvm '%s': not a volume group name", o->lvm);
    if (!o->lvm && !o->dir)
        o->dir = kx_path_join(o->lib_dir, "images");
    make_absolute(&o->dir);
    if (!o->output)
        o->output = kx_strdup(etc_dir);
    make_absolute(&o->output);
    return 0;
}

/* The tools the run needs, with the Debian package that has each. */
static int check_tools(const image_opts *o)
{
    const struct { const char *tool, *package; bool needed; } tools[] = {
        {"debootstrap", "debootstrap", o->method == IMG_INSTALL_DEBOOTSTRAP},
        {"mke2fs", "e2fsprogs", true},
        {"mkswap", "util-linux", o->swap_mib > 0},
        {"qemu-img", "qemu-utils", o->format == IMG_FORMAT_QCOW2 || o->method == IMG_INSTALL_IMAGE},
        {"tar", "tar", o->method == IMG_INSTALL_TAR},
        {"lvcreate", "lvm2", o->lvm != NULL},
    };
    for (size_t i = 0; i < KX_ARRAY_SIZE(tools); i++) {
        if (tools[i].needed && !image_have_tool(tools[i].tool)) {
            kx_err(KXL_ERR_HOST, "%s is not installed (apt-get install %s)", tools[i].tool,
                   tools[i].package);
            return -1;
        }
    }
    return 0;
}

static int check_lvm(const image_opts *o)
{
    if (!image_have_device_mapper()) {
        kx_err(KXL_ERR_HOST, "--lvm %s: this host has no device-mapper (no /dev/mapper/control, "
               "none in /proc/misc), so LVM volumes cannot be activated here; use --dir", o->lvm);
        return -1;
    }
    image_cmd c = {.argv = (char *const[]){"vgs", "--noheadings", "-o", "vg_name", o->lvm, NULL},
                   .what = "vgs"};
    return image_run(&c);
}

int image_opts_finish(image_opts *o, const char *etc_dir)
{
    if (check_names(o) < 0 || check_network(o) < 0 || check_password(o) < 0 ||
        check_files(o) < 0 || check_storage(o, etc_dir) < 0)
        return -1;
    if (geteuid() != 0) {
        kx_err(KXL_ERR_STATE, "create-image must run as root (debootstrap, chroot and the "
               "ownership of the guest's files need it)");
        return -1;
    }
    if (check_tools(o) < 0 || check_dist(o) < 0)
        return -1;
    return o->lvm ? check_lvm(o) : 0;
}
