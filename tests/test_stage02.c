/*
 * Tests of stage 02, the pairwise convolution (stages/02_pairwise_convolution).
 *
 * Expected values come from hand computation (vector counts, one pair net on
 * two vectors), from identities (the tree-shaped CNN, order invariance) and
 * from an independent reference. That reference recomputes the tree-shaped
 * CNN with explicit loops over index tuples, in double, without the ops.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "02_pairwise_convolution/pairwise.h"

/* ------------------------------------------------------------------------- */
/* Helpers and the independent reference                                      */
/* ------------------------------------------------------------------------- */

/* Vocabulary size of the test sentences: word ids are 0 .. TEST_VOCAB - 1. */
#define TEST_VOCAB 6

/* Largest 2^L and width the reference handles. */
#define REFERENCE_MAX_LENGTH 16
#define REFERENCE_MAX_WIDTH 16

/* Returns a model with one-hot input of TEST_VOCAB, width 5 and 2 classes, seeded. */
static PairwiseModel *new_test_model(int layers, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 7);
    PairwiseConfig config = {.input_width = TEST_VOCAB, .width = 5, .layers = layers, .classes = 2};
    PairwiseModel *model = pairwise_model_new(&config, &rng, NULL);
    assert_non_null(model);
    return model;
}

/*
 * Computes, in double and with plain loops, the tree-shaped CNN over the
 * word ids sequence[0 .. 2^L - 1]: level l replaces the vectors 2j and
 * 2j+1 by relu(W_l [v_2j ; v_2j+1] + b_l). Words enter as one-hot vectors.
 * Writes the final vector [D] into out.
 */
static void reference_tree(const PairwiseModel *model, const int *sequence, double *out)
{
    int layers = model->config.layers;
    int length = 1 << layers;
    int width = model->config.input_width;
    double level[REFERENCE_MAX_LENGTH][REFERENCE_MAX_WIDTH];
    double next[REFERENCE_MAX_LENGTH][REFERENCE_MAX_WIDTH];
    assert_true(length <= REFERENCE_MAX_LENGTH && width <= REFERENCE_MAX_WIDTH);

    for (int j = 0; j < length; j++)
        for (int c = 0; c < width; c++)
            level[j][c] = c == sequence[j] ? 1.0 : 0.0;

    for (int l = 0; l < layers; l++) {
        const PairNet *net = model->nets[l];
        int out_width = model->config.width;
        length /= 2;
        for (int j = 0; j < length; j++) {
            for (int o = 0; o < out_width; o++) {
                const float *w = net->weight->data + (size_t)o * (size_t)(2 * width);
                double sum = net->bias->data[o];
                for (int c = 0; c < width; c++)
                    sum +=
                        (double)w[c] * level[2 * j][c] + (double)w[width + c] * level[2 * j + 1][c];
                next[j][o] = sum > 0.0 ? sum : 0.0;
            }
        }
        width = out_width;
        memcpy(level, next, sizeof level);
    }
    memcpy(out, level[0], (size_t)width * sizeof(double));
}

/*
 * Computes the model's output [C] for the sentence ids[0 .. n-1] as the
 * mean of reference_tree over every sequence of 2^L indices from 0 .. n-1
 * (with repetition), enumerated by an odometer, then the linear prediction.
 */
static void reference_output(const PairwiseModel *model, const int *ids, int n, double *logits)
{
    int length = 1 << model->config.layers;
    int width = model->config.width;
    int digits[REFERENCE_MAX_LENGTH] = {0};
    int sequence[REFERENCE_MAX_LENGTH];
    double mean[REFERENCE_MAX_WIDTH] = {0};
    double vector[REFERENCE_MAX_WIDTH];
    size_t count = 0;

    for (;;) {
        for (int j = 0; j < length; j++)
            sequence[j] = ids[digits[j]];
        reference_tree(model, sequence, vector);
        for (int o = 0; o < width; o++)
            mean[o] += vector[o];
        count++;

        /* Advance the odometer: the last place turns fastest. */
        int place = length - 1;
        while (place >= 0 && ++digits[place] == n)
            digits[place--] = 0;
        if (place < 0)
            break;
    }

    for (int c = 0; c < model->config.classes; c++) {
        double sum = model->out_bias->data[c];
        for (int o = 0; o < width; o++)
            sum += (double)model->out_weight->data[(size_t)c * (size_t)width + o] * mean[o] /
                   (double)count;
        logits[c] = sum;
    }
}

/* Runs the model on one sentence of ids [n] and copies its output [C] into logits. */
static void model_output(const PairwiseModel *model, const int *ids, int n, float *logits)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *x = pairwise_onehot_words(&tape, ids, 1, n, TEST_VOCAB);
    Tensor *out = pairwise_model_forward(&tape, model, x);
    memcpy(logits, out->data, (size_t)model->config.classes * sizeof(float));
    tape_free(&tape);
}

/* 3 words, 2 layers: 3^(2^2) = 3^4 = 81 vectors, by hand. */
static void test_vector_count_three_words_two_layers(void **state)
{
    (void)state;
    size_t count = 0;
    assert_true(pairwise_vector_count(3, 2, &count));
    assert_int_equal(count, 81);
}

/* 0 layers leave the n words; 1 layer gives n^2; 2 words, 5 layers give 2^32. */
static void test_vector_count_small_cases(void **state)
{
    (void)state;
    size_t count = 0;
    assert_true(pairwise_vector_count(7, 0, &count));
    assert_int_equal(count, 7);
    assert_true(pairwise_vector_count(7, 1, &count));
    assert_int_equal(count, 49);
    assert_true(pairwise_vector_count(1, 1000, &count));
    assert_int_equal(count, 1);
    assert_true(pairwise_vector_count(2, 5, &count));
    assert_true(count == (size_t)1 << 32);
}

/* 16^(2^4) = 2^64 and 256^(2^3) = 2^64 do not fit in a 64-bit size_t. */
static void test_vector_count_overflow_reported(void **state)
{
    (void)state;
    size_t count = 12345;
    assert_false(pairwise_vector_count(16, 4, &count));
    assert_int_equal(count, 12345);
    assert_false(pairwise_vector_count(256, 3, &count));
    assert_int_equal(count, 12345);
    assert_false(pairwise_vector_count(3, -1, &count));
}

/*
 * One pair net, Din = 1, Dout = 2, on x = [1, -2] (one sentence of 2
 * vectors). By hand, with weight [[1, 2], [-1, 0.5]] and bias [0.5, 0]:
 * pair (q, k) gives relu(q + 2k + 0.5) and relu(-q + 0.5k).
 * (1, 1): 3.5, 0    (1, -2): 0, 0    (-2, 1): 0.5, 2.5    (-2, -2): 0, 1
 */
static void test_pairwise_layer_hand(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 1, 1);
    PairNet *net = pair_net_new(1, 2, &rng, NULL);
    assert_non_null(net);
    const float weight[] = {1.0f, 2.0f, -1.0f, 0.5f};
    const float bias[] = {0.5f, 0.0f};
    memcpy(net->weight->data, weight, sizeof weight);
    memcpy(net->bias->data, bias, sizeof bias);

    Tape tape;
    tape_init(&tape);
    Tensor *x = tape_tensor(&tape, shape3(1, 2, 1), false);
    x->data[0] = 1.0f;
    x->data[1] = -2.0f;
    Tensor *out = pairwise_layer_forward(&tape, net, x);

    const float expected[] = {3.5f, 0.0f, 0.0f, 0.0f, 0.5f, 2.5f, 0.0f, 1.0f};
    assert_int_equal(out->shape.ndim, 3);
    assert_int_equal(out->shape.dim[1], 4);
    assert_int_equal(out->shape.dim[2], 2);
    assert_true(checks_near("pairwise layer", out->data, expected, 8, 0.0f, 0.0f));

    tape_free(&tape);
    pair_net_free(net);
}

/* Two pair nets in one list get distinct names, so params_add accepts both. */
static void test_pair_net_params_named_apart(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 1, 1);
    ParamList *params = params_new();
    PairNet *first = pair_net_new(3, 4, &rng, params);
    PairNet *second = pair_net_new(4, 4, &rng, params);
    assert_non_null(first);
    assert_non_null(second);
    assert_int_equal(params->count, 4);
    assert_string_equal(params->names[0], "pair_net1.weight");
    assert_string_equal(params->names[1], "pair_net1.bias");
    assert_string_equal(params->names[2], "pair_net2.weight");
    assert_string_equal(params->names[3], "pair_net2.bias");
    assert_int_equal(first->weight->shape.dim[0], 4);
    assert_int_equal(first->weight->shape.dim[1], 6);
    pair_net_free(first);
    pair_net_free(second);
    params_free(params);
}

/* ------------------------------------------------------------------------- */
/* The size guard                                                             */
/* ------------------------------------------------------------------------- */

/*
 * n = 3, L = 2, B = 1, Din = 5, D = 4, by hand: layer 1 makes 9 vectors of
 * 2*5 + 2*4 = 18 floats, layer 2 81 vectors of 2*4 + 2*4 = 16 floats:
 * 162 + 1296 = 1458 floats = 5832 bytes, twice that with gradients.
 */
static void test_forward_size_hand(void **state)
{
    (void)state;
    PairwiseRequest request = {.batch = 1, .words = 3, .layers = 2, .input_width = 5, .width = 4};
    PairwiseSize size = {0};
    assert_true(pairwise_forward_size(&request, &size));
    assert_int_equal(size.vectors, 81);
    assert_int_equal(size.bytes, 5832);
    request.gradients = true;
    assert_true(pairwise_forward_size(&request, &size));
    assert_int_equal(size.bytes, 11664);
    request.batch = 3;
    assert_true(pairwise_forward_size(&request, &size));
    assert_int_equal(size.bytes, 3 * 11664);
}

/* 16^(2^4) = 2^64 wraps to 0 in a 64-bit size_t unchecked; the guard reports the overflow. */
static void test_guard_sixteen_words_four_layers_rejected(void **state)
{
    (void)state;
    PairwiseRequest request = {.batch = 1, .words = 16, .layers = 4, .input_width = 17, .width = 8};
    PairwiseSize size = {.vectors = 99, .bytes = 99};
    char error[512] = "";
    assert_false(pairwise_forward_size(&request, &size));
    assert_int_equal(size.vectors, 99);
    assert_false(pairwise_check_size(&request, &size, error, sizeof error));
    assert_int_equal(size.vectors, 99);
    assert_non_null(strstr(error, "16^16"));
    assert_non_null(strstr(error, "overflows size_t"));
    assert_non_null(strstr(error, "67108864 vectors"));
    assert_non_null(strstr(error, "1073741824 bytes"));
}

/* 256^(2^3) = 2^64 overflows too. */
static void test_guard_256_words_three_layers_rejected(void **state)
{
    (void)state;
    PairwiseRequest request = {.batch = 1, .words = 256, .layers = 3, .input_width = 4, .width = 4};
    char error[512] = "";
    assert_false(pairwise_check_size(&request, NULL, error, sizeof error));
    assert_non_null(strstr(error, "256^8"));
    assert_non_null(strstr(error, "overflows size_t"));
}

/* 16^(2^3) = 2^32 = 4294967296 fits in size_t but is above 2^26 vectors. */
static void test_guard_count_above_limit_rejected(void **state)
{
    (void)state;
    PairwiseRequest request = {.batch = 1, .words = 16, .layers = 3, .input_width = 4, .width = 4};
    char error[512] = "";
    assert_false(pairwise_check_size(&request, NULL, error, sizeof error));
    assert_non_null(strstr(error, "16^8 = 4294967296 vectors"));
    assert_null(strstr(error, "overflows"));
}

/*
 * 8 words, 3 layers, Din = D = 8: 8^8 = 2^24 vectors, below 2^26, but by
 * hand 32 floats per vector over 64 + 4096 + 2^24 vectors is
 * 2148016128 bytes, above 1 GiB.
 */
static void test_guard_bytes_above_limit_rejected(void **state)
{
    (void)state;
    PairwiseRequest request = {.batch = 1, .words = 8, .layers = 3, .input_width = 8, .width = 8};
    char error[512] = "";
    assert_false(pairwise_check_size(&request, NULL, error, sizeof error));
    assert_non_null(strstr(error, "16777216 vectors"));
    assert_non_null(strstr(error, "2148016128 bytes"));
}

/* The sizes of "the fat cat" with 2 layers pass, and the guard reports them. */
static void test_guard_small_request_accepted(void **state)
{
    (void)state;
    PairwiseRequest request = {.batch = 1, .words = 3, .layers = 2, .input_width = 5, .width = 4};
    PairwiseSize size = {0};
    char error[512] = "";
    assert_true(pairwise_check_size(&request, &size, error, sizeof error));
    assert_int_equal(size.vectors, 81);
    assert_int_equal(size.bytes, 5832);
}

/* A rejected request leaves the tape empty: no entry recorded, no byte handed out. */
static void test_forward_checked_allocates_nothing(void **state)
{
    (void)state;
    PairwiseModel *model = new_test_model(3, 1);
    Tensor *x = tensor_new(shape3(1, 256, TEST_VOCAB), false);
    Tape tape;
    tape_init(&tape);
    char error[512] = "";

    Tensor *out = pairwise_model_forward_checked(&tape, model, x, error, sizeof error);
    assert_null(out);
    assert_int_equal(tape.arena.used_bytes, 0);
    assert_int_equal(tape.arena.peak_bytes, 0);
    assert_int_equal(tape.count, 0);
    assert_non_null(strstr(error, "256^8"));

    tape_free(&tape);
    tensor_free(x);
    pairwise_model_free(model);
}

/* "the fat cat" (3 words) with 2 layers: 81 final vectors of width D, and C outputs. */
static void test_model_three_words_two_layers_shapes(void **state)
{
    (void)state;
    PairwiseModel *model = new_test_model(2, 1);
    const int ids[] = {1, 2, 3};
    Tape tape;
    tape_init(&tape);
    char error[512] = "";
    Tensor *x = pairwise_onehot_words(&tape, ids, 1, 3, TEST_VOCAB);

    Tensor *vectors = pairwise_model_vectors(&tape, model, x);
    assert_int_equal(vectors->shape.dim[1], 81);
    assert_int_equal(vectors->shape.dim[2], 5);
    Tensor *out = pairwise_model_forward_checked(&tape, model, x, error, sizeof error);
    assert_non_null(out);
    assert_int_equal(out->shape.dim[0], 1);
    assert_int_equal(out->shape.dim[1], 2);

    tape_free(&tape);
    pairwise_model_free(model);
}

/* ------------------------------------------------------------------------- */
/* The tree-shaped CNN identity                                               */
/* ------------------------------------------------------------------------- */

/*
 * The model's output equals the mean of a tree-shaped CNN over every
 * sequence of 2^L word indices drawn from the sentence with repetition,
 * computed independently by reference_output (loops, double).
 */
static void check_tree_identity(int n, int layers)
{
    PairwiseModel *model = new_test_model(layers, (uint64_t)(10 * n + layers));
    const int ids[] = {3, 1, 4, 5, 2};
    float actual[2];
    double expected_double[2];
    model_output(model, ids, n, actual);
    reference_output(model, ids, n, expected_double);

    float expected[2] = {(float)expected_double[0], (float)expected_double[1]};
    char label[64];
    snprintf(label, sizeof label, "tree CNN, n = %d, L = %d", n, layers);
    assert_true(checks_near(label, actual, expected, 2, 1e-5f, 1e-5f));
    pairwise_model_free(model);
}

static void test_tree_cnn_identity_three_words_two_layers(void **state)
{
    (void)state;
    check_tree_identity(3, 2);
}

static void test_tree_cnn_identity_four_words_two_layers(void **state)
{
    (void)state;
    check_tree_identity(4, 2);
}

static void test_tree_cnn_identity_two_words_three_layers(void **state)
{
    (void)state;
    check_tree_identity(2, 3);
}

/*
 * Final vector i is the tree over the base-n digits of i: every vector of
 * pairwise_model_vectors against reference_tree, and against the library's
 * own tree CNN (pairwise_index_sequences + pairwise_tree_cnn_forward).
 */
static void test_final_vectors_follow_digit_order(void **state)
{
    (void)state;
    PairwiseModel *model = new_test_model(2, 5);
    const int ids[] = {2, 0, 5};
    enum { N = 3, COUNT = 81, WIDTH = 5 };
    Tape tape;
    tape_init(&tape);
    Tensor *x = pairwise_onehot_words(&tape, ids, 1, N, TEST_VOCAB);
    Tensor *vectors = pairwise_model_vectors(&tape, model, x);
    Tensor *sequences = pairwise_index_sequences(&tape, x, 2);
    assert_non_null(sequences);
    Tensor *tree = pairwise_tree_cnn_forward(&tape, model, sequences);

    float expected[COUNT * WIDTH];
    for (int i = 0; i < COUNT; i++) {
        int sequence[4] = {ids[i / 27], ids[i / 9 % 3], ids[i / 3 % 3], ids[i % 3]};
        double vector[WIDTH];
        reference_tree(model, sequence, vector);
        for (int o = 0; o < WIDTH; o++)
            expected[i * WIDTH + o] = (float)vector[o];
    }
    assert_true(
        checks_near("pairwise vectors", vectors->data, expected, COUNT * WIDTH, 1e-5f, 1e-5f));
    assert_true(checks_near("tree CNN vectors", tree->data, expected, COUNT * WIDTH, 1e-5f, 1e-5f));

    tape_free(&tape);
    pairwise_model_free(model);
}

/* ------------------------------------------------------------------------- */
/* Order invariance                                                           */
/* ------------------------------------------------------------------------- */

/*
 * "the fat cat" and "the cat fat" (ids 1 2 3 and 1 3 2) give the same
 * output: reordering the words only reorders the index sequences.
 */
static void test_order_invariance_fat_cat(void **state)
{
    (void)state;
    PairwiseModel *model = new_test_model(2, 3);
    const int fat_cat[] = {1, 2, 3};
    const int cat_fat[] = {1, 3, 2};
    float first[2], second[2];
    model_output(model, fat_cat, 3, first);
    model_output(model, cat_fat, 3, second);
    assert_true(checks_near("the fat cat vs the cat fat", second, first, 2, 1e-6f, 1e-5f));
    pairwise_model_free(model);
}

/* Every permutation of 4 words with 1 layer gives the output of the first order. */
static void test_order_invariance_all_permutations(void **state)
{
    (void)state;
    PairwiseModel *model = new_test_model(1, 4);
    const int words[] = {5, 0, 2, 4};
    float base[2];
    model_output(model, words, 4, base);
    for (int p = 0; p < 24; p++) {
        /* Permutation p in the factorial number system. */
        int pool[4] = {5, 0, 2, 4};
        int order[4];
        int rest = p, left = 4;
        for (int j = 0; j < 4; j++) {
            /* (left - 1)!, the number of orders of the words still to place after this one. */
            int fact = 1;
            for (int f = 2; f < left; f++)
                fact *= f;
            int pick = rest / fact;
            rest %= fact;
            order[j] = pool[pick];
            memmove(pool + pick, pool + pick + 1, (size_t)(left - pick - 1) * sizeof(int));
            left--;
        }
        float out[2];
        model_output(model, order, 4, out);
        assert_true(checks_near("permuted sentence", out, base, 2, 1e-6f, 1e-5f));
    }
    pairwise_model_free(model);
}

/* Index sequences beyond the byte limit are refused with NULL, allocating nothing. */
static void test_index_sequences_too_large(void **state)
{
    (void)state;
    Tensor *x = tensor_new(shape2(16, 4), false);
    Tape tape;
    tape_init(&tape);
    assert_null(pairwise_index_sequences(&tape, x, 3));
    assert_int_equal(tape.arena.used_bytes, 0);
    tape_free(&tape);
    tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_count_three_words_two_layers),
        cmocka_unit_test(test_vector_count_small_cases),
        cmocka_unit_test(test_vector_count_overflow_reported),
        cmocka_unit_test(test_pairwise_layer_hand),
        cmocka_unit_test(test_pair_net_params_named_apart),
        cmocka_unit_test(test_forward_size_hand),
        cmocka_unit_test(test_guard_sixteen_words_four_layers_rejected),
        cmocka_unit_test(test_guard_256_words_three_layers_rejected),
        cmocka_unit_test(test_guard_count_above_limit_rejected),
        cmocka_unit_test(test_guard_bytes_above_limit_rejected),
        cmocka_unit_test(test_guard_small_request_accepted),
        cmocka_unit_test(test_forward_checked_allocates_nothing),
        cmocka_unit_test(test_model_three_words_two_layers_shapes),
        cmocka_unit_test(test_tree_cnn_identity_three_words_two_layers),
        cmocka_unit_test(test_tree_cnn_identity_four_words_two_layers),
        cmocka_unit_test(test_tree_cnn_identity_two_words_three_layers),
        cmocka_unit_test(test_final_vectors_follow_digit_order),
        cmocka_unit_test(test_order_invariance_fat_cat),
        cmocka_unit_test(test_order_invariance_all_permutations),
        cmocka_unit_test(test_index_sequences_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
