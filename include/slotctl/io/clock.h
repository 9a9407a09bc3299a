/* clock.h: the one monotonic clock behind every deadline, poll and timing
 * in slotctl (milliseconds, or microseconds for short timings), and a sleep
 * that is not cut short by signals. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/clock.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_CLOCK_H
#define SLOTCTL_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC: only differences mean anything. */
long long sc_clock_ms(void);

/* The same clock in microseconds. */
long long sc_clock_us(void);

/* Sleeps ms milliseconds (nothing when ms <= 0), resuming after signals. */
void sc_sleep_ms(long long ms);

/* The same in microseconds. */
void sc_sleep_us(long long us);

#endif
