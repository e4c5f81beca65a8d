/* clock.h: wall-clock and monotonic time in the units Kafka uses. */
#ifndef FJORD_BASE_CLOCK_H
#define FJORD_BASE_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);  /* wall clock, ms since the epoch (record timestamps) */
int64_t clock_mono_ms(void); /* monotonic ms (timeouts, timers) */
int64_t clock_mono_ns(void); /* monotonic ns (latency measurement) */

#endif
