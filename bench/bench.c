/*
 * The benchmark program that `make bench` runs: it measures, prints a table
 * and writes every figure to a CSV file with the columns
 *
 *     benchmark,threads,size,c_value,reference_value,unit,ratio
 *
 * where ratio = c_value / reference_value. For times and memory, a ratio
 * below 1 means that the C code is faster or smaller. For GFLOP/s, a ratio
 * above 1 means that it is faster.
 *
 * The peak-memory benchmark runs first, while this process is still small:
 * a child process starts with a copy of its parent's memory, and Linux
 * counts that copy in the child's ru_maxrss even after exec (exec_mmap in
 * the kernel's fs/exec.c keeps the old memory's peak).
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "csv.h"

#define PROGRAM "bench"

static const char USAGE[] =
    "Usage: bench [OPTION]...\n"
    "Time the core's matrix product against OpenBLAS, one training step of the\n"
    "stage 08 transformer and of a causal CNN against PyTorch, their peak memory,\n"
    "and the quick comparison run. Prints a table and writes a CSV file.\n"
    "\n"
    "  --only NAME          run one benchmark: matmul, train, memory or compare\n"
    "  --repetitions N      timed repetitions per figure, whose median is kept (default 21)\n"
    "  --warmup N           untimed repetitions before them (default 3)\n"
    "  --memory-steps N     training steps of each peak-memory process (default 10)\n"
    "  --csv FILE           where to write the figures (default build/bench/bench.csv)\n"
    "  --python PATH        Python with PyTorch 1.13 (default /usr/bin/python3)\n"
    "  --torch-script PATH  the PyTorch side (default bench/torch_step.py)\n"
    "  --compare PATH       the comparison program (default build/bin/compare)\n"
    "  --help               print this help and exit\n";

/* Settings from the command line. */
typedef struct Settings {
    BenchOptions options;
    const char *only; /* NULL for every benchmark */
    const char *csv_path;
    const char *child_model; /* set in a peak-memory child process */
    int child_steps;
} Settings;

/* ------------------------------------------------------------------------- */
/* Results                                                                    */
/* ------------------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_repetitions_per_round(int repetitions)
{
    return (repetitions + BENCH_ROUNDS - 1) / BENCH_ROUNDS;
}

double bench_median(double *values, int count)
{
    qsort(values, (size_t)count, sizeof *values, compare_doubles);
    if (count % 2 == 1)
        return values[count / 2];
    return 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

double bench_row_ratio(const BenchRow *row)
{
    return isnan(row->reference_value) ? NAN : row->c_value / row->reference_value;
}

void bench_print_header(void)
{
    printf("%-34s %7s %-30s %10s %10s %-8s %7s\n", "benchmark", "threads", "size", "C", "reference",
           "unit", "ratio");
}

bool bench_table_add(BenchTable *table, BenchRow row)
{
    if (table->count == table->capacity) {
        size_t capacity = table->capacity ? 2 * table->capacity : 32;
        BenchRow *rows = realloc(table->rows, capacity * sizeof *rows);
        if (!rows) {
            fprintf(stderr, "bench: out of memory for the results\n");
            return false;
        }
        table->rows = rows;
        table->capacity = capacity;
    }
    table->rows[table->count++] = row;
    printf("%-34s %7d %-30s %10.3f %10.3f %-8s %7.3f\n", row.benchmark, row.threads, row.size,
           row.c_value, row.reference_value, row.unit, bench_row_ratio(&row));
    fflush(stdout);
    return true;
}

/* Writes one number as a CSV field: empty when it is NAN. */
static void format_field(char *buf, size_t size, double value)
{
    if (isnan(value))
        buf[0] = '\0';
    else
        snprintf(buf, size, "%.6g", value);
}

static bool write_csv(const BenchTable *table, const char *path)
{
    char error[512];
    CsvWriter *csv = csv_open(path, "benchmark,threads,size,c_value,reference_value,unit,ratio",
                              error, sizeof error);
    if (!csv) {
        fprintf(stderr, "bench: %s\n", error);
        return false;
    }
    for (size_t i = 0; i < table->count; i++) {
        const BenchRow *row = &table->rows[i];
        char c_value[32], reference[32], ratio[32];
        format_field(c_value, sizeof c_value, row->c_value);
        format_field(reference, sizeof reference, row->reference_value);
        format_field(ratio, sizeof ratio, bench_row_ratio(row));
        csv_row(csv, "%s,%d,%s,%s,%s,%s,%s", row->benchmark, row->threads, row->size, c_value,
                reference, row->unit, ratio);
    }
    if (!csv_close(csv, error, sizeof error)) {
        fprintf(stderr, "bench: %s\n", error);
        return false;
    }
    printf("wrote %s\n", path);
    return true;
}

/* ------------------------------------------------------------------------- */
/* Command line                                                               */
/* ------------------------------------------------------------------------- */

/* Returns the value after option argv[*i], advancing *i; a missing value is a usage error. */
static const char *option_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        cli_usage_error(PROGRAM, "option '%s' needs a value", argv[*i]);
    return argv[++*i];
}

static Settings parse_settings(int argc, char **argv)
{
    Settings s = {.options = {.repetitions = 21,
                              .warmup = 3,
                              .memory_steps = 10,
                              .program = argv[0],
                              .python = "/usr/bin/python3",
                              .torch_script = "bench/torch_step.py",
                              .compare = "build/bin/compare"},
                  .csv_path = "build/bench/bench.csv"};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        } else if (strcmp(arg, "--only") == 0) {
            s.only = option_value(argc, argv, &i);
        } else if (strcmp(arg, "--repetitions") == 0) {
            s.options.repetitions =
                cli_parse_int(PROGRAM, arg, option_value(argc, argv, &i), 1, 100000);
        } else if (strcmp(arg, "--warmup") == 0) {
            s.options.warmup = cli_parse_int(PROGRAM, arg, option_value(argc, argv, &i), 0, 1000);
        } else if (strcmp(arg, "--memory-steps") == 0) {
            s.options.memory_steps =
                cli_parse_int(PROGRAM, arg, option_value(argc, argv, &i), 1, 100000);
        } else if (strcmp(arg, "--csv") == 0) {
            s.csv_path = option_value(argc, argv, &i);
        } else if (strcmp(arg, "--python") == 0) {
            s.options.python = option_value(argc, argv, &i);
        } else if (strcmp(arg, "--torch-script") == 0) {
            s.options.torch_script = option_value(argc, argv, &i);
        } else if (strcmp(arg, "--compare") == 0) {
            s.options.compare = option_value(argc, argv, &i);
        } else if (strcmp(arg, "--memory-child") == 0) {
            /* Internal: the peak-memory child process (bench_peak_memory). */
            s.child_model = option_value(argc, argv, &i);
        } else if (strcmp(arg, "--steps") == 0) {
            s.child_steps = cli_parse_int(PROGRAM, arg, option_value(argc, argv, &i), 1, 100000);
        } else {
            cli_usage_error(PROGRAM, "unknown option '%s'", arg);
        }
    }
    const char *names[] = {"matmul", "train", "memory", "compare"};
    bool known = !s.only;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        known = known || strcmp(s.only, names[i]) == 0;
    if (!known)
        cli_usage_error(PROGRAM, "invalid --only '%s': expected matmul, train, memory or compare",
                        s.only);
    return s;
}

/* Returns whether the benchmark @p name was requested. */
static bool is_requested(const Settings *s, const char *name)
{
    return !s->only || strcmp(s->only, name) == 0;
}

/* ------------------------------------------------------------------------- */
/* Main                                                                       */
/* ------------------------------------------------------------------------- */

/* Runs the peak-memory child: --memory-child transformer|cnn --steps N. */
static int run_memory_child(const Settings *s)
{
    if (strcmp(s->child_model, "transformer") == 0)
        return bench_run_steps(BENCH_TRANSFORMER, s->child_steps);
    if (strcmp(s->child_model, "cnn") == 0)
        return bench_run_steps(BENCH_CNN, s->child_steps);
    cli_usage_error(PROGRAM, "invalid --memory-child '%s': expected transformer or cnn",
                    s->child_model);
}

/* Prints the settings and this process's own peak memory, the floor of a child's ru_maxrss. */
static void print_settings(const Settings *s)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    int per_round = bench_repetitions_per_round(s->options.repetitions);
    printf("# medians of %d repetitions per side: %d rounds of %d, each after %d warm-up "
           "repetitions; peak memory over %d training steps\n",
           per_round * BENCH_ROUNDS, BENCH_ROUNDS, per_round, s->options.warmup,
           s->options.memory_steps);
    printf("# this process's peak memory before the children: %.1f MiB\n",
           usage.ru_maxrss / 1024.0);
    const char *wait_policy = getenv("OMP_WAIT_POLICY");
    printf("# OMP_WAIT_POLICY: %s\n", wait_policy ? wait_policy : "unset (spin, then sleep)");
}

int main(int argc, char **argv)
{
    Settings s = parse_settings(argc, argv);
    if (s.child_model)
        return run_memory_child(&s);

    print_settings(&s);
    bench_print_header();
    BenchTable table = {0};
    bool ok = true;
    if (ok && is_requested(&s, "memory"))
        ok = bench_peak_memory(&s.options, &table);
    if (ok && is_requested(&s, "matmul"))
        ok = bench_matmul(&s.options, &table);
    if (ok && is_requested(&s, "train"))
        ok = bench_train_steps(&s.options, &table);
    if (ok && is_requested(&s, "compare"))
        ok = bench_compare_quick(&s.options, &table);

    ok = write_csv(&table, s.csv_path) && ok;
    free(table.rows);
    return ok ? 0 : 1;
}
