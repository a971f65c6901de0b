/*
 * libFuzzer target: the strict number parsers and the line reader of cli.h
 * on arbitrary bytes. Besides the sanitizers' checks, it aborts when a
 * result breaks a rule of cli.h:
 * - a parser that succeeds returns a value inside its range (and a finite
 *   double); one that fails writes a message and leaves the value unchanged;
 * - cli_try_parse_int over the whole int range agrees with strtoll;
 * - cli_read_lines accepts exactly the files that are well-formed UTF-8
 *   without NUL bytes, and then returns the lines split at LF with one CR
 *   before it removed, a last line without LF included, and a UTF-8 byte
 *   order mark at the start of the input dropped. libFuzzer's inputs stay
 *   far below CLI_MAX_LINE_BYTES, so the line limit never applies here
 *   (tests/test_cli.c tests it).
 * The input reaches cli_read_lines through a temporary file, because it
 * reads only from a path.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "utf8.h"

/* Value the parsers' outputs start with, to see that a failure keeps it. */
#define UNCHANGED_INT 12345

/* Stops the run with a message, so that libFuzzer saves the input. */
static void require(bool condition, const char *rule)
{
    if (!condition) {
        fprintf(stderr, "fuzz_cli: broken rule: %s\n", rule);
        abort();
    }
}

static void check_int(const char *text, int min, int max)
{
    int value = UNCHANGED_INT;
    char error[256] = "";
    if (cli_try_parse_int("--n", text, min, max, &value, error, sizeof error))
        require(value >= min && value <= max, "an int is in its range");
    else
        require(value == UNCHANGED_INT && error[0] != '\0', "a rejected int changes nothing");
}

/* Compares the full-range int parser with strtoll, which also accepts
 * leading spaces, so those texts are skipped. */
static void compare_int_with_strtoll(const char *text)
{
    int value = 0;
    bool ok = cli_try_parse_int("--n", text, INT_MIN, INT_MAX, &value, NULL, 0);
    if (text[0] == '\0' || text[0] == ' ' || (text[0] >= '\t' && text[0] <= '\r'))
        return;

    char *end = NULL;
    errno = 0;
    long long reference = strtoll(text, &end, 10);
    bool reference_ok = errno == 0 && *end == '\0' && reference >= INT_MIN && reference <= INT_MAX;
    require(ok == reference_ok, "cli_try_parse_int accepts what strtoll accepts");
    require(!ok || value == reference, "cli_try_parse_int agrees with strtoll");
}

static void check_u64(const char *text, uint64_t min, uint64_t max)
{
    uint64_t value = UNCHANGED_INT;
    char error[256] = "";
    if (cli_try_parse_u64("--seed", text, min, max, &value, error, sizeof error))
        require(value >= min && value <= max, "a u64 is in its range");
    else
        require(value == UNCHANGED_INT && error[0] != '\0', "a rejected u64 changes nothing");
}

static void check_double(const char *text, double min, double max)
{
    double value = UNCHANGED_INT;
    char error[256] = "";
    if (cli_try_parse_double("--lr", text, min, max, &value, error, sizeof error))
        require(isfinite(value) && value >= min && value <= max, "a double is in its range");
    else
        require(value == UNCHANGED_INT && error[0] != '\0', "a rejected double changes nothing");
}

/* Runs every parser on the input up to its first NUL byte. */
static void check_parsers(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    require(text != NULL, "memory for the text");
    memcpy(text, data, size);
    text[size] = '\0';

    check_int(text, -10, 10);
    check_int(text, INT_MIN, INT_MAX);
    compare_int_with_strtoll(text);
    check_u64(text, 0, UINT64_MAX);
    check_u64(text, 1, 100);
    check_double(text, -1e300, 1e300);
    check_double(text, 0.0, 1.0);
    free(text);
}

/* Path of the temporary file that contains the current input. */
static char input_path[512];

static void remove_input_file(void) { unlink(input_path); }

/* Returns the directory for the temporary file. The memory file system
 * /dev/shm comes first where it exists: on this project's Debian 12 test
 * machine, writing each input to a disk-backed /tmp limited the target to
 * about 250 runs per second, against about 15,000 in /dev/shm. */
static const char *temporary_directory(void)
{
    if (access("/dev/shm", W_OK) == 0)
        return "/dev/shm";
    const char *directory = getenv("TMPDIR");
    return directory && directory[0] != '\0' ? directory : "/tmp";
}

/* Writes the input to the temporary file, created on the first call. */
static void write_input_file(const uint8_t *data, size_t size)
{
    if (input_path[0] == '\0') {
        int length =
            snprintf(input_path, sizeof input_path, "%s/fuzz_cli_XXXXXX", temporary_directory());
        require(length > 0 && (size_t)length < sizeof input_path, "the temporary path fits");
        int fd = mkstemp(input_path);
        require(fd >= 0, "a temporary file can be created");
        close(fd);
        atexit(remove_input_file);
    }
    FILE *file = fopen(input_path, "wb");
    require(file != NULL, "the temporary file can be opened");
    require(fwrite(data, 1, size, file) == size && fclose(file) == 0,
            "the temporary file can be written");
}

/* Compares the lines read with the input split at LF by hand, after a byte order mark. */
static void compare_lines(const LineList *lines, const uint8_t *data, size_t size)
{
    size_t line = 0, start = 0;
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        start = 3;
    require(size <= CLI_MAX_LINE_BYTES, "the input is shorter than the line limit");
    while (start < size) {
        const uint8_t *newline = memchr(data + start, '\n', size - start);
        size_t end = newline ? (size_t)(newline - data) : size;
        size_t length = end - start;
        if (length > 0 && data[end - 1] == '\r')
            length--;

        require(line < lines->count, "every line of the input is read");
        require(lines->lengths[line] == length, "a line has the length of the input's line");
        require(memcmp(lines->lines[line], data + start, length) == 0,
                "a line has the bytes of the input's line");
        require(lines->lines[line][length] == '\0', "a line is NUL-terminated");
        line++;
        start = end + 1;
    }
    require(line == lines->count, "no line is read twice");
}

static void check_line_reader(const uint8_t *data, size_t size)
{
    write_input_file(data, size);
    LineList lines;
    line_list_init(&lines);
    char error[512] = "";

    bool ok = cli_read_lines(input_path, &lines, 0, error, sizeof error);
    require(ok == utf8_validate((const char *)data, size, NULL),
            "cli_read_lines accepts exactly well-formed UTF-8 without NUL");
    if (ok)
        compare_lines(&lines, data, size);
    else
        require(lines.count == 0 && error[0] != '\0', "a rejected file adds no lines");
    line_list_free(&lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_parsers(data, size);
    check_line_reader(data, size);
    return 0;
}
