/**
 * @file csv.h
 * @brief An atomic CSV writer for results: a reader of the file never finds
 *        it half written.
 *
 * csv_open writes to "<path>.tmp", created anew so that a file or symbolic
 * link left at that name is removed and never written through (see
 * create_new_file in files.h); csv_close flushes it, fsyncs it and
 * renames it over @p path, which replaces the old file in one step (rename
 * is atomic on POSIX file systems). A run that fails or is killed leaves the
 * previous file untouched. A program that exits (exit() or a return from
 * main) with a writer still open gets its .tmp file removed at exit; only a
 * signal that kills the process leaves a stale one. The directory is
 * not fsynced, so after a power failure the old file may come back, but
 * never a partial one.
 *
 * The writer does not quote fields: the caller formats each row, and a
 * field that contains a comma, a double quote or a line break must be
 * quoted by the caller as RFC 4180 describes.
 *
 * The writers are not thread-safe: open, close and abort them from one
 * thread.
 */
#ifndef CSV_H
#define CSV_H

#include <stdbool.h>
#include <stddef.h>

/** An open CSV file being written; see csv_open. */
typedef struct CsvWriter CsvWriter;

/**
 * Creates "<path>.tmp" and writes @p header and a line break to it.
 * @return a writer that csv_close or csv_abort frees, or NULL with a message
 *         naming the file and the reason (strerror) in @p error (when
 *         @p error_size > 0).
 */
CsvWriter *csv_open(const char *path, const char *header, char *error, size_t error_size);

/**
 * Writes one row, formatted as printf would, followed by a line break.
 * @return false when the write failed. The first failure is remembered and
 *         reported again by csv_close, so checking only csv_close is enough.
 */
bool csv_row(CsvWriter *writer, const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/**
 * Flushes and fsyncs the temporary file, closes it and renames it to the
 * final path, then frees @p writer. A symbolic link, FIFO, directory or
 * device at the final path is not replaced: the close fails instead.
 * @return true on success. On failure (including an earlier failed
 *         csv_row) it removes the temporary file, leaves the final path as
 *         it was, and writes a message naming the file and the reason
 *         (strerror) into @p error (when @p error_size > 0).
 */
bool csv_close(CsvWriter *writer, char *error, size_t error_size);

/**
 * Closes and removes the temporary file, leaving the final path as it was,
 * and frees @p writer. NULL is ignored.
 */
void csv_abort(CsvWriter *writer);

/**
 * Quotes @p field for a CSV row as RFC 4180 describes: the field between
 * double quotes, with every double quote inside doubled, so that commas and
 * line breaks stay inside the field.
 * @return a string the caller frees with free(), or NULL when memory runs
 *         out.
 */
char *csv_quote(const char *field);

#endif /* CSV_H */
