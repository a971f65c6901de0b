/*
 * Tests of stage 06: the linear attention layer, its two identities, its
 * gradients, the per-vector MLP and the multiply-add counts.
 *
 * Expected values come from the two identities the stage rests on, from a
 * plain-loop reference written here in double precision, from central
 * differences, from hand counts written out in the comments, and from the
 * tape's own count of multiply-adds.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "06_linear_projections/linear_attention.h"
#include "06_linear_projections/mlp.h"

/* Sizes of the identity tests: small, with every width different so that a swapped
 * dimension shows up as a shape error. */
enum { BATCH = 2, WORDS = 5, WIDTH = 6, KEY_WIDTH = 3, VALUE_WIDTH = 4, HIDDEN_WIDTH = 7 };

/* Returns a layer with weights drawn from a generator seeded with seed. */
static LinearAttention *make_layer(ScoreKind kind, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 0);
    LinearAttention *layer =
        linear_attention_new(WIDTH, KEY_WIDTH, VALUE_WIDTH, kind, "attention", &rng, NULL);
    assert_non_null(layer);
    return layer;
}

/* Returns whether any element of t->grad is non-zero. */
static bool has_nonzero_grad(const Tensor *t)
{
    for (size_t i = 0; i < t->size; i++)
        if (t->grad[i] != 0.0f)
            return true;
    return false;
}

/* ------------------------------------------------------------------------- */
/* The two identities                                                         */
/* ------------------------------------------------------------------------- */

/*
 * Identity: sum_k a_qk (A x_q + B x_k) = A x_q + sum_k a_qk B x_k, because
 * each query's weights sum to 1. The left side is built from all n*n pair
 * vectors (linear_attention_forward_pairs), the right side is the layer.
 */
static void check_pairs_identity(ScoreKind kind, const char *label)
{
    LinearAttention *layer = make_layer(kind, 11);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 12);
    Tape tape;
    tape_init(&tape);

    Tensor *shortcut = linear_attention_forward(&tape, layer, x, NULL);
    Tensor *pairs = linear_attention_forward_pairs(&tape, layer, x);
    assert_int_equal(shortcut->size, (size_t)BATCH * WORDS * VALUE_WIDTH);
    assert_true(checks_near(label, shortcut->data, pairs->data, shortcut->size, 1e-5f, 1e-5f));

    tape_free(&tape);
    tensor_free(x);
    linear_attention_free(layer);
}

static void test_linear_attention_pairs_identity_bilinear(void **state)
{
    (void)state;
    check_pairs_identity(SCORE_BILINEAR, "pairs identity, bilinear scorer");
}

static void test_linear_attention_pairs_identity_net(void **state)
{
    (void)state;
    check_pairs_identity(SCORE_NET, "pairs identity, net scorer");
}

/* Identity: x_q^T (W_Q^T W_K) x_k = (W_Q x_q) . (W_K x_k), by associativity. */
static void test_linear_attention_bilinear_identity(void **state)
{
    (void)state;
    LinearAttention *layer = make_layer(SCORE_BILINEAR, 21);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 22);
    Tape tape;
    tape_init(&tape);

    Tensor *projected = linear_attention_scores(&tape, layer, x);
    Tensor *full = linear_attention_scores_full(&tape, layer, x);
    assert_int_equal(projected->shape.ndim, 3);
    assert_int_equal(projected->shape.dim[1], WORDS);
    assert_int_equal(projected->shape.dim[2], WORDS);
    assert_true(checks_near("bilinear identity", projected->data, full->data, projected->size,
                            1e-5f, 1e-5f));

    tape_free(&tape);
    tensor_free(x);
    linear_attention_free(layer);
}

/* score_scale multiplies every score: 0.5 halves each score of the unscaled layer (an
 * identity), on both the projected and the full route. */
static void test_linear_attention_score_scale(void **state)
{
    (void)state;
    LinearAttention *layer = make_layer(SCORE_BILINEAR, 23);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 24);
    Tape tape;
    tape_init(&tape);

    Tensor *plain = linear_attention_scores(&tape, layer, x);
    layer->score_scale = 0.5f;
    Tensor *scaled = linear_attention_scores(&tape, layer, x);
    Tensor *scaled_full = linear_attention_scores_full(&tape, layer, x);
    float halves[BATCH * WORDS * WORDS];
    for (size_t i = 0; i < plain->size; i++)
        halves[i] = 0.5f * plain->data[i];
    assert_true(checks_near("scaled scores", scaled->data, halves, plain->size, 1e-6f, 1e-6f));
    assert_true(checks_near("scaled full scores", scaled_full->data, halves, plain->size, 1e-5f,
                            1e-5f));

    tape_free(&tape);
    tensor_free(x);
    linear_attention_free(layer);
}

/* Stage-05 style reference in double: y_q = sum_k softmax_k(s_qk) (A x_q + B x_k), with
 * s_qk = (W_Q x_q) . (W_K x_k), written as plain loops over one sentence. */
static void reference_forward(const LinearAttention *layer, const float *x, double *y)
{
    double scores[WORDS][WORDS];
    for (int q = 0; q < WORDS; q++) {
        for (int k = 0; k < WORDS; k++) {
            double s = 0.0;
            for (int c = 0; c < KEY_WIDTH; c++) {
                double qc = 0.0, kc = 0.0;
                for (int d = 0; d < WIDTH; d++) {
                    qc += (double)layer->query->data[c * WIDTH + d] * x[q * WIDTH + d];
                    kc += (double)layer->key->data[c * WIDTH + d] * x[k * WIDTH + d];
                }
                s += qc * kc;
            }
            scores[q][k] = s;
        }
    }
    for (int q = 0; q < WORDS; q++) {
        double total = 0.0;
        for (int k = 0; k < WORDS; k++)
            total += exp(scores[q][k]);
        for (int o = 0; o < VALUE_WIDTH; o++) {
            double sum = 0.0;
            for (int k = 0; k < WORDS; k++) {
                double r = 0.0;
                for (int d = 0; d < WIDTH; d++)
                    r += (double)layer->self->data[o * WIDTH + d] * x[q * WIDTH + d] +
                         (double)layer->value->data[o * WIDTH + d] * x[k * WIDTH + d];
                sum += exp(scores[q][k]) / total * r;
            }
            y[q * VALUE_WIDTH + o] = sum;
        }
    }
}

static void test_linear_attention_matches_loop_reference(void **state)
{
    (void)state;
    LinearAttention *layer = make_layer(SCORE_BILINEAR, 31);
    Tensor *x = checks_random_tensor(shape3(1, WORDS, WIDTH), 32);
    Tape tape;
    tape_init(&tape);

    Tensor *y = linear_attention_forward(&tape, layer, x, NULL);
    double expected[WORDS * VALUE_WIDTH];
    float expected_float[WORDS * VALUE_WIDTH];
    reference_forward(layer, x->data, expected);
    for (int i = 0; i < WORDS * VALUE_WIDTH; i++)
        expected_float[i] = (float)expected[i];
    assert_true(checks_near("loop reference", y->data, expected_float, y->size, 1e-5f, 1e-5f));

    tape_free(&tape);
    tensor_free(x);
    linear_attention_free(layer);
}

/* Each query's weights sum to 1 (they come from softmax); checked on the returned weights. */
static void test_linear_attention_weights_sum_to_one(void **state)
{
    (void)state;
    LinearAttention *layer = make_layer(SCORE_BILINEAR, 41);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 42);
    Tape tape;
    tape_init(&tape);

    Tensor *weights = NULL;
    linear_attention_forward(&tape, layer, x, &weights);
    assert_non_null(weights);
    assert_int_equal(weights->size, (size_t)BATCH * WORDS * WORDS);
    float sums[BATCH * WORDS], ones[BATCH * WORDS];
    for (int r = 0; r < BATCH * WORDS; r++) {
        sums[r] = 0.0f;
        ones[r] = 1.0f;
        for (int k = 0; k < WORDS; k++)
            sums[r] += weights->data[r * WORDS + k];
    }
    assert_true(checks_near("weight sums", sums, ones, BATCH * WORDS, 1e-6f, 0.0f));

    tape_free(&tape);
    tensor_free(x);
    linear_attention_free(layer);
}

/* ------------------------------------------------------------------------- */
/* Gradients                                                                  */
/* ------------------------------------------------------------------------- */

/*
 * ReLU has a kink at 0, where a central difference is wrong. With a step of
 * RELU_STEP, an input or weight moves each pre-activation by at most
 * RELU_STEP times the largest |value| it is multiplied with (below 1 here),
 * so the check is valid when every pre-activation is farther than twice the
 * step from 0. The tests assert that before checking.
 */
#define RELU_STEP 1e-3f

/* Returns the smallest |value| of t. */
static float min_abs(const Tensor *t)
{
    float smallest = INFINITY;
    for (size_t i = 0; i < t->size; i++)
        smallest = fminf(smallest, fabsf(t->data[i]));
    return smallest;
}

/* Gradient-check options for nets with ReLU: the smaller step of RELU_STEP. */
static GradcheckOptions relu_options(void)
{
    GradcheckOptions options = gradcheck_default_options();
    options.eps = RELU_STEP;
    return options;
}

static Tensor *layer_output(Tape *tape, Tensor **inputs, void *context)
{
    return linear_attention_forward(tape, context, inputs[0], NULL);
}

/* Every parameter and the input against central differences, each with a non-zero gradient. */
static void check_layer_gradients(ScoreKind kind, const char *label)
{
    LinearAttention *layer = make_layer(kind, 51);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 52);
    Tensor *inputs[6] = {x, layer->self, layer->value, layer->query, layer->key, NULL};
    int count = 5;
    if (kind == SCORE_NET) {
        inputs[3] = layer->score_hidden.weight;
        inputs[4] = layer->score_hidden.bias;
        inputs[5] = layer->score_out;
        count = 6;
    }

    GradcheckOptions options = gradcheck_default_options();
    if (kind == SCORE_NET) {
        /* The net scorer's ReLU: its pre-activations for every pair, away from the kink. */
        Tape tape;
        tape_init(&tape);
        Tensor *pre = op_linear(&tape, op_pairwise(&tape, x), layer->score_hidden.weight,
                                layer->score_hidden.bias);
        assert_true(min_abs(pre) > 2.0f * RELU_STEP);
        tape_free(&tape);
        options = relu_options();
    }

    GradcheckResult result = gradcheck(label, layer_output, inputs, count, layer, options);
    assert_int_equal(result.mismatches, 0);
    for (int i = 0; i < count; i++)
        assert_true(has_nonzero_grad(inputs[i]));

    tensor_free(x);
    linear_attention_free(layer);
}

static void test_linear_attention_gradients_bilinear(void **state)
{
    (void)state;
    check_layer_gradients(SCORE_BILINEAR, "layer gradients, bilinear scorer");
}

static void test_linear_attention_gradients_net(void **state)
{
    (void)state;
    check_layer_gradients(SCORE_NET, "layer gradients, net scorer");
}

static Tensor *mlp_output(Tape *tape, Tensor **inputs, void *context)
{
    return mlp_forward(tape, context, inputs[0]);
}

static void check_mlp_gradients(MlpActivation activation, const char *label)
{
    Rng rng;
    rng_seed(&rng, 61, 0);
    Mlp *mlp = mlp_new(WIDTH, HIDDEN_WIDTH, VALUE_WIDTH, activation, "mlp", &rng, NULL);
    assert_non_null(mlp);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 62);
    Tensor *inputs[5] = {x, mlp->hidden_weight, mlp->hidden_bias, mlp->out_weight,
                         mlp->out_bias};

    GradcheckOptions options = gradcheck_default_options();
    if (activation == MLP_RELU) {
        Tape tape;
        tape_init(&tape);
        Tensor *pre = op_linear(&tape, x, mlp->hidden_weight, mlp->hidden_bias);
        assert_true(min_abs(pre) > 2.0f * RELU_STEP);
        tape_free(&tape);
        options = relu_options();
    }

    GradcheckResult result = gradcheck(label, mlp_output, inputs, 5, mlp, options);
    assert_int_equal(result.mismatches, 0);
    for (int i = 0; i < 5; i++)
        assert_true(has_nonzero_grad(inputs[i]));

    tensor_free(x);
    mlp_free(mlp);
}

static void test_mlp_gradients_relu(void **state)
{
    (void)state;
    check_mlp_gradients(MLP_RELU, "mlp gradients, relu");
}

static void test_mlp_gradients_gelu(void **state)
{
    (void)state;
    check_mlp_gradients(MLP_GELU, "mlp gradients, gelu");
}

/* ------------------------------------------------------------------------- */
/* The MLP by hand                                                            */
/* ------------------------------------------------------------------------- */

/*
 * W1 = [[1, -1], [2, 0.5]], b1 = [0, -1], W2 = [[1, 2]], b2 = [0.5], x = [1, 2]:
 * W1 x + b1 = [1 - 2, 2 + 1 - 1] = [-1, 2]; relu gives [0, 2];
 * W2 [0, 2] + b2 = 4 + 0.5 = 4.5. The second vector x = [-1, 0] gives
 * W1 x + b1 = [-1, -3], relu [0, 0], output 0.5.
 */
static void test_mlp_forward_hand_computed(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 71, 0);
    Mlp *mlp = mlp_new(2, 2, 1, MLP_RELU, "mlp", &rng, NULL);
    assert_non_null(mlp);
    const float w1[] = {1.0f, -1.0f, 2.0f, 0.5f}, b1[] = {0.0f, -1.0f};
    const float w2[] = {1.0f, 2.0f}, b2[] = {0.5f};
    memcpy(mlp->hidden_weight->data, w1, sizeof w1);
    memcpy(mlp->hidden_bias->data, b1, sizeof b1);
    memcpy(mlp->out_weight->data, w2, sizeof w2);
    memcpy(mlp->out_bias->data, b2, sizeof b2);
    const float values[] = {1.0f, 2.0f, -1.0f, 0.0f};
    Tensor *x = checks_tensor_from(shape2(2, 2), values, false);
    Tape tape;
    tape_init(&tape);

    Tensor *y = mlp_forward(&tape, mlp, x);
    const float expected[] = {4.5f, 0.5f};
    assert_int_equal(y->size, 2);
    assert_true(checks_near("mlp by hand", y->data, expected, 2, 1e-6f, 0.0f));

    tape_free(&tape);
    tensor_free(x);
    mlp_free(mlp);
}

/* ------------------------------------------------------------------------- */
/* Multiply-add counts                                                        */
/* ------------------------------------------------------------------------- */

/* n = 3 words, D = 2, Dk = 1, Dv = 2, Dh = 3. */
static const AttentionWidths SMALL = {.width = 2, .key_width = 1, .value_width = 2,
                                      .hidden_width = 3};

/*
 * Hand count, bilinear scorer, one product at a time:
 *   W_Q x_q: 1 row of 2 per word, 3 words             ->  6
 *   W_K x_k: the same                                 ->  6
 *   A x_q:   2 rows of 2 per word, 3 words            -> 12
 *   B x_k:   the same                                 -> 12
 *   scores:  9 pairs, a dot product of length 1       ->  9
 *   weighted sum: 9 pairs, a vector of 2 each         -> 18
 *   MLP:     3 vectors, 2x3 in and 2x3 out = 12 each  -> 36
 * total 6 + 6 + 12 + 12 + 9 + 18 + 36 = 99.
 */
static void test_linear_attention_cost_hand_count_bilinear(void **state)
{
    (void)state;
    AttentionCost cost;
    assert_true(linear_attention_cost(3, SMALL, SCORE_BILINEAR, &cost));
    assert_true(cost.projections == 36);
    assert_true(cost.scores == 9);
    assert_true(cost.combine == 18);
    assert_true(cost.nets == 36);
    assert_true(cost.total == 99);
}

/*
 * Hand count, net scorer: no W_Q, W_K; A and B 24; the net 2D -> Dk -> 1 is
 * 4 + 1 = 5 per pair, 9 pairs 45; weighted sum 18; MLP 36. Total 123.
 */
static void test_linear_attention_cost_hand_count_net(void **state)
{
    (void)state;
    AttentionCost cost;
    assert_true(linear_attention_cost(3, SMALL, SCORE_NET, &cost));
    assert_true(cost.projections == 24);
    assert_true(cost.scores == 45);
    assert_true(cost.total == 123);
}

/*
 * Hand count, stage 05's design: scoring net 5 per pair (45); weighted sum
 * 18; representation net 2D -> Dh -> Dv is 4*3 + 3*2 = 18 per pair (162).
 * Total 45 + 18 + 162 = 225.
 */
static void test_pair_nets_cost_hand_count(void **state)
{
    (void)state;
    AttentionCost cost;
    assert_true(pair_nets_cost(3, SMALL, &cost));
    assert_true(cost.projections == 0);
    assert_true(cost.scores == 45);
    assert_true(cost.combine == 18);
    assert_true(cost.nets == 162);
    assert_true(cost.total == 225);
}

/*
 * The tape counts the multiply-adds of every matrix product it runs
 * (tape->multiply_adds), independently of the formula. One forward pass of
 * the layer and the MLP on one sentence must match linear_attention_cost.
 */
static void check_cost_against_tape(ScoreKind kind, const char *label)
{
    enum { N = 5, D = 6, DK = 3, DV = 4, DH = 7 };
    const AttentionWidths widths = {.width = D, .key_width = DK, .value_width = DV,
                                    .hidden_width = DH};
    Rng rng;
    rng_seed(&rng, 91, 0);
    LinearAttention *layer = linear_attention_new(D, DK, DV, kind, "attention", &rng, NULL);
    Mlp *mlp = mlp_new(DV, DH, DV, MLP_RELU, "mlp", &rng, NULL);
    assert_non_null(layer);
    assert_non_null(mlp);
    Tensor *x = checks_random_tensor(shape3(1, N, D), 92);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    mlp_forward(&tape, mlp, linear_attention_forward(&tape, layer, x, NULL));
    AttentionCost cost;
    assert_true(linear_attention_cost(N, widths, kind, &cost));
    if (tape.multiply_adds != cost.total)
        fprintf(stderr, "%s: tape counted %llu, formula %llu\n", label, tape.multiply_adds,
                (unsigned long long)cost.total);
    assert_true(tape.multiply_adds == cost.total);

    tape_free(&tape);
    tensor_free(x);
    mlp_free(mlp);
    linear_attention_free(layer);
}

static void test_linear_attention_cost_matches_tape_bilinear(void **state)
{
    (void)state;
    check_cost_against_tape(SCORE_BILINEAR, "tape count, bilinear scorer");
}

static void test_linear_attention_cost_matches_tape_net(void **state)
{
    (void)state;
    check_cost_against_tape(SCORE_NET, "tape count, net scorer");
}

static void test_cost_rejects_overflow_and_bad_widths(void **state)
{
    (void)state;
    AttentionCost cost = {.total = 7};
    assert_false(linear_attention_cost(UINT64_MAX / 2, SMALL, SCORE_BILINEAR, &cost));
    assert_false(pair_nets_cost(UINT64_MAX / 2, SMALL, &cost));
    AttentionWidths zero = SMALL;
    zero.key_width = 0;
    assert_false(linear_attention_cost(3, zero, SCORE_BILINEAR, &cost));
    assert_true(cost.total == 7);

    uint64_t count = 7;
    assert_false(mlp_cost(UINT64_MAX, 2, 3, 2, &count));
    assert_true(count == 7);
}

/* ------------------------------------------------------------------------- */
/* Construction                                                               */
/* ------------------------------------------------------------------------- */

static void test_linear_attention_new_rejects_bad_arguments(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 81, 0);
    assert_null(linear_attention_new(0, 2, 2, SCORE_BILINEAR, "a", &rng, NULL));
    assert_null(linear_attention_new(2, 2, 2, (ScoreKind)7, "a", &rng, NULL));
    assert_null(linear_attention_new(2, 2, 2, SCORE_BILINEAR, "", &rng, NULL));
    assert_null(mlp_new(2, 0, 2, MLP_RELU, "m", &rng, NULL));
    assert_null(mlp_new(2, 2, 2, MLP_RELU, NULL, &rng, NULL));
}

/* A second layer under the same name fails and leaves the list as the first left it. */
static void test_linear_attention_duplicate_name_leaves_params(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 82, 0);
    ParamList *params = params_new();
    assert_non_null(params);
    LinearAttention *first =
        linear_attention_new(3, 2, 2, SCORE_NET, "attention", &rng, params);
    assert_non_null(first);
    assert_int_equal(params->count, 5);

    assert_null(linear_attention_new(3, 2, 2, SCORE_NET, "attention", &rng, params));
    assert_int_equal(params->count, 5);
    Mlp *mlp = mlp_new(2, 2, 2, MLP_GELU, "mlp", &rng, params);
    assert_non_null(mlp);
    assert_int_equal(params->count, 9);
    assert_null(mlp_new(2, 2, 2, MLP_GELU, "mlp", &rng, params));
    assert_int_equal(params->count, 9);

    mlp_free(mlp);
    linear_attention_free(first);
    params_free(params);
}

static void test_mlp_activation_names(void **state)
{
    (void)state;
    MlpActivation activation = MLP_RELU;
    assert_true(mlp_activation_from_name("gelu", &activation));
    assert_int_equal(activation, MLP_GELU);
    assert_false(mlp_activation_from_name("tanh", &activation));
    assert_int_equal(activation, MLP_GELU);
    assert_string_equal(mlp_activation_name(MLP_RELU), "relu");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_attention_pairs_identity_bilinear),
        cmocka_unit_test(test_linear_attention_pairs_identity_net),
        cmocka_unit_test(test_linear_attention_bilinear_identity),
        cmocka_unit_test(test_linear_attention_score_scale),
        cmocka_unit_test(test_linear_attention_matches_loop_reference),
        cmocka_unit_test(test_linear_attention_weights_sum_to_one),
        cmocka_unit_test(test_linear_attention_gradients_bilinear),
        cmocka_unit_test(test_linear_attention_gradients_net),
        cmocka_unit_test(test_mlp_gradients_relu),
        cmocka_unit_test(test_mlp_gradients_gelu),
        cmocka_unit_test(test_mlp_forward_hand_computed),
        cmocka_unit_test(test_linear_attention_cost_hand_count_bilinear),
        cmocka_unit_test(test_linear_attention_cost_hand_count_net),
        cmocka_unit_test(test_pair_nets_cost_hand_count),
        cmocka_unit_test(test_linear_attention_cost_matches_tape_bilinear),
        cmocka_unit_test(test_linear_attention_cost_matches_tape_net),
        cmocka_unit_test(test_cost_rejects_overflow_and_bad_widths),
        cmocka_unit_test(test_linear_attention_new_rejects_bad_arguments),
        cmocka_unit_test(test_linear_attention_duplicate_name_leaves_params),
        cmocka_unit_test(test_mlp_activation_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
