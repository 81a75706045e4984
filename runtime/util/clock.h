/* clock — the monotonic clock every deadline, debounce and duration in the
 * runtime reads: it never jumps with the wall clock (NTP, a VM resumed).
 * Inline: the stream threads read it per batch and per record (processing
 * time), where a call through libweir's PLT would show. */
#ifndef WEIR_UTIL_CLOCK_H
#define WEIR_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t weir_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t weir_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
