/* list.h - the domains as list reads them, with what the library's other readers (top) need
 * besides: the status file and whether QEMU lives, so that nothing is read twice. */
#pragma once

#include "kxl/kxl.h"
#include "lib/status.h"

typedef struct {
    kxl_dominfo info;   /* without vCPU figures unless asked for */
    kx_status st;
    bool qemu_alive;    /* the recorded QEMU is still the same live process */
} list_entry;

/* Every live domain, sorted by domid; with vcpus, info's vCPU figures (running, blocked,
 * cpu_seconds) are read from /proc. *entries_r: free(). */
int list_entries(const kxl_paths *p, bool vcpus, list_entry **entries_r, size_t *n_r);
/* One domain of list_entries, by the name of its runtime directory: false when it is no live
 * domain (a half-created directory is then cleared, as list_entries does). */
bool list_entry_read(const kxl_paths *p, const char *name, bool vcpus, list_entry *e);
/* Sorts entries by domid, as list_entries returns them. */
void list_entries_sort(list_entry *entries, size_t n);
