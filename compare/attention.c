/*
 * The attention stages as models of the comparison (see attention.h).
 *
 * Stages 05, 06 and 07 define attention layers but no classifier for the
 * distance task, so this file wraps their layers the same way for each:
 *
 *     x_0 = word_table[ids] + position_table[0 .. n-1]        [B, n, D]
 *     x_l = block_l(x_{l-1}), l = 1..L                         [B, n, D]
 *     logits = mean over positions of x_L, times W_out^T + b   [B, C]
 *
 * where a block is stage 05's scored attention layer, or stage 06's linear
 * attention followed by its per-vector MLP, or stage 07's heads followed by
 * the same MLP. Stage 08 brings its own classifier and language model.
 *
 * Initialisation follows the rule used for the CNN. Every weight that a
 * ReLU follows is redrawn with He initialisation. Word vectors are N(0, 1)
 * and position vectors N(0, ATTENTION_POSITION_STD^2). Every other linear
 * map keeps the stage's own initialisation (PyTorch's nn.Linear default).
 */
#include "attention.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "05_scored_attention/scored_attention.h"
#include "06_linear_projections/linear_attention.h"
#include "06_linear_projections/mlp.h"
#include "07_multi_head/multi_head.h"
#include "08_transformer_block/transformer.h"
#include "init.h"

/* Maximum number of attention blocks of a wrapped classifier. */
#define MAX_BLOCKS 8

/* Hidden width of the per-vector MLP of stages 06 and 07, in multiples of D. */
#define MLP_WIDTH_FACTOR 2

/* One attention classifier built from stage 05, 06 or 07 layers. */
typedef struct AttentionClassifier {
    ModelKind kind;
    int blocks;
    Tensor *word_table;                    /* [V, D] */
    Tensor *position_table;                /* [P, D] */
    ScoredAttention *scored[MAX_BLOCKS];   /* stage 05: one per block, else NULL */
    LinearAttention *linear[MAX_BLOCKS];   /* stage 06: one per block, else NULL */
    MultiHeadAttention *heads[MAX_BLOCKS]; /* stage 07: one per block, else NULL */
    Mlp *mlp[MAX_BLOCKS];                  /* stages 06 and 07: one per block */
    Tensor *out_weight;                    /* [C, D] */
    Tensor *out_bias;                      /* [C] */
} AttentionClassifier;

static void attention_classifier_free(void *impl)
{
    AttentionClassifier *model = impl;
    if (!model)
        return;
    for (int b = 0; b < MAX_BLOCKS; b++) {
        scored_attention_free(model->scored[b]);
        linear_attention_free(model->linear[b]);
        multi_head_free(model->heads[b]);
        mlp_free(model->mlp[b]);
    }
    tensor_free(model->word_table);
    tensor_free(model->position_table);
    tensor_free(model->out_weight);
    tensor_free(model->out_bias);
    free(model);
}

/* Runs one block: [B, n, D] -> [B, n, D]. */
static Tensor *block_forward(Tape *tape, const AttentionClassifier *model, int b, Tensor *x)
{
    if (model->scored[b])
        return scored_attention_forward(tape, model->scored[b], x, NULL);
    Tensor *attended = model->linear[b] ? linear_attention_forward(tape, model->linear[b], x, NULL)
                                        : multi_head_forward(tape, model->heads[b], x, NULL);
    return mlp_forward(tape, model->mlp[b], attended);
}

/* The ClassifierForwardFn of the wrapped stages. */
static Tensor *attention_classifier_forward(Tape *tape, void *impl, const int *ids, int batch,
                                            int length)
{
    const AttentionClassifier *model = impl;
    int width = tensor_cols(model->word_table);
    if (length > model->position_table->shape.dim[0])
        core_fatal("attention classifier: a sentence of %d words exceeds its %d positions", length,
                   model->position_table->shape.dim[0]);

    /* 1. Word vectors plus position vectors: [B*n, D] + [n, D] broadcast per sentence. */
    Tensor *words = op_embedding(tape, model->word_table, ids, batch * length);
    int *positions = arena_alloc(&tape->arena, (size_t)length * sizeof *positions);
    for (int t = 0; t < length; t++)
        positions[t] = t;
    Tensor *position_vectors = op_embedding(tape, model->position_table, positions, length);
    Tensor *x =
        op_add(tape, op_reshape(tape, words, shape3(batch, length, width)), position_vectors);

    /* 2. The blocks, 3. the mean over positions and the linear prediction. */
    for (int b = 0; b < model->blocks; b++)
        x = block_forward(tape, model, b, x);
    Tensor *pooled = op_mean_positions(tape, x);
    return op_linear(tape, pooled, model->out_weight, model->out_bias);
}

/* Allocates a tensor with a gradient and adds it to the list under @p name. */
static Tensor *add_tensor(ParamList *params, Shape shape, const char *name, bool *ok)
{
    Tensor *t = tensor_new(shape, true);
    *ok = *ok && params_add(params, t, name);
    return t;
}

/* Builds block b of the kind's layers into the model, adding its tensors to params. */
static bool build_block(AttentionClassifier *model, const ModelSpec *spec, int b, Rng *rng,
                        ParamList *params)
{
    int d = spec->width;
    char name[32];
    snprintf(name, sizeof name, "block%d", b + 1);
    if (spec->kind == MODEL_SCORED_ATTENTION) {
        /* The scoring net's hidden width is D, like the representation net's output. */
        model->scored[b] = scored_attention_new(d, d, d, rng, params);
        if (!model->scored[b])
            return false;
        init_he_normal(model->scored[b]->represent->weight, rng);
        init_he_normal(model->scored[b]->score_hidden->weight, rng);
        return true;
    }
    bool attention_built;
    if (spec->kind == MODEL_LINEAR_ATTENTION) {
        model->linear[b] = linear_attention_new(d, d, d, SCORE_BILINEAR, name, rng, params);
        attention_built = model->linear[b] != NULL;
    } else {
        /* H heads of width D/H, concatenated back to D, without an output projection. */
        if (spec->heads < 1 || d % spec->heads != 0)
            return false;
        int head_width = d / spec->heads;
        model->heads[b] = multi_head_new(d, spec->heads, head_width, head_width, SCORE_BILINEAR,
                                         false, name, rng, params);
        attention_built = model->heads[b] != NULL;
    }
    snprintf(name, sizeof name, "block%d.mlp", b + 1);
    model->mlp[b] = mlp_new(d, MLP_WIDTH_FACTOR * d, d, MLP_RELU, name, rng, params);
    if (!attention_built || !model->mlp[b])
        return false;
    init_he_normal(model->mlp[b]->hidden_weight, rng);
    return true;
}

/* Builds a stage 05, 06 or 07 classifier. */
static bool build_classifier(Model *model, Rng *rng)
{
    const ModelSpec *spec = &model->spec;
    if (spec->language_model || spec->layers < 1 || spec->layers > MAX_BLOCKS || spec->width < 1 ||
        spec->positions < 1 || spec->vocab_size < 1 || spec->classes < 1)
        return false;
    AttentionClassifier *impl = calloc(1, sizeof *impl);
    model->owned_params = params_new();
    if (!impl || !model->owned_params) {
        free(impl);
        return false;
    }
    model->impl = impl;
    model->free_impl = attention_classifier_free;
    model->params = model->owned_params;
    model->forward = attention_classifier_forward;
    impl->kind = spec->kind;
    impl->blocks = spec->layers;

    /* Embeddings first, then the blocks, then the prediction, each drawn in that order. */
    bool ok = true;
    impl->word_table =
        add_tensor(model->params, shape2(spec->vocab_size, spec->width), "words", &ok);
    impl->position_table =
        add_tensor(model->params, shape2(spec->positions, spec->width), "positions", &ok);
    init_normal(impl->word_table, rng, 1.0f);
    init_normal(impl->position_table, rng, ATTENTION_POSITION_STD);
    for (int b = 0; b < spec->layers && ok; b++)
        ok = build_block(impl, spec, b, rng, model->params);
    impl->out_weight =
        add_tensor(model->params, shape2(spec->classes, spec->width), "output.weight", &ok);
    impl->out_bias = add_tensor(model->params, shape1(spec->classes), "output.bias", &ok);
    init_linear_default(impl->out_weight, rng);
    init_uniform(impl->out_bias, rng, 1.0f / sqrtf((float)spec->width));
    return ok;
}

static void free_transformer(void *impl) { transformer_free(impl); }

/*
 * Builds stage 08's own model: a classifier, or with spec->language_model a
 * causal next-word model. Its MLP has the same hidden width as the MLP of
 * stages 06 and 07. Both output heads exist, but only the parameters of the
 * head in use are counted.
 */
static bool build_transformer(Model *model, Rng *rng)
{
    const ModelSpec *spec = &model->spec;
    TransformerConfig config = {.vocab_size = spec->vocab_size,
                                .positions = spec->positions,
                                .width = spec->width,
                                .heads = spec->heads,
                                .mlp_width = MLP_WIDTH_FACTOR * spec->width,
                                .layers = spec->layers,
                                .classes = spec->classes,
                                .causal = spec->language_model};
    TransformerHead head = spec->language_model ? TRANSFORMER_NEXT_WORD : TRANSFORMER_CLASSIFIER;
    if (!transformer_parameter_count(config, head, &model->param_count))
        return false;
    Transformer *transformer = transformer_new(config, rng);
    if (!transformer)
        return false;
    model->impl = transformer;
    model->free_impl = free_transformer;
    model->params = transformer_params(transformer);
    model->forward = spec->language_model ? transformer_next_word_logits : transformer_classify;
    return true;
}

bool attention_build(Model *model, Rng *rng)
{
    switch (model->spec.kind) {
    case MODEL_SCORED_ATTENTION:
    case MODEL_LINEAR_ATTENTION:
    case MODEL_MULTI_HEAD:
        return build_classifier(model, rng);
    case MODEL_TRANSFORMER:
        return build_transformer(model, rng);
    default:
        return false;
    }
}

double attention_cost_per_sentence(const ModelSpec *spec, int length)
{
    double n = length, d = spec->width, l = spec->layers;
    if (spec->kind == MODEL_SCORED_ATTENTION)
        return l * n * n * (2.0 * d * (d + d) + 2.0 * d);
    if (spec->kind == MODEL_TRANSFORMER)
        return l * (5.0 * n * d * d + 2.0 * n * d * MLP_WIDTH_FACTOR * d + 2.0 * n * n * d);
    /* Projections 4 n D^2, scores and weighted sum 2 n^2 D, the MLP 2 n D (2D). */
    return l * (n * 4.0 * d * d + 2.0 * n * n * d + n * 4.0 * d * d);
}
