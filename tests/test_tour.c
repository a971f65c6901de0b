/*
 * Tests of the tour's stage models (tour/tour_stages.c). The tape's count
 * of multiply-adds is compared with a hand count for one small case per
 * stage, and the stages' cost formulas with the same counts. Further tests
 * cover the vector counts, the checks before a forward pass, and which
 * stages tell word order apart.
 *
 * The tour's model code is linked into build/bin/tour, not into the
 * library, so this test compiles it in.
 *
 * The small case, for every stage: one sentence of n = 4 words, V = 4
 * words in the vocabulary, P = 5 positions, D = 2, L = 2 layers, H = 2
 * heads, C = 2 outputs, MLP width M = 4D = 8, scoring hidden width D. A
 * matrix product of [r, k] and [k, c] counts r*k*c multiply-adds; lookups,
 * additions, ReLU, softmax and layer norms count none.
 */
#include "../tour/tour_stages.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

enum { WORDS = 4 };

static const int IDS[WORDS] = {1, 2, 3, 1};

static TourConfig small_config(void)
{
    return (TourConfig){
        .vocab_size = 4, .positions = 5, .width = 2, .layers = 2, .heads = 2, .classes = 2};
}

/* Returns the tape's multiply-adds of one inference pass of @p stage on IDS. */
static unsigned long long count_forward(TourStage stage, const int *ids)
{
    TourConfig config = small_config();
    TourModel *model = tour_model_new(stage, &config, 7);
    assert_non_null(model);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    Tensor *out = tour_model_forward(&tape, model, ids, WORDS);
    assert_int_equal(out->size, (size_t)config.classes);
    unsigned long long count = tape.multiply_adds;

    tape_free(&tape);
    tour_model_free(model);
    return count;
}

/* ------------------------------------------------------------------------- */
/* The tape's count against hand counts                                       */
/* ------------------------------------------------------------------------- */

/*
 * 01 CNN: each layer is a linear map of the 4 windows [4, 3D = 6] to
 * [4, D = 2]: 4 * 6 * 2 = 48, twice = 96. The mean [1, 2] times the output
 * weight [2, 2]^T: 1 * 2 * 2 = 4. Total 100.
 */
static void test_tour_cnn_count_hand(void **state)
{
    (void)state;
    assert_int_equal(count_forward(TOUR_CNN, IDS), 100);
}

/*
 * 02 pairwise, one-hot words of width V = 4: layer 1 maps the 4^2 = 16 pairs
 * [16, 2V = 8] to [16, 2]: 16 * 8 * 2 = 256. Layer 2 maps the 16^2 = 256
 * pairs of those [256, 2D = 4] to [256, 2]: 256 * 4 * 2 = 2048. Output 4.
 * Total 2308.
 */
static void test_tour_pairwise_count_hand(void **state)
{
    (void)state;
    assert_int_equal(count_forward(TOUR_PAIRWISE, IDS), 2308);
}

/*
 * 03 positions, input width V + P = 9: layer 1 16 * 18 * 2 = 576, layer 2
 * 2048 as in stage 02, output 4. Total 2628.
 */
static void test_tour_positions_count_hand(void **state)
{
    (void)state;
    assert_int_equal(count_forward(TOUR_POSITIONS, IDS), 2628);
}

/*
 * 04 column sum, input width V + P = 9: layer 1 16 * 18 * 2 = 576, then
 * the column sums (additions). Layer 2 pairs the 4 sums again: 16 pairs
 * [16, 4] to [16, 2] = 128. Output 4. Total 708.
 */
static void test_tour_column_sum_count_hand(void **state)
{
    (void)state;
    assert_int_equal(count_forward(TOUR_COLUMN_SUM, IDS), 708);
}

/*
 * 05 scored attention, per layer on 16 pairs of width 2D = 4: the
 * representation net 16 * 4 * 2 = 128, the scoring net's hidden map
 * 16 * 4 * 2 = 128 and its last map 16 * 2 * 1 = 32, and per query the
 * weights [1, 4] times the pairs [4, 2]: 4 * (1 * 4 * 2) = 32. That is 320
 * per layer, 640 for two. Output 4. Total 644.
 */
static void test_tour_scored_count_hand(void **state)
{
    (void)state;
    assert_int_equal(count_forward(TOUR_SCORED, IDS), 644);
}

/*
 * 06 linear attention, per layer: W_Q, W_K, A and B each [4, 2] times
 * [2, 2]: 4 * 16 = 64. Scores [4, 2] times [2, 4]: 32. Weighted sums
 * [4, 4] times [4, 2]: 32. MLP [4, 2] -> [4, 8] -> [4, 2]: 64 + 64 = 128.
 * That is 256 per layer, 512 for two. Output 4. Total 516.
 */
static void test_tour_linear_count_hand(void **state)
{
    (void)state;
    assert_int_equal(count_forward(TOUR_LINEAR, IDS), 516);
}

/*
 * 07 two heads of width 1, per layer and head: W_Q, W_K, A, B each [4, 2]
 * times [2, 1]: 4 * 8 = 32. Scores [4, 1] times [1, 4]: 16. Sums [4, 4]
 * times [4, 1]: 16. Two heads 128, MLP 128: 256 per layer, as stage 06,
 * because splitting D among heads costs nothing. 512 + output 4 = 516.
 */
static void test_tour_multi_head_count_hand(void **state)
{
    (void)state;
    assert_int_equal(count_forward(TOUR_MULTI_HEAD, IDS), 516);
}

/*
 * 08 transformer, per block: the two heads 128 as in stage 07, W_O [4, 2]
 * times [2, 2] = 16, MLP 128: 272, 544 for two. Classifier 4. Total 548.
 */
static void test_tour_transformer_count_hand(void **state)
{
    (void)state;
    assert_int_equal(count_forward(TOUR_TRANSFORMER, IDS), 548);
}

/* ------------------------------------------------------------------------- */
/* Formulas, vector counts and checks                                         */
/* ------------------------------------------------------------------------- */

/*
 * The cost formulas count exactly the matrix products, so they equal the
 * hand counts above, except stage 04's, which also counts the n^2 D
 * additions of each column sum: 708 + 2 * 16 * 2 = 772.
 */
static void test_tour_formula_hand_counts(void **state)
{
    (void)state;
    static const double expected[TOUR_STAGE_COUNT] = {100, 2308, 2628, 772, 644, 516, 516, 548};
    TourConfig config = small_config();
    for (int stage = 0; stage < TOUR_STAGE_COUNT; stage++) {
        double count = 0.0;
        assert_true(tour_formula_multiply_adds((TourStage)stage, &config, WORDS, &count));
        assert_true(count == expected[stage]);
    }
}

static void test_tour_formula_rejects_empty_sentence(void **state)
{
    (void)state;
    TourConfig config = small_config();
    double count = -1.0;
    assert_false(tour_formula_multiply_adds(TOUR_CNN, &config, 0, &count));
    assert_true(count == -1.0);
}

/* Vectors per layer for n = 4 and L = 2, by hand: n, n^(2^l) or n^2. */
static void test_tour_vectors_per_layer(void **state)
{
    (void)state;
    static const char *const expected[TOUR_STAGE_COUNT] = {
        "4, 4", "16, 256", "16, 256", "16, 16", "16, 16", "4, 4", "4, 4", "4, 4",
    };
    TourConfig config = small_config();
    char text[64];
    for (int stage = 0; stage < TOUR_STAGE_COUNT; stage++) {
        tour_format_vectors((TourStage)stage, &config, WORDS, text, sizeof text);
        assert_string_equal(text, expected[stage]);
    }
}

/* The CNN's 2 layers of window 3 read 2L+1 = 5 words, and every later stage reads all n. */
static void test_tour_receptive_field(void **state)
{
    (void)state;
    TourConfig config = small_config();
    assert_int_equal(tour_receptive_field(TOUR_CNN, &config, 11), 5);
    assert_int_equal(tour_receptive_field(TOUR_SCORED, &config, 11), 11);
}

static void test_tour_config_rejects_odd_heads(void **state)
{
    (void)state;
    TourConfig config = small_config();
    config.width = 3;
    char error[256] = "";
    assert_false(tour_config_check(&config, error, sizeof error));
    assert_non_null(strstr(error, "multiple of the head count"));
    assert_null(tour_model_new(TOUR_CNN, &config, 1));
}

/* 2 layers on 48 words need 48^4 vectors of 4D floats: above the guard's 1 GiB. */
static void test_tour_check_size_guard(void **state)
{
    (void)state;
    TourConfig config = small_config();
    config.positions = 64;
    config.width = 16;
    TourModel *pairwise = tour_model_new(TOUR_PAIRWISE, &config, 1);
    TourModel *cnn = tour_model_new(TOUR_CNN, &config, 1);
    char error[512] = "";

    assert_false(tour_model_check(pairwise, 48, error, sizeof error));
    assert_non_null(strstr(error, "48^4"));
    assert_true(tour_model_check(pairwise, 32, error, sizeof error));
    assert_true(tour_model_check(cnn, 48, error, sizeof error));

    tour_model_free(pairwise);
    tour_model_free(cnn);
}

/* Stages 03 to 08 encode positions 0 .. P-1, so P + 1 = 6 words are rejected. */
static void test_tour_check_position_cutoff(void **state)
{
    (void)state;
    TourConfig config = small_config();
    char error[512] = "";
    for (int stage = TOUR_POSITIONS; stage < TOUR_STAGE_COUNT; stage++) {
        TourModel *model = tour_model_new((TourStage)stage, &config, 1);
        assert_non_null(model);
        assert_true(tour_model_check(model, 5, error, sizeof error));
        assert_false(tour_model_check(model, 6, error, sizeof error));
        tour_model_free(model);
    }
}

/* ------------------------------------------------------------------------- */
/* Word order                                                                 */
/* ------------------------------------------------------------------------- */

/*
 * Returns the largest output difference of @p stage at width 8 between IDS
 * and IDS with its last two words swapped.
 */
static double swap_difference(TourStage stage)
{
    static const int swapped[WORDS] = {1, 2, 1, 3};
    TourConfig config = small_config();
    config.width = 8;
    TourModel *model = tour_model_new(stage, &config, 7);
    assert_non_null(model);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    Tensor *a = tour_model_forward(&tape, model, IDS, WORDS);
    Tensor *b = tour_model_forward(&tape, model, swapped, WORDS);
    double largest = 0.0;
    for (size_t i = 0; i < a->size; i++)
        largest = fmax(largest, fabs((double)a->data[i] - (double)b->data[i]));

    tape_free(&tape);
    tour_model_free(model);
    return largest;
}

/*
 * Stage 02 averages over every sequence of word indices, which a swap only
 * reorders (identity: equal up to float rounding).
 */
static void test_tour_swap_keeps_pairwise_output(void **state)
{
    (void)state;
    assert_true(swap_difference(TOUR_PAIRWISE) < 1e-6);
}

/*
 * Every other stage reads windows or positions. With these seeded weights a
 * swap moves each output by far more than rounding (a seeded run, not an
 * identity).
 */
static void test_tour_swap_changes_other_stages(void **state)
{
    (void)state;
    for (int stage = 0; stage < TOUR_STAGE_COUNT; stage++) {
        if (stage == TOUR_PAIRWISE)
            continue;
        double difference = swap_difference((TourStage)stage);
        if (!(difference > 1e-4))
            print_error("%s: output difference %g after a swap\n",
                        tour_stage_name((TourStage)stage), difference);
        assert_true(difference > 1e-4);
    }
}

/* The parameter count of stage 06 by hand: V*D + P*D = 18, per layer 4 D^2 = 16 for
 * W_Q, W_K, A, B and 2*8*2 + 8 + 2 = 42 for the MLP, then 2*2 + 2 = 6: 18 + 116 + 6 = 140. */
static void test_tour_parameters_linear(void **state)
{
    (void)state;
    TourConfig config = small_config();
    TourModel *model = tour_model_new(TOUR_LINEAR, &config, 1);
    assert_int_equal(tour_model_parameters(model), 140);
    tour_model_free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tour_cnn_count_hand),
        cmocka_unit_test(test_tour_pairwise_count_hand),
        cmocka_unit_test(test_tour_positions_count_hand),
        cmocka_unit_test(test_tour_column_sum_count_hand),
        cmocka_unit_test(test_tour_scored_count_hand),
        cmocka_unit_test(test_tour_linear_count_hand),
        cmocka_unit_test(test_tour_multi_head_count_hand),
        cmocka_unit_test(test_tour_transformer_count_hand),
        cmocka_unit_test(test_tour_formula_hand_counts),
        cmocka_unit_test(test_tour_formula_rejects_empty_sentence),
        cmocka_unit_test(test_tour_vectors_per_layer),
        cmocka_unit_test(test_tour_receptive_field),
        cmocka_unit_test(test_tour_config_rejects_odd_heads),
        cmocka_unit_test(test_tour_check_size_guard),
        cmocka_unit_test(test_tour_check_position_cutoff),
        cmocka_unit_test(test_tour_swap_keeps_pairwise_output),
        cmocka_unit_test(test_tour_swap_changes_other_stages),
        cmocka_unit_test(test_tour_parameters_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
