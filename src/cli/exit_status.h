/* exit_status.h - kxl's exit statuses, and the library error code -> status mapping. */
#pragma once

#include "kxl/errors.h"

/* Exit codes scripts can trust. */
enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

/* The exit status of a command that failed with code (EXIT_OK for KXL_ERR_NONE). */
int cli_exit_status(kxl_errcode code);
