/* clock.c: the monotonic clock and the sleep behind every deadline and poll
 * (see slotctl/io/clock.h). */
#include "slotctl/io/clock.h"

#include <errno.h>
#include <time.h>

long long sc_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long sc_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sc_sleep_us(long long us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000L };

	if (us <= 0)
		return;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void sc_sleep_ms(long long ms)
{
	sc_sleep_us(ms * 1000);
}
