/* test_cfg2argv.c - golden tests: every tests/data/cfg2argv/NAME.cfg is parsed
 * and turned into a QEMU argv with fixed host facts; the result (one option
 * per line, warnings first as "# " lines) must equal NAME.args, or, when the
 * config is refused, the message must equal NAME.err. The config must also
 * survive a trip through JSON unchanged. KXL_TEST_REGENERATE=1 rewrites the
 * expectations; an expectation without its .cfg fails the run. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "cfg/cfg_keys.h"
#include "kxl/kxl.h"
#include "qemu/qemu_argv.h"
#include "qemu/qemu_fdsets.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

static int failures;

static void collect(kx_loglevel level, const char *msg, void *opaque)
{
    (void)level;
    kx_buf_printf(opaque, "# %s\n", msg);
}

/* One option per line: an argument starting with '-' opens a new line. */
static void render_argv(const kx_strv *argv, kx_buf *out)
{
    for (size_t i = 0; i < argv->n; i++) {
        if (i > 0)
            kx_buf_addc(out, argv->v[i][0] == '-' ? '\n' : ' ');
        kx_buf_add(out, argv->v[i]);
    }
    kx_buf_addc(out, '\n');
}

static void check_json_roundtrip(const char *name, const kxl_domcfg *cfg)
{
    AUTOPTR(json_object) a = cfg_domcfg_to_json(cfg);
    AUTOPTR(kxl_domcfg) back = cfg_domcfg_from_json(a);
    AUTOPTR(json_object) b = back ? cfg_domcfg_to_json(back) : NULL;
    if (!b || strcmp(kx_json_text(a), kx_json_text(b)) != 0) {
        fprintf(stderr, "FAIL %s: JSON round trip changed the config: %s\n", name,
                back ? kx_json_text(b) : kx_err_msg());
        failures++;
    }
}

/* A golden case may set host facts in a comment line "#host: KEY=VALUE" (qemu_user,
 * pvh_kernel, fdsets, jail_domid, ovmf, machine, incoming); the value is returned (caller
 * frees) or NULL. */
static char *host_fact(const char *file, const char *key)
{
    AUTOFREE char *text = kx_read_file(file, NULL);
    AUTOFREE char *tag = kx_asprintf("#host: %s=", key);
    const char *p = text ? strstr(text, tag) : NULL;
    if (!p)
        return NULL;
    p += strlen(tag);
    return kx_strndup(p, strcspn(p, " \n"));
}

/* "#host: fdsets=yes": each disk with an image as the supervisor hands it over, fd set I
 * for disk I, with a read-only descriptor and, for a writable disk, a read-write one. */
/* Produces the expected text for NAME.cfg; *is_err_r says which file it belongs in. */
static char *run_case(const char *name, bool *is_err_r)
{
    kx_buf out = KX_BUF_INIT;
    kx_log_set_sink(collect, &out);
    AUTOFREE char *file = kx_asprintf("%s.cfg", name);
    AUTOPTR(kxl_domcfg) cfg = cfg_load(file, NULL, 8, 0);
    kx_strv argv = KX_STRV_INIT;
    AUTOFREE char *dir = kx_asprintf("/run/kxl/%s", cfg ? cfg->name : "x");
    kx_host host = {.qemu_binary = "/usr/bin/qemu-system-x86_64", .run_dir = dir,
                    .accel = cfg && cfg->accel == KXL_ACCEL_KVM ? KXL_ACCEL_KVM : KXL_ACCEL_TCG,
                    .sandbox = true};
    AUTOFREE char *user = host_fact(file, "qemu_user");
    AUTOFREE char *pvh = host_fact(file, "pvh_kernel");
    host.qemu_user = user;
    host.pvh_kernel = pvh;
    AUTOFREE char *ovmf = host_fact(file, "ovmf");
    if (ovmf) {    /* as host_ovmf names them for a domain whose uuid is the config's */
        host.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd";
        host.ovmf_vars = "/var/lib/kxl/nvram/UUID_VARS.fd";
    }
    AUTOFREE char *jail_domid = host_fact(file, "jail_domid");
    if (jail_domid) {    /* as host_jail_qemu fills it (lib, not linked here) */
        host.jail_uid = KXL_QEMU_JAIL_UID_BASE +
                        (unsigned)strtoul(jail_domid, NULL, 10) % KXL_QEMU_JAIL_UIDS;
        host.jail_root = "/run/kxl/.jail";
    }
    AUTOFREE char *now = host_fact(file, "now");
    host.now = now ? strtoll(now, NULL, 10) : 0;
    AUTOFREE char *machine = host_fact(file, "machine");
    AUTOFREE char *incoming = host_fact(file, "incoming");
    host.machine = machine;
    host.incoming = incoming && strcmp(incoming, "yes") == 0;
    AUTOFREE char *fdsets = host_fact(file, "fdsets");
    qemu_fdsets fds = {0};
    if (fdsets && cfg) {
        qemu_placeholder_fdsets(cfg, 10, &fds);
        host.disk_sources = fds.sources;
        host.add_fds = &fds.add_fds;
    }
    *is_err_r = !cfg || qemu_build_argv(cfg, &host, &argv) < 0;
    kx_log_set_sink(NULL, NULL);
    if (*is_err_r)
        kx_buf_printf(&out, "%s\n", kx_err_msg());
    else {
        render_argv(&argv, &out);
        check_json_roundtrip(name, cfg);
    }
    kx_strv_dispose(&argv);
    qemu_fdsets_dispose(&fds);
    return kx_buf_steal(&out);
}

static void check_case(const char *name, bool regenerate)
{
    bool is_err;
    AUTOFREE char *got = run_case(name, &is_err);
    AUTOFREE char *want_file = kx_asprintf("%s.%s", name, is_err ? "err" : "args");
    AUTOFREE char *other_file = kx_asprintf("%s.%s", name, is_err ? "args" : "err");
    if (regenerate) {
        unlink(other_file);
        kx_write_file_atomic(want_file, got, strlen(got), 0644);
        return;
    }
    AUTOFREE char *want = kx_read_file(want_file, NULL);
    if (!want || strcmp(want, got) != 0) {
        fprintf(stderr, "FAIL %s: expected %s:\n%s\ngot:\n%s\n", name, want_file,
                want ? want : "(missing)", got);
        failures++;
    } else if (kx_path_exists(other_file)) {
        fprintf(stderr, "FAIL %s: stale %s next to %s\n", name, other_file, want_file);
        failures++;
    } else {
        printf("ok %s\n", name);
    }
}

/* An expectation without its config is dead weight that hides nothing: fail. */
static void check_unused(const char *file)
{
    const char *dot = strrchr(file, '.');
    if (!dot || (strcmp(dot, ".args") != 0 && strcmp(dot, ".err") != 0))
        return;
    AUTOFREE char *cfg = kx_asprintf("%.*s.cfg", (int)(dot - file), file);
    if (!kx_path_exists(cfg)) {
        fprintf(stderr, "FAIL unused data file %s (no %s)\n", file, cfg);
        failures++;
    }
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    if (argc != 2 || chdir(argv[1]) < 0) {
        fprintf(stderr, "usage: test_cfg2argv DATA_DIR\n");
        return 2;
    }
    bool regenerate = getenv("KXL_TEST_REGENERATE") && *getenv("KXL_TEST_REGENERATE") == '1';
    struct dirent **list;
    int n = scandir(".", &list, NULL, by_name);
    int cases = 0;
    for (int i = 0; i < n; i++) {
        const char *f = list[i]->d_name;
        size_t len = strlen(f);
        if (len > 4 && strcmp(f + len - 4, ".cfg") == 0) {
            AUTOFREE char *name = kx_strndup(f, len - 4);
            check_case(name, regenerate);
            cases++;
        } else {
            check_unused(f);
        }
        free(list[i]);
    }
    free(list);
    printf("%d cases, %d failures\n", cases, failures);
    return failures || cases == 0 ? 1 : 0;
}
