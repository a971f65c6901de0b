/**
 * @file transformer.h
 * @brief Stage 08, beyond the derivation: the standard transformer block.
 *
 * Stage 07's multi-head attention and stage 06's per-vector MLP, with the
 * additions that standard transformers use and that the derivation does not
 * need: scores scaled by 1/sqrt(head width), residual connections, layer
 * normalisation, and an optional causal mask for next-word prediction.
 */
#ifndef TRANSFORMER_H
#define TRANSFORMER_H

#include <stdbool.h>

#include "ops.h"
#include "optim.h"
#include "rng.h"

/** Sizes of a transformer model. */
typedef struct TransformerConfig {
    int vocab_size;   /**< V, rows of the word embedding */
    int positions;    /**< P, rows of the learned position embedding: the longest sentence */
    int width;        /**< D, the model width */
    int heads;        /**< H, attention heads; D must be a multiple of H */
    int mlp_width;    /**< hidden width of each block's MLP */
    int layers;       /**< L, transformer blocks */
    int classes;      /**< C, outputs of the classifier head (unused by the language model) */
    bool causal;      /**< mask every query from the keys after it */
} TransformerConfig;

/** A stack of transformer blocks with embeddings and output heads. */
typedef struct Transformer Transformer;

/**
 * Allocates a model with weights drawn from @p rng.
 * @return a model the caller frees with transformer_free, or NULL when a
 *         size is invalid (the width not a multiple of the heads, a size
 *         below 1) or memory runs out.
 */
Transformer *transformer_new(TransformerConfig config, Rng *rng);

/** Frees a model; NULL is ignored. */
void transformer_free(Transformer *model);

/** Returns the model's trainable tensors, owned by the model. */
ParamList *transformer_params(Transformer *model);

/**
 * Runs the embeddings and every block.
 * Shapes: ids [batch * length] (length <= positions), out [batch, length, D].
 */
Tensor *transformer_features(Tape *tape, const Transformer *model, const int *ids, int batch, int length);

/**
 * Classifies sentences: features, mean over positions, linear layer.
 * The ClassifierForwardFn of train.h. Shapes: ids [batch * length], out [batch, C].
 */
Tensor *transformer_classify(Tape *tape, void *model, const int *ids, int batch, int length);

/**
 * Predicts the next word at every position: features, then a linear layer
 * to the vocabulary. Needs config.causal, so that position t never sees the
 * word it predicts.
 * Shapes: ids [batch * length], out [batch * length, V].
 */
Tensor *transformer_next_word_logits(Tape *tape, void *model, const int *ids, int batch, int length);

#endif /* TRANSFORMER_H */
