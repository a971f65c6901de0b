/* The progress display of the comparison (see display.h). */
#define _POSIX_C_SOURCE 200809L
#include "display.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "progress.h"

/* The lock around every public function: one thread changes or draws the display at a time. */
#ifdef _OPENMP
#define DISPLAY_LOCKED _Pragma("omp critical(compare_display)")
#else
#define DISPLAY_LOCKED
#endif

/* Characters of the bar inside the brackets. */
#define BAR_WIDTH 20

/* Maximum length of a line drawn on a terminal, so that no line wraps on an 80-column one. */
#define LINE_COLUMNS 79

/* One run in progress. */
typedef struct Slot {
    bool active;                     /* a run is in this slot */
    char label[DISPLAY_LABEL_BYTES]; /* the run's label */
    int steps;                       /* the run's steps */
    int step;                        /* steps done */
    double loss;                     /* the latest training loss, or NAN */
    double cost;                     /* the run's cost */
    double last_log_seconds;         /* last plain progress line of this run */
} Slot;

struct Display {
    int slot_count;           /* bars */
    Slot *slots;              /* [slot_count] */
    size_t runs;              /* runs expected */
    size_t runs_done;         /* runs finished */
    double total_cost;        /* cost of every run */
    double done_cost;         /* cost of the finished runs */
    double start_seconds;     /* clock at display_new */
    double last_draw_seconds; /* clock at the last redraw, terminal only */
    bool terminal;            /* stderr is a terminal: redraw in place */
    int lines_drawn;          /* lines of the block on screen now */
};

Display *display_new(int slots, size_t runs, double total_cost)
{
    if (slots < 1)
        return NULL;
    Display *display = calloc(1, sizeof *display);
    Slot *slot_array = calloc((size_t)slots, sizeof *slot_array);
    if (!display || !slot_array) {
        free(display);
        free(slot_array);
        return NULL;
    }
    display->slot_count = slots;
    display->slots = slot_array;
    display->runs = runs;
    display->total_cost = total_cost;
    display->start_seconds = time_now_seconds();
    display->last_draw_seconds = -1.0;
    display->terminal = isatty(fileno(stderr)) == 1;
    return display;
}

double display_elapsed_seconds(const Display *display)
{
    return display ? time_now_seconds() - display->start_seconds : 0.0;
}

/* Returns the cost done so far, counting the finished part of each run in progress. */
static double work_done(const Display *display)
{
    double done = display->done_cost;
    for (int s = 0; s < display->slot_count; s++) {
        const Slot *slot = &display->slots[s];
        if (slot->active && slot->steps > 0)
            done += slot->cost * (double)slot->step / (double)slot->steps;
    }
    return done;
}

/* Formats "about M:SS left" from the average speed so far, or "time left unknown". */
static void format_time_left(const Display *display, char *text, size_t text_size)
{
    double done = work_done(display);
    double elapsed = display_elapsed_seconds(display);
    if (done <= 0.0 || elapsed < 1.0) {
        snprintf(text, text_size, "time left unknown");
        return;
    }
    double remaining = display->total_cost > done ? display->total_cost - done : 0.0;
    char duration[32];
    progress_format_duration(elapsed * remaining / done, duration, sizeof duration);
    snprintf(text, text_size, "about %s left", duration);
}

/* Formats one slot's line: "LABEL [#####-----] 42% loss 0.6931". */
static void format_slot(const Slot *slot, char *line, size_t line_size)
{
    if (!slot->active) {
        snprintf(line, line_size, "  (idle)");
        return;
    }
    double fraction = slot->steps > 0 ? (double)slot->step / (double)slot->steps : 0.0;
    int filled = (int)(fraction * BAR_WIDTH);
    char bar[BAR_WIDTH + 1];
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '-', (size_t)(BAR_WIDTH - filled));
    bar[BAR_WIDTH] = '\0';
    int used =
        snprintf(line, line_size, "  %-36.36s [%s] %3.0f%%", slot->label, bar, 100.0 * fraction);
    if (!isnan(slot->loss) && used > 0 && (size_t)used < line_size)
        snprintf(line + used, line_size - (size_t)used, " loss %.3f", slot->loss);
}

/* Formats the last line: runs done, share of the work and the time left. */
static void format_overall(const Display *display, char *line, size_t line_size)
{
    char left[48];
    format_time_left(display, left, sizeof left);
    double share = display->total_cost > 0.0 ? work_done(display) / display->total_cost : 0.0;
    snprintf(line, line_size, "overall: %zu/%zu runs done, %.0f%% of the work, %s",
             display->runs_done, display->runs, 100.0 * (share > 1.0 ? 1.0 : share), left);
}

/* Moves the cursor to the first line of the block and clears the block (terminal only). */
static void erase_block(Display *display)
{
    if (display->lines_drawn > 0)
        fprintf(stderr, "\033[%dA", display->lines_drawn);
    fprintf(stderr, "\r\033[J");
    display->lines_drawn = 0;
}

/* Draws the block of bars and the overall line below the cursor (terminal only). */
static void draw_block(Display *display)
{
    char line[256];
    for (int s = 0; s < display->slot_count; s++) {
        format_slot(&display->slots[s], line, sizeof line);
        fprintf(stderr, "%.*s\n", LINE_COLUMNS, line);
    }
    format_overall(display, line, sizeof line);
    fprintf(stderr, "%.*s\n", LINE_COLUMNS, line);
    display->lines_drawn = display->slot_count + 1;
    display->last_draw_seconds = time_now_seconds();
    fflush(stderr);
}

/* Writes one finished line: above the block on a terminal, as a plain line otherwise. */
static void write_line(Display *display, const char *text)
{
    if (display->terminal) {
        erase_block(display);
        fprintf(stderr, "%s\n", text);
        draw_block(display);
    } else {
        fprintf(stderr, "%s\n", text);
        fflush(stderr);
    }
}

void display_begin(Display *display, int slot, const char *label, int steps, double cost)
{
    if (!display)
        return;
    DISPLAY_LOCKED
    {
        Slot *s = &display->slots[slot];
        s->active = true;
        snprintf(s->label, sizeof s->label, "%s", label);
        s->steps = steps;
        s->step = 0;
        s->loss = NAN;
        s->cost = cost;
        s->last_log_seconds = time_now_seconds();
        if (display->terminal) {
            erase_block(display);
            draw_block(display);
        }
    }
}

void display_step(Display *display, int slot, int step, double loss)
{
    if (!display)
        return;
    DISPLAY_LOCKED
    {
        Slot *s = &display->slots[slot];
        s->step = step;
        s->loss = loss;
        double now = time_now_seconds();
        if (display->terminal &&
            now - display->last_draw_seconds >= PROGRESS_REDRAW_INTERVAL_SECONDS) {
            erase_block(display);
            draw_block(display);
        } else if (!display->terminal &&
                   now - s->last_log_seconds >= PROGRESS_LOG_INTERVAL_SECONDS) {
            char left[48];
            format_time_left(display, left, sizeof left);
            fprintf(stderr, "%s: step %d/%d, loss %.4f; overall %s\n", s->label, step, s->steps,
                    loss, left);
            fflush(stderr);
            s->last_log_seconds = now;
        }
    }
}

void display_end(Display *display, int slot, const char *summary)
{
    if (!display)
        return;
    DISPLAY_LOCKED
    {
        Slot *s = &display->slots[slot];
        s->active = false;
        display->done_cost += s->cost;
        display->runs_done++;

        char line[320], left[48];
        format_time_left(display, left, sizeof left);
        snprintf(line, sizeof line, "[%zu/%zu] %s: %s%s%s", display->runs_done, display->runs,
                 s->label, summary, display->terminal ? "" : "; overall ",
                 display->terminal ? "" : left);
        write_line(display, line);
    }
}

void display_message(Display *display, const char *format, ...)
{
    if (!display)
        return;
    char text[512];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    DISPLAY_LOCKED
    write_line(display, text);
}

void display_free(Display *display)
{
    if (!display)
        return;
    char elapsed[32];
    progress_format_duration(display_elapsed_seconds(display), elapsed, sizeof elapsed);
    if (display->terminal)
        erase_block(display);
    fprintf(stderr, "%zu/%zu runs done in %s\n", display->runs_done, display->runs, elapsed);
    fflush(stderr);
    free(display->slots);
    free(display);
}
