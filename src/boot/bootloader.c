/* bootloader.c - pygrub's job for kxl: find the ext2/3/4 file system holding the kernel on a
 * guest's disk image (whole disk, MBR or GPT partitions), choose the kernel (grub.cfg's default
 * entry or the newest vmlinuz-*), and copy kernel and initrd out through libext2fs, without
 * mounting anything. qcow2 images are read through a qemu-storage-daemon FUSE export. */
#include "boot/bootloader.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <et/com_err.h>
#include <ext2fs/ext2fs.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/spawn.h"

#ifndef BLKSSZGET
#define BLKSSZGET _IO(0x12, 104) /* <linux/fs.h>, which clashes with <sys/mount.h> */
#endif

#define MBR_SIZE 512
#define MAX_PARTS 128
#define MAX_EBRS 64           /* logical partitions followed, so a looping chain ends */
#define GPT_MAX_ENTRIES_SIZE (1 << 20)
#define TEXT_MAX (1 << 20)    /* grub.cfg and grubenv */
#define COPY_CHUNK (256 << 10)
/* The guest controls its files: a huge (perhaps sparse) one must not fill the host's disk. */
#define KERNEL_MAX_MIB 256
#define INITRD_MAX_MIB 2048   /* all initrds of an entry together */
#define EXPORT_WAIT_MS 10000

typedef struct {
    unsigned num;     /* the guest's partition number: /dev/vdaN */
    uint64_t offset;  /* bytes from the start of the disk */
} bl_part;

typedef struct {
    const char *image;     /* as the caller named it, for messages */
    int fd;                /* what is read (the image, a FUSE export or a raw copy), read-only */
    const char *out_dir;
    bl_part parts[MAX_PARTS];
    size_t nparts;
} bl_disk;

/* The file system that has the kernels. */
typedef struct {
    unsigned part;    /* 0: the whole disk */
    const char *dir;  /* where kernels and grub/ are: "/boot", or "" on a separate /boot */
} bl_where;

typedef struct struct_ext2_filsys bl_extfs;

static void extfs_close(bl_extfs *fs)
{
    ext2_filsys f = fs;
    if (f)
        ext2fs_close_free(&f);
}
DEFINE_AUTOPTR(bl_extfs, extfs_close)

static bool in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (kx_streq(w, *list))
            return true;
    return false;
}

/* ---- partition tables -------------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool read_at(int fd, uint64_t off, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

static void parts_add(bl_disk *d, unsigned num, uint64_t offset)
{
    if (d->nparts < MAX_PARTS && offset > 0)
        d->parts[d->nparts++] = (bl_part){num, offset};
}

static bool mbr_valid(const unsigned char *sec)
{
    return sec[510] == 0x55 && sec[511] == 0xaa;
}

static bool mbr_extended(unsigned type)
{
    return type == 0x05 || type == 0x0f || type == 0x85;
}

/* Logical partitions (5, 6, ...): a chain of EBRs, each giving one partition relative to
 * itself and the next EBR relative to the extended partition, numbered as Linux does. */
static void mbr_logical(bl_disk *d, int fd, uint64_t ext_lba, unsigned ssz)
{
    unsigned char sec[MBR_SIZE];
    uint64_t ebr = ext_lba;
    unsigned num = 5;
    for (int i = 0; i < MAX_EBRS; i++) {
        if (!read_at(fd, ebr * ssz, sec, sizeof(sec)) || !mbr_valid(sec))
            return;
        const unsigned char *data = sec + 446, *next = sec + 446 + 16;
        if (data[4] != 0 && !mbr_extended(data[4]) && le32(data + 8) != 0)
            parts_add(d, num++, (ebr + le32(data + 8)) * ssz);
        if (!mbr_extended(next[4]) || le32(next + 8) == 0)
            return;
        ebr = ext_lba + le32(next + 8);
    }
}

static void mbr_read(bl_disk *d, int fd, const unsigned char *mbr, unsigned ssz)
{
    uint64_t ext_lba = 0;
    for (unsigned i = 0; i < 4; i++) {
        const unsigned char *e = mbr + 446 + 16 * i;
        if (e[4] != 0 && mbr_extended(e[4]) && !ext_lba)
            ext_lba = le32(e + 8);
        else if (e[4] != 0)
            parts_add(d, i + 1, (uint64_t)le32(e + 8) * ssz);
    }
    if (ext_lba)
        mbr_logical(d, fd, ext_lba, ssz);
}

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* The primary GPT at LBA 1; a header or entry array failing its CRC counts as no table. */
static void gpt_read(bl_disk *d, int fd, unsigned ssz)
{
    static const unsigned char unused[16];
    unsigned char hdr[MBR_SIZE];
    if (!read_at(fd, ssz, hdr, sizeof(hdr)) || memcmp(hdr, "EFI PART", 8) != 0)
        return;
    uint32_t hsize = le32(hdr + 12), hcrc = le32(hdr + 16);
    uint32_t count = le32(hdr + 80), esize = le32(hdr + 84);
    if (hsize < 92 || hsize > sizeof(hdr) || esize < 128 || esize % 8 != 0 || count == 0 ||
        (uint64_t)count * esize > GPT_MAX_ENTRIES_SIZE)
        return;
    memset(hdr + 16, 0, 4);
    if (crc32_ieee(hdr, hsize) != hcrc) {
        kx_debug("'%s': GPT header has a bad CRC", d->image);
        return;
    }
    size_t len = (size_t)count * esize;
    AUTOFREE unsigned char *ents = kx_malloc0(len);
    if (!read_at(fd, le64(hdr + 72) * ssz, ents, len) || crc32_ieee(ents, len) != le32(hdr + 88)) {
        kx_debug("'%s': GPT partition entries unreadable or with a bad CRC", d->image);
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = ents + (size_t)i * esize;
        if (memcmp(e, unused, sizeof(unused)) != 0)
            parts_add(d, i + 1, le64(e + 32) * ssz);
    }
}

/* The logical sector size: the device's for a block device, 512 for an image file. */
static unsigned sector_size(int fd)
{
    struct stat st;
    int ssz = 0;
    if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) && ioctl(fd, BLKSSZGET, &ssz) == 0 &&
        ssz >= 512 && ssz <= 65536)
        return (unsigned)ssz;
    return 512;
}

/* Fills d->parts from the MBR, or the GPT when the MBR is protective (type 0xee). */
static void parts_read(bl_disk *d, int fd)
{
    unsigned char mbr[MBR_SIZE];
    unsigned ssz = sector_size(fd);
    d->nparts = 0;
    if (!read_at(fd, 0, mbr, sizeof(mbr)) || !mbr_valid(mbr))
        return;
    for (unsigned i = 0; i < 4; i++) {
        if (mbr[446 + 16 * i + 4] == 0xee) {
            gpt_read(d, fd, ssz);
            return;
        }
    }
    mbr_read(d, fd, mbr, ssz);
}

/* ---- reading ext2/3/4 -------------------------------------------------------------------- */

/* The ext2/3/4 file system at byte offset off of the disk, read-only; NULL (quietly) if none.
 * It is read through the open fd (unixfd_io_manager), so a deprivileged reader needs no access
 * to the image's path. */
static bl_extfs *extfs_open(const bl_disk *d, uint64_t off)
{
    AUTOFREE char *opts = kx_asprintf("offset=%llu", (unsigned long long)off);
    /* the I/O channel closes its descriptor with the file system: give it a copy */
    int fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
    AUTOFREE char *name = kx_asprintf("%d", fd);
    ext2_filsys fs = NULL;
    errcode_t err = fd < 0 ? errno : ext2fs_open2(name, opts, EXT2_FLAG_64BITS, 0, 0,
                                                  unixfd_io_manager, &fs);
    if (err && fd >= 0 && fcntl(fd, F_GETFD) >= 0)
        close(fd);   /* failed before a channel owned it */
    if (err) {
        kx_debug("'%s' at offset %llu: no ext2/3/4: %s", d->image, (unsigned long long)off,
                 error_message(err));
        return NULL;
    }
    return fs;
}

/* The inode of absolute path in fs, following symlinks within fs; 0 when missing. */
static ext2_ino_t extfs_lookup(ext2_filsys fs, const char *path)
{
    ext2_ino_t ino = 0;
    if (ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino) != 0)
        return 0;
    return ino;
}

/* Whether path (after symlinks) is a regular file; its inode in *ino_r if not NULL. */
static bool extfs_is_file(ext2_filsys fs, const char *path, ext2_ino_t *ino_r)
{
    struct ext2_inode inode;
    ext2_ino_t ino = extfs_lookup(fs, path);
    if (!ino || ext2fs_read_inode(fs, ino, &inode) != 0 || !LINUX_S_ISREG(inode.i_mode))
        return false;
    if (ino_r)
        *ino_r = ino;
    return true;
}

static bool file_in_dir(ext2_filsys fs, const char *dir, const char *name)
{
    AUTOFREE char *path = kx_asprintf("%s/%s", dir, name);
    return extfs_is_file(fs, path, NULL);
}

/* 0, or the errno of a failed write. */
static errcode_t write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno != EINTR)
            return errno;
        p += w > 0 ? w : 0;
        n -= w > 0 ? (size_t)w : 0;
    }
    return 0;
}

/* Streams a file to out_fd if >= 0, else into *text (up to max bytes). An errcode_t, which
 * for a failed write is the errno (com_err's error_message gives strerror for those). */
static errcode_t extfs_read(ext2_filsys fs, ext2_ino_t ino, int out_fd, kx_buf *text, size_t max)
{
    ext2_file_t f = NULL;
    errcode_t err = ext2fs_file_open(fs, ino, 0, &f);
    AUTOFREE char *buf = err ? NULL : kx_malloc0(COPY_CHUNK);
    while (!err) {
        unsigned int got = 0;
        err = ext2fs_file_read(f, buf, COPY_CHUNK, &got);
        if (err || got == 0)
            break;
        if (out_fd < 0 && text->len + got > max)
            err = EFBIG;
        else if (out_fd < 0)
            kx_buf_addn(text, buf, got);
        else
            err = write_all(out_fd, buf, got);
    }
    if (f)
        ext2fs_file_close(f);
    return err;
}

/* A small text file (grub.cfg, grubenv) as a string; NULL when it is missing or unreadable. */
static char *extfs_read_text(ext2_filsys fs, const char *path)
{
    ext2_ino_t ino;
    kx_buf text = KX_BUF_INIT;
    if (!extfs_is_file(fs, path, &ino))
        return NULL;
    errcode_t err = extfs_read(fs, ino, -1, &text, TEXT_MAX);
    if (err) {
        kx_warn("cannot read '%s' in the guest file system: %s", path, error_message(err));
        kx_buf_dispose(&text);
        return NULL;
    }
    return kx_buf_steal(&text);
}

typedef struct {
    const char *prefix;
    kx_strv *names;
} list_ctx;

static int list_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
                   int blocksize, char *buf, void *priv)
{
    list_ctx *c = priv;
    size_t len = (size_t)ext2fs_dirent_name_len(de), plen = strlen(c->prefix);
    (void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
    if (len > plen && strncmp(de->name, c->prefix, plen) == 0)
        kx_strv_take(c->names, kx_strndup(de->name, len));
    return 0;
}

/* The names in directory dir ("" for the root) that start with prefix. */
static void extfs_list(ext2_filsys fs, const char *dir, const char *prefix, kx_strv *names_r)
{
    list_ctx c = {prefix, names_r};
    ext2_ino_t ino = *dir ? extfs_lookup(fs, dir) : EXT2_ROOT_INO;
    if (ino && ext2fs_check_directory(fs, ino) == 0)
        ext2fs_dir_iterate2(fs, ino, 0, NULL, list_cb, &c);
}

/* ---- choosing the kernel ----------------------------------------------------------------- */

static const char *const grub_cfgs[] = {"grub/grub.cfg", "grub2/grub.cfg", NULL};
/* initrd names for a kernel vmlinuz-VERSION (prefix VERSION suffix), in the order tried: as
 * Debian, Fedora and others name them */
static const struct {
    const char *prefix, *suffix;
} initrd_names[] = {
    {"initrd.img-", ""}, {"initramfs-", ".img"}, {"initrd-", ".img"}, {"initrd-", ""},
};

static int cmp_version_desc(const void *a, const void *b)
{
    return strverscmp(*(char *const *)b, *(char *const *)a);
}

/* The newest kernel in dir: the highest version of vmlinuz-*, else a vmlinuz (symlink).
 * NULL if none. Caller frees. */
static char *newest_kernel(ext2_filsys fs, const char *dir)
{
    kx_strv names = KX_STRV_INIT;
    char *best = NULL;
    extfs_list(fs, dir, "vmlinuz-", &names);
    if (names.n)
        qsort(names.v, names.n, sizeof(*names.v), cmp_version_desc);
    for (size_t i = 0; i < names.n && !best; i++)
        if (file_in_dir(fs, dir, names.v[i]))
            best = kx_strdup(names.v[i]);
    kx_strv_dispose(&names);
    if (!best && file_in_dir(fs, dir, "vmlinuz"))
        best = kx_strdup("vmlinuz");
    return best;
}

static bool has_grub_cfg(ext2_filsys fs, const char *dir)
{
    for (size_t i = 0; grub_cfgs[i]; i++)
        if (file_in_dir(fs, dir, grub_cfgs[i]))
            return true;
    return false;
}

/* Where fs keeps kernels: "/boot" on a root file system, "" on a separate /boot; NULL if
 * it has none. */
static const char *kernel_dir(ext2_filsys fs)
{
    static const char *const dirs[] = {"/boot", ""};
    for (size_t i = 0; i < KX_ARRAY_SIZE(dirs); i++) {
        AUTOFREE char *k = NULL;
        if (has_grub_cfg(fs, dirs[i]) || (k = newest_kernel(fs, dirs[i])))
            return dirs[i];
    }
    return NULL;
}

static char *where_str(unsigned part)
{
    return part ? kx_asprintf("partition %u", part) : kx_strdup("the whole-disk file system");
}

/* Opens the first file system with kernels: the whole disk, then each partition in order. */
static bl_extfs *find_fs(const bl_disk *d, bl_where *w_r)
{
    for (size_t i = 0; i <= d->nparts; i++) {
        unsigned num = i ? d->parts[i - 1].num : 0;
        bl_extfs *fs = extfs_open(d, i ? d->parts[i - 1].offset : 0);
        const char *dir = fs ? kernel_dir(fs) : NULL;
        if (dir) {
            AUTOFREE char *where = where_str(num);
            *w_r = (bl_where){num, dir};
            kx_debug("disk '%s': kernels in '%s/' of %s", d->image, dir, where);
            return fs;
        }
        extfs_close(fs);
    }
    kx_err(KXL_ERR_NOT_FOUND, "disk '%s': no ext2/3/4 file system with a kernel in /boot "
           "(looked at the whole disk and %zu partition%s)", d->image, d->nparts,
           d->nparts == 1 ? "" : "s");
    return NULL;
}

/* The default entry of grub.cfg in dir (with grubenv's saved_entry): 0; 1 when there is no
 * grub.cfg, or (*why_r says why, "PATH: ...") it has no usable entry. */
static int grub_entry(ext2_filsys fs, const char *dir, kx_bootentry *e, char **why_r)
{
    for (size_t i = 0; grub_cfgs[i]; i++) {
        AUTOFREE char *path = kx_asprintf("%s/%s", dir, grub_cfgs[i]);
        AUTOFREE char *text = extfs_read_text(fs, path);
        if (!text)
            continue;
        AUTOFREE char *env_path = kx_asprintf("%s/%.*s/grubenv", dir,
                                              (int)strcspn(grub_cfgs[i], "/"), grub_cfgs[i]);
        AUTOFREE char *env = extfs_read_text(fs, env_path);
        if (grubcfg_default_entry_env(text, env, e) == 0)
            return 0;
        /* "grub.cfg:4: ..." names the file it was read from */
        const char *msg = kx_err_msg();
        *why_r = kx_asprintf("%s%s", path, msg + (kx_startswith(msg, "grub.cfg") ? 8 : 0));
        kx_err_clear();
        return 1;
    }
    return 1;
}

/* Without (usable) grub.cfg: the newest kernel in dir and its initrd; cmdline stays NULL.
 * -1 (quietly) when dir has no kernel. */
static int newest_entry(ext2_filsys fs, const char *dir, kx_bootentry *e)
{
    AUTOFREE char *name = newest_kernel(fs, dir);
    if (!name)
        return -1;
    const char *version = kx_startswith(name, "vmlinuz-") ? name + strlen("vmlinuz-") : NULL;
    e->kernel = kx_asprintf("%s/%s", dir, name);
    e->title = kx_strdup(name);
    for (size_t i = 0; !e->initrd && i < KX_ARRAY_SIZE(initrd_names); i++) {
        AUTOFREE char *iname = version ? kx_asprintf("%s%s%s", initrd_names[i].prefix, version,
                                                     initrd_names[i].suffix)
                                       : kx_strdup("initrd.img");
        if (file_in_dir(fs, dir, iname))
            e->initrd = kx_asprintf("%s/%s", dir, iname);
    }
    return 0;
}

/* ---- copying out ------------------------------------------------------------------------- */

/* Finds a grub.cfg path in fs: as written (relative to GRUB's root device), else with the
 * root file system's /boot added, or a /boot file system's "/boot" taken off. */
static char *resolve(ext2_filsys fs, const bl_where *w, const char *path, ext2_ino_t *ino_r)
{
    if (extfs_is_file(fs, path, ino_r))
        return kx_strdup(path);
    AUTOFREE char *alt = NULL;
    if (*w->dir && !kx_startswith(path, "/boot/"))
        alt = kx_asprintf("%s%s", w->dir, path);
    else if (!*w->dir && kx_startswith(path, "/boot/"))
        alt = kx_strdup(path + strlen("/boot"));
    if (alt && extfs_is_file(fs, alt, ino_r))
        return TAKE_PTR(alt);
    return NULL;
}

static uint64_t extfs_size(ext2_filsys fs, ext2_ino_t ino)
{
    struct ext2_inode inode;
    return ext2fs_read_inode(fs, ino, &inode) == 0 ? EXT2_I_SIZE(&inode) : 0;
}

/* One output file being written: the kernel, or the initrds one after another. */
typedef struct {
    const char *what;   /* "kernel" or "initrd", for messages */
    const char *title;  /* the entry's, for messages */
    const char *dest;
    unsigned max_mib;   /* for all its files together */
    int fd;
    uint64_t total;
} bl_copy;

/* Appends the file at path (a grub.cfg path, see resolve) to c->fd; returns the path it has
 * in fs, or NULL with kx_err. Caller frees. */
static char *copy_one(const bl_disk *d, ext2_filsys fs, const bl_where *w, bl_copy *c,
                      const char *path)
{
    ext2_ino_t ino = 0;
    AUTOFREE char *where = where_str(w->part);
    AUTOFREE char *real = resolve(fs, w, path, &ino);
    if (!real) {
        kx_err(KXL_ERR_NOT_FOUND, "disk '%s': %s '%s' of entry '%s' is not on %s", d->image,
               c->what, path, c->title, where);
        return NULL;
    }
    c->total += extfs_size(fs, ino);
    if (c->total > (uint64_t)c->max_mib << 20) {
        kx_err(KXL_ERR_INVALID, "disk '%s': %s '%s' on %s is larger than %u MiB", d->image,
               c->what, real, where, c->max_mib);
        return NULL;
    }
    errcode_t err = extfs_read(fs, ino, c->fd, NULL, 0);
    if (err) {
        kx_err(KXL_ERR_INTERNAL, "disk '%s': cannot copy '%s' from %s to '%s': %s", d->image,
               real, where, c->dest, error_message(err));
        return NULL;
    }
    return TAKE_PTR(real);
}

/* Copies the files named in *paths (separated by spaces) into c->dest and replaces *paths
 * with the paths found. On failure, c->dest is removed. */
static int copy_out(const bl_disk *d, ext2_filsys fs, const bl_where *w, bl_copy *c,
                    char **paths)
{
    AUTOCLOSE int fd = open(c->dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    kx_buf found = KX_BUF_INIT;
    int r = 0;
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "disk '%s': cannot write '%s'", d->image, c->dest);
        return -1;
    }
    c->fd = fd;
    for (const char *p = *paths; r == 0 && *p;) {
        size_t len = strcspn(p, " ");
        AUTOFREE char *one = kx_strndup(p, len);
        AUTOFREE char *real = copy_one(d, fs, w, c, one);
        if (real)
            kx_buf_printf(&found, "%s%s", found.len ? " " : "", real);
        r = real ? 0 : -1;
        p += len + strspn(p + len, " ");
    }
    if (r < 0) {
        unlink(c->dest);
        kx_buf_dispose(&found);
        return -1;
    }
    free(*paths);
    *paths = kx_buf_steal(&found);
    return 0;
}

static int copy_files(const bl_disk *d, ext2_filsys fs, const bl_where *w, kx_bootentry *e)
{
    AUTOFREE char *kdest = kx_path_join(d->out_dir, "vmlinuz");
    AUTOFREE char *idest = kx_path_join(d->out_dir, "initrd.img");
    bl_copy kernel = {"kernel", e->title, kdest, KERNEL_MAX_MIB, -1, 0};
    bl_copy initrd = {"initrd", e->title, idest, INITRD_MAX_MIB, -1, 0};
    if (copy_out(d, fs, w, &kernel, &e->kernel) < 0)
        return -1;
    if (e->initrd)
        return copy_out(d, fs, w, &initrd, &e->initrd);
    if (unlink(idest) < 0 && errno != ENOENT) {
        kx_err_errno(KXL_ERR_INTERNAL, "disk '%s': cannot remove the old '%s'", d->image, idest);
        return -1;
    }
    return 0;
}

/* The cmdline when grub.cfg gave none: the root file system's partition as the guest's
 * first virtio disk sees it; for a separate /boot, the first other one with /etc/fstab. */
static char *default_cmdline(const bl_disk *d, const bl_where *w)
{
    if (*w->dir && w->part)
        return kx_asprintf("root=/dev/vda%u ro", w->part);
    if (*w->dir)
        return kx_strdup("root=/dev/vda ro");
    for (size_t i = 0; i < d->nparts; i++) {
        if (d->parts[i].num == w->part)
            continue;
        AUTOPTR(bl_extfs) fs = extfs_open(d, d->parts[i].offset);
        if (fs && extfs_is_file(fs, "/etc/fstab", NULL))
            return kx_asprintf("root=/dev/vda%u ro", d->parts[i].num);
    }
    return kx_strdup("ro");
}

/* The whole job on a raw view of the disk, open as fd. */
static int extract(const char *image, int fd, const char *out_dir, kx_bootentry *e)
{
    bl_disk d = {.image = image, .fd = fd, .out_dir = out_dir};
    AUTOFREE char *why = NULL;
    bl_where w;
    parts_read(&d, fd);
    AUTOPTR(bl_extfs) fs = find_fs(&d, &w);
    if (!fs)
        return -1;
    if (grub_entry(fs, w.dir, e, &why) != 0 && newest_entry(fs, w.dir, e) < 0) {
        kx_err(KXL_ERR_CONFIG, "disk '%s': %s", image, why ? why : "grub.cfg is unreadable");
        return -1;
    }
    if (why)
        kx_warn("disk '%s': %s; booting the newest kernel instead", image, why);
    if (copy_files(&d, fs, &w, e) < 0)
        return -1;
    if (!e->cmdline)
        e->cmdline = default_cmdline(&d, &w);
    return 0;
}

/* ---- qcow2: a raw view through qemu-storage-daemon, or a raw copy ------------------------- */

typedef struct {
    char *path;  /* what to read as a raw disk */
    char *mnt;   /* FUSE mountpoint (a regular file) to unmount and remove */
    char *copy;  /* raw copy to remove */
    pid_t pid;   /* qemu-storage-daemon, or -1 */
} bl_raw;

static const char *const export_formats[] = {"qcow2", NULL};

/* Stops the daemon (SIGTERM, SIGKILL after 5 s) and removes what raw_open made. */
static void raw_close(bl_raw *r)
{
    for (int i = 0; r->pid > 0; i++) {
        if (i == 0 || i == 500)
            kill(r->pid, i ? SIGKILL : SIGTERM);
        pid_t w = waitpid(r->pid, NULL, WNOHANG);
        if (w == r->pid || (w < 0 && errno != EINTR))
            r->pid = -1;
        else
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    if (r->mnt) {
        umount2(r->mnt, MNT_DETACH); /* only if the daemon died without unmounting */
        unlink(r->mnt);
    }
    if (r->copy)
        unlink(r->copy);
    free(r->path);
    free(r->mnt);
    free(r->copy);
    *r = (bl_raw){.pid = -1};
}

/* The --blockdev and --export arguments, as JSON so that no path needs escaping. */
static void daemon_args(const char *image, const char *format, const char *mnt, kx_strv *argv)
{
    AUTOPTR(json_object) file = json_object_new_object();
    AUTOPTR(json_object) dev = json_object_new_object();
    AUTOPTR(json_object) exp = json_object_new_object();
    json_object_object_add(file, "driver", json_object_new_string("file"));
    json_object_object_add(file, "filename", json_object_new_string(image));
    json_object_object_add(dev, "driver", json_object_new_string(format));
    json_object_object_add(dev, "node-name", json_object_new_string("disk"));
    json_object_object_add(dev, "read-only", json_object_new_boolean(1));
    json_object_object_add(dev, "file", json_object_get(file));
    json_object_object_add(exp, "type", json_object_new_string("fuse"));
    json_object_object_add(exp, "id", json_object_new_string("disk"));
    json_object_object_add(exp, "node-name", json_object_new_string("disk"));
    json_object_object_add(exp, "mountpoint", json_object_new_string(mnt));
    json_object_object_add(exp, "writable", json_object_new_boolean(0));
    kx_strv_push(argv, "qemu-storage-daemon");
    kx_strv_push(argv, "--blockdev");
    kx_strv_push(argv, kx_json_text(dev));
    kx_strv_push(argv, "--export");
    kx_strv_push(argv, kx_json_text(exp));
}

/* Starts argv with stdout and stderr into log_fd; it gets SIGTERM if we die. */
static pid_t spawn_daemon(char *const argv[], int log_fd)
{
    pid_t pid = fork();
    if (pid < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork");
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(null, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        execvp(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Waits until the export is mounted on r->mnt (its st_dev changes from dev). */
static int wait_mounted(bl_raw *r, dev_t dev, int log_fd)
{
    for (int ms = 0; ms < EXPORT_WAIT_MS; ms += 10) {
        struct stat st;
        pid_t w = waitpid(r->pid, NULL, WNOHANG);
        if (w == r->pid || (w < 0 && errno == ECHILD)) { /* ECHILD: reaped by SIG_IGN */
            char msg[512] = "";
            ssize_t n = pread(log_fd, msg, sizeof(msg) - 1, 0);
            msg[n > 0 ? n : 0] = '\0';
            msg[strcspn(msg, "\n")] = '\0';
            r->pid = -1;
            kx_err(KXL_ERR_INTERNAL, "qemu-storage-daemon cannot export it: %s",
                   *msg ? msg : "no message");
            return -1;
        }
        if (stat(r->mnt, &st) == 0 && st.st_dev != dev)
            return 0;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    kx_err(KXL_ERR_INTERNAL, "qemu-storage-daemon did not export it within %d s",
           EXPORT_WAIT_MS / 1000);
    return -1;
}

/* A read-only FUSE export of the image as a raw file, out_dir/.bootloader-disk. */
static int raw_fuse(bl_raw *r, const char *image, const char *format, const char *out_dir)
{
    AUTOCLOSE int log_fd = memfd_create("qemu-storage-daemon", MFD_CLOEXEC);
    AUTOCLOSE int mfd = -1;
    kx_strv argv = KX_STRV_INIT;
    struct stat st;

    if (log_fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a memfd");
        return -1;
    }
    r->mnt = kx_path_join(out_dir, ".bootloader-disk");
    umount2(r->mnt, MNT_DETACH); /* left over by a daemon that was killed */
    mfd = open(r->mnt, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (mfd < 0 || fstat(mfd, &st) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot make the mountpoint '%s'", r->mnt);
        return -1;
    }
    daemon_args(image, format, r->mnt, &argv);
    r->pid = spawn_daemon(argv.v, log_fd);
    kx_strv_dispose(&argv);
    if (r->pid < 0 || wait_mounted(r, st.st_dev, log_fd) < 0)
        return -1;
    kx_debug("disk '%s': exported read-only as raw at '%s'", image, r->mnt);
    r->path = kx_strdup(r->mnt);
    return 0;
}

/* A sparse raw copy, out_dir/.bootloader-disk.raw: reads the whole image, writes its data. */
static int raw_convert(bl_raw *r, const char *image, const char *format, const char *out_dir)
{
    /* qemu-img takes "name:..." for a protocol; a path with a '/' in it is always a file */
    AUTOFREE char *src = strchr(image, '/') ? kx_strdup(image) : kx_asprintf("./%s", image);
    r->copy = kx_path_join(out_dir, ".bootloader-disk.raw");
    AUTOFREE char *dst = strchr(r->copy, '/') ? kx_strdup(r->copy)
                                              : kx_asprintf("./%s", r->copy);
    char *argv[] = {"qemu-img", "convert", "-q", "-f", (char *)format, "-O", "raw", src, dst,
                    NULL};
    if (kx_run(argv) < 0)
        return -1;
    r->path = kx_strdup(r->copy);
    return 0;
}

static int raw_open(bl_raw *r, const char *image, const char *format, const char *out_dir)
{
    if (!format || kx_streq(format, "raw")) {
        r->path = kx_strdup(image);
        return 0;
    }
    if (!in_list(format, export_formats)) {
        kx_err(KXL_ERR_INVALID, "disk '%s': the bootloader cannot read format '%s' (only raw "
               "and qcow2)", image, format);
        return -1;
    }
    if (access(image, R_OK) < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                     "disk '%s': cannot open it", image);
        return -1;
    }
    if (raw_fuse(r, image, format, out_dir) == 0)
        return 0;
    kx_info("disk '%s': %s; making a raw copy of it instead", image, kx_err_msg());
    kx_err_clear();
    raw_close(r);
    return raw_convert(r, image, format, out_dir);
}

/* ---- running it as an unprivileged user -------------------------------------------------- */

/* The child's warnings, for its parent to log (a child's log sink may be in memory). */
static void collect_warnings(kx_loglevel level, const char *msg, void *opaque)
{
    if (level >= KX_LOG_WARN)
        json_object_array_add(opaque, json_object_new_string(msg));
}

/* In the child: becomes uid/gid for good, runs extract into tmp, and writes the outcome to
 * out_fd as JSON ({"error", "code"} or the entry's strings, and "warnings"). Never returns. */
static void extract_child(uid_t uid, gid_t gid, const char *image, int fd, const char *tmp,
                          int out_fd)
{
    kx_bootentry e = {0};
    json_object *o = json_object_new_object();
    json_object *warnings = json_object_new_array();
    json_object_object_add(o, "warnings", warnings);
    kx_log_set_sink(collect_warnings, warnings);
    /* tmp's parents are root's: the files are written relative to it, entered as root */
    if (chdir(tmp) < 0 || setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(uid, uid, uid) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        getuid() != uid) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot drop privileges to read disk '%s'", image);
    } else if (extract(image, fd, ".", &e) == 0) {
        kx_err_clear();
        const char *fields[] = {"kernel", e.kernel, "initrd", e.initrd, "cmdline", e.cmdline,
                                "title", e.title};
        for (size_t i = 0; i < 8; i += 2)
            if (fields[i + 1])
                json_object_object_add(o, fields[i], json_object_new_string(fields[i + 1]));
    }
    if (kx_err_code() != KXL_ERR_NONE) {
        json_object_object_add(o, "error", json_object_new_string(kx_err_msg()));
        json_object_object_add(o, "code", json_object_new_int(kx_err_code()));
    }
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    int ok = kx_write_all(out_fd, text, strlen(text)) == 0;
    _exit(ok ? 0 : 1);
}

/* Moves tmp/name into out_dir, as root's: only a regular file that the reader made. */
static int adopt_output(const char *tmp, const char *out_dir, const char *name, uid_t uid,
                        bool wanted)
{
    AUTOFREE char *src = kx_path_join(tmp, name);
    AUTOFREE char *dst = kx_path_join(out_dir, name);
    struct stat st;
    if (!wanted) {
        unlink(dst);
        return 0;
    }
    if (lstat(src, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != uid || st.st_nlink != 1) {
        kx_err(KXL_ERR_INTERNAL, "the bootloader left no regular file '%s'", src);
        return -1;
    }
    if (chown(src, 0, 0) < 0 || rename(src, dst) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot move '%s' to '%s'", src, dst);
        return -1;
    }
    return 0;
}

/* The entry from the child's JSON: 0, or -1 with the child's error. */
static int read_outcome(const char *text, kx_bootentry *e)
{
    AUTOPTR(json_object) o = text && *text ? kx_json_parse(text, "bootloader") : NULL;
    if (!o) {
        kx_err(KXL_ERR_INTERNAL, "the bootloader process ended without an answer");
        return -1;
    }
    json_object *warnings = NULL;
    json_object_object_get_ex(o, "warnings", &warnings);
    for (size_t n = 0; warnings && n < json_object_array_length(warnings); n++)
        kx_warn("%s", json_object_get_string(json_object_array_get_idx(warnings, n)));
    if (kx_json_str(o, "error", NULL)) {
        kx_err((kxl_errcode)kx_json_int(o, "code", KXL_ERR_INTERNAL), "%s",
               kx_json_str(o, "error", ""));
        return -1;
    }
    const char *k = kx_json_str(o, "kernel", NULL), *i = kx_json_str(o, "initrd", NULL);
    const char *c = kx_json_str(o, "cmdline", NULL), *t = kx_json_str(o, "title", NULL);
    e->kernel = k ? kx_strdup(k) : NULL;
    e->initrd = i ? kx_strdup(i) : NULL;
    e->cmdline = c ? kx_strdup(c) : NULL;
    e->title = t ? kx_strdup(t) : NULL;
    if (!e->kernel) {
        kx_err(KXL_ERR_INTERNAL, "the bootloader process named no kernel");
        return -1;
    }
    return 0;
}

static int extract_as(const char *user, const char *image, int fd, const char *out_dir,
                      kx_bootentry *e)
{
    struct passwd pw, *found = NULL;
    char pwbuf[4096];
    if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &found) != 0 || !found || !found->pw_uid) {
        kx_err(KXL_ERR_INTERNAL, "no unprivileged user '%s' to read disks as", user);
        return -1;
    }
    AUTOFREE char *tmp = kx_path_join(out_dir, ".bootloader-XXXXXX");
    int pipefd[2] = {-1, -1};
    if (!mkdtemp(tmp) || chown(tmp, found->pw_uid, found->pw_gid) < 0 ||
        pipe2(pipefd, O_CLOEXEC) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot prepare '%s' for the bootloader", tmp);
        rmdir(tmp);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        extract_child(found->pw_uid, found->pw_gid, image, fd, tmp, pipefd[1]);
    }
    close(pipefd[1]);
    kx_buf out = KX_BUF_INIT;
    kx_read_all(pipefd[0], &out, TEXT_MAX);   /* the child is the guest's reader: bounded */
    close(pipefd[0]);
    while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    int r = pid > 0 ? read_outcome(kx_buf_str(&out), e) : -1;
    if (pid < 0)
        kx_err_errno(KXL_ERR_INTERNAL, "cannot fork the bootloader");
    if (r == 0 && (adopt_output(tmp, out_dir, "vmlinuz", found->pw_uid, true) < 0 ||
                   adopt_output(tmp, out_dir, "initrd.img", found->pw_uid, e->initrd) < 0))
        r = -1;
    kx_buf_dispose(&out);
    kx_rm_dir_flat(tmp);
    return r;
}

int bootloader_extract_as(const char *user, const char *image, const char *format,
                          const char *out_dir, kx_bootentry *e_r)
{
    bl_raw raw = {.pid = -1};
    int r = -1;
    kx_bootentry_dispose(e_r);
    initialize_ext2_error_table();
    if (kx_mkdir_p(out_dir, 0755) == 0 && raw_open(&raw, image, format, out_dir) == 0) {
        AUTOCLOSE int fd = open(raw.path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL,
                         "disk '%s': cannot open it", image);
        else
            r = user ? extract_as(user, image, fd, out_dir, e_r)
                     : extract(image, fd, out_dir, e_r);
    }
    raw_close(&raw);
    if (r < 0)
        kx_bootentry_dispose(e_r);
    return r;
}

int bootloader_extract(const char *image, const char *format, const char *out_dir,
                       kx_bootentry *e_r)
{
    return bootloader_extract_as(NULL, image, format, out_dir, e_r);
}
