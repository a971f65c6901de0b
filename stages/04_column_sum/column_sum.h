/**
 * @file column_sum.h
 * @brief Stage 04: the n x n grid of pair vectors is summed back to one
 *        vector per word, so stacked layers keep n vectors.
 *
 * A column-sum layer is stage 02's pairwise layer followed by op_column_sum:
 * n input vectors give n*n pair vectors r_qk = net([x_q ; x_k]), and each
 * word q keeps y_q = sum_k r_qk. The next layer pairs these n vectors again,
 * so every layer makes n*n pair vectors instead of squaring the count.
 */
#ifndef COLUMN_SUM_H
#define COLUMN_SUM_H

#include <stdbool.h>
#include <stddef.h>

#include "02_pairwise_convolution/pairwise.h"

/**
 * Runs one column-sum layer: y_q = sum_k net([x_q ; x_k]).
 * Shapes: x [B, n, Din], out [B, n, Dout]. When @p pairs_out is not NULL it
 * receives the pair vectors [B, n*n, Dout] (owned by the tape).
 */
Tensor *column_sum_layer_forward(Tape *tape, const PairNet *net, Tensor *x, Tensor **pairs_out);

/**
 * Computes the pair vectors one column-sum layer makes from @p words words,
 * words^2, in size_t. Every layer of a stack makes this many.
 * @return false, leaving *count unchanged, when it does not fit in size_t.
 */
bool column_sum_pair_count(size_t words, size_t *count);

/**
 * Counts the multiply-adds of @p layers stacked column-sum layers on one
 * sentence of @p words words, the first from @p in_width to @p width and the
 * rest from @p width to @p width: each layer runs the pair net n^2 times
 * (2 Din Dout each) and adds n^2 vectors of width Dout into n sums, so the
 * total is n^2 (2 Din Dout + Dout) + (L - 1) n^2 (2 D^2 + D).
 * @return false, leaving *count unchanged, when an argument is below 1 or
 *         the count does not fit in size_t.
 */
bool column_sum_multiply_adds(size_t words, int layers, int in_width, int width, size_t *count);

#endif /* COLUMN_SUM_H */
