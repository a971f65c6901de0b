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
    Tensor *weight; /**< [Dout, 2*Din] */
    Tensor *bias;   /**< [Dout] */
} PairNet;

/**
 * Allocates a pair net with PyTorch's default Linear initialisation drawn
 * from @p rng and adds its tensors to @p params (which does not own them).
 * Their names are "pair_netI.weight" and "pair_netI.bias", with I the
 * smallest number from 1 not yet used in the list. @p params may be NULL.
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

/* ------------------------------------------------------------------------- */
/* The size guard                                                             */
/* ------------------------------------------------------------------------- */

/** Largest vector count per sentence the size guard accepts: 2^26 vectors. */
#define PAIRWISE_MAX_VECTORS ((size_t)1 << 26)

/** Largest number of bytes one forward pass may allocate for its layers: 1 GiB. */
#define PAIRWISE_MAX_BYTES ((size_t)1 << 30)

/** The sizes a pairwise forward pass would have, before anything is allocated. */
typedef struct PairwiseRequest {
    size_t batch;    /**< B, sentences processed together */
    size_t words;    /**< n, words per sentence */
    int layers;      /**< L, pairwise layers */
    int input_width; /**< Din of layer 1 (V for one-hot words) */
    int width;       /**< D, the output width of every layer */
    bool gradients;  /**< count the gradients a training step allocates too */
} PairwiseRequest;

/** What a forward pass of a PairwiseRequest would allocate. */
typedef struct PairwiseSize {
    size_t vectors; /**< n^(2^L), the final vectors of one sentence */
    size_t bytes;   /**< bytes of every layer's tensors for the whole batch */
} PairwiseSize;

/**
 * Computes the vector count and the bytes of a pairwise forward pass in
 * size_t. Layer l (1..L) turns m = n^(2^(l-1)) vectors of width Din_l into
 * m^2 pairs of width 2*Din_l, then a linear output and a relu output of
 * width D each, so it allocates B * m^2 * (2*Din_l + 2*D) floats; with
 * gradients every one of them gets a gradient of the same size, which
 * doubles the bytes. Din_1 is the input width and Din_l = D after that.
 * @return false, leaving *size unchanged, when a count or byte number
 *         overflows size_t or an argument is below 1 (layers below 0).
 */
bool pairwise_forward_size(const PairwiseRequest *request, PairwiseSize *size);

/**
 * Checks a request against PAIRWISE_MAX_VECTORS and PAIRWISE_MAX_BYTES.
 * @return true when the forward pass fits, with its size in *size (when
 *         @p size is not NULL). Otherwise false, with a message in @p error
 *         (when @p error_size > 0) that states the vector count, the bytes
 *         and both limits, and reports a number that overflows size_t.
 */
bool pairwise_check_size(const PairwiseRequest *request, PairwiseSize *size, char *error,
                         size_t error_size);

/* ------------------------------------------------------------------------- */
/* The stage 02 model                                                         */
/* ------------------------------------------------------------------------- */

/** Largest number of pairwise layers a PairwiseModel can have. */
#define PAIRWISE_MAX_LAYERS 8

/** The sizes of a pairwise model. */
typedef struct PairwiseConfig {
    int input_width; /**< Din of layer 1: V for one-hot words, V + P with positions */
    int width;       /**< D, the output width of every pair net */
    int layers;      /**< L, 1 .. PAIRWISE_MAX_LAYERS */
    int classes;     /**< C, the number of outputs of the prediction */
} PairwiseConfig;

/**
 * L pairwise layers, the mean of the final vectors and a linear prediction.
 * Layer 1's pair net reads [x_q ; x_k] of width 2*Din, the others 2*D.
 */
typedef struct PairwiseModel {
    PairwiseConfig config;              /**< the sizes it was built with */
    PairNet *nets[PAIRWISE_MAX_LAYERS]; /**< [layers] one pair net per layer */
    Tensor *out_weight;                 /**< [C, D] the prediction's weight */
    Tensor *out_bias;                   /**< [C] the prediction's bias */
} PairwiseModel;

/**
 * Allocates a model with PyTorch's default Linear initialisation drawn from
 * @p rng in layer order, and adds its tensors to @p params (which does not
 * own them; may be NULL) in the same order.
 * @return a model the caller frees with pairwise_model_free, or NULL, with
 *         @p params unchanged, when a size is out of range or params_add
 *         fails.
 */
PairwiseModel *pairwise_model_new(const PairwiseConfig *config, Rng *rng, ParamList *params);

/** Frees a model and its tensors; NULL is ignored. */
void pairwise_model_free(PairwiseModel *model);

/**
 * Runs the L pairwise layers without a size check: call pairwise_check_size
 * first. Final vector i of a sentence is the tree of pair nets over the
 * word indices given by the base-n digits of i, most significant first.
 * Shapes: x [B, n, Din], out [B, n^(2^L), D].
 */
Tensor *pairwise_model_vectors(Tape *tape, const PairwiseModel *model, Tensor *x);

/**
 * Averages vectors and applies the linear prediction.
 * Shapes: vectors [B, m, D], out [B, C].
 */
Tensor *pairwise_model_predict(Tape *tape, const PairwiseModel *model, Tensor *vectors);

/**
 * Runs the whole model without a size check: the layers, the mean and the
 * prediction. Shapes: x [B, n, Din], out [B, C].
 */
Tensor *pairwise_model_forward(Tape *tape, const PairwiseModel *model, Tensor *x);

/**
 * Runs pairwise_model_forward after pairwise_check_size on x's sizes.
 * Shapes: x [B, n, Din], out [B, C].
 * @return the output on the tape, or NULL with the guard's message in
 *         @p error when the request is too large; then nothing has been
 *         allocated on the tape.
 */
Tensor *pairwise_model_forward_checked(Tape *tape, const PairwiseModel *model, Tensor *x,
                                       char *error, size_t error_size);

/**
 * Builds the one-hot input of a batch of sentences.
 * Shapes: ids [B * n] row-major by sentence, each in 0 .. V-1; out [B, n, V]
 * without a gradient. An id outside 0 .. V-1 stops the program (op_onehot).
 */
Tensor *pairwise_onehot_words(Tape *tape, const int *ids, int batch, int length, int vocab_size);

/* ------------------------------------------------------------------------- */
/* The tree-shaped CNN the pairwise model equals                              */
/* ------------------------------------------------------------------------- */

/**
 * Lists every sequence of 2^L vectors drawn from the n vectors of x, with
 * repetition, in the order of pairwise_model_vectors: sequence i takes, at
 * place j, the vector whose index is base-n digit j of i (most significant
 * first). The output carries no gradient.
 * Shapes: x [n, Din] or [1, n, Din], out [n^(2^L), 2^L, Din].
 * @return the sequences on the tape, or NULL when n^(2^L) * 2^L * Din
 *         overflows size_t or exceeds PAIRWISE_MAX_BYTES / 4 floats.
 */
Tensor *pairwise_index_sequences(Tape *tape, Tensor *x, int layers);

/**
 * Runs a tree-shaped CNN with the model's pair nets: at level l a window of
 * 2 vectors moves by a stride of 2, so the 2^(L-l+1) vectors of a sequence
 * become 2^(L-l), and after L levels one vector remains. A kernel-2,
 * stride-2 window is a reshape of [T, 2s, D] into [T, s, 2D].
 * Shapes: sequences [T, 2^L, Din], out [T, D].
 */
Tensor *pairwise_tree_cnn_forward(Tape *tape, const PairwiseModel *model, Tensor *sequences);

#endif /* PAIRWISE_H */
