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

#include <stdbool.h>
#include <stddef.h>

#include "02_pairwise_convolution/pairwise.h"
#include "ops.h"
#include "optim.h"
#include "rng.h"

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

/**
 * Normalises raw importances the plain way, without exp: each weight is its
 * importance divided by the sum of all @p count importances. This is the
 * method that exp replaces, kept to show why it fails.
 * Shapes: importances [count], weights [count].
 * @return true on success. When the sum is zero, negative or not finite, no
 *         weights exist: it returns false and leaves @p weights unchanged.
 */
bool attention_normalise_plain(const float *importances, int count, float *weights);

/**
 * A scored attention layer: two pair nets read every ordered pair (x_q, x_k).
 * The representation net gives the pair's vector r_qk, the scoring net its
 * score s_qk, and the output is y_q = sum_k a_qk r_qk with
 * a = attention_weights(s).
 */
typedef struct ScoredAttention {
    int in_width;          /**< Din, the width of the input vectors */
    int out_width;         /**< Dout, the width of r_qk and of the output */
    int score_width;       /**< Hs, the hidden width of the scoring net */
    PairNet *represent;    /**< r: relu(W [x_q ; x_k] + b), weight [Dout, 2*Din] */
    PairNet *score_hidden; /**< first part of s: weight [Hs, 2*Din] */
    Tensor *score_out;     /**< second part of s: [1, Hs], a linear map to one number */
} ScoredAttention;

/**
 * Allocates a scored attention layer, initialised from @p rng, and adds its
 * tensors to @p params (which does not own them; it may be NULL).
 * The scoring net's last map has no bias, because a constant added to every
 * score of a query changes no weight.
 * @return a layer the caller frees with scored_attention_free, or NULL when
 *         a width is below 1 or @p params rejects a tensor (params_add).
 */
ScoredAttention *scored_attention_new(int in_width, int out_width, int score_width, Rng *rng,
                                      ParamList *params);

/** Frees a layer and its tensors; NULL is ignored. */
void scored_attention_free(ScoredAttention *layer);

/**
 * Computes the raw score of every ordered pair with the scoring net.
 * Shapes: x [B, n, Din], out [B, n, n] (row q contains query q's scores).
 */
Tensor *scored_attention_scores(Tape *tape, const ScoredAttention *layer, Tensor *x);

/**
 * Runs the layer: y_q = sum_k a_qk r_qk. When @p weights_out is not NULL it
 * receives the weights [B, n, n] (owned by the tape).
 * Shapes: x [B, n, Din], out [B, n, Dout].
 */
Tensor *scored_attention_forward(Tape *tape, const ScoredAttention *layer, Tensor *x,
                                 Tensor **weights_out);

/**
 * Counts the multiply-adds of one forward pass of the layer on one sentence
 * of @p words words. Each of the n^2 pairs runs the representation net
 * (2*Din*Dout), the scoring net (2*Din*Hs + Hs) and its share of the
 * weighted sum (Dout). The total is n^2 (2 Din (Dout + Hs) + Hs + Dout).
 * @return false, leaving *multiply_adds unchanged, when the count does not
 *         fit in size_t or a width is below 1.
 */
bool scored_attention_multiply_adds(size_t words, const ScoredAttention *layer,
                                    size_t *multiply_adds);

#endif /* SCORED_ATTENTION_H */
