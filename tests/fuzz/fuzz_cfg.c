/* fuzz_cfg.c - libFuzzer target: an xl.cfg file through the whole pure path of `kxl create`:
 * the parser (cfg_parse.c), the key table (cfg_keys.c, domcfg.c), the typed config to JSON
 * and back (cfg_json.c) and the QEMU command line (qemu_argv.c).
 *
 * Input: the file's text; after a NUL byte, KEY=VALUE overrides as from the command line,
 * separated by NUL bytes (so a plain .cfg is a seed as it is). An input that starts with '{'
 * is also taken as a domain.json, the typed config as the runtime directory keeps it
 * (cfg_domcfg_from_json), for the JSON round trip only: that file is kxl's own (root's), and
 * cfg_domcfg_from_json does not check again what the key table checked (a uuid, a vdev), so
 * its argv is no test of anything. The host facts the argv depends on (accelerator, sandbox, QEMU
 * user, fd sets) vary with a hash of the input.
 *
 * Checked besides crashes, leaks and undefined behaviour, for every config that maps:
 * - its JSON re-parses to the same text, and cfg_domcfg_from_json takes it back to a config
 *   whose JSON is the same again (the runtime directory and the API depend on that), also for
 *   a config that cfg_domcfg_from_json made of a domain.json;
 * - the argv starts with the QEMU binary, has no NULL or empty hole and ends with NULL;
 * - every -blockdev value is a JSON object with a node-name, and every option value in
 *   QEMU's KEY=VALUE,... syntax has no key twice (a value that smuggles in ",key=" would).
 * - what issue 17 item 7 asks for: the JSON is valid UTF-8 and no message for the user (error,
 *   warning, notice) carries a control character. */
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_json.h"
#include "cfg/cfg_keys.h"
#include "fuzz.h"
#include "qemu/qemu_argv.h"
#include "qemu/qemu_fdsets.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

#define MAX_INPUT (64 << 10)
#define HOST_CPUS 8
#define QEMU_BINARY "/usr/bin/qemu-system-x86_64"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)
DEFINE_AUTOPTR(cfg_tree, cfg_tree_free)


/* Whether a message has a control character other than a tab. */
static bool has_control(const char *msg)
{
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return true;
    return false;
}

static void check_message(kx_loglevel level, const char *msg, void *opaque)
{
    (void)opaque;
    FUZZ_CHECK(level < KX_LOG_NOTICE || !has_control(msg), "a message with a control "
               "character: %s", msg);
}

void fuzz_setup(void)
{
    kx_log_set_sink(check_message, NULL);
}

/* Whether s is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
                   : (*p & 0xf8) == 0xf0 ? 3 : 4;
        if (n == 4 || (n == 1 && *p < 0xc2))
            return false;
        uint32_t cp = n ? *p & (0x3f >> n) : *p;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

static void check_json_roundtrip(const kxl_domcfg *cfg)
{
    AUTOPTR(json_object) a = cfg_domcfg_to_json(cfg);
    FUZZ_CHECK(a, "cfg_domcfg_to_json gave nothing");
    AUTOFREE char *text = kx_strdup(kx_json_text(a));
    FUZZ_CHECK(utf8_valid(text), "JSON with invalid UTF-8: %s", text);
    AUTOPTR(json_object) reparsed = json_tokener_parse(text);
    FUZZ_CHECK(reparsed, "the config's JSON does not parse: %s", text);
    FUZZ_CHECK(strcmp(kx_json_text(reparsed), text) == 0, "JSON re-parsed differently: %s",
               text);
    AUTOPTR(kxl_domcfg) back = cfg_domcfg_from_json(reparsed);
    FUZZ_CHECK(back, "the config's own JSON is refused (%s): %s", kx_err_msg(), text);
    AUTOPTR(json_object) b = cfg_domcfg_to_json(back);
    FUZZ_CHECK(strcmp(kx_json_text(b), text) == 0, "JSON round trip changed the config:\n%s\n%s",
               text, kx_json_text(b));
}

/* Options whose value is not QEMU's KEY=VALUE,... syntax. */
static bool raw_value_option(const char *opt)
{
    static const char *const raw[] = {"-kernel", "-initrd", "-append", "-blockdev", "-runas",
                                      "-m", NULL};
    for (size_t i = 0; raw[i]; i++)
        if (strcmp(opt, raw[i]) == 0)
            return true;
    return false;
}

/* value as QEMU's option parser splits it (",," is a comma in a value): no key twice, and
 * after the first item (a driver or a bare value) every item is KEY=VALUE. */
static void check_opt_syntax(const char *opt, const char *value)
{
    kx_strv keys = KX_STRV_INIT;
    const char *p = value;
    for (size_t item = 0;; item++) {
        kx_buf v = KX_BUF_INIT;
        for (; *p && !(p[0] == ',' && p[1] != ','); p++) {
            kx_buf_addc(&v, *p);
            if (p[0] == ',')
                p++;
        }
        const char *s = kx_buf_str(&v), *eq = strchr(s, '=');
        FUZZ_CHECK(item == 0 || eq, "%s %s: item '%s' is not KEY=VALUE", opt, value, s);
        if (eq) {
            AUTOFREE char *key = kx_strndup(s, (size_t)(eq - s));
            for (size_t k = 0; k < keys.n; k++)
                FUZZ_CHECK(strcmp(keys.v[k], key) != 0, "%s %s: key '%s' twice", opt, value, key);
            kx_strv_push(&keys, key);
        }
        kx_buf_dispose(&v);
        if (!*p)
            break;
        p++;
    }
    kx_strv_dispose(&keys);
}

/* The arguments kxl makes: all but device_model_args, the host-allowed tail written by the
 * config's author. */
static void check_argv(const kxl_domcfg *cfg, const kx_strv *argv)
{
    FUZZ_CHECK(argv->n > 0 && argv->v, "empty argv");
    FUZZ_CHECK(strcmp(argv->v[0], QEMU_BINARY) == 0, "argv[0] is '%s'", argv->v[0]);
    FUZZ_CHECK(argv->v[argv->n] == NULL, "argv does not end with NULL");
    size_t tail = 0;
    for (char **a = cfg->dm_args; a && *a; a++)
        tail++;
    FUZZ_CHECK(tail < argv->n, "device_model_args longer than argv");
    for (size_t i = argv->n - tail; i < argv->n; i++)
        FUZZ_CHECK(strcmp(argv->v[i], cfg->dm_args[i - (argv->n - tail)]) == 0,
                   "device_model_args not at the end as written");
    for (size_t i = 1; i < argv->n - tail; i++) {
        const char *opt = argv->v[i];
        FUZZ_CHECK(opt && *opt == '-', "argv[%zu] is '%s', not an option", i, opt ? opt : "NULL");
        if (i + 1 == argv->n - tail || argv->v[i + 1][0] == '-')
            continue;  /* a flag: -S, -nodefaults */
        const char *value = argv->v[++i];
        if (strcmp(opt, "-blockdev") == 0) {
            AUTOPTR(json_object) node = json_tokener_parse(value);
            FUZZ_CHECK(node && json_object_is_type(node, json_type_object) &&
                       json_object_object_get_ex(node, "node-name", NULL),
                       "-blockdev value is not a JSON object with a node-name: %s", value);
        } else if (!raw_value_option(opt)) {
            check_opt_syntax(opt, value);
        }
    }
}

/* FNV-1a: the host facts follow the input, so the fuzzer can flip them. */
static uint32_t hash(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    return h;
}

static void build_argv(const kxl_domcfg *cfg, uint32_t facts)
{
    kx_host host = {.qemu_binary = QEMU_BINARY, .run_dir = "/run/kxl/fuzz",
                    .accel = facts & 1 ? KXL_ACCEL_KVM : KXL_ACCEL_TCG,
                    .sandbox = facts & 2, .vhost = facts & 4,
                    .qemu_user = facts & 8 ? "kxl-qemu" : NULL,
                    .pvh_kernel = facts & 16 ? "/var/lib/kxl/pvh/k.elf" : NULL};
    qemu_fdsets fds = {0};
    kx_strv argv = KX_STRV_INIT;
    if (facts & 32) {
        qemu_placeholder_fdsets(cfg, 10, &fds);
        host.disk_sources = fds.sources;
        host.add_fds = &fds.add_fds;
    }
    if (qemu_build_argv(cfg, &host, &argv) == 0)
        check_argv(cfg, &argv);
    else
        FUZZ_CHECK(*kx_err_msg(), "qemu_build_argv failed without a message");
    kx_strv_dispose(&argv);
    qemu_fdsets_dispose(&fds);
}

/* The input as a domain.json: what cfg_domcfg_from_json accepts must survive its round trip. */
static void from_domain_json(const uint8_t *data, size_t size)
{
    AUTOFREE char *text = fuzz_string(data, size);
    AUTOPTR(json_object) o = kx_json_parse(text, "domain.json");   /* as kxl reads it */
    AUTOPTR(kxl_domcfg) cfg = o ? cfg_domcfg_from_json(o) : NULL;
    if (!cfg)
        return;
    check_json_roundtrip(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    uint32_t facts = hash(data, size);
    if (size > 0 && data[0] == '{')
        from_domain_json(data, size);
    AUTOPTR(cfg_tree) t = cfg_tree_new("fuzz.cfg");
    const uint8_t *nul = memchr(data, '\0', size);
    size_t text_len = nul ? (size_t)(nul - data) : size;
    kx_err_clear();
    if (cfg_parse_text(t, "fuzz.cfg", (const char *)data, text_len) < 0) {
        FUZZ_CHECK(*kx_err_msg(), "the parser failed without a message");
        FUZZ_CHECK(!has_control(kx_err_msg()), "an error with a control "
                   "character: %s", kx_err_msg());
        return 0;
    }
    if (nul) {
        const uint8_t *rest = nul + 1;
        size_t rest_size = size - text_len - 1;
        char *override = NULL;
        while (fuzz_next_piece(&rest, &rest_size, &override)) {
            cfg_parse_override(t, override);
            free(override);
        }
    }
    kx_err_clear();
    AUTOPTR(kxl_domcfg) cfg = cfg_domcfg_from_tree(t, HOST_CPUS);
    if (!cfg) {
        FUZZ_CHECK(*kx_err_msg(), "the key table failed without a message");
        FUZZ_CHECK(!has_control(kx_err_msg()), "an error with a control "
                   "character: %s", kx_err_msg());
        return 0;
    }
    FUZZ_CHECK(kxl_name_is_valid(cfg->name), "invalid name '%s' accepted", cfg->name);
    FUZZ_CHECK(cfg->maxmem_mib >= cfg->memory_mib && cfg->maxvcpus >= cfg->vcpus,
               "maxmem %llu < memory %llu or maxvcpus %u < vcpus %u",
               (unsigned long long)cfg->maxmem_mib, (unsigned long long)cfg->memory_mib,
               cfg->maxvcpus, cfg->vcpus);
    check_json_roundtrip(cfg);
    build_argv(cfg, facts);
    return 0;
}
