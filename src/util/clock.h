/* clock.h - the monotonic clock in milliseconds, for timeouts and durations. */
#pragma once

/* CLOCK_MONOTONIC in whole milliseconds: only differences between two calls mean anything. */
long long kx_mono_ms(void);
