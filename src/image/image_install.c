/* image_install.c - makes the copied base system this guest: host name, /etc/hosts, fstab
 * (root and swap by UUID), the network (ifupdown, else systemd-networkd), a getty on the
 * serial console, /boot/grub/grub.cfg for kxl's pygrub replacement (no GRUB is installed: a
 * kernel hook rewrites the file when kernels change), fresh SSH host keys, root's password
 * and authorized_keys. Commands that must be the guest's own run chrooted into the tree. */
#include "image/image_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* The kernel arguments every entry gets: the serial console, and eth0 as the NIC's name. */
#define KERNEL_ARGS "console=ttyS0 net.ifnames=0"

/* Rewrites /boot/grub/grub.cfg from the kernels in /boot, newest first. Run by create-image
 * and, in the guest, after every kernel installation or removal. */
static const char grub_hook[] =
    "#!/bin/sh\n"
    "# zz-kxl-grub-cfg - written by kxl create-image. This guest has no GRUB: kxl's\n"
    "# bootloader = \"pygrub\" reads /boot/grub/grub.cfg to find the kernel and initrd to\n"
    "# boot. This hook rewrites that file, newest kernel first, whenever kernels are\n"
    "# installed or removed. The kernel arguments are in /etc/default/kxl-boot.\n"
    "set -e\n"
    ". /etc/default/kxl-boot\n"
    "mkdir -p /boot/grub\n"
    "tmp=/boot/grub/grub.cfg.new\n"
    "{\n"
    "    echo \"# Written by /etc/kernel/postinst.d/zz-kxl-grub-cfg; edit /etc/default/kxl-boot\"\n"
    "    echo \"# instead (no GRUB is installed: kxl boots the default entry directly).\"\n"
    "    echo 'set default=0'\n"
    "    echo 'set timeout=0'\n"
    "    for k in $(ls /boot | sed -n 's/^vmlinuz-//p' | sort -rV); do\n"
    "        echo\n"
    "        echo \"menuentry 'Debian GNU/Linux, with Linux $k' {\"\n"
    "        echo \"\tlinux /boot/vmlinuz-$k root=UUID=$ROOT_UUID ro $KERNEL_ARGS\"\n"
    "        if [ -e \"/boot/initrd.img-$k\" ]; then echo \"\tinitrd /boot/initrd.img-$k\"; fi\n"
    "        echo '}'\n"
    "    done\n"
    "} > \"$tmp\"\n"
    "mv \"$tmp\" /boot/grub/grub.cfg\n";

static char *short_name(const char *hostname)
{
    return kx_strndup(hostname, strcspn(hostname, "."));
}

/* Finds the newest /boot/vmlinuz-VERSION. */
static int find_kernel(image_job *j)
{
    int fd = image_tree_open(j->tree, "boot", O_RDONLY | O_DIRECTORY);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        kx_err(KXL_ERR_NOT_FOUND, "the guest's tree has no /boot: install a kernel "
               "(linux-image-*) in it");
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *v = e->d_name + strlen("vmlinuz-");
        if (kx_startswith(e->d_name, "vmlinuz-") && *v &&
            (!j->kernel || strverscmp(v, j->kernel) > 0)) {
            free(j->kernel);
            j->kernel = kx_strdup(v);
        }
    }
    closedir(d);
    if (!j->kernel) {
        kx_err(KXL_ERR_NOT_FOUND, "the guest's tree has no kernel in /boot: install a kernel "
               "(linux-image-*) in it");
        return -1;
    }
    AUTOFREE char *initrd = kx_asprintf("boot/initrd.img-%s", j->kernel);
    if (!image_tree_exists(j->tree, initrd))
        kx_warn("warning: the guest has no /%s; it boots only if its kernel has the virtio "
                "and ext4 drivers built in", initrd);
    return 0;
}

static int write_names(image_job *j)
{
    const image_opts *o = j->o;
    AUTOFREE char *name = short_name(o->hostname);
    bool fqdn = strchr(o->hostname, '.') != NULL;
    AUTOFREE char *names = fqdn ? kx_asprintf("%s %s", o->hostname, name) : kx_strdup(name);
    if (image_tree_writef(j->tree, "etc/hostname", 0644, "%s\n", name) < 0)
        return -1;
    return image_tree_writef(j->tree, "etc/hosts", 0644,
                             "127.0.0.1\tlocalhost\n"
                             "%s\t%s\n\n"
                             "::1\tlocalhost ip6-localhost ip6-loopback\n"
                             "ff02::1\tip6-allnodes\n"
                             "ff02::2\tip6-allrouters\n",
                             o->ip ? o->ip : "127.0.1.1", names);
}

static int write_fstab(image_job *j)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_printf(&b, "# /etc/fstab, written by kxl create-image. The root file system fills "
                      "the whole\n# first disk (/dev/vda, no partition table)%s\n"
                      "UUID=%s\t/\t%s\terrors=remount-ro\t0 1\n",
                  j->swap_uuid ? "; swap is the second disk (/dev/vdb)." : ".", j->root_uuid,
                  j->o->fs);
    if (j->swap_uuid)
        kx_buf_printf(&b, "UUID=%s\tnone\tswap\tsw\t0 0\n", j->swap_uuid);
    int r = image_tree_write(j->tree, "etc/fstab", kx_buf_str(&b), 0644);
    kx_buf_dispose(&b);
    return r;
}

static char *netmask_text(unsigned prefix)
{
    struct in_addr a = {htonl(prefix ? 0xffffffffu << (32 - prefix) : 0)};
    char s[INET_ADDRSTRLEN];
    return kx_strdup(inet_ntop(AF_INET, &a, s, sizeof(s)));
}

static int write_ifupdown(image_job *j)
{
    const image_opts *o = j->o;
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, "# Written by kxl create-image. The kernel argument net.ifnames=0 keeps the\n"
                   "# NIC's name eth0.\nsource /etc/network/interfaces.d/*\n\n"
                   "auto lo\niface lo inet loopback\n\n");
    if (o->dhcp) {
        kx_buf_add(&b, "allow-hotplug eth0\niface eth0 inet dhcp\n");
    } else {
        kx_buf_printf(&b, "auto eth0\niface eth0 inet static\n    address %s/%u\n", o->ip,
                      o->prefix);
        if (o->gateway)
            kx_buf_printf(&b, "    gateway %s\n", o->gateway);
    }
    int r = image_tree_write(j->tree, "etc/network/interfaces", kx_buf_str(&b), 0644);
    kx_buf_dispose(&b);
    return r;
}

static int write_networkd(image_job *j)
{
    const image_opts *o = j->o;
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, "# Written by kxl create-image.\n[Match]\nName=eth0\n\n[Network]\n");
    if (o->dhcp) {
        kx_buf_add(&b, "DHCP=yes\n");
    } else {
        kx_buf_printf(&b, "Address=%s/%u\n", o->ip, o->prefix);
        if (o->gateway)
            kx_buf_printf(&b, "Gateway=%s\n", o->gateway);
    }
    int r = image_tree_mkdir(j->tree, "etc/systemd/network", 0755);
    if (r == 0)
        r = image_tree_write(j->tree, "etc/systemd/network/10-kxl-eth0.network",
                             kx_buf_str(&b), 0644);
    kx_buf_dispose(&b);
    if (r == 0)
        r = image_tree_mkdir(j->tree, "etc/systemd/system/multi-user.target.wants", 0755);
    if (r == 0)
        r = image_tree_symlink(j->tree,
                               "etc/systemd/system/multi-user.target.wants/"
                               "systemd-networkd.service",
                               "/lib/systemd/system/systemd-networkd.service");
    return r;
}

static int write_network(image_job *j)
{
    const image_opts *o = j->o;
    int r;
    if (image_tree_exists(j->tree, "sbin/ifup") || image_tree_exists(j->tree, "usr/sbin/ifup"))
        r = write_ifupdown(j);
    else if (image_tree_exists(j->tree, "lib/systemd/systemd-networkd"))
        r = write_networkd(j);
    else {
        kx_warn("warning: the guest has neither ifupdown nor systemd-networkd; its network is "
                "not configured");
        r = 0;
    }
    if (r < 0)
        return -1;
    if (o->dhcp)
        return 0;   /* the DHCP client writes resolv.conf */
    kx_buf b = KX_BUF_INIT;
    kx_buf_add(&b, "# Written by kxl create-image.\n");
    AUTOFREE char *list = kx_strdup(o->nameserver ? o->nameserver : "");
    for (char *save = NULL, *a = strtok_r(list, " ", &save); a; a = strtok_r(NULL, " ", &save))
        kx_buf_printf(&b, "nameserver %s\n", a);
    r = image_tree_write(j->tree, "etc/resolv.conf", kx_buf_str(&b), 0644);
    kx_buf_dispose(&b);
    return r;
}

/* A login prompt on the serial console: systemd's serial-getty, or an inittab line. */
static int enable_serial_getty(image_job *j)
{
    if (image_tree_exists(j->tree, "lib/systemd/system/serial-getty@.service")) {
        if (image_tree_mkdir(j->tree, "etc/systemd/system/getty.target.wants", 0755) < 0)
            return -1;
        return image_tree_symlink(j->tree,
                                  "etc/systemd/system/getty.target.wants/"
                                  "serial-getty@ttyS0.service",
                                  "/lib/systemd/system/serial-getty@.service");
    }
    AUTOFREE char *inittab = image_tree_read(j->tree, "etc/inittab");
    if (!inittab) {
        kx_err_clear();
        kx_warn("warning: the guest has neither systemd nor an inittab; no login prompt on its "
                "serial console");
        return 0;
    }
    if (strstr(inittab, "ttyS0"))
        return 0;
    return image_tree_writef(j->tree, "etc/inittab", 0644,
                             "%sT0:23:respawn:/sbin/getty -L ttyS0 115200 vt100\n", inittab);
}

static int write_boot(image_job *j)
{
    if (image_tree_writef(j->tree, "etc/default/kxl-boot", 0644,
                          "# Written by kxl create-image: what /boot/grub/grub.cfg boots.\n"
                          "ROOT_UUID=%s\nKERNEL_ARGS=\"%s\"\n", j->root_uuid, KERNEL_ARGS) < 0 ||
        image_tree_mkdir(j->tree, "etc/kernel/postinst.d", 0755) < 0 ||
        image_tree_mkdir(j->tree, "etc/kernel/postrm.d", 0755) < 0 ||
        image_tree_write(j->tree, "etc/kernel/postinst.d/zz-kxl-grub-cfg", grub_hook, 0755) < 0 ||
        image_tree_symlink(j->tree, "etc/kernel/postrm.d/zz-kxl-grub-cfg",
                           "../postinst.d/zz-kxl-grub-cfg") < 0)
        return -1;
    image_cmd c = {.argv = (char *const[]){"/etc/kernel/postinst.d/zz-kxl-grub-cfg", NULL},
                   .chroot = j->tree, .what = "writing /boot/grub/grub.cfg",
                   .verbose = j->o->verbose};
    return image_run(&c);
}

static int make_ssh_keys(image_job *j)
{
    static const char *const types[] = {"rsa", "ecdsa", "ed25519"};
    for (size_t i = 0; i < KX_ARRAY_SIZE(types); i++) {
        AUTOFREE char *key = kx_asprintf("etc/ssh/ssh_host_%s_key", types[i]);
        AUTOFREE char *pub = kx_asprintf("%s.pub", key);
        if (image_tree_unlink(j->tree, key) < 0 || image_tree_unlink(j->tree, pub) < 0)
            return -1;
    }
    if (!image_tree_exists(j->tree, "usr/bin/ssh-keygen") ||
        !image_tree_exists(j->tree, "etc/ssh"))
        return 0;   /* no SSH in this guest */
    AUTOFREE char *comment = kx_asprintf("root@%s", j->o->hostname);
    for (size_t i = 0; i < KX_ARRAY_SIZE(types); i++) {
        AUTOFREE char *key = kx_asprintf("/etc/ssh/ssh_host_%s_key", types[i]);
        AUTOFREE char *pub = kx_asprintf("%s.pub", key);
        image_cmd gen = {.argv = (char *const[]){"ssh-keygen", "-q", "-t", (char *)types[i],
                                                 "-N", "", "-C", comment, "-f", key, NULL},
                         .chroot = j->tree, .verbose = j->o->verbose};
        kx_buf fp = KX_BUF_INIT;
        image_cmd show = {.argv = (char *const[]){"ssh-keygen", "-l", "-f", pub, NULL},
                          .chroot = j->tree, .out_r = &fp};
        if (image_run(&gen) < 0 || image_run(&show) < 0) {
            kx_buf_dispose(&fp);
            return -1;
        }
        const char *s = kx_buf_str(&fp);
        kx_strv_take(&j->r->fingerprints, kx_strndup(s, strcspn(s, "\n")));
        kx_buf_dispose(&fp);
    }
    return 0;
}

/* The password reaches chpasswd in the guest through a pipe: it is hashed there with the
 * guest's own settings and never written anywhere in clear. */
static int set_password(image_job *j)
{
    const image_opts *o = j->o;
    if (o->genpass)
        j->r->password = image_random_password(16);
    const char *secret = o->hash ? o->hash : o->password ? o->password : j->r->password;
    if (!secret)
        return 0;
    AUTOFREE char *line = kx_asprintf("root:%s\n", secret);
    image_cmd c = {.argv = o->hash ? (char *const[]){"chpasswd", "-e", NULL}
                                   : (char *const[]){"chpasswd", NULL},
                   .chroot = j->tree, .stdin_data = line, .what = "setting root's password"};
    int r = image_run(&c);
    explicit_bzero(line, strlen(line));
    return r;
}

static int write_authorized_keys(image_job *j)
{
    if (!j->o->ssh_key)
        return 0;
    AUTOFREE char *keys = kx_read_file(j->o->ssh_key, NULL);
    if (!keys || image_tree_mkdir(j->tree, "root/.ssh", 0700) < 0)
        return -1;
    size_t n = strlen(keys);
    return image_tree_writef(j->tree, "root/.ssh/authorized_keys", 0600, "%s%s", keys,
                             n && keys[n - 1] != '\n' ? "\n" : "");
}

int image_install(image_job *j)
{
    image_step(j, "Configuring %s: host name, network, fstab, serial console, SSH host keys, "
               "root password ...", j->o->hostname);
    if (find_kernel(j) < 0 || write_names(j) < 0 || write_fstab(j) < 0 ||
        write_network(j) < 0 || enable_serial_getty(j) < 0)
        return -1;
    /* a fresh machine id at first boot */
    if (image_tree_write(j->tree, "etc/machine-id", "", 0444) < 0 ||
        image_tree_unlink(j->tree, "var/lib/dbus/machine-id") < 0)
        return -1;
    if (write_boot(j) < 0 || make_ssh_keys(j) < 0 || set_password(j) < 0 ||
        write_authorized_keys(j) < 0)
        return -1;
    j->r->kernel = kx_strdup(j->kernel);
    return image_interrupted() ? -1 : 0;
}

int image_run_role(image_job *j)
{
    const image_opts *o = j->o;
    image_step(j, "Running the role script %s ...", o->role);
    kx_strv env = KX_STRV_INIT;
    AUTOFREE char *mask = o->ip ? netmask_text(o->prefix) : kx_strdup("");
    kx_strv_pushf(&env, "HOSTNAME=%s", o->hostname);
    kx_strv_pushf(&env, "DIST=%s", o->dist ? o->dist : "");
    kx_strv_pushf(&env, "ARCH=%s", o->arch);
    kx_strv_pushf(&env, "MIRROR=%s", o->mirror ? o->mirror : "");
    kx_strv_pushf(&env, "IP=%s", o->ip ? o->ip : "");
    kx_strv_pushf(&env, "NETMASK=%s", mask);
    kx_strv_pushf(&env, "GATEWAY=%s", o->gateway ? o->gateway : "");
    kx_strv_pushf(&env, "DHCP=%d", o->dhcp);
    kx_strv_pushf(&env, "MAC=%s", o->mac);
    kx_strv_pushf(&env, "MEMORY=%llu", (unsigned long long)o->memory_mib);
    kx_strv_pushf(&env, "SIZE=%llu", (unsigned long long)o->size_mib);
    kx_strv_pushf(&env, "KXL_TREE=%s", j->tree);
    image_cmd c = {.argv = (char *const[]){o->role, j->tree, NULL}, .env = env.v,
                   .passthrough = true};
    int r = image_run(&c);
    kx_strv_dispose(&env);
    return r;
}
