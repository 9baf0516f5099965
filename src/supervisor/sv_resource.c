/* sv_resource.c - resource control at run time: vcpu-set (CPU hot-plug; an unplug as a job,
 * as the guest must let each CPU go), mem-set and mem-max (the balloon), and sched (the CPU
 * weight and cap of QEMU's cgroup). Each change is kept in domain.json and the status file,
 * so that list -l, top and an adopting supervisor see it, and a restart's QEMU starts so. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/sv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

#define SV_VCPU_UNPLUG_MS 30000
#define SV_VCPU_SETTLE_MS 1000

/* args.key as a whole number in min..max; -1 with kx_err naming what (a sentence's subject)
 * otherwise. *present_r (may be NULL): whether it was given at all (absent is an error
 * without it). */
static int arg_number(json_object *args, const char *key, int64_t min, int64_t max,
                      const char *what, int64_t *v_r, bool *present_r)
{
    json_object *v = NULL;
    bool present = args && json_object_object_get_ex(args, key, &v);
    if (present_r)
        *present_r = present;
    if (!present && present_r)
        return 0;
    if (!present || !json_object_is_type(v, json_type_int)) {
        kx_err(KXL_ERR_INVALID, "%s must be a whole number", what);
        return -1;
    }
    *v_r = json_object_get_int64(v);
    if (*v_r < min || *v_r > max) {
        kx_err(KXL_ERR_INVALID, "%s must be %lld to %lld, not %lld", what, (long long)min,
               (long long)max, (long long)*v_r);
        return -1;
    }
    return 0;
}

/* ---- vcpu-set ---- */

/* QEMU 7.2 under TCG crashes (SIGSEGV) when a CPU is hot-plugged after one was unplugged, into
 * any slot: after an unplug, plugs wait for a fresh QEMU. The mark is a file in the runtime
 * directory, so that an adopting supervisor keeps it. */
#define UNPLUGGED_MARK "cpu-unplugged"

void sv_vcpus_fresh_qemu(sv *s)
{
    AUTOFREE char *mark = kx_path_join(s->dir, UNPLUGGED_MARK);
    unlink(mark);
}

static void mark_unplugged(sv *s)
{
    AUTOFREE char *mark = kx_path_join(s->dir, UNPLUGGED_MARK);
    if (s->accel == KXL_ACCEL_TCG && kx_write_file_atomic(mark, "", 0, 0600) < 0)
        sv_event(s, "%s", kx_err_msg());
}

/* 0 when a CPU may be plugged into this QEMU, else -1 with kx_err. */
static int check_pluggable(sv *s)
{
    AUTOFREE char *mark = kx_path_join(s->dir, UNPLUGGED_MARK);
    if (s->accel != KXL_ACCEL_TCG || !kx_path_exists(mark))
        return 0;
    kx_err(KXL_ERR_STATE, "domain '%s' had a vCPU unplugged, and QEMU under TCG crashes when "
           "a vCPU is plugged in after that: reboot the domain (a fresh QEMU) first", s->name);
    return -1;
}

/* A place for a CPU in QEMU (query-hotpluggable-cpus), occupied when it has a QOM path. */
typedef struct {
    json_object *entry;     /* borrowed from the query's answer */
    long long socket, core, thread;
    const char *qom_path;   /* NULL: free */
} cpu_slot;

static int slot_cmp(const void *a, const void *b)
{
    const cpu_slot *x = a, *y = b;
    if (x->socket != y->socket)
        return x->socket < y->socket ? -1 : 1;
    if (x->core != y->core)
        return x->core < y->core ? -1 : 1;
    return x->thread < y->thread ? -1 : x->thread > y->thread;
}

/* QEMU's CPU slots in topology order (*ret_r holds what they point into; caller puts). */
static cpu_slot *query_slots(sv *s, json_object **ret_r, size_t *n_r, size_t *used_r)
{
    if (qmp_execute(s->qmp, "query-hotpluggable-cpus", NULL, ret_r, 5000) < 0)
        return NULL;
    size_t n = json_object_array_length(*ret_r);
    cpu_slot *slots = kx_malloc0(sizeof(*slots) * (n + 1));
    *used_r = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(*ret_r, i), *props = NULL;
        json_object_object_get_ex(e, "props", &props);
        slots[i] = (cpu_slot){e, kx_json_int(props, "socket-id", 0),
                              kx_json_int(props, "core-id", 0), kx_json_int(props, "thread-id", 0),
                              kx_json_str(e, "qom-path", NULL)};
        *used_r += slots[i].qom_path != NULL;
    }
    qsort(slots, n, sizeof(*slots), slot_cmp);
    *n_r = n;
    return slots;
}

/* The vCPUs QEMU has now become the domain's: threads recorded and pinned, the count in the
 * config, the status file and domain.json. */
static void vcpus_sync(sv *s)
{
    sv_vcpus_record_and_pin(s);
    if (s->st.n_vcpu_tids == 0)
        return;
    s->cfg->vcpus = s->st.vcpus = s->st.n_vcpu_tids;
    if (status_write(s->dir, &s->st) < 0 || sv_save_config_list(s, "vcpus") < 0)
        sv_event(s, "cannot record %u vCPUs: %s", s->cfg->vcpus, kx_err_msg());
}

/* device_add of a CPU into the free slot: its props as QEMU listed them. */
static int plug_cpu(sv *s, const cpu_slot *slot, unsigned index)
{
    json_object *args = json_object_new_object(), *props = NULL;
    json_object_object_add(args, "driver",
                           json_object_new_string(kx_json_str(slot->entry, "type", "")));
    /* a fresh id each time: a slot's last CPU may still be on its way out of QEMU */
    static unsigned generation;
    AUTOFREE char *id = kx_asprintf("vcpu%u.%u", index, ++generation);
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_get_ex(slot->entry, "props", &props);
    json_object_object_foreach(props, key, value)
        json_object_object_add(args, key, json_object_get(value));
    return qmp_execute(s->qmp, "device_add", args, NULL, 10000);
}

/* The unplug job: the QOM paths to go. QEMU 7.2 says DEVICE_DELETED for a CPU's local APIC
 * (PATH/lapic), which goes with it, and not always for the CPU itself: the job also asks
 * query-hotpluggable-cpus twice a second, and ends when none of the paths is there. */
typedef struct {
    kx_strv paths;
    bool *gone;
    size_t n_gone;
    struct timespec all_gone;   /* when the last went */
    json_object *cpus;          /* query-cpus-fast's answer before the unplug */
} unplug_cpus;

static void unplug_cpus_dispose(void *priv)
{
    unplug_cpus *u = priv;
    kx_strv_dispose(&u->paths);
    json_object_put(u->cpus);
    free(u->gone);
    free(u);
}

/* Marks path i gone; once all are, the job ends a moment later (unplug_cpus_settle). */
static void unplug_cpus_mark(unplug_cpus *u, size_t i)
{
    if (u->gone[i])
        return;
    u->gone[i] = true;
    if (++u->n_gone == u->paths.n)
        clock_gettime(CLOCK_MONOTONIC, &u->all_gone);
}

/* The vCPUs left once the unplug ended: those of the query before it but the ones gone,
 * recorded as vcpus_sync does. QEMU is not asked again: in 7.2 under TCG, query-cpus-fast
 * crashes it for a while after a CPU's unplug. */
static void unplug_cpus_record(sv *s, const unplug_cpus *u)
{
    s->st.n_vcpu_tids = 0;
    for (size_t i = 0; i < json_object_array_length(u->cpus); i++) {
        json_object *c = json_object_array_get_idx(u->cpus, i);
        const char *path = kx_json_str(c, "qom-path", "");
        bool gone = false;
        for (size_t k = 0; k < u->paths.n; k++)
            gone = gone || (u->gone[k] && kx_streq(u->paths.v[k], path));
        if (!gone && s->st.n_vcpu_tids < KX_STATUS_MAX_VCPUS)
            s->st.vcpu_tids[s->st.n_vcpu_tids++] = (pid_t)kx_json_int(c, "thread-id", 0);
    }
    if (s->st.n_vcpu_tids < json_object_array_length(u->cpus))
        mark_unplugged(s);
    s->cfg->vcpus = s->st.vcpus = s->st.n_vcpu_tids;
    if (status_write(s->dir, &s->st) < 0 || sv_save_config_list(s, "vcpus") < 0)
        sv_event(s, "cannot record %u vCPUs: %s", s->cfg->vcpus, kx_err_msg());
}

/* Every poll (a query that touches no CPU): QEMU frees an unplugged CPU a moment after the
 * guest's _OST, and a vCPU query before that can crash it, so the job (whose end asks QEMU
 * for the vCPUs) ends SV_VCPU_SETTLE_MS after the last one went. */
static void unplug_cpus_settle(sv *s, json_object *ret)
{
    (void)ret;
    unplug_cpus *u = sv_job_priv(s);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (u && u->n_gone == u->paths.n &&
        (now.tv_sec - u->all_gone.tv_sec) * 1000 +
                (now.tv_nsec - u->all_gone.tv_nsec) / 1000000 >= SV_VCPU_SETTLE_MS) {
        unplug_cpus_record(s, u);
        sv_job_finish(s, json_object_new_object());
    }
}

/* The guest's _OST after an eject (ACPI_DEVICE_OST, source 3, status 0) is the last word of a
 * CPU's unplug: QEMU 7.2 under TCG frees the CPU after its DEVICE_DELETED (said for its local
 * APIC, PATH/lapic) and the guest's _OST. */
static bool unplug_cpus_event(sv *s, const char *event, json_object *data)
{
    unplug_cpus *u = sv_job_priv(s);
    json_object *info = NULL;
    if (kx_streq(event, "DEVICE_DELETED"))
        return true;
    if (!kx_streq(event, "ACPI_DEVICE_OST") || !json_object_object_get_ex(data, "info", &info) ||
        !kx_streq(kx_json_str(info, "slot-type", ""), "CPU") ||
        kx_json_int(info, "source", -1) != 3 || kx_json_int(info, "status", -1) != 0)
        return false;
    for (size_t i = 0; i < u->paths.n; i++) {
        if (!u->gone[i]) {
            unplug_cpus_mark(u, i);
            break;
        }
    }
    return true;
}

static void unplug_cpus_timed_out(sv *s)
{
    unplug_cpus *u = sv_job_priv(s);
    unplug_cpus_record(s, u);
    kx_err(KXL_ERR_STATE, "the guest let %zu of %zu vCPUs go within %d s (does it run, and "
           "can it take CPUs offline?)", u->n_gone, u->paths.n, SV_VCPU_UNPLUG_MS / 1000);
}

static const sv_job_ops unplug_cpus_ops = {
    .kind = "vcpu-unplug",
    .noun = "a vCPU unplug",
    .query = "query-status",
    .poll_ms = 250,
    .accepted_phase = "waiting for the guest",
    .progress = unplug_cpus_settle,
    .event = unplug_cpus_event,
    .timeout_ms = SV_VCPU_UNPLUG_MS,
    .timed_out = unplug_cpus_timed_out,
    .dispose = unplug_cpus_dispose,
};

/* Asks the guest to let the used slots past the first keep go (device_del by QOM path). */
static json_object *unplug_from(sv *s, const cpu_slot *slots, size_t n, size_t keep)
{
    json_object *cpus = NULL;
    if (qmp_execute(s->qmp, "query-cpus-fast", NULL, &cpus, 5000) < 0)
        return NULL;
    unplug_cpus *u = kx_malloc0(sizeof(*u));   /* zeroed: an empty kx_strv */
    u->cpus = cpus;
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        if (slots[i].qom_path && used++ >= keep)
            kx_strv_push(&u->paths, slots[i].qom_path);
    u->gone = kx_malloc0(sizeof(*u->gone) * (u->paths.n + 1));
    AUTOFREE char *list = kx_strv_join(&u->paths, " ");
    sv_job_start(s, &unplug_cpus_ops, u, sv_obj2("vcpus", list, NULL, NULL), sv_control_job_done,
                 sv_control_defer(s));
    for (size_t i = 0; i < u->paths.n; i++)
        if (qmp_send_command(s->qmp, "device_del", sv_obj2("id", u->paths.v[i], NULL, NULL),
                             sv_job_accepted, s) < 0) {
            sv_job_finish(s, NULL);
            break;
        }
    return SV_DEFERRED;
}

json_object *sv_vcpu_set(sv *s, json_object *args)
{
    int64_t want;
    AUTOFREE char *what = kx_asprintf("the vCPU count of '%s' (maxvcpus %u)", s->name,
                                      s->cfg->maxvcpus);
    if (arg_number(args, "vcpus", 1, s->cfg->maxvcpus, what, &want, NULL) < 0)
        return NULL;
    AUTOPTR(json_object) ret = NULL;
    size_t n, used;
    AUTOFREE cpu_slot *slots = query_slots(s, &ret, &n, &used);
    if (!slots)
        return NULL;
    if ((size_t)want < used) {
        sv_event(s, "vcpu-set: %zu vCPUs to %lld", used, (long long)want);
        return unplug_from(s, slots, n, (size_t)want);
    }
    if ((size_t)want > used && check_pluggable(s) < 0)
        return NULL;
    int rc = 0;
    for (size_t i = 0; i < n && used < (size_t)want && rc == 0; i++)
        if (!slots[i].qom_path && (rc = plug_cpu(s, &slots[i], (unsigned)i)) == 0)
            used++;
    AUTOFREE char *why = rc < 0 ? kx_strdup(kx_err_msg()) : NULL;
    vcpus_sync(s);
    if (rc < 0) {
        kx_err(KXL_ERR_QEMU, "%s", why);
        return NULL;
    }
    sv_event(s, "vcpu-set: %u vCPUs", s->cfg->vcpus);
    return json_object_new_object();
}

/* ---- mem-set, mem-max ---- */

json_object *sv_mem_set(sv *s, json_object *args)
{
    if (!kxl_domcfg_has_balloon(s->cfg)) {
        kx_err(KXL_ERR_STATE, "domain '%s' has no balloon to change its memory with (give it "
               "maxmem above memory in its config)", s->name);
        return NULL;
    }
    int64_t mib;
    uint64_t ceiling = kxl_domcfg_mem_ceiling(s->cfg);
    AUTOFREE char *what = kx_asprintf("the memory of '%s' in MiB (mem-max %llu)", s->name,
                                      (unsigned long long)ceiling);
    if (arg_number(args, "memory_mib", KXL_MEMORY_MIN_MIB, (int64_t)ceiling, what, &mib,
                   NULL) < 0)
        return NULL;
    json_object *a = json_object_new_object();
    json_object_object_add(a, "value", json_object_new_int64(mib << 20));
    if (qmp_execute(s->qmp, "balloon", a, NULL, 5000) < 0)
        return NULL;
    /* the balloon stays for a restart even when memory now reaches maxmem */
    s->cfg->balloon = true;
    s->cfg->memory_mib = s->st.memory_mib = (uint64_t)mib;
    static const char *const keys[] = {"memory", "balloon", NULL};
    if (status_write(s->dir, &s->st) < 0 || sv_save_config_keys(s, keys) < 0)
        sv_event(s, "cannot record the memory: %s", kx_err_msg());
    sv_event(s, "mem-set: %lld MiB", (long long)mib);
    return json_object_new_object();
}

json_object *sv_mem_max(sv *s, json_object *args)
{
    int64_t mib;
    /* QEMU's balloon can only give back what it took: maxmem, the RAM QEMU booted with, is the
     * most */
    AUTOFREE char *what = kx_asprintf("the most memory of '%s' in MiB (from its memory to its "
                                      "maxmem)", s->name);
    if (arg_number(args, "maxmem_mib", (int64_t)s->cfg->memory_mib,
                   (int64_t)s->cfg->maxmem_mib, what, &mib, NULL) < 0)
        return NULL;
    s->cfg->mem_max_mib = (uint64_t)mib == s->cfg->maxmem_mib ? 0 : (uint64_t)mib;
    if (sv_save_config_list(s, "mem_max") < 0)
        sv_event(s, "cannot record mem-max: %s", kx_err_msg());
    sv_event(s, "mem-max: %lld MiB", (long long)mib);
    return json_object_new_object();
}

/* ---- sched ---- */

json_object *sv_sched(sv *s, json_object *args)
{
    int64_t w = s->cfg->cpu_weight, c = s->cfg->cap;
    bool has_w, has_c;
    AUTOFREE char *wwhat = kx_asprintf("the weight of '%s'", s->name);
    AUTOFREE char *cwhat = kx_asprintf("the cap of '%s' (percent of one CPU, 0 for none; 100 "
                                       "times maxvcpus at most)", s->name);
    if (arg_number(args, "weight", KXL_CPU_WEIGHT_MIN, KXL_CPU_WEIGHT_MAX, wwhat, &w,
                   &has_w) < 0 ||
        arg_number(args, "cap", 0, 100 * (int64_t)s->cfg->maxvcpus, cwhat, &c, &has_c) < 0)
        return NULL;
    if (!s->cgroup.dirs.n) {
        kx_err(KXL_ERR_HOST, "domain '%s' has no cgroup of its own (its event log says why)",
               s->name);
        return NULL;
    }
    if (cgroup_set_cpu(&s->cgroup, (unsigned)w, (unsigned)c) < 0) {
        AUTOFREE char *why = kx_strdup(kx_err_msg());
        /* a file written before the one that refused goes back */
        cgroup_set_cpu(&s->cgroup, s->cfg->cpu_weight, s->cfg->cap);
        kx_err(KXL_ERR_HOST, "%s", why);
        return NULL;
    }
    s->cfg->cpu_weight = (unsigned)w;
    s->cfg->cap = (unsigned)c;
    static const char *const keys[] = {"cpu_weight", "cap", NULL};
    if (sv_save_config_keys(s, keys) < 0)
        sv_event(s, "cannot record the weight and cap: %s", kx_err_msg());
    sv_event(s, "sched: weight %lld, cap %lld", (long long)w, (long long)c);
    return json_object_new_object();
}
