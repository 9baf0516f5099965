/* tls_main.c - kxl-tls, the helper that does what needs OpenSSL for kxl's commands: kxl
 * tls-setup's certificates (tls_files.c). Linking OpenSSL into kxl itself cost every command
 * (kxl list included) about 5 ms of CPU and 150 page faults to load it, for the rare command
 * that uses it; so libkxl runs this program instead (lib/helpers.c), and kxld, which speaks
 * TLS itself, links it.
 *
 *   kxl-tls [--quiet] setup DIR [--name N]... [--ip A]... [--days=D] [--force]
 *   kxl-tls [--quiet] sign DIR OUT [--name N]... [--ip A]... [--days=D]
 *   kxl-tls [--quiet] import DIR FROM [--force]
 *   kxl-tls [--quiet] relay DIR HOST PORT          (kxl migrate --relocation's transport)
 *
 * Its answer is one line on stdout: "OK" ("OK STREAM-PORT" for relay, which then relays), or
 * "ERROR CODE MESSAGE" (CODE: kxl_errcode_name), which the caller turns back into its own
 * error; notices go to stderr as kxl's do. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls_client.h"
#include "tls/tls_files.h"
#include "util/buf.h"
#include "util/err.h"

enum { OPT_NAME = 256, OPT_IP, OPT_DAYS, OPT_FORCE };

typedef struct {
    kx_strv names, ips;
    unsigned days;
    bool force;
} helper_opts;

static int parse_opts(int argc, char **argv, helper_opts *h)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, OPT_NAME}, {"ip", required_argument, NULL, OPT_IP},
        {"days", required_argument, NULL, OPT_DAYS}, {"force", no_argument, NULL, OPT_FORCE},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == OPT_NAME)
            kx_strv_push(&h->names, optarg);
        else if (c == OPT_IP)
            kx_strv_push(&h->ips, optarg);
        else if (c == OPT_DAYS)
            h->days = (unsigned)strtoul(optarg, NULL, 10);
        else if (c == OPT_FORCE)
            h->force = true;
        else
            return -1;
    }
    return optind == argc ? 0 : -1;
}

/* The command words before the options: "setup DIR", "sign DIR OUT", "import DIR FROM",
 * "relay DIR HOST PORT". */
static int words_of(const char *cmd)
{
    if (strcmp(cmd, "setup") == 0)
        return 2;
    if (strcmp(cmd, "sign") == 0 || strcmp(cmd, "import") == 0)
        return 3;
    if (strcmp(cmd, "relay") == 0)
        return 4;
    return -1;
}

static int run(char **w, const helper_opts *h)
{
    kxl_tls_opts o = {.names = (const char *const *)h->names.v,
                      .ips = (const char *const *)h->ips.v, .days = h->days, .force = h->force};
    if (strcmp(w[0], "setup") == 0)
        return tls_files_setup(w[1], &o);
    if (strcmp(w[0], "sign") == 0)
        return tls_files_sign(w[1], &o, w[2]);
    if (strcmp(w[0], "relay") == 0)
        return tls_client_relay(w[1], w[2], w[3]);
    return tls_files_import(w[1], w[2], h->force);
}

int main(int argc, char **argv)
{
    int i = 1;
    if (i < argc && strcmp(argv[i], "--quiet") == 0) {
        kx_log_set_level(KX_LOG_WARN);
        i++;
    }
    int n = i < argc ? words_of(argv[i]) : -1;
    helper_opts h = {KX_STRV_INIT, KX_STRV_INIT, 0, false};
    int r;
    if (n < 0 || argc - i < n) {
        kx_err(KXL_ERR_INTERNAL, "kxl-tls: usage: kxl-tls [--quiet] setup|sign|import|relay ... "
               "(it is run by kxl, not by hand)");
        r = -1;
    } else {
        optind = 0;   /* getopt from the options after the words */
        r = parse_opts(argc - i - n + 1, argv + i + n - 1, &h);
        if (r < 0)
            kx_err(KXL_ERR_INTERNAL, "kxl-tls: unknown option for '%s'", argv[i]);
        else
            r = run(argv + i, &h);
    }
    if (r < 0)
        printf("ERROR %s %s\n", kxl_errcode_name(kx_err_code()), kx_err_msg());
    else if (strcmp(argv[i], "relay") != 0)   /* relay said OK before it relayed */
        printf("OK\n");
    kx_strv_dispose(&h.names);
    kx_strv_dispose(&h.ips);
    return r != 0 ? 1 : 0;
}
