/* uptime_text.c - xl uptime's lines: "Name ID Uptime" rows, or with -s the short form
 * " HH:MM:SS up 2 days,  3:04, NAME (ID)" that reads like uptime(1). Pure: no I/O. */
#include <stdio.h>

#include "kxl/stats.h"
#include "util/buf.h"

const char *kxl_uptime_header(void)
{
    return "Name                              ID Uptime";
}

/* "2 days,  3:04:05", "1 day,  3:04:05" or " 3:04:05"; brief drops the seconds. */
static void uptime_span(kx_buf *b, unsigned long secs, bool brief)
{
    unsigned long day = secs / 86400, hour = secs % 86400 / 3600, min = secs % 3600 / 60;
    if (day)
        kx_buf_printf(b, "%lu day%s, ", day, day > 1 ? "s" : "");
    kx_buf_printf(b, "%2lu:%02lu", hour, min);
    if (!brief)
        kx_buf_printf(b, ":%02lu", secs % 60);
}

char *kxl_uptime_line(const char *name, unsigned domid, unsigned long secs,
                      const struct tm *brief_now)
{
    kx_buf b = KX_BUF_INIT;
    if (brief_now) {
        kx_buf_printf(&b, " %02d:%02d:%02d up ", brief_now->tm_hour, brief_now->tm_min,
                      brief_now->tm_sec);
        uptime_span(&b, secs, true);
        kx_buf_printf(&b, ", %s (%u)", name, domid);
    } else {
        kx_buf_printf(&b, "%-33s %4u ", name, domid);
        uptime_span(&b, secs, false);
    }
    return kx_buf_steal(&b);
}
