/* cfg_startup.c - the autostart keys' mini-languages: startup = "order=N,up=S,down=S" (as
 * Proxmox writes it: each part optional, in any order) and startup_ready's regular
 * expression. Pure: no I/O. */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg_spec.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

typedef struct {
    const char *name;
    unsigned long min, max;
} startup_part;

/* Index for each part: order, up, down. */
static const startup_part parts[] = {
    {"order", 0, CFG_STARTUP_ORDER_MAX},
    {"up", 0, 86400},
    {"down", 1, 86400},
};

static int part_index(const char *name, size_t len)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(parts); i++)
        if (strlen(parts[i].name) == len && strncmp(parts[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

/* One "NAME=NUMBER" part of length len at item into values[index]; seen marks the parts. */
static int parse_part(const char *item, size_t len, const char *where, unsigned long *values,
                      bool *seen)
{
    AUTOFREE char *text = kx_strndup(item, len);
    char *eq = strchr(text, '=');
    int i = eq ? part_index(text, (size_t)(eq - text)) : -1;
    if (i < 0) {
        kx_err(KXL_ERR_CONFIG, "%s: startup: '%s' is not order=N, up=SECONDS or down=SECONDS",
               where, text);
        return -1;
    }
    if (seen[i]) {
        kx_err(KXL_ERR_CONFIG, "%s: startup: '%s' is given twice", where, parts[i].name);
        return -1;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(eq + 1, &end, 10);
    if (eq[1] < '0' || eq[1] > '9' || *end || errno || v < parts[i].min || v > parts[i].max) {
        kx_err(KXL_ERR_CONFIG, "%s: startup: %s must be a number from %lu to %lu, not '%s'",
               where, parts[i].name, parts[i].min, parts[i].max, eq + 1);
        return -1;
    }
    seen[i] = true;
    values[i] = v;
    return 0;
}

int cfg_startup_parse(const char *spec, const char *where, cfg_startup *out_r)
{
    unsigned long values[KX_ARRAY_SIZE(parts)] = {0};
    bool seen[KX_ARRAY_SIZE(parts)] = {false};
    for (const char *p = spec; *p;) {
        size_t len = strcspn(p, ",");
        if (len == 0) {
            kx_err(KXL_ERR_CONFIG, "%s: startup: an empty part in '%s' (write "
                   "\"order=N,up=SECONDS,down=SECONDS\")", where, spec);
            return -1;
        }
        if (parse_part(p, len, where, values, seen) < 0)
            return -1;
        p += len + (p[len] == ',');
    }
    out_r->order = seen[0] ? (int)values[0] : -1;
    out_r->up = (unsigned)values[1];
    out_r->down = (unsigned)values[2];
    return 0;
}

int cfg_ready_regex_check(const char *regex, const char *where)
{
    if (!*regex) {
        kx_err(KXL_ERR_CONFIG, "%s: startup_ready is empty (it would match at once)", where);
        return -1;
    }
    regex_t re;
    int rc = regcomp(&re, regex, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[256];
        regerror(rc, &re, why, sizeof(why));
        kx_err(KXL_ERR_CONFIG, "%s: startup_ready '%s' is not a valid regular expression: %s",
               where, regex, why);
        return -1;
    }
    regfree(&re);
    return 0;
}
