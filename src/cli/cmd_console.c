/* cmd_console.c - kxl console: the terminal in raw mode wired to the domain's
 * serial console through its supervisor; Ctrl+] detaches and restores it. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

/* Forwards stdin to the guest until the detach key; false when it was seen
 * or stdin ended. */
static bool forward_input(int sock, int detach_key)
{
    char buf[256];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
        return true;
    if (n <= 0)
        return false;
    char *detach = memchr(buf, detach_key, (size_t)n);
    size_t len = detach ? (size_t)(detach - buf) : (size_t)n;
    if (len && kx_write_all(sock, buf, len) < 0)
        return false;
    return detach == NULL;
}

/* Copies console output to stdout; false when the domain's console closed. */
static bool forward_output(int sock)
{
    char buf[4096];
    ssize_t n = read(sock, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
        return true;
    return n > 0 && kx_write_all(STDOUT_FILENO, buf, (size_t)n) == 0;
}

/* Returns true when the console closed (the domain is ending), false when
 * the user detached. */
static bool relay(int sock, int detach_key)
{
    bool input_open = true;
    for (;;) {
        struct pollfd fds[2] = {{.fd = sock, .events = POLLIN},
                                {.fd = input_open ? STDIN_FILENO : -1, .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (fds[0].revents && !forward_output(sock))
            return true;
        if (fds[1].revents & POLLIN && !forward_input(sock, detach_key)) {
            /* Ctrl+] detaches; end of input on a pipe only stops input */
            if (isatty(STDIN_FILENO))
                return false;
            input_open = false;
        } else if (fds[1].revents & (POLLHUP | POLLERR)) {
            input_open = false;
        }
    }
}

/* After a restart the console socket answers again. */
static bool console_is_back(cli_ctx *ctx, const char *dom)
{
    kxl_dominfo info;
    if (kxl_domain_lookup(&ctx->paths, dom, &info) < 0) {
        kx_err_clear();
        return false;
    }
    return info.state == KXL_STATE_RUNNING || info.state == KXL_STATE_SHUTDOWN ||
           info.state == KXL_STATE_CRASHED;
}

int cli_console_attach(cli_ctx *ctx, const char *dom, int detach_key)
{
    AUTOCLOSE int sock = kxl_console_connect(&ctx->paths, dom);
    if (sock < 0)
        return cli_fail();
    struct termios saved, raw;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    bool ended = relay(sock, detach_key);
    if (ended) {
        /* the guest is going: return once its supervisor has cleaned up (or
         * restarted it), so that what runs next sees the final state */
        AUTOFREE char *dir = kxl_domain_dir(&ctx->paths, dom);
        for (int i = 0; i < 100 && kx_path_exists(dir) && !console_is_back(ctx, dom); i++)
            usleep(20000);
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        fputs("\r\n", stdout);
    }
    return EXIT_OK;
}

/* xl console -e: "^]" names a control character (the letter's low five bits), anything
 * else of one character is that character. -1 when it is neither. */
int cli_escape_char_parse(const char *s)
{
    if (s[0] == '^' && s[1] && !s[2] && (s[1] & 0x40))
        return s[1] & 0x1f;
    if (s[0] && !s[1])
        return (unsigned char)s[0];
    return -1;
}

int cmd_console(cli_ctx *ctx, int argc, char **argv)
{
    int c, detach_key = CLI_DETACH_KEY;
    while ((c = getopt(argc, argv, "+t:n:e:")) != -1) {
        if (c == 'e' && (detach_key = cli_escape_char_parse(optarg)) < 0) {
            fprintf(stderr, "kxl: console: escape character '%s' is not one character or ^X\n",
                    optarg);
            return EXIT_USAGE;
        }
        if (c == 't' && strcmp(optarg, "serial") != 0 && strcmp(optarg, "pv") != 0) {
            fprintf(stderr, "kxl: console type '%s' is not supported (use serial)\n", optarg);
            return EXIT_USAGE;
        }
        if (c == '?')
            return cli_usage(cli_find("console"));
    }
    if (optind != argc - 1)
        return cli_usage(cli_find("console"));
    return cli_console_attach(ctx, argv[optind], detach_key);
}
