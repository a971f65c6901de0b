/*
 * The progress display of the comparison, on stderr: one bar per training
 * run in progress (one per thread) and a last line with the whole
 * program's progress and its estimated time left.
 *
 * On a terminal the block of lines is redrawn in place. Otherwise (a log
 * file, CI) it writes one line per finished run, and for long runs a line
 * every PROGRESS_LOG_INTERVAL_SECONDS.
 *
 * Every run has a cost, an estimate of its multiply-adds. The time left is
 * the elapsed time times the cost still to do over the cost done, so it
 * assumes the rest goes at the average speed so far.
 *
 * Every function may be called from any thread; each takes the display's
 * lock (an OpenMP critical section). Every function accepts a NULL display
 * and then does nothing, so tests can run training without output.
 */
#ifndef COMPARE_DISPLAY_H
#define COMPARE_DISPLAY_H

#include <stddef.h>

/** Characters of a run's label kept for the display. */
#define DISPLAY_LABEL_BYTES 64

/** The state of the display; see display_new. */
typedef struct Display Display;

/**
 * Starts a display with @p slots bars (the number of runs in progress at
 * once) for @p runs runs whose costs add up to @p total_cost.
 * @return a display the caller frees with display_free, or NULL when
 *         memory runs out or @p slots is below 1.
 */
Display *display_new(int slots, size_t runs, double total_cost);

/** Ends the display with a final line stating the elapsed time, and frees it; NULL is ignored. */
void display_free(Display *display);

/** Marks that a run of @p steps steps and cost @p cost starts in @p slot (0 .. slots-1). */
void display_begin(Display *display, int slot, const char *label, int steps, double cost);

/** Records that the run in @p slot finished @p step steps, the latest with training loss @p loss.
 */
void display_step(Display *display, int slot, int step, double loss);

/**
 * Marks the run in @p slot as finished, counts its cost as done and writes
 * "[k/runs] LABEL: SUMMARY" above the bars.
 */
void display_end(Display *display, int slot, const char *summary);

/** Writes one line of text above the bars, such as a notice; printf-style. */
void display_message(Display *display, const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Returns the seconds since display_new. */
double display_elapsed_seconds(const Display *display);

#endif /* COMPARE_DISPLAY_H */
