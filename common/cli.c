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
#include <sys/types.h>

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

/* Checks one line read by getline (line break included) and appends a copy
 * without its line break. */
static bool add_line(LineList *list, const char *line, size_t length, const char *name,
                     size_t line_number, char *error, size_t error_size)
{
    if (length > 0 && line[length - 1] == '\n')
        length--;
    if (length > 0 && line[length - 1] == '\r')
        length--;

    size_t offset = 0;
    if (!utf8_validate(line, length, &offset)) {
        write_error(error, error_size,
                    "%s line %zu: %s at byte offset %zu; save the file as "
                    "UTF-8 text without NUL bytes",
                    name, line_number, line[offset] == '\0' ? "NUL byte" : "invalid UTF-8", offset);
        return false;
    }

    char *copy = malloc(length + 1);
    if (!copy || !line_list_reserve(list)) {
        free(copy);
        write_error(error, error_size, "%s line %zu: out of memory", name, line_number);
        return false;
    }
    memcpy(copy, line, length);
    copy[length] = '\0';
    list->lines[list->count] = copy;
    list->lengths[list->count] = length;
    list->count++;
    return true;
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

    /* getline grows its buffer to any line length and keeps NUL bytes, so
     * add_line can reject them. */
    size_t first_new = lines->count, line_number = 0, buffer_size = 0;
    char *buffer = NULL;
    ssize_t length;
    bool ok = true;
    errno = 0;
    while (ok && (max_lines == 0 || line_number <= max_lines) &&
           (length = getline(&buffer, &buffer_size, file)) >= 0)
        ok = add_line(lines, buffer, (size_t)length, name, ++line_number, error, error_size);
    if (ok && (ferror(file) || errno == ENOMEM)) {
        write_error(error, error_size, "failed to read %s: %s", name,
                    strerror(errno != 0 ? errno : EIO));
        ok = false;
    }

    free(buffer);
    if (!from_stdin)
        fclose(file);
    if (!ok)
        line_list_truncate(lines, first_new);
    return ok;
}

const char *cli_plural_suffix(long long count) { return count == 1 ? "" : "s"; }
