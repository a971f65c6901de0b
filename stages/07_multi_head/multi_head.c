/* Stage 07: several linear attention heads side by side (see multi_head.h). */
#include "07_multi_head/multi_head.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

/* Maximum length of a layer name, so that "NAME.headI" stays within the limit for a head. */
#define MULTI_HEAD_NAME_MAX 90

/* Frees what multi_head_new built so far and removes the entries it added to params. */
static MultiHeadAttention *abandon(MultiHeadAttention *layer, ParamList *params,
                                   size_t params_before)
{
    while (params && params->count > params_before) {
        params->count--;
        free(params->names[params->count]);
    }
    multi_head_free(layer);
    return NULL;
}

MultiHeadAttention *multi_head_new(int width, int heads, int key_width, int value_width,
                                   ScoreKind kind, bool output_projection, const char *name,
                                   Rng *rng, ParamList *params)
{
    if (width < 1 || heads < 1 || key_width < 1 || value_width < 1)
        return NULL;
    if (value_width > INT_MAX / heads)
        return NULL;
    if (!name || name[0] == '\0' || strlen(name) > MULTI_HEAD_NAME_MAX)
        return NULL;
    size_t params_before = params ? params->count : 0;
    MultiHeadAttention *layer = calloc(1, sizeof *layer);
    if (!layer)
        return NULL;
    layer->head = calloc((size_t)heads, sizeof *layer->head);
    if (!layer->head)
        return abandon(layer, params, params_before);
    layer->width = width;
    layer->heads = heads;
    layer->key_width = key_width;
    layer->value_width = value_width;

    /* 1. The heads, each with its own maps, drawn one after another from rng. */
    for (int h = 0; h < heads; h++) {
        char head_name[MULTI_HEAD_NAME_MAX + 32];
        snprintf(head_name, sizeof head_name, "%s.head%d", name, h);
        layer->head[h] =
            linear_attention_new(width, key_width, value_width, kind, head_name, rng, params);
        if (!layer->head[h])
            return abandon(layer, params, params_before);
    }

    /* 2. The optional output projection W_O [D, H*Dv]. */
    if (output_projection) {
        char output_name[MULTI_HEAD_NAME_MAX + 32];
        snprintf(output_name, sizeof output_name, "%s.output", name);
        layer->output = tensor_new(shape2(width, heads * value_width), true);
        init_linear_default(layer->output, rng);
        if (params && !params_add(params, layer->output, output_name))
            return abandon(layer, params, params_before);
    }
    return layer;
}

void multi_head_free(MultiHeadAttention *layer)
{
    if (!layer)
        return;
    for (int h = 0; layer->head && h < layer->heads; h++)
        linear_attention_free(layer->head[h]);
    free(layer->head);
    tensor_free(layer->output);
    free(layer);
}

int multi_head_out_width(const MultiHeadAttention *layer)
{
    return layer->output ? layer->width : layer->heads * layer->value_width;
}

/* x [B, n, D] -> [B, n, H*Dv], or [B, n, D] with the output projection. */
Tensor *multi_head_forward(Tape *tape, const MultiHeadAttention *layer, Tensor *x,
                           Tensor **weights_out)
{
    /* 1. Every head attends on its own; their outputs are laid side by side, head 0 first. */
    Tensor *out = NULL;
    for (int h = 0; h < layer->heads; h++) {
        Tensor **weights = weights_out ? &weights_out[h] : NULL;
        Tensor *y = linear_attention_forward(tape, layer->head[h], x, weights);
        out = out ? op_concat(tape, out, y) : y;
    }

    /* 2. The optional output projection mixes the heads' results: [B, n, D]. */
    if (layer->output)
        out = op_linear(tape, out, layer->output, NULL);
    return out;
}
