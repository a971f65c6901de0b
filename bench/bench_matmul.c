/*
 * The matmul benchmark: the core's matrix product (op_matmul, built with the
 * project's default flags) against OpenBLAS's cblas_sgemm on the same
 * operands, in GFLOP/s (2 m n k floating-point operations per product).
 *
 * The core and OpenBLAS are timed in separate blocks of repetitions, with a
 * pause before each block. OpenBLAS's idle threads keep spinning after each
 * call: its thread server yields in a loop for 2^28 time-stamp ticks (about
 * 0.1 s at 2.6 GHz) before it sleeps (THREAD_TIMEOUT in
 * driver/others/blas_server.c, read in OpenBLAS 0.3.5). OpenMP's threads
 * spin for a shorter time. In alternating repetitions each library's threads
 * therefore ran in the other's time, and the core's 2-thread products came
 * out up to 50 times slower. A repetition repeats the product until it lasts
 * about MIN_REPETITION_SECONDS, so that the clock's resolution and the cost
 * of reading it do not matter for small sizes.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "ops.h"
#include "rng.h"

/* Shortest time of one timed repetition. */
#define MIN_REPETITION_SECONDS 0.005

/* Pause before each block of repetitions, longer than OpenBLAS's idle threads spin. */
#define PAUSE_SECONDS 0.2

/* One product C [m, n] = op(A) op(B) with op(A) [m, k] and op(B) [k, n]. */
typedef struct MatmulCase {
    const char *size; /* the CSV size field */
    int m, n, k;
    bool trans_a; /* A stored [k, m] */
    bool trans_b; /* B stored [n, k] */
} MatmulCase;

/*
 * Square products, then the largest products of one training step of the
 * benchmark models (B n = 1024 rows, D 64, V 1000, MLP 256, window 3):
 * m x n x k, with T after an operand read transposed.
 */
static const MatmulCase CASES[] = {
    {"64", 64, 64, 64, false, false},
    {"128", 128, 128, 128, false, false},
    {"256", 256, 256, 256, false, false},
    {"512", 512, 512, 512, false, false},
    {"1024", 1024, 1024, 1024, false, false},
    /* The output layer, x [1024, 64] times W^T, W [1000, 64], and its two gradients. */
    {"1024x1000x64 B^T (logits)", 1024, 1000, 64, false, true},
    {"1024x64x1000 (logits dx)", 1024, 64, 1000, false, false},
    {"1000x64x1024 A^T (logits dW)", 1000, 64, 1024, true, false},
    /* The transformer's MLP layers and the CNN's convolution as products. */
    {"1024x256x64 B^T (MLP hidden)", 1024, 256, 64, false, true},
    {"1024x64x256 B^T (MLP out)", 1024, 64, 256, false, true},
    {"1024x64x192 B^T (convolution)", 1024, 64, 192, false, true},
};

/* The operands of one case, stored as its transpose flags give. */
typedef struct Operands {
    Tensor *a; /* [m, k] or [k, m] */
    Tensor *b; /* [k, n] or [n, k] */
    float *c;  /* [m, n], the reference's output */
    Tape tape; /* contains the core's output; no gradients */
} Operands;

static void fill_uniform(Tensor *t, Rng *rng)
{
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = rng_uniform(rng) - 0.5f;
}

static bool operands_init(Operands *ops, const MatmulCase *mc)
{
    Rng rng;
    rng_seed(&rng, 1, 0);
    tape_init(&ops->tape);
    ops->tape.grad_enabled = false;
    ops->a = tensor_new(mc->trans_a ? shape2(mc->k, mc->m) : shape2(mc->m, mc->k), false);
    ops->b = tensor_new(mc->trans_b ? shape2(mc->n, mc->k) : shape2(mc->k, mc->n), false);
    ops->c = malloc((size_t)mc->m * (size_t)mc->n * sizeof(float));
    if (!ops->c)
        return false;
    fill_uniform(ops->a, &rng);
    fill_uniform(ops->b, &rng);
    return true;
}

static void operands_free(Operands *ops)
{
    tape_free(&ops->tape);
    free(ops->c);
    tensor_free(ops->a);
    tensor_free(ops->b);
}

/* The core's product; tape_reset lets every call reuse the same output memory. */
static void run_core(Operands *ops, const MatmulCase *mc)
{
    tape_reset(&ops->tape);
    op_matmul(&ops->tape, ops->a, ops->b, mc->trans_a, mc->trans_b);
}

static void run_openblas(Operands *ops, const MatmulCase *mc)
{
    cblas_sgemm(CblasRowMajor, mc->trans_a ? CblasTrans : CblasNoTrans,
                mc->trans_b ? CblasTrans : CblasNoTrans, mc->m, mc->n, mc->k, 1.0f, ops->a->data,
                mc->trans_a ? mc->m : mc->k, ops->b->data, mc->trans_b ? mc->k : mc->n, 0.0f,
                ops->c, mc->n);
}

/* Returns how many calls of the core's product last at least MIN_REPETITION_SECONDS. */
static int calls_per_repetition(Operands *ops, const MatmulCase *mc)
{
    double start = time_now_seconds();
    run_core(ops, mc);
    double seconds = time_now_seconds() - start;
    double calls = ceil(MIN_REPETITION_SECONDS / fmax(seconds, 1e-7));
    return calls > 10000 ? 10000 : (int)calls;
}

/* Runs one product `calls` times per repetition and writes the seconds of each into seconds
 * [count]. */
static void time_block(const BenchOptions *options, Operands *ops, const MatmulCase *mc,
                       void (*run)(Operands *, const MatmulCase *), int calls, double *seconds,
                       int count)
{
    struct timespec pause = {0, (long)(PAUSE_SECONDS * 1e9)};
    nanosleep(&pause, NULL);
    for (int i = 0; i < options->warmup; i++)
        run(ops, mc);
    for (int r = 0; r < count; r++) {
        double start = time_now_seconds();
        for (int i = 0; i < calls; i++)
            run(ops, mc);
        seconds[r] = time_now_seconds() - start;
    }
}

/* Measures one case at one thread count and adds its row. */
static bool measure_case(const BenchOptions *options, const MatmulCase *mc, int threads,
                         BenchTable *table)
{
    Operands ops;
    int per_round = bench_repetitions_per_round(options->repetitions);
    int total = per_round * BENCH_ROUNDS;
    double *core_seconds = malloc((size_t)total * sizeof(double));
    double *blas_seconds = malloc((size_t)total * sizeof(double));
    bool ok = operands_init(&ops, mc) && core_seconds && blas_seconds;
    if (!ok)
        fprintf(stderr, "bench: out of memory for a %d x %d product\n", mc->m, mc->n);

    /* 1. In each round the core, then OpenBLAS, each after its own warm-up, the same calls. */
    if (ok) {
        core_set_threads(threads);
        openblas_set_num_threads(threads);
        int calls = calls_per_repetition(&ops, mc);
        for (int round = 0; round < BENCH_ROUNDS; round++) {
            int first = round * per_round;
            time_block(options, &ops, mc, run_core, calls, core_seconds + first, per_round);
            time_block(options, &ops, mc, run_openblas, calls, blas_seconds + first, per_round);
        }

        /* 2. GFLOP/s of the median repetitions. */
        double flops = 2.0 * mc->m * mc->n * (double)mc->k * calls;
        BenchRow row = {.threads = threads};
        snprintf(row.benchmark, sizeof row.benchmark, "matmul");
        snprintf(row.size, sizeof row.size, "%s", mc->size);
        snprintf(row.unit, sizeof row.unit, "GFLOP/s");
        row.c_value = flops / bench_median(core_seconds, total) * 1e-9;
        row.reference_value = flops / bench_median(blas_seconds, total) * 1e-9;
        ok = bench_table_add(table, row);
    }
    free(core_seconds);
    free(blas_seconds);
    operands_free(&ops);
    return ok;
}

bool bench_matmul(const BenchOptions *options, BenchTable *table)
{
    int saved_threads = core_threads();
    bool ok = true;
    for (int threads = 1; ok && threads <= 2; threads++)
        for (size_t i = 0; ok && i < sizeof CASES / sizeof CASES[0]; i++)
            ok = measure_case(options, &CASES[i], threads, table);
    core_set_threads(saved_threads);
    return ok;
}
