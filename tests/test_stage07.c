/*
 * Tests of stage 07: the multi-head layer and the cue task it is trained on.
 *
 * Expected values come from stage 06's layer (one head with the same weights
 * must give the same bits), from each head run on its own (the
 * concatenation), from central differences, and from the cue task's
 * construction, stated per test.
 *
 * No test trains 1 against 2 heads. The difference the stage program
 * measures holds on average over seeds but not on every seed: one head beat
 * two on one seed out of eight at 1000 steps. A short seeded run therefore
 * cannot check it reliably.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "07_multi_head/multi_head.h"
#include "tasks.h"

enum { BATCH = 2, WORDS = 4, WIDTH = 6 };

/* Sentences drawn per cue-task property test. */
#define SAMPLES 500

/* Returns whether any element of t->grad is non-zero. */
static bool has_nonzero_grad(const Tensor *t)
{
    for (size_t i = 0; i < t->size; i++)
        if (t->grad[i] != 0.0f)
            return true;
    return false;
}

/* ------------------------------------------------------------------------- */
/* The multi-head layer                                                       */
/* ------------------------------------------------------------------------- */

/* One head holding a stage 06 layer's weights computes the same operations in the same
 * order, so the outputs are equal bit for bit (tolerance 0). */
static void test_multi_head_one_head_is_stage06(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 1, 0);
    LinearAttention *layer =
        linear_attention_new(WIDTH, 3, 5, SCORE_BILINEAR, "attention", &rng, NULL);
    MultiHeadAttention *one =
        multi_head_new(WIDTH, 1, 3, 5, SCORE_BILINEAR, false, "multi", &rng, NULL);
    assert_non_null(layer);
    assert_non_null(one);
    tensor_copy_data(one->head[0]->query, layer->query);
    tensor_copy_data(one->head[0]->key, layer->key);
    tensor_copy_data(one->head[0]->self, layer->self);
    tensor_copy_data(one->head[0]->value, layer->value);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 2);
    Tape tape;
    tape_init(&tape);

    Tensor *expected = linear_attention_forward(&tape, layer, x, NULL);
    Tensor *actual = multi_head_forward(&tape, one, x, NULL);
    assert_int_equal(actual->size, expected->size);
    assert_true(checks_near("one head vs stage 06", actual->data, expected->data, actual->size,
                            0.0f, 0.0f));

    tape_free(&tape);
    tensor_free(x);
    multi_head_free(one);
    linear_attention_free(layer);
}

/* 3 heads of Dv = 5 give 15 output columns (the sum of the head widths), not WIDTH. */
static void test_multi_head_width_is_sum_of_heads(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 3, 0);
    MultiHeadAttention *layer =
        multi_head_new(WIDTH, 3, 2, 5, SCORE_BILINEAR, false, "multi", &rng, NULL);
    assert_non_null(layer);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 4);
    Tape tape;
    tape_init(&tape);

    Tensor *y = multi_head_forward(&tape, layer, x, NULL);
    assert_int_equal(y->shape.ndim, 3);
    assert_int_equal(y->shape.dim[0], BATCH);
    assert_int_equal(y->shape.dim[1], WORDS);
    assert_int_equal(y->shape.dim[2], 3 * 5);
    assert_int_equal(multi_head_out_width(layer), 15);

    tape_free(&tape);
    tensor_free(x);
    multi_head_free(layer);
}

/* With the output projection W_O [D, H*Dv] the output is D wide again. */
static void test_multi_head_projection_width(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 5, 0);
    MultiHeadAttention *layer =
        multi_head_new(WIDTH, 3, 2, 5, SCORE_BILINEAR, true, "multi", &rng, NULL);
    assert_non_null(layer);
    assert_int_equal(layer->output->shape.dim[0], WIDTH);
    assert_int_equal(layer->output->shape.dim[1], 15);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 6);
    Tape tape;
    tape_init(&tape);

    Tensor *y = multi_head_forward(&tape, layer, x, NULL);
    assert_int_equal(y->shape.dim[2], WIDTH);
    assert_int_equal(multi_head_out_width(layer), WIDTH);

    tape_free(&tape);
    tensor_free(x);
    multi_head_free(layer);
}

/* Columns h*Dv .. (h+1)*Dv - 1 of every output vector are head h run on its own, and each
 * head's weights come back through weights_out. */
static void test_multi_head_concatenates_in_order(void **state)
{
    (void)state;
    enum { HEADS = 3, DV = 2 };
    Rng rng;
    rng_seed(&rng, 7, 0);
    MultiHeadAttention *layer =
        multi_head_new(WIDTH, HEADS, 2, DV, SCORE_NET, false, "multi", &rng, NULL);
    assert_non_null(layer);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 8);
    Tape tape;
    tape_init(&tape);

    Tensor *weights[HEADS] = {NULL};
    Tensor *y = multi_head_forward(&tape, layer, x, weights);
    for (int h = 0; h < HEADS; h++) {
        Tensor *alone_weights = NULL;
        Tensor *alone = linear_attention_forward(&tape, layer->head[h], x, &alone_weights);
        float block[BATCH * WORDS * DV];
        for (int r = 0; r < BATCH * WORDS; r++)
            for (int c = 0; c < DV; c++)
                block[r * DV + c] = y->data[r * HEADS * DV + h * DV + c];
        assert_true(checks_near("head block", block, alone->data, alone->size, 0.0f, 0.0f));
        assert_non_null(weights[h]);
        assert_true(checks_near("head weights", weights[h]->data, alone_weights->data,
                                alone_weights->size, 0.0f, 0.0f));
    }

    tape_free(&tape);
    tensor_free(x);
    multi_head_free(layer);
}

static Tensor *multi_head_output(Tape *tape, Tensor **inputs, void *context)
{
    return multi_head_forward(tape, context, inputs[0], NULL);
}

/* Every weight of both heads, W_O and the input against central differences. */
static void test_multi_head_gradients(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 9, 0);
    MultiHeadAttention *layer =
        multi_head_new(WIDTH, 2, 3, 3, SCORE_BILINEAR, true, "multi", &rng, NULL);
    assert_non_null(layer);
    Tensor *x = checks_random_tensor(shape3(BATCH, WORDS, WIDTH), 10);
    Tensor *inputs[10] = {x, layer->output};
    int count = 2;
    for (int h = 0; h < 2; h++) {
        inputs[count++] = layer->head[h]->query;
        inputs[count++] = layer->head[h]->key;
        inputs[count++] = layer->head[h]->self;
        inputs[count++] = layer->head[h]->value;
    }

    GradcheckResult result =
        checks_gradients("multi-head gradients", multi_head_output, inputs, count, layer);
    assert_int_equal(result.mismatches, 0);
    for (int i = 0; i < count; i++)
        assert_true(has_nonzero_grad(inputs[i]));

    tensor_free(x);
    multi_head_free(layer);
}

static void test_multi_head_new_rejects_bad_arguments(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 11, 0);
    assert_null(multi_head_new(WIDTH, 0, 2, 2, SCORE_BILINEAR, false, "m", &rng, NULL));
    assert_null(multi_head_new(WIDTH, 2, 0, 2, SCORE_BILINEAR, false, "m", &rng, NULL));
    assert_null(multi_head_new(WIDTH, 2, 2, 2, SCORE_BILINEAR, false, "", &rng, NULL));
    assert_null(multi_head_new(WIDTH, 4, 2, 1 << 30, SCORE_BILINEAR, false, "m", &rng, NULL));
}

/* A second layer under the same name fails part-way (at its first head) and removes what it
 * added, so the list keeps only the first layer's 2 * 4 + 1 tensors. */
static void test_multi_head_failure_leaves_params(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 12, 0);
    ParamList *params = params_new();
    assert_non_null(params);
    MultiHeadAttention *first =
        multi_head_new(WIDTH, 2, 3, 3, SCORE_BILINEAR, true, "multi", &rng, params);
    assert_non_null(first);
    assert_int_equal(params->count, 9);

    /* "multi.head0.*" exists, so head 0 of the second layer fails. */
    assert_null(multi_head_new(WIDTH, 2, 3, 3, SCORE_BILINEAR, true, "multi", &rng, params));
    assert_int_equal(params->count, 9);

    multi_head_free(first);
    params_free(params);
}

/* ------------------------------------------------------------------------- */
/* The cue task                                                               */
/* ------------------------------------------------------------------------- */

/* Returns the index of id in ids[0 .. count-1], or -1. */
static int index_of(const int *ids, int count, int id)
{
    for (int i = 0; i < count; i++)
        if (ids[i] == id)
            return i;
    return -1;
}

static void test_cue_task_rejects_bad_arguments(void **state)
{
    (void)state;
    assert_null(cue_task_new(4, 4));
    assert_null(cue_task_new(5000, 4));
    assert_null(cue_task_new(10, 1));
    assert_null(cue_task_new(10, DISTANCE_TASK_PAIRS + 1));
}

/*
 * By construction: exactly one cue, and one subject and one object of the
 * pairs in use on each side of it. The two subjects differ and the objects
 * are those of the two subjects. The label is 1 exactly when the subject
 * left of the cue owns the object right of it.
 */
static void test_cue_task_sentence_layout(void **state)
{
    (void)state;
    enum { LENGTH = 9, PAIRS = 4 };
    CueTask *task = cue_task_new(LENGTH, PAIRS);
    assert_non_null(task);
    Rng rng;
    rng_seed(&rng, 13, 1);

    for (int s = 0; s < SAMPLES; s++) {
        int ids[LENGTH], label;
        cue_task_sample(task, &rng, 1, ids, &label);
        int cue = index_of(ids, LENGTH, task->cue_id);
        assert_true(cue >= 2 && cue <= LENGTH - 3);

        /* Which pair each subject or object belongs to, and on which side it is. */
        int subject_side[2] = {-1, -1}, object_side[2] = {-1, -1};
        int subject_pair[2] = {-1, -1}, object_pair[2] = {-1, -1};
        int cues = 0;
        for (int t = 0; t < LENGTH; t++) {
            int side = t > cue;
            cues += ids[t] == task->cue_id;
            for (int p = 0; p < PAIRS; p++) {
                if (ids[t] == task->subject_ids[p]) {
                    assert_int_equal(subject_side[side], -1);
                    subject_side[side] = t;
                    subject_pair[side] = p;
                }
                if (ids[t] == task->object_ids[p]) {
                    assert_int_equal(object_side[side], -1);
                    object_side[side] = t;
                    object_pair[side] = p;
                }
            }
        }
        assert_int_equal(cues, 1);
        for (int side = 0; side < 2; side++) {
            assert_true(subject_side[side] >= 0);
            assert_true(object_side[side] >= 0);
        }
        assert_int_not_equal(subject_pair[0], subject_pair[1]);
        assert_true(object_pair[0] == subject_pair[0] || object_pair[0] == subject_pair[1]);
        assert_int_not_equal(object_pair[0], object_pair[1]);
        assert_int_equal(label, subject_pair[0] == object_pair[1]);
    }
    cue_task_free(task);
}

/* Labels are a fair coin: over SAMPLES sentences the count of 1s lies within 5 standard
 * deviations (5 * sqrt(500 / 4), about 56) of 250. */
static void test_cue_task_labels_balanced(void **state)
{
    (void)state;
    CueTask *task = cue_task_new(10, 4);
    assert_non_null(task);
    Rng rng;
    rng_seed(&rng, 14, 1);
    int *ids = malloc((size_t)SAMPLES * 10 * sizeof *ids);
    int *labels = malloc(SAMPLES * sizeof *labels);
    assert_non_null(ids);
    assert_non_null(labels);

    cue_task_sample(task, &rng, SAMPLES, ids, labels);
    int ones = 0;
    for (int i = 0; i < SAMPLES; i++)
        ones += labels[i];
    assert_in_range(ones, 250 - 56, 250 + 56);

    free(ids);
    free(labels);
    cue_task_free(task);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multi_head_one_head_is_stage06),
        cmocka_unit_test(test_multi_head_width_is_sum_of_heads),
        cmocka_unit_test(test_multi_head_projection_width),
        cmocka_unit_test(test_multi_head_concatenates_in_order),
        cmocka_unit_test(test_multi_head_gradients),
        cmocka_unit_test(test_multi_head_new_rejects_bad_arguments),
        cmocka_unit_test(test_multi_head_failure_leaves_params),
        cmocka_unit_test(test_cue_task_rejects_bad_arguments),
        cmocka_unit_test(test_cue_task_sentence_layout),
        cmocka_unit_test(test_cue_task_labels_balanced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
