/* vcpu_text.c - vcpu-list's lines, as xl prints them (Name ID VCPU CPU State Time(s)
 * Affinity). Pure: no I/O. */
#include <stdio.h>
#include <stdlib.h>

#include "cfg/cfg_spec.h"
#include "kxl/stats.h"
#include "util/buf.h"

const char *kxl_vcpu_list_header(void)
{
    return "Name                                ID  VCPU   CPU State   Time(s) "
           "Affinity (Hard / Soft)";
}

char *kxl_cpuset_describe(const kxl_cpuset *set, unsigned host_cpus)
{
    bool all = host_cpus > 0;
    for (unsigned c = 0; c < host_cpus && c < KXL_MAX_HOST_CPUS; c++)
        all = all && kxl_cpuset_test(set, c);
    return all ? kx_strdup("all") : cfg_cpus_format(set);
}

/* xl: "%-32s %5u %5u", then "%5u %3c%c- " (or "    - --p " offline), "%9.1f  ", hard and
 * soft affinity. kxl has no soft affinity: it is "all". */
char *kxl_vcpu_line(const kxl_vcpu_info *v, unsigned host_cpus)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_printf(&b, "%-32s %5u %5u", v->name, v->domid, v->vcpu);
    if (!v->online || v->cpu < 0)
        kx_buf_printf(&b, "%5c %3c%cp ", '-', '-', '-');
    else
        kx_buf_printf(&b, "%5d %3c%c- ", v->cpu, v->running ? 'r' : '-',
                      v->blocked ? 'b' : '-');
    kx_buf_printf(&b, "%9.1f  ", v->seconds);
    char *aff = v->online ? kxl_cpuset_describe(&v->affinity, host_cpus) : kx_strdup("-");
    kx_buf_printf(&b, "%s / all", aff);
    free(aff);
    return kx_buf_steal(&b);
}

json_object *kxl_vcpu_to_json(const kxl_vcpu_info *v, unsigned host_cpus)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "vcpu", json_object_new_int64(v->vcpu));
    json_object_object_add(o, "online", json_object_new_boolean(v->online));
    json_object_object_add(o, "cpu", v->online && v->cpu >= 0 ? json_object_new_int(v->cpu)
                                                               : NULL);
    json_object_object_add(o, "state", json_object_new_string(!v->online || v->cpu < 0 ? "paused"
                                                              : v->running ? "running"
                                                              : v->blocked ? "blocked"
                                                                           : "runnable"));
    json_object_object_add(o, "seconds", json_object_new_double(v->seconds));
    char *aff = v->online ? kxl_cpuset_describe(&v->affinity, host_cpus) : NULL;
    json_object_object_add(o, "affinity", aff ? json_object_new_string(aff) : NULL);
    free(aff);
    return o;
}
