/*
 * Tests of the training loop's checkpoints and of how it stops on a
 * non-finite value. The model is a bag of words on a task it solves; the
 * expected checkpoint contents are copies of the weights taken by the test
 * itself at the step the file should hold, an independent reference.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.h"
#include "init.h"
#include "ops.h"
#include "train.h"

/* Words per sentence and vocabulary size of the task. */
#define WORDS 6
#define VOCAB 5
#define WIDTH 8

/* Label 1 when the sentence contains word 2, else 0. */
static void sample_contains_two(const void *task, Rng *rng, int batch, int *ids, int *labels)
{
    (void)task;
    for (int b = 0; b < batch; b++) {
        labels[b] = 0;
        for (int t = 0; t < WORDS; t++) {
            int id = 1 + (int)rng_below(rng, VOCAB - 1);
            ids[b * WORDS + t] = id;
            labels[b] |= (id == 2);
        }
    }
}

/* Embedding [VOCAB, WIDTH], mean over positions, linear [2, WIDTH]; can poison itself. */
typedef struct Bag {
    Tensor *embedding;
    Tensor *weight;
    Tensor *bias;
    ParamList *params;
    int calls;       /* forward passes so far */
    int poison_call; /* the forward pass (1-based) that writes a NaN into weight; 0 never */
    float *snapshot; /* every weight, in list order, just before the poisoned pass */
} Bag;

/* Copies every parameter's values, in list order, into one new array. */
static float *copy_weights(const ParamList *params)
{
    float *copy = malloc(params_count_elements(params) * sizeof *copy);
    assert_non_null(copy);
    size_t offset = 0;
    for (size_t i = 0; i < params->count; i++) {
        memcpy(copy + offset, params->tensors[i]->data, params->tensors[i]->size * sizeof *copy);
        offset += params->tensors[i]->size;
    }
    return copy;
}

static Tensor *bag_forward(Tape *tape, void *model, const int *ids, int batch, int length)
{
    Bag *bag = model;
    bag->calls++;
    if (bag->calls == bag->poison_call) {
        bag->snapshot = copy_weights(bag->params);
        bag->weight->data[3] = NAN;
    }
    Tensor *words = op_embedding(tape, bag->embedding, ids, batch * length);
    Tensor *sentences = op_reshape(tape, words, shape3(batch, length, WIDTH));
    return op_linear(tape, op_mean_positions(tape, sentences), bag->weight, bag->bias);
}

static void bag_init(Bag *bag, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 0);
    *bag = (Bag){tensor_new(shape2(VOCAB, WIDTH), true),
                 tensor_new(shape2(2, WIDTH), true),
                 tensor_new(shape1(2), true),
                 params_new(),
                 0,
                 0,
                 NULL};
    assert_non_null(bag->params);
    init_normal(bag->embedding, &rng, 1.0f);
    init_linear_default(bag->weight, &rng);
    assert_true(params_add(bag->params, bag->embedding, "embedding"));
    assert_true(params_add(bag->params, bag->weight, "weight"));
    assert_true(params_add(bag->params, bag->bias, "bias"));
}

static void bag_free(Bag *bag)
{
    params_free(bag->params);
    tensor_free(bag->embedding);
    tensor_free(bag->weight);
    tensor_free(bag->bias);
    free(bag->snapshot);
}

static TrainResult bag_train(Bag *bag, TrainConfig config)
{
    ClassifierTask task = {sample_contains_two, NULL, WORDS};
    return train_classifier(bag_forward, bag, bag->params, task, config);
}

/* A checkpoint path in the temporary folder, unique per test program run. */
static void temporary_path(char *path, size_t size, const char *name)
{
    const char *folder = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, size, "%s/test_train_%ld_%s.ckpt", folder, (long)getpid(), name);
}

/* Loads `path` into a fresh bag and returns its weights in list order. */
static float *load_weights(const char *path)
{
    Bag fresh;
    bag_init(&fresh, 99);
    char error[512];
    bool loaded = checkpoint_load(fresh.params, path, error, sizeof error) == CHECKPOINT_LOADED;
    if (!loaded)
        print_error("%s\n", error);
    assert_true(loaded);
    float *weights = copy_weights(fresh.params);
    bag_free(&fresh);
    return weights;
}

/* Compares two weight arrays bit for bit and prints the first mismatches. */
static void assert_same_bits(const char *label, const float *expected, const float *actual,
                             size_t count)
{
    size_t mismatches = 0;
    for (size_t i = 0; i < count; i++) {
        if (memcmp(&expected[i], &actual[i], sizeof expected[i]) == 0)
            continue;
        if (mismatches++ < 5)
            print_error("%s[%zu]: expected %.9g, got %.9g\n", label, i, (double)expected[i],
                        (double)actual[i]);
    }
    assert_int_equal(mismatches, 0);
}

/* ------------------------------------------------------------------------- */
/* Tests                                                                      */
/* ------------------------------------------------------------------------- */

/* By default nothing is saved and the run ends normally. */
static void test_train_default_config_saves_nothing(void **state)
{
    (void)state;
    Bag bag;
    bag_init(&bag, 3);
    TrainConfig config = train_default_config();
    config.steps = 5;
    config.eval_batches = 1;
    TrainResult result = bag_train(&bag, config);

    assert_null(config.checkpoint_path);
    assert_int_equal(result.status, TRAIN_OK);
    assert_int_equal(result.checkpoint_step, -1);
    assert_int_equal(result.steps, 5);
    assert_string_equal(result.message, "");
    bag_free(&bag);
}

/* Without checkpoint_every, the file holds the weights after the last step. */
static void test_train_checkpoint_holds_final_weights(void **state)
{
    (void)state;
    char path[512];
    temporary_path(path, sizeof path, "final");
    Bag bag;
    bag_init(&bag, 3);
    TrainConfig config = train_default_config();
    config.steps = 7;
    config.eval_batches = 1;
    config.checkpoint_path = path;
    TrainResult result = bag_train(&bag, config);

    assert_int_equal(result.status, TRAIN_OK);
    assert_int_equal(result.checkpoint_step, 7);
    float *expected = copy_weights(bag.params);
    float *saved = load_weights(path);
    assert_same_bits("final checkpoint", expected, saved, params_count_elements(bag.params));

    free(expected);
    free(saved);
    bag_free(&bag);
    remove(path);
}

/*
 * A NaN written into "weight" before forward pass 6, with a checkpoint
 * every 2 steps: step 6 must stop the run, name the weight, and the file
 * must hold the weights after step 4, the last save.
 */
static void test_train_poisoned_weight_stops(void **state)
{
    (void)state;
    char path[512];
    temporary_path(path, sizeof path, "poison");
    Bag bag;
    bag_init(&bag, 4);
    bag.poison_call = 6;
    TrainConfig config = train_default_config();
    config.steps = 20;
    config.checkpoint_path = path;
    config.checkpoint_every = 2;
    TrainResult result = bag_train(&bag, config);

    assert_int_equal(result.status, TRAIN_DIVERGED);
    assert_int_equal(result.steps, 5);
    assert_int_equal(result.checkpoint_step, 4);
    assert_true(isnan(result.accuracy));
    assert_non_null(strstr(result.message, "step 6"));
    assert_non_null(strstr(result.message, "the weight weight"));
    assert_non_null(strstr(result.message, "after step 4"));
    assert_non_null(strstr(result.message, path));
    free(bag.snapshot);
    bag.snapshot = NULL;
    bag_free(&bag);
    remove(path);
}

/*
 * The file kept after a NaN is the last good one: poison forward pass 5
 * with a checkpoint every 2 steps, so the file must equal the weights after
 * step 4, which is what the model held just before pass 5.
 */
static void test_train_poisoned_weight_keeps_checkpoint(void **state)
{
    (void)state;
    char path[512];
    temporary_path(path, sizeof path, "keep");
    Bag bag;
    bag_init(&bag, 5);
    bag.poison_call = 5;
    TrainConfig config = train_default_config();
    config.steps = 20;
    config.checkpoint_path = path;
    config.checkpoint_every = 2;
    TrainResult result = bag_train(&bag, config);
    assert_int_equal(result.status, TRAIN_DIVERGED);

    size_t count = params_count_elements(bag.params);
    float *saved = load_weights(path);
    for (size_t i = 0; i < count; i++)
        assert_true(isfinite(saved[i]));
    assert_non_null(bag.snapshot);
    assert_same_bits("kept checkpoint", bag.snapshot, saved, count);

    char temporary[600];
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    assert_int_equal(access(temporary, F_OK), -1);
    free(saved);
    bag_free(&bag);
    remove(path);
}

/*
 * A learning rate of 3e5 moves every weight by about 3e5 per Adam step (the
 * update is near lr times the gradient's sign), so within a few steps a
 * weight passes CHECKPOINT_MAX_ABS_VALUE (1e6): training must stop with a
 * message, and the last checkpoint must load with finite weights.
 */
static void test_train_huge_learning_rate_diverges(void **state)
{
    (void)state;
    char path[512];
    temporary_path(path, sizeof path, "huge");
    Bag bag;
    bag_init(&bag, 6);
    TrainConfig config = train_default_config();
    config.steps = 20;
    config.learning_rate = 3e5f;
    config.checkpoint_path = path;
    config.checkpoint_every = 1;
    TrainResult result = bag_train(&bag, config);

    assert_int_equal(result.status, TRAIN_DIVERGED);
    assert_true(result.steps < 20);
    assert_non_null(strstr(result.message, "training diverged at step"));
    assert_non_null(strstr(result.message, "has a value above 1e+06"));
    assert_non_null(strstr(result.message, "lower the learning rate"));
    /* The step whose update went too far is not saved; the one before it is. */
    assert_int_equal(result.checkpoint_step, result.steps - 1);
    assert_true(result.checkpoint_step >= 1);

    float *saved = load_weights(path);
    for (size_t i = 0; i < params_count_elements(bag.params); i++)
        assert_true(isfinite(saved[i]));
    free(saved);
    bag_free(&bag);
    remove(path);
}

/* A NaN before any save leaves no file and says so. */
static void test_train_early_nan_saves_nothing(void **state)
{
    (void)state;
    char path[512];
    temporary_path(path, sizeof path, "early");
    Bag bag;
    bag_init(&bag, 7);
    bag.poison_call = 1;
    TrainConfig config = train_default_config();
    config.steps = 20;
    config.checkpoint_path = path;
    config.checkpoint_every = 5;
    TrainResult result = bag_train(&bag, config);

    assert_int_equal(result.status, TRAIN_DIVERGED);
    assert_int_equal(result.checkpoint_step, -1);
    assert_non_null(strstr(result.message, "step 1:"));
    assert_non_null(strstr(result.message, "no checkpoint was saved"));
    assert_int_equal(access(path, F_OK), -1);
    bag_free(&bag);
}

/* A checkpoint path in a missing folder stops training with the save error. */
static void test_train_save_failure_stops(void **state)
{
    (void)state;
    Bag bag;
    bag_init(&bag, 8);
    TrainConfig config = train_default_config();
    config.steps = 4;
    config.checkpoint_path = "/nonexistent-folder-of-test-train/model.ckpt";
    config.checkpoint_every = 2;
    TrainResult result = bag_train(&bag, config);

    assert_int_equal(result.status, TRAIN_SAVE_FAILED);
    assert_int_equal(result.steps, 2);
    assert_non_null(strstr(result.message, "after step 2 failed"));
    assert_non_null(strstr(result.message, "nonexistent-folder-of-test-train"));
    assert_non_null(strstr(result.message, "no checkpoint was saved before it"));
    bag_free(&bag);
}

/* An on_step callback: after step 3, puts a folder at the temporary path in `context`,
 * which makes the next save fail. */
static void block_temporary_file(void *context, int step, float loss)
{
    (void)loss;
    if (step == 3)
        assert_int_equal(mkdir(context, 0700), 0);
}

/* A save that fails after a good one keeps that file and names it in the message. */
static void test_train_save_failure_keeps_last_checkpoint(void **state)
{
    (void)state;
    char path[512], temporary[520];
    temporary_path(path, sizeof path, "kept");
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    Bag bag;
    bag_init(&bag, 8);
    TrainConfig config = train_default_config();
    config.steps = 6;
    config.checkpoint_path = path;
    config.checkpoint_every = 2;
    config.on_step = block_temporary_file;
    config.on_step_context = temporary;
    TrainResult result = bag_train(&bag, config);

    assert_int_equal(result.status, TRAIN_SAVE_FAILED);
    assert_int_equal(result.steps, 4);
    assert_int_equal(result.checkpoint_step, 2);
    assert_non_null(strstr(result.message, "after step 4 failed"));
    assert_non_null(strstr(result.message, "Is a directory"));
    assert_non_null(strstr(result.message, "the last good checkpoint, after step 2, is kept in"));
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(rmdir(temporary), 0);
    assert_int_equal(remove(path), 0);
    bag_free(&bag);
}

/* Runs train_exit_on_failure on a result of `status` in a child; returns its exit status. */
static int exit_status_for(TrainStatus status)
{
    TrainResult result = {.status = status, .checkpoint_step = -1};
    snprintf(result.message, sizeof result.message, "the test's message");
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* Keep the child's message out of the test's output. */
        close(STDERR_FILENO);
        train_exit_on_failure("test", &result);
        _exit(0);
    }
    int wait_status = 0;
    assert_int_equal(waitpid(child, &wait_status, 0), child);
    assert_true(WIFEXITED(wait_status));
    return WEXITSTATUS(wait_status);
}

/* The statuses of the project: 3 when training diverged, 1 (I/O) when a save failed. */
static void test_train_exit_status_per_failure(void **state)
{
    (void)state;
    assert_int_equal(exit_status_for(TRAIN_OK), 0);
    assert_int_equal(exit_status_for(TRAIN_DIVERGED), 3);
    assert_int_equal(exit_status_for(TRAIN_SAVE_FAILED), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_default_config_saves_nothing),
        cmocka_unit_test(test_train_checkpoint_holds_final_weights),
        cmocka_unit_test(test_train_poisoned_weight_stops),
        cmocka_unit_test(test_train_poisoned_weight_keeps_checkpoint),
        cmocka_unit_test(test_train_huge_learning_rate_diverges),
        cmocka_unit_test(test_train_early_nan_saves_nothing),
        cmocka_unit_test(test_train_save_failure_stops),
        cmocka_unit_test(test_train_save_failure_keeps_last_checkpoint),
        cmocka_unit_test(test_train_exit_status_per_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
