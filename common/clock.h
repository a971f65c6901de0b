/**
 * @file clock.h
 * @brief A monotonic clock for timing training steps and progress output.
 */
#ifndef CLOCK_H
#define CLOCK_H

/**
 * Returns the seconds elapsed since an arbitrary fixed point, from the
 * monotonic clock (CLOCK_MONOTONIC), so differences between two calls are
 * unaffected by changes to the system time. Only differences between calls
 * are meaningful.
 */
double time_now_seconds(void);

#endif /* CLOCK_H */
