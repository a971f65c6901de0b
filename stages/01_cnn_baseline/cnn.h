/**
 * @file cnn.h
 * @brief Stage 01: the convolutional baseline. One small net with shared
 *        weights reads every window of 3 consecutive word vectors, and
 *        such layers are stacked. The last layer's vectors are averaged,
 *        and a linear layer predicts the class.
 *
 * The model, for a sentence of n word ids:
 *
 *     x_0 = embedding rows of the ids                      [n, D]
 *     x_l = relu(conv1d(x_{l-1}, W_l, b_l)), l = 1..L      [n, D]
 *     logits = mean over positions of x_L, times W_out^T + b_out    [C]
 *
 * Each layer sees the vectors one position to each side, so an output of
 * layer L depends on the 2L+1 words around it and on nothing else: the
 * receptive field. Two words farther apart than 2L positions are never read
 * by the same output, so no layer can combine them.
 *
 * This file leaves out what later stages add: pairs of words, positions,
 * attention. It supports causal padding (an output sees only its own word
 * and earlier ones) and exposes the features before pooling so that a
 * causal CNN language model can be built from the same layer.
 */
#ifndef CNN_H
#define CNN_H

#include <stdbool.h>
#include <stddef.h>

#include "ops.h"
#include "optim.h"
#include "rng.h"

/** Words in the window of one convolution (k). */
#define CNN_KERNEL 3

/**
 * One convolutional layer: relu(W [x_{t-1} ; x_t ; x_{t+1}] + b) at every
 * position t (with CONV_SAME padding), one set of weights for all positions.
 */
typedef struct ConvLayer {
    Tensor *weight; /**< [D, CNN_KERNEL*D], He-initialised */
    Tensor *bias;   /**< [D], initialised to 0 */
} ConvLayer;

/**
 * Allocates a layer of width @p width, draws its weights from @p rng with He
 * initialisation (normal, standard deviation sqrt(2 / (3 D))) and sets its
 * bias to 0. When @p params is not NULL the weight and bias are added to it
 * as "NAME.weight" and "NAME.bias"; the list does not own them.
 * @return a layer the caller frees with conv_layer_free, or NULL, leaving
 *         @p params unchanged, when @p width is below 1, 3 * width * width
 *         does not fit in an int, @p name is NULL, adding to @p params fails
 *         or the struct cannot be allocated. A tensor that cannot be
 *         allocated stops the program (tensor_new).
 */
ConvLayer *conv_layer_new(int width, Rng *rng, ParamList *params, const char *name);

/**
 * Frees a layer and its tensors; NULL is ignored. A ParamList that lists
 * them must not be used afterwards.
 */
void conv_layer_free(ConvLayer *layer);

/**
 * Applies the layer to every window of 3 consecutive vectors.
 * Shapes: x [B, n, D], out [B, n, D] (owned by the tape). With CONV_SAME
 * output t reads x_{t-1}, x_t, x_{t+1}; with CONV_CAUSAL it reads x_{t-2},
 * x_{t-1}, x_t. Positions outside the sentence read as zero vectors.
 * A shape that does not fit stops the program (core_fatal).
 */
Tensor *conv_layer_forward(Tape *tape, const ConvLayer *layer, Tensor *x, ConvPadding padding);

/** Sizes and padding of a Cnn. */
typedef struct CnnConfig {
    int vocab_size;      /**< V, rows of the embedding table, >= 1 */
    int width;           /**< D, width of every word vector and layer, >= 1 */
    int layers;          /**< L, convolutional layers, >= 0 (0 is a bag of words) */
    int classes;         /**< C, outputs of the final linear layer, >= 1 */
    ConvPadding padding; /**< CONV_SAME for classification, CONV_CAUSAL for language models */
} CnnConfig;

/** A CNN classifier; every tensor is owned by it. */
typedef struct Cnn {
    CnnConfig config;   /**< the sizes it was built with */
    Tensor *embedding;  /**< [V, D] word vectors; row v is the vector of word v */
    ConvLayer **layers; /**< [L] the convolutional layers, input side first */
    Tensor *out_weight; /**< [C, D] the final linear layer */
    Tensor *out_bias;   /**< [C] */
    ParamList *params;  /**< every trainable tensor, in the order above */
} Cnn;

/**
 * Builds a CNN and draws its parameters from @p rng, in this order: the
 * embedding (normal, standard deviation 1), each layer (conv_layer_new), the
 * final linear layer (init_linear_default, bias uniform within 1/sqrt(D)).
 * Parameter names: "embedding", "conv1.weight", "conv1.bias", ...,
 * "output.weight", "output.bias".
 * @return a model the caller frees with cnn_free, or NULL when a size is out
 *         of range (see CnnConfig, and V*D, C*D and 3*D*D must fit in an
 *         int) or a struct or list cannot be allocated. A tensor that cannot
 *         be allocated stops the program (tensor_new).
 */
Cnn *cnn_new(CnnConfig config, Rng *rng);

/** Frees a model and all its tensors; NULL is ignored. */
void cnn_free(Cnn *cnn);

/**
 * Looks up the word vectors of @p ids (op_embedding).
 * Shapes: ids [batch * length], row-major by sentence; out [batch, length, D].
 * An id outside 0..V-1 stops the program: check ids with vocab_check_ids.
 */
Tensor *cnn_embed(Tape *tape, const Cnn *cnn, const int *ids, int batch, int length);

/**
 * Computes the same word vectors as cnn_embed the teaching way: the one-hot
 * matrix of the ids [batch * length, V] times the embedding table [V, D].
 * Shapes: ids [batch * length]; out [batch, length, D]. Equal to cnn_embed
 * exactly, because each output element is one table entry times 1 plus
 * entries times 0.
 */
Tensor *cnn_embed_onehot(Tape *tape, const Cnn *cnn, const int *ids, int batch, int length);

/**
 * Runs the embedding and every convolutional layer, and returns the vectors
 * of the last layer before pooling (the embeddings when L = 0).
 * Shapes: ids [batch * length]; out [batch, length, D], owned by the tape.
 */
Tensor *cnn_features(Tape *tape, const Cnn *cnn, const int *ids, int batch, int length);

/**
 * Computes the classifier's logits (a ClassifierForwardFn): cnn_features,
 * the mean over positions, then the final linear layer.
 * Shapes: ids [batch * length]; returns logits [batch, C] on the tape.
 * @p model is a Cnn.
 */
Tensor *cnn_forward(Tape *tape, void *model, const int *ids, int batch, int length);

/**
 * Returns the receptive field of @p layers stacked layers of window 3, in
 * words: layers * (3 - 1) + 1 = 2 * layers + 1. Two words d positions apart
 * are read by one output only when d <= 2 * layers.
 */
int cnn_receptive_field(int layers);

/**
 * Computes the multiply-adds of one forward pass on one sentence of
 * @p length words with the embedding lookup: length * L * 3 * D * D for the
 * layers plus C * D for the final linear layer (the lookup, the ReLUs and
 * the mean add no multiply-adds).
 * @return false, leaving *count unchanged, when the count overflows size_t
 *         or a size is negative.
 */
bool cnn_multiply_adds(CnnConfig config, int length, size_t *count);

#endif /* CNN_H */
