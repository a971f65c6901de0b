/*
 * Tests of the comparison program's own code (compare/): the text task's
 * buckets, the parameter matching, the columns of the CSV files, the error
 * for a missing corpus, and that a tiny set of training runs gives the same
 * numbers on 1 and on 2 threads.
 *
 * Expected values come from hand computation (the buckets), from the rule
 * that parameter counts match within 15% (the matching), from the column
 * names the CSV files promise, or from the same runs on another thread
 * count (determinism).
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
#include <unistd.h>

#include "../compare/compare.h"
#include "../compare/models.h"
#include "../compare/runner.h"
#include "../compare/settings.h"
#include "../compare/study.h"
#include "../compare/text.h"

/* ------------------------------------------------------------------------- */
/* Buckets of the text task                                                   */
/* ------------------------------------------------------------------------- */

/* The target ids[t + 1] = 4 appears nowhere in ids[0 .. t]. */
static void test_bucket_absent_when_target_is_new(void **state)
{
    (void)state;
    const int ids[] = {1, 2, 3, 4};
    assert_int_equal(text_bucket(ids, 2, 3), BUCKET_ABSENT);
}

/* The target 1 sits at position 3 and last appeared at 0: 3 words back. */
static void test_bucket_within_at_receptive_field(void **state)
{
    (void)state;
    const int ids[] = {1, 2, 3, 1};
    assert_int_equal(text_bucket(ids, 2, 3), BUCKET_WITHIN_RF);
}

/* The same target, 3 words back, is beyond a receptive field of 2 words. */
static void test_bucket_beyond_past_receptive_field(void **state)
{
    (void)state;
    const int ids[] = {1, 2, 3, 1};
    assert_int_equal(text_bucket(ids, 2, 2), BUCKET_BEYOND_RF);
}

/* A word repeated right away is 1 word back. */
static void test_bucket_repeated_word_one_back(void **state)
{
    (void)state;
    const int ids[] = {4, 4};
    assert_int_equal(text_bucket(ids, 0, 1), BUCKET_WITHIN_RF);
}

/*
 * The latest occurrence decides: target 1 at position 5 appeared at 0 and 1,
 * so it is 5 - 1 = 4 words back, beyond 3 and within 4.
 */
static void test_bucket_uses_latest_occurrence(void **state)
{
    (void)state;
    const int ids[] = {1, 1, 9, 9, 9, 1};
    assert_int_equal(text_bucket(ids, 4, 3), BUCKET_BEYOND_RF);
    assert_int_equal(text_bucket(ids, 4, 4), BUCKET_WITHIN_RF);
}

/* ------------------------------------------------------------------------- */
/* Parameter matching                                                         */
/* ------------------------------------------------------------------------- */

/* Returns whether count is within MODEL_MATCH_TOLERANCE (15%) of target. */
static bool within_tolerance(size_t count, size_t target)
{
    double difference = count > target ? (double)(count - target) : (double)(target - count);
    return difference <= 0.15 * (double)target;
}

/* Builds the distance study of a recipe and checks every model against the CNN's count. */
static void check_distance_matching(bool quick)
{
    Settings settings;
    settings_init(&settings, quick);
    Study study;
    char error[512] = "";
    bool built = study_new_distance(&study, &settings.distance, 1, 1, settings.distance_recipe,
                                    error, sizeof error);
    if (!built)
        print_error("study_new_distance: %s\n", error);
    assert_true(built);
    assert_int_equal(study.specs[0].kind, MODEL_CNN);
    for (size_t m = 1; m < study.model_count; m++) {
        if (!within_tolerance(study.params[m], study.params[0]))
            print_error("%s: %zu parameters against the CNN's %zu\n",
                        model_kind_name(study.specs[m].kind), study.params[m], study.params[0]);
        assert_true(within_tolerance(study.params[m], study.params[0]));
    }
    study_free(&study);
}

static void test_match_quick_distance_models(void **state)
{
    (void)state;
    check_distance_matching(true);
}

static void test_match_full_distance_models(void **state)
{
    (void)state;
    check_distance_matching(false);
}

/* The stage 08 language model against the causal CNN of the quick text recipe. */
static void test_match_text_transformer(void **state)
{
    (void)state;
    Settings settings;
    settings_init(&settings, true);
    const TextSettings *t = &settings.text;
    ModelSpec cnn = {.kind = MODEL_CNN,
                     .vocab_size = t->vocab_size,
                     .classes = 1,
                     .layers = t->cnn_layers,
                     .heads = 1,
                     .width = t->cnn_width,
                     .language_model = true};
    size_t target = model_param_count(&cnn);
    ModelSpec transformer = {.kind = MODEL_TRANSFORMER,
                             .vocab_size = t->vocab_size,
                             .positions = t->context,
                             .classes = 1,
                             .layers = t->transformer_layers,
                             .heads = t->transformer_heads,
                             .language_model = true};
    size_t count = model_match_width(&transformer, target, 1024);
    assert_true(target > 0);
    assert_true(within_tolerance(count, target));
    assert_int_equal(transformer.width % t->transformer_heads, 0);
}

/* ------------------------------------------------------------------------- */
/* CSV columns                                                                */
/* ------------------------------------------------------------------------- */

/* Reads the first line of path into line, without its line break. */
static bool read_header(const char *path, char *line, size_t size)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return false;
    bool ok = fgets(line, (int)size, file) != NULL;
    fclose(file);
    line[strcspn(line, "\n")] = '\0';
    return ok;
}

/* A tiny distance study: two distances, the CNN, stage 07 and both controls. */
static void tiny_study(Study *study)
{
    static const int DISTANCES[] = {1, 3};
    DistanceSetup setup = {.cnn_layers = 1,
                           .cnn_width = 12,
                           .deep_cnn_layers = 2,
                           .attention_layers = 1,
                           .heads = 2,
                           .margin = 1,
                           .attention = {false, false, true, false},
                           .distances = DISTANCES,
                           .distance_count = 2};
    Recipe recipe = {.steps = 12,
                     .batch = 4,
                     .learning_rate = 3e-3f,
                     .clip_norm = 1.0f,
                     .eval_batches = 2,
                     .curve_every = 5,
                     .curve_batches = 1};
    char error[512] = "";
    bool built = study_new_distance(study, &setup, 2, 7, recipe, error, sizeof error);
    if (!built)
        print_error("study_new_distance: %s\n", error);
    assert_true(built);
}

/* distance.csv starts with the columns the comparison promises, in that order. */
static void test_csv_distance_columns(void **state)
{
    (void)state;
    char directory[] = "/tmp/test_compare_XXXXXX";
    assert_non_null(mkdtemp(directory));
    Study study;
    tiny_study(&study);
    char error[512] = "", path[128], header[512] = "";
    assert_true(study_write_csv(&study, directory, error, sizeof error));
    snprintf(path, sizeof path, "%s/distance.csv", directory);
    assert_true(read_header(path, header, sizeof header));
    assert_ptr_equal(strstr(header, "model,layers,distance,seed,accuracy,params,receptive_field"),
                     header);
    remove(path);
    rmdir(directory);
    study_free(&study);
}

/* order.csv starts with model,seed,accuracy. */
static void test_csv_order_columns(void **state)
{
    (void)state;
    char directory[] = "/tmp/test_compare_XXXXXX";
    assert_non_null(mkdtemp(directory));
    Study study;
    Recipe recipe = {.steps = 1,
                     .batch = 2,
                     .learning_rate = 1e-3f,
                     .clip_norm = 1.0f,
                     .eval_batches = 1,
                     .curve_every = 1,
                     .curve_batches = 1};
    char error[512] = "", path[128], header[512] = "";
    assert_true(study_new_order(&study, 1, 4, 1, 1, recipe, error, sizeof error));
    assert_true(study_write_csv(&study, directory, error, sizeof error));
    snprintf(path, sizeof path, "%s/order.csv", directory);
    assert_true(read_header(path, header, sizeof header));
    assert_ptr_equal(strstr(header, "model,seed,accuracy"), header);
    remove(path);
    rmdir(directory);
    study_free(&study);
}

/* text.csv starts with model,bucket,tokens,loss and has one row per model and bucket. */
static void test_csv_text_columns(void **state)
{
    (void)state;
    char directory[] = "/tmp/test_compare_XXXXXX";
    assert_non_null(mkdtemp(directory));
    TextRun runs[2];
    memset(runs, 0, sizeof runs);
    runs[0].spec.kind = MODEL_CNN;
    runs[0].spec.layers = 1;
    runs[1].spec.kind = MODEL_TRANSFORMER;
    char error[512] = "", path[128], header[512] = "", line[512];
    assert_true(text_write_csv(runs, 2, directory, error, sizeof error));
    snprintf(path, sizeof path, "%s/text.csv", directory);
    assert_true(read_header(path, header, sizeof header));
    assert_ptr_equal(strstr(header, "model,bucket,tokens,loss"), header);

    /* Rows: 2 models times 4 buckets, the CNN's "all" first. */
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    int rows = -1;
    char first_row[512] = "";
    while (fgets(line, sizeof line, file))
        if (++rows == 1)
            strcpy(first_row, line);
    fclose(file);
    assert_int_equal(rows, 2 * BUCKET_COUNT);
    assert_ptr_equal(strstr(first_row, "01_cnn_baseline,all,"), first_row);
    remove(path);
    rmdir(directory);
}

/* curves.csv has exactly the columns the comparison promises, then the distance. */
static void test_csv_curves_columns(void **state)
{
    (void)state;
    assert_string_equal(CURVES_CSV_HEADER,
                        "task,model,seed,step,seconds,train_loss,val_loss,distance");
}

/* ------------------------------------------------------------------------- */
/* The missing corpus                                                         */
/* ------------------------------------------------------------------------- */

/* Planning task 3 with a missing corpus fails and names both ways to get one. */
static void test_missing_corpus_names_make_data(void **state)
{
    (void)state;
    Options options = {.seed = 1,
                       .threads = 1,
                       .out = "/tmp",
                       .run_text = true,
                       .corpus = "/nonexistent/compare-test/kjv.txt"};
    Comparison comparison;
    char error[2048] = "";
    assert_false(comparison_prepare(&comparison, &options, error, sizeof error));
    assert_non_null(strstr(error, "/nonexistent/compare-test/kjv.txt"));
    assert_non_null(strstr(error, "make data"));
    assert_non_null(strstr(error, "--corpus"));
    comparison_free(&comparison);
}

/* ------------------------------------------------------------------------- */
/* Determinism across thread counts                                           */
/* ------------------------------------------------------------------------- */

/* Runs the tiny study on @p threads threads. */
static void run_tiny_study(Study *study, int threads)
{
    tiny_study(study);
    size_t finished = runner_execute(study->jobs, study->run_count, threads, NULL);
    assert_int_equal(finished, study->run_count);
}

/* Every run gives bit-identical accuracies, losses and curves on 1 and 2 threads. */
static void test_runs_same_on_one_and_two_threads(void **state)
{
    (void)state;
    Study one, two;
    run_tiny_study(&one, 1);
    run_tiny_study(&two, 2);
    assert_int_equal(one.run_count, two.run_count);
    for (size_t r = 0; r < one.run_count; r++) {
        const ClassifierRun *a = &one.runs[r], *b = &two.runs[r];
        if (a->accuracy != b->accuracy || a->final_loss != b->final_loss)
            print_error("%s: accuracy %.6f and %.6f, final loss %.6f and %.6f\n", a->label,
                        (double)a->accuracy, (double)b->accuracy, (double)a->final_loss,
                        (double)b->final_loss);
        assert_true(a->accuracy == b->accuracy);
        assert_true(a->final_loss == b->final_loss);
        assert_int_equal(a->curve.count, b->curve.count);
        for (size_t p = 0; p < a->curve.count; p++) {
            assert_true(a->curve.points[p].train_loss == b->curve.points[p].train_loss);
            assert_true(a->curve.points[p].val_loss == b->curve.points[p].val_loss);
        }
    }
    study_free(&one);
    study_free(&two);
}

/* Two seeds of the same run draw different weights and data, so their losses differ. */
static void test_runs_differ_between_seeds(void **state)
{
    (void)state;
    Study study;
    run_tiny_study(&study, 1);
    const ClassifierRun *first = study_run(&study, 0, 0, 0), *second = study_run(&study, 0, 0, 1);
    assert_true(first->seed != second->seed);
    assert_true(first->final_loss != second->final_loss);
    study_free(&study);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_absent_when_target_is_new),
        cmocka_unit_test(test_bucket_within_at_receptive_field),
        cmocka_unit_test(test_bucket_beyond_past_receptive_field),
        cmocka_unit_test(test_bucket_repeated_word_one_back),
        cmocka_unit_test(test_bucket_uses_latest_occurrence),
        cmocka_unit_test(test_match_quick_distance_models),
        cmocka_unit_test(test_match_full_distance_models),
        cmocka_unit_test(test_match_text_transformer),
        cmocka_unit_test(test_csv_distance_columns),
        cmocka_unit_test(test_csv_order_columns),
        cmocka_unit_test(test_csv_text_columns),
        cmocka_unit_test(test_csv_curves_columns),
        cmocka_unit_test(test_missing_corpus_names_make_data),
        cmocka_unit_test(test_runs_same_on_one_and_two_threads),
        cmocka_unit_test(test_runs_differ_between_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
