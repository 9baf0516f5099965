/* ops_power.c - shutdown and reboot, as xl has them: the guest is asked (ACPI power button,
 * Ctrl+Alt+Del) and decides; -w waits for the outcome, -H forces it after a timeout, -a asks
 * every domain first and then waits for each. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lib/control.h"
#include "lib/ops_call.h"
#include "lib/runtime.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define REBOOT_FORCE_S 60

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

/* Sends op's verb to the domain found as DOM; *info_r describes it as it was. */
static int ask(const kxl_paths *p, kxl_op op, const char *dom, kxl_dominfo *info_r)
{
    if (kxl_domain_lookup(p, dom, info_r) < 0)
        return -1;
    const kxl_op_desc *d = kxl_op_describe(op);
    return control_call(p, info_r->name, d->verb, NULL, NULL, d->timeout_ms);
}

/* Polls until done(now) says the domain got where it was going, or timeout_s (0: never);
 * a domain that is gone is done. */
static bool wait_for(const kxl_paths *p, const kxl_dominfo *before, int timeout_s,
                     bool (*done)(const kxl_dominfo *before, const kxl_dominfo *now))
{
    time_t end = time(NULL) + timeout_s;
    while (timeout_s <= 0 || time(NULL) < end) {
        kxl_dominfo now;
        if (kxl_domain_lookup(p, before->name, &now) < 0) {
            kx_err_clear();
            return true;
        }
        if (done(before, &now))
            return true;
        usleep(50000);
    }
    return false;
}

/* Preserved as shut down, or running on a new QEMU (on_poweroff = restart, a reboot). */
static bool down_or_restarted(const kxl_dominfo *before, const kxl_dominfo *now)
{
    return now->state == KXL_STATE_SHUTDOWN || now->qemu_pid != before->qemu_pid;
}

static unsigned shutdown_timeout(const kxl_paths *p, const char *name)
{
    AUTOPTR(kxl_domcfg) cfg = runtime_read_config(p, name);
    kx_err_clear();
    return cfg ? cfg->shutdown_timeout : 60;
}

static int shutdown_outcome(const kxl_paths *p, const kxl_dominfo *info, bool force)
{
    unsigned timeout = force ? shutdown_timeout(p, info->name) : 0;
    if (wait_for(p, info, (int)timeout, down_or_restarted))
        return 0;
    kx_notice("kxl: '%s' did not shut down within %u s; destroying it", info->name, timeout);
    return kxl_domain_destroy(p, info->name);
}

static int reboot_outcome(const kxl_paths *p, const kxl_dominfo *info, bool force)
{
    if (wait_for(p, info, force ? REBOOT_FORCE_S : 0, down_or_restarted))
        return 0;
    kx_notice("kxl: '%s' did not reboot within %d s; resetting it", info->name, REBOOT_FORCE_S);
    return kxl_domain_trigger(p, info->name, "reset");
}

typedef int (*outcome_fn)(const kxl_paths *p, const kxl_dominfo *info, bool force);

static int power_one(const kxl_paths *p, kxl_op op, const char *dom, const kxl_power_opts *o,
                     outcome_fn outcome)
{
    kxl_dominfo info;
    if (ask(p, op, dom, &info) < 0)
        return -1;
    if (o && (o->wait || o->force))
        return outcome(p, &info, o->force);
    return 0;
}

static int power_all(const kxl_paths *p, kxl_op op, const kxl_power_opts *o, outcome_fn outcome,
                     kxl_failure_fn failed, void *opaque)
{
    AUTOFREE kxl_dominfo *d = NULL;
    size_t n;
    if (kxl_domain_list(p, &d, &n) < 0) {
        if (failed)
            failed(NULL, opaque);
        return -1;
    }
    int r = 0;
    AUTOFREE bool *asked = kx_malloc0(n + 1);
    for (size_t i = 0; i < n; i++) {
        kxl_dominfo now;
        asked[i] = ask(p, op, d[i].name, &now) == 0;
        if (!asked[i] && failed)
            failed(d[i].name, opaque);
        r = asked[i] ? r : -1;
    }
    for (size_t i = 0; i < n && o && (o->wait || o->force); i++) {
        if (asked[i] && outcome(p, &d[i], o->force) < 0) {
            if (failed)
                failed(d[i].name, opaque);
            r = -1;
        }
    }
    return r;
}

int kxl_domain_shutdown(const kxl_paths *p, const char *dom, const kxl_power_opts *o)
{
    return power_one(p, KXL_OP_SHUTDOWN, dom, o, shutdown_outcome);
}

int kxl_domain_reboot(const kxl_paths *p, const char *dom, const kxl_power_opts *o)
{
    return power_one(p, KXL_OP_REBOOT, dom, o, reboot_outcome);
}

int kxl_domain_shutdown_all(const kxl_paths *p, const kxl_power_opts *o, kxl_failure_fn failed,
                            void *opaque)
{
    return power_all(p, KXL_OP_SHUTDOWN, o, shutdown_outcome, failed, opaque);
}

int kxl_domain_reboot_all(const kxl_paths *p, const kxl_power_opts *o, kxl_failure_fn failed,
                          void *opaque)
{
    return power_all(p, KXL_OP_REBOOT, o, reboot_outcome, failed, opaque);
}
