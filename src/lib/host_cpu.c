/* host_cpu.c - the CPU facts xl info prints that mean the same on a KVM host: topology, clock,
 * the CPUID feature words (hw_caps) and what the host can do for guests (virt_caps). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "lib/host_cpu.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* The last number of a CPU list such as "0-7" or "0,4": the highest CPU in it. */
static long list_last(const char *text)
{
    const char *p = text ? text + strcspn(text, "\n") : NULL;
    while (p && p > text && (p[-1] < '0' || p[-1] > '9'))
        p--;
    while (p && p > text && p[-1] >= '0' && p[-1] <= '9')
        p--;
    return p ? strtol(p, NULL, 10) : 0;
}

/* How many CPUs a list such as "0-1" or "0,4" holds. */
static long list_count(const char *text)
{
    long n = 0;
    for (const char *p = text; p && *p >= '0' && *p <= '9';) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        n += b >= a ? b - a + 1 : 1;
        p = *end == ',' ? end + 1 : end + strlen(end);
    }
    return n ? n : 1;
}

static char *sys_text(const char *path)
{
    char *t = kx_read_file(path, NULL);
    kx_err_clear();
    return t;
}

/* The value of the first "key : value" line of /proc/cpuinfo, or NULL. */
static char *cpuinfo_value(const char *cpuinfo, const char *key)
{
    for (const char *l = cpuinfo; l && *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0)) {
        size_t n = strlen(key);
        if (strncmp(l, key, n) != 0 || (l[n] != ' ' && l[n] != '\t'))
            continue;
        const char *colon = strchr(l, ':');
        if (!colon || colon > l + strcspn(l, "\n"))
            return NULL;
        colon += 1 + (colon[1] == ' ');
        return kx_strndup(colon, strcspn(colon, "\n"));
    }
    return NULL;
}

static int count_nodes(void)
{
    DIR *d = opendir("/sys/devices/system/node");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9';
    if (d)
        closedir(d);
    return n ? n : 1;
}

/* Xen's first eight feature words: CPUID 1 EDX, ECX; 0x80000001 EDX, ECX; 0xd/1 EAX; 7/0 EBX,
 * ECX; 0x80000007 EDX. */
static char *hw_caps(void)
{
    unsigned w[8] = {0}, a, b, c, d;
#if defined(__x86_64__) || defined(__i386__)
    if (__get_cpuid(1, &a, &b, &c, &d))
        w[0] = d, w[1] = c;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d))
        w[2] = d, w[3] = c;
    if (__get_cpuid_count(0xd, 1, &a, &b, &c, &d))
        w[4] = a;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
        w[5] = b, w[6] = c;
    if (__get_cpuid(0x80000007, &a, &b, &c, &d))
        w[7] = d;
#else
    (void)a, (void)b, (void)c, (void)d;
#endif
    return kx_asprintf("%08x:%08x:%08x:%08x:%08x:%08x:%08x:%08x", w[0], w[1], w[2], w[3], w[4],
                       w[5], w[6], w[7]);
}

/* xl's words for what the host gives guests: hvm (KVM runs guests), hap (EPT/NPT),
 * hvm_directio (an IOMMU, for passthrough). */
static char *virt_caps(const char *cpuinfo, bool kvm)
{
    AUTOFREE char *flags = cpuinfo_value(cpuinfo, "flags");
    AUTOFREE char *padded = kx_asprintf(" %s ", flags ? flags : "");
    DIR *groups = opendir("/sys/kernel/iommu_groups");
    bool iommu = false;
    for (struct dirent *e; groups && (e = readdir(groups));)
        iommu |= e->d_name[0] != '.';
    if (groups)
        closedir(groups);
    kx_buf b = KX_BUF_INIT;
    if (kvm)
        kx_buf_add(&b, "hvm");
    if (kvm && iommu)
        kx_buf_add(&b, " hvm_directio");
    if (kvm && (strstr(padded, " ept ") || strstr(padded, " npt ")))
        kx_buf_add(&b, " hap");
    return kx_buf_steal(&b);
}

void host_cpu_facts(json_object *o, bool kvm)
{
    AUTOFREE char *cpuinfo = sys_text("/proc/cpuinfo");
    AUTOFREE char *present = sys_text("/sys/devices/system/cpu/present");
    AUTOFREE char *siblings = sys_text("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list");
    AUTOFREE char *cores = cpuinfo_value(cpuinfo, "cpu cores");
    AUTOFREE char *mhz = cpuinfo_value(cpuinfo, "cpu MHz");
    AUTOFREE char *caps = hw_caps();
    AUTOFREE char *virt = virt_caps(cpuinfo, kvm);
    json_object_object_add(o, "max_cpu_id", json_object_new_int64(list_last(present)));
    json_object_object_add(o, "nr_nodes", json_object_new_int(count_nodes()));
    json_object_object_add(o, "cores_per_socket",
                           json_object_new_int64(cores ? strtol(cores, NULL, 10) : 1));
    json_object_object_add(o, "threads_per_core", json_object_new_int64(list_count(siblings)));
    json_object_object_add(o, "cpu_mhz", json_object_new_string(mhz ? mhz : "unknown"));
    json_object_object_add(o, "hw_caps", json_object_new_string(caps));
    json_object_object_add(o, "virt_caps", json_object_new_string(virt));
}
