/*
 * Tests of stage 03, the position encoding (stages/03_position_encoding),
 * and of the word order task it trains on (common/tasks.c).
 *
 * Expected values come from hand computation (the encoded rows) and from
 * identities. Zero position weights give stage 02 exactly, and one-hot
 * positions times a weight are a position vector added to the word's
 * vector. Order sensitivity is measured against stage 02's own output.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "03_position_encoding/positions.h"
#include "tasks.h"
#include "train.h"

/* Sizes of the test models: V words, P positions, width D, C classes. */
#define TEST_VOCAB 5
#define TEST_POSITIONS 6
#define TEST_WIDTH 4
#define TEST_CLASSES 2

/* "the fat cat" and "the cat fat" as ids of a 5-word vocabulary. */
static const int FAT_CAT[] = {1, 2, 3};
static const int CAT_FAT[] = {1, 3, 2};

/* Returns a seeded stage 03 model with L layers. */
static PositionModel *new_position_model(int layers, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 11);
    PairwiseConfig config = {.width = TEST_WIDTH, .layers = layers, .classes = TEST_CLASSES};
    PositionModel *model = position_model_new(TEST_VOCAB, TEST_POSITIONS, &config, &rng, NULL);
    assert_non_null(model);
    return model;
}

/* Returns a stage 02 model with the sizes of a stage 03 model without the positions. */
static PairwiseModel *new_word_model(int layers)
{
    Rng rng;
    rng_seed(&rng, 99, 1);
    PairwiseConfig config = {
        .input_width = TEST_VOCAB, .width = TEST_WIDTH, .layers = layers, .classes = TEST_CLASSES};
    PairwiseModel *model = pairwise_model_new(&config, &rng, NULL);
    assert_non_null(model);
    return model;
}

/* Runs a stage 03 model on one sentence of ids [n] and copies its output [C] into out. */
static void position_output(PositionModel *model, const int *ids, int n, float *out)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *logits = position_model_forward(&tape, model, ids, 1, n);
    memcpy(out, logits->data, TEST_CLASSES * sizeof(float));
    tape_free(&tape);
}

/* Runs a stage 02 model on one sentence of ids [n] and copies its output [C] into out. */
static void word_output(const PairwiseModel *model, const int *ids, int n, float *out)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *x = pairwise_onehot_words(&tape, ids, 1, n, TEST_VOCAB);
    Tensor *logits = pairwise_model_forward(&tape, model, x);
    memcpy(out, logits->data, TEST_CLASSES * sizeof(float));
    tape_free(&tape);
}

/* ------------------------------------------------------------------------- */
/* The encoding                                                               */
/* ------------------------------------------------------------------------- */

/* ids {4, 0} with V = 5, P = 6, by hand: [0 0 0 0 1 | 1 0 0 0 0 0] and [1 0 0 0 0 | 0 1 0 0 0 0].
 */
static void test_encode_rows_hand(void **state)
{
    (void)state;
    const int ids[] = {4, 0};
    const float expected[] = {
        0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
    };
    Tape tape;
    tape_init(&tape);
    Tensor *x = positions_encode(&tape, ids, 1, 2, TEST_VOCAB, TEST_POSITIONS);
    assert_int_equal(x->shape.ndim, 3);
    assert_int_equal(x->shape.dim[1], 2);
    assert_int_equal(x->shape.dim[2], TEST_VOCAB + TEST_POSITIONS);
    assert_true(checks_near("encoded rows", x->data, expected, 22, 0.0f, 0.0f));
    tape_free(&tape);
}

/* Every sentence of a batch starts again at position 0. */
static void test_encode_batch_restarts_positions(void **state)
{
    (void)state;
    const int ids[] = {1, 2, 3, 1, 3, 2};
    Tape tape;
    tape_init(&tape);
    Tensor *x = positions_encode(&tape, ids, 2, 3, TEST_VOCAB, TEST_POSITIONS);
    size_t width = TEST_VOCAB + TEST_POSITIONS;
    for (int row = 0; row < 6; row++)
        assert_float_equal(x->data[(size_t)row * width + TEST_VOCAB + (size_t)(row % 3)], 1.0f,
                           0.0f);
    tape_free(&tape);
}

/* ------------------------------------------------------------------------- */
/* Sentence length against P                                                  */
/* ------------------------------------------------------------------------- */

/* P = 16: 16 words fit, 17 do not, and the message names both numbers and the option. */
static void test_sentence_longer_than_positions_rejected(void **state)
{
    (void)state;
    char error[256] = "";
    assert_true(positions_check_length(16, 16, error, sizeof error));
    assert_false(positions_check_length(17, 16, error, sizeof error));
    assert_non_null(strstr(error, "17 words"));
    assert_non_null(strstr(error, "16 positions"));
    assert_non_null(strstr(error, "--positions"));
}

static void test_empty_sentence_rejected(void **state)
{
    (void)state;
    char error[256] = "";
    assert_false(positions_check_length(0, 16, error, sizeof error));
    assert_non_null(strstr(error, "no words"));
}

/* ------------------------------------------------------------------------- */
/* Order sensitivity and the identities                                       */
/* ------------------------------------------------------------------------- */

/*
 * With positions, "the fat cat" and "the cat fat" give different outputs,
 * while stage 02 with the word weights of the same model gives the same
 * output for both (within float rounding).
 */
static void test_order_sensitivity_fat_cat(void **state)
{
    (void)state;
    PositionModel *model = new_position_model(2, 1);
    PairwiseModel *words = new_word_model(2);
    assert_true(positions_copy_word_weights(model, words));

    float fat_cat[TEST_CLASSES], cat_fat[TEST_CLASSES];
    position_output(model, FAT_CAT, 3, fat_cat);
    position_output(model, CAT_FAT, 3, cat_fat);
    double difference =
        fabs((double)fat_cat[0] - cat_fat[0]) + fabs((double)fat_cat[1] - cat_fat[1]);
    assert_true(difference > 1e-4);

    word_output(words, FAT_CAT, 3, fat_cat);
    word_output(words, CAT_FAT, 3, cat_fat);
    assert_true(
        checks_near("stage 02 on both orders", cat_fat, fat_cat, TEST_CLASSES, 1e-6f, 1e-5f));

    pairwise_model_free(words);
    position_model_free(model);
}

/*
 * Stage 03 with its position columns set to zero is exactly stage 02 with
 * the remaining weights: the two position terms add exact zeros, so the
 * outputs match bit for bit (tolerance 0) on several sentences and layer
 * counts.
 */
static void test_zero_position_weights_equal_stage02(void **state)
{
    (void)state;
    const int sentences[][4] = {{1, 2, 3, 0}, {1, 3, 2, 0}, {4, 4, 0, 2}, {0, 1, 2, 3}};
    const int lengths[] = {3, 3, 4, 2};
    for (int layers = 1; layers <= 2; layers++) {
        PositionModel *model = new_position_model(layers, (uint64_t)(5 + layers));
        PairwiseModel *words = new_word_model(layers);
        assert_true(positions_copy_word_weights(model, words));
        positions_zero_position_weights(model);

        for (int s = 0; s < 4; s++) {
            float with_positions[TEST_CLASSES], without[TEST_CLASSES];
            position_output(model, sentences[s], lengths[s], with_positions);
            word_output(words, sentences[s], lengths[s], without);
            assert_true(checks_near("zeroed positions vs stage 02", with_positions, without,
                                    TEST_CLASSES, 0.0f, 0.0f));
        }
        pairwise_model_free(words);
        position_model_free(model);
    }
}

/* Zeroing touches exactly the 2P position columns of each row of layer 1's weight. */
static void test_zero_position_weights_columns(void **state)
{
    (void)state;
    PositionModel *model = new_position_model(1, 3);
    Tensor *weight = model->pairwise->nets[0]->weight;
    Tensor *before = tensor_new(weight->shape, false);
    tensor_copy_data(before, weight);
    positions_zero_position_weights(model);

    size_t half = TEST_VOCAB + TEST_POSITIONS;
    for (size_t i = 0; i < weight->size; i++) {
        size_t column = i % (2 * half);
        bool position_column = column % half >= TEST_VOCAB;
        if (position_column)
            assert_float_equal(weight->data[i], 0.0f, 0.0f);
        else
            assert_float_equal(weight->data[i], before->data[i], 0.0f);
    }
    tensor_free(before);
    position_model_free(model);
}

/* A stage 02 model of other sizes is refused and left unchanged. */
static void test_copy_word_weights_size_mismatch(void **state)
{
    (void)state;
    PositionModel *model = new_position_model(2, 1);
    PairwiseModel *words = new_word_model(1);
    float first = words->nets[0]->weight->data[0];
    assert_false(positions_copy_word_weights(model, words));
    assert_float_equal(words->nets[0]->weight->data[0], first, 0.0f);
    pairwise_model_free(words);
    position_model_free(model);
}

/*
 * [one-hot(word) ; one-hot(position)] times the query (and the key) part of
 * layer 1's weight equals the word's row of a word table plus the
 * position's row of a position table. Each row of the product has exactly
 * two non-zero terms, so both forms give the same float sum (tolerance 0).
 */
static void test_position_vector_identity(void **state)
{
    (void)state;
    PositionModel *model = new_position_model(1, 4);
    const int ids[] = {3, 0, 4, 4, 1};
    enum { N = 5 };
    int half = TEST_VOCAB + TEST_POSITIONS;

    for (int offset = 0; offset <= half; offset += half) {
        Tensor *word_table, *position_table;
        assert_true(positions_split_weight(model, offset, &word_table, &position_table));

        /* The one-hot form: x [n, V+P] times the weight's columns offset .. offset+V+P-1. */
        Tensor *part = tensor_new(shape2(TEST_WIDTH, half), false);
        const Tensor *weight = model->pairwise->nets[0]->weight;
        for (int d = 0; d < TEST_WIDTH; d++)
            memcpy(part->data + (size_t)d * (size_t)half,
                   weight->data + (size_t)d * (size_t)(2 * half) + offset,
                   (size_t)half * sizeof(float));

        Tape tape;
        tape_init(&tape);
        Tensor *x = positions_encode(&tape, ids, 1, N, TEST_VOCAB, TEST_POSITIONS);
        Tensor *onehot_form = op_linear(&tape, op_reshape(&tape, x, shape2(N, half)), part, NULL);
        Tensor *lookup_form = positions_embed(&tape, word_table, position_table, ids, N);
        assert_true(checks_near("one-hot positions vs position vectors", onehot_form->data,
                                lookup_form->data, N * TEST_WIDTH, 0.0f, 0.0f));

        tape_free(&tape);
        tensor_free(part);
        tensor_free(word_table);
        tensor_free(position_table);
    }
    Tensor *word_table = NULL, *position_table = NULL;
    assert_false(positions_split_weight(model, 1, &word_table, &position_table));
    position_model_free(model);
}

/* The stage 03 model has the vector count of stage 02: positions add columns, not vectors. */
static void test_position_model_vector_count(void **state)
{
    (void)state;
    PositionModel *model = new_position_model(2, 2);
    Tape tape;
    tape_init(&tape);
    Tensor *x = positions_encode(&tape, FAT_CAT, 1, 3, TEST_VOCAB, TEST_POSITIONS);
    Tensor *vectors = pairwise_model_vectors(&tape, model->pairwise, x);
    assert_int_equal(vectors->shape.dim[1], 81);
    tape_free(&tape);
    position_model_free(model);
}

/* ------------------------------------------------------------------------- */
/* The word order task                                                        */
/* ------------------------------------------------------------------------- */

/*
 * Every sentence is "the" then an adjective and a noun, in the order its
 * label gives. Over 2000 sentences both labels occur at least 900 times
 * (expected 1000 each, standard deviation about 22).
 */
static void test_order_task_labels_follow_order(void **state)
{
    (void)state;
    OrderTask *task = order_task_new();
    assert_non_null(task);
    enum { BATCH = 2000 };
    int *ids = malloc(BATCH * ORDER_TASK_LENGTH * sizeof *ids);
    int *labels = malloc(BATCH * sizeof *labels);
    Rng rng;
    rng_seed(&rng, 3, 1);
    order_task_sample(task, &rng, BATCH, ids, labels);

    int ones = 0;
    for (int b = 0; b < BATCH; b++) {
        const int *sentence = ids + b * ORDER_TASK_LENGTH;
        bool adjective_first = false, noun_first = false;
        for (int i = 0; i < ORDER_TASK_WORDS; i++) {
            adjective_first |= sentence[1] == task->adjective_ids[i];
            noun_first |= sentence[1] == task->noun_ids[i];
        }
        assert_int_equal(sentence[0], task->the_id);
        assert_true(labels[b] == 1 ? adjective_first : noun_first);
        ones += labels[b];
    }
    assert_true(ones >= 900);
    assert_true(BATCH - ones >= 900);

    free(ids);
    free(labels);
    order_task_free(task);
}

/* The vocabulary is <unk>, "the", 6 adjectives and 6 nouns, all distinct. */
static void test_order_task_vocabulary(void **state)
{
    (void)state;
    OrderTask *task = order_task_new();
    assert_non_null(task);
    assert_int_equal(task->vocab->size, 2 + 2 * ORDER_TASK_WORDS);
    assert_string_equal(vocab_word(task->vocab, task->the_id), "the");
    assert_string_equal(vocab_word(task->vocab, task->adjective_ids[0]), "fat");
    assert_string_equal(vocab_word(task->vocab, task->noun_ids[0]), "cat");
    order_task_free(task);
}

/* ------------------------------------------------------------------------- */
/* A short training run                                                       */
/* ------------------------------------------------------------------------- */

/* The stage 02 classifier on one-hot words (ClassifierForwardFn). */
static Tensor *word_model_forward(Tape *tape, void *model, const int *ids, int batch, int length)
{
    const PairwiseModel *words = model;
    Tensor *x = pairwise_onehot_words(tape, ids, batch, length, words->config.input_width);
    return pairwise_model_forward(tape, words, x);
}

/* Draws word order sentences (TaskSampleFn). */
static void sample_order_task(const void *task, Rng *rng, int batch, int *ids, int *labels)
{
    order_task_sample(task, rng, batch, ids, labels);
}

/*
 * On the word order task, 200 seeded steps take stage 03 to at least 90%
 * held-out accuracy. Stage 02 gives both orders of the same words the same
 * output, so it stays at chance: at most 60% of 512 held-out sentences
 * (chance is 50%, standard deviation about 2.2%).
 */
static void test_order_task_positions_beat_chance(void **state)
{
    (void)state;
    core_set_threads(1); /* tiny matrices: threads would only add waiting */
    OrderTask *task = order_task_new();
    assert_non_null(task);
    int vocab_size = task->vocab->size;
    ClassifierTask classifier_task = {
        .sample = sample_order_task, .task = task, .length = ORDER_TASK_LENGTH};
    TrainConfig train = train_default_config();
    train.steps = 200;
    PairwiseConfig config = {
        .input_width = vocab_size, .width = 8, .layers = 1, .classes = TEST_CLASSES};
    Rng rng;
    rng_seed(&rng, 1, 4);

    ParamList *params = params_new();
    PairwiseModel *words = pairwise_model_new(&config, &rng, params);
    TrainResult without =
        train_classifier(word_model_forward, words, params, classifier_task, train);
    pairwise_model_free(words);
    params_free(params);

    params = params_new();
    PositionModel *positions = position_model_new(vocab_size, 4, &config, &rng, params);
    TrainResult with =
        train_classifier(position_model_forward, positions, params, classifier_task, train);
    position_model_free(positions);
    params_free(params);
    order_task_free(task);

    assert_true(with.accuracy >= 0.9f);
    assert_true(without.accuracy <= 0.6f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_rows_hand),
        cmocka_unit_test(test_encode_batch_restarts_positions),
        cmocka_unit_test(test_sentence_longer_than_positions_rejected),
        cmocka_unit_test(test_empty_sentence_rejected),
        cmocka_unit_test(test_order_sensitivity_fat_cat),
        cmocka_unit_test(test_zero_position_weights_equal_stage02),
        cmocka_unit_test(test_zero_position_weights_columns),
        cmocka_unit_test(test_copy_word_weights_size_mismatch),
        cmocka_unit_test(test_position_vector_identity),
        cmocka_unit_test(test_position_model_vector_count),
        cmocka_unit_test(test_order_task_labels_follow_order),
        cmocka_unit_test(test_order_task_vocabulary),
        cmocka_unit_test(test_order_task_positions_beat_chance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
