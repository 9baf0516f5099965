/* status.c - read and write a domain's status file. */
#include "lib/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/spawn.h"

static const char *const state_names[] = {
    [KXL_STATE_STARTING] = "starting", [KXL_STATE_RUNNING] = "running",
    [KXL_STATE_PAUSED] = "paused",     [KXL_STATE_SHUTDOWN] = "shutdown",
    [KXL_STATE_CRASHED] = "crashed",   [KXL_STATE_DYING] = "dying",
};

const char *kxl_state_to_string(kxl_state s)
{
    return (size_t)s < KX_ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

int kxl_state_from_string(const char *s)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(state_names); i++)
        if (strcmp(state_names[i], s) == 0)
            return (int)i;
    return -1;
}

int status_write(const char *dir, const kx_status *st)
{
    kx_buf b = KX_BUF_INIT;
    kx_buf_printf(&b, "domid %u\nuuid %s\nstate %s\n", st->domid, st->uuid,
                  kxl_state_to_string(st->state));
    kx_buf_printf(&b, "qemu_pid %d\nqemu_start %llu\nsv_pid %d\nsv_start %llu\n",
                  (int)st->qemu_pid, st->qemu_start, (int)st->sv_pid, st->sv_start);
    kx_buf_printf(&b, "memory %llu\nvcpus %u\nstarted %.3f\nvcpu_tids ",
                  (unsigned long long)st->memory_mib, st->vcpus, st->started);
    for (unsigned i = 0; i < st->n_vcpu_tids; i++)
        kx_buf_printf(&b, "%s%d", i ? "," : "", (int)st->vcpu_tids[i]);
    kx_buf_addc(&b, '\n');
    if (st->devices_known)
        kx_buf_printf(&b, "devices %u %u %d\n", st->n_disks, st->n_vifs, st->balloon);
    AUTOFREE char *path = kx_path_join(dir, "status");
    int r = kx_write_file_atomic(path, kx_buf_str(&b), b.len, 0600);
    kx_buf_dispose(&b);
    return r;
}

static void status_set_tids(kx_status *st, const char *v)
{
    while (*v && st->n_vcpu_tids < KX_STATUS_MAX_VCPUS) {
        char *end;
        long t = strtol(v, &end, 10);
        if (end == v)
            return;
        st->vcpu_tids[st->n_vcpu_tids++] = (pid_t)t;
        v = *end == ',' ? end + 1 : end;
    }
}

/* "DISKS VIFS BALLOON" */
static void status_set_devices(kx_status *st, const char *v)
{
    int balloon;
    st->devices_known = sscanf(v, "%u %u %d", &st->n_disks, &st->n_vifs, &balloon) == 3;
    st->balloon = st->devices_known && balloon;
}

static void status_set(kx_status *st, const char *key, const char *v)
{
    if (strcmp(key, "domid") == 0)
        st->domid = (unsigned)strtoul(v, NULL, 10);
    else if (strcmp(key, "uuid") == 0)
        snprintf(st->uuid, sizeof(st->uuid), "%s", v);
    else if (strcmp(key, "state") == 0)
        st->state = (kxl_state)(kxl_state_from_string(v) < 0 ? KXL_STATE_STARTING
                                                              : kxl_state_from_string(v));
    else if (strcmp(key, "qemu_pid") == 0)
        st->qemu_pid = (pid_t)strtol(v, NULL, 10);
    else if (strcmp(key, "qemu_start") == 0)
        st->qemu_start = strtoull(v, NULL, 10);
    else if (strcmp(key, "sv_pid") == 0)
        st->sv_pid = (pid_t)strtol(v, NULL, 10);
    else if (strcmp(key, "sv_start") == 0)
        st->sv_start = strtoull(v, NULL, 10);
    else if (strcmp(key, "memory") == 0)
        st->memory_mib = strtoull(v, NULL, 10);
    else if (strcmp(key, "vcpus") == 0)
        st->vcpus = (unsigned)strtoul(v, NULL, 10);
    else if (strcmp(key, "started") == 0)
        st->started = strtod(v, NULL);
    else if (strcmp(key, "vcpu_tids") == 0)
        status_set_tids(st, v);
    else if (strcmp(key, "devices") == 0)
        status_set_devices(st, v);
}

int status_read(const char *dir, kx_status *st_r)
{
    AUTOFREE char *path = kx_path_join(dir, "status");
    AUTOFREE char *text = kx_read_file(path, NULL);
    memset(st_r, 0, sizeof(*st_r));
    if (!text)
        return -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        status_set(st_r, line, sp + 1);
    }
    return 0;
}

bool status_qemu_alive(const kx_status *st)
{
    return st->qemu_pid > 0 && kx_pid_starttime(st->qemu_pid) == st->qemu_start;
}

bool status_sv_alive(const kx_status *st)
{
    return st->sv_pid > 0 && kx_pid_starttime(st->sv_pid) == st->sv_start;
}
