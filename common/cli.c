/*
 * Command-line helpers (see cli.h for the conventions).
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

void cli_usage_error(const char *program, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, format, args);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", program);
    va_end(args);
    exit(CLI_EXIT_USAGE);
}

/* Writes a formatted message into error, when there is room for one. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void
write_error(char *error, size_t error_size, const char *format, ...)
{
    if (!error || error_size == 0)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(error, error_size, format, args);
    va_end(args);
}

/* Writes the options whose name starts with the @p length bytes of @p prefix
 * into @p names as "--a, --b"; returns how many there are. */
static int list_options_with_prefix(const struct option *options, const char *prefix, size_t length,
                                    char *names, size_t names_size)
{
    int count = 0;
    size_t used = 0;
    names[0] = '\0';
    for (const struct option *option = options; option->name; option++) {
        if (strncmp(option->name, prefix, length) != 0)
            continue;
        int written =
            snprintf(names + used, names_size - used, "%s--%s", count ? ", " : "", option->name);
        if (written > 0 && (size_t)written < names_size - used)
            used += (size_t)written;
        count++;
    }
    return count;
}

void cli_reject_option(const char *program, int result, const char *given,
                       const struct option *options)
{
    char shown[CLI_ABBREVIATION_SIZE], names[1024];
    cli_abbreviate(given, strlen(given), shown, sizeof shown);
    if (result == ':')
        cli_usage_error(program, "option '%s' requires a value", shown);

    /* getopt_long reports an ambiguous abbreviation like an unknown option. */
    if (strncmp(given, "--", 2) == 0 && given[2] != '\0') {
        const char *name = given + 2;
        size_t length = strcspn(name, "=");
        if (list_options_with_prefix(options, name, length, names, sizeof names) > 1)
            cli_usage_error(program, "ambiguous option '%s' (could be %s); write more of the name",
                            shown, names);
    }
    cli_usage_error(program, "unknown option '%s'", shown);
}

/* ------------------------------------------------------------------------- */
/* Values in messages                                                         */
/* ------------------------------------------------------------------------- */

/* Characters of a value that cli_abbreviate keeps. With at most 4 bytes per
 * character or escape, and the suffix, they fit CLI_ABBREVIATION_SIZE. */
#define ABBREVIATION_CHARS 48

/* Appends the bytes [count] to out when they fit with room for the NUL. */
static bool append_bytes(char *out, size_t out_size, size_t *used, const char *bytes, size_t count)
{
    if (*used + count >= out_size)
        return false;
    memcpy(out + *used, bytes, count);
    *used += count;
    out[*used] = '\0';
    return true;
}

const char *cli_abbreviate(const char *text, size_t length, char *out, size_t out_size)
{
    if (out_size == 0)
        return out;
    out[0] = '\0';
    size_t used = 0, offset = 0;
    int characters = 0;

    /* Copy whole characters; escape control bytes and ill-formed UTF-8. */
    while (offset < length && characters < ABBREVIATION_CHARS) {
        const unsigned char *byte = (const unsigned char *)text + offset;
        size_t sequence = utf8_sequence_length(byte, length - offset);
        char escape[8];
        bool fits;
        if (sequence == 0 || *byte < 0x20 || *byte == 0x7f) {
            snprintf(escape, sizeof escape, "\\x%02X", *byte);
            fits = append_bytes(out, out_size, &used, escape, strlen(escape));
            sequence = 1;
        } else {
            fits = append_bytes(out, out_size, &used, text + offset, sequence);
        }
        if (!fits)
            break;
        offset += sequence;
        characters++;
    }

    /* Say how much was left out, so a reader knows the value was longer. */
    if (offset < length) {
        char suffix[48];
        snprintf(suffix, sizeof suffix, "... (%zu bytes)", length);
        append_bytes(out, out_size, &used, suffix, strlen(suffix));
    }
    return out;
}

/* ------------------------------------------------------------------------- */
/* Numbers                                                                    */
/* ------------------------------------------------------------------------- */

/* Returns true when text is an optional sign (when allow_sign) followed by
 * one or more decimal digits and nothing else. */
static bool is_decimal_integer(const char *text, bool allow_sign)
{
    if (allow_sign && (*text == '+' || *text == '-'))
        text++;
    if (*text == '\0')
        return false;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return false;
    }
    return true;
}

bool cli_try_parse_int(const char *option, const char *text, int min, int max, int *value,
                       char *error, size_t error_size)
{
    long parsed = 0;
    bool valid = is_decimal_integer(text, true);
    if (valid) {
        errno = 0;
        parsed = strtol(text, NULL, 10);
        valid = errno != ERANGE && parsed >= min && parsed <= max;
    }
    if (!valid) {
        char shown[CLI_ABBREVIATION_SIZE];
        write_error(error, error_size,
                    "invalid value '%s' for %s: expected an integer from %d "
                    "to %d",
                    cli_abbreviate(text, strlen(text), shown, sizeof shown), option, min, max);
        return false;
    }
    *value = (int)parsed;
    return true;
}

bool cli_try_parse_u64(const char *option, const char *text, uint64_t min, uint64_t max,
                       uint64_t *value, char *error, size_t error_size)
{
    /* strtoull would accept "-1" and wrap it around, so no sign is allowed. */
    unsigned long long parsed = 0;
    bool valid = is_decimal_integer(text, false);
    if (valid) {
        errno = 0;
        parsed = strtoull(text, NULL, 10);
        valid = errno != ERANGE && parsed >= min && parsed <= max;
    }
    if (!valid) {
        char shown[CLI_ABBREVIATION_SIZE];
        write_error(error, error_size,
                    "invalid value '%s' for %s: expected an integer from "
                    "%llu to %llu",
                    cli_abbreviate(text, strlen(text), shown, sizeof shown), option,
                    (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    *value = (uint64_t)parsed;
    return true;
}

/* Returns true when text contains only the characters of a decimal number
 * (digits, sign, point, exponent), which excludes "nan", "inf", hexadecimal
 * forms and spaces. */
static bool has_only_decimal_characters(const char *text)
{
    return *text != '\0' && strspn(text, "0123456789+-.eE") == strlen(text);
}

bool cli_try_parse_double(const char *option, const char *text, double min, double max,
                          double *value, char *error, size_t error_size)
{
    char *end = NULL;
    double parsed = 0.0;
    bool valid = has_only_decimal_characters(text);
    if (valid) {
        parsed = strtod(text, &end);
        valid = *end == '\0' && isfinite(parsed) && parsed >= min && parsed <= max;
    }
    if (!valid) {
        char shown[CLI_ABBREVIATION_SIZE];
        write_error(error, error_size,
                    "invalid value '%s' for %s: expected a number from %g "
                    "to %g",
                    cli_abbreviate(text, strlen(text), shown, sizeof shown), option, min, max);
        return false;
    }
    *value = parsed;
    return true;
}

int cli_parse_int(const char *program, const char *option, const char *text, int min, int max)
{
    char error[512];
    int value = 0;
    if (!cli_try_parse_int(option, text, min, max, &value, error, sizeof error))
        cli_usage_error(program, "%s", error);
    return value;
}

uint64_t cli_parse_u64(const char *program, const char *option, const char *text, uint64_t min,
                       uint64_t max)
{
    char error[512];
    uint64_t value = 0;
    if (!cli_try_parse_u64(option, text, min, max, &value, error, sizeof error))
        cli_usage_error(program, "%s", error);
    return value;
}

double cli_parse_double(const char *program, const char *option, const char *text, double min,
                        double max)
{
    char error[512];
    double value = 0.0;
    if (!cli_try_parse_double(option, text, min, max, &value, error, sizeof error))
        cli_usage_error(program, "%s", error);
    return value;
}

/* ------------------------------------------------------------------------- */
/* Lines                                                                      */
/* ------------------------------------------------------------------------- */

void line_list_init(LineList *list) { memset(list, 0, sizeof *list); }

/* Frees the lines from index first on and removes them from the list. */
static void line_list_truncate(LineList *list, size_t first)
{
    for (size_t i = first; i < list->count; i++)
        free(list->lines[i]);
    if (first < list->count)
        list->count = first;
}

void line_list_free(LineList *list)
{
    line_list_truncate(list, 0);
    free(list->lines);
    free(list->lengths);
    line_list_init(list);
}

/* Makes room for one more line; returns false when memory runs out. */
static bool line_list_reserve(LineList *list)
{
    if (list->count < list->capacity)
        return true;
    size_t capacity = list->capacity > 0 ? list->capacity * 2 : 64;
    if (capacity > SIZE_MAX / sizeof(char *))
        return false;

    char **lines = realloc(list->lines, capacity * sizeof *lines);
    if (!lines)
        return false;
    list->lines = lines;
    size_t *lengths = realloc(list->lengths, capacity * sizeof *lengths);
    if (!lengths)
        return false;
    list->lengths = lengths;
    list->capacity = capacity;
    return true;
}

/* Checks one line (without its LF) and appends a copy without a CR at its end. */
static bool add_line(LineList *list, const char *line, size_t length, const char *name,
                     size_t line_number, char *error, size_t error_size)
{
    if (length > 0 && line[length - 1] == '\r')
        length--;

    size_t offset = 0;
    if (!utf8_validate(line, length, &offset)) {
        write_error(error, error_size,
                    "%s line %zu: invalid UTF-8 at byte offset %zu; save the file as "
                    "UTF-8 text without NUL bytes",
                    name, line_number, offset);
        return false;
    }

    char *copy = malloc(length + 1);
    if (!copy || !line_list_reserve(list)) {
        free(copy);
        write_error(error, error_size, "%s line %zu: out of memory", name, line_number);
        return false;
    }
    if (length > 0)
        memcpy(copy, line, length);
    copy[length] = '\0';
    list->lines[list->count] = copy;
    list->lengths[list->count] = length;
    list->count++;
    return true;
}

/* The bytes of one line while it is read: [length] used of [capacity]. */
typedef struct LineBuffer {
    char *bytes;
    size_t length;
    size_t capacity;
} LineBuffer;

/* Doubles the buffer, up to CLI_MAX_LINE_BYTES; returns false when memory runs out. */
static bool line_buffer_grow(LineBuffer *buffer)
{
    size_t capacity = buffer->capacity > 0 ? buffer->capacity * 2 : 256;
    if (capacity > CLI_MAX_LINE_BYTES)
        capacity = CLI_MAX_LINE_BYTES;
    char *bytes = realloc(buffer->bytes, capacity);
    if (!bytes)
        return false;
    buffer->bytes = bytes;
    buffer->capacity = capacity;
    return true;
}

/* The UTF-8 byte order mark that some editors write at the start of a file. */
static const char BYTE_ORDER_MARK[3] = {'\xEF', '\xBB', '\xBF'};

/* Result of read_line. */
typedef enum { LINE_READ, LINE_END_OF_FILE, LINE_FAILED } LineStatus;

/*
 * Reads the bytes of one line up to its LF into @p buffer (without the LF).
 * Every byte is checked as it arrives, so an endless line or a stream of
 * NUL bytes fails after at most CLI_MAX_LINE_BYTES bytes instead of filling
 * the memory. With @p first_line a byte order mark at its start is dropped.
 */
static LineStatus read_line(FILE *file, LineBuffer *buffer, bool first_line, const char *name,
                            size_t line_number, char *error, size_t error_size)
{
    buffer->length = 0;
    bool read_any = false;
    int c;
    while ((c = getc_unlocked(file)) != EOF && c != '\n') {
        read_any = true;
        if (c == '\0') {
            write_error(error, error_size,
                        "%s line %zu: NUL byte at byte offset %zu; save the file as UTF-8 text "
                        "without NUL bytes",
                        name, line_number, buffer->length);
            return LINE_FAILED;
        }
        if (buffer->length == CLI_MAX_LINE_BYTES) {
            write_error(error, error_size,
                        "%s line %zu is longer than %d bytes (%d MiB), the maximum line length; "
                        "split it into shorter lines",
                        name, line_number, CLI_MAX_LINE_BYTES, CLI_MAX_LINE_BYTES >> 20);
            return LINE_FAILED;
        }
        if (buffer->length == buffer->capacity && !line_buffer_grow(buffer)) {
            write_error(error, error_size, "%s line %zu: out of memory", name, line_number);
            return LINE_FAILED;
        }
        buffer->bytes[buffer->length++] = (char)c;
        if (first_line && buffer->length == sizeof BYTE_ORDER_MARK) {
            /* Only the first three bytes of the file can be the mark. A file of only the mark
             * has no lines, like an empty file. */
            first_line = false;
            if (memcmp(buffer->bytes, BYTE_ORDER_MARK, sizeof BYTE_ORDER_MARK) == 0) {
                buffer->length = 0;
                read_any = false;
            }
        }
    }

    if (ferror(file)) {
        write_error(error, error_size, "failed to read %s: %s", name,
                    strerror(errno != 0 ? errno : EIO));
        return LINE_FAILED;
    }
    return c == EOF && !read_any ? LINE_END_OF_FILE : LINE_READ;
}

bool cli_read_lines(const char *path, LineList *lines, size_t max_lines, char *error,
                    size_t error_size)
{
    bool from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? "standard input" : path;
    FILE *file = from_stdin ? stdin : fopen(path, "r");
    if (!file) {
        write_error(error, error_size, "failed to open %s: %s", name, strerror(errno));
        return false;
    }

    size_t first_new = lines->count, line_number = 0;
    LineBuffer buffer = {NULL, 0, 0};
    bool ok = true;
    errno = 0;
    while (ok && (max_lines == 0 || line_number <= max_lines)) {
        line_number++;
        LineStatus status =
            read_line(file, &buffer, line_number == 1, name, line_number, error, error_size);
        if (status == LINE_END_OF_FILE)
            break;
        ok = status == LINE_READ &&
             add_line(lines, buffer.bytes, buffer.length, name, line_number, error, error_size);
    }

    free(buffer.bytes);
    if (!from_stdin)
        fclose(file);
    if (!ok)
        line_list_truncate(lines, first_new);
    return ok;
}

const char *cli_plural_suffix(long long count) { return count == 1 ? "" : "s"; }
