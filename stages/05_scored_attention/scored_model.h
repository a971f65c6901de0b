/**
 * @file scored_model.h
 * @brief Stage 05's classifier: word and position vectors, one scored
 *        attention layer, and a linear readout at one chosen query word.
 *
 * The model makes one prediction per sentence about one word, the query
 * word (such as "roaring"). The prediction is read from the layer's output
 * y_q at that word, so the rest of the sentence reaches it only through
 * the pair vectors r_qk, combined with the query word's attention weights.
 */
#ifndef SCORED_MODEL_H
#define SCORED_MODEL_H

#include "05_scored_attention/scored_attention.h"
#include "optim.h"
#include "rng.h"

/** Sizes of a scored attention classifier. */
typedef struct ScoredModelConfig {
    int vocab_size;  /**< V, word ids are 0 .. V-1 */
    int positions;   /**< P, the longest sentence; positions are 0 .. P-1 */
    int width;       /**< D, the width of word, position and output vectors */
    int score_width; /**< Hs, the hidden width of the scoring net */
    int classes;     /**< C, the number of answers */
    int query_id;    /**< the word whose output makes the prediction */
} ScoredModelConfig;

/** A scored attention classifier. */
typedef struct ScoredModel {
    ScoredModelConfig config; /**< sizes, as given to scored_model_new */
    Tensor *word_table;       /**< [V, D] the vector of each word */
    Tensor *position_table;   /**< [P, D] the vector added at each position */
    ScoredAttention *layer;   /**< D -> D, scoring hidden width Hs */
    Tensor *readout_weight;   /**< [C, D] */
    Tensor *readout_bias;     /**< [C] */
    ParamList *params;        /**< every trainable tensor above; owned */
} ScoredModel;

/**
 * Allocates a model initialised from @p rng: word and position vectors
 * N(0, 1) as PyTorch's nn.Embedding, every linear map PyTorch's nn.Linear
 * default.
 * @return a model the caller frees with scored_model_free, or NULL when a
 *         size is below 1, @p config.query_id is outside 0 .. V-1, or memory
 *         runs out.
 */
ScoredModel *scored_model_new(ScoredModelConfig config, Rng *rng);

/** Frees a model and its tensors; NULL is ignored. */
void scored_model_free(ScoredModel *model);

/**
 * Runs the model on @p batch sentences of @p length words each. A learned
 * position vector is added to each word's vector: that equals appending a
 * one-hot position to the one-hot word and multiplying by one weight matrix.
 * The prediction is read at the first query word of each sentence, or at
 * its last word when the query word is missing.
 * Shapes: ids [batch * length], out logits [batch, C]. When not NULL,
 * @p weights_out receives the attention weights [batch, length, length]
 * (owned by the tape) and @p query_positions [batch] the position read.
 * A @p length above P or an id outside 0 .. V-1 stops the program (validate
 * user input first).
 */
Tensor *scored_model_run(Tape *tape, const ScoredModel *model, const int *ids, int batch,
                         int length, Tensor **weights_out, int *query_positions);

/**
 * The same forward pass with the signature of train.h's ClassifierForwardFn,
 * so the shared training loop can train the model (@p model is a ScoredModel).
 */
Tensor *scored_model_forward(Tape *tape, void *model, const int *ids, int batch, int length);

#endif /* SCORED_MODEL_H */
