/* test_create_image.c - image_create runs in a child process: the caller's mount namespace,
 * signal dispositions and signal mask are the same after it returns (a run that fails before
 * its first step, one that fails in its second step, one stopped by a signal read from its
 * cancel fd); the child's progress lines and error reach the caller, and nothing of a failed
 * run is left (work tree, directories, mounts). No network: --install-method copy of a tree
 * made here. The same from a threaded caller (kxld), whose child must exec before it
 * allocates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/create_image.h"
#include "unit_tmpdir.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static char tmp[] = "/tmp/kxl-mkimg-XXXXXX";

static const int watched[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD};

/* What a run must leave as it was in the calling process. */
typedef struct {
    ino_t mnt_ns;
    struct sigaction act[KX_ARRAY_SIZE(watched)];
    sigset_t mask;
} caller_state;

static void on_hup(int sig)
{
    (void)sig;
}

static void snapshot(caller_state *s)
{
    struct stat st;
    assert_int_equal(stat("/proc/self/ns/mnt", &st), 0);
    s->mnt_ns = st.st_ino;
    for (size_t i = 0; i < KX_ARRAY_SIZE(watched); i++)
        assert_int_equal(sigaction(watched[i], NULL, &s->act[i]), 0);
    assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &s->mask), 0);
}

static void assert_same_state(const caller_state *before)
{
    caller_state now;
    snapshot(&now);
    assert_int_equal(now.mnt_ns, before->mnt_ns);
    for (size_t i = 0; i < KX_ARRAY_SIZE(watched); i++) {
        assert_ptr_equal(now.act[i].sa_handler, before->act[i].sa_handler);
        assert_int_equal(now.act[i].sa_flags, before->act[i].sa_flags);
    }
    for (int sig = 1; sig < NSIG; sig++)
        assert_int_equal(sigismember(&now.mask, sig), sigismember(&before->mask, sig));
}

/* A caller with a signal state of its own: a SIGHUP handler, SIGTERM ignored, SIGUSR1
 * blocked; *s gets the state to compare with afterwards. */
static void caller_setup(caller_state *s)
{
    struct sigaction hup = {.sa_handler = on_hup, .sa_flags = SA_RESTART};
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigset_t usr1;
    sigemptyset(&hup.sa_mask);
    sigemptyset(&ign.sa_mask);
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigaction(SIGHUP, &hup, NULL);
    sigaction(SIGTERM, &ign, NULL);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    snapshot(s);
}

static void caller_reset(void)
{
    sigset_t none;
    sigemptyset(&none);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* image_create from a caller with a signal state of its own, checked to be the same after. */
static int create_as_caller(const image_opts *o, image_result *r)
{
    caller_state before;
    caller_setup(&before);
    int rc = image_create(o, r);
    assert_same_state(&before);
    caller_reset();
    return rc;
}

static kx_buf progress_seen = KX_BUF_INIT;

static void record_progress(int step, int total, const char *what, void *opaque)
{
    (void)opaque;
    kx_buf_printf(&progress_seen, "[%d/%d] %s\n", step, total, what);
}

/* Options for host into tmp: images in tmp/images, config in tmp/etc, work in tmp/lib, the
 * root tree copied from tmp/src (made here, without /boot, so step 2 fails). */
static void opts_for(image_opts *o, const char *host)
{
    AUTOFREE char *etc = kx_asprintf("%s/src/etc", tmp);
    AUTOFREE char *hostname = kx_asprintf("%s/hostname", etc);
    assert_int_equal(kx_mkdir_p(etc, 0755), 0);
    assert_int_equal(kx_write_file_atomic(hostname, "old\n", 4, 0644), 0);
    image_opts_init(o);
    o->hostname = kx_strdup(host);
    o->dir = kx_asprintf("%s/images", tmp);
    o->output = kx_asprintf("%s/etc", tmp);
    o->lib_dir = kx_asprintf("%s/lib", tmp);
    o->mac = kx_strdup("00:16:3e:00:00:01");
    o->method = IMG_INSTALL_COPY;
    o->source = kx_asprintf("%s/src", tmp);
    o->progress = record_progress;
}

static void opts_done(image_opts *o)
{
    image_opts_dispose(o);
    kx_buf_dispose(&progress_seen);
}

static bool exists(const char *rel)
{
    AUTOFREE char *path = kx_asprintf("%s/%s", tmp, rel);
    return kx_path_exists(path);
}

/* Nothing of a failed run: no images or config directory, an empty work directory, and
 * nothing mounted below tmp in the caller's namespace. */
static void assert_nothing_left(void)
{
    assert_false(exists("images"));
    assert_false(exists("etc"));
    AUTOFREE char *work = kx_asprintf("%s/lib/tmp", tmp);
    DIR *d = opendir(work);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
            fail_msg("left in '%s': %s", work, e->d_name);
    if (d)
        closedir(d);
    AUTOFREE char *mounts = kx_read_file("/proc/self/mountinfo", NULL);
    assert_non_null(mounts);
    assert_null(strstr(mounts, tmp));
}

static void test_early_failure_leaves_the_caller_as_it_was(void **state)
{
    (void)state;
    image_opts o;
    image_result r;
    opts_for(&o, "early");
    AUTOFREE char *cfg = kx_asprintf("%s/conf/early.cfg", tmp);
    free(o.output);
    o.output = kx_asprintf("%s/conf", tmp);
    assert_int_equal(kx_mkdir_p(o.output, 0755), 0);
    assert_int_equal(kx_write_file_atomic(cfg, "", 0, 0644), 0);
    assert_int_equal(create_as_caller(&o, &r), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_EXISTS);
    AUTOFREE char *want = kx_asprintf("'%s' exists (use --force to overwrite it)", cfg);
    assert_string_equal(kx_err_msg(), want);
    assert_string_equal(kx_buf_str(&progress_seen), "");
    assert_null(r.cfg_path);
    assert_false(exists("images"));
    opts_done(&o);
}

static void test_steps_relay_progress_and_error(void **state)
{
    (void)state;
    image_opts o;
    image_result r;
    opts_for(&o, "steps");
    assert_int_equal(create_as_caller(&o, &r), -1);
    assert_int_equal(kx_err_code(), KXL_ERR_NOT_FOUND);
    assert_string_equal(kx_err_msg(), "the guest's tree has no /boot: install a kernel "
                                      "(linux-image-*) in it");
    AUTOFREE char *want = kx_asprintf(
        "[1/5] Copying %s/src into a work tree ...\n"
        "[2/5] Configuring steps: host name, network, fstab, serial console, SSH host keys, "
        "root password ...\n", tmp);
    assert_string_equal(kx_buf_str(&progress_seen), want);
    assert_true(r.seconds > 0);
    assert_nothing_left();
    opts_done(&o);
}

static atomic_bool hammers_stop;

/* Keeps the allocator's locks busy, as kxld's other threads do while a job runs. */
static void *hammer(void *arg)
{
    (void)arg;
    unsigned seed = 1;
    while (!atomic_load(&hammers_stop)) {
        void *p[128];
        for (size_t i = 0; i < KX_ARRAY_SIZE(p); i++)
            p[i] = malloc(16 + (size_t)(rand_r(&seed) % 16384));
        for (size_t i = 0; i < KX_ARRAY_SIZE(p); i++)
            free(p[i]);
    }
    return NULL;
}

static void on_alarm(int sig)
{
    static const char msg[] = "test_create_image: the run's child hung (a lock held at the "
                              "fork?)\n";
    (void)sig;
    if (write(2, msg, sizeof(msg) - 1) < 0) {
        /* nothing else to do */
    }
    _exit(1);
}

/* kxld runs image_create from one thread while others allocate: the exec'd child gets its
 * options, and its progress and error come through, as with a lone caller; a child stuck on a
 * lock held at the fork ends the test by the alarm. (The race itself is rare: main's forking
 * child did not hang in 20 runs here, so this is no proof of its absence.) */
static void test_steps_from_a_threaded_caller(void **state)
{
    (void)state;
    pthread_t t[3];
    atomic_store(&hammers_stop, false);
    for (size_t i = 0; i < KX_ARRAY_SIZE(t); i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
    signal(SIGALRM, on_alarm);
    for (int i = 0; i < 10; i++) {
        image_opts o;
        image_result r;
        opts_for(&o, "threaded");
        alarm(60);
        assert_int_equal(image_create(&o, &r), -1);
        alarm(0);
        assert_string_equal(kx_err_msg(), "the guest's tree has no /boot: install a kernel "
                                          "(linux-image-*) in it");
        assert_non_null(strstr(kx_buf_str(&progress_seen), "[2/5] Configuring threaded: "));
        opts_done(&o);
    }
    signal(SIGALRM, SIG_DFL);
    atomic_store(&hammers_stop, true);
    for (size_t i = 0; i < KX_ARRAY_SIZE(t); i++)
        pthread_join(t[i], NULL);
    assert_nothing_left();
}

/* A signal read from cancel_fd stops the run, which undoes itself and says so. The parent
 * passes it on before it answers the child's first progress line, so the run never gets
 * past its first step. */
static void test_cancel_fd_interrupts_the_run(void **state)
{
    (void)state;
    image_opts o;
    image_result r;
    int cancel[2];
    struct signalfd_siginfo si = {.ssi_signo = SIGINT};
    opts_for(&o, "cancelled");
    assert_int_equal(pipe(cancel), 0);
    assert_int_equal(write(cancel[1], &si, sizeof(si)), (ssize_t)sizeof(si));
    o.cancel_fd = cancel[0];
    assert_int_equal(create_as_caller(&o, &r), -1);
    close(cancel[0]);
    close(cancel[1]);
    assert_int_equal(kx_err_code(), KXL_ERR_STATE);
    assert_string_equal(kx_err_msg(), "interrupted by SIGINT; nothing was left behind");
    assert_nothing_left();
    opts_done(&o);
}

/* image_opts_set (kxld's way in, without getopt) means what the command line's --NAME=VALUE
 * means, and refuses what it refuses, naming the option. */
static void test_opts_set_is_the_command_line(void **state)
{
    (void)state;
    image_opts o, cli;
    image_opts_init(&o);
    image_opts_init(&cli);
    char *argv[] = {"create-image", "--hostname=web-01", "--size=2gb", "--genpass",
                    "--noswap", "--ip=192.0.2.2/24", NULL};
    assert_int_equal(image_opts_parse(&cli, 6, argv), 0);
    assert_int_equal(image_opts_set(&o, "hostname", "web-01"), 0);
    assert_int_equal(image_opts_set(&o, "size", "2gb"), 0);
    assert_int_equal(image_opts_set(&o, "genpass", NULL), 0);
    assert_int_equal(image_opts_set(&o, "noswap", NULL), 0);
    assert_int_equal(image_opts_set(&o, "ip", "192.0.2.2/24"), 0);
    assert_string_equal(o.hostname, cli.hostname);
    assert_int_equal(o.size_mib, 2048);
    assert_int_equal(o.size_mib, cli.size_mib);
    assert_int_equal(o.swap_mib, 0);
    assert_true(o.genpass && cli.genpass);
    assert_string_equal(o.ip, cli.ip);
    assert_int_equal(o.prefix, cli.prefix);
    static const struct { const char *name, *value, *error; } bad[] = {
        {"size", "big", "--size 'big'"},
        {"size", NULL, "--size needs a value"},
        {"genpass", "yes", "--genpass takes no value"},
        {"frobnicate", "1", "unknown option '--frobnicate'"},
        {"hostname", "", "--hostname needs a value"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(image_opts_set(&o, bad[i].name, bad[i].value), -1);
        assert_int_equal(kx_err_code(), KXL_ERR_INVALID);
        assert_non_null(strstr(kx_err_msg(), bad[i].error));
    }
    image_opts_dispose(&o);
    image_opts_dispose(&cli);
}

UNIT_TMPDIR_FIXTURES(tmp)

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], IMAGE_CHILD_ARG) == 0)   /* image_create's child */
        image_child_main(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_early_failure_leaves_the_caller_as_it_was),
        cmocka_unit_test(test_steps_relay_progress_and_error),
        cmocka_unit_test(test_steps_from_a_threaded_caller),
        cmocka_unit_test(test_cancel_fd_interrupts_the_run),
        cmocka_unit_test(test_opts_set_is_the_command_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
