/**
 * @file ops.h
 * @brief The differentiable ops that every model is built from.
 *
 * Each op allocates its output on the tape, computes it, and (when the output
 * carries a gradient) records a tape entry whose backward function sends the
 * output's gradient back to the inputs. The output carries a gradient when
 * the tape has gradients enabled and at least one tensor input has one.
 * Backward functions add to the inputs' gradients, so a tensor used by
 * several ops receives the sum of their contributions.
 *
 * Every returned tensor is owned by the tape and valid until tape_reset.
 * Shapes use the legend in tensor.h. "[..., D]" means any leading dimensions
 * followed by a last dimension D; ops that work per sentence read a 3-D
 * tensor as [B, n, D] and a 2-D tensor as one sentence [n, D].
 *
 * The forward and backward code sits in three files:
 *   ops_linear.c      matmul, linear, add, mul, scale, concat, reshape
 *   ops_activation.c  relu, tanh, gelu, exp, softmax, cross-entropy,
 *                     layer norm, causal mask
 *   ops_sequence.c    one-hot, embedding, mean over positions, windows and
 *                     convolution, pairwise concatenation, column sum
 */
#ifndef OPS_H
#define OPS_H

#include "tensor.h"

/* ------------------------------------------------------------------------- */
/* Linear algebra and element-wise arithmetic (ops_linear.c)                  */
/* ------------------------------------------------------------------------- */

/**
 * Matrix product with optional transposed operands: out = op(a) op(b), where
 * op(x) is x or its transpose over the last two dimensions.
 *
 * Both operands have at least 2 dimensions.
 * Shapes: b 2-D [K, N] (or [N, K] when trans_b): every leading dimension of a
 * is folded into the rows, so a [..., M, K] gives out [..., M, N]; trans_a is
 * then allowed only for a 2-D a ([K, M]).
 * b with 3 or 4 dimensions: a batched product; a and b have the same number
 * of dimensions and the same leading dimensions, a [..., M, K] (or [..., K, M]), b [..., K, N] (or
 * [..., N, K]), out [..., M, N].
 */
Tensor *op_matmul(Tape *tape, Tensor *a, Tensor *b, bool trans_a, bool trans_b);

/**
 * A linear layer: out = x W^T + bias.
 * Shapes: x [..., Din], w [Dout, Din], bias [Dout] or NULL, out [..., Dout].
 */
Tensor *op_linear(Tape *tape, Tensor *x, Tensor *w, Tensor *bias);

/**
 * Element-wise sum. Shapes: a [...]; b either the shape of a, or the shape
 * of a's trailing dimensions (such as a bias [D] for a [..., D]), in which
 * case b is broadcast over a's leading dimensions. out has a's shape.
 */
Tensor *op_add(Tape *tape, Tensor *a, Tensor *b);

/** Element-wise product of two tensors of the same shape. */
Tensor *op_mul(Tape *tape, Tensor *a, Tensor *b);

/** Multiplies every element by the constant @p factor. */
Tensor *op_scale(Tape *tape, Tensor *x, float factor);

/**
 * Concatenates along the last (feature) axis.
 * Shapes: a [..., Da], b [..., Db] with the same leading dimensions,
 * out [..., Da + Db].
 */
Tensor *op_concat(Tape *tape, Tensor *a, Tensor *b);

/**
 * Returns a view of x with another shape of the same size. The view shares
 * x's data, gradient and name, so it needs no tape entry.
 */
Tensor *op_reshape(Tape *tape, Tensor *x, Shape shape);

/* ------------------------------------------------------------------------- */
/* Non-linearities, normalisation and the loss (ops_activation.c)              */
/* ------------------------------------------------------------------------- */

/** max(0, x), element-wise. */
Tensor *op_relu(Tape *tape, Tensor *x);

/** tanh(x), element-wise. */
Tensor *op_tanh(Tape *tape, Tensor *x);

/** GELU with the exact error function, x * (1 + erf(x / sqrt 2)) / 2, as PyTorch's default. */
Tensor *op_gelu(Tape *tape, Tensor *x);

/** exp(x), element-wise. */
Tensor *op_exp(Tape *tape, Tensor *x);

/**
 * Softmax along the last axis: out[i] = exp(x[i] - max) / sum_j exp(x[j] - max).
 * Subtracting the row maximum keeps exp finite for scores such as +-1000,
 * and an entry of -INFINITY gets weight 0. A row that is entirely -INFINITY
 * gets weights 0 and passes no gradient back. Shapes: x [..., m], out [..., m].
 */
Tensor *op_softmax(Tape *tape, Tensor *x);

/**
 * Mean cross-entropy of the rows of @p logits against class indices, computed
 * as a fused log-softmax so that large logits do not overflow.
 * Shapes: logits [N, C] (leading dimensions are folded into N),
 * targets [N] in 0..C-1, or -1 to leave a row out of the mean.
 * out is a scalar [1]; when every target is -1 it is 0 and passes no
 * gradient back. A target outside -1..C-1 stops the program.
 */
Tensor *op_cross_entropy(Tape *tape, Tensor *logits, const int *targets);

/**
 * Layer normalisation over the last axis:
 * out = (x - mean) / sqrt(var + eps) * gain + bias, with the biased variance
 * (divided by D, as PyTorch's LayerNorm).
 * Shapes: x [..., D], gain [D], bias [D] (neither may be NULL), out [..., D].
 */
Tensor *op_layernorm(Tape *tape, Tensor *x, Tensor *gain, Tensor *bias, float eps);

/**
 * Adds -INFINITY above the diagonal of each n x n score matrix, so that query
 * q can attend only to keys k <= q once softmax is applied.
 * Shapes: scores [..., n, n], out the same.
 */
Tensor *op_causal_mask(Tape *tape, Tensor *scores);

/* ------------------------------------------------------------------------- */
/* Words and sequences (ops_sequence.c)                                        */
/* ------------------------------------------------------------------------- */

/**
 * Builds the one-hot matrix of @p ids: row i is all zeros except a 1 at
 * column ids[i]. It carries no gradient. Shapes: ids [count], out [count, depth].
 * An id outside 0..depth-1 stops the program: validate ids first (vocab.h).
 */
Tensor *op_onehot(Tape *tape, const int *ids, int count, int depth);

/**
 * Embedding lookup: row i of out is row ids[i] of table. It equals
 * op_matmul(op_onehot(ids), table), without building the one-hot matrix.
 * Shapes: table [V, D], ids [count], out [count, D].
 * An id outside 0..V-1 stops the program.
 */
Tensor *op_embedding(Tape *tape, Tensor *table, const int *ids, int count);

/**
 * Mean over the positions of each sentence.
 * Shapes: x [B, n, D] (or [n, D] for one sentence), out [B, D] (or [1, D]).
 */
Tensor *op_mean_positions(Tape *tape, Tensor *x);

/**
 * Gathers every window of k consecutive vectors into one long vector (the
 * "im2col" step of a convolution). Positions outside the sentence read as
 * zero vectors: pad_left zeros go before the first word and pad_right after
 * the last.
 * Shapes: x [B, n, D], out [B, n + pad_left + pad_right - k + 1, k*D];
 * window t of out holds input positions t - pad_left .. t - pad_left + k - 1,
 * the earliest first.
 */
Tensor *op_windows(Tape *tape, Tensor *x, int k, int pad_left, int pad_right);

/** The placement of a convolution's zero padding. */
typedef enum ConvPadding {
    /** (k-1)/2 zeros on each side (k odd): one output per word, centred on it. */
    CONV_SAME,
    /** k-1 zeros on the left: output t sees words t-k+1..t, never a later word. */
    CONV_CAUSAL
} ConvPadding;

/**
 * A 1-D convolution: one small linear net, with shared weights, applied to
 * every window of k consecutive vectors. It is op_windows followed by
 * op_linear, so its gradients come from theirs.
 * Shapes: x [B, n, Din], w [Dout, k*Din], bias [Dout] or NULL,
 * out [B, n, Dout] (both paddings keep n outputs).
 */
Tensor *op_conv1d(Tape *tape, Tensor *x, Tensor *w, Tensor *bias, int k, ConvPadding padding);

/**
 * Pairs every vector with every vector of the same sentence, itself
 * included: pair q*m + k of out is [x_q ; x_k].
 * Shapes: x [B, m, D], out [B, m*m, 2D] (or x [m, D], out [m*m, 2D]).
 */
Tensor *op_pairwise(Tape *tape, Tensor *x);

/**
 * Sums each column of an n x n grid of pair vectors back to one vector per
 * word: out_q = sum over k of x[q*n + k], the pairs whose query is q.
 * Shapes: x [B, n*n, D], out [B, n, D] (or x [n*n, D], out [n, D]).
 */
Tensor *op_column_sum(Tape *tape, Tensor *x);

#endif /* OPS_H */
