/*
 * Tests of the sequence ops in common/ops_sequence.c: one-hot, embedding,
 * mean over positions, windows, conv1d, pairwise and column sum.
 *
 * Expected values come from three sources, named in each test: small cases
 * computed by hand, central-difference gradients (gradcheck.h), and
 * identities such as embedding = one-hot times table. The tests that expect
 * an op to stop the program run it in a child process (fork) and check the
 * exit status and the message on stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gradcheck.h"
#include "ops.h"

/* Mismatching elements printed before the rest are only counted. */
#define PRINT_LIMIT 5

/* ------------------------------------------------------------------------- */
/* Helpers                                                                     */
/* ------------------------------------------------------------------------- */

/* Fills t->data with pseudo-random values in [-1, 1) from a xorshift32 stream. */
static void fill_random(Tensor *t, uint32_t seed)
{
    uint32_t state = seed ? seed : 1u;
    for (size_t i = 0; i < t->size; i++) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        t->data[i] = (float)(state >> 8) / (float)(1u << 23) - 1.0f;
    }
}

/* Returns a persistent tensor of random values; the caller frees it with tensor_free. */
static Tensor *new_random(Shape shape, bool requires_grad, uint32_t seed)
{
    Tensor *t = tensor_new(shape, requires_grad);
    fill_random(t, seed);
    return t;
}

/* Returns a persistent tensor holding a copy of @p values [count]. */
static Tensor *new_filled(Shape shape, bool requires_grad, const float *values)
{
    Tensor *t = tensor_new(shape, requires_grad);
    memcpy(t->data, values, t->size * sizeof(float));
    return t;
}

/*
 * Counts elements where |actual - expected| > tol. When any differ, prints
 * the label, the first few differing elements and the largest difference.
 */
static size_t count_mismatches(const char *label, const float *actual, const float *expected,
                               size_t count, float tol)
{
    size_t mismatches = 0;
    double max_diff = 0.0;
    for (size_t i = 0; i < count; i++) {
        double diff = fabs((double)actual[i] - (double)expected[i]);
        if (diff > max_diff)
            max_diff = diff;
        if (diff > tol) {
            if (mismatches < PRINT_LIMIT)
                fprintf(stderr, "%s: element %zu is %.7g, expected %.7g\n", label, i,
                        (double)actual[i], (double)expected[i]);
            mismatches++;
        }
    }
    if (mismatches > 0)
        fprintf(stderr, "%s: %zu of %zu elements differ; largest difference %.7g\n", label,
                mismatches, count, max_diff);
    return mismatches;
}

/* Asserts that a tensor has the given dimensions. */
static void assert_shape(const Tensor *t, Shape expected)
{
    assert_int_equal(t->shape.ndim, expected.ndim);
    for (int i = 0; i < expected.ndim; i++)
        assert_int_equal(t->shape.dim[i], expected.dim[i]);
}

/* Sets out->grad to @p seed [out->size] and runs the tape's backward functions, newest first. */
static void backward_from(Tape *tape, Tensor *out, const float *seed)
{
    memcpy(out->grad, seed, out->size * sizeof(float));
    for (size_t e = tape->count; e-- > 0;)
        tape->entries[e].backward(&tape->entries[e]);
}

/* A call that is expected to stop the program through core_fatal. */
typedef void (*FatalCall)(void);

/*
 * Runs @p call in a child process and asserts that it exits with status 1
 * and that its stderr contains @p expected_text. The calls keep their tape
 * and tensors in static variables: core_fatal exits without freeing them,
 * and LeakSanitizer, which checks at exit, reports memory only a dead local
 * pointed to.
 */
static void expect_fatal(FatalCall call, const char *expected_text)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        call();
        _exit(0); /* reached only when the call did not stop the program */
    }

    /* Read the child's stderr until it closes, then collect its status. */
    close(fds[1]);
    char message[1024];
    char discard[256];
    size_t used = 0;
    ssize_t got;
    while (used < sizeof message - 1 &&
           (got = read(fds[0], message + used, sizeof message - 1 - used)) > 0)
        used += (size_t)got;
    message[used] = '\0';
    /* Drain the rest, so that the child never blocks on a full pipe or gets SIGPIPE. */
    while (read(fds[0], discard, sizeof discard) > 0)
        continue;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || !strstr(message, expected_text))
        fprintf(stderr, "child %s %d with stderr \"%s\"; expected exit status 1 and \"%s\"\n",
                WIFSIGNALED(status) ? "killed by signal" : "exited with status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), message,
                expected_text);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_non_null(strstr(message, expected_text));
}

/* Runs a gradient check and asserts that it found no mismatch and a non-zero gradient. */
static void assert_gradcheck(const char *label, GradcheckFn f, Tensor **inputs, int input_count,
                             void *context)
{
    GradcheckResult result =
        gradcheck(label, f, inputs, input_count, context, gradcheck_default_options());
    assert_true(result.checked > 0);
    assert_int_equal(result.mismatches, 0);
    assert_false(result.all_zero);
}

/* ------------------------------------------------------------------------- */
/* One-hot                                                                     */
/* ------------------------------------------------------------------------- */

static void test_onehot_rows_hand(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    const int ids[3] = {2, 0, 3};

    /* Expected by hand: row i has its single 1 at column ids[i]. */
    const float expected[3 * 4] = {
        0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1,
    };
    Tensor *out = op_onehot(&tape, ids, 3, 4);
    assert_shape(out, shape2(3, 4));
    assert_int_equal(count_mismatches("onehot", out->data, expected, 12, 0.0f), 0);

    tape_free(&tape);
}

static void test_onehot_records_no_gradient(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    const int ids[2] = {1, 1};

    Tensor *out = op_onehot(&tape, ids, 2, 3);
    assert_null(out->grad);
    assert_int_equal(tape.count, 0);

    tape_free(&tape);
}

static void call_onehot_id_too_large(void)
{
    static Tape tape;
    static const int ids[3] = {0, 7, 1};
    tape_init(&tape);
    op_onehot(&tape, ids, 3, 4);
}

static void call_onehot_id_negative(void)
{
    static Tape tape;
    static const int ids[2] = {-1, 0};
    tape_init(&tape);
    op_onehot(&tape, ids, 2, 4);
}

static void test_onehot_id_out_of_range_stops(void **state)
{
    (void)state;
    /* The message names the position in ids and the bad value. */
    expect_fatal(call_onehot_id_too_large, "ids[1] = 7");
    expect_fatal(call_onehot_id_negative, "ids[0] = -1");
}

/* ------------------------------------------------------------------------- */
/* Embedding                                                                   */
/* ------------------------------------------------------------------------- */

static void test_embedding_rows_hand(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    const float values[3 * 2] = {1, 2, 3, 4, 5, 6};
    Tensor *table = new_filled(shape2(3, 2), true, values);
    const int ids[3] = {2, 2, 0};

    /* Expected by hand: rows 2, 2 and 0 of the table. */
    const float expected[3 * 2] = {5, 6, 5, 6, 1, 2};
    Tensor *out = op_embedding(&tape, table, ids, 3);
    assert_shape(out, shape2(3, 2));
    assert_int_equal(count_mismatches("embedding", out->data, expected, 6, 0.0f), 0);

    tensor_free(table);
    tape_free(&tape);
}

static void test_embedding_backward_adds_repeated_rows(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    Tensor *table = tensor_new(shape2(3, 2), true);
    const int ids[3] = {2, 2, 0};

    /* The table's gradient starts at 1 everywhere, so backward must add, not overwrite. */
    for (size_t i = 0; i < table->size; i++)
        table->grad[i] = 1.0f;
    Tensor *out = op_embedding(&tape, table, ids, 3);
    const float dout[3 * 2] = {1, 10, 100, 1000, 7, 8};
    backward_from(&tape, out, dout);

    /* By hand: row 2 gets rows 0 and 1 of dout, row 0 gets row 2, row 1 nothing; plus 1. */
    const float expected[3 * 2] = {8, 9, 1, 1, 102, 1011};
    assert_int_equal(count_mismatches("embedding grad", table->grad, expected, 6, 0.0f), 0);

    tensor_free(table);
    tape_free(&tape);
}

/*
 * The identity embedding = one-hot(ids) x table, forward and backward.
 * Forward must match exactly, because every product in the matrix product
 * is a table value times 1 or 0. The gradients may differ in summation
 * order only, hence the small tolerance.
 */
static void test_embedding_matches_onehot_matmul(void **state)
{
    (void)state;
    Tape lookup_tape, matmul_tape;
    tape_init(&lookup_tape);
    tape_init(&matmul_tape);
    const int ids[5] = {3, 0, 3, 5, 3};
    const int count = 5, vocab = 6, width = 4;
    Tensor *table = new_random(shape2(vocab, width), true, 11);
    Tensor *dout = new_random(shape2(count, width), false, 12);

    Tensor *lookup = op_embedding(&lookup_tape, table, ids, count);
    backward_from(&lookup_tape, lookup, dout->data);
    float lookup_grad[6 * 4];
    memcpy(lookup_grad, table->grad, sizeof lookup_grad);

    tensor_zero_grad(table);
    Tensor *onehot = op_onehot(&matmul_tape, ids, count, vocab);
    Tensor *product = op_matmul(&matmul_tape, onehot, table, false, false);
    backward_from(&matmul_tape, product, dout->data);

    assert_shape(product, lookup->shape);
    assert_int_equal(
        count_mismatches("embedding vs matmul", lookup->data, product->data, lookup->size, 0.0f),
        0);
    assert_int_equal(
        count_mismatches("embedding vs matmul grad", lookup_grad, table->grad, table->size, 1e-6f),
        0);

    tensor_free(dout);
    tensor_free(table);
    tape_free(&matmul_tape);
    tape_free(&lookup_tape);
}

static Tensor *run_embedding(Tape *tape, Tensor **inputs, void *context)
{
    static const int ids[7] = {4, 0, 5, 4, 2, 4, 1};
    (void)context;
    return op_embedding(tape, inputs[0], ids, 7);
}

static void test_embedding_gradcheck(void **state)
{
    (void)state;
    /* Vocabulary 6, width 5, ids with repeats and an unused row 3. */
    Tensor *table = new_random(shape2(6, 5), true, 21);
    assert_gradcheck("embedding", run_embedding, &table, 1, NULL);
    tensor_free(table);
}

static void call_embedding_id_too_large(void)
{
    static Tape tape;
    static const int ids[2] = {1, 3};
    static Tensor *table;
    tape_init(&tape);
    table = tensor_new(shape2(3, 2), false);
    op_embedding(&tape, table, ids, 2);
}

static void test_embedding_id_out_of_range_stops(void **state)
{
    (void)state;
    expect_fatal(call_embedding_id_too_large, "ids[1] = 3");
}

/* ------------------------------------------------------------------------- */
/* Mean over positions                                                         */
/* ------------------------------------------------------------------------- */

static void test_mean_positions_hand(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    const float values[2 * 3 * 2] = {
        1, 2, 3, 4, 5, 6, /* sentence 0 */
        0, 0, 0, 3, 6, 0, /* sentence 1 */
    };
    Tensor *x = new_filled(shape3(2, 3, 2), false, values);

    /* By hand: (1+3+5)/3, (2+4+6)/3 and (0+0+6)/3, (0+3+0)/3. */
    const float expected[2 * 2] = {3, 4, 2, 1};
    Tensor *out = op_mean_positions(&tape, x);
    assert_shape(out, shape2(2, 2));
    assert_int_equal(count_mismatches("mean_positions", out->data, expected, 4, 1e-6f), 0);

    tensor_free(x);
    tape_free(&tape);
}

static void test_mean_positions_one_sentence_hand(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    const float values[4 * 1] = {1, 2, 3, 6};
    Tensor *x = new_filled(shape2(4, 1), false, values);

    /* By hand: (1+2+3+6)/4 = 3, as one sentence [n, D] -> [1, D]. */
    const float expected[1] = {3};
    Tensor *out = op_mean_positions(&tape, x);
    assert_shape(out, shape2(1, 1));
    assert_int_equal(count_mismatches("mean_positions [n, D]", out->data, expected, 1, 1e-6f), 0);

    tensor_free(x);
    tape_free(&tape);
}

static Tensor *run_mean_positions(Tape *tape, Tensor **inputs, void *context)
{
    (void)context;
    return op_mean_positions(tape, inputs[0]);
}

static void test_mean_positions_gradcheck(void **state)
{
    (void)state;
    Tensor *batch = new_random(shape3(2, 3, 5), true, 31);
    assert_gradcheck("mean_positions [2, 3, 5]", run_mean_positions, &batch, 1, NULL);
    tensor_free(batch);

    Tensor *sentence = new_random(shape2(4, 5), true, 32);
    assert_gradcheck("mean_positions [4, 5]", run_mean_positions, &sentence, 1, NULL);
    tensor_free(sentence);
}

static void call_mean_positions_4d(void)
{
    static Tape tape;
    static Tensor *x;
    tape_init(&tape);
    x = tensor_new(shape4(2, 2, 2, 2), false);
    op_mean_positions(&tape, x);
}

static void test_mean_positions_4d_stops(void **state)
{
    (void)state;
    expect_fatal(call_mean_positions_4d,
                 "mean_positions: expects x [B, n, D] or [n, D], got [2, 2, 2, 2]");
}

/* ------------------------------------------------------------------------- */
/* Windows                                                                     */
/* ------------------------------------------------------------------------- */

/* A 4-word sentence of width 2 where word j is (j+1, 10(j+1)), so 0 marks padding. */
static Tensor *new_four_words(bool requires_grad)
{
    const float values[4 * 2] = {1, 10, 2, 20, 3, 30, 4, 40};
    return new_filled(shape3(1, 4, 2), requires_grad, values);
}

static void test_windows_same_padding_hand(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    Tensor *x = new_four_words(false);

    /* By hand, k = 3 with one zero word on each side: window t contains words t-1, t, t+1. */
    const float expected[4 * 6] = {
        0, 0, 1, 10, 2, 20, 1, 10, 2, 20, 3, 30, 2, 20, 3, 30, 4, 40, 3, 30, 4, 40, 0, 0,
    };
    Tensor *out = op_windows(&tape, x, 3, 1, 1);
    assert_shape(out, shape3(1, 4, 6));
    assert_int_equal(count_mismatches("windows same", out->data, expected, 24, 0.0f), 0);

    tensor_free(x);
    tape_free(&tape);
}

static void test_windows_causal_padding_hand(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    Tensor *x = new_four_words(false);

    /* By hand, k = 3 with two zero words on the left: window t contains words t-2, t-1, t. */
    const float expected[4 * 6] = {
        0, 0, 0, 0, 1, 10, 0, 0, 1, 10, 2, 20, 1, 10, 2, 20, 3, 30, 2, 20, 3, 30, 4, 40,
    };
    Tensor *out = op_windows(&tape, x, 3, 2, 0);
    assert_shape(out, shape3(1, 4, 6));
    assert_int_equal(count_mismatches("windows causal", out->data, expected, 24, 0.0f), 0);

    tensor_free(x);
    tape_free(&tape);
}

static void test_windows_without_padding_shape(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    Tensor *x = tensor_new(shape3(2, 4, 5), false);

    /* n + 0 + 0 - k + 1 = 4 - 2 + 1 = 3 windows of k*D = 10. */
    assert_shape(op_windows(&tape, x, 2, 0, 0), shape3(2, 3, 10));
    /* One sentence [n, D] gives [windows, k*D]. */
    Tensor *flat = tensor_new(shape2(4, 5), false);
    assert_shape(op_windows(&tape, flat, 3, 1, 1), shape2(4, 15));

    tensor_free(flat);
    tensor_free(x);
    tape_free(&tape);
}

static void test_windows_backward_counts_hand(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    Tensor *x = new_four_words(true);
    float ones[4 * 6];
    for (int i = 0; i < 24; i++)
        ones[i] = 1.0f;

    /* By hand from the tables above: with dout = 1, dx_j counts the windows containing word j. */
    const float same_counts[4 * 2] = {2, 2, 3, 3, 3, 3, 2, 2};
    backward_from(&tape, op_windows(&tape, x, 3, 1, 1), ones);
    assert_int_equal(count_mismatches("windows same grad", x->grad, same_counts, 8, 0.0f), 0);

    tape_reset(&tape);
    tensor_zero_grad(x);
    const float causal_counts[4 * 2] = {3, 3, 3, 3, 2, 2, 1, 1};
    backward_from(&tape, op_windows(&tape, x, 3, 2, 0), ones);
    assert_int_equal(count_mismatches("windows causal grad", x->grad, causal_counts, 8, 0.0f), 0);

    tensor_free(x);
    tape_free(&tape);
}

/* Arguments of op_windows for a gradient check. */
typedef struct WindowsCase {
    int k, pad_left, pad_right;
} WindowsCase;

static Tensor *run_windows(Tape *tape, Tensor **inputs, void *context)
{
    const WindowsCase *c = context;
    return op_windows(tape, inputs[0], c->k, c->pad_left, c->pad_right);
}

static void test_windows_gradcheck(void **state)
{
    (void)state;
    Tensor *x = new_random(shape3(2, 4, 5), true, 41);

    WindowsCase same = {3, 1, 1}, causal = {3, 2, 0}, unpadded = {2, 0, 0};
    assert_gradcheck("windows k=3 same", run_windows, &x, 1, &same);
    assert_gradcheck("windows k=3 causal", run_windows, &x, 1, &causal);
    assert_gradcheck("windows k=2 unpadded", run_windows, &x, 1, &unpadded);

    /* More padding than k: the first windows contain padding only. */
    WindowsCase wide = {2, 3, 1};
    assert_gradcheck("windows k=2 pad 3,1", run_windows, &x, 1, &wide);

    Tensor *flat = new_random(shape2(3, 5), true, 42);
    assert_gradcheck("windows [n, D]", run_windows, &flat, 1, &same);

    tensor_free(flat);
    tensor_free(x);
}

static void call_windows_k_above_padded_length(void)
{
    static Tape tape;
    static Tensor *x;
    tape_init(&tape);
    x = tensor_new(shape3(1, 2, 3), false);
    op_windows(&tape, x, 5, 1, 1);
}

static void test_windows_k_above_padded_length_stops(void **state)
{
    (void)state;
    /* 2 words and 2 padding vectors are too few for a window of 5. */
    expect_fatal(call_windows_k_above_padded_length,
                 "windows: n + pad_left + pad_right - k + 1 = 0");
}

/* ------------------------------------------------------------------------- */
/* Convolution                                                                 */
/* ------------------------------------------------------------------------- */

/*
 * Changes word j of x [1, n, Din] for every j and asserts that output t of
 * the convolution changes exactly where in_field(t, j) holds. The weights
 * are random, so an output inside the field changes with probability 1.
 */
static void assert_receptive_field(ConvPadding padding, bool (*in_field)(int t, int j))
{
    enum { LENGTH = 6, DIN = 2, DOUT = 3, K = 3 };
    Tape tape;
    tape_init(&tape);
    Tensor *x = new_random(shape3(1, LENGTH, DIN), false, 51);
    Tensor *w = new_random(shape2(DOUT, K * DIN), false, 52);
    Tensor *bias = new_random(shape1(DOUT), false, 53);

    float base[LENGTH * DOUT];
    Tensor *y = op_conv1d(&tape, x, w, bias, K, padding);
    assert_shape(y, shape3(1, LENGTH, DOUT));
    memcpy(base, y->data, sizeof base);

    for (int j = 0; j < LENGTH; j++) {
        tape_reset(&tape);
        for (int d = 0; d < DIN; d++)
            x->data[j * DIN + d] += 0.5f;
        y = op_conv1d(&tape, x, w, bias, K, padding);
        for (int d = 0; d < DIN; d++)
            x->data[j * DIN + d] -= 0.5f;

        for (int t = 0; t < LENGTH; t++) {
            bool changed = false;
            for (int o = 0; o < DOUT; o++)
                changed |= y->data[t * DOUT + o] != base[t * DOUT + o];
            if (changed != in_field(t, j))
                fprintf(stderr, "conv1d: changing word %d %s output %d\n", j,
                        changed ? "changed" : "did not change", t);
            assert_int_equal(changed, in_field(t, j));
        }
    }

    tensor_free(bias);
    tensor_free(w);
    tensor_free(x);
    tape_free(&tape);
}

static bool in_same_field(int t, int j) { return abs(t - j) <= 1; }
static bool in_causal_field(int t, int j) { return t - j >= 0 && t - j <= 2; }

static void test_conv1d_same_receptive_field(void **state)
{
    (void)state;
    /* k = 3 centred: output t reads words t-1, t, t+1. */
    assert_receptive_field(CONV_SAME, in_same_field);
}

static void test_conv1d_causal_receptive_field(void **state)
{
    (void)state;
    /* k = 3 causal: output t reads words t-2, t-1, t, never a later one. */
    assert_receptive_field(CONV_CAUSAL, in_causal_field);
}

/* Arguments of op_conv1d for a gradient check. */
typedef struct ConvCase {
    int k;
    ConvPadding padding;
} ConvCase;

static Tensor *run_conv1d(Tape *tape, Tensor **inputs, void *context)
{
    const ConvCase *c = context;
    return op_conv1d(tape, inputs[0], inputs[1], inputs[2], c->k, c->padding);
}

static void test_conv1d_gradcheck(void **state)
{
    (void)state;
    /* x [2, 4, 3], w [5, 3*3], bias [5]: every input carries a gradient. */
    Tensor *inputs[3] = {
        new_random(shape3(2, 4, 3), true, 61),
        new_random(shape2(5, 9), true, 62),
        new_random(shape1(5), true, 63),
    };
    ConvCase same = {3, CONV_SAME}, causal = {3, CONV_CAUSAL};
    assert_gradcheck("conv1d k=3 same", run_conv1d, inputs, 3, &same);
    assert_gradcheck("conv1d k=3 causal", run_conv1d, inputs, 3, &causal);

    for (int i = 0; i < 3; i++)
        tensor_free(inputs[i]);
}

static void call_conv1d_even_k_same(void)
{
    static Tape tape;
    static Tensor *x;
    static Tensor *w;
    tape_init(&tape);
    x = tensor_new(shape3(1, 4, 2), false);
    w = tensor_new(shape2(3, 8), false);
    op_conv1d(&tape, x, w, NULL, 4, CONV_SAME);
}

static void test_conv1d_even_k_same_stops(void **state)
{
    (void)state;
    expect_fatal(call_conv1d_even_k_same, "conv1d: CONV_SAME needs an odd k");
}

static void call_conv1d_wrong_weight_width(void)
{
    static Tape tape;
    static Tensor *x;
    static Tensor *w;
    tape_init(&tape);
    x = tensor_new(shape3(1, 4, 2), false);
    w = tensor_new(shape2(3, 5), false);
    op_conv1d(&tape, x, w, NULL, 3, CONV_CAUSAL);
}

static void test_conv1d_wrong_weight_width_stops(void **state)
{
    (void)state;
    expect_fatal(call_conv1d_wrong_weight_width, "conv1d: expects w [Dout, k*Din] = [Dout, 6]");
}

/* ------------------------------------------------------------------------- */
/* Pairwise                                                                    */
/* ------------------------------------------------------------------------- */

static void test_pairwise_two_vectors_hand(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    const float values[2 * 2] = {1, 2, 3, 4}; /* a = (1, 2), b = (3, 4) */
    Tensor *x = new_filled(shape3(1, 2, 2), false, values);

    /* By hand, pair q*2 + k is [x_q ; x_k]: [a;a], [a;b], [b;a], [b;b]. */
    const float expected[4 * 4] = {
        1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 3, 4, 3, 4,
    };
    Tensor *out = op_pairwise(&tape, x);
    assert_shape(out, shape3(1, 4, 4));
    assert_int_equal(count_mismatches("pairwise", out->data, expected, 16, 0.0f), 0);

    tensor_free(x);
    tape_free(&tape);
}

static void test_pairwise_backward_hand(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    Tensor *x = tensor_new(shape3(1, 2, 1), true);

    /* dout of pairs (0,0), (0,1), (1,0), (1,1), each [first half ; second half]. */
    const float dout[4 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};
    backward_from(&tape, op_pairwise(&tape, x), dout);

    /*
     * By hand: dx_0 = first halves of (0,0), (0,1) + second halves of (0,0), (1,0)
     *               = 1 + 3 + 2 + 6 = 12;
     *          dx_1 = first halves of (1,0), (1,1) + second halves of (0,1), (1,1)
     *               = 5 + 7 + 4 + 8 = 24.
     */
    const float expected[2] = {12, 24};
    assert_int_equal(count_mismatches("pairwise grad", x->grad, expected, 2, 0.0f), 0);

    tensor_free(x);
    tape_free(&tape);
}

static Tensor *run_pairwise(Tape *tape, Tensor **inputs, void *context)
{
    (void)context;
    return op_pairwise(tape, inputs[0]);
}

static void test_pairwise_gradcheck(void **state)
{
    (void)state;
    Tensor *x = new_random(shape3(2, 3, 5), true, 71);
    assert_gradcheck("pairwise [2, 3, 5]", run_pairwise, &x, 1, NULL);
    tensor_free(x);

    Tensor *flat = new_random(shape2(4, 5), true, 72);
    assert_gradcheck("pairwise [4, 5]", run_pairwise, &flat, 1, NULL);
    tensor_free(flat);
}

static void call_pairwise_count_overflows_int(void)
{
    static Tape tape;
    static Tensor *x;
    tape_init(&tape);
    /* 46341 * 46341 > INT_MAX = 2147483647. */
    x = tensor_new(shape3(1, 46341, 1), false);
    op_pairwise(&tape, x);
}

static void test_pairwise_count_overflow_stops(void **state)
{
    (void)state;
    expect_fatal(call_pairwise_count_overflows_int,
                 "pairwise: m * m = 46341 * 46341 overflows int");
}

/* ------------------------------------------------------------------------- */
/* Column sum                                                                  */
/* ------------------------------------------------------------------------- */

static void test_column_sum_hand_grid(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);

    /* Two sentences with n = 2 and D = 2. Pair q*2 + k is the row below. */
    const float values[2 * 4 * 2] = {
        1, 10, 2, 20, 3, 30, 4,  40, /* sentence 0: pairs (0,0) (0,1) (1,0) (1,1) */
        5, 0,  0, 5,  1, 1,  -1, 2,  /* sentence 1 */
    };
    Tensor *x = new_filled(shape3(2, 4, 2), false, values);

    /* By hand: out_q = x[q*2] + x[q*2 + 1]. */
    const float expected[2 * 2 * 2] = {3, 30, 7, 70, 5, 5, 0, 3};
    Tensor *out = op_column_sum(&tape, x);
    assert_shape(out, shape3(2, 2, 2));
    assert_int_equal(count_mismatches("column_sum", out->data, expected, 8, 0.0f), 0);

    tensor_free(x);
    tape_free(&tape);
}

static Tensor *run_column_sum(Tape *tape, Tensor **inputs, void *context)
{
    (void)context;
    return op_column_sum(tape, inputs[0]);
}

static void test_column_sum_gradcheck(void **state)
{
    (void)state;
    Tensor *x = new_random(shape3(2, 9, 5), true, 81);
    assert_gradcheck("column_sum [2, 9, 5]", run_column_sum, &x, 1, NULL);
    tensor_free(x);

    Tensor *flat = new_random(shape2(16, 3), true, 82);
    assert_gradcheck("column_sum [16, 3]", run_column_sum, &flat, 1, NULL);
    tensor_free(flat);
}

static void test_column_sum_of_pairwise_identity(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    Tensor *x = new_random(shape3(2, 3, 4), false, 83);

    /*
     * Identity: column q of pairwise(x) is the pairs [x_q ; x_k] for
     * k = 0..m-1, so its sum is [m x_q ; sum_k x_k].
     */
    Tensor *sums = op_column_sum(&tape, op_pairwise(&tape, x));
    assert_shape(sums, shape3(2, 3, 8));
    float expected[2 * 3 * 8];
    for (int b = 0; b < 2; b++) {
        for (int q = 0; q < 3; q++) {
            const float *sentence = x->data + b * 12;
            float *row = expected + (b * 3 + q) * 8;
            for (int d = 0; d < 4; d++) {
                row[d] = 3.0f * sentence[q * 4 + d];
                row[4 + d] = sentence[d] + sentence[4 + d] + sentence[8 + d];
            }
        }
    }
    assert_int_equal(count_mismatches("column_sum of pairwise", sums->data, expected, 48, 1e-5f),
                     0);

    tensor_free(x);
    tape_free(&tape);
}

static void call_column_sum_not_square(void)
{
    static Tape tape;
    static Tensor *x;
    tape_init(&tape);
    x = tensor_new(shape3(2, 8, 3), false);
    op_column_sum(&tape, x);
}

static void test_column_sum_not_square_stops(void **state)
{
    (void)state;
    expect_fatal(call_column_sum_not_square, "column_sum: expects x [B, n*n, D] whose middle "
                                             "dimension is a perfect square, got [2, 8, 3]");
}

/* ------------------------------------------------------------------------- */
/* Rules shared by every op                                                    */
/* ------------------------------------------------------------------------- */

static void test_ops_without_gradient_record_nothing(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    Tensor *x = new_random(shape3(2, 4, 3), false, 91);
    Tensor *grid = new_random(shape3(2, 9, 3), false, 92);
    Tensor *table = new_random(shape2(5, 3), false, 93);
    const int ids[2] = {4, 1};

    /* No input has a gradient, so no output gets one and the tape stays empty. */
    assert_null(op_embedding(&tape, table, ids, 2)->grad);
    assert_null(op_mean_positions(&tape, x)->grad);
    assert_null(op_windows(&tape, x, 3, 1, 1)->grad);
    assert_null(op_pairwise(&tape, x)->grad);
    assert_null(op_column_sum(&tape, grid)->grad);
    assert_int_equal(tape.count, 0);

    tensor_free(table);
    tensor_free(grid);
    tensor_free(x);
    tape_free(&tape);
}

static void test_ops_with_grad_disabled_record_nothing(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *x = new_random(shape3(2, 4, 3), true, 94);

    /* Inference: inputs have gradients but the tape records nothing. */
    assert_null(op_mean_positions(&tape, x)->grad);
    assert_null(op_windows(&tape, x, 3, 2, 0)->grad);
    assert_null(op_pairwise(&tape, x)->grad);
    assert_int_equal(tape.count, 0);

    tensor_free(x);
    tape_free(&tape);
}

/*
 * Runs the ops with parallel loops forward and backward on inputs large
 * enough to use threads, and copies outputs and gradients into @p results.
 */
static size_t run_parallel_ops(Tensor *x, Tensor *grid, float *results)
{
    Tape tape;
    tape_init(&tape);
    Tensor *outs[4] = {
        op_windows(&tape, x, 3, 1, 1),
        op_pairwise(&tape, x),
        op_mean_positions(&tape, x),
        op_column_sum(&tape, grid),
    };
    tensor_zero_grad(x);
    tensor_zero_grad(grid);

    /* Seed every output's gradient with its own values; backward runs newest first. */
    for (int i = 0; i < 4; i++)
        memcpy(outs[i]->grad, outs[i]->data, outs[i]->size * sizeof(float));
    for (size_t e = tape.count; e-- > 0;)
        tape.entries[e].backward(&tape.entries[e]);

    size_t used = 0;
    for (int i = 0; i < 4; i++) {
        memcpy(results + used, outs[i]->data, outs[i]->size * sizeof(float));
        used += outs[i]->size;
    }
    memcpy(results + used, x->grad, x->size * sizeof(float));
    used += x->size;
    memcpy(results + used, grid->grad, grid->size * sizeof(float));
    used += grid->size;
    tape_free(&tape);
    return used;
}

static void test_ops_match_across_thread_counts(void **state)
{
    (void)state;
    /* Sizes above the one-thread limit of every loop; without OpenMP both runs use one thread. */
    Tensor *x = new_random(shape3(8, 32, 128), true, 95);
    Tensor *grid = new_random(shape3(4, 256, 32), true, 96);

    /* Outputs of windows, pairwise, mean and column sum, then the gradients of x and grid. */
    size_t capacity = (size_t)8 * 32 * (3 * 128) + (size_t)8 * (32 * 32) * (2 * 128) + 8 * 128 +
                      4 * 16 * 32 + x->size + grid->size;
    float *one_thread = malloc(capacity * sizeof(float));
    float *two_threads = malloc(capacity * sizeof(float));
    assert_non_null(one_thread);
    assert_non_null(two_threads);
    int default_threads = core_threads();

    core_set_threads(1);
    size_t count = run_parallel_ops(x, grid, one_thread);
    core_set_threads(2);
    size_t count_two = run_parallel_ops(x, grid, two_threads);
    core_set_threads(default_threads);

    assert_int_equal(count, capacity);
    assert_int_equal(count_two, capacity);
    assert_int_equal(count_mismatches("1 vs 2 threads", two_threads, one_thread, count, 0.0f), 0);

    free(two_threads);
    free(one_thread);
    tensor_free(grid);
    tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onehot_rows_hand),
        cmocka_unit_test(test_onehot_records_no_gradient),
        cmocka_unit_test(test_onehot_id_out_of_range_stops),
        cmocka_unit_test(test_embedding_rows_hand),
        cmocka_unit_test(test_embedding_backward_adds_repeated_rows),
        cmocka_unit_test(test_embedding_matches_onehot_matmul),
        cmocka_unit_test(test_embedding_gradcheck),
        cmocka_unit_test(test_embedding_id_out_of_range_stops),
        cmocka_unit_test(test_mean_positions_hand),
        cmocka_unit_test(test_mean_positions_one_sentence_hand),
        cmocka_unit_test(test_mean_positions_gradcheck),
        cmocka_unit_test(test_mean_positions_4d_stops),
        cmocka_unit_test(test_windows_same_padding_hand),
        cmocka_unit_test(test_windows_causal_padding_hand),
        cmocka_unit_test(test_windows_without_padding_shape),
        cmocka_unit_test(test_windows_backward_counts_hand),
        cmocka_unit_test(test_windows_gradcheck),
        cmocka_unit_test(test_windows_k_above_padded_length_stops),
        cmocka_unit_test(test_conv1d_same_receptive_field),
        cmocka_unit_test(test_conv1d_causal_receptive_field),
        cmocka_unit_test(test_conv1d_gradcheck),
        cmocka_unit_test(test_conv1d_even_k_same_stops),
        cmocka_unit_test(test_conv1d_wrong_weight_width_stops),
        cmocka_unit_test(test_pairwise_two_vectors_hand),
        cmocka_unit_test(test_pairwise_backward_hand),
        cmocka_unit_test(test_pairwise_gradcheck),
        cmocka_unit_test(test_pairwise_count_overflow_stops),
        cmocka_unit_test(test_column_sum_hand_grid),
        cmocka_unit_test(test_column_sum_gradcheck),
        cmocka_unit_test(test_column_sum_of_pairwise_identity),
        cmocka_unit_test(test_column_sum_not_square_stops),
        cmocka_unit_test(test_ops_without_gradient_record_nothing),
        cmocka_unit_test(test_ops_with_grad_disabled_record_nothing),
        cmocka_unit_test(test_ops_match_across_thread_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
