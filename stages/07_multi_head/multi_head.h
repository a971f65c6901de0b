/**
 * @file multi_head.h
 * @brief Stage 07: H attention operations of stage 06 side by side, each
 *        with its own scoring and representation maps, their outputs
 *        concatenated.
 *
 * One head gives each query one set of weights over the keys, so two words
 * that query needs both end up mixed in one weighted sum. H heads give each
 * query H independent sets of weights, and the concatenation keeps the H
 * results apart. With Dk = Dv = D / H per head, the heads together cost as
 * many multiply-adds as one head of width D.
 *
 * Optional output projection: a standard transformer follows the
 * concatenation with one more linear map W_O [D, H*Dv]. It mixes the heads'
 * results but adds no new capability in front of the per-vector MLP (which
 * starts with a linear map of its own), so it is off unless requested.
 */
#ifndef MULTI_HEAD_H
#define MULTI_HEAD_H

#include <stdbool.h>

#include "06_linear_projections/linear_attention.h"

/** H linear attention heads whose outputs are concatenated. */
typedef struct MultiHeadAttention {
    int width;              /**< D, the input width */
    int heads;              /**< H, the number of heads */
    int key_width;          /**< Dk of every head */
    int value_width;        /**< Dv of every head */
    LinearAttention **head; /**< [H] the heads, owned */
    Tensor *output;         /**< W_O [D, H*Dv], or NULL without the output projection */
} MultiHeadAttention;

/**
 * Allocates @p heads heads of linear_attention_new(width, key_width,
 * value_width, kind) named "NAME.headI", I = 0 .. H-1, drawn from @p rng in
 * that order, and with @p output_projection a weight W_O [width,
 * heads*value_width] named "NAME.output" (PyTorch's default Linear
 * initialisation). Adds every tensor to @p params (which does not own them);
 * @p params may be NULL. A stage program sets key_width = value_width =
 * width / heads, so the total width stays fixed.
 * @return a layer the caller frees with multi_head_free. NULL when a width
 *         or @p heads is below 1, heads * value_width overflows an int, or
 *         @p kind is unknown. NULL also when @p name is NULL, empty or over
 *         90 bytes, a name is already in @p params, or memory runs out. On
 *         failure @p params is left as it was.
 */
MultiHeadAttention *multi_head_new(int width, int heads, int key_width, int value_width,
                                   ScoreKind kind, bool output_projection, const char *name,
                                   Rng *rng, ParamList *params);

/** Frees the layer, its heads and W_O; NULL is ignored. */
void multi_head_free(MultiHeadAttention *layer);

/**
 * Returns the width of the layer's output: width with the output
 * projection, otherwise heads * value_width, the sum of the head widths.
 */
int multi_head_out_width(const MultiHeadAttention *layer);

/**
 * Runs every head on x and concatenates the results, head 0 first:
 * out_q = [y_q^(0) ; y_q^(1) ; ... ], then W_O out_q when the layer has the
 * output projection. When @p weights_out is not NULL, weights_out[h]
 * receives head h's weights [B, n, n] (owned by the tape); it must have room
 * for H pointers.
 * Shapes: x [B, n, D], out [B, n, H*Dv] or [B, n, D] with the projection.
 */
Tensor *multi_head_forward(Tape *tape, const MultiHeadAttention *layer, Tensor *x,
                           Tensor **weights_out);

#endif /* MULTI_HEAD_H */
