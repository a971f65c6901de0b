/*
 * Stage 05's classifier (see scored_model.h): embeddings, one scored
 * attention layer, and a readout at the query word.
 */
#include "05_scored_attention/scored_model.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "init.h"

/* Allocates a trainable tensor and adds it to the model's list under @p name. */
static Tensor *new_param(ScoredModel *model, Shape shape, const char *name, bool *ok)
{
    Tensor *t = tensor_new(shape, true);
    t->name = name;
    if (!params_add(model->params, t, name))
        *ok = false;
    return t;
}

ScoredModel *scored_model_new(ScoredModelConfig config, Rng *rng)
{
    ScoredModelConfig c = config;
    if (c.vocab_size < 1 || c.positions < 1 || c.width < 1 || c.score_width < 1 || c.classes < 1 ||
        c.query_id < 0 || c.query_id >= c.vocab_size)
        return NULL;
    ScoredModel *model = calloc(1, sizeof *model);
    if (!model)
        return NULL;
    model->config = c;
    model->params = params_new();
    if (!model->params) {
        free(model);
        return NULL;
    }

    /* Tensors in the order of the forward pass, each drawn right after it is made. */
    bool ok = true;
    model->word_table = new_param(model, shape2(c.vocab_size, c.width), "word_table", &ok);
    init_normal(model->word_table, rng, 1.0f);
    model->position_table = new_param(model, shape2(c.positions, c.width), "position_table", &ok);
    init_normal(model->position_table, rng, 1.0f);
    model->layer = scored_attention_new(c.width, c.width, c.score_width, rng, model->params);
    model->readout_weight = new_param(model, shape2(c.classes, c.width), "readout.weight", &ok);
    model->readout_bias = new_param(model, shape1(c.classes), "readout.bias", &ok);
    init_linear_default(model->readout_weight, rng);
    init_uniform(model->readout_bias, rng, 1.0f / sqrtf((float)c.width));

    if (!ok || !model->layer) {
        scored_model_free(model);
        return NULL;
    }
    return model;
}

void scored_model_free(ScoredModel *model)
{
    if (!model)
        return;
    params_free(model->params);
    tensor_free(model->word_table);
    tensor_free(model->position_table);
    scored_attention_free(model->layer);
    tensor_free(model->readout_weight);
    tensor_free(model->readout_bias);
    free(model);
}

/* Returns x [batch*length, D]: each word's vector plus its position's vector. */
static Tensor *embed(Tape *tape, const ScoredModel *model, const int *ids, int batch, int length)
{
    int count = batch * length;
    int *positions = arena_alloc(&tape->arena, (size_t)count * sizeof *positions);
    for (int i = 0; i < count; i++)
        positions[i] = i % length;

    Tensor *words = op_embedding(tape, model->word_table, ids, count);
    Tensor *places = op_embedding(tape, model->position_table, positions, count);
    return op_add(tape, words, places);
}

/* Writes, for each sentence, the row b*length + q of its query word q into rows [batch]. */
static void find_query_rows(const ScoredModel *model, const int *ids, int batch, int length,
                            int *rows, int *query_positions)
{
    for (int b = 0; b < batch; b++) {
        const int *sentence = ids + (size_t)b * (size_t)length;
        int q = length - 1;
        for (int t = 0; t < length; t++)
            if (sentence[t] == model->config.query_id) {
                q = t;
                break;
            }
        rows[b] = b * length + q;
        if (query_positions)
            query_positions[b] = q;
    }
}

Tensor *scored_model_run(Tape *tape, const ScoredModel *model, const int *ids, int batch,
                         int length, Tensor **weights_out, int *query_positions)
{
    const ScoredModelConfig *c = &model->config;
    if (length > c->positions)
        core_fatal("scored_model: a sentence of %d words is longer than the %d positions", length,
                   c->positions);
    if ((long long)batch * length > INT_MAX)
        core_fatal("scored_model: %d sentences of %d words overflow int", batch, length);

    /* 1. Word plus position vectors: x [B, n, D]. */
    Tensor *flat = embed(tape, model, ids, batch, length);
    Tensor *x = op_reshape(tape, flat, shape3(batch, length, c->width));

    /* 2. The scored attention layer: y [B, n, D]. */
    Tensor *y = scored_attention_forward(tape, model->layer, x, weights_out);

    /* 3. Each sentence's query row of y [B*n, D] (an embedding lookup picks rows), then logits. */
    int *rows = arena_alloc(&tape->arena, (size_t)batch * sizeof *rows);
    find_query_rows(model, ids, batch, length, rows, query_positions);
    Tensor *table = op_reshape(tape, y, shape2(batch * length, c->width));
    Tensor *picked = op_embedding(tape, table, rows, batch);
    return op_linear(tape, picked, model->readout_weight, model->readout_bias);
}

Tensor *scored_model_forward(Tape *tape, void *model, const int *ids, int batch, int length)
{
    return scored_model_run(tape, model, ids, batch, length, NULL, NULL);
}
