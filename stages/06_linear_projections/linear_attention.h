/**
 * @file linear_attention.h
 * @brief Stage 06: the representation net becomes a linear map, the scoring
 *        net a bilinear form, and a per-vector MLP after attention (mlp.h)
 *        brings back the non-linear power.
 *
 * The representation of pair (q, k) is r_qk = A x_q + B x_k. Because each
 * query's weights sum to 1, sum_k a_qk r_qk = A x_q + sum_k a_qk B x_k, so
 * the n*n pair vectors never need to exist. The score is
 * s_qk = x_q^T W x_k with W = W_Q^T W_K, computed as the dot product of the
 * projected query W_Q x_q and key W_K x_k. The small scoring net of stage 05
 * stays selectable (SCORE_NET) for comparison.
 *
 * The layer has no biases: a bias in B x_k would add the same vector to every
 * output (the weights sum to 1), and a bias in the scores cancels in softmax.
 *
 * This file also counts the multiply-adds of a forward pass, for this design
 * and for stage 05's design with a net on every pair.
 */
#ifndef LINEAR_ATTENTION_H
#define LINEAR_ATTENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "02_pairwise_convolution/pairwise.h"
#include "ops.h"
#include "optim.h"
#include "rng.h"

/** The scorer of a linear attention layer. */
typedef enum ScoreKind {
    SCORE_BILINEAR,   /**< s_qk = (W_Q x_q) . (W_K x_k) */
    SCORE_NET         /**< s_qk = w . relu(W_s [x_q ; x_k] + b_s), a small net as in stage 05 */
} ScoreKind;

/** One attention operation with linear representations. */
typedef struct LinearAttention {
    int width;            /**< D, the input width */
    int key_width;        /**< Dk: width of projected queries and keys, or the net scorer's hidden width */
    int value_width;      /**< Dv, the output width */
    ScoreKind score_kind; /**< which scorer the forward pass uses */
    /** Factor applied to every score before softmax: 1 after linear_attention_new, as stages
     *  06 and 07 use it; the standard transformer sets 1/sqrt(Dk). */
    float score_scale;
    Tensor *query;        /**< SCORE_BILINEAR only: W_Q [Dk, D], else NULL */
    Tensor *key;          /**< SCORE_BILINEAR only: W_K [Dk, D], else NULL */
    Tensor *self;         /**< A [Dv, D], the query's own term */
    Tensor *value;        /**< B [Dv, D], the value projection */
    /** SCORE_NET only: [x_q ; x_k] -> relu(W_s [x_q ; x_k] + b_s) with W_s [Dk, 2D], b_s [Dk];
     *  both tensors NULL for SCORE_BILINEAR. Owned by the layer. */
    PairNet score_hidden;
    Tensor *score_out;    /**< SCORE_NET only: w [1, Dk], else NULL */
} LinearAttention;

/**
 * Allocates one attention operation with PyTorch's default Linear
 * initialisation drawn from @p rng, and adds its tensors to @p params (which
 * does not own them) as "NAME.self" and "NAME.value", then "NAME.query" and
 * "NAME.key" (SCORE_BILINEAR) or "NAME.score_hidden.weight",
 * "NAME.score_hidden.bias" and "NAME.score_out" (SCORE_NET).
 * @p params may be NULL.
 * @return a layer the caller frees with linear_attention_free. NULL when a
 *         width is below 1, @p kind is unknown, @p name is NULL, empty or over
 *         100 bytes, a name is already in @p params, or memory runs out. On
 *         failure @p params is left as it was.
 */
LinearAttention *linear_attention_new(int width, int key_width, int value_width, ScoreKind kind,
                                      const char *name, Rng *rng, ParamList *params);

/** Frees a layer and its tensors; NULL is ignored. */
void linear_attention_free(LinearAttention *layer);

/**
 * Computes the raw scores of every pair with the layer's scorer, times
 * layer->score_scale.
 * Shapes: x [B, n, D], out [B, n, n] (row q contains query q's scores).
 */
Tensor *linear_attention_scores(Tape *tape, const LinearAttention *layer, Tensor *x);

/**
 * Computes the bilinear scores the long way, through the D x D matrix
 * W = W_Q^T W_K: s_qk = x_q^T W x_k, times layer->score_scale. Equal to
 * linear_attention_scores
 * within float rounding; for teaching and tests. A SCORE_NET layer has no
 * W_Q and W_K and stops the program through core_fatal.
 * Shapes: x [B, n, D], out [B, n, n].
 */
Tensor *linear_attention_scores_full(Tape *tape, const LinearAttention *layer, Tensor *x);

/**
 * Runs the attention operation: y_q = A x_q + sum_k a_qk B x_k, with
 * a = attention_weights(scores). When @p weights_out is not NULL it receives
 * the weights [B, n, n] (owned by the tape).
 * Shapes: x [B, n, D], out [B, n, Dv].
 */
Tensor *linear_attention_forward(Tape *tape, const LinearAttention *layer, Tensor *x,
                                 Tensor **weights_out);

/**
 * Runs the same operation the long way, as stage 05 does: builds all n*n
 * pair vectors r_qk = A x_q + B x_k = [A B] [x_q ; x_k] and combines each
 * query's pairs with attention_combine_pairs. Equal to
 * linear_attention_forward within float rounding; for teaching and tests.
 * Shapes: x [B, n, D], out [B, n, Dv].
 */
Tensor *linear_attention_forward_pairs(Tape *tape, const LinearAttention *layer, Tensor *x);

/* ------------------------------------------------------------------------- */
/* Multiply-add counts                                                        */
/* ------------------------------------------------------------------------- */

/** The widths a cost count depends on. */
typedef struct AttentionWidths {
    int width;         /**< D, the input width */
    int key_width;     /**< Dk: projected query and key width, or a scoring net's hidden width */
    int value_width;   /**< Dv, the width of pair vectors and outputs */
    int hidden_width;  /**< Dh, the hidden width of the big net (MLP or representation net) */
} AttentionWidths;

/**
 * Multiply-adds of one forward pass over one sentence, by step. Additions
 * without a product (biases, the A x_q term, softmax) are not counted.
 */
typedef struct AttentionCost {
    uint64_t projections;  /**< per-word linear maps: W_Q, W_K, A, B */
    uint64_t scores;       /**< the n*n scores */
    uint64_t combine;      /**< the weighted sums sum_k a_qk v_k */
    uint64_t nets;         /**< the big net: per vector (MLP) or per pair (representation net) */
    uint64_t total;        /**< the sum of the four */
} AttentionCost;

/**
 * Counts the multiply-adds of this stage's design on @p words words.
 * SCORE_BILINEAR: projections n*D*(2*Dk + 2*Dv) and scores n^2*Dk.
 * SCORE_NET: projections n*D*2*Dv and scores n^2*(2*D*Dk + Dk).
 * Both: weighted sum n^2*Dv and the MLP n*(Dv*Dh + Dh*Dv).
 * @return false, leaving *cost unchanged, when a width is below 1, @p kind is
 *         unknown or a count overflows 64 bits.
 */
bool linear_attention_cost(uint64_t words, AttentionWidths widths, ScoreKind kind,
                           AttentionCost *cost);

/**
 * Counts the multiply-adds on @p words words of stage 05's design with the
 * big net moved onto the pairs: both nets see every pair [x_q ; x_k]. The
 * representation net 2D -> Dh -> Dv (as wide as this stage's MLP) costs
 * n^2*(2*D*Dh + Dh*Dv), the scoring net 2D -> Dk -> 1 costs
 * n^2*(2*D*Dk + Dk), and the weighted sum n^2*Dv. Stage 05's own program
 * uses a one-layer representation net (see scored_attention_multiply_adds).
 * @return false, leaving *cost unchanged, when a width is below 1 or a count
 *         overflows 64 bits.
 */
bool pair_nets_cost(uint64_t words, AttentionWidths widths, AttentionCost *cost);

#endif /* LINEAR_ATTENTION_H */
