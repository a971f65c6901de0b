/**
 * @file linear_attention.h
 * @brief Stage 06: the representation net becomes a linear map, the scoring
 *        net a bilinear form, and a per-vector MLP after attention brings back
 *        the non-linear power.
 *
 * The representation of pair (q, k) is r_qk = A x_q + B x_k. Because each
 * query's weights sum to 1, sum_k a_qk r_qk = A x_q + sum_k a_qk B x_k, so
 * the n*n pair vectors never need to exist. The score is
 * s_qk = x_q^T W x_k with W = W_Q^T W_K, computed as the dot product of the
 * projected query W_Q x_q and key W_K x_k.
 */
#ifndef LINEAR_ATTENTION_H
#define LINEAR_ATTENTION_H

#include "02_pairwise_convolution/pairwise.h"
#include "ops.h"
#include "optim.h"
#include "rng.h"

/** How a linear attention layer scores a pair. */
typedef enum ScoreKind {
    SCORE_BILINEAR,   /**< s_qk = (W_Q x_q) . (W_K x_k) */
    SCORE_NET         /**< s_qk from a small pair net, as in stage 05 */
} ScoreKind;

/** One attention operation with linear representations. */
typedef struct LinearAttention {
    int width;            /**< D, the input width */
    int key_width;        /**< Dk, the width of projected queries and keys */
    int value_width;      /**< Dv, the output width */
    ScoreKind score_kind; /**< which scorer the forward pass uses */
    Tensor *query;        /**< W_Q [Dk, D] */
    Tensor *key;          /**< W_K [Dk, D] */
    Tensor *self;         /**< A [Dv, D], the query's own term */
    Tensor *value;        /**< B [Dv, D], the value projection */
    PairNet *score_hidden;/**< SCORE_NET only: [x_q ; x_k] -> hidden, else NULL */
    Tensor *score_out;    /**< SCORE_NET only: [1, hidden], else NULL */
} LinearAttention;

/**
 * Allocates one attention operation, initialised from @p rng, and adds its
 * tensors to @p params (which does not own them).
 * @return a layer the caller frees with linear_attention_free.
 */
LinearAttention *linear_attention_new(int width, int key_width, int value_width, ScoreKind kind,
                                      Rng *rng, ParamList *params);

/** Frees a layer and its tensors; NULL is ignored. */
void linear_attention_free(LinearAttention *layer);

/**
 * Computes the raw scores of every pair.
 * Shapes: x [B, n, D], out [B, n, n] (row q holds query q's scores).
 */
Tensor *linear_attention_scores(Tape *tape, const LinearAttention *layer, Tensor *x);

/**
 * Runs the attention operation: y_q = A x_q + sum_k a_qk B x_k, with
 * a = attention_weights(scores). When @p weights_out is not NULL it receives
 * the weights [B, n, n] (owned by the tape).
 * Shapes: x [B, n, D], out [B, n, Dv].
 */
Tensor *linear_attention_forward(Tape *tape, const LinearAttention *layer, Tensor *x,
                                 Tensor **weights_out);

#endif /* LINEAR_ATTENTION_H */
