/*
 * Tests of common/progress.c with a fake clock and a temporary stream, so
 * that no test depends on real time or on stderr being a terminal. Expected
 * lines are worked out by hand from the formats in progress.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "progress.h"

/* The fake clock's current time, in seconds. */
static double fake_now;

static double fake_clock(void) { return fake_now; }

/* Starts a display at fake time 0 that writes to a temporary file. */
static Progress start_fake(const char *label, size_t total, bool terminal)
{
    Progress progress;
    progress_start(&progress, label, total);
    fake_now = 0.0;
    progress.clock = fake_clock;
    progress.start_seconds = 0.0;
    progress.terminal = terminal;
    progress.stream = tmpfile();
    assert_non_null(progress.stream);
    return progress;
}

/* Reads back everything written to the display's stream and closes it. */
static void read_output(Progress *progress, char *text, size_t text_size)
{
    rewind(progress->stream);
    size_t bytes = fread(text, 1, text_size - 1, progress->stream);
    text[bytes] = '\0';
    fclose(progress->stream);
}

static size_t count_char(const char *text, char c)
{
    size_t count = 0;
    for (; *text; text++)
        count += *text == c;
    return count;
}

static void test_progress_format_duration_cases(void **state)
{
    (void)state;
    char text[32];
    progress_format_duration(0.0, text, sizeof text);
    assert_string_equal(text, "0:00");
    progress_format_duration(59.4, text, sizeof text);
    assert_string_equal(text, "0:59");
    progress_format_duration(61.0, text, sizeof text);
    assert_string_equal(text, "1:01");
    progress_format_duration(3600.0, text, sizeof text);
    assert_string_equal(text, "1:00:00");
    progress_format_duration(3725.0, text, sizeof text);
    assert_string_equal(text, "1:02:05");
    progress_format_duration(-1.0, text, sizeof text);
    assert_string_equal(text, "?");
    progress_format_duration(NAN, text, sizeof text);
    assert_string_equal(text, "?");
    progress_format_duration(INFINITY, text, sizeof text);
    assert_string_equal(text, "?");
}

/* 500 of 1000 in 4 s: 125 per second, 500 left take 4 s. */
static void test_progress_format_plain_line(void **state)
{
    (void)state;
    Progress progress = start_fake("train", 1000, false);
    progress.done = 500;
    progress.loss = 0.5;
    char line[256];
    progress_format(&progress, 4.0, line, sizeof line);
    assert_string_equal(line, "train: 500/1000 (50.0%), 125.0/s, 0:04 left, loss 0.5000");
    fclose(progress.stream);
}

/* Half of the 24-character bar is filled. */
static void test_progress_format_terminal_bar(void **state)
{
    (void)state;
    Progress progress = start_fake("train", 1000, true);
    progress.done = 500;
    progress.loss = 0.5;
    char line[256];
    progress_format(&progress, 4.0, line, sizeof line);
    assert_string_equal(line, "train [############------------]  50.0% 500/1000, 125.0/s, "
                              "0:04 left, loss 0.5000");
    fclose(progress.stream);
}

static void test_progress_format_unknown_total_no_loss(void **state)
{
    (void)state;
    Progress progress = start_fake("read", 0, false);
    progress.done = 30;
    char line[256];
    progress_format(&progress, 3.0, line, sizeof line);
    assert_string_equal(line, "read: 30, 10.0/s");
    fclose(progress.stream);
}

/* At time 0 nothing is done yet, so the time left is unknown. */
static void test_progress_format_no_rate_yet(void **state)
{
    (void)state;
    Progress progress = start_fake("eval", 10, false);
    char line[256];
    progress_format(&progress, 0.0, line, sizeof line);
    assert_string_equal(line, "eval: 0/10 (0.0%), 0.0/s, ? left");
    fclose(progress.stream);
}

static void test_progress_format_cuts_long_line(void **state)
{
    (void)state;
    Progress progress = start_fake("a long label for a small buffer", 10, true);
    progress.done = 5;
    char line[16];
    progress_format(&progress, 1.0, line, sizeof line);
    assert_string_equal(line, "a long label fo");
    fclose(progress.stream);
}

/* Updates every second for 12 s: plain lines at 5 s and 10 s only (one
 * interval of PROGRESS_LOG_INTERVAL_SECONDS = 5 after the start and after
 * the previous line), then one line from progress_finish. */
static void test_progress_update_plain_rate_limited(void **state)
{
    (void)state;
    Progress progress = start_fake("train", 12, false);
    for (int second = 1; second <= 12; second++) {
        fake_now = second;
        progress_update(&progress, (size_t)second, 1.0 / second);
    }
    progress_finish(&progress);

    char text[1024];
    read_output(&progress, text, sizeof text);
    assert_string_equal(text, "train: 5/12 (41.7%), 1.0/s, 0:07 left, loss 0.2000\n"
                              "train: 10/12 (83.3%), 1.0/s, 0:02 left, loss 0.1000\n"
                              "train: 12/12 (100.0%), 1.0/s, loss 0.0833, done in 0:12\n");
}

/* On a terminal the line is redrawn in place at most every 0.1 s: updates
 * at 0.05 s and 0.12 s draw once, and finish draws again and ends the line. */
static void test_progress_update_terminal_redraws(void **state)
{
    (void)state;
    Progress progress = start_fake("fit", 4, true);
    fake_now = 0.05;
    progress_update(&progress, 1, NAN);
    fake_now = 0.12;
    progress_update(&progress, 2, NAN);
    fake_now = 0.2;
    progress_update(&progress, 3, NAN);
    fake_now = 0.25;
    progress_finish(&progress);

    char text[1024];
    read_output(&progress, text, sizeof text);
    assert_int_equal(count_char(text, '\r'), 2);
    assert_int_equal(count_char(text, '\n'), 1);
    assert_non_null(strstr(text, "\rfit [############------------]  50.0% 2/4, 16.7/s, 0:00 left"
                                 "\033[K"));
    assert_non_null(strstr(text, "\rfit [##################------]  75.0% 3/4, 12.0/s"));
    assert_true(text[strlen(text) - 1] == '\n');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_format_duration_cases),
        cmocka_unit_test(test_progress_format_plain_line),
        cmocka_unit_test(test_progress_format_terminal_bar),
        cmocka_unit_test(test_progress_format_unknown_total_no_loss),
        cmocka_unit_test(test_progress_format_no_rate_yet),
        cmocka_unit_test(test_progress_format_cuts_long_line),
        cmocka_unit_test(test_progress_update_plain_rate_limited),
        cmocka_unit_test(test_progress_update_terminal_redraws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
