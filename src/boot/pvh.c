/* pvh.c - the ELF kernel inside a bzImage, unpacked once and cached, so that QEMU boots it at
 * its PVH entry point (see pvh.h for why). The parsing and decompression are pure functions
 * over buffers; pvh_kernel_prepare does the file and cache I/O. */
#include "boot/pvh.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>
#include <lzma.h>
#include <nettle/sha2.h>
#include <zlib.h>
#include <zstd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

#define PVH_MAX_KERNEL (1024u * 1024 * 1024)
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u * 1024 * 1024)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* A buffer of tens of MiB, filled once: with transparent huge pages the kernel faults it in
 * 2 MiB at a time instead of 4 KiB (13,000 faults for a 53 MiB kernel, 0.15 s of a cold
 * start on a paravirtualized host; 6 ms with the advice). Freed with free(). */
static uint8_t *alloc_large(size_t n)
{
    uint8_t *b = malloc(n);
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)b + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)b + n) & ~(page - 1);
    if (b && end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);   /* advice: may be ignored */
    return b;
}

int pvh_bzimage_payload(const uint8_t *img, size_t len, size_t *off_r, size_t *len_r)
{
    if (len < 0x250 || memcmp(img + 0x202, "HdrS", 4) != 0 || le16(img + 0x206) < 0x208)
        return -1;
    size_t setup_sects = img[0x1f1] ? img[0x1f1] : 4;
    size_t off = (setup_sects + 1) * 512 + le32(img + 0x248);
    size_t plen = le32(img + 0x24c);
    if (plen < 8 || off > len || plen > len - off)
        return -1;
    *off_r = off;
    *len_r = plen;
    return 0;
}

int pvh_payload_codec(const uint8_t *p, size_t len)
{
    static const struct {
        const char *magic;
        size_t len;
        pvh_codec codec;
    } magics[] = {
        {"\x1f\x8b", 2, PVH_CODEC_GZIP},
        {"\xfd" "7zXZ\0", 6, PVH_CODEC_XZ},
        {"\x5d\0\0", 3, PVH_CODEC_LZMA},
        {"\x02\x21\x4c\x18", 4, PVH_CODEC_LZ4},
        {"\x28\xb5\x2f\xfd", 4, PVH_CODEC_ZSTD},
        {"BZh", 3, PVH_CODEC_UNSUPPORTED},
        {"\x89LZO", 4, PVH_CODEC_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
        if (len >= magics[i].len && memcmp(p, magics[i].magic, magics[i].len) == 0)
            return (int)magics[i].codec;
    return -1;
}

/* Each decoder fills out[0..out_len) exactly from in[0..len) and returns 0, or -1 (the
 * caller reports). The size trailer has already been cut off in, except for gzip, whose own
 * trailer it is. */
static int unpack_gzip(const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
    z_stream z = {.next_in = (Bytef *)in, .avail_in = (uInt)len, .next_out = out,
                  .avail_out = (uInt)out_len};
    if (len > UINT_MAX || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return -1;
    int rc = inflate(&z, Z_FINISH);
    size_t got = z.total_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END && got == out_len ? 0 : -1;
}

static int unpack_xz(const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
    uint64_t memlimit = 256u << 20;
    size_t in_pos = 0, out_pos = 0;
    lzma_ret rc = lzma_stream_buffer_decode(&memlimit, 0, NULL, in, &in_pos, len, out, &out_pos,
                                            out_len);
    return rc == LZMA_OK && out_pos == out_len ? 0 : -1;
}

static int unpack_lzma(const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
    lzma_stream s = LZMA_STREAM_INIT;
    if (lzma_alone_decoder(&s, 256u << 20) != LZMA_OK)
        return -1;
    s.next_in = in;
    s.avail_in = len;
    s.next_out = out;
    s.avail_out = out_len;
    lzma_ret rc = lzma_code(&s, LZMA_FINISH);
    size_t got = (size_t)s.total_out;
    lzma_end(&s);
    return (rc == LZMA_STREAM_END || rc == LZMA_OK) && got == out_len ? 0 : -1;
}

/* The lz4 "legacy" format the kernel uses: a magic number, then blocks of (le32 compressed
 * size, data), each decompressing to at most 8 MiB; the magic may repeat between blocks. */
static int unpack_lz4(const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
    size_t pos = 0, got = 0;
    while (pos + 4 <= len) {
        uint32_t n = le32(in + pos);
        pos += 4;
        if (n == LZ4_LEGACY_MAGIC)
            continue;
        if (n == 0 || n > len - pos || n > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
            return -1;
        size_t room = out_len - got < LZ4_LEGACY_BLOCK ? out_len - got : LZ4_LEGACY_BLOCK;
        int k = LZ4_decompress_safe((const char *)in + pos, (char *)out + got, (int)n, (int)room);
        if (k < 0)
            return -1;
        got += (size_t)k;
        pos += n;
        if (got == out_len)
            break;
    }
    return got == out_len ? 0 : -1;
}

static int unpack_zstd(const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
    size_t got = ZSTD_decompress(out, out_len, in, len);
    return !ZSTD_isError(got) && got == out_len ? 0 : -1;
}

int pvh_decompress(pvh_codec codec, const uint8_t *p, size_t len, uint8_t **out_r,
                   size_t *out_len_r)
{
    static const char *const names[] = {"gzip", "xz", "lzma", "lz4", "zstd"};
    static int (*const unpack[])(const uint8_t *, size_t, uint8_t *, size_t) = {
        unpack_gzip, unpack_xz, unpack_lzma, unpack_lz4, unpack_zstd};
    if (codec >= PVH_CODEC_UNSUPPORTED) {
        kx_err(KXL_ERR_INVALID, "kernel payload: compression not supported");
        return -1;
    }
    /* No kernel compresses better than 64:1; a larger claim is corrupt (or a bomb). */
    size_t out_len = len >= 8 ? le32(p + len - 4) : 0;
    if (out_len == 0 || out_len > PVH_MAX_KERNEL || out_len > 64 * len + (16u << 20)) {
        kx_err(KXL_ERR_INVALID, "%s kernel payload: implausible size %zu", names[codec], out_len);
        return -1;
    }
    uint8_t *out = alloc_large(out_len);
    if (!out) {
        kx_err(KXL_ERR_INTERNAL, "%s kernel payload: out of memory for %zu bytes", names[codec],
               out_len);
        return -1;
    }
    size_t in_len = codec == PVH_CODEC_GZIP ? len : len - 4;
    if (unpack[codec](p, in_len, out, out_len) < 0) {
        free(out);
        kx_err(KXL_ERR_INVALID, "%s kernel payload: corrupt or not %zu bytes", names[codec],
               out_len);
        return -1;
    }
    *out_r = out;
    *out_len_r = out_len;
    return 0;
}

/* true when the notes in [p, p+len) hold Xen's PHYS32_ENTRY. */
static bool notes_have_entry(const uint8_t *p, size_t len)
{
    size_t pos = 0;
    while (len - pos >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, p + pos, sizeof(nh));
        pos += sizeof(nh);
        size_t name_sz = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
        size_t desc_sz = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
        if (name_sz > len - pos || desc_sz > len - pos - name_sz)
            return false;
        if (nh.n_namesz == 4 && memcmp(p + pos, "Xen", 4) == 0 &&
            nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY)
            return true;
        pos += name_sz + desc_sz;
    }
    return false;
}

bool pvh_elf_has_entry(const uint8_t *img, size_t len)
{
    Elf64_Ehdr eh;
    if (len < sizeof(eh))
        return false;
    memcpy(&eh, img, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 ||
        eh.e_type != ET_EXEC || eh.e_phentsize != sizeof(Elf64_Phdr))
        return false;
    if (eh.e_phoff > len || (len - eh.e_phoff) / sizeof(Elf64_Phdr) < eh.e_phnum)
        return false;
    for (size_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_NOTE || ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
            continue;
        if (notes_have_entry(img + ph.p_offset, ph.p_filesz))
            return true;
    }
    return false;
}

/* ---- the cache ---------------------------------------------------------------------------- */

/* nettle's SHA-256 uses the CPU's SHA instructions where it has them: 10 ms for a 14 MiB
 * kernel here, where libmd's took 50-110 ms of every cold start */
static char *sha256_hex(const uint8_t *p, size_t len)
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, p);
    sha256_digest(&ctx, sizeof(digest), digest);
    char hex[2 * SHA256_DIGEST_SIZE + 1];
    for (size_t i = 0; i < sizeof(digest); i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return kx_strdup(hex);
}

/* The kernel file whole, read at its size into a large buffer (see alloc_large). */
static uint8_t *read_image(const char *path, size_t *len_r)
{
    AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        kx_err_errno(errno == ENOENT ? KXL_ERR_NOT_FOUND : KXL_ERR_INTERNAL, "cannot read '%s'",
                     path);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0) {
        kx_err(KXL_ERR_INVALID, "the kernel '%s' is empty or not a regular file", path);
        return NULL;
    }
    if ((uint64_t)st.st_size > PVH_MAX_KERNEL) {
        kx_err(KXL_ERR_INVALID, "the kernel '%s' is larger than 1 GiB: is it a kernel?", path);
        return NULL;
    }
    size_t len = (size_t)st.st_size, got = 0;
    uint8_t *img = alloc_large(len);
    while (img && got < len) {
        ssize_t n = read(fd, img + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {   /* an error, or the file shrank under us */
            kx_err_errno(KXL_ERR_INTERNAL, "cannot read '%s'", path);
            free(img);
            return NULL;
        }
        got += (size_t)n;
    }
    if (!img)
        kx_err(KXL_ERR_INTERNAL, "kernel '%s': out of memory for %zu bytes", path, len);
    *len_r = len;
    return img;
}

/* Writes an unpacked kernel to path through a temporary file, synced before the rename: a
 * cache entry is either whole or absent, even after a host crash. The temporary name starts
 * with a dot, so a trim running meanwhile (another create) never counts it as an entry. */
static int cache_store(const char *path, const uint8_t *data, size_t len)
{
    const char *base = strrchr(path, '/');
    AUTOFREE char *tmp = base ? kx_asprintf("%.*s/.%s.XXXXXX", (int)(base - path), path, base + 1)
                              : kx_asprintf(".%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create a file in the kernel cache '%s'", tmp);
        return -1;
    }
    if (fchmod(fd, 0600) < 0 || kx_write_all(fd, (const char *)data, len) < 0 || fsync(fd) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot write '%s'", tmp);
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot rename '%s' to '%s'", tmp, path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

typedef struct {
    char *name;
    struct timespec mtime;
} cache_entry;

static int by_newest(const void *a, const void *b)
{
    const struct timespec *x = &((const cache_entry *)a)->mtime;
    const struct timespec *y = &((const cache_entry *)b)->mtime;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec > y->tv_sec ? -1 : 1;
    return x->tv_nsec > y->tv_nsec ? -1 : x->tv_nsec < y->tv_nsec;
}

/* Cache entries are HASH.elf and HASH.none; anything else is not the trim's to count. */
static bool is_entry_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcmp(name + n - 4, ".elf") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".none") == 0);
}

/* Removes all but the PVH_CACHE_KEEP most recently used entries. Best effort: a cache that
 * cannot be trimmed only costs disk space. */
static void cache_trim(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    cache_entry e[64];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < sizeof(e) / sizeof(e[0])) {
        struct stat st;
        bool link = strncmp(de->d_name, ".stat-", 6) == 0;
        if (link && fstatat(dirfd(d), de->d_name, &st, 0) < 0)
            unlinkat(dirfd(d), de->d_name, 0);   /* its entry is gone */
        if (de->d_name[0] == '.' || !is_entry_name(de->d_name) ||
            fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
            continue;
        e[n++] = (cache_entry){kx_strdup(de->d_name), st.st_mtim};
    }
    qsort(e, n, sizeof(e[0]), by_newest);
    for (size_t i = 0; i < n; i++) {
        if (i >= PVH_CACHE_KEEP)
            unlinkat(dirfd(d), e[i].name, 0);
        free(e[i].name);
    }
    closedir(d);
}

/* The answer for a kernel already seen: 1 for a cached ELF, 0 for a kernel known not to
 * boot that way (an empty ".none" file), -1 when it has not been seen. */
static int cache_lookup(const char *elf, const char *none)
{
    if (utimensat(AT_FDCWD, elf, NULL, 0) == 0)
        return 1;
    return utimensat(AT_FDCWD, none, NULL, 0) == 0 ? 0 : -1;
}

/* Unpacks the kernel of a bzImage into the cache: 1 done, 0 not possible (*why_r), -1 error. */
static int cache_fill(const uint8_t *img, size_t len, const char *elf, const char *none,
                      char **why_r)
{
    size_t off, plen;
    if (pvh_bzimage_payload(img, len, &off, &plen) < 0) {
        *why_r = kx_strdup("it is neither a bzImage nor an ELF kernel with a PVH note");
        return 0;
    }
    int codec = pvh_payload_codec(img + off, plen);
    if (codec < 0 || codec == PVH_CODEC_UNSUPPORTED) {
        *why_r = kx_strdup("its compression is not one kxl unpacks (gzip, xz, lzma, lz4, zstd)");
        return 0;
    }
    AUTOFREE uint8_t *vmlinux = NULL;
    size_t vlen = 0;
    if (pvh_decompress((pvh_codec)codec, img + off, plen, &vmlinux, &vlen) < 0) {
        *why_r = kx_strdup(kx_err_msg());
        return 0;
    }
    if (!pvh_elf_has_entry(vmlinux, vlen)) {
        *why_r = kx_strdup("it has no PVH entry point (a kernel built without CONFIG_PVH)");
        return cache_store(none, (const uint8_t *)"", 0) < 0 ? -1 : 0;
    }
    return cache_store(elf, vmlinux, vlen) < 0 ? -1 : 1;
}

/* The name of the link that maps a kernel file, as it is now, to its cache entry: hashing
 * 14 MiB takes longer than the rest of starting a domain, so a file seen before is known by
 * its identity (device, inode, size, mtime and ctime in ns; any write changes the times). */
static char *stat_link(const char *cache_dir, const struct stat *st)
{
    return kx_asprintf("%s/.stat-%llx-%llx-%llx-%lld.%09ld-%lld.%09ld", cache_dir,
                       (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
                       (unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec,
                       st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/* The entry a stat link points at ("HASH.elf" or "HASH.none"), as a path; NULL if none. */
static char *stat_lookup(const char *cache_dir, const char *link)
{
    char target[128];
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0 || memchr(target, '/', (size_t)n))
        return NULL;
    target[n] = '\0';
    return kx_path_join(cache_dir, target);
}

static const char no_pvh[] = "it has no PVH entry point (a kernel built without CONFIG_PVH)";

/* Hashes the kernel and finds or makes its cache entry; *entry_r is the entry's path. */
static int prepare_by_content(const uint8_t *img, size_t len, const char *cache_dir,
                              char **entry_r, char **why_r)
{
    AUTOFREE char *hash = sha256_hex(img, len);
    AUTOFREE char *elf = kx_asprintf("%s/%s.elf", cache_dir, hash);
    AUTOFREE char *none = kx_asprintf("%s/%s.none", cache_dir, hash);
    int rc = cache_lookup(elf, none);
    if (rc == 0)
        *why_r = kx_strdup(no_pvh);
    if (rc < 0) {
        if (kx_mkdir_p(cache_dir, 0700) < 0)
            return -1;
        rc = cache_fill(img, len, elf, none, why_r);
        cache_trim(cache_dir);
    }
    if (rc >= 0 && kx_path_exists(rc == 1 ? elf : none))
        *entry_r = kx_strdup(rc == 1 ? elf : none);
    return rc;
}

int pvh_kernel_prepare(const char *kernel, const char *cache_dir, char **elf_r, char **why_r)
{
    *elf_r = NULL;
    *why_r = NULL;
    struct stat st;
    if (stat(kernel, &st) < 0) {
        kx_err_errno(KXL_ERR_NOT_FOUND, "cannot read '%s'", kernel);
        return -1;
    }
    AUTOFREE char *link = stat_link(cache_dir, &st);
    AUTOFREE char *known = stat_lookup(cache_dir, link);
    if (known && utimensat(AT_FDCWD, known, NULL, 0) == 0) {
        size_t n = strlen(known);
        bool is_elf = n > 4 && strcmp(known + n - 4, ".elf") == 0;
        if (!is_elf)
            *why_r = kx_strdup(no_pvh);
        *elf_r = is_elf ? TAKE_PTR(known) : NULL;
        return is_elf ? 1 : 0;
    }
    /* the slow way (70-80 ms for a 14 MiB kernel on a slow host): said, for who times a boot */
    kx_info("pvh: '%s' not seen as it is now (new, or its inode or times changed): hashing it "
            "to find its PVH cache entry", kernel);
    size_t len = 0;
    AUTOFREE uint8_t *img = read_image(kernel, &len);
    if (!img)
        return -1;
    if (pvh_elf_has_entry(img, len)) {
        *elf_r = kx_strdup(kernel);
        return 1;
    }
    AUTOFREE char *entry = NULL;
    int rc = prepare_by_content(img, len, cache_dir, &entry, why_r);
    if (entry) {
        unlink(link);
        if (symlink(strrchr(entry, '/') + 1, link) < 0)
            kx_debug("cannot link '%s': %s", link, strerror(errno));
    }
    if (rc == 1)
        *elf_r = TAKE_PTR(entry);
    return rc;
}
