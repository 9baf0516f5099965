/* cfg_gfx.h - xl's graphics keys: vnc, vnclisten, vncdisplay, vncunused, vncpasswd, keymap,
 * sdl, vga, stdvga, videoram, nographic, and a PV config's vfb = [ '...' ]. Pure: no I/O. */
#pragma once

#include <stdbool.h>

#include "kxl/domcfg.h"

/* Applies one graphics key with its value as written (numbers as their text); where is
 * "FILE:LINE" for messages. -1 with kx_err set on a bad value. */
int cfg_gfx_set(kxl_gfx *g, const char *key, const char *value, const char *where);

/* Applies one vfb entry, "vnc=1,vnclisten=127.0.0.1,vncpasswd=...". */
int cfg_gfx_vfb(kxl_gfx *g, const char *spec, const char *where);

/* The checks that need all the keys, once they are read: a network listener without a
 * password is moved to the Unix socket (kxl has no unauthenticated network listener), and
 * the card must suit the display and videoram. where_listen and where_card ("FILE:LINE" of
 * vnclisten and of videoram or vga) place the messages. */
int cfg_gfx_finish(kxl_gfx *g, const char *where_listen, const char *where_card);

/* Whether the domain gets a graphics card, and which (never KXL_VGA_DEFAULT). */
kxl_vga cfg_gfx_card(const kxl_gfx *g);
