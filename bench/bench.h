/*
 * Shared declarations of the benchmark program build/bench/bench, which
 * `make bench` builds and runs (see BENCHMARKS.md for the results).
 *
 * The program times the core's matrix product against OpenBLAS, one training
 * step of two models against the same models in PyTorch, the peak memory of
 * both, and the quick comparison run. Every figure becomes one row of a
 * BenchTable, printed as it is measured and written to a CSV file at the end.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>

/* ------------------------------------------------------------------------- */
/* Results                                                                    */
/* ------------------------------------------------------------------------- */

/* One measured figure: a row of the CSV file. */
typedef struct BenchRow {
    char benchmark[64];     /* such as "matmul" or "train_step_01_cnn_baseline" */
    int threads;            /* threads given to both the C code and the reference */
    char size[48];          /* what was measured, such as "512" or "32x32" */
    double c_value;         /* the C code's figure */
    double reference_value; /* the reference's figure, NAN when there is none */
    char unit[16];          /* "GFLOP/s", "ms", "MiB" or "s" */
} BenchRow;

/* A growable list of rows in the order they were measured. */
typedef struct BenchTable {
    BenchRow *rows; /* [count] */
    size_t count;
    size_t capacity;
} BenchTable;

/*
 * Appends a row, printing it as a line of the results table on stdout.
 * Returns false, leaving the table unchanged, when memory runs out.
 */
bool bench_table_add(BenchTable *table, BenchRow row);

/* Returns c_value / reference_value, or NAN when the row has no reference. */
double bench_row_ratio(const BenchRow *row);

/* Prints the header line of the results table on stdout. */
void bench_print_header(void);

/* ------------------------------------------------------------------------- */
/* Timing                                                                     */
/* ------------------------------------------------------------------------- */

/*
 * Rounds of a measurement. Each round times the C code, then the reference;
 * the median is taken over the repetitions of all rounds together. On a
 * machine whose load changes during the run, this spreads each load level
 * over both sides instead of giving it to one.
 */
#define BENCH_ROUNDS 3

/* Returns the timed repetitions of one side in one round, so that all rounds give at least @p
 * repetitions. */
int bench_repetitions_per_round(int repetitions);

/* Returns the median of values [count], count >= 1; sorts the values in place. */
double bench_median(double *values, int count);

/* ------------------------------------------------------------------------- */
/* Child processes (bench_process.c)                                          */
/* ------------------------------------------------------------------------- */

/* What a child process did. */
typedef struct ChildResult {
    bool ok;             /* it ran and exited with status 0 */
    double wall_seconds; /* from fork to exit */
    long max_rss_kb;     /* peak resident memory (getrusage ru_maxrss), in KiB */
} ChildResult;

/*
 * Runs argv[0] (searched in PATH) with the arguments argv [.., NULL] and
 * waits for it. Its standard output goes to @p output [output_size] (cut
 * off there, always NUL-terminated) when @p output is not NULL, and is
 * discarded otherwise; its standard error stays the program's.
 * OPENBLAS_NUM_THREADS and OMP_NUM_THREADS are set to @p threads in the
 * child's environment when @p threads > 0.
 * Returns ok false, with a message on stderr, when the child cannot be
 * started or does not exit with status 0.
 */
ChildResult bench_run_child(char *const argv[], int threads, char *output, size_t output_size);

/*
 * Finds the line "KEY VALUE..." in @p text and parses up to @p max_count
 * numbers after KEY into values [max_count].
 * Returns how many it parsed: 0 when there is no such line.
 */
int bench_find_values(const char *text, const char *key, double *values, int max_count);

/* ------------------------------------------------------------------------- */
/* The models (bench_models.c)                                                */
/* ------------------------------------------------------------------------- */

/* The benchmark's two models. */
typedef enum BenchModel {
    BENCH_TRANSFORMER, /* stage 08, next-word prediction */
    BENCH_CNN          /* stage 01's layers with causal padding, next-word prediction */
} BenchModel;

/* Sizes of both models and of their batch; torch_step.py takes the same as options. */
typedef struct BenchSizes {
    int batch;              /* B, sentences per step */
    int length;             /* n, words per sentence (and the transformer's positions) */
    int vocab;              /* V */
    int width;              /* D */
    int heads;              /* H, transformer only */
    int mlp_width;          /* hidden width of the transformer's MLP */
    int transformer_layers; /* transformer blocks */
    int cnn_layers;         /* convolution layers, chosen for about the transformer's parameters */
} BenchSizes;

/* Returns the sizes of the benchmark: B 32, n 32, V 1000, D 64, H 4, MLP 256, 2 blocks, 9
 * convolutions. */
BenchSizes bench_default_sizes(void);

/* Returns the model's name in benchmark names, "08_transformer_block" or "01_cnn_baseline". */
const char *bench_model_name(BenchModel model);

/* Returns the --model value of torch_step.py, "transformer" or "cnn". */
const char *bench_model_option(BenchModel model);

/* Returns the number of layers of @p model in @p sizes. */
int bench_model_layers(BenchModel model, BenchSizes sizes);

/* A model with its optimiser, tape and one fixed batch, ready to train. */
typedef struct ModelStep ModelStep;

/*
 * Builds @p model with weights drawn from a fixed seed, Adam with lr 1e-3,
 * and one batch of random word ids with their next words as targets.
 * Returns NULL with a message on stderr when a size is invalid or memory
 * runs out; the caller frees the result with model_step_free.
 */
ModelStep *model_step_new(BenchModel model, BenchSizes sizes);

/* Runs one training step: zero the gradients, forward, cross-entropy, backward, Adam. */
void model_step_run(ModelStep *step);

/* Returns the number of trainable values of the model. */
size_t model_step_parameters(const ModelStep *step);

/* Frees everything model_step_new allocated; NULL is ignored. */
void model_step_free(ModelStep *step);

/* ------------------------------------------------------------------------- */
/* The benchmarks                                                             */
/* ------------------------------------------------------------------------- */

/* Settings every benchmark reads. */
typedef struct BenchOptions {
    int repetitions;     /* timed repetitions per figure, over all rounds (the median is kept) */
    int warmup;          /* untimed repetitions before each side's repetitions in each round */
    int memory_steps;    /* training steps of a peak-memory child process */
    const char *program; /* path of this program, for the peak-memory child */
    const char *python;  /* Python with PyTorch */
    const char *torch_script; /* bench/torch_step.py */
    const char *compare;      /* the comparison program, timed with --quick */
} BenchOptions;

/* Adds the matmul rows: square sizes and the training steps' shapes, 1 and 2 threads. */
bool bench_matmul(const BenchOptions *options, BenchTable *table);

/* Adds the train_step rows of both models, C and PyTorch, 1 and 2 threads. */
bool bench_train_steps(const BenchOptions *options, BenchTable *table);

/* Adds the peak_memory rows of both models, C and PyTorch, one child process each. */
bool bench_peak_memory(const BenchOptions *options, BenchTable *table);

/* Adds the compare_quick row, or prints why it is skipped. */
bool bench_compare_quick(const BenchOptions *options, BenchTable *table);

/*
 * Runs @p steps training steps of @p model on one thread and returns 0, or 1
 * when the model cannot be built. The peak-memory child process runs this.
 */
int bench_run_steps(BenchModel model, int steps);

#endif /* BENCH_H */
