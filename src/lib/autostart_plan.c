/* autostart_plan.c - the order in which autostart domains start: pure, from the configs found
 * (src/lib/autostart_scan.c finds them). Lower orders first, equal orders together, then the
 * domains without an order one by one in name order; a broken config, or a second config of a
 * domain, is skipped with its reason. */
#include <stdlib.h>
#include <string.h>

#include "kxl/autostart.h"
#include "util/buf.h"
#include "util/cleanup.h"

/* Marks every entry naming a domain an earlier entry names. */
static void skip_duplicates(kxl_autostart_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; e[i].cfg && j < i; j++) {
            if (e[j].cfg && strcmp(e[j].cfg->name, e[i].cfg->name) == 0) {
                e[i].error = kx_asprintf("%s: domain '%s' is already started by '%s'; skipped",
                                         e[i].config, e[i].cfg->name, e[j].config);
                kxl_domcfg_free(e[i].cfg);
                e[i].cfg = NULL;
            }
        }
    }
}

/* What the start order needs of an entry. */
typedef struct {
    int order;
    const char *name;
    size_t index;
} start_key;

/* Ordered ones by order, then the others; by name within. */
static int by_start_order(const void *a, const void *b)
{
    const start_key *x = a, *y = b;
    bool xo = x->order >= 0, yo = y->order >= 0;
    if (xo != yo)
        return xo ? -1 : 1;
    if (xo && x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void add_batch(kxl_autostart_plan *plan, const start_key *keys, size_t n)
{
    plan->batches = kx_realloc(plan->batches, (plan->n_batches + 1) * sizeof(*plan->batches));
    kxl_autostart_batch *b = &plan->batches[plan->n_batches++];
    b->members = kx_malloc0(n * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        b->members[i] = keys[i].index;
    b->n = n;
}

void kxl_autostart_plan_build(kxl_autostart_entry *entries, size_t n, kxl_autostart_plan *plan_r)
{
    *plan_r = (kxl_autostart_plan){.entries = entries, .n_entries = n};
    skip_duplicates(entries, n);
    AUTOFREE start_key *keys = kx_malloc0((n + 1) * sizeof(start_key));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (entries[i].cfg)
            keys[k++] = (start_key){entries[i].cfg->startup_order, entries[i].cfg->name, i};
    qsort(keys, k, sizeof(start_key), by_start_order);
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (keys[i].order >= 0 && j < k && keys[j].order == keys[i].order)
            j++;
        add_batch(plan_r, keys + i, j - i);
        i = j;
    }
}

void kxl_autostart_plan_dispose(kxl_autostart_plan *plan)
{
    for (size_t i = 0; i < plan->n_entries; i++) {
        free(plan->entries[i].config);
        free(plan->entries[i].error);
        kxl_domcfg_free(plan->entries[i].cfg);
    }
    for (size_t i = 0; i < plan->n_batches; i++)
        free(plan->batches[i].members);
    free(plan->entries);
    free(plan->batches);
    *plan = (kxl_autostart_plan){0};
}

const kxl_autostart_entry *kxl_autostart_find(const kxl_autostart_plan *plan, const char *name)
{
    for (size_t i = 0; i < plan->n_entries; i++)
        if (plan->entries[i].cfg && strcmp(plan->entries[i].cfg->name, name) == 0)
            return &plan->entries[i];
    return NULL;
}

unsigned kxl_autostart_down(const kxl_domcfg *cfg)
{
    return cfg->startup_down ? cfg->startup_down : cfg->shutdown_timeout;
}
