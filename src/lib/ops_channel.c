/* ops_channel.c - channel-list: the domain's virtio-serial channels in xl's layout. There are
 * no event channels or grant rings under QEMU: those columns say -1, and the last one names
 * the host end (the socket QEMU listens on) where xl shows a pty's path. */
#include <stdlib.h>

#include "cfg/cfg_channel.h"
#include "kxl/ops.h"
#include "util/buf.h"
#include "util/cleanup.h"

DEFINE_AUTOPTR(kxl_domcfg, kxl_domcfg_free)

#define XENBUS_CONNECTED 4   /* xl's state column: every channel of a running QEMU is up */

const char *kxl_channel_list_header(void)
{
    return "Idx BE state evt-ch ring-ref connection                               ";
}

static void channel_lines(kx_buf *b, const kxl_domcfg *cfg, const char *run_dir)
{
    for (size_t i = 0; cfg->channels && cfg->channels[i]; i++) {
        cfg_channel c;
        if (cfg_channel_parse(cfg->channels[i], "channel", &c) < 0)
            continue;   /* checked when the config was read */
        AUTOFREE char *path = c.path ? kx_strdup(c.path)
                                     : kx_asprintf("%s/channel%zu.sock", run_dir, i);
        kx_buf_printf(b, "%-3zu %-2d %-5d %-6d %-8d %-10s %s (%s)\n", i, 0, XENBUS_CONNECTED,
                      -1, -1, c.path ? "socket" : "pty", path, c.name);
        cfg_channel_dispose(&c);
    }
}

int kxl_domain_channel_list(const kxl_paths *p, const char *dom, char **text_r)
{
    AUTOPTR(kxl_domcfg) cfg = NULL;
    if (kxl_domain_config(p, dom, &cfg) < 0)
        return -1;
    AUTOFREE char *run_dir = kxl_domain_dir(p, cfg->name);
    kx_buf b = KX_BUF_INIT;
    channel_lines(&b, cfg, run_dir);
    *text_r = kx_buf_steal(&b);
    return 0;
}
