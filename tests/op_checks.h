/*
 * Helpers shared by the op tests: deterministic fill values, a tensor
 * comparison that explains its failures, a gradient check with the
 * project's default tolerances, and a check that a call stops the program
 * through core_fatal with a given message.
 *
 * Include this header before any other: it sets _POSIX_C_SOURCE for fork
 * and pipe. The functions are static inline so that a test file may use any
 * subset of them.
 */
#ifndef OP_CHECKS_H
#define OP_CHECKS_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gradcheck.h"
#include "ops.h"

/* Number of mismatching elements a failed comparison prints. */
#define OP_CHECKS_PRINT_LIMIT 5

/* Returns the next value in [0, 1) of a small linear congruential generator. */
static inline float checks_next_unit(unsigned *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / 16777216.0f;
}

/* Fills t->data with values spread over [low, high), the same for the same seed. */
static inline void checks_fill(Tensor *t, unsigned seed, float low, float high)
{
    unsigned state = seed;
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = low + (high - low) * checks_next_unit(&state);
}

/*
 * Fills t->data with values whose magnitude lies in [min_abs, max_abs) and
 * whose sign alternates pseudo-randomly, keeping every value away from 0
 * (where relu has its kink).
 */
static inline void checks_fill_away_from_zero(Tensor *t, unsigned seed, float min_abs,
                                              float max_abs)
{
    unsigned state = seed;
    for (size_t i = 0; i < t->size; i++) {
        float magnitude = min_abs + (max_abs - min_abs) * checks_next_unit(&state);
        t->data[i] = checks_next_unit(&state) < 0.5f ? -magnitude : magnitude;
    }
}

/* Returns a persistent tensor holding values[0..size-1]; the caller frees it with tensor_free. */
static inline Tensor *checks_tensor_from(Shape shape, const float *values, bool requires_grad)
{
    Tensor *t = tensor_new(shape, requires_grad);
    memcpy(t->data, values, t->size * sizeof(float));
    return t;
}

/* Returns a persistent tensor with a gradient, filled by checks_fill(seed) in [-1, 1). */
static inline Tensor *checks_random_tensor(Shape shape, unsigned seed)
{
    Tensor *t = tensor_new(shape, true);
    checks_fill(t, seed, -1.0f, 1.0f);
    return t;
}

/*
 * Returns whether |actual[i] - expected[i]| <= tol_abs + tol_rel |expected[i]|
 * for every i. Equal infinities match. On failure prints the label, the first
 * mismatches and the largest difference to stderr; on success prints nothing.
 */
static inline bool checks_near(const char *label, const float *actual, const float *expected,
                               size_t count, float tol_abs, float tol_rel)
{
    size_t mismatches = 0;
    double max_diff = 0.0;
    for (size_t i = 0; i < count; i++) {
        if (isinf(actual[i]) && actual[i] == expected[i])
            continue;
        double diff = fabs((double)actual[i] - (double)expected[i]);
        if (isnan(diff) || diff > max_diff)
            max_diff = isnan(diff) ? INFINITY : diff;
        if (!(diff <= tol_abs + tol_rel * fabs((double)expected[i]))) {
            if (mismatches < OP_CHECKS_PRINT_LIMIT)
                fprintf(stderr, "%s: element %zu is %.8g, expected %.8g\n", label, i,
                        (double)actual[i], (double)expected[i]);
            mismatches++;
        }
    }
    if (mismatches > 0)
        fprintf(stderr, "%s: %zu of %zu elements differ; largest difference %.6g\n", label,
                mismatches, count, max_diff);
    return mismatches == 0;
}

/* Runs gradcheck with the default options (see gradcheck.h). */
static inline GradcheckResult checks_gradients(const char *label, GradcheckFn f, Tensor **inputs,
                                               int input_count, void *context)
{
    return gradcheck(label, f, inputs, input_count, context, gradcheck_default_options());
}

/* A call that is expected to stop the program. */
typedef void (*ChecksFatalFn)(void *context);

/*
 * Runs fn in a child process and returns whether it exited with status 1 and
 * wrote a message containing @p expected to stderr. On failure prints the
 * label, the exit status and the message.
 */
static inline bool checks_fatal(const char *label, ChecksFatalFn fn, void *context,
                                const char *expected)
{
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
        return false;
    fflush(stderr);

    pid_t child = fork();
    if (child < 0)
        return false;
    if (child == 0) {
        dup2(pipe_fds[1], STDERR_FILENO);
        close(pipe_fds[0]);
        fn(context);
        _exit(0); /* fn returned: the expected stop did not happen */
    }

    close(pipe_fds[1]);
    char message[1024] = {0};
    size_t used = 0;
    ssize_t got;
    while (used < sizeof message - 1 &&
           (got = read(pipe_fds[0], message + used, sizeof message - 1 - used)) > 0)
        used += (size_t)got;
    close(pipe_fds[0]);

    int status = 0;
    waitpid(child, &status, 0);
    bool exited_1 = WIFEXITED(status) && WEXITSTATUS(status) == 1;
    bool has_text = strstr(message, expected) != NULL;
    if (!exited_1 || !has_text)
        fprintf(stderr,
                "%s: expected exit status 1 and a message containing \"%s\"; "
                "got status %d and \"%s\"\n",
                label, expected, WIFEXITED(status) ? WEXITSTATUS(status) : -1, message);
    return exited_1 && has_text;
}

#endif /* OP_CHECKS_H */
