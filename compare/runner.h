/*
 * Runs independent training runs on several threads, and stops between
 * runs when the user presses Ctrl-C.
 *
 * Each run is single-threaded inside: the runs themselves are spread over
 * the threads (an OpenMP loop with dynamic scheduling), and the tensor ops
 * of a run, reached from inside that loop, get one thread each. A run's
 * results depend only on its own seeds, never on which thread ran it or on
 * the thread count.
 */
#ifndef COMPARE_RUNNER_H
#define COMPARE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "display.h"

/** One training run, as the runner schedules it. */
typedef struct Job {
    double cost; /**< estimated multiply-adds, for ordering */
    /** Does the run; returns false when it stopped early after a stop request. */
    bool (*run)(void *argument, Display *display, int slot);
    void *argument; /**< passed to run */
    bool finished;  /**< set by runner_execute when run returned true */
} Job;

/**
 * Installs a SIGINT handler that asks the runner to stop: no new run
 * starts, and runs in progress finish (a text run, which takes minutes,
 * stops at its next step instead). The handler then restores the default
 * action, so a second Ctrl-C ends the program at once.
 */
void runner_install_interrupt_handler(void);

/** Asks the runner to start no further run (what the SIGINT handler does). */
void runner_request_stop(void);

/** Returns whether a stop was requested. */
bool runner_stop_requested(void);

/**
 * Runs every job, the most expensive first, on @p threads threads (1 runs
 * them in order on the calling thread), and sets each job's finished flag.
 * After a stop request no new job starts.
 * @return the number of jobs finished.
 */
size_t runner_execute(Job *jobs, size_t count, int threads, Display *display);

/**
 * Derives a run's seed from the user's @p seed and a text that names the
 * run, such as "distance/d=3/01_cnn_baseline": a 64-bit FNV-1a hash of the
 * text mixed with the seed by the SplitMix64 finaliser. Equal inputs give
 * equal seeds on every platform.
 */
uint64_t runner_seed(uint64_t seed, const char *run_name);

#endif /* COMPARE_RUNNER_H */
