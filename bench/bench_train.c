/*
 * The training-step, peak-memory and comparison benchmarks. The C models
 * run in this process (bench_models.c); PyTorch runs bench/torch_step.py in
 * a child process, which times its own steps with the same warm-up and
 * repetition counts and prints the median.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "tensor.h"

static const BenchModel MODELS[] = {BENCH_TRANSFORMER, BENCH_CNN};

/* Room for the output of torch_step.py, a few short lines. */
#define CHILD_OUTPUT_BYTES 4096

/* Writes the model's sizes as torch_step.py options into args [..] from index *count. */
static void add_size_options(char args[][32], int *count, BenchModel model, BenchSizes s)
{
    const char *names[] = {"--batch", "--length",    "--vocab", "--width",
                           "--heads", "--mlp-width", "--layers"};
    int values[] = {
        s.batch, s.length, s.vocab, s.width, s.heads, s.mlp_width, bench_model_layers(model, s)};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(args[(*count)++], 32, "%s", names[i]);
        snprintf(args[(*count)++], 32, "%d", values[i]);
    }
}

/*
 * Runs torch_step.py for @p model and returns what it printed in @p output
 * [CHILD_OUTPUT_BYTES]. With @p timed_steps 0 it runs only warmup steps.
 */
static ChildResult run_torch(const BenchOptions *options, BenchModel model, int threads, int warmup,
                             int timed_steps, char *output)
{
    char args[32][32];
    int count = 0;
    snprintf(args[count++], 32, "--model");
    snprintf(args[count++], 32, "%s", bench_model_option(model));
    snprintf(args[count++], 32, "--threads");
    snprintf(args[count++], 32, "%d", threads);
    snprintf(args[count++], 32, "--warmup");
    snprintf(args[count++], 32, "%d", warmup);
    snprintf(args[count++], 32, "--repetitions");
    snprintf(args[count++], 32, "%d", timed_steps);
    add_size_options(args, &count, model, bench_default_sizes());

    char *argv[36] = {(char *)options->python, (char *)options->torch_script};
    for (int i = 0; i < count; i++)
        argv[2 + i] = args[i];
    argv[2 + count] = NULL;
    return bench_run_child(argv, threads, output, CHILD_OUTPUT_BYTES);
}

/* Runs warmup untimed steps, then writes the seconds of `count` timed steps into seconds [count].
 */
static void time_c_steps(ModelStep *step, int warmup, double *seconds, int count)
{
    for (int i = 0; i < warmup; i++)
        model_step_run(step);
    for (int r = 0; r < count; r++) {
        double start = time_now_seconds();
        model_step_run(step);
        seconds[r] = time_now_seconds() - start;
    }
}

/* Runs torch_step.py once and writes the seconds of its `count` timed steps into seconds [count].
 */
static bool time_torch_steps(const BenchOptions *options, BenchModel model, int threads,
                             double *seconds, int count, double *parameters)
{
    char output[CHILD_OUTPUT_BYTES];
    ChildResult child = run_torch(options, model, threads, options->warmup, count, output);
    if (!child.ok || bench_find_values(output, "step_seconds", seconds, count) != count) {
        fprintf(stderr, "bench: no PyTorch timing for the %s model; is python3-torch installed?\n",
                bench_model_name(model));
        return false;
    }
    bench_find_values(output, "parameters", parameters, 1);
    return true;
}

/* Adds the row of one model at one thread count: the medians in milliseconds. */
static bool add_train_row(BenchTable *table, BenchModel model, int threads, double *c_seconds,
                          double *torch_seconds, int count)
{
    BenchSizes s = bench_default_sizes();
    BenchRow row = {.threads = threads,
                    .c_value = bench_median(c_seconds, count) * 1e3,
                    .reference_value = bench_median(torch_seconds, count) * 1e3};
    snprintf(row.benchmark, sizeof row.benchmark, "train_step_%s", bench_model_name(model));
    snprintf(row.size, sizeof row.size, "%dx%d", s.batch, s.length);
    snprintf(row.unit, sizeof row.unit, "ms");
    return bench_table_add(table, row);
}

/* Times one model at one thread count in C and in PyTorch, in rounds, and adds the row. */
static bool measure_train_step(const BenchOptions *options, BenchModel model, int threads,
                               BenchTable *table)
{
    int per_round = bench_repetitions_per_round(options->repetitions);
    int total = per_round * BENCH_ROUNDS;
    ModelStep *step = model_step_new(model, bench_default_sizes());
    double *c_seconds = malloc((size_t)total * sizeof(double));
    double *torch_seconds = malloc((size_t)total * sizeof(double));
    bool ok = step && c_seconds && torch_seconds;
    double torch_parameters = NAN;

    core_set_threads(threads);
    for (int round = 0; ok && round < BENCH_ROUNDS; round++) {
        int first = round * per_round;
        time_c_steps(step, options->warmup, c_seconds + first, per_round);
        ok = time_torch_steps(options, model, threads, torch_seconds + first, per_round,
                              &torch_parameters);
    }

    if (ok && threads == 1)
        printf("# %s: %zu parameters in C, %.0f in PyTorch\n", bench_model_name(model),
               model_step_parameters(step), torch_parameters);
    if (ok)
        ok = add_train_row(table, model, threads, c_seconds, torch_seconds, total);
    model_step_free(step);
    free(c_seconds);
    free(torch_seconds);
    return ok;
}

bool bench_train_steps(const BenchOptions *options, BenchTable *table)
{
    int saved_threads = core_threads();
    bool ok = true;
    for (size_t m = 0; ok && m < sizeof MODELS / sizeof MODELS[0]; m++)
        for (int threads = 1; ok && threads <= 2; threads++)
            ok = measure_train_step(options, MODELS[m], threads, table);
    core_set_threads(saved_threads);
    return ok;
}

int bench_run_steps(BenchModel model, int steps)
{
    core_set_threads(1);
    ModelStep *step = model_step_new(model, bench_default_sizes());
    if (!step)
        return 1;
    for (int i = 0; i < steps; i++)
        model_step_run(step);
    model_step_free(step);
    return 0;
}

/* Runs this program as a peak-memory child for @p model. */
static ChildResult run_c_steps(const BenchOptions *options, BenchModel model)
{
    char steps[16];
    snprintf(steps, sizeof steps, "%d", options->memory_steps);
    char *argv[] = {(char *)options->program,
                    "--memory-child",
                    (char *)bench_model_option(model),
                    "--steps",
                    steps,
                    NULL};
    return bench_run_child(argv, 1, NULL, 0);
}

bool bench_peak_memory(const BenchOptions *options, BenchTable *table)
{
    for (size_t m = 0; m < sizeof MODELS / sizeof MODELS[0]; m++) {
        BenchModel model = MODELS[m];
        char output[CHILD_OUTPUT_BYTES];
        ChildResult c = run_c_steps(options, model);
        ChildResult torch = run_torch(options, model, 1, options->memory_steps, 0, output);
        if (!c.ok || !torch.ok)
            return false;

        BenchRow row = {.threads = 1,
                        .c_value = c.max_rss_kb / 1024.0,
                        .reference_value = torch.max_rss_kb / 1024.0};
        snprintf(row.benchmark, sizeof row.benchmark, "peak_memory_%s", bench_model_name(model));
        snprintf(row.size, sizeof row.size, "%d steps", options->memory_steps);
        snprintf(row.unit, sizeof row.unit, "MiB");
        if (!bench_table_add(table, row))
            return false;
    }
    return true;
}

bool bench_compare_quick(const BenchOptions *options, BenchTable *table)
{
    if (access(options->compare, X_OK) != 0) {
        printf("# compare_quick skipped: %s does not exist yet\n", options->compare);
        return true;
    }
    char *argv[] = {(char *)options->compare, "--quick", NULL};
    ChildResult run = bench_run_child(argv, 0, NULL, 0);
    if (!run.ok)
        return false;

    BenchRow row = {.threads = core_threads(), .c_value = run.wall_seconds, .reference_value = NAN};
    snprintf(row.benchmark, sizeof row.benchmark, "compare_quick");
    snprintf(row.size, sizeof row.size, "--quick");
    snprintf(row.unit, sizeof row.unit, "s");
    return bench_table_add(table, row);
}
