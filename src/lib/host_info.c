/* host_info.c - the facts about this host that `kxl info` and GET /api/v1/host show: its
 * name and kernel, CPUs and memory, the accelerator a domain gets (the one host probe), the
 * QEMU it runs and as whom. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kxl/ops.h"
#include "lib/host_cpu.h"
#include "lib/host_probe.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static long long meminfo_mib(const char *text, const char *key)
{
    const char *p = text ? strstr(text, key) : NULL;
    return p ? (long long)(strtoull(p + strlen(key) + 1, NULL, 10) / 1024) : 0;
}

char *host_qemu_version_of(const char *text)
{
    size_t eol = strcspn(text, "\n");   /* its first line */
    const char *v = memmem(text, eol, "version ", strlen("version "));
    if (!v)
        return kx_strdup("unknown");
    v += strlen("version ");
    size_t n = strcspn(v, " \n");   /* the number, as QMP's query-version gives it */
    return n ? kx_strndup(v, n) : kx_strdup("unknown");
}

char *host_qemu_version(const char *qemu)
{
    AUTOFREE char *cmd = kx_asprintf("'%s' --version 2>/dev/null", qemu);
    FILE *f = popen(cmd, "re");
    char line[256] = "";
    if (f) {
        if (!fgets(line, sizeof(line), f))
            line[0] = '\0';
        pclose(f);
    }
    return host_qemu_version_of(line);
}

static void add_str(json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, json_object_new_string(value));
}

/* Busy CPU seconds of all CPUs: user, nice, system, irq, softirq and steal of /proc/stat. */
static double host_busy_seconds(void)
{
    AUTOFREE char *stat = kx_read_file("/proc/stat", NULL);
    kx_err_clear();
    unsigned long long v[8] = {0};
    if (!stat || sscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                        &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
        return 0;
    long hz = sysconf(_SC_CLK_TCK);
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)(hz > 0 ? hz : 100);
}

void kxl_host_dominfo(kxl_dominfo *r)
{
    AUTOFREE char *meminfo = kx_read_file("/proc/meminfo", NULL);
    kx_err_clear();
    *r = (kxl_dominfo){.domid = 0, .state = KXL_STATE_RUNNING, .running = true,
                       .memory_mib = (uint64_t)meminfo_mib(meminfo, "MemTotal:"),
                       .vcpus = kxl_host_cpus(), .cpu_seconds = host_busy_seconds(),
                       .sv_alive = true};
    snprintf(r->name, sizeof(r->name), "Domain-0");
}

unsigned long kxl_host_uptime(void)
{
    AUTOFREE char *text = kx_read_file("/proc/uptime", NULL);
    kx_err_clear();
    double up = 0;
    return text && sscanf(text, "%lf", &up) == 1 && up > 0 ? (unsigned long)up : 0;
}

json_object *kxl_host_info(const kxl_paths *p)
{
    struct utsname u;
    uname(&u);
    kxl_host_facts f;
    if (kxl_host_probe(KXL_ACCEL_AUTO, &f) < 0)
        return NULL;
    AUTOFREE char *why = NULL;
    bool kvm = kxl_kvm_usable(&why);
    AUTOFREE char *meminfo = kx_read_file("/proc/meminfo", NULL);
    kx_err_clear();
    AUTOFREE char *accel = kx_asprintf("%s (%s)", kxl_accel_to_string(f.accel), why);
    AUTOFREE char *qemu = host_qemu_version(f.qemu_binary);
    AUTOFREE char *user = f.qemu_user ? kx_strdup(f.qemu_user)
                                      : kx_asprintf("root (%s)", f.why_root);
    json_object *o = json_object_new_object();
    add_str(o, "host", u.nodename);
    add_str(o, "release", u.release);
    add_str(o, "version", u.version);
    add_str(o, "machine", u.machine);
    json_object_object_add(o, "nr_cpus", json_object_new_int64(kxl_host_cpus()));
    host_cpu_facts(o, kvm);
    json_object_object_add(o, "total_memory", json_object_new_int64(meminfo_mib(meminfo,
                                                                                "MemTotal:")));
    json_object_object_add(o, "free_memory", json_object_new_int64(meminfo_mib(meminfo,
                                                                               "MemAvailable:")));
    json_object_object_add(o, "free_cpus", json_object_new_int(0));   /* no CPU pools */
    add_str(o, "accelerator", accel);
    json_object_object_add(o, "kvm_usable", json_object_new_boolean(kvm));
    add_str(o, "qemu_version", qemu);
    add_str(o, "qemu_user", user);
    add_str(o, "kxl_version", KXL_VERSION);
    add_str(o, "kxl_root", p->root);
    kxl_host_facts_dispose(&f);
    return o;
}
