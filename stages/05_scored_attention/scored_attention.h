/**
 * @file scored_attention.h
 * @brief Stage 05: each column of pair vectors is combined with weights that
 *        a scoring net computes, instead of summed as in stage 04.
 *
 * This header declares the two steps that every later attention stage
 * reuses: turning scores into weights, and combining pair vectors with them.
 */
#ifndef SCORED_ATTENTION_H
#define SCORED_ATTENTION_H

#include "ops.h"

/**
 * Turns raw scores into relative importances down each column:
 * a_qk = exp(s_qk) / sum_k' exp(s_qk'), computed with the column maximum
 * subtracted so that scores such as +-1000 stay finite.
 * Shapes: scores [B, n, n] (row q holds query q's scores over keys k),
 * out [B, n, n], each row summing to 1.
 */
Tensor *attention_weights(Tape *tape, Tensor *scores);

/**
 * Combines each column of pair vectors with its weights: y_q = sum_k a_qk r_qk.
 * Shapes: weights [B, n, n], pairs [B, n*n, D] (pair q*n + k is r_qk),
 * out [B, n, D].
 */
Tensor *attention_combine_pairs(Tape *tape, Tensor *weights, Tensor *pairs);

#endif /* SCORED_ATTENTION_H */
