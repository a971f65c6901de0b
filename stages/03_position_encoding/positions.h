/**
 * @file positions.h
 * @brief Stage 03: each input vector of the pairwise model becomes
 *        [one-hot(word) ; one-hot(position)], so word order reaches the
 *        pair nets.
 *
 * The layers, the mean and the prediction are stage 02's (pairwise.h);
 * this stage changes only the input. Positions are 0 .. P-1 for a fixed
 * cutoff P, so a sentence of more than P words cannot be encoded and is
 * rejected. Layer 1's pair net reads [x_q ; x_k], so its weight
 * [D, 2(V+P)] has four column blocks: the query's word (V columns), the
 * query's position (P), the key's word (V) and the key's position (P).
 */
#ifndef POSITIONS_H
#define POSITIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "02_pairwise_convolution/pairwise.h"
#include "ops.h"
#include "optim.h"
#include "rng.h"

/** The position cutoff P of the stage 03 program when --positions is not given. */
#define POSITIONS_DEFAULT 16

/** A stage 02 model whose input is [one-hot(word) ; one-hot(position)]. */
typedef struct PositionModel {
    int vocab_size;          /**< V, the word part of each input vector */
    int positions;           /**< P, the position part; sentences have at most P words */
    PairwiseModel *pairwise; /**< the layers and prediction, with input width V + P; owned */
} PositionModel;

/**
 * Allocates a model with input width V + P (see pairwise_model_new for the
 * initialisation) and adds its tensors to @p params (may be NULL).
 * @return a model the caller frees with position_model_free, or NULL, with
 *         @p params unchanged, when a size is out of range (V or P below 1,
 *         V + P above INT_MAX / 2) or params_add fails.
 */
PositionModel *position_model_new(int vocab_size, int positions, const PairwiseConfig *config,
                                  Rng *rng, ParamList *params);

/** Frees a model and its tensors; NULL is ignored. */
void position_model_free(PositionModel *model);

/**
 * Checks that a sentence of @p length words fits the position cutoff.
 * @return true when 1 <= length <= positions. Otherwise false, with a
 *         message in @p error (when @p error_size > 0) naming the length, P
 *         and what to do.
 */
bool positions_check_length(size_t length, int positions, char *error, size_t error_size);

/**
 * Builds the input vectors [one-hot(ids[i]) ; one-hot(i mod n)] of a batch;
 * word t of each sentence gets position t.
 * Shapes: ids [B * n] row-major by sentence, each in 0 .. V-1;
 * out [B, n, V + P] without a gradient. n above P or an id outside
 * 0 .. V-1 stops the program: check with positions_check_length first.
 */
Tensor *positions_encode(Tape *tape, const int *ids, int batch, int length, int vocab_size,
                         int positions);

/**
 * Runs the model: positions_encode, then pairwise_model_forward. It has the
 * signature of ClassifierForwardFn (train.h), with @p model a PositionModel.
 * Shapes: ids [B * n], out [B, C]. n above P stops the program.
 */
Tensor *position_model_forward(Tape *tape, void *model, const int *ids, int batch, int length);

/**
 * Sets to zero the columns of layer 1's weight that read a position: the
 * query's position block (columns V .. V+P-1) and the key's
 * (2V+P .. 2V+2P-1). The model then ignores positions altogether.
 */
void positions_zero_position_weights(PositionModel *model);

/**
 * Copies every weight of @p source into the stage 02 model @p target,
 * keeping from layer 1's weight only the word columns, so that @p target
 * computes what @p source computes with its position weights set to zero.
 * @return false, leaving @p target unchanged, when @p target's sizes are
 *         not V, D, L and C of @p source.
 */
bool positions_copy_word_weights(const PositionModel *source, PairwiseModel *target);

/**
 * Splits the part of layer 1's weight that acts on one input vector, the
 * columns @p offset .. @p offset + V + P - 1 of nets[0]->weight (offset 0
 * for the query, V + P for the key), into a word table [V, D] and a
 * position table [P, D], transposed so that row v is the vector the block
 * adds for word v (or position v). Multiplying that part of the weight by
 * [one-hot(w) ; one-hot(p)] gives word_table[w] + position_table[p].
 * @return false when @p offset is neither 0 nor V + P; otherwise true with
 *         two persistent tensors without gradients, which the caller frees
 *         with tensor_free.
 */
bool positions_split_weight(const PositionModel *model, int offset, Tensor **word_table,
                            Tensor **position_table);

/**
 * The lookup form of the position encoding: row i of out is
 * word_table[ids[i]] + position_table[i], a learned position vector added
 * to the word's vector.
 * Shapes: word_table [V, D], position_table [P, D], ids [n] with n <= P,
 * out [n, D].
 */
Tensor *positions_embed(Tape *tape, Tensor *word_table, Tensor *position_table, const int *ids,
                        int length);

#endif /* POSITIONS_H */
