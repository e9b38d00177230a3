/*
 * The monotonic clock, for durations and deadlines.  Any thread.
 */
#ifndef LUNAR_CLOCK_H
#define LUNAR_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t monotonic_ms(void);

/* Milliseconds from a to b (negative if b is earlier). */
int64_t timespec_diff_ms(const struct timespec *a, const struct timespec *b);

#endif
