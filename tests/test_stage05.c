/*
 * Tests of stage 05, scored attention. They cover the weights every query
 * gives its keys (softmax along row q of a [B, n, n] score tensor), the
 * weighted sum of pair vectors, and the layer with a representation net and
 * a scoring net.
 *
 * Expected values come from five sources, named in each test: hand
 * computation (the 10/90 example, scores of +-1000, multiply-add counts),
 * identities (rows sum to 1, a constant added to one row changes nothing),
 * plain loops written in the test (combining pairs, the whole layer),
 * central differences (gradcheck.h), and the construction of the roaring
 * task's sentences.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "05_scored_attention/scored_attention.h"
#include "05_scored_attention/scored_model.h"
#include "tasks.h"

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
    float scores[9] = {-INFINITY, logf(10.0f), -INFINITY, logf(90.0f), logf(10.0f), -INFINITY,
                       0,         0,           0};
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
    bool shape_ok =
        y->shape.ndim == 3 && y->shape.dim[0] == B && y->shape.dim[1] == N && y->shape.dim[2] == D;
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

/* ------------------------------------------------------------------------- */
/* attention_normalise_plain                                                   */
/* ------------------------------------------------------------------------- */

/*
 * Hand values of the worked example: importances (fire 10, others 0) give
 * fire weight 10/10 = 1; (lion 90, fire 10) give 90/100 = 0.9 and 0.1.
 */
static void test_attention_normalise_plain_worked_example(void **state)
{
    (void)state;
    float tree[4] = {0, 0, 10, 0}, lion[4] = {90, 0, 10, 0};
    float tree_expected[4] = {0, 0, 1, 0}, lion_expected[4] = {0.9f, 0, 0.1f, 0};
    float weights[4];
    assert_true(attention_normalise_plain(tree, 4, weights));
    assert_true(checks_near("plain, tree", weights, tree_expected, 4, 1e-7f, 0.0f));
    assert_true(attention_normalise_plain(lion, 4, weights));
    assert_true(checks_near("plain, lion", weights, lion_expected, 4, 1e-7f, 0.0f));
}

/* Hand values: sums of 0 and -2 have no weights, and the output is left as it was. */
static void test_attention_normalise_plain_rejects_sums(void **state)
{
    (void)state;
    float zero_sum[3] = {2, -2, 0}, negative_sum[3] = {1, -3, 0};
    float weights[3] = {7, 7, 7}, untouched[3] = {7, 7, 7};
    assert_false(attention_normalise_plain(zero_sum, 3, weights));
    assert_false(attention_normalise_plain(negative_sum, 3, weights));
    assert_memory_equal(weights, untouched, sizeof weights);
}

/* ------------------------------------------------------------------------- */
/* The scored attention layer                                                  */
/* ------------------------------------------------------------------------- */

/* Returns relu(W [a ; b] + bias) for output o of a pair net, in double. */
static double pair_net_output(const PairNet *net, const float *a, const float *b, int din, int o)
{
    const float *row = net->weight->data + (size_t)o * 2 * din;
    double pre = net->bias->data[o];
    for (int j = 0; j < din; j++)
        pre += (double)row[j] * a[j] + (double)row[din + j] * b[j];
    return pre > 0.0 ? pre : 0.0;
}

/* Computes the score s_qk = w . relu(S [x_q ; x_k] + c) with plain loops. */
static double score_by_loop(const ScoredAttention *layer, const float *xq, const float *xk)
{
    double score = 0.0;
    for (int h = 0; h < layer->score_width; h++)
        score += (double)layer->score_out->data[h] *
                 pair_net_output(layer->score_hidden, xq, xk, layer->in_width, h);
    return score;
}

/* Computes y_q = sum_k softmax_k(s_qk) r_qk for one sentence x [n, Din] into out [n, Dout]. */
static void scored_attention_by_loop(const ScoredAttention *layer, const float *x, int n,
                                     float *out)
{
    int din = layer->in_width, dout = layer->out_width;
    for (int q = 0; q < n; q++) {
        double scores[8], max = -INFINITY, total = 0.0;
        for (int k = 0; k < n; k++) {
            scores[k] = score_by_loop(layer, x + q * din, x + k * din);
            max = scores[k] > max ? scores[k] : max;
        }
        for (int k = 0; k < n; k++)
            total += exp(scores[k] - max);
        for (int o = 0; o < dout; o++) {
            double sum = 0.0;
            for (int k = 0; k < n; k++)
                sum += exp(scores[k] - max) / total *
                       pair_net_output(layer->represent, x + q * din, x + k * din, din, o);
            out[q * dout + o] = (float)sum;
        }
    }
}

/* Reference: both nets, the softmax and the weighted sum written out as loops, per sentence. */
static void test_scored_attention_matches_loop(void **state)
{
    (void)state;
    enum { B = 2, N = 4, DIN = 3, DOUT = 5, HS = 6 };
    Rng rng;
    rng_seed(&rng, 12, 0);
    ScoredAttention *layer = scored_attention_new(DIN, DOUT, HS, &rng, NULL);
    assert_non_null(layer);
    Tensor *x = tensor_new(shape3(B, N, DIN), false);
    checks_fill(x, 44u, -2.0f, 2.0f);
    float expected[B * N * DOUT];
    for (int b = 0; b < B; b++)
        scored_attention_by_loop(layer, x->data + b * N * DIN, N, expected + b * N * DOUT);
    Tape tape;
    tape_init(&tape);

    Tensor *weights = NULL;
    Tensor *y = scored_attention_forward(&tape, layer, x, &weights);
    bool shape_ok = y->shape.ndim == 3 && y->shape.dim[0] == B && y->shape.dim[1] == N &&
                    y->shape.dim[2] == DOUT;
    bool weights_ok = weights && weights->shape.dim[0] == B && weights->shape.dim[1] == N &&
                      weights->shape.dim[2] == N;
    bool near =
        checks_near("scored attention vs loop", y->data, expected, B * N * DOUT, 1e-5f, 1e-4f);

    tape_free(&tape);
    tensor_free(x);
    scored_attention_free(layer);
    assert_true(shape_ok);
    assert_true(weights_ok);
    assert_true(near);
}

static Tensor *build_scored_attention(Tape *tape, Tensor **in, void *context)
{
    return scored_attention_forward(tape, context, in[0], NULL);
}

/*
 * Central differences: the input and all five tensors of the layer. The
 * step is 1e-3 instead of the default 1e-2 because a step across a relu's
 * kink (a pre-activation within the step of 0) gives a wrong numeric slope.
 */
static void test_scored_attention_grad(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 17, 0);
    ScoredAttention *layer = scored_attention_new(3, 4, 5, &rng, NULL);
    Tensor *x = checks_random_tensor(shape3(2, 3, 3), 61u);
    Tensor *inputs[6] = {x,
                         layer->represent->weight,
                         layer->represent->bias,
                         layer->score_hidden->weight,
                         layer->score_hidden->bias,
                         layer->score_out};
    GradcheckOptions options = gradcheck_default_options();
    options.eps = 1e-3f;

    GradcheckResult result =
        gradcheck("scored attention layer", build_scored_attention, inputs, 6, layer, options);
    tensor_free(x);
    scored_attention_free(layer);
    assert_int_equal(result.mismatches, 0);
    assert_false(result.all_zero);
}

/* Two layers share one list: 2 x (two pair nets + score_out) = 10 tensors, names distinct. */
static void test_scored_attention_params_shared_list(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 2, 0);
    ParamList *params = params_new();
    ScoredAttention *first = scored_attention_new(3, 4, 2, &rng, params);
    ScoredAttention *second = scored_attention_new(3, 4, 2, &rng, params);
    assert_non_null(first);
    assert_non_null(second);
    assert_int_equal(params->count, 10);
    assert_int_equal(params_count_elements(params), 2 * (4 * 6 + 4 + 2 * 6 + 2 + 2));
    scored_attention_free(first);
    scored_attention_free(second);
    params_free(params);
}

static void test_scored_attention_rejects_bad_widths(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 2, 0);
    ParamList *params = params_new();
    assert_null(scored_attention_new(0, 4, 2, &rng, params));
    assert_null(scored_attention_new(3, 4, 0, &rng, params));
    assert_int_equal(params->count, 0);
    params_free(params);
}

/*
 * Hand value: n = 3, Din = 4, Dout = 5, Hs = 2 gives per pair
 * 2*4*(5 + 2) + 2 + 5 = 63, times 9 pairs = 567 multiply-adds.
 */
static void test_scored_attention_multiply_adds_hand(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 2, 0);
    ScoredAttention *layer = scored_attention_new(4, 5, 2, &rng, NULL);
    size_t count = 0;
    assert_true(scored_attention_multiply_adds(3, layer, &count));
    assert_int_equal(count, 567);
    assert_false(scored_attention_multiply_adds(SIZE_MAX / 2, layer, &count));
    assert_int_equal(count, 567);
    scored_attention_free(layer);
}

/* ------------------------------------------------------------------------- */
/* The classifier                                                              */
/* ------------------------------------------------------------------------- */

/* A tiny model: V = 6, P = 5, D = 3, Hs = 2, 4 classes, query word 5. */
static ScoredModel *new_tiny_model(void)
{
    Rng rng;
    rng_seed(&rng, 8, 0);
    ScoredModelConfig config = {
        .vocab_size = 6, .positions = 5, .width = 3, .score_width = 2, .classes = 4, .query_id = 5};
    return scored_model_new(config, &rng);
}

/*
 * Reference: the logits equal the readout applied to the layer's output at
 * the query word (position 2 in sentence 0, and the last word in sentence
 * 1, which has no query word), computed here from the layer and the tables.
 */
static void test_scored_model_reads_query_row(void **state)
{
    (void)state;
    ScoredModel *model = new_tiny_model();
    assert_non_null(model);
    const int ids[8] = {1, 2, 5, 3, 4, 4, 1, 2};
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    int queries[2];
    Tensor *logits = scored_model_run(&tape, model, ids, 2, 4, NULL, queries);

    /* The same steps by hand: x = word row + position row, the layer, then the readout. */
    Tensor *x = tape_tensor(&tape, shape3(2, 4, 3), false);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 3; j++)
            x->data[i * 3 + j] = model->word_table->data[ids[i] * 3 + j] +
                                 model->position_table->data[(i % 4) * 3 + j];
    Tensor *y = scored_attention_forward(&tape, model->layer, x, NULL);
    float expected[8];
    const int rows[2] = {2, 7};
    for (int b = 0; b < 2; b++)
        for (int c = 0; c < 4; c++) {
            double sum = model->readout_bias->data[c];
            for (int j = 0; j < 3; j++)
                sum += (double)model->readout_weight->data[c * 3 + j] * y->data[rows[b] * 3 + j];
            expected[b * 4 + c] = (float)sum;
        }
    bool near = checks_near("model logits", logits->data, expected, 8, 1e-5f, 1e-5f);

    tape_free(&tape);
    scored_model_free(model);
    assert_int_equal(queries[0], 2);
    assert_int_equal(queries[1], 3);
    assert_true(near);
}

/* Builds the logits of two fixed sentences; the checked inputs are the model's own tensors. */
static Tensor *build_model(Tape *tape, Tensor **in, void *context)
{
    (void)in;
    static const int ids[8] = {1, 2, 5, 3, 4, 5, 1, 2};
    return scored_model_run(tape, context, ids, 2, 4, NULL, NULL);
}

/* Central differences: word and position tables, the readout, through the layer. */
static void test_scored_model_grad(void **state)
{
    (void)state;
    ScoredModel *model = new_tiny_model();
    Tensor *inputs[4] = {model->word_table, model->position_table, model->readout_weight,
                         model->readout_bias};
    assert_gradients_match("scored model", build_model, inputs, 4, model);
    scored_model_free(model);
}

static void test_scored_model_rejects_bad_config(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 8, 0);
    ScoredModelConfig config = {
        .vocab_size = 6, .positions = 5, .width = 3, .score_width = 2, .classes = 4, .query_id = 6};
    assert_null(scored_model_new(config, &rng));
    config.query_id = 5;
    config.positions = 0;
    assert_null(scored_model_new(config, &rng));
}

/* ------------------------------------------------------------------------- */
/* The roaring task                                                            */
/* ------------------------------------------------------------------------- */

/* Sentences drawn per property test. */
#define ROAR_SAMPLES 500

static void test_roar_task_rejects_bad_length(void **state)
{
    (void)state;
    assert_null(roar_task_new(ROAR_TASK_MIN_LENGTH - 1));
    assert_null(roar_task_new(5000));
}

/*
 * Construction: every sentence starts "there was a" and has one "roaring",
 * and its label is the class of the word that roar_task_find_roarer finds.
 */
static void test_roar_task_label_names_roarer(void **state)
{
    (void)state;
    RoarTask *task = roar_task_new(12);
    assert_non_null(task);
    Rng rng;
    rng_seed(&rng, 4, 1);
    int ids[12], label, animals = 0;
    int there = vocab_id(task->vocab, "there"), a = vocab_id(task->vocab, "a");

    for (int s = 0; s < ROAR_SAMPLES; s++) {
        roar_task_sample(task, &rng, 1, ids, &label);
        int roarer = roar_task_find_roarer(task, ids, 12);
        int roarings = 0;
        for (int t = 0; t < 12; t++)
            roarings += ids[t] == task->roaring_id;
        assert_int_equal(ids[0], there);
        assert_int_equal(ids[2], a);
        assert_int_equal(roarings, 1);
        assert_true(roarer >= 0);
        assert_int_equal(roar_task_class_of(task, ids[roarer]), label);
        animals += label < ROAR_TASK_ANIMALS;
    }

    /* Animal or thing with probability 1/2: 500 draws fall in 200..300 except with odds < 1e-5. */
    assert_in_range(animals, 200, 300);
    roar_task_free(task);
}

/* Construction: the extra words move the fire word, so it takes several positions. */
static void test_roar_task_fire_word_moves(void **state)
{
    (void)state;
    RoarTask *task = roar_task_new(13);
    Rng rng;
    rng_seed(&rng, 6, 1);
    int ids[13], label;
    bool seen[13] = {false};
    for (int s = 0; s < ROAR_SAMPLES; s++) {
        roar_task_sample(task, &rng, 1, ids, &label);
        for (int t = 0; t < 13; t++)
            if (roar_task_class_of(task, ids[t]) >= ROAR_TASK_ANIMALS)
                seen[t] = true;
    }
    int positions = 0;
    for (int t = 0; t < 13; t++)
        positions += seen[t];
    assert_true(positions >= 4);
    roar_task_free(task);
}

/* Encodes @p text with the task's vocabulary into ids [16]; returns the word count. */
static int encode_words(const RoarTask *task, const char *text, int *ids)
{
    TokenList words;
    token_list_init(&words);
    assert_true(tokenize(text, strlen(text), &words, NULL, 0));
    assert_true(words.count <= 16);
    vocab_encode(task->vocab, &words, ids);
    int count = (int)words.count;
    token_list_free(&words);
    return count;
}

/* Hand positions in the two sentences of the worked example and in sentences that break the rule.
 */
static void test_roar_task_find_roarer_hand(void **state)
{
    (void)state;
    RoarTask *task = roar_task_new(10);
    int ids[16];
    int n = encode_words(task, "there was a tree on fire and it was roaring", ids);
    assert_int_equal(roar_task_find_roarer(task, ids, n), 5);
    assert_int_equal(roar_task_find_roaring(task, ids, n), 9);
    n = encode_words(task, "there was a lion on fire and it was roaring", ids);
    assert_int_equal(roar_task_find_roarer(task, ids, n), 3);
    n = encode_words(task, "there was a lion on fire", ids);
    assert_int_equal(roar_task_find_roarer(task, ids, n), -1);
    n = encode_words(task, "roaring lion", ids);
    assert_int_equal(roar_task_find_roarer(task, ids, n), -1);
    roar_task_free(task);
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
        cmocka_unit_test(test_attention_normalise_plain_worked_example),
        cmocka_unit_test(test_attention_normalise_plain_rejects_sums),
        cmocka_unit_test(test_scored_attention_matches_loop),
        cmocka_unit_test(test_scored_attention_grad),
        cmocka_unit_test(test_scored_attention_params_shared_list),
        cmocka_unit_test(test_scored_attention_rejects_bad_widths),
        cmocka_unit_test(test_scored_attention_multiply_adds_hand),
        cmocka_unit_test(test_scored_model_reads_query_row),
        cmocka_unit_test(test_scored_model_grad),
        cmocka_unit_test(test_scored_model_rejects_bad_config),
        cmocka_unit_test(test_roar_task_rejects_bad_length),
        cmocka_unit_test(test_roar_task_label_names_roarer),
        cmocka_unit_test(test_roar_task_fire_word_moves),
        cmocka_unit_test(test_roar_task_find_roarer_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
