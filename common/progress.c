/*
 * The progress display (see progress.h for the two modes).
 */
#define _POSIX_C_SOURCE 200809L

#include "progress.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

/* Characters in the bar between the brackets. */
#define PROGRESS_BAR_WIDTH 24

/* Maximum length in bytes of a line the display writes. */
#define PROGRESS_LINE_BYTES 256

void progress_start(Progress *progress, const char *label, size_t total)
{
    progress->label = label;
    progress->total = total;
    progress->done = 0;
    progress->loss = NAN;
    progress->stream = stderr;
    progress->terminal = isatty(fileno(stderr)) == 1;
    progress->clock = time_now_seconds;
    progress->start_seconds = progress->clock();
    progress->last_output_seconds = -1.0;
}

void progress_format_duration(double seconds, char *text, size_t text_size)
{
    if (!(seconds >= 0.0) || isinf(seconds) || seconds > 1e9) {
        snprintf(text, text_size, "?");
        return;
    }
    long whole = (long)(seconds + 0.5);
    long hours = whole / 3600, minutes = whole / 60 % 60, rest = whole % 60;
    if (hours > 0)
        snprintf(text, text_size, "%ld:%02ld:%02ld", hours, minutes, rest);
    else
        snprintf(text, text_size, "%ld:%02ld", minutes, rest);
}

/* Appends formatted text at *used in line, never past line_size. */
static void append(char *line, size_t line_size, size_t *used, const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void append(char *line, size_t line_size, size_t *used, const char *format, ...)
{
    if (*used + 1 >= line_size)
        return;
    va_list args;
    va_start(args, format);
    int written = vsnprintf(line + *used, line_size - *used, format, args);
    va_end(args);
    if (written > 0)
        *used += (size_t)written < line_size - *used ? (size_t)written : line_size - *used - 1;
}

/* Appends "[#####-----] 42.0% " for a known total. */
static void append_bar(const Progress *progress, char *line, size_t line_size, size_t *used)
{
    double fraction = (double)progress->done / (double)progress->total;
    if (fraction > 1.0)
        fraction = 1.0;
    int filled = (int)(fraction * PROGRESS_BAR_WIDTH);
    char bar[PROGRESS_BAR_WIDTH + 1];
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '-', (size_t)(PROGRESS_BAR_WIDTH - filled));
    bar[PROGRESS_BAR_WIDTH] = '\0';
    append(line, line_size, used, " [%s] %5.1f%%", bar, 100.0 * fraction);
}

void progress_format(const Progress *progress, double now_seconds, char *line, size_t line_size)
{
    size_t used = 0;
    line[0] = '\0';
    double elapsed = now_seconds - progress->start_seconds;
    double rate = elapsed > 0.0 ? (double)progress->done / elapsed : 0.0;

    /* Label, then the bar (terminal) or a colon (plain lines). */
    append(line, line_size, &used, "%s%s", progress->label, progress->terminal ? "" : ":");
    if (progress->terminal && progress->total > 0)
        append_bar(progress, line, line_size, &used);

    /* Counts, with the percentage in the plain form. */
    if (progress->total > 0 && !progress->terminal)
        append(line, line_size, &used, " %zu/%zu (%.1f%%)", progress->done, progress->total,
               100.0 * (double)progress->done / (double)progress->total);
    else if (progress->total > 0)
        append(line, line_size, &used, " %zu/%zu", progress->done, progress->total);
    else
        append(line, line_size, &used, " %zu", progress->done);
    append(line, line_size, &used, ", %.1f/s", rate);

    /* Time left at the average rate so far. */
    if (progress->total > 0 && progress->done < progress->total) {
        char left[32];
        double seconds_left =
            rate > 0.0 ? (double)(progress->total - progress->done) / rate : INFINITY;
        progress_format_duration(seconds_left, left, sizeof left);
        append(line, line_size, &used, ", %s left", left);
    }
    if (!isnan(progress->loss))
        append(line, line_size, &used, ", loss %.4f", progress->loss);
}

/* Writes the display now: redrawn in place on a terminal, a new line otherwise. */
static void write_display(Progress *progress, double now_seconds)
{
    char line[PROGRESS_LINE_BYTES];
    progress_format(progress, now_seconds, line, sizeof line);
    if (progress->terminal)
        fprintf(progress->stream, "\r%s\033[K", line);
    else
        fprintf(progress->stream, "%s\n", line);
    fflush(progress->stream);
    progress->last_output_seconds = now_seconds;
}

void progress_update(Progress *progress, size_t done, double loss)
{
    progress->done = done;
    progress->loss = loss;

    double now = progress->clock();
    double interval =
        progress->terminal ? PROGRESS_REDRAW_INTERVAL_SECONDS : PROGRESS_LOG_INTERVAL_SECONDS;
    double since_start_or_output = progress->last_output_seconds < 0.0
                                       ? now - progress->start_seconds
                                       : now - progress->last_output_seconds;
    if (since_start_or_output >= interval)
        write_display(progress, now);
}

void progress_finish(Progress *progress)
{
    double now = progress->clock();
    if (progress->terminal) {
        write_display(progress, now);
        fputc('\n', progress->stream);
        fflush(progress->stream);
        return;
    }

    char line[PROGRESS_LINE_BYTES];
    char elapsed[32];
    progress_format(progress, now, line, sizeof line);
    progress_format_duration(now - progress->start_seconds, elapsed, sizeof elapsed);
    fprintf(progress->stream, "%s, done in %s\n", line, elapsed);
    fflush(progress->stream);
    progress->last_output_seconds = now;
}
