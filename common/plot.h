/**
 * @file plot.h
 * @brief Draws a figure by running one of the gnuplot scripts in plots/.
 *
 * Every script reads two variables set on gnuplot's command line: datafile,
 * the CSV to plot, and outfile, the PNG to write. Programs write their CSV
 * first, so a missing gnuplot costs the figure but never the data.
 */
#ifndef PLOT_H
#define PLOT_H

#include <stdbool.h>

/**
 * Runs `gnuplot -e "datafile='CSV'; outfile='PNG'" plots/SCRIPT` with the
 * project's plots/ directory located at build time, without a shell.
 * gnuplot's messages go to stderr, and it runs in a process group of its
 * own, so a Ctrl-C in the terminal reaches only the calling program: a
 * program that stops on Ctrl-C still gets the figure it was drawing.
 * @return true when gnuplot exited 0 and, for a .png output, the file ends
 *         with PNG's IEND chunk; otherwise prints a warning to stderr naming
 *         the script and what to do, removes a cut-off PNG (a full disk can
 *         leave one while gnuplot exits 0), and returns false.
 *         Paths containing a single quote are rejected with a warning.
 */
bool plot_render(const char *script, const char *csv_path, const char *png_path);

#endif /* PLOT_H */
