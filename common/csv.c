/*
 * The atomic CSV writer (see csv.h): write "<path>.tmp", fsync, rename.
 */
#define _POSIX_C_SOURCE 200809L

#include "csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "files.h"

/* Suffix of the temporary file that becomes the CSV file on csv_close. */
#define CSV_TEMPORARY_SUFFIX ".tmp"

struct CsvWriter {
    FILE *file;           /* the open temporary file */
    char *path;           /* final path; owned */
    char *temporary_path; /* path + ".tmp"; owned */
    int write_errno;      /* errno of the first failed write, or 0 */
    pid_t owner;          /* the process that opened it */
    CsvWriter *next;      /* the next writer not yet closed, see open_writers */
};

/* Every writer not yet closed or aborted, so that an exit can remove their temporary files. */
static CsvWriter *open_writers = NULL;

/*
 * Runs at exit: aborts the writers a program left open when it stopped
 * early (such as exit(3) after training diverged), so that no .tmp file
 * stays behind. A forked child that exits leaves its parent's files alone.
 * A signal that kills the process skips this, and leaves the .tmp file.
 */
static void abort_open_writers(void)
{
    CsvWriter *writer = open_writers;
    while (writer) {
        CsvWriter *next = writer->next;
        if (writer->owner == getpid())
            csv_abort(writer);
        writer = next;
    }
}

/* Adds the writer to open_writers, registering abort_open_writers on the first call. */
static void track_writer(CsvWriter *writer)
{
    static bool registered = false;
    if (!registered)
        registered = atexit(abort_open_writers) == 0;
    writer->owner = getpid();
    writer->next = open_writers;
    open_writers = writer;
}

/* Removes the writer from open_writers. */
static void untrack_writer(CsvWriter *writer)
{
    for (CsvWriter **link = &open_writers; *link; link = &(*link)->next)
        if (*link == writer) {
            *link = writer->next;
            return;
        }
}

/* Writes "<action> <path>: <strerror(code)>" into error, when there is room. */
static void write_file_error(char *error, size_t error_size, const char *action, const char *path,
                             int code)
{
    if (error && error_size > 0)
        snprintf(error, error_size, "failed to %s %s: %s", action, path, strerror(code));
}

/* Frees the writer's memory; the file must be closed already. */
static void free_writer(CsvWriter *writer)
{
    untrack_writer(writer);
    free(writer->path);
    free(writer->temporary_path);
    free(writer);
}

/* Allocates a writer with its two paths, without opening anything. */
static CsvWriter *allocate_writer(const char *path)
{
    size_t length = strlen(path);
    CsvWriter *writer = calloc(1, sizeof *writer);
    if (!writer)
        return NULL;
    writer->path = malloc(length + 1);
    writer->temporary_path = malloc(length + sizeof CSV_TEMPORARY_SUFFIX);
    if (!writer->path || !writer->temporary_path) {
        free_writer(writer);
        return NULL;
    }
    memcpy(writer->path, path, length + 1);
    memcpy(writer->temporary_path, path, length);
    memcpy(writer->temporary_path + length, CSV_TEMPORARY_SUFFIX, sizeof CSV_TEMPORARY_SUFFIX);
    track_writer(writer);
    return writer;
}

CsvWriter *csv_open(const char *path, const char *header, char *error, size_t error_size)
{
    CsvWriter *writer = allocate_writer(path);
    if (!writer) {
        write_file_error(error, error_size, "create", path, ENOMEM);
        return NULL;
    }

    writer->file = create_new_file(writer->temporary_path);
    if (!writer->file) {
        write_file_error(error, error_size, "create", writer->temporary_path, errno);
        free_writer(writer);
        return NULL;
    }

    if (!csv_row(writer, "%s", header)) {
        write_file_error(error, error_size, "write", writer->temporary_path, writer->write_errno);
        csv_abort(writer);
        return NULL;
    }
    return writer;
}

bool csv_row(CsvWriter *writer, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    errno = 0;
    bool ok = vfprintf(writer->file, format, args) >= 0 && fputc('\n', writer->file) != EOF;
    va_end(args);

    if (!ok && writer->write_errno == 0)
        writer->write_errno = errno != 0 ? errno : EIO;
    return ok;
}

/* Flushes, fsyncs and closes the file. Returns 0 or the errno of the first
 * failure; the file is closed in every case. */
static int finish_file(CsvWriter *writer)
{
    int code = writer->write_errno;
    if (code == 0 && fflush(writer->file) != 0)
        code = errno;
    if (code == 0 && fsync(fileno(writer->file)) != 0)
        code = errno;
    if (fclose(writer->file) != 0 && code == 0)
        code = errno;
    writer->file = NULL;
    return code;
}

bool csv_close(CsvWriter *writer, char *error, size_t error_size)
{
    int code = finish_file(writer);
    if (code != 0) {
        write_file_error(error, error_size, "write", writer->temporary_path, code);
        remove(writer->temporary_path);
        free_writer(writer);
        return false;
    }

    /* rename would replace a symbolic link, FIFO or device at the path; leave those alone. */
    char reason[512];
    if (!is_replaceable_file(writer->path, reason, sizeof reason)) {
        if (error && error_size > 0)
            snprintf(error, error_size, "%s; move it away and run the program again", reason);
        remove(writer->temporary_path);
        free_writer(writer);
        return false;
    }
    if (rename(writer->temporary_path, writer->path) != 0) {
        code = errno;
        if (error && error_size > 0)
            snprintf(error, error_size, "failed to rename %s to %s: %s", writer->temporary_path,
                     writer->path, strerror(code));
        remove(writer->temporary_path);
        free_writer(writer);
        return false;
    }
    free_writer(writer);
    return true;
}

void csv_abort(CsvWriter *writer)
{
    if (!writer)
        return;
    if (writer->file)
        fclose(writer->file);
    remove(writer->temporary_path);
    free_writer(writer);
}

char *csv_quote(const char *field)
{
    /* At worst every byte is a doubled quote, plus the two outer quotes and the NUL. */
    size_t length = strlen(field);
    char *quoted = length < (SIZE_MAX - 3) / 2 ? malloc(2 * length + 3) : NULL;
    if (!quoted)
        return NULL;
    char *end = quoted;
    *end++ = '"';
    for (const char *c = field; *c; c++) {
        if (*c == '"')
            *end++ = '"';
        *end++ = *c;
    }
    *end++ = '"';
    *end = '\0';
    return quoted;
}
