/* kxld_conf.c - kxld.conf: the xl.cfg syntax (src/cfg's parser, so file:line errors read the
 * same), meaning from a table of keys. Unknown keys are errors: a daemon that silently ignored
 * a misspelt listener or limit would run with settings nobody asked for. */
#include "daemon/kxld_conf.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "cfg/cfg_parse.h"
#include "tls/reloc_allow.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

DEFINE_AUTOPTR(cfg_tree, cfg_tree_free)

typedef enum { CONF_STRING, CONF_INT, CONF_STRINGS, CONF_BOOL } conf_type;

typedef struct {
    const char *name;
    conf_type type;
    size_t offset;
    const char *dflt_str;
    long long dflt_int, min, max;
    int (*check)(const char *value, char **why_r);   /* each string of a list, when set */
} conf_key;

/* "NAME=HOST[:PORT]": a name of letters, digits, '-', '_' and '.', and an address. */
static int peer_check(const char *value, char **why_r)
{
    size_t name = strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789-_.");
    if (name == 0 || value[name] != '=' || !value[name + 1] || strchr(value + name + 1, '=')) {
        *why_r = kx_asprintf("'%s' is not NAME=HOST[:PORT] (e.g. \"host-b=192.0.2.2:8002\")",
                             value);
        return -1;
    }
    return 0;
}

/* "NAME=HOST:PORT": a peer's kxld TCP listener (api_peers); the port is not guessed. */
static int api_peer_check(const char *value, char **why_r)
{
    const char *colon = strrchr(value, ':');
    if (peer_check(value, why_r) < 0 || !colon || !colon[1] ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5 ||
        colon == strchr(value, '=') + 1) {
        free(*why_r);
        *why_r = kx_asprintf("'%s' is not NAME=HOST:PORT of a peer's kxld TCP listener "
                             "(e.g. \"host-b=192.0.2.2:8443\")", value);
        return -1;
    }
    return 0;
}

static const conf_key keys[] = {
    {"api_peers", CONF_STRINGS, offsetof(kxld_conf, api_peers), NULL, 0, 0, 0, api_peer_check},
    {"auto_dirs", CONF_STRINGS, offsetof(kxld_conf, auto_dirs), NULL, 0, 0, 0},
    {"idle_timeout_s", CONF_INT, offsetof(kxld_conf, idle_timeout_s), NULL, 60, 1, 3600},
    {"login_group", CONF_STRING, offsetof(kxld_conf, login_group), "kxl", 0, 0, 0},
    {"max_body_kib", CONF_INT, offsetof(kxld_conf, max_body_kib), NULL, 64, 1, 16384},
    {"max_requests", CONF_INT, offsetof(kxld_conf, max_requests), NULL, 32, 1, 1024},
    {"pam_service", CONF_STRING, offsetof(kxld_conf, pam_service), "kxld", 0, 0, 0},
    {"relocation_address", CONF_STRING, offsetof(kxld_conf, relocation_address), NULL, 0, 0, 0},
    {"relocation_hosts_allow", CONF_STRINGS, offsetof(kxld_conf, relocation_hosts_allow), NULL,
     0, 0, 0, reloc_allow_check},
    {"relocation_peers", CONF_STRINGS, offsetof(kxld_conf, relocation_peers), NULL, 0, 0, 0,
     peer_check},
    {"relocation_port", CONF_INT, offsetof(kxld_conf, relocation_port), NULL, 8002, 1, 65535},
    {"relocation_server", CONF_BOOL, offsetof(kxld_conf, relocation_server), NULL, 0, 0, 1},
    {"session_idle_s", CONF_INT, offsetof(kxld_conf, session_idle_s), NULL, 1800, 10, 604800},
    {"socket_group", CONF_STRING, offsetof(kxld_conf, socket_group), "kxl", 0, 0, 0},
    {"tcp_address", CONF_STRING, offsetof(kxld_conf, tcp_address), "127.0.0.1", 0, 0, 0},
    {"tcp_port", CONF_INT, offsetof(kxld_conf, tcp_port), NULL, 0, 0, 65535},
    {"tls_cert", CONF_STRING, offsetof(kxld_conf, tls_cert), NULL, 0, 0, 0},
    {"tls_client_ca", CONF_STRING, offsetof(kxld_conf, tls_client_ca), NULL, 0, 0, 0},
    {"tls_key", CONF_STRING, offsetof(kxld_conf, tls_key), NULL, 0, 0, 0},
    {"token_file", CONF_STRING, offsetof(kxld_conf, token_file), NULL, 0, 0, 0},
    {"unix_socket", CONF_STRING, offsetof(kxld_conf, unix_socket), "run/kxl/kxld.sock", 0, 0, 0},
    {"web_dir", CONF_STRING, offsetof(kxld_conf, web_dir), KXLD_WEB_DIR, 0, 0, 0},
};

static const conf_key *find_key(const char *name)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(keys); i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static void set_defaults(kxld_conf *c)
{
    *c = (kxld_conf){0};
    for (size_t i = 0; i < KX_ARRAY_SIZE(keys); i++) {
        void *field = (char *)c + keys[i].offset;
        if (keys[i].type == CONF_STRINGS)
            *(char ***)field = kx_malloc0(sizeof(char *));
        else if (keys[i].type == CONF_STRING)
            *(char **)field = keys[i].dflt_str ? kx_strdup(keys[i].dflt_str) : NULL;
        else
            *(long long *)field = keys[i].dflt_int;   /* CONF_INT, CONF_BOOL */
    }
}

static void free_strings(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

/* A list of non-empty strings, or one string (a list of one); each passes k's check. */
static int apply_strings(char ***field, const cfg_setting *s, const conf_key *k)
{
    const cfg_value *items = s->value.kind == CFG_LIST ? s->value.items : &s->value;
    size_t n = s->value.kind == CFG_LIST ? s->value.n_items : 1;
    for (size_t i = 0; i < n; i++) {
        if (items[i].kind != CFG_STRING || !items[i].str[0]) {
            kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' must be a list of non-empty strings, e.g. "
                   "%s = [\"/etc/xen/auto\"]", s->source, items[i].line, s->key, s->key);
            return -1;
        }
        char *why = NULL;
        if (k->check && k->check(items[i].str, &why) < 0) {
            kx_err(KXL_ERR_CONFIG, "%s:%d: '%s': %s", s->source, items[i].line, s->key, why);
            free(why);
            return -1;
        }
    }
    free_strings(*field);
    *field = kx_malloc0((n + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++)
        (*field)[i] = kx_strdup(items[i].str);
    return 0;
}

/* 0 or 1, or xend's yes/no (on/off, true/false). */
static int apply_bool(long long *field, const cfg_setting *s)
{
    static const char *const yes[] = {"yes", "on", "true"}, *const no[] = {"no", "off", "false"};
    if (s->value.kind == CFG_NUMBER && (s->value.num == 0 || s->value.num == 1)) {
        *field = s->value.num;
        return 0;
    }
    for (size_t i = 0; s->value.kind == CFG_STRING && i < KX_ARRAY_SIZE(yes); i++) {
        if (strcasecmp(s->value.str, yes[i]) == 0 || strcasecmp(s->value.str, no[i]) == 0) {
            *field = strcasecmp(s->value.str, yes[i]) == 0;
            return 0;
        }
    }
    kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' must be 0 or 1 (or \"yes\" or \"no\")", s->source,
           s->line, s->key);
    return -1;
}

static int apply(kxld_conf *c, const cfg_setting *s)
{
    const conf_key *k = find_key(s->key);
    if (!k) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: unknown key '%s'", s->source, s->line, s->key);
        return -1;
    }
    void *field = (char *)c + k->offset;
    if (k->type == CONF_STRINGS)
        return apply_strings(field, s, k);
    if (k->type == CONF_BOOL)
        return apply_bool(field, s);
    if (k->type == CONF_STRING) {
        if (s->value.kind != CFG_STRING || !s->value.str[0]) {
            kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' must be a non-empty string", s->source,
                   s->line, s->key);
            return -1;
        }
        free(*(char **)field);
        *(char **)field = kx_strdup(s->value.str);
        return 0;
    }
    if (s->value.kind != CFG_NUMBER || s->value.num < k->min || s->value.num > k->max) {
        kx_err(KXL_ERR_CONFIG, "%s:%d: '%s' must be a number from %lld to %lld", s->source,
               s->line, s->key, k->min, k->max);
        return -1;
    }
    *(long long *)field = s->value.num;
    return 0;
}

/* The paths relative to root. */
static void make_absolute_one(char **path, const char *root)
{
    if (*path && (*path)[0] != '/') {
        char *abs = kx_path_join(root, *path);
        free(*path);
        *path = abs;
    }
}

static void make_absolute(kxld_conf *c, const char *root)
{
    char **paths[] = {&c->unix_socket, &c->tls_cert, &c->tls_key, &c->tls_client_ca,
                      &c->token_file, &c->web_dir};
    for (size_t i = 0; i < KX_ARRAY_SIZE(paths); i++)
        make_absolute_one(paths[i], root);
    for (char **d = c->auto_dirs; *d; d++)
        make_absolute_one(d, root);
}

/* No TCP listener without TLS and a way to authenticate: a tcp_port needs the certificate,
 * its key, and bearer tokens or a CA for client certificates (or both). */
static int tcp_needs_tls(const kxld_conf *c, const char *path)
{
    if (!c->tcp_port)
        return 0;
    kx_buf missing = KX_BUF_INIT;
    const char *names[] = {"tls_cert", "tls_key", "token_file or tls_client_ca"};
    const char *values[] = {c->tls_cert, c->tls_key, c->token_file ? c->token_file
                                                                    : c->tls_client_ca};
    for (size_t i = 0; i < KX_ARRAY_SIZE(names); i++)
        if (!values[i])
            kx_buf_printf(&missing, "%s%s", missing.len ? ", " : "", names[i]);
    bool ok = missing.len == 0;
    if (!ok)
        kx_err(KXL_ERR_CONFIG, "%s: tcp_port = %lld needs tls_cert, tls_key, and token_file or "
               "tls_client_ca (missing: %s): kxld never listens on TCP without TLS and a bearer "
               "token or client certificate", path, c->tcp_port, missing.s);
    kx_buf_dispose(&missing);
    return ok ? 0 : -1;
}

int kxld_conf_load(const char *path, const char *root, kxld_conf *c_r)
{
    set_defaults(c_r);
    AUTOPTR(cfg_tree) t = cfg_tree_new(path);
    if (kx_path_exists(path) && cfg_parse_file(t, path) < 0)
        goto undo_defaults;
    for (size_t i = 0; i < t->n_settings; i++)
        if (apply(c_r, &t->settings[i]) < 0)
            goto undo_defaults;
    if (tcp_needs_tls(c_r, path) < 0)
        goto undo_defaults;
    make_absolute(c_r, root);
    return 0;
undo_defaults:
    kxld_conf_dispose(c_r);
    return -1;
}

void kxld_conf_dispose(kxld_conf *c)
{
    free(c->unix_socket);
    free(c->socket_group);
    free(c->tcp_address);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->tls_client_ca);
    free(c->token_file);
    free_strings(c->auto_dirs);
    free(c->web_dir);
    free(c->pam_service);
    free(c->login_group);
    free(c->relocation_address);
    free_strings(c->relocation_hosts_allow);
    free_strings(c->relocation_peers);
    free_strings(c->api_peers);
    *c = (kxld_conf){0};
}
