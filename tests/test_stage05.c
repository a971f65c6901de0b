/*
 * Tests of stage 05, scored attention. They cover the weights every query
 * gives its keys (softmax along row q of a [B, n, n] score tensor), the
 * weighted sum of pair vectors, and the layer with a representation net and
 * a scoring net.
 *
 * Expected values come from hand computation (the 10/90 example, scores of
 * +-1000), identities (rows sum to 1, a constant added to one row changes
 * nothing), a plain loop written in the test (combining pairs), and central
 * differences (gradcheck.h).
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "05_scored_attention/scored_attention.h"

/* ------------------------------------------------------------------------- */
/* Helpers                                                                     */
/* ------------------------------------------------------------------------- */

/* Gradient-checks f on the inputs and asserts that every element matches and some are non-zero. */
static void assert_gradients_match(const char *label, GradcheckFn f, Tensor **inputs, int count,
                                   void *context)
{
    GradcheckResult result = checks_gradients(label, f, inputs, count, context);
    assert_int_equal(result.mismatches, 0);
    assert_false(result.all_zero);
}

/* Returns whether attention_weights of one sentence's scores [n, n] matches expected within tol. */
static bool weights_near(const char *label, const float *scores, const float *expected, int n,
                         float tol)
{
    Tensor *s = checks_tensor_from(shape2(n, n), scores, false);
    Tape tape;
    tape_init(&tape);

    Tensor *w = attention_weights(&tape, s);
    bool near = checks_near(label, w->data, expected, (size_t)n * (size_t)n, tol, 0.0f);

    tape_free(&tape);
    tensor_free(s);
    return near;
}

/* ------------------------------------------------------------------------- */
/* attention_weights                                                           */
/* ------------------------------------------------------------------------- */

/* Identity: every query's weights are positive and sum to 1. */
static void test_attention_weights_rows_sum_to_one(void **state)
{
    (void)state;
    Tensor *scores = tensor_new(shape3(2, 4, 4), false);
    checks_fill(scores, 11u, -3.0f, 3.0f);
    Tape tape;
    tape_init(&tape);

    Tensor *w = attention_weights(&tape, scores);
    float sums[8] = {0};
    float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    bool positive = true;
    for (int row = 0; row < 8; row++)
        for (int k = 0; k < 4; k++) {
            sums[row] += w->data[row * 4 + k];
            positive = positive && w->data[row * 4 + k] > 0.0f;
        }

    bool near = checks_near("weights row sums", sums, ones, 8, 1e-6f, 0.0f);
    tape_free(&tape);
    tensor_free(scores);
    assert_true(near);
    assert_true(positive);
}

/* Identity: adding one constant to every score of one query leaves all weights unchanged. */
static void test_attention_weights_shift_unchanged(void **state)
{
    (void)state;
    enum { N = 3 };
    float scores[N * N] = {0.5f, -1.0f, 2.0f, 1.5f, 0.0f, -0.5f, 3.0f, 1.0f, -2.0f};
    float shifted[N * N];
    memcpy(shifted, scores, sizeof scores);
    for (int k = 0; k < N; k++)
        shifted[1 * N + k] += 7.25f;

    Tensor *a = checks_tensor_from(shape2(N, N), scores, false);
    Tensor *b = checks_tensor_from(shape2(N, N), shifted, false);
    Tape tape;
    tape_init(&tape);
    Tensor *wa = attention_weights(&tape, a);
    Tensor *wb = attention_weights(&tape, b);
    bool near = checks_near("weights after shift", wb->data, wa->data, N * N, 1e-6f, 0.0f);

    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
    assert_true(near);
}

/*
 * Hand values: scores 1000 and 999 give 1/(1 + e^-1) = 0.7310586 and
 * e^-1/(1 + e^-1) = 0.2689414, and -1000 gives 0 (e^-2000 relative to the
 * others). A row of 1000, -1000, -1000 gives 1, 0, 0. A naive exp would
 * overflow to infinity and give NaN.
 */
static void test_attention_weights_extreme_scores_finite(void **state)
{
    (void)state;
    float scores[9] = {1000, 999, -1000, 1000, -1000, -1000, -1000, -1000, -1000};
    float expected[9] = {0.7310586f, 0.2689414f, 0, 1, 0, 0, 1.0f / 3, 1.0f / 3, 1.0f / 3};
    assert_true(weights_near("weights of +-1000", scores, expected, 3, 1e-6f));
}

/*
 * The worked example with exp: in "there was a lion on fire and it was
 * roaring", the query "roaring" scores fire ln 10, lion ln 90 and every other
 * word -infinity, so the weights are 10/100 and 90/100 and 0 elsewhere. Row
 * 0 is the tree sentence's row: only fire has a finite score, so its weight
 * is 1. Row 2 (all equal scores) gives 1/3 each.
 */
static void test_attention_weights_worked_example(void **state)
{
    (void)state;
    float scores[9] = {-INFINITY, logf(10.0f), -INFINITY,
                       logf(90.0f), logf(10.0f), -INFINITY,
                       0, 0, 0};
    float expected[9] = {0, 1, 0, 0.9f, 0.1f, 0, 1.0f / 3, 1.0f / 3, 1.0f / 3};
    assert_true(weights_near("weights of ln 10, ln 90", scores, expected, 3, 1e-6f));
}

static Tensor *build_weights(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return attention_weights(tape, in[0]);
}

/* Central differences: the gradient of the weights with respect to the scores. */
static void test_attention_weights_grad(void **state)
{
    (void)state;
    Tensor *scores = checks_random_tensor(shape3(2, 3, 3), 5u);
    assert_gradients_match("attention_weights", build_weights, &scores, 1, NULL);
    tensor_free(scores);
}

static void call_weights_not_square(void *context)
{
    (void)context;
    Tensor *scores = tensor_new(shape3(1, 2, 3), false);
    Tape tape;
    tape_init(&tape);
    attention_weights(&tape, scores);
}

/* Scores [1, 2, 3] are not one row per query over the same words: the call stops the program. */
static void test_attention_weights_not_square_stops(void **state)
{
    (void)state;
    assert_true(checks_fatal("weights [1, 2, 3]", call_weights_not_square, NULL,
                             "attention_weights: expected a tensor [B, n, n]"));
}

/* ------------------------------------------------------------------------- */
/* attention_combine_pairs                                                     */
/* ------------------------------------------------------------------------- */

/* Computes y_q = sum_k a_qk r_qk with plain loops: weights [B, n, n], pairs [B, n*n, D]. */
static void combine_by_loop(const float *weights, const float *pairs, int batch, int n, int width,
                            float *out)
{
    for (int b = 0; b < batch; b++)
        for (int q = 0; q < n; q++)
            for (int j = 0; j < width; j++) {
                double sum = 0.0;
                for (int k = 0; k < n; k++) {
                    size_t pair = ((size_t)b * n + q) * n + k;
                    sum += (double)weights[pair] * pairs[pair * width + j];
                }
                out[((size_t)b * n + q) * width + j] = (float)sum;
            }
}

/* Reference: a loop over b, q, k and the feature j, written out in this test. */
static void test_attention_combine_pairs_matches_loop(void **state)
{
    (void)state;
    enum { B = 2, N = 3, D = 4 };
    Tensor *weights = tensor_new(shape3(B, N, N), false);
    Tensor *pairs = tensor_new(shape3(B, N * N, D), false);
    checks_fill(weights, 3u, 0.0f, 1.0f);
    checks_fill(pairs, 4u, -2.0f, 2.0f);
    float expected[B * N * D];
    combine_by_loop(weights->data, pairs->data, B, N, D, expected);
    Tape tape;
    tape_init(&tape);

    Tensor *y = attention_combine_pairs(&tape, weights, pairs);
    bool shape_ok = y->shape.ndim == 3 && y->shape.dim[0] == B && y->shape.dim[1] == N &&
                    y->shape.dim[2] == D;
    bool near = checks_near("combine vs loop", y->data, expected, B * N * D, 1e-5f, 1e-5f);

    tape_free(&tape);
    tensor_free(weights);
    tensor_free(pairs);
    assert_true(shape_ok);
    assert_true(near);
}

/* Hand values, one sentence [n, n] with n = 2: y_0 = 0.25 r_00 + 0.75 r_01, y_1 = r_10. */
static void test_attention_combine_pairs_unbatched_hand(void **state)
{
    (void)state;
    float weights[4] = {0.25f, 0.75f, 1.0f, 0.0f};
    float pairs[8] = {4, 8, 0, -4, 1, 2, 100, 100};
    float expected[4] = {1.0f, -1.0f, 1.0f, 2.0f};
    Tensor *w = checks_tensor_from(shape2(2, 2), weights, false);
    Tensor *r = checks_tensor_from(shape2(4, 2), pairs, false);
    Tape tape;
    tape_init(&tape);

    Tensor *y = attention_combine_pairs(&tape, w, r);
    bool shape_ok = y->shape.ndim == 2 && y->shape.dim[0] == 2 && y->shape.dim[1] == 2;
    bool near = checks_near("combine by hand", y->data, expected, 4, 1e-6f, 0.0f);

    tape_free(&tape);
    tensor_free(w);
    tensor_free(r);
    assert_true(shape_ok);
    assert_true(near);
}

static Tensor *build_combine(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return attention_combine_pairs(tape, in[0], in[1]);
}

/* Central differences: gradients with respect to both the weights and the pair vectors. */
static void test_attention_combine_pairs_grad(void **state)
{
    (void)state;
    Tensor *inputs[2] = {checks_random_tensor(shape3(2, 3, 3), 8u),
                         checks_random_tensor(shape3(2, 9, 2), 9u)};
    assert_gradients_match("attention_combine_pairs", build_combine, inputs, 2, NULL);
    tensor_free(inputs[0]);
    tensor_free(inputs[1]);
}

static void call_combine_wrong_pairs(void *context)
{
    (void)context;
    Tensor *weights = tensor_new(shape3(1, 3, 3), false);
    Tensor *pairs = tensor_new(shape3(1, 8, 2), false);
    Tape tape;
    tape_init(&tape);
    attention_combine_pairs(&tape, weights, pairs);
}

/* Weights for n = 3 need 9 pair vectors, so 8 stop the program. */
static void test_attention_combine_pairs_wrong_count_stops(void **state)
{
    (void)state;
    assert_true(checks_fatal("combine with 8 pairs", call_combine_wrong_pairs, NULL,
                             "attention_combine_pairs: weights [1, 3, 3] need pairs"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_weights_rows_sum_to_one),
        cmocka_unit_test(test_attention_weights_shift_unchanged),
        cmocka_unit_test(test_attention_weights_extreme_scores_finite),
        cmocka_unit_test(test_attention_weights_worked_example),
        cmocka_unit_test(test_attention_weights_grad),
        cmocka_unit_test(test_attention_weights_not_square_stops),
        cmocka_unit_test(test_attention_combine_pairs_matches_loop),
        cmocka_unit_test(test_attention_combine_pairs_unbatched_hand),
        cmocka_unit_test(test_attention_combine_pairs_grad),
        cmocka_unit_test(test_attention_combine_pairs_wrong_count_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
