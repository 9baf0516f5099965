/* host_info.c - the facts about this host that `kxl info` and GET /api/v1/host show: its
 * name and kernel, CPUs and memory, the accelerator a domain gets (the one host probe), the
 * QEMU it runs and as whom. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "kxl/ops.h"
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

char *host_qemu_version(const char *qemu)
{
    AUTOFREE char *cmd = kx_asprintf("'%s' --version 2>/dev/null", qemu);
    FILE *f = popen(cmd, "re");
    char line[256] = "unknown";
    if (f) {
        if (!fgets(line, sizeof(line), f))
            snprintf(line, sizeof(line), "unknown");
        pclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    const char *v = strstr(line, "version ");
    return kx_strdup(v ? v + strlen("version ") : line);
}

static void add_str(json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, json_object_new_string(value));
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
    json_object_object_add(o, "total_memory", json_object_new_int64(meminfo_mib(meminfo,
                                                                                "MemTotal:")));
    json_object_object_add(o, "free_memory", json_object_new_int64(meminfo_mib(meminfo,
                                                                               "MemAvailable:")));
    add_str(o, "accelerator", accel);
    json_object_object_add(o, "kvm_usable", json_object_new_boolean(kvm));
    add_str(o, "qemu_version", qemu);
    add_str(o, "qemu_user", user);
    add_str(o, "kxl_version", KXL_VERSION);
    add_str(o, "kxl_root", p->root);
    kxl_host_facts_dispose(&f);
    return o;
}
