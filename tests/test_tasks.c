/*
 * Tests of the generated distance task and the shared training loop.
 * Expected values come from the task's construction (stated per test) and,
 * for training, from a task that a bag of words solves exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "init.h"
#include "ops.h"
#include "tasks.h"
#include "train.h"

/* Sentences drawn per property test. */
#define SAMPLES 500

/* Returns the subject index of id, or -1 when id is not a subject. */
static int subject_index(const DistanceTask *task, int id)
{
    for (int i = 0; i < DISTANCE_TASK_PAIRS; i++)
        if (task->subject_ids[i] == id)
            return i;
    return -1;
}

/* Returns the object index of id, or -1 when id is not an object. */
static int object_index(const DistanceTask *task, int id)
{
    for (int i = 0; i < DISTANCE_TASK_PAIRS; i++)
        if (task->object_ids[i] == id)
            return i;
    return -1;
}

static void test_distance_task_rejects_bad_arguments(void **state)
{
    (void)state;
    assert_null(distance_task_new(0, 3, 0));
    assert_null(distance_task_new(4, -1, 0));
    assert_null(distance_task_new(4, 3, -1));
    assert_null(distance_task_new(100000, 3, 0));
}

/* Length by construction: 2 * (distance + 1) + gap + margin. */
static void test_distance_task_length(void **state)
{
    (void)state;
    DistanceTask *task = distance_task_new(5, 7, 3);
    assert_non_null(task);
    assert_int_equal(task->length, 2 * 6 + 7 + 3);
    distance_task_free(task);
}

/*
 * Every sentence holds exactly two subjects and two objects; each object
 * sits `distance` words after a subject; the second span starts gap + 1
 * words after the first object; label 1 means each object belongs to the
 * subject before it, label 0 that the objects are swapped.
 */
static void test_distance_task_sentence_layout(void **state)
{
    (void)state;
    const int distance = 4, gap = 6, margin = 5;
    DistanceTask *task = distance_task_new(distance, gap, margin);
    assert_non_null(task);

    Rng rng;
    rng_seed(&rng, 7, 1);
    int *ids = malloc((size_t)task->length * sizeof *ids);
    assert_non_null(ids);

    for (int s = 0; s < SAMPLES; s++) {
        int label;
        distance_task_sample(task, &rng, 1, ids, &label);

        int subject_positions[2], object_positions[2], subjects = 0, objects = 0;
        for (int t = 0; t < task->length; t++) {
            if (subject_index(task, ids[t]) >= 0) {
                assert_true(subjects < 2);
                subject_positions[subjects++] = t;
            } else if (object_index(task, ids[t]) >= 0) {
                assert_true(objects < 2);
                object_positions[objects++] = t;
            }
        }
        assert_int_equal(subjects, 2);
        assert_int_equal(objects, 2);
        assert_int_equal(object_positions[0] - subject_positions[0], distance);
        assert_int_equal(object_positions[1] - subject_positions[1], distance);
        assert_int_equal(subject_positions[1] - object_positions[0], gap + 1);

        int s1 = subject_index(task, ids[subject_positions[0]]);
        int s2 = subject_index(task, ids[subject_positions[1]]);
        int o1 = object_index(task, ids[object_positions[0]]);
        int o2 = object_index(task, ids[object_positions[1]]);
        assert_int_not_equal(s1, s2);
        if (label == 1) {
            assert_int_equal(o1, s1);
            assert_int_equal(o2, s2);
        } else {
            assert_int_equal(label, 0);
            assert_int_equal(o1, s2);
            assert_int_equal(o2, s1);
        }
    }
    free(ids);
    distance_task_free(task);
}

/* Labels are fair coin flips: over 2000 draws the share of 1s is within 0.45..0.55. */
static void test_distance_task_labels_balanced(void **state)
{
    (void)state;
    DistanceTask *task = distance_task_new(2, 3, 0);
    assert_non_null(task);
    Rng rng;
    rng_seed(&rng, 3, 1);

    enum { BATCH = 2000 };
    int *ids = malloc((size_t)BATCH * (size_t)task->length * sizeof *ids);
    int *labels = malloc(BATCH * sizeof *labels);
    assert_non_null(ids);
    assert_non_null(labels);
    distance_task_sample(task, &rng, BATCH, ids, labels);

    int ones = 0;
    for (int i = 0; i < BATCH; i++)
        ones += labels[i];
    assert_in_range(ones, 900, 1100);

    free(ids);
    free(labels);
    distance_task_free(task);
}

/* ------------------------------------------------------------------------- */
/* The training loop on a task a bag of words solves                          */
/* ------------------------------------------------------------------------- */

/* Label 1 when the sentence contains the word "dog" (id 2), else 0; 6 words of ids 1..4. */
static void sample_contains_dog(const void *task, Rng *rng, int batch, int *ids, int *labels)
{
    (void)task;
    for (int b = 0; b < batch; b++) {
        labels[b] = 0;
        for (int t = 0; t < 6; t++) {
            int id = 1 + (int)rng_below(rng, 4);
            if (id == 2 && rng_below(rng, 2))
                id = 3; /* keeps the classes near balanced */
            ids[b * 6 + t] = id;
            labels[b] |= (id == 2);
        }
    }
}

/* Embedding [5, 8], mean over positions, linear [2, 8]. */
typedef struct BagModel {
    Tensor *embedding;
    Tensor *weight;
    Tensor *bias;
} BagModel;

static Tensor *bag_forward(Tape *tape, void *model, const int *ids, int batch, int length)
{
    BagModel *bag = model;
    Tensor *words = op_embedding(tape, bag->embedding, ids, batch * length);
    Tensor *sentences = op_reshape(tape, words, shape3(batch, length, 8));
    Tensor *mean = op_mean_positions(tape, sentences);
    return op_linear(tape, mean, bag->weight, bag->bias);
}

/* "Contains dog" is linear in the bag of words, so training must reach near-perfect accuracy. */
static void test_train_classifier_learns_bag_task(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 11, 0);
    BagModel bag = {tensor_new(shape2(5, 8), true), tensor_new(shape2(2, 8), true),
                    tensor_new(shape1(2), true)};
    init_normal(bag.embedding, &rng, 1.0f);
    init_linear_default(bag.weight, &rng);

    ParamList *params = params_new();
    assert_non_null(params);
    assert_true(params_add(params, bag.embedding, "embedding"));
    assert_true(params_add(params, bag.weight, "weight"));
    assert_true(params_add(params, bag.bias, "bias"));

    TrainConfig config = train_default_config();
    config.steps = 300;
    config.seed = 5;
    ClassifierTask task = {sample_contains_dog, NULL, 6};
    TrainResult result = train_classifier(bag_forward, &bag, params, task, config);

    assert_int_equal(result.steps, 300);
    assert_true(result.accuracy >= 0.95f);
    assert_true(result.final_loss < 0.3f);

    params_free(params);
    tensor_free(bag.embedding);
    tensor_free(bag.weight);
    tensor_free(bag.bias);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance_task_rejects_bad_arguments),
        cmocka_unit_test(test_distance_task_length),
        cmocka_unit_test(test_distance_task_sentence_layout),
        cmocka_unit_test(test_distance_task_labels_balanced),
        cmocka_unit_test(test_train_classifier_learns_bag_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
