/* autostart_list.c - kxl autostart-list and GET /api/v1/autostart: the plan as JSON (with what
 * each domain is now: running, to be restored) and the record of the last boot's run; and the
 * command's text of that JSON (pure). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kxl/autostart.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

static void add_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

static json_object *domain_json(const kxl_paths *p, const kxl_autostart_entry *e)
{
    const kxl_domcfg *c = e->cfg;
    json_object *o = json_object_new_object();
    kxl_dominfo info;
    AUTOFREE char *save = kxl_autostart_save_file(p, c->name);
    add_str(o, "name", c->name);
    add_str(o, "config", e->config);
    json_object_object_add(o, "order", c->startup_order >= 0 ? json_object_new_int(c->startup_order)
                                                             : NULL);
    json_object_object_add(o, "up", json_object_new_int64(c->startup_up));
    json_object_object_add(o, "down", json_object_new_int64(kxl_autostart_down(c)));
    add_str(o, "ready", c->startup_ready);
    add_str(o, "on_host_shutdown", kxl_host_shutdown_to_string(c->on_host_shutdown));
    json_object_object_add(o, "restore", json_object_new_boolean(kx_path_exists(save)));
    json_object_object_add(o, "running",
                           json_object_new_boolean(kxl_domain_lookup(p, c->name, &info) == 0));
    kx_err_clear();
    return o;
}

static json_object *plan_json(const kxl_paths *p, const kxl_autostart_plan *plan)
{
    json_object *batches = json_object_new_array();
    for (size_t i = 0; i < plan->n_batches; i++) {
        const kxl_autostart_batch *b = &plan->batches[i];
        json_object *o = json_object_new_object(), *doms = json_object_new_array();
        int order = plan->entries[b->members[0]].cfg->startup_order;
        json_object_object_add(o, "batch", json_object_new_int64((int64_t)i + 1));
        json_object_object_add(o, "order", order >= 0 ? json_object_new_int(order) : NULL);
        for (size_t j = 0; j < b->n; j++)
            json_object_array_add(doms, domain_json(p, &plan->entries[b->members[j]]));
        json_object_object_add(o, "domains", doms);
        json_object_array_add(batches, o);
    }
    return batches;
}

static json_object *skipped_json(const kxl_autostart_plan *plan)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < plan->n_entries; i++) {
        if (!plan->entries[i].error)
            continue;
        json_object *o = json_object_new_object();
        add_str(o, "config", plan->entries[i].config);
        add_str(o, "error", plan->entries[i].error);
        json_object_array_add(a, o);
    }
    return a;
}

/* The record of the last run with "this_boot"; NULL (JSON null) when there was none. */
static json_object *last_json(const kxl_paths *p, const char *boot_id)
{
    AUTOFREE char *path = kx_path_join(p->lib_dir, "autostart-last.json");
    AUTOFREE char *text = kx_path_exists(path) ? kx_read_file(path, NULL) : NULL;
    json_object *last = text ? kx_json_parse(text, path) : NULL;
    kx_err_clear();
    if (last && !json_object_is_type(last, json_type_object)) {
        json_object_put(last);
        return NULL;
    }
    if (last)
        json_object_object_add(last, "this_boot", json_object_new_boolean(
                                   boot_id && strcmp(kx_json_str(last, "boot_id", ""), boot_id) == 0));
    return last;
}

json_object *kxl_autostart_list(const kxl_paths *p, const char *const *extra_dirs)
{
    kxl_autostart_plan plan;
    if (kxl_autostart_scan(p, extra_dirs, &plan) < 0)
        return NULL;
    AUTOFREE char *boot_id = kxl_boot_id();
    kx_err_clear();
    json_object *o = json_object_new_object();
    add_str(o, "boot_id", boot_id);
    json_object_object_add(o, "batches", plan_json(p, &plan));
    json_object_object_add(o, "skipped", skipped_json(&plan));
    json_object_object_add(o, "last", last_json(p, boot_id));
    kxl_autostart_plan_dispose(&plan);
    return o;
}

/* ---- text ---- */

/* "2026-12-06 20:31:05" in UTC of a time in seconds, or "-". */
static void format_time(json_object *t, char out[32])
{
    if (!t || (!json_object_is_type(t, json_type_double) && !json_object_is_type(t, json_type_int))) {
        snprintf(out, 32, "-");
        return;
    }
    time_t s = (time_t)json_object_get_double(t);
    struct tm tm;
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", gmtime_r(&s, &tm));
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void text_batches(json_object *list, kx_buf *b)
{
    json_object *batches = member(list, "batches");
    size_t n = batches ? json_object_array_length(batches) : 0;
    kx_buf_printf(b, "%-5s %-5s %-20s %5s %5s %-8s %-7s %s\n", "Batch", "Order", "Name", "Up",
                  "Down", "HostDown", "Now", "Config");
    for (size_t i = 0; i < n; i++) {
        json_object *batch = json_object_array_get_idx(batches, i);
        json_object *doms = member(batch, "domains");
        for (size_t j = 0; j < json_object_array_length(doms); j++) {
            json_object *d = json_object_array_get_idx(doms, j);
            json_object *order = member(d, "order");
            const char *now = kx_json_bool(d, "running", false)   ? "running"
                              : kx_json_bool(d, "restore", false) ? "saved"
                                                                  : "-";
            kx_buf_printf(b, "%-5zu %-5s %-20s %5lld %5lld %-8s %-7s %s\n", i + 1,
                          order ? json_object_get_string(order) : "-",
                          kx_json_str(d, "name", "?"), (long long)kx_json_int(d, "up", 0),
                          (long long)kx_json_int(d, "down", 0),
                          kx_json_str(d, "on_host_shutdown", "?"), now,
                          kx_json_str(d, "config", "?"));
            if (member(d, "ready") && json_object_get_string(member(d, "ready")))
                kx_buf_printf(b, "      ready when the console shows /%s/\n",
                              kx_json_str(d, "ready", ""));
        }
    }
    json_object *skipped = member(list, "skipped");
    for (size_t i = 0; skipped && i < json_object_array_length(skipped); i++)
        kx_buf_printf(b, "skipped: %s\n", kx_json_str(json_object_array_get_idx(skipped, i),
                                                      "error", "?"));
}

static void text_last(json_object *last, kx_buf *b)
{
    char started[32], finished[32], when[32];
    if (!last || !json_object_is_type(last, json_type_object)) {
        kx_buf_printf(b, "\nNo autostart has run yet.\n");
        return;
    }
    format_time(member(last, "started"), started);
    format_time(member(last, "finished"), finished);
    kx_buf_printf(b, "\nLast autostart (%s, boot %s): started %s UTC, %s%s%s\n",
                  kx_json_bool(last, "this_boot", false) ? "this boot" : "an earlier boot",
                  kx_json_str(last, "boot_id", "?"), started,
                  member(last, "finished") ? "finished " : "not finished",
                  member(last, "finished") ? finished : "", member(last, "finished") ? " UTC" : "");
    json_object *doms = member(last, "domains");
    for (size_t i = 0; doms && i < json_object_array_length(doms); i++) {
        json_object *d = json_object_array_get_idx(doms, i);
        format_time(member(d, "time"), when);
        const char *reason = kx_json_str(d, "reason", NULL);
        kx_buf_printf(b, "  %-20s %-9s %s%s%s\n", kx_json_str(d, "name", "-"),
                      kx_json_str(d, "result", "?"), when, reason ? "  " : "",
                      reason ? reason : "");
    }
}

char *kxl_autostart_list_text(json_object *list)
{
    kx_buf b = KX_BUF_INIT;
    text_batches(list, &b);
    text_last(member(list, "last"), &b);
    return kx_buf_steal(&b);
}
