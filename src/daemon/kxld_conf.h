/* kxld_conf.h - kxld's settings: etc/kxl/kxld.conf under KXL_ROOT, `key = value` in the xl.cfg
 * syntax, each key a row of one table (name, type, bounds, default). */
#pragma once

typedef struct {
    char *unix_socket;         /* absolute path of the API's Unix socket */
    char *socket_group;        /* the group that may use it (0660); missing: root only (0600) */
    long long max_body_kib;    /* largest request body; more is 413 */
    long long max_requests;    /* requests in progress at once; more is 503 */
    long long idle_timeout_s;  /* how long an idle keep-alive connection stays open */
    /* The TCP listener: only with tcp_port, and then always with TLS, and with bearer tokens
     * or client certificates (or both). */
    long long tcp_port;        /* 0: none */
    char *tcp_address;         /* the address it binds: 127.0.0.1 unless set */
    char *tls_cert;            /* PEM certificate (chain) and key; absolute (relative: to root) */
    char *tls_key;
    char *tls_client_ca;       /* PEM CA certificates: a client certificate one of them
                                * signed authenticates like a token; NULL: none asked */
    char *token_file;          /* the bearer tokens, one a line (http_auth.h); NULL: none */
    /* Autostart: directories of configs started at boot besides ROOT/etc/kxl/auto/ (e.g.
     * /etc/xen/auto); NULL-terminated, never NULL. */
    char **auto_dirs;
    /* The web UI */
    char *web_dir;             /* its files, served at /: KXLD_WEB_DIR (meson's) unless set */
    long long session_idle_s;  /* a browser session ends after this long without a request */
    char *pam_service;         /* password logins: this PAM service (etc/pam.d/kxld)... */
    char *login_group;         /* ...for root and the members of this group */
    /* The relocation server (xend's keys): TCP with mutual TLS only, the certificates of
     * kxl tls-setup under ROOT/etc/kxl/tls/ (reloc_server.h) */
    long long relocation_server;   /* 0 or 1 (yes/no, on/off, true/false too) */
    long long relocation_port;     /* 8002 unless set */
    char *relocation_address;      /* the address it binds; NULL: every address */
    /* regexes (tls/reloc_allow.h) matched against the peer's certificate names and address;
     * empty (NULL-terminated, never NULL): any peer with a certificate of the CA */
    char **relocation_hosts_allow;
    /* Other hosts' relocation servers by name, "NAME=HOST[:PORT]" each (NULL-terminated,
     * never NULL): the targets a migration through the API may name (GET /api/v1/peers) */
    char **relocation_peers;
    /* Other hosts' kxld TCP listeners by name, "NAME=HOST:PORT" each (NULL-terminated, never
     * NULL): the hosts the API relays to (/api/v1/hosts/NAME/..., kxld_relay.h) with this
     * host's certificate of kxl tls-setup */
    char **api_peers;
} kxld_conf;

/* Fills *c_r with the defaults, then with what the file at path sets (a missing file is all
 * defaults). A relative path (unix_socket, tls_cert, tls_key, tls_client_ca, token_file,
 * web_dir, auto_dirs)
 * is relative to root.
 * -1 with kx_err(KXL_ERR_CONFIG, "FILE:LINE: ...") for a syntax error, an unknown key, a wrong
 * type or an out-of-range value, or ("FILE: ...") a tcp_port without tls_cert, tls_key, and
 * token_file or tls_client_ca, or a relocation_hosts_allow entry that is no regular expression; *c_r then
 * holds nothing to free. */
int kxld_conf_load(const char *path, const char *root, kxld_conf *c_r);
/* Idempotent. */
void kxld_conf_dispose(kxld_conf *c);
