/* kxld_main.c - the kxld program: options, kxld.conf, the log, signals, the Unix-socket API
 * server, and (without --foreground) going to the background once it listens. It holds no
 * state a domain needs: each request reads run/kxl anew, so its death touches no domain. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "daemon/http_auth.h"
#include "daemon/http_server.h"
#include "daemon/kxld.h"
#include "daemon/kxld_conf.h"
#include "daemon/kxld_relay.h"
#include "daemon/reloc_server.h"
#include "image/create_image.h"
#include "kxl/tls.h"
#include "kxl/autostart.h"
#include "kxl/ops.h"
#include "lib/migrate.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

typedef struct {
    const char *root;      /* --root; NULL: $KXL_ROOT or / */
    const char *config;    /* --config; NULL: ROOT/etc/kxl/kxld.conf */
    bool foreground;
    bool print_routes;
    bool relocation_peer;  /* --relocation-peer: serve one relocation peer on fd 0 (internal) */
    int verbose;
} kxld_opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: kxld [--foreground] [--root DIR] [--config FILE] [-v] [--print-routes]\n\n"
               "kxld serves kxl's HTTP/JSON API on a Unix socket (unix_socket in kxld.conf,\n"
               "default $KXL_ROOT/run/kxl/kxld.sock). See kxld(8).\n\n"
               "  -f, --foreground   stay in the foreground and log to stderr\n"
               "  -r, --root DIR     the state root (default $KXL_ROOT, else /)\n"
               "  -c, --config FILE  the settings (default ROOT/etc/kxl/kxld.conf)\n"
               "  -v, --verbose      log each request (twice: debug)\n"
               "      --print-routes print the route table (METHOD PATH) and exit\n"
               "      --relocation-peer  (internal) serve the relocation peer on stdin\n"
               "      --version      print the version\n");
}

/* 0, 1 (exit with status 0 now) or -1 (usage error). */
static int parse_opts(int argc, char **argv, kxld_opts *o)
{
    static const struct option opts[] = {
        {"foreground", no_argument, NULL, 'f'}, {"root", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
        {"print-routes", no_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"relocation-peer", no_argument, NULL, 'R'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "fr:c:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': o->foreground = true; break;
        case 'r': o->root = optarg; break;
        case 'c': o->config = optarg; break;
        case 'v': o->verbose++; break;
        case 'P': o->print_routes = true; break;
        case 'R': o->relocation_peer = true; break;
        case 'h': usage(stdout); return 1;
        case 'V': printf("kxld %s\n", KXL_VERSION); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static void print_routes(void)
{
    size_t n;
    const kxld_route *r = kxld_routes(&n);
    const char *const *specs = kxld_route_specs();
    for (size_t i = 0; i < n; i++)
        printf("%s\t%s\n", specs[i], r[i].op == KXL_OP__COUNT ? "-" : kxl_op_describe(r[i].op)->cli);
}

/* Log lines to a file (in the background), one per line with the time. */
static void file_sink(kx_loglevel level, const char *msg, void *opaque)
{
    static const char *const names[] = {"debug", "info", "notice", "warning", "error"};
    FILE *f = opaque;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
    fprintf(f, "%s %s: %s\n", when, names[level], msg);
    fflush(f);
}

/* SIGTERM, SIGINT and SIGHUP are blocked in every thread and taken here. */
static void *signal_thread(void *arg)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    int sig;
    while (sigwait(&set, &sig) != 0)
        ;
    kx_notice("kxld: %s: stopping", strsignal(sig));
    http_server_stop(arg);
    return NULL;
}

/* Without --foreground: the parent waits until the child listens (or says why it cannot),
 * then exits; the child gets notify_fd to write "OK" or the error to. Returns that fd in the
 * child, -1 in the foreground; the parent never returns. */
static int go_background(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        perror("kxld: pipe");
        exit(EXIT_ERR);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("kxld: fork");
        exit(EXIT_ERR);
    }
    if (pid > 0) {
        close(fds[1]);
        char buf[1024];
        ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        if (strcmp(buf, "OK") == 0)
            exit(EXIT_OK);
        fprintf(stderr, "kxld: %s\n", n > 0 ? buf : "ended before it listened");
        exit(EXIT_ERR);
    }
    close(fds[0]);
    setsid();
    return fds[1];
}

static void tell_parent(int fd, const char *what)
{
    if (fd >= 0) {
        if (write(fd, what, strlen(what)) < 0) {
            /* the parent is gone: nobody to tell */
        }
        close(fd);
    }
}

/* The error that stops kxld before it serves, told to the parent or logged; EXIT_ERR. */
static int fail(int notify_fd)
{
    if (notify_fd >= 0)
        tell_parent(notify_fd, kx_err_msg());
    else
        kx_log(KX_LOG_ERROR, "kxld: %s", kx_err_msg());
    return EXIT_ERR;
}

/* In the background the log goes to LOG_DIR/kxld.log; *log_r is NULL in the foreground. */
static int open_log(const kxl_paths *paths, int notify_fd, FILE **log_r)
{
    *log_r = NULL;
    if (notify_fd < 0)
        return 0;
    AUTOFREE char *path = kx_path_join(paths->log_dir, "kxld.log");
    if (!(*log_r = fopen(path, "ae"))) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot open '%s'", path);
        return -1;
    }
    kx_log_set_sink(file_sink, *log_r);
    return 0;
}

/* Autostart runs beside the server, in a thread of its own: the API answers meanwhile. */
typedef struct {
    const kxl_paths *paths;
    kxl_autostart_opts opts;
    atomic_bool stop;
    pthread_t thread;
    bool running;
} autostart_thread;

static void *autostart_main(void *arg)
{
    autostart_thread *a = arg;
    if (kxl_autostart_run(a->paths, &a->opts) < 0)
        kx_log(KX_LOG_ERROR, "kxld: autostart: %s", kx_err_msg());
    return NULL;
}

static void autostart_begin(autostart_thread *a)
{
    a->opts.stop = &a->stop;
    a->running = pthread_create(&a->thread, NULL, autostart_main, a) == 0;
    if (!a->running)
        kx_log(KX_LOG_ERROR, "kxld: cannot start the autostart thread; nothing starts at boot");
}

/* Stops its waits and starts (a start under way ends first), then joins it. */
static void autostart_end(autostart_thread *a)
{
    atomic_store(&a->stop, true);
    if (a->running)
        pthread_join(a->thread, NULL);
    a->running = false;
}

/* Listens on o (and for relocations with ro), tells the parent, starts the autostart, serves
 * until a signal; the exit status. */
static int serve_on(const http_server_opts *o, const reloc_server_opts *ro,
                    autostart_thread *autostart, int notify_fd)
{
    reloc_server *reloc = ro ? reloc_server_start(ro) : NULL;
    if (ro && !reloc)
        return fail(notify_fd);
    kxld_relay_init();   /* before the workers that relay to peers */
    http_server *srv = http_server_new(o);
    if (!srv) {
        reloc_server_stop(reloc);
        return fail(notify_fd);
    }
    pthread_t sig;
    if (pthread_create(&sig, NULL, signal_thread, srv) != 0) {
        kx_err(KXL_ERR_INTERNAL, "cannot start the signal thread");
        http_server_free(srv);
        reloc_server_stop(reloc);
        return fail(notify_fd);
    }
    pthread_detach(sig);
    kx_notice("kxld %s: listening on %s", KXL_VERSION, o->unix_socket);
    if (o->tcp_port)
        kx_notice("kxld: listening on %s port %d (TLS, bearer tokens: %zu, client "
                  "certificates: %s)", o->tcp_address, o->tcp_port, o->tokens->n,
                  o->tls_client_ca ? o->tls_client_ca : "none");
    if (ro)
        kx_notice("kxld: relocation server on %s port %d (mutual TLS with '%s')",
                  ro->address ? ro->address : "every address", ro->port, ro->tls_dir);
    if (notify_fd >= 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        close(null);
        tell_parent(notify_fd, "OK");
    }
    autostart_begin(autostart);
    int status = http_server_run(srv) < 0 ? EXIT_ERR : EXIT_OK;
    autostart_end(autostart);
    if (status != EXIT_OK)
        kx_log(KX_LOG_ERROR, "kxld: %s", kx_err_msg());
    http_server_free(srv);
    reloc_server_stop(reloc);
    return status;
}

/* Serves as conf (read from conf_path) says (the token file read now); the exit status.
 * log_fd: the log, for the relocation server's children. */
static int serve_with(const kxl_paths *paths, const kxld_conf *conf, const char *conf_path,
                      const kxld_opts *opts, int log_fd, int notify_fd)
{
    kx_strv tokens = KX_STRV_INIT;
    kxl_migrate_clean_leftovers(paths);   /* of receivers killed before this start */
    if (conf->tcp_port && conf->token_file && http_tokens_load(conf->token_file, &tokens) < 0)
        return fail(notify_fd);
    http_server_opts o = {.unix_socket = conf->unix_socket, .socket_group = conf->socket_group,
                          .max_body = (size_t)conf->max_body_kib * 1024,
                          .max_requests = (unsigned)conf->max_requests,
                          .idle_timeout_s = (int)conf->idle_timeout_s, .paths = paths,
                          .auto_dirs = (const char *const *)conf->auto_dirs,
                          .peers = (const char *const *)conf->relocation_peers,
                          .api_peers = (const char *const *)conf->api_peers,
                          .tcp_port = (int)conf->tcp_port, .tcp_address = conf->tcp_address,
                          .tls_cert = conf->tls_cert, .tls_key = conf->tls_key,
                          .tls_client_ca = conf->tls_client_ca,
                          .tokens = &tokens, .web_dir = conf->web_dir,
                          .session_idle_s = (int)conf->session_idle_s,
                          .pam_service = conf->pam_service, .login_group = conf->login_group};
    autostart_thread autostart = {.paths = paths,
                                  .opts = {.extra_dirs = (const char *const *)conf->auto_dirs}};
    AUTOFREE char *tls_dir = kxl_tls_dir(paths);
    reloc_server_opts ro = {.address = conf->relocation_address,
                            .port = (int)conf->relocation_port, .tls_dir = tls_dir,
                            .root = paths->root, .config = conf_path, .verbose = opts->verbose,
                            .log_fd = log_fd};
    int status = serve_on(&o, conf->relocation_server ? &ro : NULL, &autostart, notify_fd);
    kx_strv_dispose(&tokens);
    return status;
}

/* Serves until a signal; the exit status. notify_fd: see go_background. */
static int serve(const kxld_opts *opts, int notify_fd)
{
    kxl_paths paths;
    if (kxl_paths_init(&paths, opts->root) < 0)
        return fail(notify_fd);
    AUTOFREE char *conf_path = opts->config ? kx_strdup(opts->config)
                                            : kx_path_join(paths.etc_dir, "kxld.conf");
    kxld_conf conf;
    FILE *log = NULL;
    int status;
    if (opts->relocation_peer) {
        kx_log_set_sink(file_sink, stderr);   /* kxld's log: the listener made it stderr */
        status = reloc_peer_main(&paths, conf_path);
    } else if (kxld_conf_load(conf_path, paths.root, &conf) < 0) {
        status = fail(notify_fd);
    } else {
        status = open_log(&paths, notify_fd, &log) < 0
                     ? fail(notify_fd)
                     : serve_with(&paths, &conf, conf_path, opts, log ? fileno(log) : 2,
                                  notify_fd);
        kxld_conf_dispose(&conf);
    }
    if (log) {
        kx_log_set_sink(NULL, NULL);
        fclose(log);
    }
    kxl_paths_dispose(&paths);
    return status;
}

int main(int argc, char **argv)
{
    kxld_opts o = {0};
    if (argc > 1 && strcmp(argv[1], MIGRATE_MUX_ARG) == 0)   /* migrate_mux_start's child */
        return migrate_mux_main(argc, argv) < 0 ? EXIT_ERR : EXIT_OK;
    if (argc > 1 && strcmp(argv[1], IMAGE_CHILD_ARG) == 0)   /* image_create's child */
        image_child_main(argc, argv);
    int r = parse_opts(argc, argv, &o);
    if (r != 0)
        return r > 0 ? EXIT_OK : EXIT_USAGE;
    if (o.print_routes) {
        print_routes();
        return EXIT_OK;
    }
    kx_log_set_level(o.verbose > 1 ? KX_LOG_DEBUG : o.verbose ? KX_LOG_INFO : KX_LOG_NOTICE);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (!o.relocation_peer)   /* a peer ends at kxld's SIGTERM, its migration with it */
        pthread_sigmask(SIG_BLOCK, &set, NULL);   /* before any thread: all inherit it */
    int notify_fd = o.foreground || o.relocation_peer ? -1 : go_background();
    return serve(&o, notify_fd);
}
