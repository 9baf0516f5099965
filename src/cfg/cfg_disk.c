/* cfg_disk.c - parses xl disk specs (xl-disk-configuration(5)) into kxl_disk, and
 * virtual device names (xvda, hdc, sdb, vdb; xen-vbd-interface(7)) into a bus and an
 * index. Pure: no I/O. */
#include "cfg/cfg_spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

/* ---- virtual device names ---------------------------------------------------------------- */

/* Xen's largest disk number (the 1 << 28 encoding has 20 bits for it), and partition. */
#define VDEV_MAX_INDEX ((1 << 20) - 1)
#define VDEV_MAX_PARTITION 255

static const struct vdev_prefix {
    const char *prefix;
    kxl_disk_bus bus;
    int max_index;        /* hd has four places: hda..hdd */
} vdev_prefixes[] = {
    {"xvd", KXL_DISK_BUS_VIRTIO, VDEV_MAX_INDEX},
    {"hd", KXL_DISK_BUS_IDE, 3},
    {"sd", KXL_DISK_BUS_SCSI, VDEV_MAX_INDEX},
    {"vd", KXL_DISK_BUS_VIRTIO, VDEV_MAX_INDEX},
};

/* "a" -> 0, "z" -> 25, "aa" -> 26, as xen-vbd-interface(7) counts (xvdtq is disk 536).
 * Returns the number of letters read; *index_r is -1 when it grows past VDEV_MAX_INDEX. */
static size_t vdev_letters(const char *s, int *index_r)
{
    long idx = 0;
    size_t n = 0;
    for (; s[n] >= 'a' && s[n] <= 'z'; n++) {
        if (idx <= VDEV_MAX_INDEX + 1)
            idx = idx * 26 + (s[n] - 'a' + 1);
    }
    *index_r = idx - 1 <= VDEV_MAX_INDEX ? (int)(idx - 1) : -1;
    return n;
}

static int vdev_unknown(const char *vdev, const char *where)
{
    if (vdev[0] == 'd' && vdev[1] >= '0' && vdev[1] <= '9') {
        kx_err(KXL_ERR_CONFIG, "%s: vdev '%s': the d<N>p<P> form is not supported "
               "(name the disk xvda, xvdb, ...)", where, vdev);
    } else if (vdev[0] >= '0' && vdev[0] <= '9') {
        kx_err(KXL_ERR_CONFIG, "%s: vdev '%s': numeric device numbers are not supported "
               "(name the disk xvda, xvdb, ...)", where, vdev);
    } else {
        kx_err(KXL_ERR_CONFIG, "%s: unknown vdev '%s' (use xvdX, hdX, sdX or vdX, "
               "e.g. xvda)", where, vdev);
    }
    return -1;
}

/* A partition number after the disk's letters: 1 to VDEV_MAX_PARTITION, no leading zero. */
static int vdev_partition(const char *rest, const char *vdev, const char *where)
{
    char *end;
    unsigned long n = strtoul(rest, &end, 10);
    if (*end || rest[0] == '0' || n < 1 || n > VDEV_MAX_PARTITION) {
        kx_err(KXL_ERR_CONFIG, "%s: vdev '%s': partition '%s' must be 1 to %d", where, vdev,
               rest, VDEV_MAX_PARTITION);
        return -1;
    }
    return (int)n;
}

/* Maps xvdX (virtio), hdX (ide, hda..hdd), sdX (scsi) and vdX (virtio) to a bus and
 * an index (a=0, z=25, aa=26); xen-tools' partition names (xvda2) to their disk's index,
 * the partition's number and the virtio bus. Returns 0, or -1 with kx_err set. */
int cfg_vdev_parse(const char *vdev, const char *where, kxl_disk_bus *bus_r, int *index_r,
                   int *partition_r)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(vdev_prefixes); i++) {
        const struct vdev_prefix *p = &vdev_prefixes[i];
        if (!kx_startswith(vdev, p->prefix))
            continue;
        size_t plen = strlen(p->prefix);
        int index;
        size_t n = vdev_letters(vdev + plen, &index);
        const char *rest = vdev + plen + n;
        if (n == 0 || (*rest && strspn(rest, "0123456789") != strlen(rest)))
            break;
        int partition = *rest ? vdev_partition(rest, vdev, where) : 0;
        if (partition < 0)
            return -1;
        if (index < 0 || index > p->max_index) {
            if (p->bus == KXL_DISK_BUS_IDE)
                kx_err(KXL_ERR_CONFIG, "%s: vdev '%s': IDE has only hda, hdb, hdc and hdd "
                       "(use xvdX for more disks)", where, vdev);
            else
                kx_err(KXL_ERR_CONFIG, "%s: vdev '%s': disk number too large (at most %d)",
                       where, vdev, p->max_index);
            return -1;
        }
        /* a partition of a Xen disk is a virtio disk of its own on KVM */
        *bus_r = partition ? KXL_DISK_BUS_VIRTIO : p->bus;
        *index_r = index;
        *partition_r = partition;
        return 0;
    }
    return vdev_unknown(vdev, where);
}

/* ---- disk specs -------------------------------------------------------------------------- */

/* The parameters of a spec; each may be given once (xl-disk-configuration(5)). */
enum {
    P_TARGET = 1 << 0,
    P_FORMAT = 1 << 1,
    P_VDEV = 1 << 2,
    P_ACCESS = 1 << 3,
    P_DEVTYPE = 1 << 4,
    P_BACKENDTYPE = 1 << 5,
    P_SPECIFICATION = 1 << 6,
    P_DISCARD = 1 << 7,
    P_DIRECT_IO_SAFE = 1 << 8,
    P_SCRIPT = 1 << 9,
    P_BACKEND = 1 << 10,
};

typedef struct {
    const char *where;
    const char *spec;
    kxl_disk *d;
    unsigned given;          /* P_* bits seen so far */
    bool legacy;             /* a deprecated prefix: positionals are target,vdev,access */
    bool virtio_spec;        /* specification=virtio */
} disk_ctx;

static void disk_err(const disk_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void disk_err(const disk_ctx *c, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    kx_err(KXL_ERR_CONFIG, "%s: disk '%s': %s", c->where, c->spec, kx_buf_str(&b));
    kx_buf_dispose(&b);
}

static int set_target(disk_ctx *c, const char *v)
{
    free(c->d->target);
    c->d->target = *v ? kx_strdup(v) : NULL;
    return 0;
}

/* True for "xvda", "hdc1", ...: a prefix of vdev_prefixes followed by a letter. */
static bool looks_like_vdev(const char *s)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(vdev_prefixes); i++) {
        size_t n = strlen(vdev_prefixes[i].prefix);
        if (strncmp(s, vdev_prefixes[i].prefix, n) == 0 && s[n] >= 'a' && s[n] <= 'z')
            return true;
    }
    return false;
}

static int set_format(disk_ctx *c, const char *v)
{
    int f = *v ? kxl_disk_format_from_string(v) : KXL_DISK_FMT_RAW;
    if (f < 0 && looks_like_vdev(v)) {
        /* "/x,xvda,w": the old target,vdev,access order needs a prefix such as file: */
        disk_err(c, "unknown format '%s': the second item is the format (write "
                 "'TARGET,,%s,...' or use a prefix such as 'file:')", v, v);
        return -1;
    }
    if (f < 0) {
        disk_err(c, "unknown format '%s' (use raw, qcow2, qcow, vhd or empty)", v);
        return -1;
    }
    c->d->format = (kxl_disk_format)f;
    return 0;
}

/* "hdc" or the deprecated "hdc:cdrom". */
static int set_vdev(disk_ctx *c, const char *v)
{
    const char *colon = strchr(v, ':');
    if (colon && strcmp(colon + 1, "cdrom") != 0) {
        disk_err(c, "unknown device type '%s' in vdev '%s' (only ':cdrom' is known)",
                 colon + 1, v);
        return -1;
    }
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    free(c->d->vdev);
    c->d->vdev = n ? kx_strndup(v, n) : NULL;
    if (colon)
        c->d->cdrom = true;
    if (!c->d->vdev)
        return 0;
    AUTOFREE char *where = kx_asprintf("%s: disk '%s'", c->where, c->spec);
    return cfg_vdev_parse(c->d->vdev, where, &c->d->bus, &c->d->index, &c->d->partition);
}

static int set_access(disk_ctx *c, const char *v)
{
    if (!*v || strcmp(v, "rw") == 0 || strcmp(v, "w") == 0) {
        c->d->readonly = false;
    } else if (strcmp(v, "ro") == 0 || strcmp(v, "r") == 0) {
        c->d->readonly = true;
    } else {
        disk_err(c, "unknown access mode '%s' (use r, ro, w or rw)", v);
        return -1;
    }
    return 0;
}

static int set_devtype(disk_ctx *c, const char *v)
{
    if (*v && strcmp(v, "cdrom") != 0) {
        disk_err(c, "unknown devtype '%s' (only 'cdrom' is known)", v);
        return -1;
    }
    c->d->cdrom = *v != '\0';
    return 0;
}

static int set_backendtype(disk_ctx *c, const char *v)
{
    static const struct { const char *name; kxl_disk_backend backend; } types[] = {
        {"", KXL_DISK_BACKEND_AUTO},
        {"phy", KXL_DISK_BACKEND_PHY},
        {"qdisk", KXL_DISK_BACKEND_QDISK},
        {"tap", KXL_DISK_BACKEND_TAP},
    };
    for (size_t i = 0; i < KX_ARRAY_SIZE(types); i++) {
        if (strcmp(v, types[i].name) == 0) {
            c->d->backend = types[i].backend;
            return 0;
        }
    }
    disk_err(c, "unknown backendtype '%s' (use phy, qdisk or tap)", v);
    return -1;
}

static int set_specification(disk_ctx *c, const char *v)
{
    if (*v && strcmp(v, "xen") != 0 && strcmp(v, "virtio") != 0) {
        disk_err(c, "unknown specification '%s' (use xen or virtio)", v);
        return -1;
    }
    c->virtio_spec = strcmp(v, "virtio") == 0;
    return 0;
}

static int set_discard(disk_ctx *c, const char *v)
{
    c->d->discard = strcmp(v, "on") == 0;
    return 0;
}

static int set_nothing(disk_ctx *c, const char *v)
{
    (void)c;
    (void)v;
    return 0;
}

static int set_script(disk_ctx *c, const char *v)
{
    (void)v;
    disk_err(c, "script= is not supported (kxl runs no block scripts; give the device or "
             "image path as target)");
    return -1;
}

static int set_backend(disk_ctx *c, const char *v)
{
    (void)v;
    disk_err(c, "backend= is not supported on KVM (there are no driver domains)");
    return -1;
}

/* Named parameters ("key=value") and flags (a bare word, set to flag_value). */
static const struct disk_param {
    const char *name;
    unsigned bit;
    int (*set)(disk_ctx *c, const char *v);
    const char *flag_value;  /* non-NULL: a flag */
    const char *what;        /* the parameter, for "given more than once" */
} disk_params[] = {
    {"access", P_ACCESS, set_access, NULL, "'access'"},
    {"backend", P_BACKEND, set_backend, NULL, "'backend'"},
    {"backendtype", P_BACKENDTYPE, set_backendtype, NULL, "'backendtype'"},
    {"cdrom", P_DEVTYPE, set_devtype, "cdrom", "'devtype' (or 'cdrom')"},
    {"devtype", P_DEVTYPE, set_devtype, NULL, "'devtype' (or 'cdrom')"},
    {"direct-io-safe", P_DIRECT_IO_SAFE, set_nothing, "", "'direct-io-safe'"},
    {"discard", P_DISCARD, set_discard, "on", "'discard' or 'no-discard'"},
    {"format", P_FORMAT, set_format, NULL, "'format'"},
    {"no-discard", P_DISCARD, set_discard, "off", "'discard' or 'no-discard'"},
    {"script", P_SCRIPT, set_script, NULL, "'script'"},
    {"specification", P_SPECIFICATION, set_specification, NULL, "'specification'"},
    {"target", P_TARGET, set_target, NULL, "'target'"},
    {"vdev", P_VDEV, set_vdev, NULL, "'vdev'"},
};

/* Positional parameters, in order; slot i is given when bit 1 << i is. */
static const char *const disk_positional[] = {"target", "format", "vdev", "access"};
_Static_assert(P_TARGET == 1 << 0 && P_FORMAT == 1 << 1 && P_VDEV == 1 << 2 &&
               P_ACCESS == 1 << 3, "positional slot i must be parameter bit 1 << i");

static const struct disk_param *disk_param_find(const char *name, size_t len, bool flag)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(disk_params); i++) {
        const struct disk_param *p = &disk_params[i];
        if (strlen(p->name) == len && strncmp(p->name, name, len) == 0 &&
            (p->flag_value != NULL) == flag)
            return p;
    }
    return NULL;
}

static int disk_apply(disk_ctx *c, const struct disk_param *p, const char *v)
{
    /* target= may replace an empty positional target (xl-disk-configuration(5)) */
    bool empty_target = p->bit == P_TARGET && !c->d->target;
    if ((c->given & p->bit) && !empty_target) {
        disk_err(c, "%s is given more than once", p->what);
        return -1;
    }
    c->given |= p->bit;
    return p->set(c, v);
}

/* ---- deprecated prefixes: tap:aio:/x, phy:/dev/x, qcow2:/x, ... -------------------------- */

enum { PFX_IGNORED, PFX_FORMAT, PFX_BACKEND, PFX_SCRIPT };

static const struct legacy_prefix {
    const char *name;
    int kind;
    int value;               /* kxl_disk_format or kxl_disk_backend */
} legacy_prefixes[] = {
    {"aio", PFX_FORMAT, KXL_DISK_FMT_RAW},
    {"drbd", PFX_SCRIPT, 0},
    {"enbd", PFX_SCRIPT, 0},
    {"file", PFX_BACKEND, KXL_DISK_BACKEND_FILE},
    {"ioemu", PFX_IGNORED, 0},
    {"iscsi", PFX_SCRIPT, 0},
    {"nbd", PFX_SCRIPT, 0},
    {"phy", PFX_BACKEND, KXL_DISK_BACKEND_PHY},
    {"qcow", PFX_FORMAT, KXL_DISK_FMT_QCOW},
    {"qcow2", PFX_FORMAT, KXL_DISK_FMT_QCOW2},
    {"raw", PFX_FORMAT, KXL_DISK_FMT_RAW},
    {"tap", PFX_BACKEND, KXL_DISK_BACKEND_TAP},
    {"tap2", PFX_BACKEND, KXL_DISK_BACKEND_TAP},
    {"tapdisk", PFX_BACKEND, KXL_DISK_BACKEND_TAP},
    {"vhd", PFX_FORMAT, KXL_DISK_FMT_VHD},
};

static const struct legacy_prefix *legacy_prefix_find(const char *s, size_t n)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(legacy_prefixes); i++)
        if (strlen(legacy_prefixes[i].name) == n && strncmp(legacy_prefixes[i].name, s, n) == 0)
            return &legacy_prefixes[i];
    return NULL;
}

/* Strips the prefixes of a positional target, applying what they mean; any
 * prefix makes the positionals target,vdev,access as in xend. Later prefixes
 * win, so tap:aio:qcow2:/x is a qcow2 image. */
static int disk_strip_prefixes(disk_ctx *c, const char **tok)
{
    const char *t = *tok;
    for (;;) {
        size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (n == 0 || t[n] != ':' || t[0] < 'a' || t[0] > 'z')
            break;
        const struct legacy_prefix *p = legacy_prefix_find(t, n);
        if (!p) {
            disk_err(c, "unknown prefix '%.*s:' (known: aio, file, phy, qcow, qcow2, raw, tap, "
                     "tap2, tapdisk, vhd; a path with ':' needs target=PATH, last)", (int)n, t);
            return -1;
        }
        if (p->kind == PFX_SCRIPT) {
            disk_err(c, "prefix '%s:' asks for the block-%s script, but kxl runs no block "
                     "scripts", p->name, p->name);
            return -1;
        }
        if (p->kind == PFX_FORMAT)
            c->d->format = (kxl_disk_format)p->value;
        else if (p->kind == PFX_BACKEND)
            c->d->backend = (kxl_disk_backend)p->value;
        c->legacy = true;
        t += n + 1;
    }
    *tok = t;
    return 0;
}

/* ---- the spec ---------------------------------------------------------------------------- */

/* A parameter without '=' that is not a flag fills the first positional slot not
 * yet given: target, format, vdev, access. */
static int disk_positional_item(disk_ctx *c, const char *tok)
{
    size_t slot = 0;
    while (slot < KX_ARRAY_SIZE(disk_positional) &&
           ((c->given & (1u << slot)) || (slot == 1 && c->legacy)))
        slot++;
    if (slot == KX_ARRAY_SIZE(disk_positional)) {
        disk_err(c, "unexpected '%s' (target, format, vdev and access are all given)", tok);
        return -1;
    }
    if (slot == 0) {
        if (disk_strip_prefixes(c, &tok) < 0)
            return -1;
    } else if (slot == 1 && !c->d->target && strchr(tok, ':')) {
        /* xend's empty cdrom ",hdc:cdrom,r": no format, the vdev comes second */
        c->given |= P_FORMAT;
        slot = 2;
    }
    if (slot == 2 && kx_startswith(tok, "ioemu:"))
        tok += strlen("ioemu:");   /* xend's 'ioemu:hda' */
    const char *name = disk_positional[slot];
    return disk_apply(c, disk_param_find(name, strlen(name), false), tok);
}

static int disk_item(disk_ctx *c, const char *tok)
{
    const char *eq = strchr(tok, '=');
    if (eq) {
        const struct disk_param *p = disk_param_find(tok, (size_t)(eq - tok), false);
        if (!p) {
            disk_err(c, "unknown parameter '%.*s' (known: target, format, vdev, access, "
                     "devtype, backendtype, specification)", (int)(eq - tok), tok);
            return -1;
        }
        return disk_apply(c, p, eq + 1);
    }
    const struct disk_param *flag = disk_param_find(tok, strlen(tok), true);
    if (flag)
        return disk_apply(c, flag, flag->flag_value);
    return disk_positional_item(c, tok);
}

/* Checks what needs the whole spec and applies the defaults that depend on others. */
static int disk_finish(disk_ctx *c)
{
    kxl_disk *d = c->d;
    if (!d->vdev) {
        disk_err(c, "no vdev given (e.g. '/srv/guest.img,raw,xvda,rw' or vdev=xvda)");
        return -1;
    }
    if (!d->target) {
        if (!d->cdrom) {
            disk_err(c, "no target given (only a cdrom drive may be empty)");
            return -1;
        }
        d->format = KXL_DISK_FMT_EMPTY;
    } else if (d->format == KXL_DISK_FMT_EMPTY) {
        disk_err(c, "format 'empty' is for an empty cdrom drive, but target '%s' is given",
                 d->target);
        return -1;
    }
    if (d->cdrom)
        d->readonly = true;
    if (c->virtio_spec)
        d->bus = KXL_DISK_BUS_VIRTIO;
    return 0;
}

/* Fills *disk_r, which must own nothing yet; on failure the caller still disposes
 * it. Returns 0 or -1 with kx_err set to one line naming `where` and the spec. */
int cfg_disk_parse(const char *spec, const char *where, kxl_disk *disk_r)
{
    *disk_r = (kxl_disk){.format = KXL_DISK_FMT_RAW, .backend = KXL_DISK_BACKEND_AUTO,
                         .bus = KXL_DISK_BUS_VIRTIO, .discard = true};
    disk_ctx c = {.where = where, .spec = spec, .d = disk_r};
    AUTOFREE char *buf = kx_strdup(spec);
    char *p = buf;
    for (;;) {
        p += strspn(p, " \t");   /* whitespace before a parameter is ignored */
        if (!*p)
            break;
        if (kx_startswith(p, "target=")) {
            /* takes the rest of the spec, commas and all, so it comes last */
            const struct disk_param *target = disk_param_find("target", strlen("target"), false);
            if (disk_apply(&c, target, p + strlen("target=")) < 0)
                return -1;
            break;
        }
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (disk_item(&c, p) < 0)
            return -1;
        if (!comma)
            break;
        p = comma + 1;
    }
    return disk_finish(&c);
}
