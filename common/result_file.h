/**
 * @file result_file.h
 * @brief Result files that a program writes into --out, and the exit status
 *        that reports a lost one.
 *
 * A file that cannot be written must not end the program early, because
 * the other results would be lost too, and must not end it with status 0,
 * because a script would take the results for complete. So a program
 * reports the failure with result_file_failed, writes everything else it
 * can, and returns result_exit_status() from main: 1 after any failure.
 *
 *     ResultCsv csv;
 *     result_csv_open(&csv, "stage09", out_dir, "stage09_loss", "step,loss");
 *     for (int step = 0; step < steps; step++)
 *         if (csv.writer)
 *             csv_row(csv.writer, "%d,%.6f", step, loss[step]);
 *     result_csv_close(&csv, "stage09_loss.gp");
 *     ...
 *     return result_exit_status();
 */
#ifndef RESULT_FILE_H
#define RESULT_FILE_H

#include <stdbool.h>

#include "csv.h"

/** The longest path of a result file, the usual PATH_MAX. */
#define RESULT_PATH_BYTES 4096

/** A result file OUT/NAME.csv being written, and the figure OUT/NAME.png drawn from it. */
typedef struct ResultCsv {
    const char *program;              /**< prefix of every message, such as "stage09" */
    CsvWriter *writer;                /**< the open file, or NULL when it could not be opened */
    char csv_path[RESULT_PATH_BYTES]; /**< OUT/NAME.csv */
    char png_path[RESULT_PATH_BYTES]; /**< OUT/NAME.png */
} ResultCsv;

/**
 * Prints "<program>: " and the message (formatted as printf would) to
 * stderr, and makes result_exit_status return 1. The message should name
 * the file and the reason.
 */
void result_file_failed(const char *program, const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Returns 1 after any result_file_failed, else 0: the status of main after writing. */
int result_exit_status(void);

/**
 * Creates @p out_dir when needed and opens OUT/NAME.csv (csv_open) with
 * @p header. When that fails it reports the reason through
 * result_file_failed and leaves csv->writer NULL, so the caller skips the
 * rows and goes on with its other results.
 * @return whether csv->writer is open.
 */
bool result_csv_open(ResultCsv *csv, const char *program, const char *out_dir, const char *name,
                     const char *header);

/**
 * Closes the file (csv_close) and prints "<program>: wrote PATH" to stderr,
 * then draws OUT/NAME.png with plots/@p script when @p script is not NULL
 * (see plot_render). A missing or failing gnuplot is only a warning, but a
 * figure file that cannot be written, such as one whose path is a symbolic
 * link, FIFO or folder, is reported through result_file_failed, as is a
 * failed close. Does nothing when the file was not opened.
 * @return whether the CSV file was written.
 */
bool result_csv_close(ResultCsv *csv, const char *script);

#endif /* RESULT_FILE_H */
