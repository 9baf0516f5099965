/* cmd_display.c - kxl vncviewer: xl's command, which runs a VNC viewer on a domain's display,
 * and the address itself for scripts and other viewers. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/json.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

#define VIEWER "vncviewer"

/* The address as vncviewer takes it: a socket's path, or HOST::PORT (IPv6 in brackets). */
static char *viewer_address(json_object *vnc)
{
    const char *path = kx_json_str(vnc, "path", NULL);
    if (path)
        return kx_strdup(path);
    const char *host = kx_json_str(vnc, "host", "");
    bool v6 = strchr(host, ':') != NULL;
    return kx_asprintf("%s%s%s::%lld", v6 ? "[" : "", host, v6 ? "]" : "",
                       (long long)kx_json_int(vnc, "port", 0));
}

/* Runs the viewer with the password on its standard input (-autopass), as xl does. */
static int run_autopass(const char *address, const char *password)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[0], STDIN_FILENO);
        close(fds[0]);
        close(fds[1]);
        execlp(VIEWER, VIEWER, "-autopass", address, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    if (pid > 0 && write(fds[1], password, strlen(password)) < 0)
        kx_err_clear();   /* the viewer asks for the password itself then */
    close(fds[1]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return pid < 0 ? -1 : WIFEXITED(status) && WEXITSTATUS(status) != 127 ? WEXITSTATUS(status)
                                                                          : -1;
}

static int run_viewer(cli_ctx *ctx, const char *dom, const char *address, bool autopass)
{
    AUTOPTR(kxl_domcfg) cfg = NULL;
    if (autopass && kxl_domain_config(&ctx->paths, dom, &cfg) < 0)
        return cli_fail();
    if (cfg && cfg->gfx.password) {
        int r = run_autopass(address, cfg->gfx.password);
        if (r >= 0)
            return r;
    } else {
        execlp(VIEWER, VIEWER, address, (char *)NULL);
    }
    fprintf(stderr, "kxl: cannot run %s (%s): install one (apt-get install "
            "tigervnc-viewer); the display of '%s' is at %s\n", VIEWER, strerror(errno), dom,
            address);
    return cli_exit_status(KXL_ERR_HOST);
}

int cmd_vncviewer(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longs[] = {{"autopass", no_argument, NULL, 'a'},
                                          {"print", no_argument, NULL, 'p'},
                                          {"json", no_argument, NULL, 'j'},
                                          {NULL, 0, NULL, 0}};
    bool autopass = false, print = false, json = false;
    int c;
    while ((c = getopt_long(argc, argv, "+ap", longs, NULL)) != -1) {
        if (c == 'a')
            autopass = true;
        else if (c == 'p')
            print = true;
        else if (c == 'j')
            json = true;
        else
            return cli_usage(cli_find("vncviewer"));
    }
    if (argc - optind != 1)
        return cli_usage(cli_find("vncviewer"));
    const char *dom = argv[optind];
    AUTOPTR(json_object) display = NULL;
    if (kxl_domain_display(&ctx->paths, dom, &display) < 0)
        return cli_fail();
    json_object *vnc = json_object_object_get(display, "vnc");
    AUTOFREE char *address = viewer_address(vnc);
    if (json) {
        printf("%s\n", json_object_to_json_string_ext(display, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        return EXIT_OK;
    }
    if (print) {
        printf("%s\n", address);
        return EXIT_OK;
    }
    return run_viewer(ctx, dom, address, autopass);
}

int cli_vncviewer_run(cli_ctx *ctx, const char *dom, bool autopass)
{
    AUTOPTR(json_object) display = NULL;
    if (kxl_domain_display(&ctx->paths, dom, &display) < 0)
        return cli_fail();
    AUTOFREE char *address = viewer_address(json_object_object_get(display, "vnc"));
    return run_viewer(ctx, dom, address, autopass);
}
