/* image_opts.c - create-image's options: a table of xen-create-image's long options, each
 * mapped onto a field of image_opts with the parser its value must pass; then the defaults
 * that come from the host and the checks of the options against each other. */
#include "image/image_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

#define MIB_MAX (16ULL << 20) /* 16 TiB */

void image_opts_init(image_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->arch = kx_strdup("amd64");
    o->size_mib = 4096;
    o->swap_mib = 256;
    o->memory_mib = 512;
    o->vcpus = 1;
    o->fs = kx_strdup("ext4");
    o->format = IMG_FORMAT_RAW;
    o->method = IMG_INSTALL_DEBOOTSTRAP;
    o->cancel_fd = -1;
}

void image_opts_dispose(image_opts *o)
{
    char **strs[] = {&o->hostname, &o->dist, &o->arch, &o->mirror, &o->fs, &o->dir, &o->lvm,
                     &o->ip, &o->gateway, &o->nameserver, &o->bridge, &o->mac, &o->password,
                     &o->hash, &o->ssh_key, &o->role, &o->source, &o->output, &o->lib_dir};
    if (o->password)
        explicit_bzero(o->password, strlen(o->password));
    for (size_t i = 0; i < KX_ARRAY_SIZE(strs); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

/* ---- value parsers ---- */

/* "4gb", "512M", "2GiB", "1024" (MiB) -> MiB. */
static int parse_mib(const char *opt, const char *v, bool allow_none, uint64_t *mib_r)
{
    if (allow_none && (strcmp(v, "none") == 0 || strcmp(v, "0") == 0)) {
        *mib_r = 0;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    static const struct { const char *unit; int shift; } units[] = {
        {"", 20}, {"k", 10}, {"kb", 10}, {"kib", 10}, {"m", 20}, {"mb", 20}, {"mib", 20},
        {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40}, {"tb", 40}, {"tib", 40},
    };
    bool number = end != v && !errno && isdigit((unsigned char)*v);
    int shift = -1;
    for (size_t i = 0; i < KX_ARRAY_SIZE(units) && number; i++)
        if (strcasecmp(end, units[i].unit) == 0)
            shift = units[i].shift;
    if (shift < 0) {
        kx_err(KXL_ERR_INVALID, "--%s '%s': not a size (e.g. 512mb, 4gb)", opt, v);
        return -1;
    }
    unsigned long long bytes_max = MIB_MAX << 20;
    if (n > (bytes_max >> shift)) {
        kx_err(KXL_ERR_INVALID, "--%s '%s': too large (at most 16tb)", opt, v);
        return -1;
    }
    unsigned long long bytes = n << shift;
    if (bytes % (1 << 20) != 0) {
        kx_err(KXL_ERR_INVALID, "--%s '%s': not a whole number of MiB", opt, v);
        return -1;
    }
    *mib_r = bytes >> 20;
    return 0;
}

static bool is_ipv4(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

static int parse_prefix(const char *opt, const char *v, unsigned *prefix_r)
{
    struct in_addr a;
    char *end;
    const char *n = v[0] == '/' ? v + 1 : v;
    unsigned long p = strtoul(n, &end, 10);
    if (*n && !*end && end != n && p >= 1 && p <= 32) {
        *prefix_r = (unsigned)p;
        return 0;
    }
    if (inet_pton(AF_INET, v, &a) == 1) {
        uint32_t m = ntohl(a.s_addr);
        unsigned bits = 0;
        while (bits < 32 && (m & (0x80000000u >> bits)))
            bits++;
        if (bits > 0 && (bits == 32 || (m << bits) == 0)) {
            *prefix_r = bits;
            return 0;
        }
    }
    kx_err(KXL_ERR_INVALID, "--%s '%s': not a netmask (e.g. 255.255.255.0 or /24)", opt, v);
    return -1;
}

/* ---- the options ---- */

typedef enum { OPT_STR, OPT_MIB, OPT_FLAG, OPT_FN } opt_type;

typedef struct image_option {
    const char *name;
    opt_type type;
    size_t off;                 /* the field in image_opts */
    int (*fn)(image_opts *o, const char *v);
    bool none_ok;               /* OPT_MIB: 0 or "none" allowed */
    bool no_value;              /* OPT_FN: a flag */
} image_option;

static int set_vcpus(image_opts *o, const char *v)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (!isdigit((unsigned char)*v) || *end || n < 1 || n > 255) {
        kx_err(KXL_ERR_INVALID, "--vcpus '%s': not a number from 1 to 255", v);
        return -1;
    }
    o->vcpus = (unsigned)n;
    return 0;
}

static int set_image(image_opts *o, const char *v)
{
    if (strcmp(v, "sparse") != 0 && strcmp(v, "full") != 0) {
        kx_err(KXL_ERR_INVALID, "--image '%s': use sparse or full", v);
        return -1;
    }
    o->full = strcmp(v, "full") == 0;
    return 0;
}

static int set_format(image_opts *o, const char *v)
{
    if (strcmp(v, "raw") != 0 && strcmp(v, "qcow2") != 0) {
        kx_err(KXL_ERR_INVALID, "--format '%s': use raw or qcow2", v);
        return -1;
    }
    o->format = strcmp(v, "qcow2") == 0 ? IMG_FORMAT_QCOW2 : IMG_FORMAT_RAW;
    return 0;
}

static int set_ip(image_opts *o, const char *v)
{
    if (o->ip) {
        kx_err(KXL_ERR_INVALID, "--ip is given more than once (kxl configures one address)");
        return -1;
    }
    const char *slash = strchr(v, '/');
    AUTOFREE char *addr = slash ? kx_strndup(v, (size_t)(slash - v)) : kx_strdup(v);
    if (!is_ipv4(addr)) {
        kx_err(KXL_ERR_INVALID, "--ip '%s': not an IPv4 address (e.g. 192.0.2.10 or "
               "192.0.2.10/24)", v);
        return -1;
    }
    unsigned prefix = 0;
    if (slash && parse_prefix("ip", slash, &prefix) < 0)
        return -1;
    if (slash && o->prefix && o->prefix != prefix) {
        kx_err(KXL_ERR_INVALID, "--ip '%s' and --netmask disagree about the prefix", v);
        return -1;
    }
    if (slash)
        o->prefix = prefix;
    o->ip = TAKE_PTR(addr);
    return 0;
}

static int set_netmask(image_opts *o, const char *v)
{
    unsigned prefix;
    if (parse_prefix("netmask", v, &prefix) < 0)
        return -1;
    if (o->prefix && o->prefix != prefix) {
        kx_err(KXL_ERR_INVALID, "--netmask '%s' and --ip disagree about the prefix", v);
        return -1;
    }
    o->prefix = prefix;
    return 0;
}

static int set_gateway(image_opts *o, const char *v)
{
    if (!is_ipv4(v)) {
        kx_err(KXL_ERR_INVALID, "--gateway '%s': not an IPv4 address", v);
        return -1;
    }
    free(o->gateway);
    o->gateway = kx_strdup(v);
    return 0;
}

/* "--nameserver '192.0.2.1 192.0.2.2'", "a,b" or the option given several times. */
static int set_nameserver(image_opts *o, const char *v)
{
    kx_buf b = KX_BUF_INIT;
    if (o->nameserver)
        kx_buf_add(&b, o->nameserver);
    AUTOFREE char *copy = kx_strdup(v);
    for (char *save = NULL, *a = strtok_r(copy, " ,", &save); a; a = strtok_r(NULL, " ,", &save)) {
        struct in6_addr a6;
        if (!is_ipv4(a) && inet_pton(AF_INET6, a, &a6) != 1) {
            kx_err(KXL_ERR_INVALID, "--nameserver '%s': not an IP address", a);
            kx_buf_dispose(&b);
            return -1;
        }
        kx_buf_printf(&b, "%s%s", b.len ? " " : "", a);
    }
    free(o->nameserver);
    o->nameserver = b.len ? kx_buf_steal(&b) : NULL;
    return 0;
}

static int set_mac(image_opts *o, const char *v)
{
    unsigned m[6];
    char tail;
    if (strlen(v) != 17 || sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3],
                                  &m[4], &m[5], &tail) != 6) {
        kx_err(KXL_ERR_INVALID, "--mac '%s': not a MAC address (e.g. 00:16:3e:12:34:56)", v);
        return -1;
    }
    if (m[0] & 1) {
        kx_err(KXL_ERR_INVALID, "--mac '%s': a multicast address cannot be a NIC's", v);
        return -1;
    }
    free(o->mac);
    o->mac = kx_asprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return 0;
}

static int set_method(image_opts *o, const char *v)
{
    static const char *const names[] = {"debootstrap", "copy", "tar", "image"};
    for (size_t i = 0; i < KX_ARRAY_SIZE(names); i++) {
        if (strcmp(v, names[i]) == 0) {
            o->method = (image_method)i;
            return 0;
        }
    }
    kx_err(KXL_ERR_INVALID, "--install-method '%s': use debootstrap, copy, tar or image", v);
    return -1;
}

static int set_noswap(image_opts *o, const char *v)
{
    (void)v;
    o->swap_mib = 0;
    return 0;
}

#define S(name, field) {name, OPT_STR, offsetof(image_opts, field), NULL, false, false}
#define M(name, field, none) {name, OPT_MIB, offsetof(image_opts, field), NULL, none, false}
#define B(name, field) {name, OPT_FLAG, offsetof(image_opts, field), NULL, false, false}
#define FN(name, fn) {name, OPT_FN, 0, fn, false, false}

/* Sorted by name. */
static const image_option options[] = {
    S("arch", arch),
    S("bridge", bridge),
    B("dhcp", dhcp),
    S("dir", dir),
    S("dist", dist),
    B("force", force),
    FN("format", set_format),
    S("fs", fs),
    FN("gateway", set_gateway),
    B("genpass", genpass),
    S("hash", hash),
    S("hostname", hostname),
    FN("image", set_image),
    FN("install-method", set_method),
    S("install-source", source),
    FN("ip", set_ip),
    S("lvm", lvm),
    FN("mac", set_mac),
    M("memory", memory_mib, false),
    S("mirror", mirror),
    FN("nameserver", set_nameserver),
    FN("netmask", set_netmask),
    {"noswap", OPT_FN, 0, set_noswap, .no_value = true},
    S("output", output),
    S("password", password),
    B("refresh", refresh),
    S("role", role),
    M("size", size_mib, false),
    S("ssh-key", ssh_key),
    M("swap", swap_mib, true),
    FN("vcpus", set_vcpus),
};

static int option_value(image_opts *o, const image_option *opt, const char *v)
{
    char *base = (char *)o;
    switch (opt->type) {
    case OPT_STR: {
        char **field = (char **)(base + opt->off);
        if (*v == '\0') {
            kx_err(KXL_ERR_INVALID, "--%s needs a value", opt->name);
            return -1;
        }
        free(*field);
        *field = kx_strdup(v);
        return 0;
    }
    case OPT_MIB:
        return parse_mib(opt->name, v, opt->none_ok, (uint64_t *)(base + opt->off));
    case OPT_FLAG:
        *(bool *)(base + opt->off) = true;
        return 0;
    case OPT_FN:
        return opt->fn(o, v);
    }
    return -1;
}

static bool takes_value(const image_option *opt)
{
    return opt->type != OPT_FLAG && !opt->no_value;
}

int image_opts_set(image_opts *o, const char *name, const char *value)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(options); i++) {
        const image_option *opt = &options[i];
        if (strcmp(opt->name, name) != 0)
            continue;
        if (!value && takes_value(opt)) {
            kx_err(KXL_ERR_INVALID, "--%s needs a value", name);
            return -1;
        }
        if (value && !takes_value(opt)) {
            kx_err(KXL_ERR_INVALID, "--%s takes no value", name);
            return -1;
        }
        return option_value(o, opt, value);
    }
    kx_err(KXL_ERR_INVALID, "unknown option '--%s'", name);
    return -1;
}

int image_opts_parse(image_opts *o, int argc, char **argv)
{
    struct option longopts[KX_ARRAY_SIZE(options) + 1];
    memset(longopts, 0, sizeof(longopts));
    for (size_t i = 0; i < KX_ARRAY_SIZE(options); i++)
        longopts[i] = (struct option){options[i].name,
                                      takes_value(&options[i]) ? required_argument : no_argument,
                                      NULL, 256 + (int)i};
    opterr = 0;
    optind = 1;
    int c, idx;
    bool seen[KX_ARRAY_SIZE(options)] = {false};
    while ((c = getopt_long(argc, argv, "+", longopts, &idx)) != -1) {
        if (c == '?' || c == ':') {
            const char *arg = argv[optind - 1];
            if (optopt >= 256)
                kx_err(KXL_ERR_INVALID, "--%s needs a value", options[optopt - 256].name);
            else
                kx_err(KXL_ERR_INVALID, "unknown option '%s'", arg);
            return -1;
        }
        /* a second --hostname silently replacing the first made a different guest than the
         * user read on the line; only --nameserver adds up */
        const image_option *opt = &options[c - 256];
        if (seen[c - 256] && strcmp(opt->name, "nameserver") != 0) {
            kx_err(KXL_ERR_INVALID, "--%s is given twice: give it once", opt->name);
            return -1;
        }
        seen[c - 256] = true;
        if (option_value(o, opt, optarg) < 0)
            return -1;
    }
    if (optind < argc) {
        kx_err(KXL_ERR_INVALID, "unexpected argument '%s' (all settings are --options)",
               argv[optind]);
        return -1;
    }
    return 0;
}
