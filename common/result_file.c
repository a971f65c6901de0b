/*
 * Result files and the exit status of a lost one (see result_file.h).
 */
#include "result_file.h"

#include <stdarg.h>
#include <stdio.h>

#include "files.h"
#include "plot.h"

/* Whether any result file could not be written. */
static bool any_failed = false;

void result_file_failed(const char *program, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    any_failed = true;
}

int result_exit_status(void) { return any_failed ? 1 : 0; }

bool result_csv_open(ResultCsv *csv, const char *program, const char *out_dir, const char *name,
                     const char *header)
{
    char error[1024];
    csv->program = program;
    csv->writer = NULL;
    int csv_length = snprintf(csv->csv_path, sizeof csv->csv_path, "%s/%s.csv", out_dir, name);
    int png_length = snprintf(csv->png_path, sizeof csv->png_path, "%s/%s.png", out_dir, name);
    if (csv_length < 0 || (size_t)csv_length >= sizeof csv->csv_path || png_length < 0 ||
        (size_t)png_length >= sizeof csv->png_path) {
        result_file_failed(program, "the path of %s.csv in --out is too long; it is not written",
                           name);
        return false;
    }

    if (!make_directories(out_dir, error, sizeof error)) {
        result_file_failed(program, "%s; %s is not written", error, csv->csv_path);
        return false;
    }
    csv->writer = csv_open(csv->csv_path, header, error, sizeof error);
    if (!csv->writer)
        result_file_failed(program, "%s; %s is not written", error, csv->csv_path);
    return csv->writer != NULL;
}

bool result_csv_close(ResultCsv *csv, const char *script)
{
    if (!csv->writer)
        return false;
    char error[1024];
    bool written = csv_close(csv->writer, error, sizeof error);
    csv->writer = NULL;
    if (!written) {
        result_file_failed(csv->program, "%s; %s is not written", error, csv->csv_path);
        return false;
    }

    /* On stderr: whether the figure exists depends on gnuplot, not on the seed. */
    fprintf(stderr, "%s: wrote %s\n", csv->program, csv->csv_path);
    if (!script)
        return true;
    PlotResult plot = plot_render(script, csv->csv_path, csv->png_path, error, sizeof error);
    if (plot == PLOT_DRAWN)
        fprintf(stderr, "%s: wrote %s\n", csv->program, csv->png_path);
    else if (plot == PLOT_WRITE_FAILED)
        result_file_failed(csv->program, "%s", error);
    return true;
}
