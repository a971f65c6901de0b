/**
 * @file tour_stages.h
 * @brief The eight stage models of the tour, built at one common size from
 *        each stage's own library code, with seeded (untrained) weights.
 *
 * Every model reads one sentence of n word ids and returns C class scores,
 * so that the outputs of all stages have the same form:
 *
 *   01 cnn_new: embedding, L convolutions of window 3, mean, linear.
 *   02 pairwise_model_new on one-hot words: L pairwise layers, mean, linear.
 *   03 position_model_new: stage 02 on [one-hot(word) ; one-hot(position)].
 *   04 the stage 03 input, L column-sum layers (pair net, then a sum per
 *      word), mean, linear.
 *   05 word vector plus position vector, L scored attention layers
 *      (representation net and scoring net on every pair, scoring hidden
 *      width D), mean, linear.
 *   06 word plus position vectors, L times (linear attention with the
 *      bilinear scorer, then a ReLU MLP D -> 4D -> D), mean, linear.
 *   07 as 06 with H heads of width D/H and no output projection.
 *   08 transformer_new: L pre-norm blocks with H heads, W_O and a GELU MLP
 *      of width 4D, final layer norm, mean, linear.
 *
 * Stage 04 keeps stage 03's one-hot input because it changes only the
 * layer. Stages 05 to 08 use the lookup form of that input, word vector
 * plus position vector, which stage 03 shows is the same computation.
 *
 * This file leaves out training: the tour compares what the untrained
 * models compute and what it costs.
 */
#ifndef TOUR_STAGES_H
#define TOUR_STAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

/** The stages of the derivation, in order. */
typedef enum TourStage {
    TOUR_CNN,         /**< 01_cnn_baseline */
    TOUR_PAIRWISE,    /**< 02_pairwise_convolution */
    TOUR_POSITIONS,   /**< 03_position_encoding */
    TOUR_COLUMN_SUM,  /**< 04_column_sum */
    TOUR_SCORED,      /**< 05_scored_attention */
    TOUR_LINEAR,      /**< 06_linear_projections */
    TOUR_MULTI_HEAD,  /**< 07_multi_head */
    TOUR_TRANSFORMER, /**< 08_transformer_block */
    TOUR_STAGE_COUNT  /**< number of stages */
} TourStage;

/** Largest number of layers a tour model can have. */
#define TOUR_MAX_LAYERS 8

/** Hidden width of the MLPs of stages 06 to 08, as a multiple of D. */
#define TOUR_MLP_FACTOR 4

/** The sizes every stage model of one run shares. */
typedef struct TourConfig {
    int vocab_size; /**< V, word ids are 0 .. V-1 */
    int positions;  /**< P, the longest sentence stages 03 to 08 accept */
    int width;      /**< D, the width of every layer's vectors */
    int layers;     /**< L, 1 .. TOUR_MAX_LAYERS */
    int heads;      /**< H, the heads of stages 07 and 08; D must be a multiple of H */
    int classes;    /**< C, the outputs of every model */
} TourConfig;

/** One stage's model; see tour_model_new. */
typedef struct TourModel TourModel;

/** Returns the stage's directory name, such as "01_cnn_baseline", or "unknown". */
const char *tour_stage_name(TourStage stage);

/**
 * Checks that @p config describes models every stage can build: every size
 * at least 1, L at most TOUR_MAX_LAYERS, D a multiple of H, and 4D and
 * 2(V + P) within int.
 * @return true when it does; otherwise false with a message naming the
 *         size in @p error (when @p error_size > 0).
 */
bool tour_config_check(const TourConfig *config, char *error, size_t error_size);

/**
 * Builds the model of @p stage with @p config (see the file description).
 * Its weights come from an Rng seeded with @p seed on stream stage + 1, so
 * each stage's weights depend only on the seed and the stage.
 * @return a model the caller frees with tour_model_free, or NULL when
 *         tour_config_check rejects @p config, @p stage is out of range or
 *         memory runs out. A tensor that cannot be allocated stops the
 *         program (tensor_new).
 */
TourModel *tour_model_new(TourStage stage, const TourConfig *config, uint64_t seed);

/** Frees a model and all its tensors; NULL is ignored. */
void tour_model_free(TourModel *model);

/** Returns the number of trainable values of the model (the next-word head of 08 excluded). */
size_t tour_model_parameters(const TourModel *model);

/**
 * Checks that the model can run on one sentence of @p length words. The
 * sentence needs at least 1 word, and at most P words for stages 03 to 08.
 * For stages 02 and 03 the pairwise size guard (pairwise_check_size) must
 * accept the forward pass.
 * @return true when it can; otherwise false with the reason in @p error
 *         (when @p error_size > 0).
 */
bool tour_model_check(const TourModel *model, int length, char *error, size_t error_size);

/**
 * Runs the model on one sentence.
 * Shapes: ids [length], each in 0 .. V-1; out [1, C], owned by the tape.
 * Call tour_model_check first: a length it rejects, or an id outside
 * 0 .. V-1, stops the program (core_fatal).
 */
Tensor *tour_model_forward(Tape *tape, const TourModel *model, const int *ids, int length);

/**
 * Computes the multiply-adds of one forward pass on one sentence of
 * @p length words by the cost formula in the stage's README, with each
 * stage's own cost function where the library has one, plus C*D for the
 * final linear layer where the formula leaves it out. Stage 04's formula
 * also counts the n^2 D additions of the column sums, which are not
 * products; the other formulas count exactly the matrix products.
 * @return false, leaving *count unchanged, when @p length is below 1, a
 *         size is invalid or the count overflows.
 */
bool tour_formula_multiply_adds(TourStage stage, const TourConfig *config, int length,
                                double *count);

/**
 * Writes the number of vectors each layer creates for one sentence of
 * @p length words into @p text, one number per layer separated by ", ".
 * Stages 01 and 06 to 08 create n (one vector per word). Stages 02 and 03
 * create n^(2^l) at layer l (pair vectors of pair vectors). Stages 04 and
 * 05 create n^2 pair vectors per layer and reduce them back to n. A count
 * beyond size_t is written as "overflow".
 */
void tour_format_vectors(TourStage stage, const TourConfig *config, int length, char *text,
                         size_t text_size);

/**
 * Returns the receptive field of one output in words for a sentence of
 * @p length words: 2L+1 for the CNN (cnn_receptive_field), the whole
 * sentence for every later stage.
 */
int tour_receptive_field(TourStage stage, const TourConfig *config, int length);

#endif /* TOUR_STAGES_H */
