/* clock.c - the monotonic clock in milliseconds (clock.h). */
#include "util/clock.h"

#include <time.h>

long long kx_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
