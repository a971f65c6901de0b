/*
 * Tests of stage 04: the column-sum layer, its counts, and the blurring
 * measurement.
 *
 * Expected values come from a plain loop written in the test (the layer's
 * output), hand computation (counts and multiply-adds), central differences
 * (gradcheck.h), and the estimate dominance / sqrt(dominance^2 + n - 1) for
 * nearly orthogonal random vectors (the blurring measurement, with a margin
 * for sampling noise). The measurement tests are seeded, so they give the
 * same numbers on every run.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "04_column_sum/blur.h"
#include "04_column_sum/column_sum.h"

/* ------------------------------------------------------------------------- */
/* The column-sum layer                                                        */
/* ------------------------------------------------------------------------- */

/* Computes y_q = sum_k relu(W [x_q ; x_k] + b) with plain loops: x [B, n, Din], out [B, n, Dout].
 */
static void column_sum_by_loop(const PairNet *net, const Tensor *x, float *out)
{
    int batch = x->shape.dim[0], n = x->shape.dim[1], din = x->shape.dim[2];
    int dout = net->weight->shape.dim[0];
    for (int b = 0; b < batch; b++)
        for (int q = 0; q < n; q++)
            for (int o = 0; o < dout; o++) {
                double sum = 0.0;
                const float *row = net->weight->data + (size_t)o * 2 * din;
                for (int k = 0; k < n; k++) {
                    const float *xq = x->data + ((size_t)b * n + q) * din;
                    const float *xk = x->data + ((size_t)b * n + k) * din;
                    double pre = net->bias->data[o];
                    for (int j = 0; j < din; j++)
                        pre += (double)row[j] * xq[j] + (double)row[din + j] * xk[j];
                    sum += pre > 0.0 ? pre : 0.0;
                }
                out[((size_t)b * n + q) * dout + o] = (float)sum;
            }
}

/* Reference: the sum over k of the pair net on [x_q ; x_k], written out as loops. */
static void test_column_sum_layer_matches_loop(void **state)
{
    (void)state;
    enum { B = 2, N = 4, DIN = 3, DOUT = 5 };
    Rng rng;
    rng_seed(&rng, 3, 0);
    PairNet *net = pair_net_new(DIN, DOUT, &rng, NULL);
    Tensor *x = checks_random_tensor(shape3(B, N, DIN), 21u);
    float expected[B * N * DOUT];
    column_sum_by_loop(net, x, expected);
    Tape tape;
    tape_init(&tape);

    Tensor *y = column_sum_layer_forward(&tape, net, x, NULL);
    bool shape_ok = y->shape.ndim == 3 && y->shape.dim[0] == B && y->shape.dim[1] == N &&
                    y->shape.dim[2] == DOUT;
    bool near = checks_near("column sum vs loop", y->data, expected, B * N * DOUT, 1e-5f, 1e-5f);

    tape_free(&tape);
    tensor_free(x);
    pair_net_free(net);
    assert_true(shape_ok);
    assert_true(near);
}

/*
 * Hand count: 4 stacked layers on n = 3 words make 3*3 = 9 pair vectors each
 * and keep 3 vectors, where 4 pairwise layers of stage 02 would reach
 * 3^(2^4) = 43046721.
 */
static void test_column_sum_pairs_stay_n_squared(void **state)
{
    (void)state;
    enum { N = 3, D = 4, LAYERS = 4 };
    Rng rng;
    rng_seed(&rng, 5, 0);
    Tensor *x0 = checks_random_tensor(shape3(1, N, D), 8u);
    Tape tape;
    tape_init(&tape);

    Tensor *x = x0;
    PairNet *nets[LAYERS];
    int pair_counts[LAYERS];
    for (int l = 0; l < LAYERS; l++) {
        nets[l] = pair_net_new(D, D, &rng, NULL);
        Tensor *pairs;
        x = column_sum_layer_forward(&tape, nets[l], x, &pairs);
        pair_counts[l] = pairs->shape.dim[1];
    }
    size_t stage02_count = 0;
    bool counted = pairwise_vector_count(N, LAYERS, &stage02_count);

    for (int l = 0; l < LAYERS; l++) {
        assert_int_equal(pair_counts[l], N * N);
        pair_net_free(nets[l]);
    }
    assert_int_equal(x->shape.dim[1], N);
    assert_true(counted);
    assert_int_equal(stage02_count, 43046721);
    tape_free(&tape);
    tensor_free(x0);
}

/* Hand values: 11 words give 121 pairs; a square above SIZE_MAX is rejected. */
static void test_column_sum_pair_count_values(void **state)
{
    (void)state;
    size_t count = 7;
    assert_true(column_sum_pair_count(11, &count));
    assert_int_equal(count, 121);
    assert_false(column_sum_pair_count(SIZE_MAX / 2, &count));
    assert_int_equal(count, 121);
}

/*
 * Hand value: n = 3, L = 2, Din = 4, D = 8 gives
 * 9 (2*4*8 + 8) + 9 (2*8*8 + 8) = 648 + 1224 = 1872 multiply-adds.
 */
static void test_column_sum_multiply_adds_hand(void **state)
{
    (void)state;
    size_t count = 0;
    assert_true(column_sum_multiply_adds(3, 2, 4, 8, &count));
    assert_int_equal(count, 1872);
    assert_false(column_sum_multiply_adds(3, 0, 4, 8, &count));
    assert_false(column_sum_multiply_adds(SIZE_MAX / 2, 1, 4, 8, &count));
    assert_int_equal(count, 1872);
}

static Tensor *build_column_sum(Tape *tape, Tensor **in, void *context)
{
    return column_sum_layer_forward(tape, context, in[0], NULL);
}

/* Central differences: gradients of the input and of the pair net's weight and bias. */
static void test_column_sum_layer_grad(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 9, 0);
    PairNet *net = pair_net_new(3, 4, &rng, NULL);
    Tensor *x = checks_random_tensor(shape3(2, 3, 3), 31u);
    Tensor *inputs[3] = {x, net->weight, net->bias};

    GradcheckResult result = checks_gradients("column sum layer", build_column_sum, inputs, 3, net);
    tensor_free(x);
    pair_net_free(net);
    assert_int_equal(result.mismatches, 0);
    assert_false(result.all_zero);
}

/* ------------------------------------------------------------------------- */
/* The blurring measurement                                                    */
/* ------------------------------------------------------------------------- */

/* A small measurement: d = 64, M = 32, 400 trials. */
static BlurConfig small_config(void)
{
    return (BlurConfig){.width = 64, .codebook = 32, .trials = 400, .seed = 7};
}

/* Measures one point; fails the test when blur_measure rejects the arguments. */
static BlurPoint measure_point(int count, double dominance)
{
    BlurConfig config = small_config();
    BlurPoint point = {0};
    assert_true(blur_measure(&config, count, &dominance, 1, &point));
    return point;
}

/* Hand values: a sum of one vector is that vector, so cosine and retrieval are exactly 1. */
static void test_blur_single_vector_exact(void **state)
{
    (void)state;
    BlurPoint point = measure_point(1, 1.0);
    assert_float_equal(point.mean_cosine, 1.0, 1e-6);
    assert_float_equal(point.retrieval, 1.0, 0.0);
}

/*
 * Estimate: at dominance 1, cosine ~ 1/sqrt(n) (0.5 at n = 4, 0.125 at
 * n = 64), so it falls with n, and retrieval against 31 random distractors
 * (whose cosines with the sum have standard deviation about 1/8) falls from
 * near 1 to near chance. The bounds leave a wide margin for sampling noise.
 */
static void test_blur_falls_with_count(void **state)
{
    (void)state;
    BlurPoint few = measure_point(4, 1.0);
    BlurPoint many = measure_point(64, 1.0);
    assert_true(few.mean_cosine > 0.45);
    assert_true(many.mean_cosine < 0.2);
    assert_true(few.retrieval > 0.9);
    assert_true(many.retrieval < 0.3);
}

/*
 * Estimate: at dominance 16, n = 64 gives 16 / sqrt(256 + 63) = 0.896, far
 * above every distractor, so the component stays recoverable.
 */
static void test_blur_dominant_stays_recoverable(void **state)
{
    (void)state;
    BlurPoint point = measure_point(64, 16.0);
    assert_true(point.mean_cosine > 0.85);
    assert_true(point.retrieval > 0.95);
}

/* Estimate: the measured cosine is within 0.03 of dominance / sqrt(dominance^2 + n - 1). */
static void test_blur_matches_estimate(void **state)
{
    (void)state;
    const int counts[] = {2, 8, 32};
    const double dominances[] = {1.0, 4.0};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 2; i++) {
            double D = dominances[i];
            BlurPoint point = measure_point(counts[c], D);
            double estimate = D / sqrt(D * D + counts[c] - 1);
            assert_float_equal(point.expected_cosine, estimate, 1e-12);
            assert_float_equal(point.mean_cosine, estimate, 0.03);
        }
}

/* Identity: every trial draws from its own stream and sums run in trial order. */
static void test_blur_same_for_any_thread_count(void **state)
{
    (void)state;
    core_set_threads(1);
    BlurPoint one = measure_point(16, 2.0);
    core_set_threads(2);
    BlurPoint two = measure_point(16, 2.0);
    core_set_threads(0);
    assert_memory_equal(&one, &two, sizeof one);
}

static void test_blur_rejects_bad_arguments(void **state)
{
    (void)state;
    BlurConfig config = small_config();
    double dominance = 1.0, small = 0.5;
    BlurPoint point = {.count = -5};
    assert_false(blur_measure(&config, 0, &dominance, 1, &point));
    assert_false(blur_measure(&config, 4, &small, 1, &point));
    assert_false(blur_measure(&config, 4, &dominance, 0, &point));
    config.codebook = 1;
    assert_false(blur_measure(&config, 4, &dominance, 1, &point));
    assert_int_equal(point.count, -5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_column_sum_layer_matches_loop),
        cmocka_unit_test(test_column_sum_pairs_stay_n_squared),
        cmocka_unit_test(test_column_sum_pair_count_values),
        cmocka_unit_test(test_column_sum_multiply_adds_hand),
        cmocka_unit_test(test_column_sum_layer_grad),
        cmocka_unit_test(test_blur_single_vector_exact),
        cmocka_unit_test(test_blur_falls_with_count),
        cmocka_unit_test(test_blur_dominant_stays_recoverable),
        cmocka_unit_test(test_blur_matches_estimate),
        cmocka_unit_test(test_blur_same_for_any_thread_count),
        cmocka_unit_test(test_blur_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
