/*
 * Stage 08: the standard transformer block (see transformer.h).
 *
 * What this file adds to stages 06 and 07: learned position vectors, the
 * score scaling and causal mask inside attention, residual sums, layer
 * norms, and the two output heads. It builds the attention with stage 07
 * (multi_head_new) and sets stage 06's score_scale of every head; without
 * the mask it runs stage 07's multi_head_forward. With the mask it takes
 * the scores from stage 06 (linear_attention_scores) and softmax from
 * stage 05 (attention_weights). The MLP is stage 06's (mlp_forward).
 * Sub-word tokenisation, dropout and weight tying, which standard models
 * also use, are left out.
 */
#include "08_transformer_block/transformer.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "05_scored_attention/scored_attention.h"
#include "06_linear_projections/mlp.h"
#include "init.h"

/* Maximum length of a parameter name prefix built here, such as "block12.attention". */
#define NAME_MAX_BYTES 64

/* One pre-norm block: x + MultiHead(LayerNorm_1(x)), then x + Mlp(LayerNorm_2(x)). */
typedef struct TransformerBlock {
    Tensor *norm1_gain;              /* [D] */
    Tensor *norm1_bias;              /* [D] */
    MultiHeadAttention *attention;   /* H heads of width D / H, with W_O [D, D] */
    Tensor *norm2_gain;              /* [D] */
    Tensor *norm2_bias;              /* [D] */
    Mlp *mlp;                        /* D -> M -> D, GELU */
} TransformerBlock;

struct Transformer {
    TransformerConfig config;
    Tensor *word_embedding;          /* [V, D], row v is the vector of word v */
    Tensor *position_embedding;      /* [P, D], row t is the vector of position t */
    TransformerBlock *blocks;        /* [L], input side first */
    Tensor *final_gain;              /* [D] */
    Tensor *final_bias;              /* [D] */
    Tensor *classifier_weight;       /* [C, D] */
    Tensor *classifier_bias;         /* [C] */
    Tensor *next_word_weight;        /* [V, D] */
    Tensor *next_word_bias;          /* [V] */
    ParamList *params;               /* every tensor above, and the blocks' */
};

/* ------------------------------------------------------------------------- */
/* Construction                                                               */
/* ------------------------------------------------------------------------- */

/* Returns whether rows * cols fits in an int, the index type of the ops. */
static bool fits_int(int rows, int cols)
{
    return rows >= 1 && cols >= 1 && rows <= INT_MAX / cols;
}

/* Checks every size of a config; see transformer_new for the rules. */
static bool config_valid(TransformerConfig c)
{
    if (c.vocab_size < 1 || c.positions < 1 || c.width < 1 || c.heads < 1 || c.mlp_width < 1 ||
        c.layers < 1 || c.classes < 1 || c.width % c.heads != 0)
        return false;
    return fits_int(c.vocab_size, c.width) && fits_int(c.positions, c.width) &&
           fits_int(c.width, c.width) && fits_int(c.mlp_width, c.width) &&
           fits_int(c.classes, c.width);
}

/* Allocates a persistent tensor with a gradient and adds it to params; false when adding fails. */
static bool add_tensor(ParamList *params, Tensor **slot, Shape shape, const char *name)
{
    *slot = tensor_new(shape, true);
    return params_add(params, *slot, name);
}

/* Allocates a layer norm's gain (1) and bias (0) [D] named "PREFIX.gain" and "PREFIX.bias". */
static bool new_norm(ParamList *params, int width, const char *prefix, Tensor **gain,
                     Tensor **bias)
{
    char name[NAME_MAX_BYTES + 16];
    snprintf(name, sizeof name, "%s.gain", prefix);
    if (!add_tensor(params, gain, shape1(width), name))
        return false;
    init_constant(*gain, 1.0f);
    snprintf(name, sizeof name, "%s.bias", prefix);
    return add_tensor(params, bias, shape1(width), name);
}

/* Allocates a linear head [rows, D] with its bias [rows], PyTorch's default initialisation. */
static bool new_head(ParamList *params, int rows, int width, const char *prefix, Rng *rng,
                     Tensor **weight, Tensor **bias)
{
    char name[NAME_MAX_BYTES + 16];
    snprintf(name, sizeof name, "%s.weight", prefix);
    if (!add_tensor(params, weight, shape2(rows, width), name))
        return false;
    init_linear_default(*weight, rng);
    snprintf(name, sizeof name, "%s.bias", prefix);
    if (!add_tensor(params, bias, shape1(rows), name))
        return false;
    init_uniform(*bias, rng, 1.0f / sqrtf((float)width));
    return true;
}

/* Builds block number l (1-based in the names) and draws its weights from rng. */
static bool new_block(Transformer *model, int l, Rng *rng)
{
    TransformerConfig c = model->config;
    TransformerBlock *block = &model->blocks[l - 1];
    char prefix[NAME_MAX_BYTES];
    int head_width = c.width / c.heads;

    snprintf(prefix, sizeof prefix, "block%d.norm1", l);
    if (!new_norm(model->params, c.width, prefix, &block->norm1_gain, &block->norm1_bias))
        return false;
    snprintf(prefix, sizeof prefix, "block%d.attention", l);
    block->attention = multi_head_new(c.width, c.heads, head_width, head_width, SCORE_BILINEAR,
                                      true, prefix, rng, model->params);
    if (!block->attention)
        return false;

    /*
     * Addition: scores divided by sqrt(Dh). With unit-variance projections a
     * score is a sum of Dh products, so its spread grows as sqrt(Dh) and
     * softmax would put almost all weight on one key, passing almost no
     * gradient back. The division keeps the spread near 1 at any width.
     */
    for (int h = 0; h < c.heads; h++)
        block->attention->head[h]->score_scale = 1.0f / sqrtf((float)head_width);
    snprintf(prefix, sizeof prefix, "block%d.norm2", l);
    if (!new_norm(model->params, c.width, prefix, &block->norm2_gain, &block->norm2_bias))
        return false;
    snprintf(prefix, sizeof prefix, "block%d.mlp", l);
    block->mlp = mlp_new(c.width, c.mlp_width, c.width, MLP_GELU, prefix, rng, model->params);
    return block->mlp != NULL;
}

/* Allocates and draws every tensor in the order transformer.h states. */
static bool build(Transformer *model, Rng *rng)
{
    TransformerConfig c = model->config;
    ParamList *params = model->params;

    if (!add_tensor(params, &model->word_embedding, shape2(c.vocab_size, c.width),
                    "word_embedding") ||
        !add_tensor(params, &model->position_embedding, shape2(c.positions, c.width),
                    "position_embedding"))
        return false;
    init_normal(model->word_embedding, rng, TRANSFORMER_EMBEDDING_STD);
    init_normal(model->position_embedding, rng, TRANSFORMER_EMBEDDING_STD);

    for (int l = 1; l <= c.layers; l++)
        if (!new_block(model, l, rng))
            return false;

    return new_norm(params, c.width, "final_norm", &model->final_gain, &model->final_bias) &&
           new_head(params, c.classes, c.width, "classifier", rng, &model->classifier_weight,
                    &model->classifier_bias) &&
           new_head(params, c.vocab_size, c.width, "next_word", rng, &model->next_word_weight,
                    &model->next_word_bias);
}

Transformer *transformer_new(TransformerConfig config, Rng *rng)
{
    if (!config_valid(config))
        return NULL;
    Transformer *model = calloc(1, sizeof *model);
    if (!model)
        return NULL;
    model->config = config;
    model->blocks = calloc((size_t)config.layers, sizeof *model->blocks);
    model->params = params_new();
    if (!model->blocks || !model->params || !build(model, rng)) {
        transformer_free(model);
        return NULL;
    }
    return model;
}

void transformer_free(Transformer *model)
{
    if (!model)
        return;
    for (int l = 0; model->blocks && l < model->config.layers; l++) {
        TransformerBlock *block = &model->blocks[l];
        tensor_free(block->norm1_gain);
        tensor_free(block->norm1_bias);
        multi_head_free(block->attention);
        tensor_free(block->norm2_gain);
        tensor_free(block->norm2_bias);
        mlp_free(block->mlp);
    }
    free(model->blocks);
    Tensor *own[] = {model->word_embedding, model->position_embedding, model->final_gain,
                     model->final_bias, model->classifier_weight, model->classifier_bias,
                     model->next_word_weight, model->next_word_bias};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        tensor_free(own[i]);
    params_free(model->params);
    free(model);
}

ParamList *transformer_params(Transformer *model)
{
    return model->params;
}

TransformerConfig transformer_config(const Transformer *model)
{
    return model->config;
}

TransformerAdditions transformer_standard_additions(void)
{
    return (TransformerAdditions){.residual = true, .layer_norm = true};
}

/* ------------------------------------------------------------------------- */
/* Forward pass                                                               */
/* ------------------------------------------------------------------------- */

/*
 * One head of stage 06 with the causal mask added to its weights.
 * Shapes: x [B, n, D], out [B, n, Dv]; *weights_out [B, n, n].
 */
static Tensor *masked_head_forward(Tape *tape, const LinearAttention *head, Tensor *x,
                                   Tensor **weights_out)
{
    /* 1. Scores (W_Q x_q) . (W_K x_k) times the head's score_scale, [B, n, n]. */
    Tensor *scores = linear_attention_scores(tape, head, x);

    /* 2. Addition: -infinity above the diagonal, so key k > q gets weight exactly 0. */
    scores = op_causal_mask(tape, scores);

    /* 3. Weights a_qk by softmax over the keys (stage 05). */
    Tensor *weights = attention_weights(tape, scores);
    if (weights_out)
        *weights_out = weights;

    /*
     * 4. As in stage 06's linear_attention_forward, which computes its own
     *    weights and so cannot take masked ones: y_q = A x_q + sum_k a_qk B x_k.
     */
    Tensor *values = op_linear(tape, x, head->value, NULL);
    Tensor *mixed = op_matmul(tape, weights, values, false, false);
    return op_add(tape, op_linear(tape, x, head->self, NULL), mixed);
}

Tensor *transformer_attention_forward(Tape *tape, const MultiHeadAttention *attention, Tensor *x,
                                      bool causal, Tensor **weights_out)
{
    if (!causal)
        return multi_head_forward(tape, attention, x, weights_out);

    /* 1. Every head on the same input, outputs side by side, head 0 first (as stage 07). */
    Tensor *out = NULL;
    for (int h = 0; h < attention->heads; h++) {
        Tensor *y = masked_head_forward(tape, attention->head[h], x,
                                        weights_out ? &weights_out[h] : NULL);
        out = out ? op_concat(tape, out, y) : y;
    }

    /* 2. The output projection W_O mixes the heads' results. */
    return attention->output ? op_linear(tape, out, attention->output, NULL) : out;
}

/* Returns LayerNorm(x) with the given gain and bias, or x itself when norms are off. */
static Tensor *maybe_norm(Tape *tape, Tensor *x, Tensor *gain, Tensor *bias, bool layer_norm)
{
    return layer_norm ? op_layernorm(tape, x, gain, bias, TRANSFORMER_NORM_EPS) : x;
}

Tensor *transformer_block_forward(Tape *tape, const Transformer *model, int layer, Tensor *x,
                                  TransformerAdditions additions, Tensor **weights_out)
{
    if (layer < 0 || layer >= model->config.layers)
        core_fatal("transformer_block_forward: block %d outside 0..%d", layer,
                   model->config.layers - 1);
    const TransformerBlock *block = &model->blocks[layer];

    /* 1. Attention reads the normalised x; the residual adds its result to x itself. */
    Tensor *h = maybe_norm(tape, x, block->norm1_gain, block->norm1_bias, additions.layer_norm);
    Tensor *attended = transformer_attention_forward(tape, block->attention, h,
                                                     model->config.causal, weights_out);
    x = additions.residual ? op_add(tape, x, attended) : attended;

    /* 2. The same for the per-vector MLP. */
    h = maybe_norm(tape, x, block->norm2_gain, block->norm2_bias, additions.layer_norm);
    Tensor *transformed = mlp_forward(tape, block->mlp, h);
    return additions.residual ? op_add(tape, x, transformed) : transformed;
}

/* Returns word vector + position vector for every word, [batch, length, D]. */
static Tensor *embed(Tape *tape, const Transformer *model, const int *ids, int batch, int length)
{
    TransformerConfig c = model->config;
    if (batch < 1 || length < 1 || length > c.positions || batch > INT_MAX / length)
        core_fatal("transformer: %d sentences of %d words do not fit the model (P = %d)", batch,
                   length, c.positions);

    /* 1. Word vectors, [batch * length, D] seen as [batch, length, D]. */
    Tensor *words = op_embedding(tape, model->word_embedding, ids, batch * length);
    words = op_reshape(tape, words, shape3(batch, length, c.width));

    /* 2. Position vectors 0 .. length-1, [length, D], added to every sentence. */
    int *positions = arena_alloc(&tape->arena, (size_t)length * sizeof *positions);
    for (int t = 0; t < length; t++)
        positions[t] = t;
    Tensor *position_vectors = op_embedding(tape, model->position_embedding, positions, length);
    return op_add(tape, words, position_vectors);
}

Tensor *transformer_features_with(Tape *tape, const Transformer *model, const int *ids, int batch,
                                  int length, TransformerAdditions additions,
                                  Tensor **block_outputs, Tensor **weights_out)
{
    Tensor *x = embed(tape, model, ids, batch, length);
    int heads = model->config.heads;
    for (int l = 0; l < model->config.layers; l++) {
        x = transformer_block_forward(tape, model, l, x, additions,
                                      weights_out ? &weights_out[(size_t)l * heads] : NULL);
        if (block_outputs)
            block_outputs[l] = x;
    }
    return maybe_norm(tape, x, model->final_gain, model->final_bias, additions.layer_norm);
}

Tensor *transformer_features(Tape *tape, const Transformer *model, const int *ids, int batch,
                             int length)
{
    return transformer_features_with(tape, model, ids, batch, length,
                                     transformer_standard_additions(), NULL, NULL);
}

Tensor *transformer_classify(Tape *tape, void *model, const int *ids, int batch, int length)
{
    const Transformer *transformer = model;

    /* [batch, length, D] features -> [batch, D] sentence vectors -> [batch, C] logits. */
    Tensor *features = transformer_features(tape, transformer, ids, batch, length);
    Tensor *pooled = op_mean_positions(tape, features);
    return op_linear(tape, pooled, transformer->classifier_weight, transformer->classifier_bias);
}

Tensor *transformer_next_word_logits(Tape *tape, void *model, const int *ids, int batch,
                                     int length)
{
    const Transformer *transformer = model;
    if (!transformer->config.causal)
        core_fatal("transformer_next_word_logits: the model needs config.causal, or position t "
                   "would see the word it predicts");

    /* [batch, length, D] -> [batch * length, D] -> [batch * length, V]. */
    Tensor *features = transformer_features(tape, transformer, ids, batch, length);
    Tensor *rows = op_reshape(tape, features, shape2(batch * length, transformer->config.width));
    return op_linear(tape, rows, transformer->next_word_weight, transformer->next_word_bias);
}

/* ------------------------------------------------------------------------- */
/* Counts                                                                     */
/* ------------------------------------------------------------------------- */

/* Sets *out = a * b; false when it overflows size_t. */
static bool multiply_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

/* Sets *sum += term; false when it overflows size_t. */
static bool add_size(size_t *sum, size_t term)
{
    if (term > SIZE_MAX - *sum)
        return false;
    *sum += term;
    return true;
}

/* Sets *count to the multiply-adds of one block on n words; false on overflow. */
static bool block_multiply_adds(TransformerConfig c, uint64_t n, size_t *count)
{
    int head_width = c.width / c.heads;
    AttentionWidths widths = {.width = c.width, .key_width = head_width,
                              .value_width = head_width, .hidden_width = c.mlp_width};
    AttentionCost head;
    uint64_t mlp;
    if (!linear_attention_cost(n, widths, SCORE_BILINEAR, &head) ||
        !mlp_cost(n, c.width, c.mlp_width, c.width, &mlp))
        return false;

    /* H heads without their own MLP (stage 06's cost counts one per head), W_O, one MLP. */
    uint64_t per_head = head.projections + head.scores + head.combine;
    size_t heads_total, output, total = 0;
    if (per_head > SIZE_MAX || mlp > SIZE_MAX ||
        !multiply_size((size_t)per_head, (size_t)c.heads, &heads_total) ||
        !multiply_size((size_t)n * (size_t)c.width, (size_t)c.width, &output))
        return false;
    bool ok = add_size(&total, heads_total) && add_size(&total, output) &&
              add_size(&total, (size_t)mlp);
    if (ok)
        *count = total;
    return ok;
}

bool transformer_multiply_adds(TransformerConfig config, int length, TransformerHead head,
                               size_t *count)
{
    if (!config_valid(config) || length < 1)
        return false;
    size_t block, blocks, output, total = 0;
    size_t n = (size_t)length, D = (size_t)config.width;
    size_t rows = head == TRANSFORMER_CLASSIFIER ? (size_t)config.classes
                                                 : n * (size_t)config.vocab_size;
    if (head == TRANSFORMER_NEXT_WORD && rows / n != (size_t)config.vocab_size)
        return false;
    bool ok = block_multiply_adds(config, (uint64_t)length, &block) &&
              multiply_size(block, (size_t)config.layers, &blocks) &&
              multiply_size(rows, D, &output) && add_size(&total, blocks) &&
              add_size(&total, output);
    if (ok)
        *count = total;
    return ok;
}

bool transformer_parameter_count(TransformerConfig config, TransformerHead head, size_t *count)
{
    if (!config_valid(config))
        return false;
    size_t V = (size_t)config.vocab_size, P = (size_t)config.positions, D = (size_t)config.width;
    size_t M = (size_t)config.mlp_width;
    size_t out_rows = head == TRANSFORMER_CLASSIFIER ? (size_t)config.classes : V;

    /*
     * Per block: two layer norms 4D, the heads' W_Q, W_K, A, B 4D^2, W_O D^2,
     * the MLP 2DM + M + D. Every product of two sizes fits in size_t,
     * because each size fits in an int (config_valid).
     */
    size_t squares, mlp, per_block = 0, blocks, total = 0;
    bool ok = multiply_size(D * D, 5, &squares) && multiply_size(D * M, 2, &mlp) &&
              add_size(&per_block, squares) && add_size(&per_block, mlp) &&
              add_size(&per_block, 4 * D) && add_size(&per_block, M + D) &&
              multiply_size(per_block, (size_t)config.layers, &blocks);

    /* Embeddings V D + P D, the final layer norm 2D, the head's weight and bias. */
    ok = ok && add_size(&total, V * D) && add_size(&total, P * D) && add_size(&total, blocks) &&
         add_size(&total, 2 * D) && add_size(&total, out_rows * D) && add_size(&total, out_rows);
    if (ok)
        *count = total;
    return ok;
}
