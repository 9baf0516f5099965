/* ops_resource.c - resource control at run time: vcpu-set, mem-set, mem-max (carried out by
 * the supervisor, which owns QEMU and keeps the values in domain.json) and sched-credit's
 * weight and cap (given by the supervisor to its QEMU's cgroup); xl's size syntax and the
 * sched-credit table. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ops_call.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

/* {key: v} with a number. */
static json_object *int_args(const char *key, int64_t v)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, key, json_object_new_int64(v));
    return args;
}

int kxl_domain_vcpu_set(const kxl_paths *p, const char *dom, unsigned n)
{
    return op_call(p, KXL_OP_VCPU_SET, dom, int_args("vcpus", n), NULL);
}

int kxl_domain_mem_set(const kxl_paths *p, const char *dom, uint64_t mib)
{
    return op_call(p, KXL_OP_MEM_SET, dom, int_args("memory_mib", (int64_t)mib), NULL);
}

int kxl_domain_mem_max(const kxl_paths *p, const char *dom, uint64_t mib)
{
    return op_call(p, KXL_OP_MEM_MAX, dom, int_args("maxmem_mib", (int64_t)mib), NULL);
}

int kxl_mem_size_parse(const char *text, uint64_t *mib_r)
{
    /* the shift from the suffix to bytes; no suffix is MiB, as xl has it */
    static const struct { char unit; int shift; } units[] = {
        {'\0', 20}, {'b', 0}, {'k', 10}, {'m', 20}, {'g', 30}, {'t', 40},
    };
    char *end = NULL;
    errno = 0;
    unsigned long long n = isdigit((unsigned char)text[0]) ? strtoull(text, &end, 10) : 0;
    int shift = -1;
    for (size_t i = 0; end && !errno && i < KX_ARRAY_SIZE(units); i++)
        if (tolower((unsigned char)end[0]) == units[i].unit && (!end[0] || !end[1]))
            shift = units[i].shift;
    if (shift < 0) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a size (a number with an optional b, k, m, g or t; "
               "m when none: 512m, 2g)", text);
        return -1;
    }
    if (n > (16ULL << 40) >> shift) {
        kx_err(KXL_ERR_INVALID, "'%s' is too large (at most 16t)", text);
        return -1;
    }
    unsigned long long bytes = n << shift;
    if (bytes % (1 << 20) != 0) {
        kx_err(KXL_ERR_INVALID, "'%s' is not a whole number of MiB", text);
        return -1;
    }
    *mib_r = bytes >> 20;
    return 0;
}

int kxl_domain_sched_set(const kxl_paths *p, const char *dom, const kxl_sched_info *set)
{
    json_object *args = json_object_new_object();
    if (set->weight != KXL_SCHED_UNCHANGED)
        json_object_object_add(args, "weight", json_object_new_int(set->weight));
    if (set->cap != KXL_SCHED_UNCHANGED)
        json_object_object_add(args, "cap", json_object_new_int(set->cap));
    return op_call(p, KXL_OP_SCHED_CREDIT, dom, args, NULL);
}

/* The parameters of the domain d as its domain.json keeps them; false when it went away. */
static bool sched_of(const kxl_paths *p, const kxl_dominfo *d, kxl_sched_info *s)
{
    AUTOPTR(kxl_domcfg) cfg = NULL;
    if (kxl_domain_config(p, d->name, &cfg) < 0)
        return false;
    snprintf(s->name, sizeof(s->name), "%s", d->name);
    s->domid = d->domid;
    s->weight = (int)cfg->cpu_weight;
    s->cap = (int)cfg->cap;
    return true;
}

int kxl_sched_list(const kxl_paths *p, const char *dom, kxl_sched_info **infos_r, size_t *n_r)
{
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n = 0;
    if (dom) {
        d = kx_malloc0(sizeof(*d));
        if (kxl_domain_lookup(p, dom, d) < 0)
            return -1;
        n = 1;
    } else if (kxl_domain_list(p, &d, &n) < 0) {
        return -1;
    }
    kxl_sched_info *infos = kx_malloc0(sizeof(*infos) * (n + 1));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (sched_of(p, &d[i], &infos[k])) {
            k++;
        } else if (dom) {
            free(infos);
            return -1;
        }
        kx_err_clear();   /* a domain that ended meanwhile is left out of a listing */
    }
    *infos_r = infos;
    *n_r = k;
    return 0;
}

const char *kxl_sched_header(void)
{
    return "Name                                ID Weight  Cap";
}

char *kxl_sched_line(const kxl_sched_info *s)
{
    return kx_asprintf("%-33s %4u %6d %4d", s->name, s->domid, s->weight, s->cap);
}

json_object *kxl_sched_to_json(const kxl_sched_info *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(s->name));
    json_object_object_add(o, "domid", json_object_new_int64(s->domid));
    json_object_object_add(o, "weight", json_object_new_int(s->weight));
    json_object_object_add(o, "cap", json_object_new_int(s->cap));
    return o;
}
