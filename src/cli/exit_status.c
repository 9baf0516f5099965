/* exit_status.c - the one place a library error code becomes kxl's exit status. xl exits 1
 * for every failure and scripts rely on it, so every code is 1 today; usage errors (2) are
 * found by the command line itself, before any library call. */
#include "cli/exit_status.h"

int cli_exit_status(kxl_errcode code)
{
    static const int status[KXL_ERR__COUNT] = {
        [KXL_ERR_NONE] = EXIT_OK,
        [KXL_ERR_INTERNAL] = EXIT_ERR,  [KXL_ERR_CONFIG] = EXIT_ERR,
        [KXL_ERR_INVALID] = EXIT_ERR,   [KXL_ERR_NOT_FOUND] = EXIT_ERR,
        [KXL_ERR_EXISTS] = EXIT_ERR,    [KXL_ERR_STATE] = EXIT_ERR,
        [KXL_ERR_BUSY] = EXIT_ERR,      [KXL_ERR_PERMISSION] = EXIT_ERR,
        [KXL_ERR_HOST] = EXIT_ERR,      [KXL_ERR_QEMU] = EXIT_ERR,
    };
    return (unsigned)code < KXL_ERR__COUNT ? status[code] : EXIT_ERR;
}
