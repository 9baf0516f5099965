/* cfg_gfx.c - xl's graphics keys. HVM configs write them at the top level, PV configs as the
 * items of one vfb = [ '...' ] entry; one table of setters serves both, so a key means the
 * same wherever it is written. */
#include "cfg/cfg_gfx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/err.h"

#define VNC_DISPLAY_MAX (65535 - 5900)   /* 5900 + display must stay a port */
#define VIDEORAM_MAX_MIB 1024

typedef int (*gfx_setter)(kxl_gfx *g, const char *key, const char *v, const char *where);

static int parse_bool(const char *key, const char *v, const char *where, bool *b_r)
{
    if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
        kx_err(KXL_ERR_CONFIG, "%s: '%s' must be 0 or 1, not '%s'", where, key, v);
        return -1;
    }
    *b_r = v[0] == '1';
    return 0;
}

static int parse_uint(const char *key, const char *v, unsigned max, const char *where,
                      unsigned *n_r)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || v[0] == '+' || n > max) {
        kx_err(KXL_ERR_CONFIG, "%s: '%s' must be a number from 0 to %u, not '%s'", where, key,
               max, v);
        return -1;
    }
    *n_r = (unsigned)n;
    return 0;
}

static void replace(char **field, const char *v)
{
    free(*field);
    *field = v && *v ? kx_strdup(v) : NULL;
}

static int set_vnc(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    return parse_bool(key, v, where, &g->vnc);
}

static int set_unused(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    return parse_bool(key, v, where, &g->unused);
}

static int set_display(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    unsigned n;
    if (parse_uint(key, v, VNC_DISPLAY_MAX, where, &n) < 0)
        return -1;
    g->display = (int)n;
    return 0;
}

/* An address QEMU can listen on: a host name, IPv4, or IPv6 (bare or in brackets). */
static bool address_ok(const char *a, size_t n)
{
    return n > 0 && n < 256 && a[0] != '-' &&
           strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-[]") >= n;
}

/* "ADDRESS" or "ADDRESS:DISPLAY" as xl writes it; IPv6 with a display in brackets. */
static int set_listen(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    size_t n = strlen(v);
    const char *colon = strrchr(v, ':');
    bool bracketed = v[0] == '[';
    bool has_display = colon && (bracketed ? colon > strchr(v, ']')
                                           : strchr(v, ':') == colon);
    if (has_display) {
        if (set_display(g, "the display of vnclisten", colon + 1, where) < 0)
            return -1;
        n = (size_t)(colon - v);
    }
    if (bracketed && (n < 3 || v[n - 1] != ']')) {
        kx_err(KXL_ERR_CONFIG, "%s: '%s' = '%s': an IPv6 address in brackets needs its "
               "closing ']'", where, key, v);
        return -1;
    }
    if (bracketed) {
        v++;
        n -= 2;
    }
    if (!address_ok(v, n) || memchr(v, '[', n) || memchr(v, ']', n)) {
        kx_err(KXL_ERR_CONFIG, "%s: '%s' = '%.*s' is not an address to listen on", where, key,
               (int)n, v);
        return -1;
    }
    free(g->listen);
    g->listen = kx_strndup(v, n);
    return 0;
}

static int set_password(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    (void)key;
    /* VNC's authentication takes the first 8 bytes: say so rather than let a longer
     * password look stronger than it is */
    if (strlen(v) > 8)
        kx_warn("%s: warning: VNC uses only the first 8 characters of vncpasswd", where);
    replace(&g->password, v);
    return 0;
}

/* QEMU's keymap names: "en-us", "de", "fr-ch", "pt-br". */
static int set_keymap(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    size_t lang = strspn(v, "abcdefghijklmnopqrstuvwxyz");
    size_t region = v[lang] == '-' ? strspn(v + lang + 1, "abcdefghijklmnopqrstuvwxyz") : 0;
    bool ok = lang >= 2 && lang <= 3 &&
              (!v[lang] || (region >= 2 && region <= 3 && !v[lang + 1 + region]));
    if (!ok) {
        kx_err(KXL_ERR_CONFIG, "%s: '%s' = '%s' is not a keymap name (like en-us, de, fr-ch)",
               where, key, v);
        return -1;
    }
    replace(&g->keymap, v);
    return 0;
}

static int set_sdl(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    (void)g;
    bool on;
    if (parse_bool(key, v, where, &on) < 0)
        return -1;
    if (on)
        kx_warn("%s: warning: 'sdl' would open a window on the host's own display, and kxl "
                "domains are headless: it is ignored (use vnc = 1 and kxl vncviewer)", where);
    return 0;
}

/* SDL's settings: meaningless without SDL. */
static int set_sdl_only(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    (void)g;
    (void)v;
    kx_warn("%s: warning: '%s' is for SDL, which kxl does not use: ignored", where, key);
    return 0;
}

static int set_vga(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    int vga = kxl_vga_from_string(v);
    if (vga < 0 || vga == KXL_VGA_DEFAULT) {
        kx_err(KXL_ERR_CONFIG, "%s: '%s' = '%s': use stdvga, cirrus, qxl or none", where, key,
               v);
        return -1;
    }
    g->vga = (kxl_vga)vga;
    return 0;
}

/* xl's older form of vga: 1 is stdvga, 0 cirrus; vga, when also given, wins. */
static int set_stdvga(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    bool on;
    if (parse_bool(key, v, where, &on) < 0)
        return -1;
    if (g->vga == KXL_VGA_DEFAULT)
        g->vga = on ? KXL_VGA_STD : KXL_VGA_CIRRUS;
    return 0;
}

static int set_videoram(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    return parse_uint(key, v, VIDEORAM_MAX_MIB, where, &g->videoram_mib);
}

static int set_nographic(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    bool on;
    if (parse_bool(key, v, where, &on) < 0)
        return -1;
    if (on) {
        g->vnc = false;
        g->vga = KXL_VGA_NONE;
    }
    return 0;
}

/* vfb's type=vnc|sdl, the oldest way to ask for a display. */
static int set_type(kxl_gfx *g, const char *key, const char *v, const char *where)
{
    if (strcmp(v, "vnc") == 0)
        return set_vnc(g, key, "1", where);
    if (strcmp(v, "sdl") == 0)
        return set_sdl(g, key, "1", where);
    kx_err(KXL_ERR_CONFIG, "%s: vfb '%s' = '%s': use vnc", where, key, v);
    return -1;
}

typedef struct {
    const char *key;
    gfx_setter set;
    bool top_level;   /* a key of its own in xl.cfg (else only inside vfb) */
    bool in_vfb;      /* allowed inside a vfb entry */
} gfx_key;

static const gfx_key keys[] = {
    {"vnc", set_vnc, true, true},
    {"vnclisten", set_listen, true, true},
    {"vncdisplay", set_display, true, true},
    {"vncunused", set_unused, true, true},
    {"vncpasswd", set_password, true, true},
    {"keymap", set_keymap, true, true},
    {"sdl", set_sdl, true, true},
    {"opengl", set_sdl_only, false, true},
    {"display", set_sdl_only, false, true},
    {"xauthority", set_sdl_only, false, true},
    {"type", set_type, false, true},
    {"vga", set_vga, true, false},
    {"stdvga", set_stdvga, true, false},
    {"videoram", set_videoram, true, false},
    {"nographic", set_nographic, true, false},
};

static const gfx_key *find(const char *key, size_t n)
{
    for (size_t i = 0; i < KX_ARRAY_SIZE(keys); i++)
        if (strlen(keys[i].key) == n && strncmp(keys[i].key, key, n) == 0)
            return &keys[i];
    return NULL;
}

int cfg_gfx_set(kxl_gfx *g, const char *key, const char *value, const char *where)
{
    const gfx_key *k = find(key, strlen(key));
    if (!k || !k->top_level) {
        kx_err(KXL_ERR_INTERNAL, "%s: '%s' is not a graphics key", where, key);
        return -1;
    }
    return k->set(g, key, value, where);
}

int cfg_gfx_vfb(kxl_gfx *g, const char *spec, const char *where)
{
    AUTOFREE char *copy = kx_strdup(spec);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        const gfx_key *k = eq ? find(item, (size_t)(eq - item)) : NULL;
        if (!k || !k->in_vfb) {
            kx_err(KXL_ERR_CONFIG, "%s: vfb: '%s' is not a vfb setting (vnc, vnclisten, "
                   "vncdisplay, vncunused, vncpasswd, keymap, sdl)", where, item);
            return -1;
        }
        *eq = '\0';
        if (k->set(g, item, eq + 1, where) < 0)
            return -1;
    }
    return 0;
}

kxl_vga cfg_gfx_card(const kxl_gfx *g)
{
    if (g->vga != KXL_VGA_DEFAULT)
        return g->vga;
    return g->vnc ? KXL_VGA_STD : KXL_VGA_NONE;
}

int cfg_gfx_finish(kxl_gfx *g, const char *where_listen, const char *where_card)
{
    const char *where = where_listen;
    if (g->vnc && g->listen && !g->password) {
        kx_warn("%s: warning: vnclisten = \"%s\" without vncpasswd would be a VNC server "
                "anyone who reaches the address can use: the display is served on the "
                "domain's Unix socket instead (kxl vncviewer); set vncpasswd to listen on "
                "the network", where, g->listen);
        free(g->listen);
        g->listen = NULL;
    }
    where = where_card;
    kxl_vga card = cfg_gfx_card(g);
    if (g->vnc && card == KXL_VGA_NONE) {
        kx_err(KXL_ERR_CONFIG, "%s: vnc = 1 with vga = \"none\" (or nographic = 1): a display "
               "needs a graphics card", where);
        return -1;
    }
    unsigned mib = g->videoram_mib;
    if (mib && card == KXL_VGA_CIRRUS && mib != 4 && mib != 8 && mib != 16) {
        kx_err(KXL_ERR_CONFIG, "%s: videoram = %u: the cirrus card has 4, 8 or 16 MiB", where,
               mib);
        return -1;
    }
    if (mib && (mib & (mib - 1)) && card != KXL_VGA_CIRRUS) {
        kx_err(KXL_ERR_CONFIG, "%s: videoram = %u must be a power of two (8, 16, 32 ...)",
               where, mib);
        return -1;
    }
    return 0;
}
