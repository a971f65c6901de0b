/*
 * Stage 05: scored attention. The first part contains the two steps every
 * attention layer shares, turning scores into weights and combining pair
 * vectors with them. The second part is the layer with a representation net
 * and a scoring net, both run on every ordered pair of words.
 *
 * Layout: scores and weights are [B, n, n], and row q contains query q's
 * values over the keys k = 0..n-1. Drawings of the pair grid often give each
 * query a column instead. Those are the same n numbers, and the code calls
 * them row q throughout. The pair vectors of stage 02 use the same order:
 * pair q*n + k is r_qk.
 *
 */
#include "05_scored_attention/scored_attention.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

/* Returns the shape as text for an error message. */
static const char *format_shape(Shape shape, char *buf, size_t size)
{
    shape_format(shape, buf, size);
    return buf;
}

/*
 * Reads the batch and word count of a [B, n, n] (or [n, n]) tensor, stopping
 * the program through core_fatal when the last two dimensions differ.
 */
static void read_square(const char *op, Tensor *t, int *batch, int *n)
{
    Shape s = t->shape;
    char buf[64];
    if (s.ndim < 2 || s.ndim > 3 || s.dim[s.ndim - 1] != s.dim[s.ndim - 2])
        core_fatal("%s: expected a tensor [B, n, n] or [n, n], got %s", op,
                   format_shape(s, buf, sizeof buf));
    *batch = s.ndim == 3 ? s.dim[0] : 1;
    *n = s.dim[s.ndim - 1];
}

Tensor *attention_weights(Tape *tape, Tensor *scores)
{
    int batch, n;
    read_square("attention_weights", scores, &batch, &n);

    /* op_softmax subtracts each row's maximum before exp, so +-1000 stays finite. */
    return op_softmax(tape, scores);
}

Tensor *attention_combine_pairs(Tape *tape, Tensor *weights, Tensor *pairs)
{
    int batch, n;
    read_square("attention_combine_pairs", weights, &batch, &n);

    /* 1. Check that pairs is [B, n*n, D] (or [n*n, D]) for the same B and n. */
    Shape ps = pairs->shape;
    int width = ps.dim[ps.ndim - 1];
    bool batched = weights->shape.ndim == 3;
    bool fits = batched ? ps.ndim == 3 && ps.dim[0] == batch : ps.ndim == 2;
    long long pair_count = (long long)n * n;
    if (!fits || ps.dim[ps.ndim - 2] != pair_count) {
        char wbuf[64], pbuf[64];
        core_fatal("attention_combine_pairs: weights %s need pairs [B, n*n, D] with n*n = %lld, "
                   "got %s",
                   format_shape(weights->shape, wbuf, sizeof wbuf), pair_count,
                   format_shape(ps, pbuf, sizeof pbuf));
    }

    if ((long long)batch * n > INT_MAX)
        core_fatal("attention_combine_pairs: B * n = %d * %d overflows int", batch, n);

    /*
     * 2. Each query is one small product: its weights as a row [1, n] times
     *    its n pair vectors [n, D]. Folding B and n into one batch of B*n
     *    products lets the batched matmul do all of them and their backward.
     */
    Tensor *row = op_reshape(tape, weights, shape3(batch * n, 1, n));
    Tensor *grid = op_reshape(tape, pairs, shape3(batch * n, n, width));
    Tensor *out = op_matmul(tape, row, grid, false, false);

    /* 3. Back to one vector per query. */
    return op_reshape(tape, out, batched ? shape3(batch, n, width) : shape2(n, width));
}

bool attention_normalise_plain(const float *importances, int count, float *weights)
{
    double sum = 0.0;
    for (int k = 0; k < count; k++)
        sum += importances[k];

    /* A zero sum has no quotient, and a negative one would flip every weight's sign. */
    if (!(sum > 0.0) || !isfinite(sum))
        return false;

    for (int k = 0; k < count; k++)
        weights[k] = (float)(importances[k] / sum);
    return true;
}

/* ------------------------------------------------------------------------- */
/* The layer                                                                   */
/* ------------------------------------------------------------------------- */

/* Returns whether @p params already contains a tensor called @p name. */
static bool params_has_name(const ParamList *params, const char *name)
{
    for (size_t i = 0; i < params->count; i++)
        if (strcmp(params->names[i], name) == 0)
            return true;
    return false;
}

/* Removes the entries appended to @p params after its first @p count ones. */
static void params_truncate(ParamList *params, size_t count)
{
    while (params->count > count) {
        params->count--;
        free(params->names[params->count]);
    }
}

/*
 * Adds the scoring net's last map to @p params as "scored_attentionI.score_out",
 * with I the smallest number from 1 not yet in the list, so that several
 * layers can share one list.
 */
static bool add_score_out(ParamList *params, Tensor *score_out)
{
    char name[64];
    for (int i = 1;; i++) {
        snprintf(name, sizeof name, "scored_attention%d.score_out", i);
        if (!params_has_name(params, name))
            break;
    }
    return params_add(params, score_out, name);
}

ScoredAttention *scored_attention_new(int in_width, int out_width, int score_width, Rng *rng,
                                      ParamList *params)
{
    if (in_width < 1 || out_width < 1 || score_width < 1)
        return NULL;
    ScoredAttention *layer = calloc(1, sizeof *layer);
    if (!layer)
        return NULL;
    size_t params_before = params ? params->count : 0;

    /* Both pair nets and the last map start as PyTorch's default nn.Linear. */
    layer->in_width = in_width;
    layer->out_width = out_width;
    layer->score_width = score_width;
    layer->represent = pair_net_new(in_width, out_width, rng, params);
    layer->score_hidden =
        layer->represent ? pair_net_new(in_width, score_width, rng, params) : NULL;
    layer->score_out = tensor_new(shape2(1, score_width), true);
    layer->score_out->name = "scored_attention.score_out";
    init_linear_default(layer->score_out, rng);

    bool ok = layer->score_hidden && (!params || add_score_out(params, layer->score_out));
    if (!ok) {
        if (params)
            params_truncate(params, params_before);
        scored_attention_free(layer);
        return NULL;
    }
    return layer;
}

void scored_attention_free(ScoredAttention *layer)
{
    if (!layer)
        return;
    pair_net_free(layer->represent);
    pair_net_free(layer->score_hidden);
    tensor_free(layer->score_out);
    free(layer);
}

/* Returns the number of words n of x [B, n, D], stopping the program when x is not 3-D. */
static int read_words(const char *op, Tensor *x)
{
    char buf[64];
    if (x->shape.ndim != 3)
        core_fatal("%s: expected x [B, n, D], got %s", op, format_shape(x->shape, buf, sizeof buf));
    return x->shape.dim[1];
}

Tensor *scored_attention_scores(Tape *tape, const ScoredAttention *layer, Tensor *x)
{
    /* Shapes: x [B, n, Din], hidden [B, n*n, Hs], flat [B, n*n, 1], out [B, n, n]. */
    int n = read_words("scored_attention_scores", x);
    Tensor *hidden = pairwise_layer_forward(tape, layer->score_hidden, x);
    Tensor *flat = op_linear(tape, hidden, layer->score_out, NULL);
    return op_reshape(tape, flat, shape3(x->shape.dim[0], n, n));
}

Tensor *scored_attention_forward(Tape *tape, const ScoredAttention *layer, Tensor *x,
                                 Tensor **weights_out)
{
    /* 1. The scoring net on every pair, then each query's scores become weights. */
    Tensor *scores = scored_attention_scores(tape, layer, x);
    Tensor *weights = attention_weights(tape, scores);

    /* 2. The representation net on every pair: r [B, n*n, Dout], pair q*n + k is r_qk. */
    Tensor *pairs = pairwise_layer_forward(tape, layer->represent, x);

    /* 3. y_q = sum_k a_qk r_qk: [B, n, Dout]. */
    if (weights_out)
        *weights_out = weights;
    return attention_combine_pairs(tape, weights, pairs);
}

/* Sets *product = a * b, or returns false when it overflows size_t. */
static bool multiply_size(size_t a, size_t b, size_t *product)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *product = a * b;
    return true;
}

bool scored_attention_multiply_adds(size_t words, const ScoredAttention *layer,
                                    size_t *multiply_adds)
{
    if (layer->in_width < 1 || layer->out_width < 1 || layer->score_width < 1)
        return false;

    /* Per pair: 2 Din (Dout + Hs) + Hs + Dout. Two ints add up to less than SIZE_MAX. */
    size_t din = (size_t)layer->in_width, dout = (size_t)layer->out_width;
    size_t hs = (size_t)layer->score_width;
    size_t nets, per_pair, pairs, total;
    if (!multiply_size(2 * din, dout + hs, &nets) || nets > SIZE_MAX - hs - dout)
        return false;
    per_pair = nets + hs + dout;
    if (!multiply_size(words, words, &pairs) || !multiply_size(pairs, per_pair, &total))
        return false;
    *multiply_adds = total;
    return true;
}
