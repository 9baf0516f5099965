/* cfg_cpus.c - parses xl.cfg(5) cpus= pinning specs ("all", "0-3,5,^1") into a
 * kxl_cpuset, and formats a cpuset back as a canonical range list. Pure: no I/O. */
#include "cfg/cfg_spec.h"

#include <stdarg.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

typedef struct {
    const char *where;
    const char *spec;
    unsigned host_cpus;
    kxl_cpuset add;          /* CPUs the entries include */
    kxl_cpuset del;          /* CPUs the ^ entries exclude, whatever their order */
} cpus_ctx;

static void cpus_err(const cpus_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cpus_err(const cpus_ctx *c, const char *fmt, ...)
{
    kx_buf b = KX_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    kx_err(KXL_ERR_CONFIG, "%s: cpus '%s': %s", c->where, c->spec, kx_buf_str(&b));
    kx_buf_dispose(&b);
}

/* Reads the digits at *p as a number, saturating; false if there are none. */
static bool cpu_number(const char **p, unsigned long *n_r)
{
    const char *start = *p;
    unsigned long n = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++)
        n = n >= 1000000000UL ? n : n * 10 + (unsigned long)(**p - '0');
    *n_r = n;
    return *p != start;
}

/* "N" or "A-B" (e, from the entry as written) into [*a_r, *b_r], checked against the host. */
static int cpus_range(const cpus_ctx *c, const char *entry, const char *e, unsigned long *a_r,
                      unsigned long *b_r)
{
    const char *p = e, *b_text = e;
    bool ok = cpu_number(&p, a_r);
    *b_r = *a_r;
    if (ok && *p == '-') {
        b_text = ++p;
        ok = cpu_number(&p, b_r);
    }
    if (!ok || *p) {
        cpus_err(c, "'%s' is not a CPU number or range (use N, A-B, ^N, ^A-B or all)", entry);
        return -1;
    }
    if (*b_r < *a_r) {
        cpus_err(c, "range '%s' ends before it starts", e);
        return -1;
    }
    if (*b_r >= c->host_cpus || *b_r >= KXL_MAX_HOST_CPUS) {
        size_t len = strspn(b_text, "0123456789");
        if (*b_r >= c->host_cpus)
            cpus_err(c, "CPU %.*s does not exist on this host (it has %u)", (int)len, b_text,
                     c->host_cpus);
        else
            cpus_err(c, "CPU %.*s is beyond the %d CPUs kxl can pin to", (int)len, b_text,
                     KXL_MAX_HOST_CPUS);
        return -1;
    }
    return 0;
}

/* One comma-separated entry: all, N, A-B, ^N, ^A-B. */
static int cpus_entry(cpus_ctx *c, const char *entry)
{
    const char *e = entry;
    bool exclude = *e == '^';
    kxl_cpuset *set = exclude ? &c->del : &c->add;
    unsigned long a, b;
    if (exclude)
        e++;
    if (kx_startswith(e, "node:") || kx_startswith(e, "nodes:")) {
        cpus_err(c, "NUMA node specs ('%s') are not supported; list the CPUs instead", e);
        return -1;
    }
    if (strcmp(e, "all") == 0) {
        if (exclude) {
            cpus_err(c, "'^all' would exclude every CPU");
            return -1;
        }
        if (c->host_cpus == 0)
            return 0;
        a = 0;
        b = (c->host_cpus < KXL_MAX_HOST_CPUS ? c->host_cpus : KXL_MAX_HOST_CPUS) - 1;
    } else if (cpus_range(c, entry, e, &a, &b) < 0) {
        return -1;
    }
    for (unsigned long i = a; i <= b; i++)
        kxl_cpuset_set(set, (unsigned)i);
    return 0;
}

/* Includes are applied first and ^ exclusions after them, whatever their order.
 * Returns 0 with a non-empty *set_r, or -1 with kx_err set. */
int cfg_cpus_parse(const char *spec, const char *where, unsigned host_cpus, kxl_cpuset *set_r)
{
    cpus_ctx c = {.where = where, .spec = spec, .host_cpus = host_cpus};
    AUTOFREE char *buf = kx_strdup(spec);
    char *save = NULL;
    bool any = false;
    memset(set_r, 0, sizeof(*set_r));
    /* as xl: entries are split at commas and empty ones skipped */
    for (char *e = strtok_r(buf, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        e += strspn(e, " \t");
        size_t n = strlen(e);
        while (n > 0 && (e[n - 1] == ' ' || e[n - 1] == '\t'))
            e[--n] = '\0';
        if (!*e)
            continue;
        if (cpus_entry(&c, e) < 0)
            return -1;
        any = true;
    }
    if (!any) {
        cpus_err(&c, "no CPU given (use e.g. all, 3, 0-3 or 0-3,^1)");
        return -1;
    }
    for (size_t i = 0; i < KX_ARRAY_SIZE(set_r->bits); i++)
        set_r->bits[i] = c.add.bits[i] & ~c.del.bits[i];
    if (kxl_cpuset_is_empty(set_r)) {
        cpus_err(&c, "no CPU is left once the ^ entries are taken out");
        return -1;
    }
    return 0;
}

/* Ranges of two or more CPUs as A-B, others as N, ascending; caller frees. */
char *cfg_cpus_format(const kxl_cpuset *set)
{
    kx_buf b = KX_BUF_INIT;
    for (unsigned i = 0; i < KXL_MAX_HOST_CPUS; i++) {
        if (!kxl_cpuset_test(set, i))
            continue;
        unsigned j = i;
        while (j + 1 < KXL_MAX_HOST_CPUS && kxl_cpuset_test(set, j + 1))
            j++;
        if (b.len)
            kx_buf_addc(&b, ',');
        if (j == i)
            kx_buf_printf(&b, "%u", i);
        else
            kx_buf_printf(&b, "%u-%u", i, j);
        i = j;
    }
    return kx_buf_steal(&b);
}
