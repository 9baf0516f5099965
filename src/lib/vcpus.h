/* vcpus.h - a domain's vCPU threads as /proc shows them (vcpus.c). */
#pragma once

#include "kxl/stats.h"
#include "lib/status.h"

/* Appends the vCPUs of the domain d (its status st: the threads QEMU named) to *v, counted in
 * *n (grown with kx_realloc). Threads that are gone show as offline. */
void vcpus_read(const kxl_dominfo *d, const kx_status *st, kxl_vcpu_info **v, size_t *n);
