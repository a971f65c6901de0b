/*
 * The models the comparison trains, behind one interface: the stage 01 CNN,
 * the pairwise stages 02 and 03, the attention stages 05 to 08 as
 * classifiers with positions, and the two controls (a bag of words and a
 * CNN deep enough to cover every distance).
 *
 * A ModelSpec fixes everything but the width; model_match_width then picks
 * the width whose parameter count is closest to a target, so that every
 * model of a comparison has about as many parameters as the stage 01 CNN.
 */
#ifndef COMPARE_MODELS_H
#define COMPARE_MODELS_H

#include <stdbool.h>
#include <stddef.h>

#include "optim.h"
#include "rng.h"
#include "train.h"

/** Largest relative difference between a model's parameter count and its target (15%). */
#define MODEL_MATCH_TOLERANCE 0.15

/** The models the comparison knows, in the order its tables list them. */
typedef enum ModelKind {
    MODEL_CNN,              /**< 01_cnn_baseline: stacked convolutions of window 3 */
    MODEL_PAIRWISE,         /**< 02_pairwise_convolution: every pair, no positions */
    MODEL_POSITIONS,        /**< 03_position_encoding: stage 02 with one-hot positions */
    MODEL_SCORED_ATTENTION, /**< 05_scored_attention: pair nets weighted by a scoring net */
    MODEL_LINEAR_ATTENTION, /**< 06_linear_projections: bilinear scores and a per-vector MLP */
    MODEL_MULTI_HEAD,       /**< 07_multi_head: H heads of stage 06 side by side */
    MODEL_TRANSFORMER,      /**< 08_transformer_block: the standard block */
    MODEL_BAG_OF_WORDS,     /**< control_bag_of_words: mean of one-hot words, then an MLP */
    MODEL_DEEP_CNN,         /**< control_deep_cnn: a CNN whose receptive field covers the task */
    MODEL_KIND_COUNT        /**< the number of kinds */
} ModelKind;

/** Everything that fixes a model's shape except its width. */
typedef struct ModelSpec {
    ModelKind kind;      /**< which model */
    int vocab_size;      /**< V, word ids are 0 .. V-1 */
    int positions;       /**< P, the longest sentence of a model with positions */
    int classes;         /**< C, outputs of a classifier */
    int layers;          /**< L: convolutions, pairwise layers or attention blocks */
    int heads;           /**< H of stages 07 and 08; 1 for the others */
    int width;           /**< D, set by model_match_width */
    bool language_model; /**< a causal next-word model (CNN and stage 08 only) */
} ModelSpec;

/** A built model and the forward pass the comparison calls. */
typedef struct Model {
    ModelSpec spec;                /**< the sizes it was built with */
    void *impl;                    /**< the stage's own model struct */
    ClassifierForwardFn forward;   /**< logits [B, C], or [B*n, V] for a language model */
    ParamList *params;             /**< every trainable tensor */
    size_t param_count;            /**< parameters the model's task trains (see model_new) */
    void (*free_impl)(void *impl); /**< frees impl */
    ParamList *owned_params;       /**< params, when the stage's struct does not own them */
} Model;

/**
 * Returns the name the CSV files use for @p kind: the stage directory name,
 * such as "01_cnn_baseline", or "control_bag_of_words" and
 * "control_deep_cnn"; "unknown" for a value outside the enum.
 */
const char *model_kind_name(ModelKind kind);

/**
 * Builds the model @p spec describes, drawing its weights from @p rng.
 * param_count is the number of elements of params, except for stage 08,
 * whose unused output head is left out of the count.
 * @return a model the caller frees with model_free, or NULL when a size is
 *         invalid for that kind (such as a width that is not a multiple of
 *         the heads, or a language model of a kind that has none) or memory
 *         runs out.
 */
Model *model_new(const ModelSpec *spec, Rng *rng);

/** Frees a model; NULL is ignored. */
void model_free(Model *model);

/**
 * Counts the trainable parameters of the model @p spec describes by
 * building it once.
 * @return the count, or 0 when the model cannot be built.
 */
size_t model_param_count(const ModelSpec *spec);

/**
 * Sets spec->width to the width in 1 .. @p max_width (a multiple of
 * spec->heads) whose parameter count is closest to @p target; the count
 * grows with the width, so a binary search finds it.
 * @return the parameter count at the chosen width, or 0 (spec unchanged)
 *         when no width in range builds.
 */
size_t model_match_width(ModelSpec *spec, size_t target, int max_width);

/** Returns the receptive field in words, 2L+1 for the CNNs, or 0 for models that see every word. */
int model_receptive_field(const ModelSpec *spec);

/**
 * Estimates the multiply-adds of one forward pass on one sentence of
 * @p length words, from the widths alone. It only weighs runs against each
 * other for the estimated time left.
 */
double model_cost_per_sentence(const ModelSpec *spec, int length);

#endif /* COMPARE_MODELS_H */
