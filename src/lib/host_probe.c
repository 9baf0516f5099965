/* host_probe.c - the one probe of what a domain's QEMU gets from this host (binary, user,
 * accelerator, sandbox, vhost, PVH kernel), used by the supervisor to start QEMU and by the
 * dry run to show what it would start. */
#include "lib/host_probe.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kxl/ops.h"
#include "lib/host_conf.h"
#include "lib/runtime.h"
#include "qemu/qemu_fdsets.h"
#include "boot/pvh.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

int kxl_host_probe(kxl_accel want, kxl_host_facts *f_r)
{
    *f_r = (kxl_host_facts){0};
    if (kxl_accel_resolve(want, &f_r->accel, &f_r->accel_notice) < 0)
        return -1;
    f_r->qemu_binary = kxl_qemu_binary();
    f_r->qemu_user = kxl_qemu_user(&f_r->why_root);
    f_r->sandbox = qemu_sandbox_wanted();
    f_r->vhost = f_r->accel == KXL_ACCEL_KVM && access("/dev/vhost-net", R_OK | W_OK) == 0;
    return 0;
}

void kxl_host_facts_dispose(kxl_host_facts *f)
{
    free(f->qemu_binary);
    free(f->qemu_user);
    free(f->why_root);
    free(f->accel_notice);
    *f = (kxl_host_facts){0};
}

void host_facts_to_qemu(const kxl_host_facts *f, const char *run_dir, kx_host *h_r)
{
    *h_r = (kx_host){.qemu_binary = f->qemu_binary, .run_dir = run_dir, .accel = f->accel,
                     .sandbox = f->sandbox, .vhost = f->vhost, .qemu_user = f->qemu_user,
                     .is_block_device = kx_is_block_device, .now = (long long)time(NULL)};
}

void host_jail_qemu(kx_host *h, unsigned domid, const char *jail_root)
{
    if (!h->qemu_user)
        return;
    h->jail_uid = kxl_qemu_jail_uid(domid);
    h->jail_root = jail_root;
}

char *host_jail_root(const kxl_paths *p, bool make)
{
    char *dir = kx_path_join(p->run_dir, ".jail");
    if (make && mkdir(dir, 0555) < 0 && errno != EEXIST) {
        kx_err_errno(KXL_ERR_HOST, "cannot create '%s'", dir);
        free(dir);
        return NULL;
    }
    return dir;
}

/* Debian's ovmf package: the 4 MiB build without Secure Boot (QEMU's firmware descriptor
 * 60-edk2-x86_64.json names the same pair) */
#define OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define OVMF_VARS_TEMPLATE "/usr/share/OVMF/OVMF_VARS_4M.fd"

static int copy_vars_template(const char *to)
{
    size_t len = 0;
    AUTOFREE char *data = kx_read_file(OVMF_VARS_TEMPLATE, &len);
    if (!data)
        return -1;
    return kx_write_file_atomic(to, data, len, 0600);
}

int host_ovmf(const kxl_paths *p, const kxl_domcfg *cfg, bool make, char **code_r,
              char **vars_r)
{
    *code_r = *vars_r = NULL;
    if (!kx_streq(cfg->firmware, "ovmf") || !kx_path_exists(OVMF_CODE))
        return 0;
    AUTOFREE char *dir = kx_path_join(p->lib_dir, "nvram");
    /* by uuid: the store follows the domain through renames, as its identity does */
    AUTOFREE char *vars = kx_asprintf("%s/%s_VARS.fd", dir, cfg->uuid[0] ? cfg->uuid : "UUID");
    if (make && !kx_path_exists(vars) &&
        (kx_mkdir_p(dir, 0700) < 0 || copy_vars_template(vars) < 0))
        return -1;
    *code_r = kx_strdup(OVMF_CODE);
    *vars_r = TAKE_PTR(vars);
    return 0;
}

int host_pvh_kernel(const kxl_paths *p, const kxl_domcfg *cfg, char **elf_r, char **why_r)
{
    *elf_r = NULL;
    *why_r = NULL;
    if (cfg->type == KXL_TYPE_HVM || !cfg->kernel)
        return 0;
    if (cfg->vtpm) {
        /* with a TPM, SeaBIOS lays out its tables around the TPM's event log, and a kernel
         * entered at its PVH entry finds garbage where they should be: no ACPI, so no TPM */
        *why_r = kx_strdup("a vtpm needs the ACPI tables that only the BIOS boot keeps");
        return 0;
    }
    AUTOFREE char *cache = kx_path_join(p->lib_dir, "pvh-kernels");
    return pvh_kernel_prepare(cfg->kernel, cache, elf_r, why_r);
}

static char **strv_to_argv(kx_strv *v)
{
    char **argv = kx_malloc0((v->n + 1) * sizeof(*argv));
    for (size_t i = 0; i < v->n; i++)
        argv[i] = kx_strdup(v->v[i]);
    return argv;
}

int kxl_domain_qemu_argv(const kxl_paths *p, const kxl_domcfg *cfg, char ***argv_r,
                         char **notice_r)
{
    kxl_host_facts facts;
    if (host_dm_args_check(p, cfg) < 0 || kxl_host_probe(cfg->accel, &facts) < 0)
        return -1;
    AUTOFREE char *dir = kxl_domain_dir(p, cfg->name);
    kx_host host;
    host_facts_to_qemu(&facts, dir, &host);
    AUTOFREE char *jail = host_jail_root(p, false);
    host_jail_qemu(&host, runtime_peek_domid(p), jail);   /* the id a create now would get */
    AUTOFREE char *ovmf_code = NULL;
    AUTOFREE char *ovmf_vars = NULL;
    if (host_ovmf(p, cfg, false, &ovmf_code, &ovmf_vars) < 0)
        kx_err_clear();
    host.ovmf_code = ovmf_code;
    host.ovmf_vars = ovmf_vars;
    AUTOFREE char *tpm_socket = kx_path_join(dir, "swtpm.sock");   /* as the supervisor binds */
    host.tpm_socket = tpm_socket;
    AUTOFREE char *elf = NULL;
    AUTOFREE char *why = NULL;
    if (host_pvh_kernel(p, cfg, &elf, &why) < 0)
        kx_err_clear();   /* QEMU gets the kernel as it is; the start would say why */
    host.pvh_kernel = elf;
    size_t n_vifs = 0;
    for (size_t i = 0; i < cfg->n_vifs; i++)
        n_vifs += !cfg->vifs[i].unplugged;
    qemu_fdsets fds;
    qemu_placeholder_fdsets(cfg, QEMU_TAP_FD((int)n_vifs), &fds);
    host.disk_sources = fds.sources;
    host.add_fds = &fds.add_fds;
    kx_strv argv = KX_STRV_INIT;
    int r = qemu_build_argv(cfg, &host, &argv);
    if (r == 0) {
        *argv_r = strv_to_argv(&argv);
        *notice_r = TAKE_PTR(facts.accel_notice);
    }
    kx_strv_dispose(&argv);
    qemu_fdsets_dispose(&fds);
    kxl_host_facts_dispose(&facts);
    return r;
}

void kxl_argv_free(char **argv)
{
    for (char **a = argv; a && *a; a++)
        free(*a);
    free(argv);
}
