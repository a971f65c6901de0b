/*
 * Stage 03: the position encoding of the pairwise model (contracts in
 * positions.h). Everything after the input is stage 02's code.
 */
#include "03_position_encoding/positions.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PositionModel *position_model_new(int vocab_size, int positions, const PairwiseConfig *config,
                                  Rng *rng, ParamList *params)
{
    if (vocab_size < 1 || positions < 1 || vocab_size > INT_MAX / 2 - positions)
        return NULL;
    PositionModel *model = malloc(sizeof *model);
    if (!model)
        return NULL;

    /* The stage 02 model, with P more input columns for the position. */
    PairwiseConfig with_positions = *config;
    with_positions.input_width = vocab_size + positions;
    model->vocab_size = vocab_size;
    model->positions = positions;
    model->pairwise = pairwise_model_new(&with_positions, rng, params);
    if (!model->pairwise) {
        free(model);
        return NULL;
    }
    return model;
}

void position_model_free(PositionModel *model)
{
    if (!model)
        return;
    pairwise_model_free(model->pairwise);
    free(model);
}

bool positions_check_length(size_t length, int positions, char *error, size_t error_size)
{
    if (length >= 1 && positions >= 1 && length <= (size_t)positions)
        return true;
    if (length == 0)
        snprintf(error, error_size, "the sentence has no words");
    else
        snprintf(error, error_size,
                 "the sentence has %zu words, but the model encodes only %d positions (0 to %d): "
                 "shorten the sentence to %d words or raise --positions to %zu or more",
                 length, positions, positions - 1, positions, length);
    return false;
}

Tensor *positions_encode(Tape *tape, const int *ids, int batch, int length, int vocab_size,
                         int positions)
{
    char error[256];
    if (!positions_check_length((size_t)length, positions, error, sizeof error))
        core_fatal("positions_encode: %s", error);
    if (batch < 1 || batch > INT_MAX / length)
        core_fatal("positions_encode: %d sentences of %d words do not fit in an int count", batch,
                   length);
    int rows = batch * length;

    /* Word t of every sentence has position t. */
    int *position_ids = arena_alloc(&tape->arena, (size_t)rows * sizeof *position_ids);
    for (int r = 0; r < rows; r++)
        position_ids[r] = r % length;

    /* Shapes: words [B*n, V], places [B*n, P], out [B, n, V+P]. */
    Tensor *words = op_onehot(tape, ids, rows, vocab_size);
    Tensor *places = op_onehot(tape, position_ids, rows, positions);
    Tensor *both = op_concat(tape, words, places);
    return op_reshape(tape, both, shape3(batch, length, vocab_size + positions));
}

Tensor *position_model_forward(Tape *tape, void *model, const int *ids, int batch, int length)
{
    const PositionModel *position_model = model;
    Tensor *x = positions_encode(tape, ids, batch, length, position_model->vocab_size,
                                 position_model->positions);
    return pairwise_model_forward(tape, position_model->pairwise, x);
}

void positions_zero_position_weights(PositionModel *model)
{
    /* Shapes: weight [D, 2(V+P)]; blocks: query word V, query position P, key word V, key position
     * P. */
    Tensor *weight = model->pairwise->nets[0]->weight;
    size_t columns = (size_t)tensor_cols(weight);
    size_t words = (size_t)model->vocab_size;
    size_t places = (size_t)model->positions;
    for (size_t row = 0; row < tensor_rows(weight); row++) {
        float *w = weight->data + row * columns;
        memset(w + words, 0, places * sizeof *w);
        memset(w + 2 * words + places, 0, places * sizeof *w);
    }
}

/* Returns whether a stage 02 model has the sizes of @p source without the positions. */
static bool sizes_match(const PositionModel *source, const PairwiseModel *target)
{
    PairwiseConfig a = source->pairwise->config;
    PairwiseConfig b = target->config;
    return b.input_width == source->vocab_size && a.width == b.width && a.layers == b.layers &&
           a.classes == b.classes;
}

bool positions_copy_word_weights(const PositionModel *source, PairwiseModel *target)
{
    if (!sizes_match(source, target))
        return false;

    /* Layer 1: the query's word block, then the key's word block; position blocks dropped. */
    const Tensor *from = source->pairwise->nets[0]->weight;
    Tensor *to = target->nets[0]->weight;
    size_t words = (size_t)source->vocab_size;
    size_t half = words + (size_t)source->positions;
    for (size_t row = 0; row < tensor_rows(to); row++) {
        const float *w = from->data + row * 2 * half;
        memcpy(to->data + row * 2 * words, w, words * sizeof *w);
        memcpy(to->data + row * 2 * words + words, w + half, words * sizeof *w);
    }

    /* Every other tensor has the same shape in both models. */
    tensor_copy_data(target->nets[0]->bias, source->pairwise->nets[0]->bias);
    for (int l = 1; l < target->config.layers; l++) {
        tensor_copy_data(target->nets[l]->weight, source->pairwise->nets[l]->weight);
        tensor_copy_data(target->nets[l]->bias, source->pairwise->nets[l]->bias);
    }
    tensor_copy_data(target->out_weight, source->pairwise->out_weight);
    tensor_copy_data(target->out_bias, source->pairwise->out_bias);
    return true;
}

bool positions_split_weight(const PositionModel *model, int offset, Tensor **word_table,
                            Tensor **position_table)
{
    int words = model->vocab_size;
    int places = model->positions;
    if (offset != 0 && offset != words + places)
        return false;

    /* Shapes: weight [D, 2(V+P)]; table row v is column offset + v of the weight. */
    const Tensor *weight = model->pairwise->nets[0]->weight;
    int width = weight->shape.dim[0];
    int columns = weight->shape.dim[1];
    *word_table = tensor_new(shape2(words, width), false);
    *position_table = tensor_new(shape2(places, width), false);
    for (int d = 0; d < width; d++) {
        const float *w = weight->data + (size_t)d * (size_t)columns + offset;
        for (int v = 0; v < words; v++)
            (*word_table)->data[(size_t)v * (size_t)width + d] = w[v];
        for (int p = 0; p < places; p++)
            (*position_table)->data[(size_t)p * (size_t)width + d] = w[words + p];
    }
    return true;
}

Tensor *positions_embed(Tape *tape, Tensor *word_table, Tensor *position_table, const int *ids,
                        int length)
{
    /* Shapes: word vectors [n, D] plus position vectors [n, D] of positions 0 .. n-1. */
    int *position_ids = arena_alloc(&tape->arena, (size_t)length * sizeof *position_ids);
    for (int t = 0; t < length; t++)
        position_ids[t] = t;
    Tensor *word_vectors = op_embedding(tape, word_table, ids, length);
    Tensor *position_vectors = op_embedding(tape, position_table, position_ids, length);
    return op_add(tape, word_vectors, position_vectors);
}
