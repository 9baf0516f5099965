/* ops_restore.c - kxl restore: the save file's header is read and checked here, before any
 * QEMU starts (a foreign, damaged, truncated or newer file, or one saved under an accelerator
 * this host lacks, is refused with what is wrong); then the domain is created from the saved
 * config as create does, its supervisor starting QEMU with -incoming and feeding it the stream
 * (sv_restore.c). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg/cfg_json.h"
#include "cfg/cfg_keys.h"
#include "kxl/ops.h"
#include "lib/migrate.h"
#include "migrate/mig_header.h"
#include "qemu/qemu_argv.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

/* The header of the open save file: 0 with *h_r (mig_header_dispose) and *len_r its length. */
static int read_header(int fd, const char *file, off_t size, mig_header *h_r, size_t *len_r)
{
    size_t want = MIG_FIXED_LEN, have = 0;
    AUTOFREE char *buf = NULL;
    for (;;) {
        if ((off_t)want > size) {
            kx_err(KXL_ERR_INVALID, "'%s' is truncated: its header needs %zu bytes, the file "
                   "has %lld", file, want, (long long)size);
            return -1;
        }
        buf = kx_realloc(buf, want);
        ssize_t n = pread(fd, buf + have, want - have, (off_t)have);
        if (n <= 0) {
            kx_err_errno(KXL_ERR_INVALID, "cannot read '%s'", file);
            return -1;
        }
        have += (size_t)n;
        int r = mig_header_decode(buf, have, file, h_r, &want);
        if (r <= 0) {
            *len_r = want;
            return r;
        }
    }
}

/* The QEMU stream after the header: all there, and QEMU's. */
static int check_stream(int fd, const char *file, off_t size, const mig_header *h, size_t at)
{
    uint64_t present = (uint64_t)size - at;
    if (h->stream_len && present < h->stream_len) {
        kx_err(KXL_ERR_INVALID, "'%s' is truncated: it holds %llu of the %llu bytes of saved "
               "state", file, (unsigned long long)present, (unsigned long long)h->stream_len);
        return -1;
    }
    if (h->stream_len && present > h->stream_len) {
        kx_err(KXL_ERR_INVALID, "'%s' is damaged: %llu bytes follow the saved state", file,
               (unsigned long long)(present - h->stream_len));
        return -1;
    }
    char magic[8];
    ssize_t n = pread(fd, magic, sizeof(magic), (off_t)at);
    return mig_stream_check(magic, n > 0 ? (size_t)n : 0, file);
}

/* The stream loads only under the accelerator and CPU model it was saved with. */
static int check_accel(const mig_header *h, const char *file, kxl_domcfg *cfg)
{
    int accel = kxl_accel_from_string(h->accel);
    if ((accel != KXL_ACCEL_KVM && accel != KXL_ACCEL_TCG) ||
        strcmp(h->cpu_model, qemu_cpu_model(cfg, (kxl_accel)accel)) != 0) {
        kx_err(KXL_ERR_INVALID, "'%s' was saved under accelerator '%s' with CPU model '%s', "
               "which this kxl cannot restore", file, h->accel, h->cpu_model);
        return -1;
    }
    AUTOFREE char *why = NULL;
    if (accel == KXL_ACCEL_KVM && !kxl_kvm_usable(&why)) {
        kx_err(KXL_ERR_HOST, "'%s' was saved under KVM (CPU model '%s'); this host cannot run "
               "KVM guests (%s): restore it on a KVM host", file, h->cpu_model, why);
        return -1;
    }
    cfg->accel = (kxl_accel)accel;
    return 0;
}

void restore_forget_tap_names(kxl_domcfg *cfg)
{
    for (size_t i = 0; i < cfg->n_vifs; i++) {
        unsigned id;
        size_t idx;
        char end;
        const char *n = cfg->vifs[i].vifname;
        if (n && sscanf(n, "vif%u.%zu%c", &id, &idx, &end) == 2 && idx == i) {
            free(cfg->vifs[i].vifname);
            cfg->vifs[i].vifname = NULL;
        }
    }
}

static kxl_domcfg *restore_config(const mig_header *h, const kxl_restore_opts *o)
{
    kxl_domcfg *cfg = o->config_file
                          ? cfg_load(o->config_file, NULL, kxl_host_cpus(), CFG_LOAD_CHECK_FILES)
                          : cfg_domcfg_from_json(h->config);
    if (cfg)
        restore_forget_tap_names(cfg);
    return cfg;
}

int kxl_domain_restore(const kxl_paths *p, const char *file, const kxl_restore_opts *o,
                       char **name_r, unsigned *domid_r)
{
    char cwd[PATH_MAX];
    AUTOFREE char *abs = file[0] == '/' ? kx_strdup(file)
                         : kx_asprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".", file);
    AUTOCLOSE int fd = open(abs, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        kx_err_errno(KXL_ERR_NOT_FOUND, "cannot open the save file '%s'", file);
        return -1;
    }
    mig_header h;
    size_t at = 0;
    if (read_header(fd, file, st.st_size, &h, &at) < 0)
        return -1;
    AUTOPTR(kxl_domcfg) cfg = NULL;
    kxl_create_opts c = {.paused = o->paused, .supervisor = o->supervisor, .restore_file = abs,
                         .restore_offset = at, .restore_qemu = h.qemu_version,
                         .machine = h.machine};
    int r = -1;
    if (check_stream(fd, file, st.st_size, &h, at) == 0 && (cfg = restore_config(&h, o)) &&
        check_accel(&h, file, cfg) == 0)
        r = kxl_domain_create(p, cfg, &c, domid_r);
    if (r == 0 && name_r)
        *name_r = kx_strdup(cfg->name);
    mig_header_dispose(&h);
    return r;
}
