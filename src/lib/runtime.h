/* runtime.h - the runtime directory of domains: the host-wide lock, name
 * reservation, domain ids, stale-state cleanup. */
#pragma once

#include "kxl/kxl.h"
#include "lib/status.h"

/* Takes the host-wide lock (flock on ROOT/run/kxl/.lock); returns its fd. */
int runtime_lock(const kxl_paths *p);
/* Creates ROOT/run/kxl/NAME atomically; the caller holds the lock. A
 * directory left by a domain whose QEMU and supervisor are gone is removed
 * first. Fails with KXL_ERR_EXISTS when the name is in use. */
int runtime_reserve_name(const kxl_paths *p, const char *name);
/* The next domain id (from 1, increasing, persistent across restarts of kxl). */
int runtime_next_domid(const kxl_paths *p, unsigned *domid_r);
/* The next domain id whose QEMU jail uid no live domain but name has; the caller holds the
 * lock. */
int runtime_take_domid(const kxl_paths *p, const char *name, unsigned *domid_r);
/* The id the next create would get (nothing is taken). */
unsigned runtime_peek_domid(const kxl_paths *p);
/* Removes the domain's runtime directory. */
int runtime_remove(const kxl_paths *p, const char *name);
/* Starts kxl-supervisor for name (sv_path NULL: found next to this program)
 * and waits for its verdict: 0 when the guest runs, -1 when it reported an
 * error (and cleaned up), -2 when it died without a word. With adopt, the
 * supervisor takes over a QEMU whose supervisor is gone. With incoming_fd (>= 0), the
 * supervisor gets it as KXL_SUPERVISOR_INCOMING_FD (a migration's stream), and *lifeline_r
 * the verdict pipe's read end once it said OK: the supervisor destroys the domain when it
 * closes before "incoming-commit". */
#define KXL_SUPERVISOR_INCOMING_FD 4
int runtime_start_supervisor(const kxl_paths *p, const char *name, const char *sv_path,
                             bool adopt, int incoming_fd, int *lifeline_r);
/* Adopts the domain if its supervisor is gone (killed): a new supervisor
 * takes over its QEMU, or applies on_crash if QEMU is gone too. */
int runtime_ensure_supervisor(const kxl_paths *p, const char *name);
/* Removes name's runtime directory when it is what a create killed before its supervisor
 * ran leaves: no live creator or supervisor, and no domain id yet (a domain that ran keeps
 * its directory for adoption and on_crash). 1 when removed, 0 when not such a directory. */
int runtime_clear_half_created(const kxl_paths *p, const char *name);
/* Waits up to 3 s for a domain whose supervisor was told to end it to be gone (its runtime
 * directory removed, the supervisor's last act); -1 with kx_err when it is still there. */
int runtime_wait_gone(const kxl_paths *p, const char *name);
/* True when the runtime directory belongs to a live domain. */
bool runtime_is_live(const kxl_paths *p, const char *name);
/* The resolved config of domain name as its supervisor keeps it (domain.json); NULL with
 * kx_err. Caller frees (kxl_domcfg_free). */
kxl_domcfg *runtime_read_config(const kxl_paths *p, const char *name);
/* Calls fn with the resolved config (domain.json) of every live domain but skip (may be
 * NULL), until fn returns non-zero, which is then returned; 0 when all were visited.
 * Domains whose config cannot be read are passed over. */
int runtime_each_config(const kxl_paths *p, const char *skip,
                        int (*fn)(const char *name, const kxl_domcfg *cfg, void *opaque),
                        void *opaque);
