/* cfg_cpuid.c - xl's cpuid string as QEMU -cpu properties. libxl names features as Linux and
 * Xen do; QEMU mostly the same, and the table below holds where they differ. */
#include "cfg/cfg_cpuid.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define FEATURE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789._-"

/* libxl's name -> QEMU's, where they differ. */
static const struct { const char *xl, *qemu; } renames[] = {
    {"altmovcr8", "cr8legacy"},     {"arch-caps", "arch-capabilities"},
    {"clfsh", "clflush"},           {"cmplegacy", "cmp-legacy"},
    {"cmpxchg16", "cx16"},          {"cmpxchg8", "cx8"},
    {"core-caps", "core-capability"}, {"ffxsr", "fxsr-opt"},
    {"ibrsb", "spec-ctrl"},         {"l1d-flush", "flush-l1d"},
    {"lahfsahf", "lahf-lm"},        {"page1gb", "pdpe1gb"},
    {"perfctr_core", "perfctr-core"}, {"perfctr_nb", "perfctr-nb"},
    {"psn", "pn"},                  {"sse3", "pni"},
    {"sse4_1", "sse4.1"},           {"sse4_2", "sse4.2"},
    {"svm_decode", "decodeassists"}, {"svm_lbrv", "lbrv"},
    {"svm_npt", "npt"},             {"svm_nrips", "nrip-save"},
    {"svm_pausefilt", "pause-filter"}, {"svm_tscrate", "tsc-scale"},
    {"svm_vmcbclean", "vmcb-clean"}, {"sysenter", "sep"},
    {"tsc_adjust", "tsc-adjust"},
};

/* Numbers QEMU's CPU has as properties. */
static const char *const numeric[] = {"family", "model", "stepping"};

static const char *qemu_name(const char *xl)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(renames); i++)
        if (strcmp(renames[i].xl, xl) == 0)
            return renames[i].qemu;
    return xl;
}

static bool is_numeric(const char *name)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(numeric); i++)
        if (strcmp(numeric[i], name) == 0)
            return true;
    return false;
}

static int bad(const char *where, const char *spec, const char *why)
{
    kx_err(KXL_ERR_CONFIG, "%s: cpuid '%s': %s", where, spec, why);
    return -1;
}

/* Sets name=value among the properties, a later setting of a name replacing the earlier one
 * (as libxl applies them in order). */
static void set_prop(kx_strv *props, const char *name, const char *value)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < props->n; i++) {
        if (strncmp(props->v[i], name, n) == 0 && props->v[i][n] == '=') {
            free(props->v[i]);
            props->v[i] = kx_asprintf("%s=%s", name, value);
            return;
        }
    }
    kx_strv_pushf(props, "%s=%s", name, value);
}

/* One "name=value" item into props. */
static int one_item(kx_strv *props, char *item, const char *spec, const char *where)
{
    char *eq = strchr(item, '=');
    if (!eq || eq == item || !eq[1])
        return bad(where, spec, "items are NAME=VALUE after 'host' (e.g. \"host,aes=0\")");
    *eq = '\0';
    const char *name = item, *value = eq + 1;
    if (strspn(name, FEATURE_CHARS) != strlen(name))
        return bad(where, spec, "a feature name is lower-case letters, digits and ._-");
    if (is_numeric(name)) {
        if (strspn(value, "0123456789") != strlen(value) || strlen(value) > 4)
            return bad(where, spec, "family, model and stepping take a number");
        set_prop(props, name, value);
        return 0;
    }
    if (strcmp(value, "1") == 0 || strcmp(value, "0") == 0) {
        set_prop(props, qemu_name(name), value[0] == '1' ? "on" : "off");
        return 0;
    }
    if (strcmp(value, "k") == 0 || strcmp(value, "s") == 0)
        kx_warn("%s: warning: cpuid %s=%s: the host's value reaches a guest only with "
                "cpu = \"host\" (KVM); kept as the CPU model has it", where, name, value);
    else if (strcmp(value, "x") != 0)
        return bad(where, spec, "a feature's value is 1, 0, x, k or s");
    return 0;
}

int cfg_cpuid_parse(const char *spec, const char *where, char **features_r)
{
    *features_r = NULL;
    if (strchr(spec, ':'))
        return bad(where, spec, "register bit strings (\"0x00000001:ecx=...\") cannot be given "
                   "to QEMU; name the features instead (cpuid = \"host,aes=0\")");
    AUTOFREE char *copy = kx_strdup(spec);
    kx_strv props = KX_STRV_INIT;
    char *save = NULL;
    int r = 0;
    for (char *item = strtok_r(copy, ",", &save); item && r == 0;
         item = strtok_r(NULL, ",", &save))
        if (strcmp(item, "host") != 0)   /* libxl's base policy: kxl's base is the model */
            r = one_item(&props, item, spec, where);
    if (r == 0 && props.n)
        *features_r = kx_strv_join(&props, ",");
    kx_strv_dispose(&props);
    return r;
}
