/* status.h - the status file of a running domain (ROOT/run/kxl/NAME/status):
 * written by its supervisor on every change, read by list and the commands.
 * Small "key value" lines so that `kxl list` stays cheap. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "kxl/kxl.h"

#define KX_STATUS_MAX_VCPUS 64

typedef struct {
    unsigned domid;
    char uuid[37];
    kxl_state state;
    pid_t qemu_pid;
    unsigned long long qemu_start;  /* with the pid, identifies QEMU across pid reuse */
    pid_t sv_pid;
    unsigned long long sv_start;
    uint64_t memory_mib;
    unsigned vcpus;
    double started;
    pid_t vcpu_tids[KX_STATUS_MAX_VCPUS];  /* QEMU's vCPU threads, so list reads only them */
    unsigned n_vcpu_tids;
    /* What only the supervisor can count (top asks it only when there is any): plugged disks
     * and vifs, and whether a balloon moves the guest's memory. */
    bool devices_known;   /* false: a status file from before these were written */
    unsigned n_disks, n_vifs;
    bool balloon;
} kx_status;

/* dir is the domain's runtime directory. */
int status_write(const char *dir, const kx_status *st);
int status_read(const char *dir, kx_status *st_r);

/* True when the recorded QEMU is still the same live process. */
bool status_qemu_alive(const kx_status *st);
bool status_sv_alive(const kx_status *st);
