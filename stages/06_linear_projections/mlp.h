/**
 * @file mlp.h
 * @brief The per-vector net that follows attention from stage 06 on:
 *        Linear, then ReLU or GELU, then Linear, applied to each of the n
 *        vectors separately with shared weights.
 *
 * Stage 05 ran a big net on each of the n*n pairs. Stage 06 makes the pair
 * representation linear and moves the non-linear work here, where it runs
 * n times instead of n*n times.
 */
#ifndef MLP_H
#define MLP_H

#include <stdbool.h>
#include <stdint.h>

#include "ops.h"
#include "optim.h"
#include "rng.h"

/** The non-linearity between the two linear maps of an MLP. */
typedef enum MlpActivation {
    MLP_RELU, /**< max(0, x) */
    MLP_GELU  /**< x * Phi(x), the exact GELU of op_gelu */
} MlpActivation;

/** A two-layer net applied to every vector: out = W2 act(W1 x + b1) + b2. */
typedef struct Mlp {
    int in_width;             /**< Din */
    int hidden_width;         /**< Dh */
    int out_width;            /**< Dout */
    MlpActivation activation; /**< the non-linearity after the first map */
    Tensor *hidden_weight;    /**< W1 [Dh, Din] */
    Tensor *hidden_bias;      /**< b1 [Dh] */
    Tensor *out_weight;       /**< W2 [Dout, Dh] */
    Tensor *out_bias;         /**< b2 [Dout] */
} Mlp;

/**
 * Allocates an MLP with PyTorch's default Linear initialisation drawn from
 * @p rng, and adds its tensors to @p params (which does not own them) as
 * "NAME.hidden_weight", "NAME.hidden_bias", "NAME.out_weight" and
 * "NAME.out_bias". @p params may be NULL.
 * @return an MLP the caller frees with mlp_free, or NULL when a width is
 *         below 1, @p activation is unknown, @p name is NULL, empty or over
 *         100 bytes, a name is already in @p params, or memory runs out.
 */
Mlp *mlp_new(int in_width, int hidden_width, int out_width, MlpActivation activation,
             const char *name, Rng *rng, ParamList *params);

/** Frees an MLP and its tensors; NULL is ignored. */
void mlp_free(Mlp *mlp);

/**
 * Applies the MLP to every vector.
 * Shapes: x [..., Din], out [..., Dout] (owned by the tape).
 */
Tensor *mlp_forward(Tape *tape, const Mlp *mlp, Tensor *x);

/**
 * Counts the multiply-adds of applying an MLP of the given widths to
 * @p vectors vectors: vectors * (Din*Dh + Dh*Dout). Bias additions and the
 * activation are not counted.
 * @return false, leaving *count unchanged, when a width is below 1 or the
 *         count overflows 64 bits.
 */
bool mlp_cost(uint64_t vectors, int in_width, int hidden_width, int out_width, uint64_t *count);

/**
 * Looks up an activation by its name, "relu" or "gelu".
 * @return true with the activation in *activation, or false (leaving it
 *         unchanged) for any other name.
 */
bool mlp_activation_from_name(const char *name, MlpActivation *activation);

/** Returns the name of @p activation ("relu", "gelu"), or "unknown". */
const char *mlp_activation_name(MlpActivation activation);

#endif /* MLP_H */
