/* host_probe.h - the host's facts as QEMU's command line takes them, for the supervisor's start
 * and the dry run alike. */
#pragma once

#include "kxl/kxl.h"
#include "qemu/qemu_argv.h"

/* Fills *h_r from f for a domain whose runtime directory is run_dir (borrowed: f and run_dir
 * must outlive *h_r). Disks and the PVH kernel are the caller's to add. */
void host_facts_to_qemu(const kxl_host_facts *f, const char *run_dir, kx_host *h_r);
/* The jail of domain domid's QEMU in *h_r: its own uid (kxl_qemu_jail_uid) and the empty
 * directory it chroots into (jail_root, borrowed), when QEMU drops root at all. */
void host_jail_qemu(kx_host *h, unsigned domid, const char *jail_root);
/* firmware = "ovmf": the host's OVMF image (*code_r) and the domain's variable store
 * (*vars_r, ROOT/var/lib/kxl/nvram/UUID_VARS.fd, copied from OVMF's template when missing if
 * make); both NULL when the host has no OVMF. Callers free. -1 with kx_err when the store
 * cannot be made. */
int host_ovmf(const kxl_paths *p, const kxl_domcfg *cfg, bool make, char **code_r,
              char **vars_r);
/* ROOT/run/kxl/.jail: empty, root's, mode 0555; made when missing if make. Caller frees;
 * NULL with kx_err when it cannot be made. */
char *host_jail_root(const kxl_paths *p, bool make);
/* The PVH kernel of a pv or pvh config (boot/pvh.h, cached under the lib directory): 1 with
 * *elf_r (caller frees), 0 to boot the kernel as it is (*why_r, caller frees, may be NULL for
 * an hvm domain or no kernel), or -1 with kx_err. */
int host_pvh_kernel(const kxl_paths *p, const kxl_domcfg *cfg, char **elf_r, char **why_r);
/* What the host's QEMU binary qemu answers to -version, -machine help and -cpu help
 * (host_qemu_answers.c): cached under p's lib directory for as long as the binary is the
 * same file, else asked, all three at once. Texts as QEMU printed them, "" when it printed
 * nothing; version as host_qemu_version's, "unknown" when it said none. */
typedef struct {
    char *version;
    char *machines;
    char *cpus;
} host_qemu_answers;
/* Fills *a_r (dispose it); never fails: a QEMU that does not answer gives empty texts. */
void host_qemu_answers_get(const kxl_paths *p, const char *qemu, host_qemu_answers *a_r);
void host_qemu_answers_dispose(host_qemu_answers *a);
/* What `QEMU --version` says after "version " on its first line ("7.2.22"), or "unknown".
 * Caller frees. */
char *host_qemu_version(const char *qemu);
/* The same, from the text it printed. Caller frees. */
char *host_qemu_version_of(const char *text);
