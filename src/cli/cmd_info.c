/* cmd_info.c - kxl info: the host, its memory, the accelerator kxl uses and
 * why, the QEMU and kxl versions, as "key : value" lines (xl info) or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

static unsigned long long meminfo_mib(const char *key)
{
    AUTOFREE char *text = kx_read_file("/proc/meminfo", NULL);
    char *p = text ? strstr(text, key) : NULL;
    return p ? strtoull(p + strlen(key) + 1, NULL, 10) / 1024 : 0;
}

/* First line of `qemu-system-x86_64 --version`. */
static char *qemu_version(void)
{
    AUTOFREE char *qemu = kxl_qemu_binary();
    AUTOFREE char *cmd = kx_asprintf("'%s' --version 2>/dev/null", qemu);
    FILE *f = popen(cmd, "r");
    char line[256] = "unknown";
    if (f) {
        if (!fgets(line, sizeof(line), f))
            snprintf(line, sizeof(line), "unknown");
        pclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    const char *v = strstr(line, "version ");
    return kx_strdup(v ? v + strlen("version ") : line);
}

int cmd_info(cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json))
        return cli_usage(cli_find("info"));
    struct utsname u;
    uname(&u);
    kxl_accel accel;
    AUTOFREE char *notice = NULL, *why = NULL, *qemu = qemu_version();
    kxl_kvm_usable(&why);
    kxl_accel_resolve(KXL_ACCEL_AUTO, &accel, &notice);
    AUTOFREE char *accel_text = kx_asprintf("%s (%s)", kxl_accel_to_string(accel), why);
    AUTOFREE char *cpus = kx_asprintf("%u", kxl_host_cpus());
    AUTOFREE char *total = kx_asprintf("%llu", meminfo_mib("MemTotal:"));
    AUTOFREE char *free_mem = kx_asprintf("%llu", meminfo_mib("MemAvailable:"));
    AUTOFREE char *why_root = NULL;
    AUTOFREE char *user = kxl_qemu_user(&why_root);
    AUTOFREE char *qemu_user = user ? kx_strdup(user) : kx_asprintf("root (%s)", why_root);
    const char *rows[][2] = {
        {"host", u.nodename}, {"release", u.release}, {"version", u.version},
        {"machine", u.machine}, {"nr_cpus", cpus}, {"total_memory", total},
        {"free_memory", free_mem}, {"accelerator", accel_text}, {"qemu_version", qemu},
        {"qemu_user", qemu_user}, {"kxl_version", KXL_VERSION}, {"kxl_root", ctx->paths.root},
    };
    AUTOPTR(json_object) o = json_object_new_object();
    for (size_t i = 0; i < KX_ARRAY_SIZE(rows); i++) {
        if (json)
            json_object_object_add(o, rows[i][0], json_object_new_string(rows[i][1]));
        else
            printf("%-22s : %s\n", rows[i][0], rows[i][1]);
    }
    if (json)
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    return EXIT_OK;
}
