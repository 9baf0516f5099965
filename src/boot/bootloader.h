/* bootloader.h - what replaces Xen's pygrub: the kernel, initrd and kernel arguments a guest's
 * own disk would boot, read without mounting anything, so QEMU can boot them directly. */
#pragma once

#include <sys/types.h>

/* One boot choice. All strings are owned; kernel and initrd are paths inside the guest file
 * system that holds them (relative to a separate /boot partition: "/vmlinuz-6.1.0-10-amd64").
 * initrd is NULL when the entry has none, and holds the paths separated by spaces when a
 * grub.cfg entry lists several. cmdline holds the kernel arguments
 * ("root=UUID=... ro quiet"), title the menu title. */
typedef struct {
    char *kernel;
    char *initrd;
    char *cmdline;
    char *title;
} kx_bootentry;

/* Frees the strings and clears *e; idempotent. */
void kx_bootentry_dispose(kx_bootentry *e);

/* Pure: the entry a GRUB 2 grub.cfg boots by default, as Debian's grub-mkconfig writes it.
 * The default is the last top-level "set default=..." (those naming ${next_entry}, a one-shot
 * choice of grub-reboot, are skipped): "N", "N>M" into a submenu, or menu titles and
 * --id/$menuentry_id_option ids for the parts; one that names nothing falls back to entry 0,
 * as GRUB does, and so does "${saved_entry}" here (see grubcfg_default_entry_env). A submenu
 * picked as a whole gives its first entry. Fills *e_r (disposed first) from the entry's
 * linux/linux16/linuxefi and initrd lines (a GRUB device prefix such as "(hd0,1)" is dropped,
 * and so are argument words that are only a variable, like Ubuntu's $vt_handoff); a missing
 * initrd line is not an error.
 * Returns 0, or -1 with kx_err ("grub.cfg: ...") when the text does not parse (unbalanced
 * braces or quotes), has no menu entry, or the chosen entry loads no kernel. */
int grubcfg_default_entry(const char *text, kx_bootentry *e_r);

/* As grubcfg_default_entry; grubenv is the text of the grubenv file next to grub.cfg (or
 * NULL): its saved_entry (grub-set-default) replaces "${saved_entry}". Its next_entry is
 * ignored: GRUB clears it after one boot, which a read-only reader cannot do. */
int grubcfg_default_entry_env(const char *text, const char *grubenv, kx_bootentry *e_r);

/* Copies the kernel and initrd that the disk image IMAGE would boot into out_dir (made if
 * missing) as out_dir/vmlinuz and out_dir/initrd.img, and fills *e_r (disposed first).
 *
 * format is "raw" (a file or block device; NULL means raw) or "qcow2". A qcow2 image is read
 * through a read-only FUSE export by qemu-storage-daemon (only the blocks read are touched);
 * when that cannot run (no /dev/fuse, no permission), through a sparse raw copy made with
 * qemu-img convert in out_dir and removed afterwards, which costs reading the whole image.
 *
 * The ext2/3/4 file system is looked for on the whole disk, then in each MBR (primary and
 * logical) or GPT partition in order; the first one with /boot/grub/grub.cfg or /boot/vmlinuz*
 * wins, or a separate /boot partition with grub/grub.cfg or vmlinuz-* at its root. Its
 * grub.cfg default entry is used when it has one (with grubenv's saved_entry); otherwise the
 * highest version (strverscmp) of vmlinuz-*, with the matching initrd.img-VERSION
 * (initramfs-VERSION.img, initrd-VERSION.img), then a vmlinuz symlink. Symlinks are followed
 * within the file system. Without grub.cfg the cmdline is "root=/dev/vdaN ro" for the
 * partition used ("root=/dev/vda ro" for a whole-disk file system; for a separate /boot, the
 * first other partition with /etc/fstab), which assumes the disk is the guest's first virtio
 * disk; just "ro" when no root file system is found.
 *
 * Several initrds are concatenated into initrd.img (the kernel takes concatenated cpio
 * archives); with none, a stale out_dir/initrd.img is removed. The guest owns these files, so a
 * kernel over 256 MiB or initrds over 2 GiB in all are refused rather than copied. The image
 * must not be in use by a running guest. Returns 0, or -1 with kx_err saying what was missing, e.g.
 * "disk '/srv/g.img': no ext2/3/4 file system with a kernel in /boot (looked at the whole
 * disk and 2 partitions)". */
int bootloader_extract(const char *image, const char *format, const char *out_dir,
                       kx_bootentry *e_r);

/* As bootloader_extract, with the guest's file system read by a child process that has
 * become uid and gid (no capabilities, no_new_privs) for good, as Xen's deprivileged pygrub: the
 * disk is the guest's, and libext2fs is not built to resist a malicious file system. The
 * image is opened (and a qcow2 one exported) as root; the child gets the open descriptor and
 * writes the files into a directory of its own, which are moved into out_dir only if they are
 * regular files it made. uid 0: no child, as bootloader_extract. */
int bootloader_extract_as(uid_t uid, gid_t gid, const char *image, const char *format,
                          const char *out_dir, kx_bootentry *e_r);

/* ---- Xen's disk names inside the guest (boot_xennames.c) ---- */

#define BOOTLOADER_XEN_NAMES_PATH "/etc/udev/rules.d/60-kxl-xen-names.rules"
/* The udev rule that links each virtio disk whose serial is a Xen name (xvda2) to that name,
 * and its partitions to the name with their number. */
extern const char bootloader_xen_names_rule[];

/* Puts the rule at BOOTLOADER_XEN_NAMES_PATH in the ext2/3/4 file system that fills the raw
 * image IMAGE (a partition-style disk: no partition table), through libext2fs in a child that
 * has become uid/gid for good (uid 0: in this process). /etc/udev must exist (the guest has
 * udev); rules.d is made if missing; nothing is followed through a symlink; a file system
 * that is not clean is left alone. The image must not be in use. Returns 1 when it wrote the
 * rule, 0 when the same was there, -1 with kx_err saying why nothing was written. */
int bootloader_xen_names_as(uid_t uid, gid_t gid, const char *image);
