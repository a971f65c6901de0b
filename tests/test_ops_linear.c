/*
 * Tests of matmul, linear, add, mul, scale, concat and reshape: hand-computed
 * forward values, a naive reference product, gradient checks on non-square
 * shapes, thread-count independence and the shape errors.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

/* ------------------------------------------------------------------------- */
/* Helpers                                                                     */
/* ------------------------------------------------------------------------- */

/* Gradient-checks a two-input op and asserts that every element matches and some are non-zero. */
static void assert_gradients_match(const char *label, GradcheckFn f, Tensor *a, Tensor *b,
                                   void *context)
{
    Tensor *inputs[] = {a, b};
    GradcheckResult result = checks_gradients(label, f, inputs, b ? 2 : 1, context);
    assert_int_equal(result.mismatches, 0);
    assert_false(result.all_zero);
}

typedef struct MatmulFlags {
    bool trans_a;
    bool trans_b;
} MatmulFlags;

static const MatmulFlags ALL_TRANSPOSES[4] = {
    {false, false}, {false, true}, {true, false}, {true, true}};

static Tensor *build_matmul(Tape *tape, Tensor **in, void *context)
{
    const MatmulFlags *flags = context;
    return op_matmul(tape, in[0], in[1], flags->trans_a, flags->trans_b);
}

/*
 * Returns the shape of a stored matrix operand: the leading dimensions of
 * `lead` (its first lead_ndim entries) followed by [rows, cols], or
 * [cols, rows] when transposed.
 */
static Shape operand_shape(Shape lead, int lead_ndim, int rows, int cols, bool transposed)
{
    Shape shape = lead;
    shape.ndim = lead_ndim + 2;
    shape.dim[lead_ndim] = transposed ? cols : rows;
    shape.dim[lead_ndim + 1] = transposed ? rows : cols;
    return shape;
}

/*
 * Gradient-checks op_matmul for every transpose combination on op(a) [..., m, k]
 * and op(b) [..., k, n], both with the leading dimensions of `lead`.
 */
static void check_matmul_all_transposes(Shape lead, int lead_ndim, int m, int k, int n)
{
    for (int c = 0; c < 4; c++) {
        MatmulFlags flags = ALL_TRANSPOSES[c];
        Tensor *a = checks_random_tensor(operand_shape(lead, lead_ndim, m, k, flags.trans_a), 11);
        Tensor *b = checks_random_tensor(operand_shape(lead, lead_ndim, k, n, flags.trans_b), 12);
        char label[64];
        snprintf(label, sizeof label, "matmul %dd trans_a=%d trans_b=%d", lead_ndim + 2,
                 flags.trans_a, flags.trans_b);

        assert_gradients_match(label, build_matmul, a, b, &flags);
        tensor_free(a);
        tensor_free(b);
    }
}

/*
 * Computes op(a) op(b) for one [m, k] x [k, n] product in double with the
 * textbook triple loop: the independent reference for the tiled kernel.
 */
static void naive_product(const float *a, const float *b, float *out, int m, int k, int n,
                          MatmulFlags flags)
{
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            for (int p = 0; p < k; p++) {
                float a_ip = flags.trans_a ? a[p * m + i] : a[i * k + p];
                float b_pj = flags.trans_b ? b[j * k + p] : b[p * n + j];
                sum += (double)a_ip * b_pj;
            }
            out[i * n + j] = (float)sum;
        }
    }
}

/*
 * Operands of a call that is expected to stop the program. They are made in
 * the parent process, so that in the child, which stops inside the call,
 * they are still reachable and the leak checker of a sanitizer build stays quiet.
 */
typedef struct BadCall {
    Tape tape;
    Tensor *a;
    Tensor *b;
    bool trans_a;
    Shape new_shape; /* for reshape: the shape of b */
} BadCall;

static void call_matmul(void *context)
{
    BadCall *call = context;
    op_matmul(&call->tape, call->a, call->b, call->trans_a, false);
}

static void call_linear(void *context)
{
    BadCall *call = context;
    op_linear(&call->tape, call->a, call->b, NULL);
}

static void call_add(void *context)
{
    BadCall *call = context;
    op_add(&call->tape, call->a, call->b);
}

static void call_mul(void *context)
{
    BadCall *call = context;
    op_mul(&call->tape, call->a, call->b);
}

static void call_concat(void *context)
{
    BadCall *call = context;
    op_concat(&call->tape, call->a, call->b);
}

static void call_reshape(void *context)
{
    BadCall *call = context;
    op_reshape(&call->tape, call->a, call->new_shape);
}

/* Asserts that fn on tensors of shapes a and b stops the program with a message containing
 * expected. */
static void assert_stops(ChecksFatalFn fn, Shape a, Shape b, bool trans_a, const char *expected)
{
    BadCall call = {
        .a = tensor_new(a, false), .b = tensor_new(b, false), .trans_a = trans_a, .new_shape = b};
    tape_init(&call.tape);

    bool stopped = checks_fatal(expected, fn, &call, expected);

    tape_free(&call.tape);
    tensor_free(call.a);
    tensor_free(call.b);
    assert_true(stopped);
}

/* ------------------------------------------------------------------------- */
/* matmul                                                                      */
/* ------------------------------------------------------------------------- */

static void test_matmul_hand_values_all_transposes(void **state)
{
    (void)state;
    /*
     * A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]], products worked out by hand:
     * A B = [[19, 22], [43, 50]]    A B^T = [[17, 23], [39, 53]]
     * A^T B = [[26, 30], [38, 44]]  A^T B^T = [[23, 31], [34, 46]]
     */
    static const float expected[4][4] = {
        {19, 22, 43, 50}, {17, 23, 39, 53}, {26, 30, 38, 44}, {23, 31, 34, 46}};
    Tensor *a = checks_tensor_from(shape2(2, 2), (const float[]){1, 2, 3, 4}, false);
    Tensor *b = checks_tensor_from(shape2(2, 2), (const float[]){5, 6, 7, 8}, false);
    Tape tape;
    tape_init(&tape);

    for (int c = 0; c < 4; c++) {
        Tensor *out = op_matmul(&tape, a, b, ALL_TRANSPOSES[c].trans_a, ALL_TRANSPOSES[c].trans_b);
        assert_true(checks_near("matmul 2x2", out->data, expected[c], 4, 0.0f, 0.0f));
    }

    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
}

static void test_matmul_hand_values_non_square(void **state)
{
    (void)state;
    /* [[1, 2, 3], [0, 1, 0]] [[1, 0], [0, 1], [1, 1]] = [[1 + 3, 2 + 3], [0, 1]] by hand. */
    Tensor *a = checks_tensor_from(shape2(2, 3), (const float[]){1, 2, 3, 0, 1, 0}, false);
    Tensor *b = checks_tensor_from(shape2(3, 2), (const float[]){1, 0, 0, 1, 1, 1}, false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_matmul(&tape, a, b, false, false);
    assert_int_equal(out->shape.ndim, 2);
    assert_int_equal(out->shape.dim[0], 2);
    assert_int_equal(out->shape.dim[1], 2);
    assert_true(checks_near("matmul 2x3 3x2", out->data, (const float[]){4, 5, 0, 1}, 4, 0, 0));

    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
}

/* Asserts that op_matmul matches naive_product on an [m, k] x [k, n] product in every transpose
 * combination. */
static void assert_matches_naive(int m, int k, int n, float tol_abs)
{
    Tape tape;
    tape_init(&tape);

    for (int c = 0; c < 4; c++) {
        MatmulFlags flags = ALL_TRANSPOSES[c];
        Tensor *a = checks_random_tensor(flags.trans_a ? shape2(k, m) : shape2(m, k), 21);
        Tensor *b = checks_random_tensor(flags.trans_b ? shape2(n, k) : shape2(k, n), 22);
        float *expected = malloc((size_t)m * (size_t)n * sizeof(float));
        assert_non_null(expected);
        naive_product(a->data, b->data, expected, m, k, n, flags);

        Tensor *out = op_matmul(&tape, a, b, flags.trans_a, flags.trans_b);
        char label[64];
        snprintf(label, sizeof label, "matmul %dx%dx%d trans_a=%d trans_b=%d vs naive", m, k, n,
                 flags.trans_a, flags.trans_b);
        bool near = checks_near(label, out->data, expected, (size_t)m * (size_t)n, tol_abs, 1e-5f);

        free(expected);
        tensor_free(a);
        tensor_free(b);
        assert_true(near);
    }
    tape_free(&tape);
}

static void test_matmul_matches_naive_reference(void **state)
{
    (void)state;
    /* 37 x 33 x 70 leaves partial register tiles (8 x 32) in every direction. */
    assert_matches_naive(37, 33, 70, 1e-5f);
    /* 270 rows span two row blocks (256), and k = 300 spans three chunks of the sum (128). */
    assert_matches_naive(270, 300, 40, 1e-4f);
}

static void test_matmul_batched_matches_naive_reference(void **state)
{
    (void)state;
    enum { BATCHES = 3, M = 13, K = 9, N = 40 };
    Tape tape;
    tape_init(&tape);

    for (int c = 0; c < 4; c++) {
        MatmulFlags flags = ALL_TRANSPOSES[c];
        Tensor *a =
            checks_random_tensor(flags.trans_a ? shape3(BATCHES, K, M) : shape3(BATCHES, M, K), 31);
        Tensor *b =
            checks_random_tensor(flags.trans_b ? shape3(BATCHES, N, K) : shape3(BATCHES, K, N), 32);
        float expected[BATCHES * M * N];
        for (int t = 0; t < BATCHES; t++)
            naive_product(a->data + t * M * K, b->data + t * K * N, expected + t * M * N, M, K, N,
                          flags);

        Tensor *out = op_matmul(&tape, a, b, flags.trans_a, flags.trans_b);
        assert_int_equal(out->shape.ndim, 3);
        assert_int_equal(out->shape.dim[1], M);
        assert_int_equal(out->shape.dim[2], N);
        assert_true(checks_near("batched matmul vs naive", out->data, expected, BATCHES * M * N,
                                1e-5f, 1e-5f));
        tensor_free(a);
        tensor_free(b);
    }
    tape_free(&tape);
}

static void test_matmul_folds_leading_dims_into_rows(void **state)
{
    (void)state;
    /* a [2, 3, 4] times b [4, 5] equals a seen as [6, 4] times b (naive reference). */
    Tensor *a = checks_random_tensor(shape3(2, 3, 4), 41);
    Tensor *b = checks_random_tensor(shape2(4, 5), 42);
    float expected[6 * 5];
    naive_product(a->data, b->data, expected, 6, 4, 5, (MatmulFlags){false, false});
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_matmul(&tape, a, b, false, false);
    assert_int_equal(out->shape.ndim, 3);
    assert_int_equal(out->shape.dim[0], 2);
    assert_int_equal(out->shape.dim[1], 3);
    assert_int_equal(out->shape.dim[2], 5);
    assert_true(checks_near("folded matmul", out->data, expected, 30, 1e-6f, 1e-6f));

    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
}

static void test_matmul_grad_2d_all_transposes(void **state)
{
    (void)state;
    check_matmul_all_transposes(shape1(1), 0, 3, 4, 5);
}

static void test_matmul_grad_2d_across_tiles(void **state)
{
    (void)state;
    /* 11 rows and 35 columns leave partial tiles in both directions. */
    check_matmul_all_transposes(shape1(1), 0, 11, 6, 35);
}

static void test_matmul_grad_batched_3d(void **state)
{
    (void)state;
    check_matmul_all_transposes(shape1(2), 1, 3, 4, 5);
}

static void test_matmul_grad_batched_4d(void **state)
{
    (void)state;
    check_matmul_all_transposes(shape2(2, 3), 2, 3, 2, 5);
}

static void test_matmul_grad_folded_rows(void **state)
{
    (void)state;
    for (int trans_b = 0; trans_b < 2; trans_b++) {
        MatmulFlags flags = {false, trans_b};
        Tensor *a = checks_random_tensor(shape3(2, 3, 4), 51);
        Tensor *b = checks_random_tensor(trans_b ? shape2(5, 4) : shape2(4, 5), 52);
        assert_gradients_match("matmul folded", build_matmul, a, b, &flags);
        tensor_free(a);
        tensor_free(b);
    }
}

/*
 * Runs forward and backward of one product with the given thread count and
 * returns copies of the output and of a's gradient; the caller frees them.
 */
static void run_matmul_with_threads(int threads, Shape a_shape, Shape b_shape, MatmulFlags flags,
                                    float **out_copy, float **grad_a_copy, size_t *out_size)
{
    core_set_threads(threads);
    Tensor *a = checks_random_tensor(a_shape, 61);
    Tensor *b = checks_random_tensor(b_shape, 62);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_matmul(&tape, a, b, flags.trans_a, flags.trans_b);
    unsigned seed = 63;
    for (size_t i = 0; i < out->size; i++)
        out->grad[i] = checks_next_unit(&seed) - 0.5f;
    for (size_t e = tape.count; e-- > 0;)
        tape.entries[e].backward(&tape.entries[e]);

    *out_size = out->size;
    *out_copy = malloc(out->size * sizeof(float));
    *grad_a_copy = malloc(a->size * sizeof(float));
    assert_non_null(*out_copy);
    assert_non_null(*grad_a_copy);
    memcpy(*out_copy, out->data, out->size * sizeof(float));
    memcpy(*grad_a_copy, a->grad, a->size * sizeof(float));

    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
}

/*
 * Asserts that forward and backward of one product give the same bits with
 * 1 and 2 threads. Built with BLAS=openblas it compares two runs with 2
 * threads instead: OpenBLAS 0.3.21 may sum in another order for another
 * thread count (seen in CI on a 2-core machine), so only the same thread
 * count promises the same bits there.
 */
static void assert_same_bits_any_threads(Shape a_shape, Shape b_shape, MatmulFlags flags)
{
    int saved_threads = core_threads();
    float *out1, *grad1, *out2, *grad2;
    size_t size1, size2;
#ifdef CORE_BLAS_OPENBLAS
    int first_threads = 2;
#else
    int first_threads = 1;
#endif
    run_matmul_with_threads(first_threads, a_shape, b_shape, flags, &out1, &grad1, &size1);
    run_matmul_with_threads(2, a_shape, b_shape, flags, &out2, &grad2, &size2);
    core_set_threads(saved_threads);

    size_t a_size;
    assert_true(shape_count(a_shape, &a_size));
    assert_int_equal(size1, size2);
    assert_memory_equal(out1, out2, size1 * sizeof(float));
    assert_memory_equal(grad1, grad2, a_size * sizeof(float));
    free(out1);
    free(grad1);
    free(out2);
    free(grad2);
}

static void test_matmul_same_bits_any_thread_count(void **state)
{
    (void)state;
    /* Each case has over 2^21 multiply-adds, the least that the kernel spreads over threads. */
    /* 600 x 64 x 100: many tiles and two row blocks. */
    assert_same_bits_any_threads(shape2(600, 64), shape2(100, 64), (MatmulFlags){false, true});
    /* A short output with a long sum (k = 4000): the weight-gradient shape. */
    assert_same_bits_any_threads(shape2(4000, 24), shape2(4000, 40), (MatmulFlags){true, false});
    /* 256 small products, spread over the threads one product each. */
    assert_same_bits_any_threads(shape3(256, 30, 16), shape3(256, 30, 16),
                                 (MatmulFlags){false, true});
}

static void test_matmul_inner_mismatch_stops(void **state)
{
    (void)state;
    assert_stops(call_matmul, shape2(3, 4), shape2(5, 6), false,
                 "matmul: shapes [3, 4] and [5, 6] do not fit");
}

static void test_matmul_batch_mismatch_stops(void **state)
{
    (void)state;
    assert_stops(call_matmul, shape3(2, 3, 4), shape3(3, 4, 5), false,
                 "matmul: shapes [2, 3, 4] and [3, 4, 5] do not fit");
}

static void test_matmul_folded_trans_a_stops(void **state)
{
    (void)state;
    assert_stops(call_matmul, shape3(2, 4, 3), shape2(4, 5), true, "trans_a needs a 2-D a");
}

/* ------------------------------------------------------------------------- */
/* linear                                                                      */
/* ------------------------------------------------------------------------- */

static Tensor *build_linear(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_linear(tape, in[0], in[1], NULL);
}

static Tensor *build_linear_with_bias(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_linear(tape, in[0], in[1], in[2]);
}

static void test_linear_hand_values(void **state)
{
    (void)state;
    /* x = [1, 2], w rows [1, 1], [2, -1], [0, 3], bias [0.5, 0, -1]:
     * out = [1 + 2 + 0.5, 2 - 2 + 0, 0 + 6 - 1] = [3.5, 0, 5] by hand. */
    Tensor *x = checks_tensor_from(shape2(1, 2), (const float[]){1, 2}, false);
    Tensor *w = checks_tensor_from(shape2(3, 2), (const float[]){1, 1, 2, -1, 0, 3}, false);
    Tensor *bias = checks_tensor_from(shape1(3), (const float[]){0.5f, 0, -1}, false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_linear(&tape, x, w, bias);
    assert_true(checks_near("linear", out->data, (const float[]){3.5f, 0, 5}, 3, 0, 0));
    Tensor *no_bias = op_linear(&tape, x, w, NULL);
    assert_true(
        checks_near("linear without bias", no_bias->data, (const float[]){3, 0, 6}, 3, 0, 0));

    tape_free(&tape);
    tensor_free(x);
    tensor_free(w);
    tensor_free(bias);
}

static void test_linear_grad_with_bias(void **state)
{
    (void)state;
    Tensor *x = checks_random_tensor(shape3(2, 3, 4), 71);
    Tensor *w = checks_random_tensor(shape2(5, 4), 72);
    Tensor *bias = checks_random_tensor(shape1(5), 73);
    Tensor *inputs[] = {x, w, bias};

    GradcheckResult result = checks_gradients("linear", build_linear_with_bias, inputs, 3, NULL);
    assert_int_equal(result.mismatches, 0);
    assert_false(result.all_zero);

    tensor_free(x);
    tensor_free(w);
    tensor_free(bias);
}

static void test_linear_grad_without_bias(void **state)
{
    (void)state;
    Tensor *x = checks_random_tensor(shape2(3, 4), 74);
    Tensor *w = checks_random_tensor(shape2(2, 4), 75);
    assert_gradients_match("linear without bias", build_linear, x, w, NULL);
    tensor_free(x);
    tensor_free(w);
}

static void test_linear_mismatch_stops(void **state)
{
    (void)state;
    assert_stops(call_linear, shape2(3, 4), shape2(2, 5), false,
                 "linear: shapes [3, 4] and [2, 5] do not fit");
}

/* ------------------------------------------------------------------------- */
/* add, mul, scale                                                             */
/* ------------------------------------------------------------------------- */

static Tensor *build_add(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_add(tape, in[0], in[1]);
}

static Tensor *build_mul(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_mul(tape, in[0], in[1]);
}

static Tensor *build_scale(Tape *tape, Tensor **in, void *context)
{
    return op_scale(tape, in[0], *(const float *)context);
}

static void test_add_hand_values_broadcast(void **state)
{
    (void)state;
    /* [[1, 2, 3], [4, 5, 6]] + [10, 20, 30] adds b to each row: by hand. */
    Tensor *a = checks_tensor_from(shape2(2, 3), (const float[]){1, 2, 3, 4, 5, 6}, false);
    Tensor *b = checks_tensor_from(shape1(3), (const float[]){10, 20, 30}, false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_add(&tape, a, b);
    assert_true(
        checks_near("add broadcast", out->data, (const float[]){11, 22, 33, 14, 25, 36}, 6, 0, 0));

    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
}

static void test_add_grad_same_shape(void **state)
{
    (void)state;
    Tensor *a = checks_random_tensor(shape2(3, 4), 81);
    Tensor *b = checks_random_tensor(shape2(3, 4), 82);
    assert_gradients_match("add", build_add, a, b, NULL);
    tensor_free(a);
    tensor_free(b);
}

static void test_add_grad_broadcast(void **state)
{
    (void)state;
    Tensor *a = checks_random_tensor(shape3(2, 3, 4), 83);
    Tensor *row = checks_random_tensor(shape1(4), 84);
    Tensor *matrix = checks_random_tensor(shape2(3, 4), 85);
    assert_gradients_match("add broadcast [4]", build_add, a, row, NULL);
    assert_gradients_match("add broadcast [3, 4]", build_add, a, matrix, NULL);
    tensor_free(a);
    tensor_free(row);
    tensor_free(matrix);
}

static void test_add_mismatch_stops(void **state)
{
    (void)state;
    assert_stops(call_add, shape2(2, 3), shape1(2), false, "add: shapes [2, 3] and [2]");
}

static void test_mul_hand_values(void **state)
{
    (void)state;
    Tensor *a = checks_tensor_from(shape1(3), (const float[]){1, 2, 3}, false);
    Tensor *b = checks_tensor_from(shape1(3), (const float[]){4, -5, 0.5f}, false);
    Tape tape;
    tape_init(&tape);

    /* [1 * 4, 2 * -5, 3 * 0.5] by hand. */
    Tensor *out = op_mul(&tape, a, b);
    assert_true(checks_near("mul", out->data, (const float[]){4, -10, 1.5f}, 3, 0, 0));

    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
}

static void test_mul_grad(void **state)
{
    (void)state;
    Tensor *a = checks_random_tensor(shape2(3, 5), 91);
    Tensor *b = checks_random_tensor(shape2(3, 5), 92);
    assert_gradients_match("mul", build_mul, a, b, NULL);
    tensor_free(a);
    tensor_free(b);
}

static void test_mul_mismatch_stops(void **state)
{
    (void)state;
    assert_stops(call_mul, shape2(2, 3), shape2(3, 2), false, "mul: shapes [2, 3] and [3, 2]");
}

static void test_scale_hand_values(void **state)
{
    (void)state;
    Tensor *x = checks_tensor_from(shape1(2), (const float[]){1, -2}, false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_scale(&tape, x, 3.0f);
    assert_true(checks_near("scale", out->data, (const float[]){3, -6}, 2, 0, 0));

    tape_free(&tape);
    tensor_free(x);
}

static void test_scale_grad(void **state)
{
    (void)state;
    Tensor *x = checks_random_tensor(shape2(2, 3), 93);
    float factor = -1.5f;
    assert_gradients_match("scale", build_scale, x, NULL, &factor);
    tensor_free(x);
}

/* ------------------------------------------------------------------------- */
/* concat, reshape                                                             */
/* ------------------------------------------------------------------------- */

static Tensor *build_concat(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_concat(tape, in[0], in[1]);
}

static void test_concat_hand_values(void **state)
{
    (void)state;
    /* Rows [1, 2] + [5] and [3, 4] + [6] become [1, 2, 5] and [3, 4, 6]. */
    Tensor *a = checks_tensor_from(shape2(2, 2), (const float[]){1, 2, 3, 4}, false);
    Tensor *b = checks_tensor_from(shape2(2, 1), (const float[]){5, 6}, false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_concat(&tape, a, b);
    assert_int_equal(out->shape.dim[1], 3);
    assert_true(checks_near("concat", out->data, (const float[]){1, 2, 5, 3, 4, 6}, 6, 0, 0));

    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
}

static void test_concat_grad(void **state)
{
    (void)state;
    Tensor *a = checks_random_tensor(shape3(2, 3, 2), 101);
    Tensor *b = checks_random_tensor(shape3(2, 3, 4), 102);
    assert_gradients_match("concat", build_concat, a, b, NULL);
    tensor_free(a);
    tensor_free(b);
}

static void test_concat_mismatch_stops(void **state)
{
    (void)state;
    assert_stops(call_concat, shape2(2, 3), shape2(3, 3), false,
                 "concat: shapes [2, 3] and [3, 3]");
}

static void test_reshape_shares_data_and_grad(void **state)
{
    (void)state;
    Tensor *x = checks_random_tensor(shape2(2, 6), 111);
    Tape tape;
    tape_init(&tape);

    Tensor *view = op_reshape(&tape, x, shape3(3, 2, 2));
    assert_ptr_not_equal(view, x);
    assert_ptr_equal(view->data, x->data);
    assert_ptr_equal(view->grad, x->grad);
    assert_int_equal(view->size, x->size);
    assert_int_equal(view->shape.ndim, 3);
    assert_int_equal(view->shape.dim[0], 3);
    assert_int_equal(x->shape.ndim, 2);
    assert_int_equal(tape.count, 0);

    tape_free(&tape);
    tensor_free(x);
}

/* x [2, 6] -> [3, 4], times w [4, 5], -> [15], times 0.5: gradients must pass both views. */
static Tensor *build_reshape_chain(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    Tensor *rows = op_reshape(tape, in[0], shape2(3, 4));
    Tensor *product = op_matmul(tape, rows, in[1], false, false);
    Tensor *flat = op_reshape(tape, product, shape1(15));
    return op_scale(tape, flat, 0.5f);
}

static void test_reshape_grad_in_chain(void **state)
{
    (void)state;
    Tensor *x = checks_random_tensor(shape2(2, 6), 112);
    Tensor *w = checks_random_tensor(shape2(4, 5), 113);
    assert_gradients_match("reshape chain", build_reshape_chain, x, w, NULL);
    tensor_free(x);
    tensor_free(w);
}

static void test_reshape_size_mismatch_stops(void **state)
{
    (void)state;
    assert_stops(call_reshape, shape2(2, 3), shape2(4, 2), false,
                 "reshape: shapes [2, 3] and [4, 2]");
}

/*
 * The tape counts the forward multiply-adds of products, by hand:
 * [2, 3] x [3, 4] is 2*4*3 = 24; a batched [2, 2, 3] x [2, 3, 5] is
 * 2*2*5*3 = 60; a linear layer on x [5, 3] with w [4, 3] is 5*4*3 = 60.
 */
static void test_tape_counts_multiply_adds(void **state)
{
    (void)state;
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    Tensor *a = tape_tensor(&tape, shape2(2, 3), false);
    Tensor *b = tape_tensor(&tape, shape2(3, 4), false);
    op_matmul(&tape, a, b, false, false);
    assert_int_equal(tape.multiply_adds, 24);

    Tensor *c = tape_tensor(&tape, shape3(2, 2, 3), false);
    Tensor *d = tape_tensor(&tape, shape3(2, 3, 5), false);
    op_matmul(&tape, c, d, false, false);
    assert_int_equal(tape.multiply_adds, 24 + 60);

    Tensor *x = tape_tensor(&tape, shape2(5, 3), false);
    Tensor *w = tape_tensor(&tape, shape2(4, 3), false);
    op_linear(&tape, x, w, NULL);
    assert_int_equal(tape.multiply_adds, 24 + 60 + 60);

    tape_reset(&tape);
    assert_int_equal(tape.multiply_adds, 0);
    tape_free(&tape);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_hand_values_all_transposes),
        cmocka_unit_test(test_matmul_hand_values_non_square),
        cmocka_unit_test(test_matmul_matches_naive_reference),
        cmocka_unit_test(test_matmul_batched_matches_naive_reference),
        cmocka_unit_test(test_matmul_folds_leading_dims_into_rows),
        cmocka_unit_test(test_matmul_grad_2d_all_transposes),
        cmocka_unit_test(test_matmul_grad_2d_across_tiles),
        cmocka_unit_test(test_matmul_grad_batched_3d),
        cmocka_unit_test(test_matmul_grad_batched_4d),
        cmocka_unit_test(test_matmul_grad_folded_rows),
        cmocka_unit_test(test_matmul_same_bits_any_thread_count),
        cmocka_unit_test(test_matmul_inner_mismatch_stops),
        cmocka_unit_test(test_matmul_batch_mismatch_stops),
        cmocka_unit_test(test_matmul_folded_trans_a_stops),
        cmocka_unit_test(test_linear_hand_values),
        cmocka_unit_test(test_linear_grad_with_bias),
        cmocka_unit_test(test_linear_grad_without_bias),
        cmocka_unit_test(test_linear_mismatch_stops),
        cmocka_unit_test(test_add_hand_values_broadcast),
        cmocka_unit_test(test_add_grad_same_shape),
        cmocka_unit_test(test_add_grad_broadcast),
        cmocka_unit_test(test_add_mismatch_stops),
        cmocka_unit_test(test_mul_hand_values),
        cmocka_unit_test(test_mul_grad),
        cmocka_unit_test(test_mul_mismatch_stops),
        cmocka_unit_test(test_scale_hand_values),
        cmocka_unit_test(test_scale_grad),
        cmocka_unit_test(test_concat_hand_values),
        cmocka_unit_test(test_concat_grad),
        cmocka_unit_test(test_concat_mismatch_stops),
        cmocka_unit_test(test_reshape_shares_data_and_grad),
        cmocka_unit_test(test_reshape_grad_in_chain),
        cmocka_unit_test(test_reshape_size_mismatch_stops),
        cmocka_unit_test(test_tape_counts_multiply_adds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
