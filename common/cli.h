/**
 * @file cli.h
 * @brief Command-line helpers shared by every program: usage errors, strict
 *        number parsing and reading sentences one per line.
 *
 * Conventions, as in GNU tools: a usage error prints "<program>: <message>"
 * and "Try '<program> --help' for more information." to stderr and exits
 * with status 2. Programs report other failures themselves and exit with
 * status 1.
 *
 * Each parser comes in two forms: cli_try_parse_* returns false with a
 * message (for tests and for callers that add context), and cli_parse_*
 * reports the message through cli_usage_error.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Exit status of a program called with invalid arguments. */
#define CLI_EXIT_USAGE 2

/**
 * Prints "<program>: <message>" (the message formatted as printf would) and
 * "Try '<program> --help' for more information." to stderr, then exits with
 * status CLI_EXIT_USAGE (2).
 */
void cli_usage_error(const char *program, const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((noreturn, format(printf, 2, 3)))
#endif
    ;

/**
 * Reports an option that getopt_long rejected and exits through
 * cli_usage_error. @p result is what getopt_long returned (':' for a
 * missing value, '?' otherwise), @p given the argument as written
 * (argv[optind - 1]) and @p options the table passed to getopt_long. The
 * message is "option '--x' requires a value", "ambiguous option '--he'
 * (could be --heads, --help)" when the name is the start of several
 * options, or "unknown option '--x'".
 */
void cli_reject_option(const char *program, int result, const char *given,
                       const struct option *options)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((noreturn))
#endif
    ;

/**
 * Parses @p text as a decimal integer in @p min .. @p max for the option
 * named @p option (such as "--steps"). An optional leading + or - is
 * accepted; an empty value, leading spaces, any other character, and a value
 * outside the range are not.
 * @return true with the value in *value, or false with a message naming the
 *         option, the value (shortened by cli_abbreviate) and the allowed
 *         range in @p error (when @p error_size > 0), leaving *value
 *         unchanged.
 */
bool cli_try_parse_int(const char *option, const char *text, int min, int max, int *value,
                       char *error, size_t error_size);

/**
 * Parses @p text as an unsigned decimal integer in @p min .. @p max, with the
 * rules of cli_try_parse_int except that no sign is accepted.
 * @return true with the value in *value, or false with a message in @p error.
 */
bool cli_try_parse_u64(const char *option, const char *text, uint64_t min, uint64_t max,
                       uint64_t *value, char *error, size_t error_size);

/**
 * Parses @p text as a finite decimal floating-point number (such as 0.001,
 * 1e-3 or -2.5) in @p min .. @p max. Empty values, leading spaces, trailing
 * characters, NaN, infinities, hexadecimal forms and values outside the
 * range are rejected.
 * @return true with the value in *value, or false with a message in @p error.
 */
bool cli_try_parse_double(const char *option, const char *text, double min, double max,
                          double *value, char *error, size_t error_size);

/** Bytes of a buffer that always fits the whole result of cli_abbreviate. */
#define CLI_ABBREVIATION_SIZE 256

/**
 * Writes a short, printable form of @p text [length] for an error message
 * into @p out [out_size]: at most the first 48 characters, followed by
 * "... (N bytes)" when the text is longer. Control characters, a NUL byte
 * and bytes of ill-formed UTF-8 are written as <tt>\\xNN</tt>, so the message stays
 * valid UTF-8 on one line. With @p out_size of at least CLI_ABBREVIATION_SIZE
 * nothing else is cut; a smaller buffer gets a shorter, still terminated,
 * result.
 * @return @p out, for use as a printf argument.
 */
const char *cli_abbreviate(const char *text, size_t length, char *out, size_t out_size);

/**
 * Returns "" for a count of 1 and "s" for any other count, so that
 * printf("%d layer%s", n, cli_plural_suffix(n)) reads "1 layer" and "2 layers".
 */
const char *cli_plural_suffix(long long count);

/** Returns the value of cli_try_parse_int, or exits through cli_usage_error. */
int cli_parse_int(const char *program, const char *option, const char *text, int min, int max);

/** Returns the value of cli_try_parse_u64, or exits through cli_usage_error. */
uint64_t cli_parse_u64(const char *program, const char *option, const char *text, uint64_t min,
                       uint64_t max);

/** Returns the value of cli_try_parse_double, or exits through cli_usage_error. */
double cli_parse_double(const char *program, const char *option, const char *text, double min,
                        double max);

/** A growable list of lines read from a file. */
typedef struct LineList {
    char **lines;    /**< [count] each line without its line break, NUL-terminated; owned */
    size_t *lengths; /**< [count] bytes of each line */
    size_t count;    /**< lines in the list */
    size_t capacity; /**< slots allocated in lines and lengths */
} LineList;

/** Prepares an empty line list; nothing is allocated until the first line. */
void line_list_init(LineList *list);

/** Frees every line and the list's arrays, and leaves the list empty. */
void line_list_free(LineList *list);

/**
 * The maximum bytes of one line that cli_read_lines accepts, before its LF
 * (a CR before the LF counts): 64 MiB, far above any sentence a program can
 * use, and small enough that an endless line is rejected before it fills
 * the memory.
 */
#define CLI_MAX_LINE_BYTES (64 << 20)

/**
 * Reads the file at @p path, or standard input when @p path is "-", and
 * appends each line to @p lines without its line break (LF, or CR LF).
 * A UTF-8 byte order mark (EF BB BF) at the start of the file is dropped.
 * Empty lines are kept, so line i + 1 of the file is entry i for a list that
 * was empty. A last line without a line break is kept too. Each byte is
 * checked as it is read, so the reading stops at the first NUL byte and
 * after CLI_MAX_LINE_BYTES bytes of one line. With @p max_lines above 0 it
 * stops reading after max_lines + 1 lines, so that a caller can reject a
 * file with too many lines, even an endless standard input, without reading
 * all of it.
 * @return true on success. On failure (the file cannot be opened or read, a
 *         line contains a NUL byte or ill-formed UTF-8 or is longer than
 *         CLI_MAX_LINE_BYTES, memory runs out) it removes the lines it
 *         appended and writes a message naming the file and the line number
 *         into @p error (when @p error_size > 0), with the byte offset in
 *         the line (after a byte order mark) of a NUL byte or of ill-formed
 *         UTF-8.
 */
bool cli_read_lines(const char *path, LineList *lines, size_t max_lines, char *error,
                    size_t error_size);

#endif /* CLI_H */
