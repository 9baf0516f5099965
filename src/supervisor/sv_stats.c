/* sv_stats.c - what `kxl top` asks a domain each frame ("stats"): its disks' counters from one
 * query-blockstats, sent without waiting so that a busy QEMU blocks nobody; the balloon as
 * QEMU's BALLOON_CHANGE events last told it (no round trip); its vifs' tap names. */
#include <stdlib.h>
#include <string.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

/* A stats request waiting for QEMU's reply. */
typedef struct sv_stats_req {
    sv *s;
    void *token;                 /* the control client's, for sv_control_answer */
    struct sv_stats_req *next;
} sv_stats_req;

void sv_balloon_changed(sv *s, json_object *data)
{
    int64_t actual = kx_json_int(data, "actual", 0);
    if (actual > 0)
        s->balloon_bytes = (uint64_t)actual;
}

/* {memory_kib, maxmem_kib, vifs: [tap names], disks: []}: all but the disks' counters. */
static json_object *stats_base(sv *s)
{
    json_object *o = json_object_new_object();
    uint64_t mem = s->balloon_bytes ? s->balloon_bytes >> 10 : s->cfg->memory_mib << 10;
    json_object_object_add(o, "memory_kib", json_object_new_int64((int64_t)mem));
    uint64_t ceiling_kib = kxl_domcfg_mem_ceiling(s->cfg) << 10;
    json_object_object_add(o, "maxmem_kib", json_object_new_int64((int64_t)ceiling_kib));
    json_object *vifs = json_object_new_array();
    for (size_t i = 0; i < s->cfg->n_vifs; i++)
        if (!s->cfg->vifs[i].unplugged && s->cfg->vifs[i].vifname)
            json_object_array_add(vifs, json_object_new_string(s->cfg->vifs[i].vifname));
    json_object_object_add(o, "vifs", vifs);
    json_object_object_add(o, "disks", json_object_new_array());
    return o;
}

/* The disk an entry of query-blockstats is: its qdev "/machine/peripheral/VDEV[/...]" names
 * the device kxl gave the vdev as id; NULL for what is no plugged disk of the domain. */
static const char *entry_vdev(sv *s, json_object *entry, char buf[64])
{
    const char *qdev = kx_json_str(entry, "qdev", "");
    const char *prefix = "/machine/peripheral/";
    if (!kx_startswith(qdev, prefix))
        return NULL;
    qdev += strlen(prefix);
    size_t len = strcspn(qdev, "/");
    if (len == 0 || len >= 64)
        return NULL;
    memcpy(buf, qdev, len);
    buf[len] = '\0';
    for (size_t i = 0; i < s->cfg->n_disks; i++)
        if (!s->cfg->disks[i].unplugged && kx_streq(s->cfg->disks[i].vdev, buf))
            return buf;
    return NULL;
}

static void add_disk(json_object *disks, const char *vdev, json_object *st)
{
    json_object *d = json_object_new_object();
    json_object_object_add(d, "vdev", json_object_new_string(vdev));
    static const char *const keys[] = {"rd_operations", "wr_operations", "rd_bytes", "wr_bytes"};
    for (size_t i = 0; i < KX_ARRAY_SIZE(keys); i++)
        json_object_object_add(d, keys[i], json_object_new_int64(kx_json_int(st, keys[i], 0)));
    int64_t failed = kx_json_int(st, "failed_rd_operations", 0) +
                     kx_json_int(st, "failed_wr_operations", 0) +
                     kx_json_int(st, "failed_flush_operations", 0);
    json_object_object_add(d, "failed_operations", json_object_new_int64(failed));
    json_object_array_add(disks, d);
}

static json_object *stats_with_disks(sv *s, json_object *blockstats)
{
    json_object *o = stats_base(s);
    json_object *disks = json_object_object_get(o, "disks");
    for (size_t i = 0; blockstats && i < json_object_array_length(blockstats); i++) {
        json_object *e = json_object_array_get_idx(blockstats, i);
        char buf[64];
        const char *vdev = entry_vdev(s, e, buf);
        json_object *st = NULL;
        if (vdev && json_object_object_get_ex(e, "stats", &st))
            add_disk(disks, vdev, st);
    }
    return o;
}

static void unlink_req(sv *s, sv_stats_req *r)
{
    for (sv_stats_req **p = &s->stats_waiting; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            return;
        }
    }
}

static void blockstats_answered(json_object *ret, void *opaque)
{
    sv_stats_req *r = opaque;
    sv *s = r->s;
    unlink_req(s, r);
    kx_err_clear();   /* a refused query leaves the disks out: counters are best effort */
    sv_control_answer(s, r->token, stats_with_disks(s, ret));
    free(r);
}

static bool has_disks(const sv *s)
{
    for (size_t i = 0; i < s->cfg->n_disks; i++)
        if (!s->cfg->disks[i].unplugged)
            return true;
    return false;
}

json_object *sv_stats(sv *s, json_object *args)
{
    (void)args;
    if (!s->qmp || !has_disks(s))   /* nothing to ask QEMU: no round trip */
        return stats_base(s);
    sv_stats_req *r = kx_malloc0(sizeof(*r));
    r->s = s;
    r->token = sv_control_defer(s);
    if (qmp_send_command(s->qmp, "query-blockstats", NULL, blockstats_answered, r) < 0) {
        free(r);
        kx_err_clear();
        return stats_base(s);
    }
    r->next = s->stats_waiting;
    s->stats_waiting = r;
    return SV_DEFERRED;
}

void sv_stats_flush(sv *s)
{
    while (s->stats_waiting) {
        sv_stats_req *r = s->stats_waiting;
        s->stats_waiting = r->next;
        sv_control_answer(s, r->token, stats_base(s));
        free(r);
    }
}
