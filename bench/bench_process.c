/*
 * Child processes of the benchmark: the PyTorch script, the peak-memory runs
 * and the comparison program. POSIX fork, exec and wait4; wait4 returns the
 * child's resource usage, whose ru_maxrss is its peak resident memory.
 */
#define _DEFAULT_SOURCE

#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

/* A saved environment variable: its name and its value, or NULL when it was unset. */
typedef struct SavedVariable {
    const char *name;
    char *value; /* owned copy */
} SavedVariable;

static const char *const THREAD_VARIABLES[] = {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"};
#define THREAD_VARIABLE_COUNT 2

/*
 * Sets the thread variables that the child's OpenBLAS and OpenMP read when
 * they start, saving their old values into saved. They are set in this
 * process before fork, because after fork in a process with threads only
 * async-signal-safe calls are allowed. This process's own libraries read
 * them only at their start, so they are unaffected.
 */
static void set_thread_variables(int threads, SavedVariable saved[THREAD_VARIABLE_COUNT])
{
    char text[16];
    snprintf(text, sizeof text, "%d", threads);
    for (int i = 0; i < THREAD_VARIABLE_COUNT; i++) {
        const char *old = getenv(THREAD_VARIABLES[i]);
        saved[i].name = THREAD_VARIABLES[i];
        saved[i].value = old ? strdup(old) : NULL;
        setenv(THREAD_VARIABLES[i], text, 1);
    }
}

/* Puts back the values that set_thread_variables saved, and frees the copies. */
static void restore_variables(SavedVariable saved[THREAD_VARIABLE_COUNT])
{
    for (int i = 0; i < THREAD_VARIABLE_COUNT; i++) {
        if (saved[i].value)
            setenv(saved[i].name, saved[i].value, 1);
        else
            unsetenv(saved[i].name);
        free(saved[i].value);
    }
}

/* In the child: sends stdout to write_fd (or /dev/null when it is -1) and runs argv. */
static void exec_child(char *const argv[], int write_fd)
{
    int target = write_fd >= 0 ? write_fd : open("/dev/null", O_WRONLY);
    if (target >= 0)
        dup2(target, STDOUT_FILENO);
    execvp(argv[0], argv);
    _exit(127);
}

/* Reads everything from fd into output [output_size], keeping what fits. */
static void read_all(int fd, char *output, size_t output_size)
{
    size_t used = 0;
    char discard[4096];
    for (;;) {
        bool room = output && used + 1 < output_size;
        ssize_t got = room ? read(fd, output + used, output_size - 1 - used)
                           : read(fd, discard, sizeof discard);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (room)
            used += (size_t)got;
    }
    if (output && output_size > 0)
        output[used] = '\0';
}

ChildResult bench_run_child(char *const argv[], int threads, char *output, size_t output_size)
{
    ChildResult result = {0};
    int pipe_fds[2] = {-1, -1};
    if (output && pipe(pipe_fds) != 0) {
        fprintf(stderr, "bench: cannot create a pipe for %s: %s\n", argv[0], strerror(errno));
        return result;
    }

    /* 1. Start the child with its output into the pipe. */
    SavedVariable saved[THREAD_VARIABLE_COUNT];
    if (threads > 0)
        set_thread_variables(threads, saved);
    fflush(stdout);
    double start = time_now_seconds();
    pid_t pid = fork();
    if (pid != 0 && threads > 0)
        restore_variables(saved);
    if (pid < 0) {
        fprintf(stderr, "bench: cannot start %s: %s\n", argv[0], strerror(errno));
        if (output) {
            close(pipe_fds[0]);
            close(pipe_fds[1]);
        }
        return result;
    }
    if (pid == 0)
        exec_child(argv, pipe_fds[1]);

    /* 2. Collect its output, then its exit status and resource usage. */
    if (output) {
        close(pipe_fds[1]);
        read_all(pipe_fds[0], output, output_size);
        close(pipe_fds[0]);
    }
    int status = 0;
    struct rusage usage = {0};
    while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR)
        continue;
    result.wall_seconds = time_now_seconds() - start;
    result.max_rss_kb = usage.ru_maxrss;

    result.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        fprintf(stderr, "bench: %s could not be run (exit status 127): is it installed?\n",
                argv[0]);
    else if (WIFEXITED(status) && !result.ok)
        fprintf(stderr, "bench: %s failed with exit status %d\n", argv[0], WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        fprintf(stderr, "bench: %s was stopped by signal %d\n", argv[0], WTERMSIG(status));
    return result;
}

/* Returns the start of the line of text that begins with "KEY ", or NULL. */
static const char *find_line(const char *text, const char *key)
{
    size_t key_length = strlen(key);
    const char *line = text;
    while (line) {
        if (strncmp(line, key, key_length) == 0 && line[key_length] == ' ')
            return line;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

int bench_find_values(const char *text, const char *key, double *values, int max_count)
{
    const char *line = find_line(text, key);
    if (!line)
        return 0;

    /* Each value follows one space; the line break ends the list. */
    const char *cursor = line + strlen(key);
    int count = 0;
    while (count < max_count && *cursor == ' ') {
        char *end;
        double parsed = strtod(cursor + 1, &end);
        if (end == cursor + 1)
            break;
        values[count++] = parsed;
        cursor = end;
    }
    return count;
}
