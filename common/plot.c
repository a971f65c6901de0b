/* Runs the gnuplot scripts in plots/ (see plot.h). */
#define _POSIX_C_SOURCE 200809L
#include "plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* The repository root, set by the Makefile so programs find plots/ from any directory. */
#ifndef PROJECT_ROOT
#define PROJECT_ROOT "."
#endif

/* Returns whether text ends with suffix. */
static bool ends_with(const char *text, const char *suffix)
{
    size_t text_length = strlen(text), suffix_length = strlen(suffix);
    return text_length >= suffix_length && strcmp(text + text_length - suffix_length, suffix) == 0;
}

/*
 * Returns whether the file at path ends with a PNG IEND chunk, which
 * gnuplot writes last: a full disk can leave a cut-off file behind while
 * gnuplot still exits 0.
 */
static bool png_is_complete(const char *path)
{
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    unsigned char tail[12];
    FILE *file = fopen(path, "rb");
    if (!file)
        return false;
    bool complete = fseek(file, -12, SEEK_END) == 0 &&
                    fread(tail, 1, sizeof tail, file) == sizeof tail &&
                    memcmp(tail, iend, sizeof tail) == 0;
    fclose(file);
    return complete;
}

bool plot_render(const char *script, const char *csv_path, const char *png_path)
{
    /* The paths go inside single quotes on a shell command line, so a quote would end them early.
     */
    if (strchr(script, '\'') || strchr(csv_path, '\'') || strchr(png_path, '\'')) {
        fprintf(stderr, "warning: not drawing %s: a path contains a single quote\n", png_path);
        return false;
    }

    char command[4096];
    int length = snprintf(command, sizeof command,
                          "gnuplot -e \"datafile='%s'; outfile='%s'\" '%s/plots/%s' 2>&1", csv_path,
                          png_path, PROJECT_ROOT, script);
    if (length < 0 || (size_t)length >= sizeof command) {
        fprintf(stderr, "warning: not drawing %s: the gnuplot command is too long\n", png_path);
        return false;
    }

    /* gnuplot's own messages go to our stderr, never to stdout with the results. */
    fflush(stdout);
    FILE *pipe = popen(command, "r");
    if (!pipe) {
        fprintf(stderr, "warning: could not start gnuplot for %s\n", png_path);
        return false;
    }
    char line[512];
    while (fgets(line, sizeof line, pipe))
        fputs(line, stderr);
    int status = pclose(pipe);

    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(
            stderr,
            "warning: gnuplot failed on plots/%s, so %s was not drawn (its messages are above; "
            "if gnuplot is missing, install it: apt-get install gnuplot-nox); the CSV %s is complete\n",
            script, png_path, csv_path);
        return false;
    }
    if (ends_with(png_path, ".png") && !png_is_complete(png_path)) {
        fprintf(stderr,
                "warning: %s is incomplete (is the disk full?), so it was removed; the CSV %s is "
                "complete\n",
                png_path, csv_path);
        remove(png_path);
        return false;
    }
    return true;
}
