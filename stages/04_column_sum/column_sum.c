/*
 * Stage 04: the column-sum layer and its counts (contracts in column_sum.h).
 * The blurring measurement that motivates stage 05 is in blur.c.
 */
#include "04_column_sum/column_sum.h"

#include <stdint.h>

Tensor *column_sum_layer_forward(Tape *tape, const PairNet *net, Tensor *x, Tensor **pairs_out)
{
    /* 1. Stage 02's pairwise layer: pairs [B, n*n, Dout], pair q*n + k is net([x_q ; x_k]). */
    Tensor *pairs = pairwise_layer_forward(tape, net, x);
    if (pairs_out)
        *pairs_out = pairs;

    /* 2. Each word q keeps the sum of its n pairs (q, k): [B, n, Dout]. */
    return op_column_sum(tape, pairs);
}

/* Sets *product = a * b, or returns false when it overflows size_t. */
static bool multiply_size(size_t a, size_t b, size_t *product)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *product = a * b;
    return true;
}

bool column_sum_pair_count(size_t words, size_t *count)
{
    return multiply_size(words, words, count);
}

bool column_sum_multiply_adds(size_t words, int layers, int in_width, int width, size_t *count)
{
    if (words < 1 || layers < 1 || in_width < 1 || width < 1)
        return false;
    size_t pairs;
    if (!column_sum_pair_count(words, &pairs))
        return false;

    /* Per pair: the pair net (2 Din Dout) plus one addition per output element (Dout). */
    size_t first_per_pair = 2 * (size_t)in_width * (size_t)width + (size_t)width;
    size_t later_per_pair = 2 * (size_t)width * (size_t)width + (size_t)width;
    size_t first, later, later_all;
    if (!multiply_size(pairs, first_per_pair, &first) ||
        !multiply_size(pairs, later_per_pair, &later) ||
        !multiply_size(later, (size_t)layers - 1, &later_all) || first > SIZE_MAX - later_all)
        return false;
    *count = first + later_all;
    return true;
}
