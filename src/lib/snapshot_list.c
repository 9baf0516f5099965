/* snapshot_list.c - a domain's snapshots as data: the disks' own lists (QEMU's SnapshotInfo,
 * from the supervisor or from qemu-img) merged by name, as JSON for scripts and kxld, and as
 * snapshot-list's table. Pure: no I/O but the local time zone of the table's dates. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/snapshot.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

void kxl_snapshots_free(kxl_snapshot *snaps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(snaps[i].name);
        free(snaps[i].id);
        for (char **d = snaps[i].disks; d && *d; d++)
            free(*d);
        free(snaps[i].disks);
    }
    free(snaps);
}

/* The index of the snapshot called name among the n found so far, or n. */
static size_t find(const kxl_snapshot *snaps, size_t n, const char *name)
{
    size_t i = 0;
    while (i < n && strcmp(snaps[i].name, name) != 0)
        i++;
    return i;
}

static size_t count_disks(const kxl_snapshot *s)
{
    size_t k = 0;
    while (s->disks && s->disks[k])
        k++;
    return k;
}

static void add_disk(kxl_snapshot *s, const char *vdev)
{
    size_t k = count_disks(s);
    s->disks = kx_realloc(s->disks, (k + 2) * sizeof(*s->disks));
    s->disks[k] = kx_strdup(vdev);
    s->disks[k + 1] = NULL;
}

/* A new snapshot from QEMU's SnapshotInfo of the first disk that holds it. */
static kxl_snapshot from_info(json_object *info, const char *name)
{
    json_object *icount = NULL;
    json_object_object_get_ex(info, "icount", &icount);
    return (kxl_snapshot){
        .name = kx_strdup(name),
        .id = kx_strdup(kx_json_str(info, "id", "")),
        .vm_state_size = (uint64_t)kx_json_int(info, "vm-state-size", 0),
        .date_sec = kx_json_int(info, "date-sec", 0),
        .date_nsec = (uint32_t)kx_json_int(info, "date-nsec", 0),
        .vm_clock_ns = (uint64_t)kx_json_int(info, "vm-clock-sec", 0) * 1000000000u +
                       (uint64_t)kx_json_int(info, "vm-clock-nsec", 0),
        .icount = icount ? json_object_get_int64(icount) : -1,
    };
}

/* Those on every disk first, each group keeping its order (qsort is not stable). */
static void every_disk_first(kxl_snapshot *snaps, size_t n)
{
    AUTOFREE kxl_snapshot *sorted = kx_malloc0((n ? n : 1) * sizeof(*sorted));
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            if (snaps[i].on_all_disks == (pass == 0))
                sorted[k++] = snaps[i];
    if (n)
        memcpy(snaps, sorted, n * sizeof(*snaps));
}

int snapshot_list_merge(json_object *disks, kxl_snapshot **snaps_r, size_t *n_r)
{
    kxl_snapshot *snaps = NULL;
    size_t n = 0, n_disks = json_object_array_length(disks);
    for (size_t d = 0; d < n_disks; d++) {
        json_object *disk = json_object_array_get_idx(disks, d), *list = NULL;
        const char *vdev = kx_json_str(disk, "vdev", NULL);
        if (!vdev || !json_object_object_get_ex(disk, "snapshots", &list) ||
            !json_object_is_type(list, json_type_array)) {
            kxl_snapshots_free(snaps, n);
            kx_err(KXL_ERR_INTERNAL, "a disk's snapshot list is malformed: %s",
                   json_object_to_json_string(disk));
            return -1;
        }
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            json_object *info = json_object_array_get_idx(list, i);
            const char *name = kx_json_str(info, "name", "");
            size_t at = find(snaps, n, name);
            if (at == n) {
                snaps = kx_realloc(snaps, (n + 1) * sizeof(*snaps));
                snaps[n++] = from_info(info, name);
            }
            if (count_disks(&snaps[at]) == 0 ||
                strcmp(snaps[at].disks[count_disks(&snaps[at]) - 1], vdev) != 0)
                add_disk(&snaps[at], vdev);
        }
    }
    for (size_t i = 0; i < n; i++)
        snaps[i].on_all_disks = count_disks(&snaps[i]) == n_disks;
    every_disk_first(snaps, n);
    *snaps_r = snaps;
    *n_r = n;
    return 0;
}

json_object *kxl_snapshot_to_json(const kxl_snapshot *s)
{
    json_object *o = json_object_new_object(), *disks = json_object_new_array();
    for (char **d = s->disks; d && *d; d++)
        json_object_array_add(disks, json_object_new_string(*d));
    json_object_object_add(o, "name", json_object_new_string(s->name));
    json_object_object_add(o, "id", json_object_new_string(s->id));
    json_object_object_add(o, "vm_state_size", json_object_new_int64((int64_t)s->vm_state_size));
    json_object_object_add(o, "date", json_object_new_double((double)s->date_sec +
                                                             s->date_nsec / 1e9));
    json_object_object_add(o, "vm_clock_ns", json_object_new_int64((int64_t)s->vm_clock_ns));
    json_object_object_add(o, "icount", s->icount < 0 ? NULL : json_object_new_int64(s->icount));
    json_object_object_add(o, "disks", disks);
    json_object_object_add(o, "on_all_disks", json_object_new_boolean(s->on_all_disks));
    return o;
}

/* QEMU's size_to_str: "0 B", "1.5 KiB", "50.1 MiB" (three significant digits). */
static void add_size(kx_buf *b, uint64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1000 && u + 1 < sizeof(units) / sizeof(*units)) {
        v /= 1024;
        u++;
    }
    char text[32];
    snprintf(text, sizeof(text), "%0.3g %s", v, units[u]);
    kx_buf_printf(b, "%8s", text);
}

static void add_row(kx_buf *b, const kxl_snapshot *s, bool with_disks)
{
    kx_buf_printf(b, "%-9s %-17s ", s->id, s->name);
    add_size(b, s->vm_state_size);
    char date[32] = "";
    time_t t = (time_t)s->date_sec;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
    uint64_t ms = s->vm_clock_ns / 1000000;
    char clock[48];
    snprintf(clock, sizeof(clock), "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64,
             ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
    char icount[24] = "";
    if (s->icount >= 0)
        snprintf(icount, sizeof(icount), "%" PRId64, s->icount);
    kx_buf_printf(b, "%20s%13s%11s", date, clock, icount);
    for (char **d = s->disks; with_disks && d && *d; d++)
        kx_buf_printf(b, "%s%s", d == s->disks ? "  " : ",", *d);
    kx_buf_add(b, "\n");
}

static void add_header(kx_buf *b, bool with_disks)
{
    kx_buf_printf(b, "%-9s %-17s %8s%20s%13s%11s%s\n", "ID", "TAG", "VM SIZE", "DATE",
                  "VM CLOCK", "ICOUNT", with_disks ? "  DISKS" : "");
}

char *kxl_snapshot_table(const kxl_snapshot *snaps, size_t n)
{
    kx_buf b = KX_BUF_INIT;
    size_t all = 0;
    while (all < n && snaps[all].on_all_disks)
        all++;
    if (n == 0)
        kx_buf_add(&b, "There is no snapshot.\n");
    if (all > 0) {
        kx_buf_add(&b, "Snapshots on every disk:\n");
        add_header(&b, false);
    }
    for (size_t i = 0; i < all; i++)
        add_row(&b, &snaps[i], false);
    if (all < n) {
        kx_buf_printf(&b, "%sSnapshots on some disks only (they cannot be reverted to):\n",
                      all ? "\n" : "");
        add_header(&b, true);
    }
    for (size_t i = all; i < n; i++)
        add_row(&b, &snaps[i], true);
    return kx_buf_steal(&b);
}
