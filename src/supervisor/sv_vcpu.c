/* sv_vcpu.c - vcpu-pin: a vCPU thread's affinity, set at once and kept in the config (cpus),
 * so that a fresh QEMU (a reboot, a reset) is pinned the same way and list -l shows it. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_spec.h"
#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

/* "all" or a vCPU number below the domain's count, as [*first_r, *last_r]. */
static int parse_vcpu(sv *s, const char *text, unsigned *first_r, unsigned *last_r)
{
    unsigned n = s->st.n_vcpu_tids;
    if (n == 0) {
        kx_err(KXL_ERR_STATE, "domain '%s' has no vCPU threads to pin (is QEMU running?)",
               s->name);
        return -1;
    }
    if (strcmp(text, "all") == 0) {
        *first_r = 0;
        *last_r = n - 1;
        return 0;
    }
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (!*text || *end || text[0] == '-' || text[0] == '+' || v >= n) {
        kx_err(KXL_ERR_INVALID, "domain '%s' has no vCPU '%s' (it has %u: use 0 to %u or all)",
               s->name, text, n, n - 1);
        return -1;
    }
    *first_r = *last_r = (unsigned)v;
    return 0;
}

static void to_mask(const kxl_cpuset *set, cpu_set_t *mask)
{
    CPU_ZERO(mask);
    for (unsigned c = 0; c < CPU_SETSIZE && c < KXL_MAX_HOST_CPUS; c++)
        if (kxl_cpuset_test(set, c))
            CPU_SET(c, mask);
}

/* Pins vCPUs first..last; on a failure those already pinned go back: nothing changes. */
static int apply(sv *s, unsigned first, unsigned last, const kxl_cpuset *set, const char *spec)
{
    cpu_set_t old[KX_STATUS_MAX_VCPUS], mask;
    to_mask(set, &mask);
    for (unsigned i = first; i <= last; i++) {
        pid_t tid = s->st.vcpu_tids[i];
        if (sched_getaffinity(tid, sizeof(old[i]), &old[i]) == 0 &&
            sched_setaffinity(tid, sizeof(mask), &mask) == 0)
            continue;
        kx_err_errno(errno == EINVAL ? KXL_ERR_INVALID : KXL_ERR_INTERNAL,
                     "cannot pin vCPU %u of '%s' to CPUs '%s'%s", i, s->name, spec,
                     errno == EINVAL ? " (none of them is online)" : "");
        for (unsigned j = first; j < i; j++)
            sched_setaffinity(s->st.vcpu_tids[j], sizeof(old[j]), &old[j]);
        return -1;
    }
    return 0;
}

/* The config's cpus once vCPUs first..last run on set: one set for all, or one per vCPU. */
static void remember(kxl_domcfg *cfg, unsigned first, unsigned last, const kxl_cpuset *set)
{
    unsigned n = cfg->vcpus > last + 1 ? cfg->vcpus : last + 1;
    kxl_cpuset all = {0};
    for (unsigned c = 0; c < kxl_host_cpus() && c < KXL_MAX_HOST_CPUS; c++)
        kxl_cpuset_set(&all, c);
    kxl_cpuset *cpus = kx_malloc0(sizeof(*cpus) * n);
    for (unsigned i = 0; i < n; i++) {
        if (i >= first && i <= last)
            cpus[i] = *set;
        else if (cfg->n_cpus == 1)
            cpus[i] = cfg->cpus[0];
        else
            cpus[i] = i < cfg->n_cpus ? cfg->cpus[i] : all;
    }
    free(cfg->cpus);
    cfg->cpus = cpus;
    cfg->n_cpus = n;
    bool same = true;
    for (unsigned i = 1; i < n; i++)
        same = same && memcmp(&cpus[i], &cpus[0], sizeof(*cpus)) == 0;
    if (same)
        cfg->n_cpus = memcmp(&cpus[0], &all, sizeof(all)) == 0 ? 0 : 1;
}

json_object *sv_vcpu_pin(sv *s, json_object *args)
{
    const char *vcpu = kx_json_str(args, "vcpu", "");
    const char *spec = kx_json_str(args, "cpus", "");
    unsigned first, last;
    kxl_cpuset set;
    if (parse_vcpu(s, vcpu, &first, &last) < 0 ||
        cfg_cpus_parse(spec, "vcpu-pin", kxl_host_cpus(), &set) < 0 ||
        apply(s, first, last, &set, spec) < 0)
        return NULL;
    remember(s->cfg, first, last, &set);
    if (sv_save_config_list(s, "cpus") < 0)
        sv_event(s, "cannot record the pinning in domain.json: %s", kx_err_msg());
    sv_event(s, "vCPU %s pinned to CPUs %s", vcpu, spec);
    return json_object_new_object();
}
