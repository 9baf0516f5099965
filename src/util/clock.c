/* clock.c - the clocks, read as numbers (clock.h). */
#include "util/clock.h"

long long kx_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double kx_clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double kx_mono_s(void)
{
    return kx_clock_s(CLOCK_MONOTONIC);
}
