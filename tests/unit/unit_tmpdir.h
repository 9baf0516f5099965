/* unit_tmpdir.h - the private directory a unit test group works in: TMP, a
 * mkdtemp(3) template, is made by the group's setup and removed with all it
 * holds by its teardown (cmocka group fixtures; no shell involved). */
#pragma once

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static int unit_tmp_remove_one(const char *path, const struct stat *st, int flag,
                               struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything under it, depth first, without following links. */
static inline int unit_tmp_remove(const char *dir)
{
    return nftw(dir, unit_tmp_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The group fixtures for a test file that has `static char tmp[]` as its template. */
#define UNIT_TMPDIR_FIXTURES(tmp)                                                                  \
    static int setup(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        return mkdtemp(tmp) ? 0 : -1;                                                              \
    }                                                                                              \
    static int teardown(void **state)                                                              \
    {                                                                                              \
        (void)state;                                                                               \
        return unit_tmp_remove(tmp) == 0 ? 0 : -1;                                                 \
    }
