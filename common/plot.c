/* Runs the gnuplot scripts in plots/ (see plot.h). */
#define _POSIX_C_SOURCE 200809L
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"

/* The environment, passed on to gnuplot; POSIX leaves its declaration to the program. */
extern char **environ;

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

/*
 * Starts `gnuplot -e ASSIGNMENTS SCRIPT` with standard input from /dev/null
 * and its output on a pipe, whose read end goes to *output. A Ctrl-C in
 * the terminal sends SIGINT to the foreground process group. gnuplot gets a
 * process group of its own, so that signal cannot kill it halfway through a
 * figure, and a program that handles Ctrl-C (compare) keeps the figures of
 * the tasks that finished. Returns gnuplot's process id, or -1 with errno set.
 */
static pid_t start_gnuplot(const char *assignments, const char *script_path, int *output)
{
    int ends[2];
    if (pipe(ends) != 0)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);

    /* The read end first: when it is descriptor 0, opening /dev/null replaces it anyway. */
    posix_spawn_file_actions_addclose(&actions, ends[0]);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, ends[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, ends[1], STDERR_FILENO);
    if (ends[1] > STDERR_FILENO)
        posix_spawn_file_actions_addclose(&actions, ends[1]);
    /*
     * A Ctrl-C that arrives before the child has left our process group
     * would still reach it, so gnuplot also starts with SIGINT blocked.
     */
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    sigaddset(&mask, SIGINT);
    posix_spawnattr_setsigmask(&attributes, &mask);

    /* The programs ignore SIGPIPE (program_check_stdout_at_exit); gnuplot gets the default. */
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attributes, 0);

    char *argv[] = {"gnuplot", "-e", (char *)assignments, (char *)script_path, NULL};
    pid_t child = -1;
    int error = posix_spawnp(&child, "gnuplot", &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(ends[1]);
    if (error != 0) {
        close(ends[0]);
        errno = error;
        return -1;
    }
    *output = ends[0];
    return child;
}

/* Copies everything gnuplot prints to our stderr, then returns its wait status (-1 on error). */
static int finish_gnuplot(pid_t child, int output)
{
    char buffer[512];
    for (;;) {
        ssize_t count = read(output, buffer, sizeof buffer);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0)
            break;
        fwrite(buffer, 1, (size_t)count, stderr);
    }
    close(output);

    int status = 0;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* Writes how gnuplot ended, such as "exited with status 1", into text. */
static void describe_status(int status, char *text, size_t size)
{
    if (status == -1)
        snprintf(text, size, "could not be waited for");
    else if (WIFSIGNALED(status))
        snprintf(text, size, "was stopped by signal %d", WTERMSIG(status));
    else
        snprintf(text, size, "exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/*
 * Writes into temporary the name gnuplot draws into: figure_path with
 * ".tmp" before its extension (OUT/NAME.tmp.png), because the scripts pick
 * their terminal by the extension. Returns false when it does not fit.
 */
static bool temporary_figure_path(const char *figure_path, char *temporary, size_t size)
{
    const char *slash = strrchr(figure_path, '/');
    const char *dot = strrchr(figure_path, '.');
    if (!dot || (slash && dot < slash))
        dot = figure_path + strlen(figure_path);
    int length =
        snprintf(temporary, size, "%.*s.tmp%s", (int)(dot - figure_path), figure_path, dot);
    return length >= 0 && (size_t)length < size;
}

/*
 * Creates the empty regular file that gnuplot then truncates and writes.
 * create_new_file removes a link or FIFO at that name without following it
 * and opens with O_EXCL, so gnuplot's own open finds our file and never
 * writes through a link or blocks on a FIFO.
 */
static bool create_temporary_figure(const char *temporary, const char *figure_path, char *error,
                                    size_t error_size)
{
    FILE *file = create_new_file(temporary);
    if (file && fclose(file) == 0)
        return true;
    int code = errno;
    if (file)
        unlink(temporary);
    snprintf(error, error_size, "failed to create %s: %s; %s is not drawn", temporary,
             strerror(code), figure_path);
    return false;
}

/* Checks that figure_path is missing or a regular file, which the rename may replace. */
static bool check_figure_target(const char *figure_path, char *error, size_t error_size)
{
    char reason[4200];
    if (is_replaceable_file(figure_path, reason, sizeof reason))
        return true;
    snprintf(error, error_size,
             "%s, so the figure is not drawn there; move it away and run the program again",
             reason);
    return false;
}

/* Runs gnuplot on script; prints a warning and returns false when it could not draw. */
static bool run_gnuplot(const char *script, const char *script_path, const char *assignments,
                        const char *csv_path, const char *figure_path)
{
    /* gnuplot's own messages go to our stderr, never to stdout with the results. */
    files_flush_stdout();
    int output = -1;
    pid_t child = start_gnuplot(assignments, script_path, &output);
    if (child < 0) {
        fprintf(stderr,
                "warning: could not start gnuplot (%s), so %s was not drawn; install it "
                "(apt-get install gnuplot-nox) to get the figure; the CSV %s is complete\n",
                strerror(errno), figure_path, csv_path);
        return false;
    }
    int status = finish_gnuplot(child, output);

    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char how[64];
        describe_status(status, how, sizeof how);
        fprintf(stderr,
                "warning: gnuplot %s on plots/%s, so %s was not drawn (its messages are above); "
                "the CSV %s is complete\n",
                how, script, figure_path, csv_path);
        return false;
    }
    return true;
}

/* Draws into temporary, checks the result and renames it to figure_path (see plot_render). */
static PlotResult draw_and_rename(const char *script, const char *script_path,
                                  const char *assignments, const char *csv_path,
                                  const char *figure_path, const char *temporary, char *error,
                                  size_t error_size)
{
    if (!run_gnuplot(script, script_path, assignments, csv_path, figure_path))
        return PLOT_NOT_DRAWN;
    if (ends_with(figure_path, ".png") && !png_is_complete(temporary)) {
        snprintf(error, error_size,
                 "gnuplot wrote an incomplete %s (is the disk full?), so %s is not drawn",
                 temporary, figure_path);
        return PLOT_WRITE_FAILED;
    }
    /* Checked again, because the target may have appeared while gnuplot ran. */
    if (!check_figure_target(figure_path, error, error_size))
        return PLOT_WRITE_FAILED;
    if (rename(temporary, figure_path) != 0) {
        snprintf(error, error_size, "failed to rename %s to %s: %s", temporary, figure_path,
                 strerror(errno));
        return PLOT_WRITE_FAILED;
    }
    return PLOT_DRAWN;
}

PlotResult plot_render(const char *script, const char *csv_path, const char *figure_path,
                       char *error, size_t error_size)
{
    /* gnuplot reads the paths inside single quotes, so a quote would end them early. */
    if (strchr(script, '\'') || strchr(csv_path, '\'') || strchr(figure_path, '\'')) {
        fprintf(stderr, "warning: not drawing %s: a path contains a single quote\n", figure_path);
        return PLOT_NOT_DRAWN;
    }

    char temporary[4096], assignments[8400], script_path[4096];
    bool fits = temporary_figure_path(figure_path, temporary, sizeof temporary);
    int length = snprintf(assignments, sizeof assignments, "datafile='%s'; outfile='%s'", csv_path,
                          temporary);
    int script_length =
        snprintf(script_path, sizeof script_path, "%s/plots/%s", PROJECT_ROOT, script);
    if (!fits || length < 0 || (size_t)length >= sizeof assignments || script_length < 0 ||
        (size_t)script_length >= sizeof script_path) {
        fprintf(stderr, "warning: not drawing %s: the gnuplot command is too long\n", figure_path);
        return PLOT_NOT_DRAWN;
    }

    /* A link, FIFO, folder or device at the target is left alone, and gnuplot does not run. */
    if (!check_figure_target(figure_path, error, error_size) ||
        !create_temporary_figure(temporary, figure_path, error, error_size))
        return PLOT_WRITE_FAILED;
    PlotResult result = draw_and_rename(script, script_path, assignments, csv_path, figure_path,
                                        temporary, error, error_size);
    if (result != PLOT_DRAWN)
        unlink(temporary);
    return result;
}
