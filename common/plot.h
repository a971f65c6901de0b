/**
 * @file plot.h
 * @brief Draws a figure by running one of the gnuplot scripts in plots/.
 *
 * Every script reads two variables set on gnuplot's command line: datafile,
 * the CSV to plot, and outfile, the PNG (or SVG) to write. Programs write
 * their CSV first, so a missing gnuplot costs the figure but never the data.
 */
#ifndef PLOT_H
#define PLOT_H

#include <stddef.h>

/** The outcome of plot_render. */
typedef enum PlotResult {
    PLOT_DRAWN,        /**< the figure file was written */
    PLOT_NOT_DRAWN,    /**< gnuplot is missing or failed; a warning is on stderr */
    PLOT_WRITE_FAILED, /**< the figure file could not be written; the reason is in error */
} PlotResult;

/**
 * Draws @p figure_path by running
 * `gnuplot -e "datafile='CSV'; outfile='TEMPORARY'" plots/SCRIPT` with the
 * project's plots/ directory located at build time, without a shell.
 *
 * TEMPORARY is @p figure_path with ".tmp" before its extension
 * (OUT/NAME.tmp.png), because the scripts pick their terminal by the
 * extension. plot_render creates it first with create_new_file, so gnuplot
 * truncates a new regular file and never writes through a symbolic link or
 * blocks on a FIFO. After gnuplot succeeds, and for a .png when the file
 * ends with PNG's IEND chunk, TEMPORARY is renamed to @p figure_path. The
 * target must be missing or a regular file (is_replaceable_file), checked
 * before gnuplot starts and again before the rename: a link, FIFO, folder
 * or device there is never touched. On every failure TEMPORARY is removed.
 *
 * gnuplot's messages go to stderr, and it runs in a process group of its
 * own, so a Ctrl-C in the terminal reaches only the calling program: a
 * program that stops on Ctrl-C still gets the figure it was drawing.
 *
 * @return PLOT_DRAWN; PLOT_NOT_DRAWN after printing a warning that names
 *         the script and what to do, when gnuplot cannot be started, exits
 *         with a nonzero status or is stopped by a signal, or when a path
 *         contains a single quote or is too long (figures are optional);
 *         or PLOT_WRITE_FAILED, with a message naming the file and the
 *         reason in @p error, when the target is not replaceable, the
 *         temporary file cannot be created or renamed, or the PNG is cut
 *         off (a full disk can leave one while gnuplot exits 0). The caller
 *         reports PLOT_WRITE_FAILED like any result file that could not be
 *         written (result_file_failed).
 */
PlotResult plot_render(const char *script, const char *csv_path, const char *figure_path,
                       char *error, size_t error_size);

#endif /* PLOT_H */
