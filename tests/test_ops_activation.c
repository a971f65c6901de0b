/*
 * Tests of relu, tanh, gelu, exp, softmax, cross-entropy, layer norm and the
 * causal mask. They cover hand-computed forward values, identities (rows sum
 * to 1, shift invariance, normalised rows), extreme and infinite scores,
 * gradient checks on non-square shapes, and the errors that stop the program.
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

/* Gradient-checks f on the inputs and asserts that every element matches and some are non-zero. */
static void assert_gradients_match(const char *label, GradcheckFn f, Tensor **inputs, int count,
                                   void *context)
{
    GradcheckResult result = checks_gradients(label, f, inputs, count, context);
    assert_int_equal(result.mismatches, 0);
    assert_false(result.all_zero);
}

/* Runs a one-input op on values [count] and asserts the output matches expected within tol. */
typedef Tensor *(*UnaryOp)(Tape *tape, Tensor *x);

static void assert_unary_values(const char *label, UnaryOp op, const float *values,
                                const float *expected, int count, float tol)
{
    Tensor *x = checks_tensor_from(shape1(count), values, false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op(&tape, x);
    bool near = checks_near(label, out->data, expected, (size_t)count, tol, 0.0f);

    tape_free(&tape);
    tensor_free(x);
    assert_true(near);
}

static Tensor *build_relu(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_relu(tape, in[0]);
}

static Tensor *build_tanh(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_tanh(tape, in[0]);
}

static Tensor *build_gelu(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_gelu(tape, in[0]);
}

static Tensor *build_exp(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_exp(tape, in[0]);
}

static Tensor *build_softmax(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_softmax(tape, in[0]);
}

/* ------------------------------------------------------------------------- */
/* relu, tanh, gelu, exp                                                       */
/* ------------------------------------------------------------------------- */

static void test_relu_hand_values(void **state)
{
    (void)state;
    assert_unary_values("relu", op_relu, (const float[]){-1, 0, 2, -0.5f},
                        (const float[]){0, 0, 2, 0}, 4, 0.0f);
}

static void test_relu_grad(void **state)
{
    (void)state;
    /* Every value at least 0.1 from the kink at 0, ten times the check's step of 0.01. */
    Tensor *x = tensor_new(shape2(3, 5), true);
    checks_fill_away_from_zero(x, 1, 0.1f, 1.5f);
    assert_gradients_match("relu", build_relu, &x, 1, NULL);
    tensor_free(x);
}

static void test_tanh_hand_values(void **state)
{
    (void)state;
    /* tanh(x) = (e^2x - 1) / (e^2x + 1), so tanh(ln(3) / 2) = (3 - 1) / (3 + 1) = 0.5. */
    float half_ln3 = 0.5493061443f;
    assert_unary_values("tanh", op_tanh, (const float[]){0, half_ln3, -half_ln3},
                        (const float[]){0, 0.5f, -0.5f}, 3, 1e-6f);
}

static void test_tanh_grad(void **state)
{
    (void)state;
    Tensor *x = tensor_new(shape2(3, 5), true);
    checks_fill(x, 2, -1.5f, 1.5f);
    assert_gradients_match("tanh", build_tanh, &x, 1, NULL);
    tensor_free(x);
}

static void test_gelu_hand_values(void **state)
{
    (void)state;
    /* gelu(x) = x Phi(x); Phi(1) = 0.8413447 and Phi(3) = 0.9986501 from a normal table. */
    assert_unary_values("gelu", op_gelu, (const float[]){0, 1, -1, 3},
                        (const float[]){0, 0.8413447f, -0.1586553f, 2.9959503f}, 4, 1e-6f);
}

static void test_gelu_grad(void **state)
{
    (void)state;
    Tensor *x = tensor_new(shape2(3, 5), true);
    checks_fill(x, 3, -2.0f, 2.0f);
    assert_gradients_match("gelu", build_gelu, &x, 1, NULL);
    tensor_free(x);
}

static void test_exp_hand_values(void **state)
{
    (void)state;
    /* exp(0) = 1, exp(ln 5) = 5, exp(-ln 4) = 0.25. */
    assert_unary_values("exp", op_exp, (const float[]){0, 1.6094379124f, -1.3862943611f},
                        (const float[]){1, 5, 0.25f}, 3, 1e-6f);
}

static void test_exp_grad(void **state)
{
    (void)state;
    Tensor *x = checks_random_tensor(shape2(2, 3), 4);
    assert_gradients_match("exp", build_exp, &x, 1, NULL);
    tensor_free(x);
}

/* ------------------------------------------------------------------------- */
/* softmax                                                                     */
/* ------------------------------------------------------------------------- */

static void test_softmax_hand_values(void **state)
{
    (void)state;
    /* Row [0, ln 3, -inf]: weights 1 : 3 : 0. Row [ln 1, ln 2, ln 5]: weights 1 : 2 : 5. */
    Tensor *x = checks_tensor_from(
        shape2(2, 3), (const float[]){0, 1.0986122887f, -INFINITY, 0, 0.6931471806f, 1.6094379124f},
        false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_softmax(&tape, x);
    assert_true(checks_near("softmax", out->data,
                            (const float[]){0.25f, 0.75f, 0, 0.125f, 0.25f, 0.625f}, 6, 1e-6f, 0));

    tape_free(&tape);
    tensor_free(x);
}

static void test_softmax_rows_sum_to_one(void **state)
{
    (void)state;
    Tensor *x = tensor_new(shape3(2, 4, 7), false);
    checks_fill(x, 5, -5.0f, 5.0f);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_softmax(&tape, x);
    float sums[8];
    float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    for (int row = 0; row < 8; row++) {
        double sum = 0.0;
        for (int j = 0; j < 7; j++)
            sum += out->data[row * 7 + j];
        sums[row] = (float)sum;
    }
    assert_true(checks_near("softmax row sums", sums, ones, 8, 1e-6f, 0));

    tape_free(&tape);
    tensor_free(x);
}

static void test_softmax_shift_invariant(void **state)
{
    (void)state;
    /* Adding the same constant to every score of a row leaves the weights unchanged. */
    Tensor *x = tensor_new(shape2(3, 7), false);
    Tensor *shifted = tensor_new(shape2(3, 7), false);
    checks_fill(x, 6, -1.0f, 1.0f);
    for (size_t i = 0; i < x->size; i++)
        shifted->data[i] = x->data[i] + 8.0f;
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_softmax(&tape, x);
    Tensor *out_shifted = op_softmax(&tape, shifted);
    assert_true(
        checks_near("softmax shifted", out_shifted->data, out->data, x->size, 1e-6f, 1e-5f));

    tape_free(&tape);
    tensor_free(x);
    tensor_free(shifted);
}

static void test_softmax_extreme_scores_finite(void **state)
{
    (void)state;
    /*
     * [1000, 999, -1000]: weights e^0, e^-1, e^-2000 over their sum, so
     * 1 / (1 + e^-1) = 0.7310586, e^-1 / (1 + e^-1) = 0.2689414 and 0.
     * [-1000, -1000, -1000]: equal scores share the weight, 1/3 each.
     */
    Tensor *x = checks_tensor_from(shape2(2, 3),
                                   (const float[]){1000, 999, -1000, -1000, -1000, -1000}, false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_softmax(&tape, x);
    for (size_t i = 0; i < out->size; i++)
        assert_true(isfinite(out->data[i]));
    float third = 1.0f / 3.0f;
    assert_true(checks_near("softmax +-1000", out->data,
                            (const float[]){0.7310586f, 0.2689414f, 0, third, third, third}, 6,
                            1e-6f, 0));

    tape_free(&tape);
    tensor_free(x);
}

static void test_softmax_all_masked_row_zero(void **state)
{
    (void)state;
    /* A row of only -INFINITY gets weights 0 and gradient 0, never NaN (see softmax_row). */
    Tensor *x = checks_tensor_from(shape2(2, 2), (const float[]){-INFINITY, -INFINITY, 0, 1}, true);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_softmax(&tape, x);
    assert_true(checks_near("all-masked row", out->data, (const float[]){0, 0}, 2, 0, 0));
    for (size_t i = 0; i < out->size; i++)
        out->grad[i] = (float)(i + 1);
    tape.entries[0].backward(&tape.entries[0]);
    assert_true(checks_near("all-masked row gradient", x->grad, (const float[]){0, 0}, 2, 0, 0));
    assert_true(isfinite(x->grad[2]));
    assert_true(isfinite(x->grad[3]));

    tape_free(&tape);
    tensor_free(x);
}

static void test_softmax_grad(void **state)
{
    (void)state;
    Tensor *matrix = checks_random_tensor(shape2(3, 5), 7);
    Tensor *batched = checks_random_tensor(shape3(2, 3, 4), 8);
    assert_gradients_match("softmax 2-D", build_softmax, &matrix, 1, NULL);
    assert_gradients_match("softmax 3-D", build_softmax, &batched, 1, NULL);
    tensor_free(matrix);
    tensor_free(batched);
}

/* ------------------------------------------------------------------------- */
/* cross-entropy                                                               */
/* ------------------------------------------------------------------------- */

static Tensor *build_cross_entropy(Tape *tape, Tensor **in, void *context)
{
    return op_cross_entropy(tape, in[0], context);
}

/* Returns the cross-entropy of logits [rows, classes] against targets, without gradients. */
static float cross_entropy_of(const float *logits, int rows, int classes, const int *targets)
{
    Tensor *x = checks_tensor_from(shape2(rows, classes), logits, false);
    Tape tape;
    tape_init(&tape);

    float loss = op_cross_entropy(&tape, x, targets)->data[0];

    tape_free(&tape);
    tensor_free(x);
    return loss;
}

static void test_cross_entropy_hand_values(void **state)
{
    (void)state;
    /*
     * Row [0, ln 3] has softmax [1/4, 3/4] and row [ln 3, 0] has [3/4, 1/4].
     * Targets 1 and 1: the losses are -ln(3/4) = 0.2876821 and -ln(1/4) = 1.3862944,
     * mean 0.8369882. With the second target -1 only the first row counts.
     */
    const float logits[] = {0, 1.0986122887f, 1.0986122887f, 0};
    float both = cross_entropy_of(logits, 2, 2, (const int[]){1, 1});
    float first_only = cross_entropy_of(logits, 2, 2, (const int[]){1, -1});
    assert_float_equal(both, 0.8369882f, 1e-6f);
    assert_float_equal(first_only, 0.2876821f, 1e-6f);
}

static void test_cross_entropy_equal_logits_log_c(void **state)
{
    (void)state;
    /* Equal logits give probability 1/C to every class, so the loss is ln C = ln 5. */
    const float logits[10] = {0.3f, 0.3f, 0.3f, 0.3f, 0.3f, -2, -2, -2, -2, -2};
    float loss = cross_entropy_of(logits, 2, 5, (const int[]){0, 3});
    assert_float_equal(loss, (float)log(5.0), 1e-6f);
}

static void test_cross_entropy_large_logits_finite(void **state)
{
    (void)state;
    /* Logits [1000, 0]: class 0 has probability 1 - e^-1000, so loss 0; class 1 has loss 1000. */
    const float logits[] = {1000, 0};
    assert_float_equal(cross_entropy_of(logits, 1, 2, (const int[]){0}), 0.0f, 1e-6f);
    assert_float_equal(cross_entropy_of(logits, 1, 2, (const int[]){1}), 1000.0f, 1e-3f);
}

static void test_cross_entropy_all_ignored_zero(void **state)
{
    (void)state;
    /* No counted row: loss 0 and gradient 0 instead of NaN (see op_cross_entropy). */
    Tensor *x = checks_random_tensor(shape2(2, 3), 9);
    Tape tape;
    tape_init(&tape);

    Tensor *loss = op_cross_entropy(&tape, x, (const int[]){-1, -1});
    assert_float_equal(loss->data[0], 0.0f, 0.0f);
    tape_backward(&tape, loss);
    assert_true(
        checks_near("ignored rows gradient", x->grad, (const float[]){0, 0, 0, 0, 0, 0}, 6, 0, 0));

    tape_free(&tape);
    tensor_free(x);
}

static void test_cross_entropy_grad(void **state)
{
    (void)state;
    Tensor *logits = checks_random_tensor(shape2(4, 5), 10);
    int targets[] = {1, -1, 4, 0};
    assert_gradients_match("cross_entropy", build_cross_entropy, &logits, 1, targets);

    /* Leading dimensions fold into rows: [2, 2, 3] is 4 rows of 3 classes. */
    Tensor *batched = checks_random_tensor(shape3(2, 2, 3), 11);
    int batched_targets[] = {2, 0, 1, 2};
    assert_gradients_match("cross_entropy 3-D", build_cross_entropy, &batched, 1, batched_targets);

    tensor_free(logits);
    tensor_free(batched);
}

/* A cross-entropy call with a bad target, made in the parent (see checks_fatal). */
typedef struct BadTargets {
    Tape tape;
    Tensor *logits;
    const int *targets;
} BadTargets;

static void call_cross_entropy(void *context)
{
    BadTargets *call = context;
    op_cross_entropy(&call->tape, call->logits, call->targets);
}

static void test_cross_entropy_bad_target_stops(void **state)
{
    (void)state;
    BadTargets call = {.logits = tensor_new(shape2(3, 3), false),
                       .targets = (const int[]){0, 7, 1}};
    tape_init(&call.tape);
    bool too_large = checks_fatal("target 7", call_cross_entropy, &call, "target 7 of row 1");
    call.targets = (const int[]){-2, 0, 1};
    bool below_minus_one =
        checks_fatal("target -2", call_cross_entropy, &call, "target -2 of row 0");

    tape_free(&call.tape);
    tensor_free(call.logits);
    assert_true(too_large);
    assert_true(below_minus_one);
}

/* ------------------------------------------------------------------------- */
/* layer norm                                                                  */
/* ------------------------------------------------------------------------- */

static Tensor *build_layernorm(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_layernorm(tape, in[0], in[1], in[2], 1e-5f);
}

/* Returns layernorm(x [rows, d], gain, bias, eps) computed without gradients, copied into out. */
static void layernorm_of(const float *x_values, int rows, int d, const float *gain_values,
                         const float *bias_values, float eps, float *out)
{
    Tensor *x = checks_tensor_from(shape2(rows, d), x_values, false);
    Tensor *gain = checks_tensor_from(shape1(d), gain_values, false);
    Tensor *bias = checks_tensor_from(shape1(d), bias_values, false);
    Tape tape;
    tape_init(&tape);

    Tensor *y = op_layernorm(&tape, x, gain, bias, eps);
    memcpy(out, y->data, y->size * sizeof(float));

    tape_free(&tape);
    tensor_free(x);
    tensor_free(gain);
    tensor_free(bias);
}

static void test_layernorm_hand_values(void **state)
{
    (void)state;
    /*
     * [1, 2, 3, 4]: mean 2.5, biased variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25,
     * so xhat = [-1.5, -0.5, 0.5, 1.5] / sqrt(1.25); gain 2 and bias 1 give 2 xhat + 1.
     */
    float out[4];
    layernorm_of((const float[]){1, 2, 3, 4}, 1, 4, (const float[]){2, 2, 2, 2},
                 (const float[]){1, 1, 1, 1}, 0.0f, out);
    assert_true(checks_near("layernorm", out,
                            (const float[]){-1.6832816f, 0.1055728f, 1.8944272f, 3.6832816f}, 4,
                            1e-6f, 0));
}

static void test_layernorm_eps_inside_sqrt(void **state)
{
    (void)state;
    /* [0, 2]: mean 1, variance 1; with eps 1 the scale is 1 / sqrt(1 + 1), so xhat = [-0.7071068,
     * 0.7071068]. */
    float out[2];
    layernorm_of((const float[]){0, 2}, 1, 2, (const float[]){1, 1}, (const float[]){0, 0}, 1.0f,
                 out);
    assert_true(
        checks_near("layernorm eps", out, (const float[]){-0.7071068f, 0.7071068f}, 2, 1e-6f, 0));
}

static void test_layernorm_rows_normalised(void **state)
{
    (void)state;
    /* Gain 1, bias 0, eps 0: every row has mean 0 and biased variance 1 (the definition). */
    enum { ROWS = 4, D = 16 };
    Tensor *x = tensor_new(shape2(ROWS, D), false);
    checks_fill(x, 12, -3.0f, 5.0f);
    float ones[D], zeros[D], out[ROWS * D];
    for (int j = 0; j < D; j++) {
        ones[j] = 1.0f;
        zeros[j] = 0.0f;
    }
    layernorm_of(x->data, ROWS, D, ones, zeros, 0.0f, out);

    float means[ROWS], variances[ROWS];
    for (int i = 0; i < ROWS; i++) {
        double sum = 0.0, squares = 0.0;
        for (int j = 0; j < D; j++)
            sum += out[i * D + j];
        for (int j = 0; j < D; j++)
            squares += (out[i * D + j] - sum / D) * (out[i * D + j] - sum / D);
        means[i] = (float)(sum / D);
        variances[i] = (float)(squares / D);
    }
    assert_true(checks_near("layernorm means", means, zeros, ROWS, 1e-6f, 0));
    assert_true(checks_near("layernorm variances", variances, ones, ROWS, 1e-5f, 0));
    tensor_free(x);
}

static void test_layernorm_grad(void **state)
{
    (void)state;
    Tensor *x = checks_random_tensor(shape2(3, 5), 13);
    Tensor *gain = tensor_new(shape1(5), true);
    Tensor *bias = checks_random_tensor(shape1(5), 14);
    checks_fill(gain, 15, 0.5f, 1.5f);
    Tensor *inputs[] = {x, gain, bias};
    assert_gradients_match("layernorm", build_layernorm, inputs, 3, NULL);

    Tensor *batched = checks_random_tensor(shape3(2, 3, 5), 16);
    inputs[0] = batched;
    assert_gradients_match("layernorm 3-D", build_layernorm, inputs, 3, NULL);

    tensor_free(x);
    tensor_free(gain);
    tensor_free(bias);
    tensor_free(batched);
}

/* A layernorm call with a gain of the wrong width, made in the parent (see checks_fatal). */
typedef struct BadLayernorm {
    Tape tape;
    Tensor *x, *gain, *bias;
} BadLayernorm;

static void call_layernorm(void *context)
{
    BadLayernorm *call = context;
    op_layernorm(&call->tape, call->x, call->gain, call->bias, 1e-5f);
}

static void test_layernorm_gain_mismatch_stops(void **state)
{
    (void)state;
    BadLayernorm call = {.x = tensor_new(shape2(2, 5), false),
                         .gain = tensor_new(shape1(4), false),
                         .bias = tensor_new(shape1(5), false)};
    tape_init(&call.tape);
    bool stopped = checks_fatal("layernorm gain", call_layernorm, &call, "layernorm: shape [4]");

    tape_free(&call.tape);
    tensor_free(call.x);
    tensor_free(call.gain);
    tensor_free(call.bias);
    assert_true(stopped);
}

/* ------------------------------------------------------------------------- */
/* causal mask                                                                 */
/* ------------------------------------------------------------------------- */

static Tensor *build_masked_softmax(Tape *tape, Tensor **in, void *context)
{
    (void)context;
    return op_softmax(tape, op_causal_mask(tape, in[0]));
}

static void test_causal_mask_upper_triangle_infinite(void **state)
{
    (void)state;
    /* Scores 1..9 in a 3 x 3 grid: keys after the query (upper triangle) become -INFINITY. */
    Tensor *scores =
        checks_tensor_from(shape2(3, 3), (const float[]){1, 2, 3, 4, 5, 6, 7, 8, 9}, false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_causal_mask(&tape, scores);
    assert_true(checks_near("causal mask", out->data,
                            (const float[]){1, -INFINITY, -INFINITY, 4, 5, -INFINITY, 7, 8, 9}, 9,
                            0, 0));

    tape_free(&tape);
    tensor_free(scores);
}

static void test_causal_mask_softmax_zero_upper(void **state)
{
    (void)state;
    /* Equal scores: query q spreads its weight 1 / (q + 1) over keys 0..q and gives later keys 0.
     */
    Tensor *scores = tensor_new(shape3(2, 3, 3), false);
    for (size_t i = 0; i < scores->size; i++)
        scores->data[i] = 0.4f;
    Tape tape;
    tape_init(&tape);

    Tensor *weights = op_softmax(&tape, op_causal_mask(&tape, scores));
    float third = 1.0f / 3.0f;
    const float one_batch[9] = {1, 0, 0, 0.5f, 0.5f, 0, third, third, third};
    assert_true(checks_near("masked softmax batch 0", weights->data, one_batch, 9, 1e-6f, 0));
    assert_true(checks_near("masked softmax batch 1", weights->data + 9, one_batch, 9, 1e-6f, 0));

    tape_free(&tape);
    tensor_free(scores);
}

static void test_causal_mask_backward_lower_only(void **state)
{
    (void)state;
    /* With d(out) all ones, the gradient is 1 on and below the diagonal and 0 above it. */
    Tensor *scores = checks_random_tensor(shape3(2, 3, 3), 17);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_causal_mask(&tape, scores);
    for (size_t i = 0; i < out->size; i++)
        out->grad[i] = 1.0f;
    tape.entries[0].backward(&tape.entries[0]);
    const float lower[9] = {1, 0, 0, 1, 1, 0, 1, 1, 1};
    assert_true(checks_near("mask gradient batch 0", scores->grad, lower, 9, 0, 0));
    assert_true(checks_near("mask gradient batch 1", scores->grad + 9, lower, 9, 0, 0));

    tape_free(&tape);
    tensor_free(scores);
}

static void test_causal_mask_grad(void **state)
{
    (void)state;
    /* Checked through softmax, because -INFINITY outputs cannot enter a finite difference. */
    Tensor *scores = checks_random_tensor(shape3(2, 4, 4), 18);
    Tensor *four_d = checks_random_tensor(shape4(2, 2, 3, 3), 19);
    assert_gradients_match("masked softmax", build_masked_softmax, &scores, 1, NULL);
    assert_gradients_match("masked softmax 4-D", build_masked_softmax, &four_d, 1, NULL);
    tensor_free(scores);
    tensor_free(four_d);
}

/* A causal mask on non-square scores, made in the parent (see checks_fatal). */
typedef struct BadScores {
    Tape tape;
    Tensor *scores;
} BadScores;

static void call_causal_mask(void *context)
{
    BadScores *call = context;
    op_causal_mask(&call->tape, call->scores);
}

static void test_causal_mask_not_square_stops(void **state)
{
    (void)state;
    BadScores call = {.scores = tensor_new(shape3(2, 3, 4), false)};
    tape_init(&call.tape);
    bool stopped = checks_fatal("causal mask", call_causal_mask, &call,
                                "causal_mask: shape [2, 3, 4] is not [..., n, n]");

    tape_free(&call.tape);
    tensor_free(call.scores);
    assert_true(stopped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_hand_values),
        cmocka_unit_test(test_relu_grad),
        cmocka_unit_test(test_tanh_hand_values),
        cmocka_unit_test(test_tanh_grad),
        cmocka_unit_test(test_gelu_hand_values),
        cmocka_unit_test(test_gelu_grad),
        cmocka_unit_test(test_exp_hand_values),
        cmocka_unit_test(test_exp_grad),
        cmocka_unit_test(test_softmax_hand_values),
        cmocka_unit_test(test_softmax_rows_sum_to_one),
        cmocka_unit_test(test_softmax_shift_invariant),
        cmocka_unit_test(test_softmax_extreme_scores_finite),
        cmocka_unit_test(test_softmax_all_masked_row_zero),
        cmocka_unit_test(test_softmax_grad),
        cmocka_unit_test(test_cross_entropy_hand_values),
        cmocka_unit_test(test_cross_entropy_equal_logits_log_c),
        cmocka_unit_test(test_cross_entropy_large_logits_finite),
        cmocka_unit_test(test_cross_entropy_all_ignored_zero),
        cmocka_unit_test(test_cross_entropy_grad),
        cmocka_unit_test(test_cross_entropy_bad_target_stops),
        cmocka_unit_test(test_layernorm_hand_values),
        cmocka_unit_test(test_layernorm_eps_inside_sqrt),
        cmocka_unit_test(test_layernorm_rows_normalised),
        cmocka_unit_test(test_layernorm_grad),
        cmocka_unit_test(test_layernorm_gain_mismatch_stops),
        cmocka_unit_test(test_causal_mask_upper_triangle_infinite),
        cmocka_unit_test(test_causal_mask_softmax_zero_upper),
        cmocka_unit_test(test_causal_mask_backward_lower_only),
        cmocka_unit_test(test_causal_mask_grad),
        cmocka_unit_test(test_causal_mask_not_square_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
