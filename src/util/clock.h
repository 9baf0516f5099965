/* clock.h - the clocks, read as numbers: milliseconds for timeouts, seconds for durations
 * and figures. */
#pragma once

#include <time.h>

/* CLOCK_MONOTONIC in whole milliseconds: only differences between two calls mean anything. */
long long kx_mono_ms(void);
/* Clock id in seconds, to the nanosecond. */
double kx_clock_s(clockid_t id);
/* CLOCK_MONOTONIC in seconds, to the nanosecond: only differences mean anything. */
double kx_mono_s(void);
