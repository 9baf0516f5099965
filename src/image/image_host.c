/* image_host.c - what create-image takes from the host: its Debian release, the package
 * mirror of its apt sources, its nameservers, its tools and whether it has device-mapper. */
#include "image/image_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

char *image_host_codename(void)
{
    AUTOFREE char *text = kx_read_file("/etc/os-release", NULL);
    if (!text)
        return NULL;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!kx_startswith(line, "VERSION_CODENAME="))
            continue;
        char *v = line + strlen("VERSION_CODENAME=");
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v++;
            n -= 2;
        }
        if (n > 0)
            return kx_strndup(v, n);
    }
    kx_err(KXL_ERR_NOT_FOUND, "/etc/os-release names no VERSION_CODENAME; give --dist");
    return NULL;
}

static void add_source(kx_strv *uris, kx_strv *suites, const char *uri, const char *suite_list)
{
    if (!kx_startswith(uri, "http://") && !kx_startswith(uri, "https://") &&
        !kx_startswith(uri, "file:/"))
        return;
    kx_strv_push(uris, uri);
    kx_strv_push(suites, suite_list);
}

/* True when the space-separated list holds word (NULL: any word without '-' or '/'). */
static bool lists_suite(const char *list, const char *suite)
{
    AUTOFREE char *copy = kx_strdup(list);
    for (char *save = NULL, *s = strtok_r(copy, " \t", &save); s; s = strtok_r(NULL, " \t", &save))
        if (suite ? strcmp(s, suite) == 0 : !strchr(s, '-') && !strchr(s, '/'))
            return true;
    return false;
}

/* One-line style: "deb [options] URI SUITE COMPONENT...". */
static void parse_list(const char *text, kx_strv *uris, kx_strv *suites)
{
    AUTOFREE char *copy = kx_strdup(text);
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        line += strspn(line, " \t");
        if (!kx_startswith(line, "deb ") && !kx_startswith(line, "deb\t"))
            continue;
        char *p = line + 4;
        p += strspn(p, " \t");
        if (*p == '[') {
            char *close = strchr(p, ']');
            if (!close)
                continue;
            p = close + 1;
        }
        char uri[1024], suite[256];
        if (sscanf(p, "%1023s %255s", uri, suite) == 2)
            add_source(uris, suites, uri, suite);
    }
}

/* deb822 style: stanzas of "Types: deb", "URIs: ...", "Suites: ...", "Enabled: no". */
static void parse_sources(const char *text, kx_strv *uris, kx_strv *suites)
{
    AUTOFREE char *copy = kx_strdup(text);
    char *types = NULL, *uri_list = NULL, *suite_list = NULL;
    bool enabled = true;
    char *rest = copy;
    for (char *line = strsep(&rest, "\n");; line = strsep(&rest, "\n")) {   /* keeps blank lines */
        bool blank = !line || line[strspn(line, " \t")] == '\0';
        if (blank && types && uri_list && suite_list && enabled && lists_suite(types, "deb")) {
            char uri[1024];
            if (sscanf(uri_list, "%1023s", uri) == 1)
                add_source(uris, suites, uri, suite_list);
        }
        if (blank) {
            types = uri_list = suite_list = NULL;
            enabled = true;
        }
        if (!line)
            break;
        if (line[0] == '#')
            continue;
        if (kx_startswith(line, "Types:"))
            types = line + 6 + strspn(line + 6, " \t");
        else if (kx_startswith(line, "URIs:"))
            uri_list = line + 5 + strspn(line + 5, " \t");
        else if (kx_startswith(line, "Suites:"))
            suite_list = line + 7 + strspn(line + 7, " \t");
        else if (kx_startswith(line, "Enabled:"))
            enabled = !strstr(line, "no");
    }
}

static void read_sources(const char *etc_apt, kx_strv *uris, kx_strv *suites)
{
    AUTOFREE char *main_list = kx_path_join(etc_apt, "sources.list");
    AUTOFREE char *text = kx_read_file(main_list, NULL);
    if (text)
        parse_list(text, uris, suites);
    AUTOFREE char *dir = kx_path_join(etc_apt, "sources.list.d");
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        size_t len = strlen(name);
        bool list = len > 5 && strcmp(name + len - 5, ".list") == 0;
        bool sources = len > 8 && strcmp(name + len - 8, ".sources") == 0;
        if (list || sources) {
            AUTOFREE char *path = kx_path_join(dir, name);
            AUTOFREE char *t = kx_read_file(path, NULL);
            if (t && list)
                parse_list(t, uris, suites);
            else if (t)
                parse_sources(t, uris, suites);
        }
        free(names[i]);
    }
    free(names);
    kx_err_clear();
}

char *image_host_mirror(const char *etc_apt, const char *dist)
{
    kx_strv uris = KX_STRV_INIT, suites = KX_STRV_INIT;
    read_sources(etc_apt, &uris, &suites);
    char *found = NULL;
    for (int pass = 0; pass < 2 && !found; pass++)
        for (size_t i = 0; i < uris.n && !found; i++)
            if (lists_suite(suites.v[i], pass == 0 ? dist : NULL))
                found = kx_strdup(uris.v[i]);
    kx_strv_dispose(&uris);
    kx_strv_dispose(&suites);
    if (!found)
        kx_err(KXL_ERR_NOT_FOUND, "no Debian archive found in the host's apt sources "
               "(%s/sources.list, sources.list.d/); give --mirror", etc_apt);
    return found;
}

char *image_host_nameservers(void)
{
    AUTOFREE char *text = kx_read_file("/etc/resolv.conf", NULL);
    if (!text) {
        kx_err_clear();
        return NULL;
    }
    kx_buf b = KX_BUF_INIT;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char addr[64];
        struct in_addr a;
        if (sscanf(line, "nameserver %63s", addr) != 1 || inet_pton(AF_INET, addr, &a) != 1)
            continue;
        if ((ntohl(a.s_addr) >> 24) == 127)
            continue;   /* a resolver on the host's loopback is not the guest's */
        kx_buf_printf(&b, "%s%s", b.len ? " " : "", addr);
    }
    return b.len ? kx_buf_steal(&b) : NULL;
}

bool image_have_tool(const char *name)
{
    const char *path = getenv("PATH");
    AUTOFREE char *dirs = kx_strdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        AUTOFREE char *p = kx_path_join(d, name);
        if (access(p, X_OK) == 0)
            return true;
    }
    /* root's tools are in sbin even when PATH lacks it */
    for (const char *const *d = (const char *const[]){"/usr/sbin", "/sbin", NULL}; *d; d++) {
        AUTOFREE char *p = kx_path_join(*d, name);
        if (access(p, X_OK) == 0)
            return true;
    }
    return false;
}

bool image_have_device_mapper(void)
{
    /* The node can exist while the kernel has no device-mapper (lvm2's packaging makes it):
     * opening it says which (ENODEV), and loads the module when there is one. */
    AUTOCLOSE int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
    if (fd >= 0)
        return true;
    if (errno == ENODEV || errno == ENXIO)
        return false;
    if (errno != ENOENT)
        return true;   /* there, but not ours to open: lvm2 will say what is wrong */
    AUTOFREE char *misc = kx_read_file("/proc/misc", NULL);
    if (!misc)
        kx_err_clear();
    return misc && strstr(misc, "device-mapper");
}
