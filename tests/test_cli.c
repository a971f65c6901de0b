/*
 * Tests of common/cli.c. The exiting wrappers run in child processes whose
 * stderr goes to a pipe, so that their exit status and message can be
 * checked. The parsers are tested through their cli_try_parse_* forms.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* ------------------------------------------------------------------------- */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------- */

/* What a child process wrote to stderr and how it ended. */
typedef struct ChildResult {
    int exit_status; /* exit status, or -1 when it did not exit normally */
    char stderr_text[1024];
} ChildResult;

/* Runs function(argument) in a child process with stderr sent to a pipe. */
static ChildResult run_in_child(void (*function)(const void *), const void *argument)
{
    ChildResult result = {-1, ""};
    int pipe_ends[2];
    assert_int_equal(pipe(pipe_ends), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(pipe_ends[0]);
        dup2(pipe_ends[1], STDERR_FILENO);
        function(argument);
        _exit(0);
    }

    close(pipe_ends[1]);
    size_t used = 0;
    ssize_t bytes;
    while ((bytes = read(pipe_ends[0], result.stderr_text + used,
                         sizeof result.stderr_text - 1 - used)) > 0)
        used += (size_t)bytes;
    result.stderr_text[used] = '\0';
    close(pipe_ends[0]);

    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (WIFEXITED(status))
        result.exit_status = WEXITSTATUS(status);
    return result;
}

/* Writes bytes to a new temporary file and stores its path in path[64]. */
static void write_temporary_file(char *path, const char *bytes, size_t length)
{
    strcpy(path, "/tmp/test_cli_XXXXXX");
    int descriptor = mkstemp(path);
    assert_true(descriptor >= 0);
    FILE *file = fdopen(descriptor, "w");
    assert_non_null(file);
    assert_int_equal(fwrite(bytes, 1, length, file), length);
    assert_int_equal(fclose(file), 0);
}

/* Reads the temporary file at path into a fresh list and removes the file. */
static bool read_and_remove(const char *path, LineList *lines, char *error, size_t error_size)
{
    line_list_init(lines);
    bool ok = cli_read_lines(path, lines, 0, error, error_size);
    remove(path);
    return ok;
}

/* ------------------------------------------------------------------------- */
/* Usage errors                                                               */
/* ------------------------------------------------------------------------- */

static void call_usage_error(const void *argument)
{
    (void)argument;
    cli_usage_error("stage01", "unknown option '%s'", "--fast");
}

static void test_cli_usage_error_prints_and_exits_2(void **state)
{
    (void)state;
    ChildResult result = run_in_child(call_usage_error, NULL);
    assert_int_equal(result.exit_status, 2);
    assert_string_equal(result.stderr_text, "stage01: unknown option '--fast'\n"
                                            "Try 'stage01 --help' for more information.\n");
}

static void call_parse_int(const void *argument)
{
    printf("%d", cli_parse_int("stage02", "--layers", argument, 1, 4));
}

static void test_cli_parse_int_bad_value_exits_2(void **state)
{
    (void)state;
    ChildResult result = run_in_child(call_parse_int, "9");
    assert_int_equal(result.exit_status, 2);
    assert_string_equal(result.stderr_text,
                        "stage02: invalid value '9' for --layers: expected an integer from 1 "
                        "to 4\nTry 'stage02 --help' for more information.\n");
}

static void call_parse_u64(const void *argument)
{
    (void)cli_parse_u64("train", "--seed", argument, 0, UINT64_MAX);
}

static void call_parse_double(const void *argument)
{
    (void)cli_parse_double("train", "--lr", argument, 0.0, 1.0);
}

static void test_cli_parse_u64_and_double_exit_2(void **state)
{
    (void)state;
    ChildResult u64_result = run_in_child(call_parse_u64, "-1");
    assert_int_equal(u64_result.exit_status, 2);
    assert_non_null(strstr(u64_result.stderr_text, "train: invalid value '-1' for --seed"));

    ChildResult double_result = run_in_child(call_parse_double, "2");
    assert_int_equal(double_result.exit_status, 2);
    assert_non_null(strstr(double_result.stderr_text, "train: invalid value '2' for --lr"));
}

static void test_cli_parse_wrappers_return_valid_values(void **state)
{
    (void)state;
    assert_int_equal(cli_parse_int("p", "--n", "3", 1, 4), 3);
    assert_true(cli_parse_u64("p", "--seed", "18446744073709551615", 0, UINT64_MAX) == UINT64_MAX);
    assert_true(cli_parse_double("p", "--lr", "0.25", 0.0, 1.0) == 0.25);
}

/* ------------------------------------------------------------------------- */
/* Integers                                                                   */
/* ------------------------------------------------------------------------- */

static void test_cli_try_parse_int_accepts_valid(void **state)
{
    (void)state;
    int value = 0;
    assert_true(cli_try_parse_int("--n", "42", 0, 100, &value, NULL, 0));
    assert_int_equal(value, 42);
    assert_true(cli_try_parse_int("--n", "-7", -10, 10, &value, NULL, 0));
    assert_int_equal(value, -7);
    assert_true(cli_try_parse_int("--n", "+3", 0, 10, &value, NULL, 0));
    assert_int_equal(value, 3);
    assert_true(cli_try_parse_int("--n", "007", 0, 10, &value, NULL, 0));
    assert_int_equal(value, 7);
}

static void test_cli_try_parse_int_bounds_inclusive(void **state)
{
    (void)state;
    int value = 0;
    assert_true(cli_try_parse_int("--n", "1", 1, 5, &value, NULL, 0));
    assert_int_equal(value, 1);
    assert_true(cli_try_parse_int("--n", "5", 1, 5, &value, NULL, 0));
    assert_int_equal(value, 5);
    assert_false(cli_try_parse_int("--n", "0", 1, 5, &value, NULL, 0));
    assert_false(cli_try_parse_int("--n", "6", 1, 5, &value, NULL, 0));
    assert_true(cli_try_parse_int("--n", "2147483647", 0, 2147483647, &value, NULL, 0));
    assert_int_equal(value, 2147483647);
}

static void test_cli_try_parse_int_rejects_malformed(void **state)
{
    (void)state;
    const char *malformed[] = {"",          " 5", "5 ", "12abc", "abc", "1.5",
                               "0x10",      "-",  "+",  "--5",   "1e3", "99999999999999999999",
                               "2147483648"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        int value = 12345;
        assert_false(
            cli_try_parse_int("--n", malformed[i], -2147483647, 2147483647, &value, NULL, 0));
        assert_int_equal(value, 12345);
    }
}

static void test_cli_try_parse_int_message_names_all(void **state)
{
    (void)state;
    char error[256] = "";
    int value = 0;
    assert_false(cli_try_parse_int("--steps", "12abc", 1, 100000, &value, error, sizeof error));
    assert_string_equal(error, "invalid value '12abc' for --steps: expected an integer from 1 "
                               "to 100000");
    assert_false(cli_try_parse_int("--steps", "", 1, 100000, &value, error, sizeof error));
    assert_string_equal(error, "invalid value '' for --steps: expected an integer from 1 "
                               "to 100000");
}

static void test_cli_try_parse_u64_full_range(void **state)
{
    (void)state;
    uint64_t value = 0;
    assert_true(
        cli_try_parse_u64("--seed", "18446744073709551615", 0, UINT64_MAX, &value, NULL, 0));
    assert_true(value == UINT64_MAX);
    assert_true(cli_try_parse_u64("--seed", "0", 0, UINT64_MAX, &value, NULL, 0));
    assert_true(value == 0);
}

static void test_cli_try_parse_u64_rejects_sign_and_overflow(void **state)
{
    (void)state;
    uint64_t value = 7;
    char error[256] = "";
    assert_false(
        cli_try_parse_u64("--seed", "18446744073709551616", 0, UINT64_MAX, &value, NULL, 0));
    assert_false(cli_try_parse_u64("--seed", "-1", 0, UINT64_MAX, &value, NULL, 0));
    assert_false(cli_try_parse_u64("--seed", "+1", 0, UINT64_MAX, &value, NULL, 0));
    assert_false(cli_try_parse_u64("--seed", "", 0, UINT64_MAX, &value, NULL, 0));
    assert_false(cli_try_parse_u64("--count", "11", 1, 10, &value, error, sizeof error));
    assert_string_equal(error, "invalid value '11' for --count: expected an integer from 1 to 10");
    assert_true(value == 7);
}

/* ------------------------------------------------------------------------- */
/* Floating-point numbers                                                     */
/* ------------------------------------------------------------------------- */

static void test_cli_try_parse_double_accepts_forms(void **state)
{
    (void)state;
    double value = 0.0;
    assert_true(cli_try_parse_double("--lr", "0.001", 0.0, 1.0, &value, NULL, 0));
    assert_true(value == 0.001);
    assert_true(cli_try_parse_double("--lr", "1e-3", 0.0, 1.0, &value, NULL, 0));
    assert_true(value == 0.001);
    assert_true(cli_try_parse_double("--x", "-2.5", -10.0, 10.0, &value, NULL, 0));
    assert_true(value == -2.5);
    assert_true(cli_try_parse_double("--x", ".5", 0.0, 1.0, &value, NULL, 0));
    assert_true(value == 0.5);
    assert_true(cli_try_parse_double("--x", "1", 0.0, 1.0, &value, NULL, 0));
    assert_true(value == 1.0);
}

static void test_cli_try_parse_double_rejects_malformed(void **state)
{
    (void)state;
    const char *malformed[] = {"",   "nan", "NAN",   "inf", "-inf", "infinity", "0x1p3", "1e999",
                               " 1", "1 ",  "1.2.3", "e5",  "1e",   "abc",      "1,5",   "--1"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        double value = 42.0;
        assert_false(cli_try_parse_double("--x", malformed[i], -1e308, 1e308, &value, NULL, 0));
        assert_true(value == 42.0);
    }
}

static void test_cli_try_parse_double_range_message(void **state)
{
    (void)state;
    double value = 0.0;
    char error[256] = "";
    assert_false(cli_try_parse_double("--lr", "1.5", 0.0, 1.0, &value, error, sizeof error));
    assert_string_equal(error, "invalid value '1.5' for --lr: expected a number from 0 to 1");
    assert_false(cli_try_parse_double("--lr", "-0.001", 0.0, 1.0, &value, NULL, 0));
}

/* ------------------------------------------------------------------------- */
/* Values in messages                                                         */
/* ------------------------------------------------------------------------- */

/* Only a count of exactly 1 takes the singular: "1 layer", "0 layers", "2 layers". */
static void test_cli_plural_suffix_counts(void **state)
{
    (void)state;
    assert_string_equal(cli_plural_suffix(1), "");
    assert_string_equal(cli_plural_suffix(0), "s");
    assert_string_equal(cli_plural_suffix(2), "s");
    assert_string_equal(cli_plural_suffix(-1), "s");
}

/* A short printable value is copied unchanged, with nothing appended. */
static void test_cli_abbreviate_short_unchanged(void **state)
{
    (void)state;
    char out[CLI_ABBREVIATION_SIZE];
    assert_string_equal(cli_abbreviate("caf\xc3\xa9 42", 8, out, sizeof out), "caf\xc3\xa9 42");
}

/*
 * 1,000 letters keep their first 48 and say how long the value was; the
 * expected text is the 48 letters followed by "... (1000 bytes)".
 */
static void test_cli_abbreviate_long_cut(void **state)
{
    (void)state;
    char text[1000], out[CLI_ABBREVIATION_SIZE], expected[80];
    memset(text, 'x', sizeof text);
    memset(expected, 'x', 48);
    strcpy(expected + 48, "... (1000 bytes)");
    assert_string_equal(cli_abbreviate(text, sizeof text, out, sizeof out), expected);
}

/* A tab, a NUL and a lone 0xFF byte become \x09, \x00 and \xFF; the output is one line. */
static void test_cli_abbreviate_escapes_bytes(void **state)
{
    (void)state;
    char out[CLI_ABBREVIATION_SIZE];
    assert_string_equal(cli_abbreviate("a\tb\0c\xff", 6, out, sizeof out), "a\\x09b\\x00c\\xFF");
}

/* A 3-byte character is never split: 47 letters and one euro sign make 48 characters. */
static void test_cli_abbreviate_keeps_characters_whole(void **state)
{
    (void)state;
    char text[60], out[CLI_ABBREVIATION_SIZE];
    memset(text, 'y', 47);
    memcpy(text + 47, "\xe2\x82\xac", 3);
    memset(text + 50, 'z', 10);
    cli_abbreviate(text, sizeof text, out, sizeof out);
    assert_memory_equal(out + 47, "\xe2\x82\xac...", 6);
}

/* A value of 5,000 digits is named in the parse error by its first digits only. */
static void test_cli_try_parse_int_huge_value_shortened(void **state)
{
    (void)state;
    char text[5001], error[512];
    memset(text, '9', 5000);
    text[5000] = '\0';
    int value = 7;
    assert_false(cli_try_parse_int("--steps", text, 1, 10, &value, error, sizeof error));
    assert_int_equal(value, 7);
    assert_non_null(strstr(error, "... (5000 bytes)"));
    assert_non_null(strstr(error, "--steps"));
    assert_true(strlen(error) < 200);
}

/* ------------------------------------------------------------------------- */
/* Reading lines                                                              */
/* ------------------------------------------------------------------------- */

static void test_cli_read_lines_splits_and_strips(void **state)
{
    (void)state;
    const char text[] = "one\ntwo\r\n\nlast";
    char path[64], error[256] = "";
    write_temporary_file(path, text, sizeof text - 1);
    LineList lines;
    assert_true(read_and_remove(path, &lines, error, sizeof error));

    assert_int_equal(lines.count, 4);
    assert_string_equal(lines.lines[0], "one");
    assert_string_equal(lines.lines[1], "two");
    assert_string_equal(lines.lines[2], "");
    assert_string_equal(lines.lines[3], "last");
    assert_int_equal(lines.lengths[1], 3);
    assert_int_equal(lines.lengths[2], 0);
    line_list_free(&lines);
}

/* With max_lines 2, a file of 5 lines gives 3 (one past the limit, to show there are more). */
static void test_cli_read_lines_stops_past_max(void **state)
{
    (void)state;
    const char text[] = "a\nb\nc\nd\ne\n";
    char path[64], error[256] = "";
    write_temporary_file(path, text, sizeof text - 1);
    LineList lines;
    line_list_init(&lines);
    assert_true(cli_read_lines(path, &lines, 2, error, sizeof error));
    remove(path);

    assert_int_equal(lines.count, 3);
    assert_string_equal(lines.lines[2], "c");
    line_list_free(&lines);
}

static void test_cli_read_lines_final_newline_no_extra(void **state)
{
    (void)state;
    char path[64];
    write_temporary_file(path, "a\nb\n", 4);
    LineList lines;
    assert_true(read_and_remove(path, &lines, NULL, 0));
    assert_int_equal(lines.count, 2);
    line_list_free(&lines);

    write_temporary_file(path, "", 0);
    assert_true(read_and_remove(path, &lines, NULL, 0));
    assert_int_equal(lines.count, 0);
    line_list_free(&lines);
}

/* A 3 MiB line of "é" (2 bytes each) between two short lines. */
static void test_cli_read_lines_long_line(void **state)
{
    (void)state;
    enum { LONG_BYTES = 3 << 20 };
    char *text = malloc(LONG_BYTES + 8);
    assert_non_null(text);
    memcpy(text, "x\n", 2);
    for (size_t i = 0; i < LONG_BYTES; i += 2)
        memcpy(text + 2 + i, "\xC3\xA9", 2);
    memcpy(text + 2 + LONG_BYTES, "\ny\n", 3);

    char path[64];
    write_temporary_file(path, text, LONG_BYTES + 5);
    LineList lines;
    assert_true(read_and_remove(path, &lines, NULL, 0));
    assert_int_equal(lines.count, 3);
    assert_int_equal(lines.lengths[1], LONG_BYTES);
    assert_memory_equal(lines.lines[1], text + 2, LONG_BYTES);
    assert_string_equal(lines.lines[2], "y");
    line_list_free(&lines);
    free(text);
}

static void test_cli_read_lines_nul_names_line(void **state)
{
    (void)state;
    const char text[] = "fine\nbad\0byte\nmore\n";
    char path[64], error[256] = "", expected[256];
    write_temporary_file(path, text, sizeof text - 1);

    LineList lines;
    line_list_init(&lines);
    assert_true(cli_read_lines("/dev/null", &lines, 0, NULL, 0));
    assert_false(cli_read_lines(path, &lines, 0, error, sizeof error));
    remove(path);
    snprintf(expected, sizeof expected,
             "%s line 2: NUL byte at byte offset 3; save the file as "
             "UTF-8 text without NUL bytes",
             path);
    assert_string_equal(error, expected);
    assert_int_equal(lines.count, 0);
    line_list_free(&lines);
}

/* Lines read before the failing call stay; lines of the failing file go. */
static void test_cli_read_lines_invalid_utf8_keeps_earlier(void **state)
{
    (void)state;
    char good[64], bad[64], error[256] = "", expected[256];
    write_temporary_file(good, "kept\n", 5);
    write_temporary_file(bad, "ok\nalso ok\nbad \xE6\x97 cut\n", 22);

    LineList lines;
    line_list_init(&lines);
    assert_true(cli_read_lines(good, &lines, 0, NULL, 0));
    assert_false(cli_read_lines(bad, &lines, 0, error, sizeof error));
    snprintf(expected, sizeof expected,
             "%s line 3: invalid UTF-8 at byte offset 4; save the file "
             "as UTF-8 text without NUL bytes",
             bad);
    assert_string_equal(error, expected);
    assert_int_equal(lines.count, 1);
    assert_string_equal(lines.lines[0], "kept");
    remove(good);
    remove(bad);
    line_list_free(&lines);
}

static void test_cli_read_lines_missing_file(void **state)
{
    (void)state;
    LineList lines;
    line_list_init(&lines);
    char error[256] = "";
    assert_false(cli_read_lines("/nonexistent/sentences.txt", &lines, 0, error, sizeof error));
    assert_string_equal(error, "failed to open /nonexistent/sentences.txt: No such file or "
                               "directory");
    line_list_free(&lines);
}

/* A byte order mark at the start of the file is dropped; one later in the file is kept. */
static void test_cli_read_lines_drops_byte_order_mark(void **state)
{
    (void)state;
    const char text[] = "\xEF\xBB\xBFthe cat\n\xEF\xBB\xBFsat\n";
    char path[64];
    write_temporary_file(path, text, sizeof text - 1);
    LineList lines;
    assert_true(read_and_remove(path, &lines, NULL, 0));
    assert_int_equal(lines.count, 2);
    assert_string_equal(lines.lines[0], "the cat");
    assert_int_equal(lines.lengths[0], 7);
    assert_string_equal(lines.lines[1], "\xEF\xBB\xBFsat");
    line_list_free(&lines);

    /* Only the first mark is dropped. */
    write_temporary_file(path, "\xEF\xBB\xBF\xEF\xBB\xBF", 6);
    assert_true(read_and_remove(path, &lines, NULL, 0));
    assert_int_equal(lines.count, 1);
    assert_string_equal(lines.lines[0], "\xEF\xBB\xBF");
    line_list_free(&lines);

    /* A file of only the mark has no lines; with a line break, one empty line. */
    write_temporary_file(path, "\xEF\xBB\xBF", 3);
    assert_true(read_and_remove(path, &lines, NULL, 0));
    assert_int_equal(lines.count, 0);
    line_list_free(&lines);

    /* A cut mark is ill-formed UTF-8. */
    write_temporary_file(path, "\xEF\xBB\xBF\n", 4);
    assert_true(read_and_remove(path, &lines, NULL, 0));
    assert_int_equal(lines.count, 1);
    assert_int_equal(lines.lengths[0], 0);
    line_list_free(&lines);

    char error[256] = "";
    write_temporary_file(path,
                         "\xEF\xBB"
                         "cat\n",
                         6);
    assert_false(read_and_remove(path, &lines, error, sizeof error));
    assert_non_null(strstr(error, "line 1: invalid UTF-8 at byte offset 0"));
    line_list_free(&lines);
}

/* Byte offsets of a NUL byte count from the first byte after the byte order mark. */
static void test_cli_read_lines_nul_after_mark(void **state)
{
    (void)state;
    char path[64], error[256] = "";
    write_temporary_file(path,
                         "\xEF\xBB\xBF"
                         "ab\0c\n",
                         8);
    LineList lines;
    assert_false(read_and_remove(path, &lines, error, sizeof error));
    assert_non_null(strstr(error, "line 1: NUL byte at byte offset 2"));
    line_list_free(&lines);
}

/* /dev/zero is an endless stream of NUL bytes: the first one stops the reading. */
static void test_cli_read_lines_endless_nul_stops(void **state)
{
    (void)state;
    LineList lines;
    line_list_init(&lines);
    char error[256] = "";
    assert_false(cli_read_lines("/dev/zero", &lines, 0, error, sizeof error));
    assert_string_equal(error, "/dev/zero line 1: NUL byte at byte offset 0; save the file as "
                               "UTF-8 text without NUL bytes");
    assert_int_equal(lines.count, 0);
    line_list_free(&lines);
}

/*
 * Creates a FIFO in a new temporary folder (folder[64], fifo[80]) and starts a
 * child that writes `line_bytes` letters 'a' and a line break to it, or
 * letters without end when line_bytes is 0, until the reader closes the FIFO.
 */
static pid_t start_fifo_writer(char *folder, char *fifo, size_t line_bytes)
{
    strcpy(folder, "/tmp/test_cli_XXXXXX");
    assert_non_null(mkdtemp(folder));
    snprintf(fifo, 80, "%s/lines", folder);
    assert_int_equal(mkfifo(fifo, 0600), 0);

    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child > 0)
        return child;
    signal(SIGPIPE, SIG_DFL);
    FILE *file = fopen(fifo, "w");
    if (!file)
        _exit(1);
    static char letters[65536];
    memset(letters, 'a', sizeof letters);
    for (size_t written = 0; line_bytes == 0 || written < line_bytes;) {
        size_t count = sizeof letters;
        if (line_bytes > 0 && line_bytes - written < count)
            count = line_bytes - written;
        if (fwrite(letters, 1, count, file) != count)
            _exit(2);
        written += count;
    }
    _exit(fputc('\n', file) != EOF && fclose(file) == 0 ? 0 : 3);
}

/* Waits for the FIFO writer and removes the FIFO and its folder. */
static void finish_fifo_writer(pid_t child, const char *folder, const char *fifo)
{
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    remove(fifo);
    remove(folder);
}

/* An endless line fails once it passes CLI_MAX_LINE_BYTES, with a message naming the limit. */
static void test_cli_read_lines_endless_line_stops(void **state)
{
    (void)state;
    char folder[64], fifo[80], error[512] = "", expected[512];
    pid_t writer = start_fifo_writer(folder, fifo, 0);
    LineList lines;
    line_list_init(&lines);
    assert_false(cli_read_lines(fifo, &lines, 0, error, sizeof error));
    finish_fifo_writer(writer, folder, fifo);

    snprintf(expected, sizeof expected,
             "%s line 1 is longer than 67108864 bytes (64 MiB), the maximum line length; split "
             "it into shorter lines",
             fifo);
    assert_string_equal(error, expected);
    assert_int_equal(lines.count, 0);
    line_list_free(&lines);
}

/* A line of exactly CLI_MAX_LINE_BYTES bytes is still read whole. */
static void test_cli_read_lines_maximum_line_kept(void **state)
{
    (void)state;
    char folder[64], fifo[80];
    pid_t writer = start_fifo_writer(folder, fifo, CLI_MAX_LINE_BYTES);
    LineList lines;
    line_list_init(&lines);
    bool ok = cli_read_lines(fifo, &lines, 0, NULL, 0);
    finish_fifo_writer(writer, folder, fifo);

    assert_true(ok);
    assert_int_equal(lines.count, 1);
    assert_int_equal(lines.lengths[0], CLI_MAX_LINE_BYTES);
    assert_int_equal(lines.lines[0][CLI_MAX_LINE_BYTES - 1], 'a');
    line_list_free(&lines);
}

/* In the child: reads "-" with stdin redirected from the file at argument,
 * and exits 0 only when exactly the lines "from" and "stdin" arrive. */
static void read_stdin_lines(const void *argument)
{
    FILE *input = freopen(argument, "r", stdin);
    if (!input)
        _exit(10);
    LineList lines;
    line_list_init(&lines);
    if (!cli_read_lines("-", &lines, 0, NULL, 0))
        _exit(11);
    bool expected = lines.count == 2 && strcmp(lines.lines[0], "from") == 0 &&
                    strcmp(lines.lines[1], "stdin") == 0;
    line_list_free(&lines);
    _exit(expected ? 0 : 12);
}

static void test_cli_read_lines_dash_reads_stdin(void **state)
{
    (void)state;
    char path[64];
    write_temporary_file(path, "from\nstdin\n", 11);
    ChildResult result = run_in_child(read_stdin_lines, path);
    remove(path);
    assert_int_equal(result.exit_status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_usage_error_prints_and_exits_2),
        cmocka_unit_test(test_cli_parse_int_bad_value_exits_2),
        cmocka_unit_test(test_cli_parse_u64_and_double_exit_2),
        cmocka_unit_test(test_cli_parse_wrappers_return_valid_values),
        cmocka_unit_test(test_cli_try_parse_int_accepts_valid),
        cmocka_unit_test(test_cli_try_parse_int_bounds_inclusive),
        cmocka_unit_test(test_cli_try_parse_int_rejects_malformed),
        cmocka_unit_test(test_cli_try_parse_int_message_names_all),
        cmocka_unit_test(test_cli_try_parse_u64_full_range),
        cmocka_unit_test(test_cli_try_parse_u64_rejects_sign_and_overflow),
        cmocka_unit_test(test_cli_try_parse_double_accepts_forms),
        cmocka_unit_test(test_cli_try_parse_double_rejects_malformed),
        cmocka_unit_test(test_cli_try_parse_double_range_message),
        cmocka_unit_test(test_cli_plural_suffix_counts),
        cmocka_unit_test(test_cli_abbreviate_short_unchanged),
        cmocka_unit_test(test_cli_abbreviate_long_cut),
        cmocka_unit_test(test_cli_abbreviate_escapes_bytes),
        cmocka_unit_test(test_cli_abbreviate_keeps_characters_whole),
        cmocka_unit_test(test_cli_try_parse_int_huge_value_shortened),
        cmocka_unit_test(test_cli_read_lines_splits_and_strips),
        cmocka_unit_test(test_cli_read_lines_stops_past_max),
        cmocka_unit_test(test_cli_read_lines_final_newline_no_extra),
        cmocka_unit_test(test_cli_read_lines_long_line),
        cmocka_unit_test(test_cli_read_lines_nul_names_line),
        cmocka_unit_test(test_cli_read_lines_invalid_utf8_keeps_earlier),
        cmocka_unit_test(test_cli_read_lines_missing_file),
        cmocka_unit_test(test_cli_read_lines_dash_reads_stdin),
        cmocka_unit_test(test_cli_read_lines_drops_byte_order_mark),
        cmocka_unit_test(test_cli_read_lines_nul_after_mark),
        cmocka_unit_test(test_cli_read_lines_endless_nul_stops),
        cmocka_unit_test(test_cli_read_lines_endless_line_stops),
        cmocka_unit_test(test_cli_read_lines_maximum_line_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
