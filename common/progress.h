/**
 * @file progress.h
 * @brief A progress display for long loops, written to stderr.
 *
 * On a terminal the display is one line redrawn in place (at most 10 times a
 * second): a bar, the percentage, done/total, the rate, the estimated time
 * left and the latest loss. When stderr is a file or a pipe (a log, CI) it
 * writes plain lines instead, at most one every PROGRESS_LOG_INTERVAL_SECONDS,
 * so logs stay short. progress_finish always writes the final state.
 *
 * The estimated time left assumes the remaining items go at the average
 * rate so far.
 */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/** Shortest time between two redraws of the bar on a terminal. */
#define PROGRESS_REDRAW_INTERVAL_SECONDS 0.1

/** Shortest time between two plain lines when stderr is not a terminal. */
#define PROGRESS_LOG_INTERVAL_SECONDS 5.0

/** The state of one progress display. */
typedef struct Progress {
    /** shown first, such as "epoch 3"; not owned, and must outlive the display */
    const char *label;
    /** items expected, or 0 when unknown (no bar, percentage or estimate) */
    size_t total;
    /** items done so far */
    size_t done;
    /** latest loss, or NAN for none */
    double loss;
    /** clock value at progress_start */
    double start_seconds;
    /** clock value of the latest output, or a negative value before any */
    double last_output_seconds;
    /** redraw in place (stream is a terminal) or write plain lines */
    bool terminal;
    /** where to write: stderr, or another stream in tests */
    FILE *stream;
    /** seconds from a monotonic clock: time_now_seconds, or a fake in tests */
    double (*clock)(void);
} Progress;

/**
 * Starts a display on stderr, in terminal mode when stderr is a terminal.
 * Nothing is written until the first progress_update.
 */
void progress_start(Progress *progress, const char *label, size_t total);

/**
 * Records that @p done items are finished and the latest @p loss (NAN for
 * none), and writes the display when the interval for this mode has passed
 * since the last output.
 */
void progress_update(Progress *progress, size_t done, double loss);

/**
 * Writes the final state: on a terminal the bar is redrawn and the line
 * ended, otherwise a last plain line with the elapsed time is written.
 */
void progress_finish(Progress *progress);

/**
 * Formats the display of @p progress at time @p now_seconds into @p line
 * (always NUL-terminated, cut to @p line_size): with a bar in terminal mode,
 * as a plain sentence otherwise.
 */
void progress_format(const Progress *progress, double now_seconds, char *line, size_t line_size);

/**
 * Formats @p seconds as "M:SS", or "H:MM:SS" from one hour on, into
 * @p text; negative, infinite and NaN values give "?".
 */
void progress_format_duration(double seconds, char *text, size_t text_size);

#endif /* PROGRESS_H */
