/*
 * Tests of the stage 08 transformer: the causal mask, the score scaling,
 * the gradients of one block, the width of H heads, the output shapes, the
 * counts of parameters and multiply-adds, and a short next-word training.
 *
 * Expected values come from identities (stated per test), hand formulas,
 * or central differences (gradcheck). The comparison with an independent
 * framework is in test_stage08_reference.c.
 */
#include "op_checks.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "08_transformer_block/transformer.h"
#include "init.h"

/* Sizes of the small models of these tests. */
#define TEST_VOCAB 7
#define TEST_POSITIONS 8
#define TEST_WIDTH 8
#define TEST_HEADS 2
#define TEST_MLP 12
#define TEST_LAYERS 2
#define TEST_CLASSES 3
#define TEST_BATCH 2
#define TEST_LENGTH 6

static TransformerConfig test_config(bool causal)
{
    return (TransformerConfig){.vocab_size = TEST_VOCAB, .positions = TEST_POSITIONS,
                               .width = TEST_WIDTH, .heads = TEST_HEADS, .mlp_width = TEST_MLP,
                               .layers = TEST_LAYERS, .classes = TEST_CLASSES, .causal = causal};
}

static Transformer *new_test_model(TransformerConfig config, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 0);
    Transformer *model = transformer_new(config, &rng);
    assert_non_null(model);
    return model;
}

/* Fills ids [count] with the fixed pattern (3 i + 1) mod V. */
static void fill_ids(int *ids, int count)
{
    for (int i = 0; i < count; i++)
        ids[i] = (3 * i + 1) % TEST_VOCAB;
}

/* Copies the features [batch, length, D] of ids into out, computed without gradients. */
static void features_of(const Transformer *model, const int *ids, int batch, int length,
                        float *out)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *features = transformer_features(&tape, model, ids, batch, length);
    memcpy(out, features->data, features->size * sizeof(float));
    tape_free(&tape);
}

/* ------------------------------------------------------------------------- */
/* The causal mask                                                            */
/* ------------------------------------------------------------------------- */

/*
 * Identity: with the mask, position q reads only words 0 .. q, so changing
 * word t leaves the outputs at positions 0 .. t-1 bit for bit the same, and
 * the output at t changes.
 */
static void test_causal_later_word_keeps_earlier_outputs(void **state)
{
    (void)state;
    Transformer *model = new_test_model(test_config(true), 1);
    const size_t row = TEST_WIDTH;
    int ids[TEST_LENGTH], changed[TEST_LENGTH];
    float base[TEST_LENGTH * TEST_WIDTH], after[TEST_LENGTH * TEST_WIDTH];
    fill_ids(ids, TEST_LENGTH);
    features_of(model, ids, 1, TEST_LENGTH, base);

    for (int t = 0; t < TEST_LENGTH; t++) {
        memcpy(changed, ids, sizeof ids);
        changed[t] = (ids[t] + 1) % TEST_VOCAB;
        features_of(model, changed, 1, TEST_LENGTH, after);
        assert_memory_equal(base, after, (size_t)t * row * sizeof(float));
        assert_memory_not_equal(base + (size_t)t * row, after + (size_t)t * row,
                                row * sizeof(float));
    }
    transformer_free(model);
}

/* Control for the test above: without the mask, changing the last word changes position 0. */
static void test_unmasked_later_word_changes_first_output(void **state)
{
    (void)state;
    Transformer *model = new_test_model(test_config(false), 1);
    int ids[TEST_LENGTH];
    float base[TEST_LENGTH * TEST_WIDTH], after[TEST_LENGTH * TEST_WIDTH];
    fill_ids(ids, TEST_LENGTH);
    features_of(model, ids, 1, TEST_LENGTH, base);
    ids[TEST_LENGTH - 1] = (ids[TEST_LENGTH - 1] + 1) % TEST_VOCAB;
    features_of(model, ids, 1, TEST_LENGTH, after);
    assert_memory_not_equal(base, after, TEST_WIDTH * sizeof(float));
    transformer_free(model);
}

/* Hand value: every weight above the diagonal is exactly 0, and every row still sums to 1. */
static void test_causal_weights_zero_above_diagonal(void **state)
{
    (void)state;
    Transformer *model = new_test_model(test_config(true), 2);
    int ids[TEST_BATCH * TEST_LENGTH];
    fill_ids(ids, TEST_BATCH * TEST_LENGTH);
    Tensor *weights[TEST_LAYERS * TEST_HEADS];
    Tape tape;
    tape_init(&tape);
    transformer_features_with(&tape, model, ids, TEST_BATCH, TEST_LENGTH,
                              transformer_standard_additions(), NULL, weights);

    for (int i = 0; i < TEST_LAYERS * TEST_HEADS; i++) {
        const float *w = weights[i]->data;
        for (int b = 0; b < TEST_BATCH; b++) {
            for (int q = 0; q < TEST_LENGTH; q++) {
                const float *row = w + ((size_t)b * TEST_LENGTH + (size_t)q) * TEST_LENGTH;
                double sum = 0.0;
                for (int k = 0; k < TEST_LENGTH; k++) {
                    if (k > q)
                        assert_true(row[k] == 0.0f);
                    sum += row[k];
                }
                assert_float_equal(sum, 1.0, 1e-5);
            }
        }
    }
    tape_free(&tape);
    transformer_free(model);
}

/* ------------------------------------------------------------------------- */
/* Scaling and heads                                                          */
/* ------------------------------------------------------------------------- */

/*
 * Returns stage 07 attention on D = 8 with @p heads heads of width 8 / heads,
 * every head's scores scaled by 1/sqrt(head width) as the transformer does.
 */
static MultiHeadAttention *new_attention(int heads, bool output_projection)
{
    Rng rng;
    rng_seed(&rng, 5, 0);
    int head_width = TEST_WIDTH / heads;
    MultiHeadAttention *attention = multi_head_new(TEST_WIDTH, heads, head_width, head_width,
                                                   SCORE_BILINEAR, output_projection, "attention",
                                                   &rng, NULL);
    assert_non_null(attention);
    for (int h = 0; h < heads; h++)
        attention->head[h]->score_scale = 1.0f / sqrtf((float)head_width);
    return attention;
}

/*
 * Identity: dividing the scores by sqrt(Dk) is the same as dividing W_Q by
 * sqrt(Dk), because s = (W_Q x_q) . (W_K x_k) is linear in W_Q. With
 * Dk = 4 the factor is 1/2, a power of two, so every product is scaled
 * exactly and the two outputs agree bit for bit.
 */
static void test_scaling_equals_scaled_query_weights(void **state)
{
    (void)state;
    MultiHeadAttention *attention = new_attention(TEST_HEADS, true);
    Tensor *x = checks_random_tensor(shape3(TEST_BATCH, TEST_LENGTH, TEST_WIDTH), 17);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *scaled = transformer_attention_forward(&tape, attention, x, true, NULL);

    for (int h = 0; h < TEST_HEADS; h++) {
        Tensor *query = attention->head[h]->query;
        for (size_t i = 0; i < query->size; i++)
            query->data[i] *= 0.5f;
        attention->head[h]->score_scale = 1.0f;
    }
    Tensor *unscaled = transformer_attention_forward(&tape, attention, x, true, NULL);
    assert_int_equal(scaled->size, unscaled->size);
    assert_memory_equal(scaled->data, unscaled->data, scaled->size * sizeof(float));

    tape_free(&tape);
    tensor_free(x);
    multi_head_free(attention);
}

/*
 * Computes by hand, in double with plain loops, the weights of one head for
 * one sentence: softmax over k of s_qk / sqrt(Dk), with s_qk the dot product
 * of W_Q x_q and W_K x_k, and keys k > q left out when @p causal.
 * Shapes: x [n, D], query and key [Dk, D], out [n, n].
 */
static void hand_weights(const float *x, const float *query, const float *key, int n, int D,
                         int Dk, bool causal, double *out)
{
    for (int q = 0; q < n; q++) {
        double largest = -INFINITY, sum = 0.0;
        int last = causal ? q : n - 1;
        for (int k = 0; k <= last; k++) {
            double dot = 0.0;
            for (int j = 0; j < Dk; j++) {
                double qj = 0.0, kj = 0.0;
                for (int d = 0; d < D; d++) {
                    qj += (double)query[j * D + d] * x[q * D + d];
                    kj += (double)key[j * D + d] * x[k * D + d];
                }
                dot += qj * kj;
            }
            out[q * n + k] = dot / sqrt((double)Dk);
            largest = fmax(largest, out[q * n + k]);
        }
        for (int k = 0; k <= last; k++)
            sum += exp(out[q * n + k] - largest);
        for (int k = 0; k < n; k++)
            out[q * n + k] = k <= last ? exp(out[q * n + k] - largest) / sum : 0.0;
    }
}

/* Hand computation (hand_weights): head 0's weights of a stage 07 layer with score_scale 1/2. */
static void test_scaled_weights_match_hand_softmax(void **state)
{
    (void)state;
    MultiHeadAttention *attention = new_attention(TEST_HEADS, true);
    const LinearAttention *head = attention->head[0];
    Tensor *x = checks_random_tensor(shape3(1, TEST_LENGTH, TEST_WIDTH), 23);
    Tensor *weights[TEST_HEADS];
    double expected[TEST_LENGTH * TEST_LENGTH];
    Tape tape;
    tape_init(&tape);
    transformer_attention_forward(&tape, attention, x, false, weights);
    hand_weights(x->data, head->query->data, head->key->data, TEST_LENGTH, TEST_WIDTH,
                 head->key_width, false, expected);
    for (int i = 0; i < TEST_LENGTH * TEST_LENGTH; i++)
        assert_float_equal(weights[0]->data[i], expected[i], 1e-6);

    tape_free(&tape);
    tensor_free(x);
    multi_head_free(attention);
}

/* Returns the model parameter named @p name; fails the test when it is missing. */
static Tensor *find_param(Transformer *model, const char *name)
{
    ParamList *params = transformer_params(model);
    for (size_t i = 0; i < params->count; i++)
        if (strcmp(params->names[i], name) == 0)
            return params->tensors[i];
    fail_msg("the model has no parameter %s", name);
    return NULL;
}

/*
 * Hand computation (hand_weights): the model's own heads scale their scores
 * by 1/sqrt(Dh) and apply the mask. Without layer norms, block 1 reads the
 * embeddings E[w_t] + P[t], which the test adds up from the tables.
 */
static void test_model_weights_match_hand_softmax(void **state)
{
    (void)state;
    Transformer *model = new_test_model(test_config(true), 7);
    int ids[TEST_LENGTH];
    fill_ids(ids, TEST_LENGTH);
    float x[TEST_LENGTH * TEST_WIDTH];
    const Tensor *words = find_param(model, "word_embedding");
    const Tensor *positions = find_param(model, "position_embedding");
    for (int t = 0; t < TEST_LENGTH; t++)
        for (int d = 0; d < TEST_WIDTH; d++)
            x[t * TEST_WIDTH + d] = words->data[ids[t] * TEST_WIDTH + d] +
                                    positions->data[t * TEST_WIDTH + d];

    Tensor *weights[TEST_LAYERS * TEST_HEADS];
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    transformer_features_with(&tape, model, ids, 1, TEST_LENGTH,
                              (TransformerAdditions){.residual = true, .layer_norm = false}, NULL,
                              weights);
    for (int h = 0; h < TEST_HEADS; h++) {
        char query[64], key[64];
        snprintf(query, sizeof query, "block1.attention.head%d.query", h);
        snprintf(key, sizeof key, "block1.attention.head%d.key", h);
        double expected[TEST_LENGTH * TEST_LENGTH];
        hand_weights(x, find_param(model, query)->data, find_param(model, key)->data, TEST_LENGTH,
                     TEST_WIDTH, TEST_WIDTH / TEST_HEADS, true, expected);
        for (int i = 0; i < TEST_LENGTH * TEST_LENGTH; i++)
            assert_float_equal(weights[h]->data[i], expected[i], 1e-6);
    }
    tape_free(&tape);
    transformer_free(model);
}

/* Identity: without W_O the output width is the sum of the head widths, H * (D / H) = D. */
static void test_heads_output_width_is_sum(void **state)
{
    (void)state;
    const int head_counts[] = {1, 2, 4, 8};
    Tensor *x = checks_random_tensor(shape3(TEST_BATCH, TEST_LENGTH, TEST_WIDTH), 29);
    for (size_t i = 0; i < sizeof head_counts / sizeof head_counts[0]; i++) {
        int heads = head_counts[i];
        MultiHeadAttention *attention = new_attention(heads, false);
        Tensor *weights[8];
        Tape tape;
        tape_init(&tape);
        Tensor *out = transformer_attention_forward(&tape, attention, x, false, weights);
        assert_int_equal(out->shape.ndim, 3);
        assert_int_equal(out->shape.dim[2], heads * (TEST_WIDTH / heads));
        assert_int_equal(out->shape.dim[1], TEST_LENGTH);
        for (int h = 0; h < heads; h++)
            assert_int_equal(weights[h]->size, (size_t)TEST_BATCH * TEST_LENGTH * TEST_LENGTH);
        tape_free(&tape);
        multi_head_free(attention);
    }
    tensor_free(x);
}

/* ------------------------------------------------------------------------- */
/* Gradients of one block                                                     */
/* ------------------------------------------------------------------------- */

/* Inputs of the block gradient check: x, then every tensor of block 1. */
#define BLOCK_MAX_INPUTS 64

/* Runs block 0 with every addition (GradcheckFn); inputs[0] is x, the rest its tensors. */
static Tensor *block_forward(Tape *tape, Tensor **inputs, void *context)
{
    return transformer_block_forward(tape, context, 0, inputs[0], transformer_standard_additions(),
                                     NULL);
}

/*
 * Central differences: the gradients of x and of every tensor of one causal
 * block (layer norms, each head's W_Q, W_K, A, B, W_O, the MLP) match the
 * hand-written backward of every op on the way.
 */
static void test_block_gradients_match_differences(void **state)
{
    (void)state;
    TransformerConfig config = {.vocab_size = 5, .positions = 4, .width = 4, .heads = 2,
                                .mlp_width = 6, .layers = 1, .classes = 2, .causal = true};
    Transformer *model = new_test_model(config, 3);
    ParamList *params = transformer_params(model);
    Tensor *inputs[BLOCK_MAX_INPUTS];
    int count = 0;
    inputs[count++] = checks_random_tensor(shape3(2, 3, 4), 31);
    for (size_t i = 0; i < params->count; i++) {
        if (strncmp(params->names[i], "block1.", 7) != 0)
            continue;
        assert_true(count < BLOCK_MAX_INPUTS);
        /* Layer norm gains of exactly 1 and biases of 0 would hide a mixed-up gain and bias. */
        if (strstr(params->names[i], "norm"))
            checks_fill(params->tensors[i], 40u + (unsigned)i, 0.5f, 1.5f);
        inputs[count++] = params->tensors[i];
    }
    /* Two layer norms of 2 tensors, 2 heads of 4, W_O, an MLP of 4. */
    assert_int_equal(count, 1 + 4 + 2 * 4 + 1 + 4);

    GradcheckResult result = checks_gradients("transformer block", block_forward, inputs, count,
                                              model);
    assert_int_equal(result.mismatches, 0);
    assert_false(result.all_zero);

    tensor_free(inputs[0]);
    transformer_free(model);
}

/* ------------------------------------------------------------------------- */
/* Shapes, counts and invalid sizes                                           */
/* ------------------------------------------------------------------------- */

static void test_output_shapes(void **state)
{
    (void)state;
    Transformer *model = new_test_model(test_config(true), 4);
    int ids[TEST_BATCH * TEST_LENGTH];
    fill_ids(ids, TEST_BATCH * TEST_LENGTH);
    Tape tape;
    tape_init(&tape);

    Tensor *features = transformer_features(&tape, model, ids, TEST_BATCH, TEST_LENGTH);
    assert_int_equal(features->shape.ndim, 3);
    assert_int_equal(features->shape.dim[0], TEST_BATCH);
    assert_int_equal(features->shape.dim[1], TEST_LENGTH);
    assert_int_equal(features->shape.dim[2], TEST_WIDTH);

    Tensor *classes = transformer_classify(&tape, model, ids, TEST_BATCH, TEST_LENGTH);
    assert_int_equal(classes->shape.ndim, 2);
    assert_int_equal(classes->shape.dim[0], TEST_BATCH);
    assert_int_equal(classes->shape.dim[1], TEST_CLASSES);

    Tensor *words = transformer_next_word_logits(&tape, model, ids, TEST_BATCH, TEST_LENGTH);
    assert_int_equal(words->shape.ndim, 2);
    assert_int_equal(words->shape.dim[0], TEST_BATCH * TEST_LENGTH);
    assert_int_equal(words->shape.dim[1], TEST_VOCAB);

    tape_free(&tape);
    transformer_free(model);
}

/*
 * Hand count for V = 7, P = 8, D = 8, H = 2, M = 12, L = 2, C = 3:
 * embeddings 7*8 + 8*8 = 120; per block 4*8 + 5*64 + 2*8*12 + 12 + 8 = 564,
 * so 1128 for two; final norm 16; classifier 3*8 + 3 = 27 (total 1291) or
 * next-word head 7*8 + 7 = 63 (total 1327). The model contains both heads.
 */
static void test_parameter_count_by_hand(void **state)
{
    (void)state;
    size_t classifier = 0, next_word = 0;
    assert_true(transformer_parameter_count(test_config(false), TRANSFORMER_CLASSIFIER,
                                            &classifier));
    assert_true(transformer_parameter_count(test_config(false), TRANSFORMER_NEXT_WORD,
                                            &next_word));
    assert_int_equal(classifier, 1291);
    assert_int_equal(next_word, 1327);

    Transformer *model = new_test_model(test_config(false), 4);
    assert_int_equal(params_count_elements(transformer_params(model)), 1291 + 63);
    transformer_free(model);
}

/*
 * Hand count for n = 6, D = 8, H = 2, M = 12, L = 2: per block
 * 5 n D^2 = 1920, 2 n D M = 1152, 2 n^2 D = 576, so 3648; two blocks 7296;
 * plus C D = 24 for the classifier or n V D = 336 for the next-word head.
 */
static void test_multiply_adds_by_hand(void **state)
{
    (void)state;
    size_t classifier = 0, next_word = 0;
    assert_true(transformer_multiply_adds(test_config(false), TEST_LENGTH, TRANSFORMER_CLASSIFIER,
                                          &classifier));
    assert_true(transformer_multiply_adds(test_config(true), TEST_LENGTH, TRANSFORMER_NEXT_WORD,
                                          &next_word));
    assert_int_equal(classifier, 7296 + 24);
    assert_int_equal(next_word, 7296 + 336);
}

static void test_counts_reject_invalid_sizes(void **state)
{
    (void)state;
    size_t count = 99;
    TransformerConfig config = test_config(false);
    config.heads = 3;
    assert_false(transformer_parameter_count(config, TRANSFORMER_CLASSIFIER, &count));
    assert_false(transformer_multiply_adds(test_config(false), 0, TRANSFORMER_CLASSIFIER, &count));
    config = test_config(false);
    config.width = INT_MAX;
    assert_false(transformer_multiply_adds(config, TEST_LENGTH, TRANSFORMER_CLASSIFIER, &count));
    assert_int_equal(count, 99);
}

static void test_new_rejects_invalid_sizes(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 1, 0);
    TransformerConfig config = test_config(false);
    config.heads = 3;   /* 8 is not a multiple of 3 */
    assert_null(transformer_new(config, &rng));
    config = test_config(false);
    config.layers = 0;
    assert_null(transformer_new(config, &rng));
    config = test_config(false);
    config.vocab_size = INT_MAX;
    assert_null(transformer_new(config, &rng));
}

/* Calls the next-word head on a model without the mask (ChecksFatalFn). */
static void call_next_word_unmasked(void *context)
{
    Transformer *model = context;
    int ids[TEST_LENGTH];
    fill_ids(ids, TEST_LENGTH);
    Tape tape;
    tape_init(&tape);
    transformer_next_word_logits(&tape, model, ids, 1, TEST_LENGTH);
    tape_free(&tape);
}

/* Calls transformer_features on a sentence longer than P (ChecksFatalFn). */
static void call_features_too_long(void *context)
{
    int ids[TEST_POSITIONS + 1] = {0};
    Tape tape;
    tape_init(&tape);
    transformer_features(&tape, context, ids, 1, TEST_POSITIONS + 1);
    tape_free(&tape);
}

static void test_misuse_stops_program(void **state)
{
    (void)state;
    Transformer *model = new_test_model(test_config(false), 1);
    assert_true(checks_fatal("next word unmasked", call_next_word_unmasked, model,
                             "needs config.causal"));
    assert_true(checks_fatal("too long", call_features_too_long, model, "do not fit"));
    transformer_free(model);
}

/* ------------------------------------------------------------------------- */
/* A short next-word training                                                 */
/* ------------------------------------------------------------------------- */

/*
 * A seeded run of 60 Adam steps on one repeated sequence: the loss must fall
 * well below its start (about ln V = 1.95 at initialisation). The sequence
 * is a cycle of the V words, so each next word is fully determined.
 */
static void test_next_word_training_lowers_loss(void **state)
{
    (void)state;
    Transformer *model = new_test_model(test_config(true), 6);
    ParamList *params = transformer_params(model);
    int ids[TEST_BATCH * TEST_LENGTH], targets[TEST_BATCH * TEST_LENGTH];
    for (int i = 0; i < TEST_BATCH * TEST_LENGTH; i++) {
        ids[i] = i % TEST_VOCAB;
        targets[i] = (i + 1) % TEST_VOCAB;
    }
    AdamOptions options = adam_default_options();
    options.lr = 1e-2;
    Adam *adam = adam_new(params, options);
    assert_non_null(adam);
    Tape tape;
    tape_init(&tape);
    float first = 0.0f, last = 0.0f;
    for (int step = 0; step < 60; step++) {
        tape_reset(&tape);
        params_zero_grad(params);
        Tensor *logits = transformer_next_word_logits(&tape, model, ids, TEST_BATCH, TEST_LENGTH);
        Tensor *loss = op_cross_entropy(&tape, logits, targets);
        tape_backward(&tape, loss);
        adam_step(adam);
        if (step == 0)
            first = loss->data[0];
        last = loss->data[0];
    }
    assert_true(first > 1.0f);
    assert_true(last < 0.25f * first);

    tape_free(&tape);
    adam_free(adam);
    transformer_free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_causal_later_word_keeps_earlier_outputs),
        cmocka_unit_test(test_unmasked_later_word_changes_first_output),
        cmocka_unit_test(test_causal_weights_zero_above_diagonal),
        cmocka_unit_test(test_scaling_equals_scaled_query_weights),
        cmocka_unit_test(test_scaled_weights_match_hand_softmax),
        cmocka_unit_test(test_model_weights_match_hand_softmax),
        cmocka_unit_test(test_heads_output_width_is_sum),
        cmocka_unit_test(test_block_gradients_match_differences),
        cmocka_unit_test(test_output_shapes),
        cmocka_unit_test(test_parameter_count_by_hand),
        cmocka_unit_test(test_multiply_adds_by_hand),
        cmocka_unit_test(test_counts_reject_invalid_sizes),
        cmocka_unit_test(test_new_rejects_invalid_sizes),
        cmocka_unit_test(test_misuse_stops_program),
        cmocka_unit_test(test_next_word_training_lowers_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
