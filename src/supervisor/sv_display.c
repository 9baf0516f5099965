/* sv_display.c - a domain's VNC display. Its password reaches QEMU over QMP before the guest
 * runs (a command line is readable by every user in /proc), and the `display` verb says
 * where the server listens, from QEMU itself: with vncunused QEMU picked the port. */
#include <stdlib.h>
#include <string.h>

#include "supervisor/sv.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/json.h"

void sv_display_configure(sv *s)
{
    const kxl_gfx *g = &s->cfg->gfx;
    if (!g->vnc || !g->password)
        return;
    json_object *args = json_object_new_object();
    json_object_object_add(args, "protocol", json_object_new_string("vnc"));
    json_object_object_add(args, "password", json_object_new_string(g->password));
    /* without it QEMU keeps refusing every client (password=on, none set): safe, and told */
    if (qmp_execute(s->qmp, "set_password", args, NULL, 5000) < 0)
        sv_event(s, "cannot set the VNC password, so no VNC client can log in: %s",
                 kx_err_msg());
}

/* query-vnc's answer as kxl tells it: family, and host + port or the socket's path. */
static json_object *vnc_address(sv *s, json_object *info)
{
    json_object *o = json_object_new_object();
    const char *family = kx_json_str(info, "family", "");
    json_object_object_add(o, "family", json_object_new_string(family));
    if (strcmp(family, "unix") == 0) {
        AUTOFREE char *path = kx_path_join(s->dir, "vnc.sock");
        json_object_object_add(o, "path", json_object_new_string(path));
    } else {
        json_object_object_add(o, "host", json_object_new_string(kx_json_str(info, "host", "")));
        json_object_object_add(o, "port",
                               json_object_new_int(atoi(kx_json_str(info, "service", "0"))));
    }
    json_object_object_add(o, "password", json_object_new_boolean(s->cfg->gfx.password != NULL));
    return o;
}

json_object *sv_display(sv *s, json_object *args)
{
    (void)args;
    if (!s->cfg->gfx.vnc) {
        kx_err(KXL_ERR_STATE, "domain '%s' has no display: add vnc = 1 to its config",
               s->name);
        return NULL;
    }
    AUTOPTR(json_object) info = NULL;
    if (qmp_execute(s->qmp, "query-vnc", NULL, &info, 5000) < 0)
        return NULL;
    if (!kx_json_bool(info, "enabled", false)) {
        kx_err(KXL_ERR_QEMU, "QEMU of domain '%s' has no VNC server running", s->name);
        return NULL;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "vnc", vnc_address(s, info));
    return o;
}
