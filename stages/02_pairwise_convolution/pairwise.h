/**
 * @file pairwise.h
 * @brief Stage 02: the convolution window of stage 01 replaced by every
 *        ordered pair of vectors.
 *
 * A pair net is the small net of stage 01, applied to two vectors at a time
 * instead of a window of three: relu(W [x_q ; x_k] + b). A pairwise layer
 * applies it to all m*m ordered pairs of its m input vectors (a vector paired
 * with itself included), so L layers turn n words into n^(2^L) vectors.
 */
#ifndef PAIRWISE_H
#define PAIRWISE_H

#include <stdbool.h>
#include <stddef.h>

#include "ops.h"
#include "optim.h"
#include "rng.h"

/** The small net applied to one pair: relu(weight [x_q ; x_k] + bias). */
typedef struct PairNet {
    Tensor *weight;   /**< [Dout, 2*Din] */
    Tensor *bias;     /**< [Dout] */
} PairNet;

/**
 * Allocates a pair net with PyTorch's default Linear initialisation drawn
 * from @p rng and adds its tensors to @p params (which does not own them) as
 * "pair_netI.weight" and "pair_netI.bias", with I the smallest number from 1
 * not yet used in the list. @p params may be NULL.
 * Shapes: weight [out_width, 2*in_width], bias [out_width].
 * @return a net the caller frees with pair_net_free, or NULL, with @p params
 *         unchanged, when a width is below 1 or 2*in_width overflows int, or
 *         params_add fails. Exhausted memory for the tensors stops the
 *         program (tensor_new).
 */
PairNet *pair_net_new(int in_width, int out_width, Rng *rng, ParamList *params);

/** Frees a pair net and its tensors; NULL is ignored. */
void pair_net_free(PairNet *net);

/**
 * Applies the pair net to vectors that are already pairs.
 * Shapes: pairs [B, m, 2*Din], out [B, m, Dout].
 */
Tensor *pair_net_forward(Tape *tape, const PairNet *net, Tensor *pairs);

/**
 * One pairwise layer: the pair net on every ordered pair of x's vectors.
 * Shapes: x [B, m, Din], out [B, m*m, Dout]; pair q*m + k is net([x_q ; x_k]).
 */
Tensor *pairwise_layer_forward(Tape *tape, const PairNet *net, Tensor *x);

/**
 * Computes the vector count after @p layers pairwise layers on @p words
 * words, words^(2^layers), in size_t.
 * @return false, leaving *count unchanged, when it does not fit in size_t.
 */
bool pairwise_vector_count(size_t words, int layers, size_t *count);

#endif /* PAIRWISE_H */
