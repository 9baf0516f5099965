/* vcpus.h - a domain's vCPU threads as /proc shows them (vcpus.c). */
#pragma once

#include "kxl/stats.h"
#include "lib/status.h"

/* Appends the vCPUs of the domain d (its status st: the threads QEMU named) to *v, counted in
 * *n (grown with kx_realloc). Threads that are gone show as offline. */
void vcpus_read(const kxl_dominfo *d, const kx_status *st, kxl_vcpu_info **v, size_t *n);
/* Reads the vCPU i (thread tid) into v (online etc. already zero); false: gone. */
typedef bool (*vcpu_reader)(unsigned i, pid_t tid, kxl_vcpu_info *v, void *opaque);
/* As vcpus_read, each thread read by rd. */
void vcpus_read_with(const kxl_dominfo *d, const kx_status *st, vcpu_reader rd, void *opaque,
                     kxl_vcpu_info **v, size_t *n);
/* Fills v's figures (online, tid, running, blocked, cpu, seconds) from the text of
 * /proc/PID/task/tid/stat; false for no text or a thread that is gone. */
bool vcpu_from_stat(const char *stat, pid_t tid, kxl_vcpu_info *v);
