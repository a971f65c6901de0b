/*
 * Stage 06's attention layer: linear pair representations, bilinear (or
 * small-net) scores, and the multiply-add counts of this design against
 * stage 05's (see linear_attention.h). The per-vector MLP is in mlp.c.
 */
#include "06_linear_projections/linear_attention.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "05_scored_attention/scored_attention.h"
#include "06_linear_projections/mlp.h"
#include "init.h"

/* Maximum length of a layer name, so that "NAME.score_hidden.weight" fits the buffers below. */
#define LINEAR_ATTENTION_NAME_MAX 100

/* Maximum number of tensors one layer registers (the SCORE_NET case). */
#define LINEAR_ATTENTION_MAX_PARAMS 5

/* Allocates a weight [rows, cols] with PyTorch's default Linear range. */
static Tensor *new_weight(int rows, int cols, Rng *rng)
{
    Tensor *w = tensor_new(shape2(rows, cols), true);
    init_linear_default(w, rng);
    return w;
}

/* Allocates the tensors of the chosen scorer. */
static void new_scorer(LinearAttention *layer, Rng *rng)
{
    int D = layer->width, Dk = layer->key_width;
    if (layer->score_kind == SCORE_BILINEAR) {
        layer->query = new_weight(Dk, D, rng);
        layer->key = new_weight(Dk, D, rng);
        return;
    }
    layer->score_hidden.weight = new_weight(Dk, 2 * D, rng);
    layer->score_hidden.bias = tensor_new(shape1(Dk), true);
    init_uniform(layer->score_hidden.bias, rng, 1.0f / sqrtf((float)(2 * D)));
    layer->score_out = new_weight(1, Dk, rng);
}

/*
 * Adds the layer's tensors to params as "name.suffix", all or none: on a
 * failure the entries added so far are removed again.
 */
static bool register_params(LinearAttention *layer, const char *name, ParamList *params)
{
    Tensor *tensors[LINEAR_ATTENTION_MAX_PARAMS] = {
        layer->self, layer->value, layer->query, layer->key, NULL};
    const char *suffixes[LINEAR_ATTENTION_MAX_PARAMS] = {"self", "value", "query", "key", NULL};
    size_t count = 4;
    if (layer->score_kind == SCORE_NET) {
        tensors[2] = layer->score_hidden.weight;
        tensors[3] = layer->score_hidden.bias;
        tensors[4] = layer->score_out;
        suffixes[2] = "score_hidden.weight";
        suffixes[3] = "score_hidden.bias";
        suffixes[4] = "score_out";
        count = 5;
    }

    for (size_t i = 0; i < count; i++) {
        char full_name[LINEAR_ATTENTION_NAME_MAX + 32];
        snprintf(full_name, sizeof full_name, "%s.%s", name, suffixes[i]);
        if (!params_add(params, tensors[i], full_name)) {
            for (size_t j = 0; j < i; j++) {
                params->count--;
                free(params->names[params->count]);
            }
            return false;
        }
    }
    return true;
}

LinearAttention *linear_attention_new(int width, int key_width, int value_width, ScoreKind kind,
                                      const char *name, Rng *rng, ParamList *params)
{
    if (width < 1 || key_width < 1 || value_width < 1)
        return NULL;
    if (kind != SCORE_BILINEAR && kind != SCORE_NET)
        return NULL;
    if (!name || name[0] == '\0' || strlen(name) > LINEAR_ATTENTION_NAME_MAX)
        return NULL;
    LinearAttention *layer = calloc(1, sizeof *layer);
    if (!layer)
        return NULL;

    layer->width = width;
    layer->key_width = key_width;
    layer->value_width = value_width;
    layer->score_kind = kind;
    layer->score_scale = 1.0f;
    layer->self = new_weight(value_width, width, rng);
    layer->value = new_weight(value_width, width, rng);
    new_scorer(layer, rng);

    if (params && !register_params(layer, name, params)) {
        linear_attention_free(layer);
        return NULL;
    }
    return layer;
}

void linear_attention_free(LinearAttention *layer)
{
    if (!layer)
        return;
    tensor_free(layer->query);
    tensor_free(layer->key);
    tensor_free(layer->self);
    tensor_free(layer->value);
    tensor_free(layer->score_hidden.weight);
    tensor_free(layer->score_hidden.bias);
    tensor_free(layer->score_out);
    free(layer);
}

/* x [B, n, D] -> [B, n, n]: the stage 05 scorer, a small net on every pair [x_q ; x_k]. */
static Tensor *net_scores(Tape *tape, const LinearAttention *layer, Tensor *x)
{
    int batch = x->shape.dim[0], n = x->shape.dim[1];

    /* 1. Every pair [x_q ; x_k] through the hidden layer: [B, n*n, Dk]. */
    Tensor *hidden = pairwise_layer_forward(tape, &layer->score_hidden, x);

    /* 2. One number per pair: [B, n*n, 1], read as the grid [B, n, n]. */
    Tensor *scores = op_linear(tape, hidden, layer->score_out, NULL);
    return op_reshape(tape, scores, shape3(batch, n, n));
}

/* Stops the program unless x is [B, n, D] with the layer's D. */
static void check_input(const char *function, const LinearAttention *layer, const Tensor *x)
{
    if (x->shape.ndim == 3 && x->shape.dim[2] == layer->width)
        return;
    char text[64];
    shape_format(x->shape, text, sizeof text);
    core_fatal("%s: x has shape %s, expected [B, n, %d]", function, text, layer->width);
}

/* Multiplies scores by layer->score_scale; a scale of 1 records no op. */
static Tensor *scale_scores(Tape *tape, const LinearAttention *layer, Tensor *scores)
{
    return layer->score_scale == 1.0f ? scores : op_scale(tape, scores, layer->score_scale);
}

/* x [B, n, D] -> [B, n, n]. */
Tensor *linear_attention_scores(Tape *tape, const LinearAttention *layer, Tensor *x)
{
    check_input("linear_attention_scores", layer, x);
    if (layer->score_kind == SCORE_NET)
        return scale_scores(tape, layer, net_scores(tape, layer, x));

    /* 1. Project every word once: queries W_Q x_q and keys W_K x_k, each [B, n, Dk]. */
    Tensor *queries = op_linear(tape, x, layer->query, NULL);
    Tensor *keys = op_linear(tape, x, layer->key, NULL);

    /* 2. s_qk = (W_Q x_q) . (W_K x_k), all pairs at once: queries times keys^T. */
    return scale_scores(tape, layer, op_matmul(tape, queries, keys, false, true));
}

/* x [B, n, D] -> [B, n, n]. */
Tensor *linear_attention_scores_full(Tape *tape, const LinearAttention *layer, Tensor *x)
{
    check_input("linear_attention_scores_full", layer, x);
    if (layer->score_kind != SCORE_BILINEAR)
        core_fatal("linear_attention_scores_full: the layer's scorer is a net, not a bilinear "
                   "form, so it has no matrix W");

    /* 1. W = W_Q^T W_K, a D x D matrix. */
    Tensor *w = op_matmul(tape, layer->query, layer->key, true, false);

    /* 2. x_q^T W for every query: [B, n, D]. */
    Tensor *left = op_matmul(tape, x, w, false, false);

    /* 3. (x_q^T W) x_k for every pair: [B, n, n]. */
    return scale_scores(tape, layer, op_matmul(tape, left, x, false, true));
}

/* x [B, n, D] -> [B, n, Dv]. */
Tensor *linear_attention_forward(Tape *tape, const LinearAttention *layer, Tensor *x,
                                 Tensor **weights_out)
{
    /* 1. Weights a_qk: scores made positive and normalised over each query's keys. */
    Tensor *weights = attention_weights(tape, linear_attention_scores(tape, layer, x));
    if (weights_out)
        *weights_out = weights;

    /* 2. The values B x_k, computed once per word instead of once per pair: [B, n, Dv]. */
    Tensor *values = op_linear(tape, x, layer->value, NULL);

    /* 3. sum_k a_qk B x_k for every query: weights [B, n, n] times values [B, n, Dv]. */
    Tensor *mixed = op_matmul(tape, weights, values, false, false);

    /* 4. The query's own term A x_q is added once, because the weights sum to 1. */
    return op_add(tape, op_linear(tape, x, layer->self, NULL), mixed);
}

/* x [B, n, D] -> [B, n, Dv], through all n*n pair vectors. */
Tensor *linear_attention_forward_pairs(Tape *tape, const LinearAttention *layer, Tensor *x)
{
    /* 1. The weights, exactly as the shortcut computes them. */
    Tensor *weights = attention_weights(tape, linear_attention_scores(tape, layer, x));

    /* 2. r_qk = A x_q + B x_k = [A B] [x_q ; x_k] for every pair: [B, n*n, Dv]. */
    Tensor *both = op_concat(tape, layer->self, layer->value);
    Tensor *pairs = op_linear(tape, op_pairwise(tape, x), both, NULL);

    /* 3. y_q = sum_k a_qk r_qk, as stage 05 combines its pair vectors. */
    return attention_combine_pairs(tape, weights, pairs);
}

/* ------------------------------------------------------------------------- */
/* Multiply-add counts                                                        */
/* ------------------------------------------------------------------------- */

/* Sets *out = a * b; false when it overflows. */
static bool multiply_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return false;
    *out = a * b;
    return true;
}

/* Sets *out = a * b * c; false when it overflows. */
static bool multiply3_u64(uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
    uint64_t ab;
    return multiply_u64(a, b, &ab) && multiply_u64(ab, c, out);
}

/* Sets cost->total to the sum of the four parts; false when it overflows. */
static bool sum_cost(AttentionCost *cost)
{
    uint64_t parts[4] = {cost->projections, cost->scores, cost->combine, cost->nets};
    uint64_t total = 0;
    for (int i = 0; i < 4; i++) {
        if (parts[i] > UINT64_MAX - total)
            return false;
        total += parts[i];
    }
    cost->total = total;
    return true;
}

/* Every width at least 1, and 2*D (a pair's width) representable as an int. */
static bool widths_valid(AttentionWidths w)
{
    return w.width >= 1 && w.width <= INT_MAX / 2 && w.key_width >= 1 && w.value_width >= 1 &&
           w.hidden_width >= 1;
}

bool linear_attention_cost(uint64_t words, AttentionWidths widths, ScoreKind kind,
                           AttentionCost *cost)
{
    if (!widths_valid(widths) || (kind != SCORE_BILINEAR && kind != SCORE_NET))
        return false;
    uint64_t n = words, D = (uint64_t)widths.width, Dk = (uint64_t)widths.key_width;
    uint64_t Dv = (uint64_t)widths.value_width;
    uint64_t pairs;
    AttentionCost c = {0};

    /* Per word: A and B (Dv x D each), plus W_Q and W_K (Dk x D each) for the bilinear form. */
    uint64_t per_word_maps = kind == SCORE_BILINEAR ? 2 * Dk + 2 * Dv : 2 * Dv;
    bool ok = multiply_u64(n, n, &pairs) && multiply3_u64(n, D, per_word_maps, &c.projections);

    /* Per pair: a Dk-long dot product, or the net 2D -> Dk -> 1; then Dv for the weighted sum. */
    uint64_t per_pair_score = kind == SCORE_BILINEAR ? Dk : 2 * D * Dk + Dk;
    ok = ok && multiply_u64(pairs, per_pair_score, &c.scores) &&
         multiply_u64(pairs, Dv, &c.combine);

    /* Per output vector: the MLP Dv -> Dh -> Dv. */
    ok = ok && mlp_cost(n, widths.value_width, widths.hidden_width, widths.value_width, &c.nets);
    ok = ok && sum_cost(&c);
    if (ok)
        *cost = c;
    return ok;
}

bool pair_nets_cost(uint64_t words, AttentionWidths widths, AttentionCost *cost)
{
    if (!widths_valid(widths))
        return false;
    uint64_t n = words, D = (uint64_t)widths.width, Dk = (uint64_t)widths.key_width;
    uint64_t Dv = (uint64_t)widths.value_width;
    uint64_t pairs;
    AttentionCost c = {0};

    /* No per-word maps: every product involves a pair. */
    bool ok = multiply_u64(n, n, &pairs);

    /* Per pair: the scoring net 2D -> Dk -> 1 and the weighted sum over Dv. */
    ok = ok && multiply_u64(pairs, 2 * D * Dk + Dk, &c.scores) &&
         multiply_u64(pairs, Dv, &c.combine);

    /* Per pair: the representation net 2D -> Dh -> Dv, the big net run n*n times. */
    ok = ok && mlp_cost(pairs, 2 * widths.width, widths.hidden_width, widths.value_width, &c.nets);
    ok = ok && sum_cost(&c);
    if (ok)
        *cost = c;
    return ok;
}
