/*
 * The tour's stage models (contracts in tour_stages.h). Each model is built
 * from its stage's library code. This file chooses the common sizes, and for
 * stages 04 to 07 it stacks the stage's layer L times between an input and
 * the mean-and-linear output that every stage shares.
 */
#include "tour_stages.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "01_cnn_baseline/cnn.h"
#include "02_pairwise_convolution/pairwise.h"
#include "03_position_encoding/positions.h"
#include "04_column_sum/column_sum.h"
#include "05_scored_attention/scored_attention.h"
#include "06_linear_projections/linear_attention.h"
#include "06_linear_projections/mlp.h"
#include "07_multi_head/multi_head.h"
#include "08_transformer_block/transformer.h"
#include "init.h"
#include "ops.h"
#include "optim.h"
#include "rng.h"

static const char *const STAGE_NAMES[TOUR_STAGE_COUNT] = {
    "01_cnn_baseline", "02_pairwise_convolution", "03_position_encoding",
    "04_column_sum",   "05_scored_attention",     "06_linear_projections",
    "07_multi_head",   "08_transformer_block",
};

/* Spells a macro's value as a string literal. */
#define TOUR_STRING_OF(value) #value
#define TOUR_STRING(value) TOUR_STRING_OF(value)

/* Standard deviation of the word and position vectors of stages 05 to 07, as in their programs. */
#define TOUR_EMBEDDING_STD 1.0f

struct TourModel {
    TourStage stage;
    TourConfig config;
    ParamList *params; /* 02 to 07: every tensor below; owned */

    Cnn *cnn;                  /* 01 */
    PairwiseModel *pairwise;   /* 02 */
    PositionModel *positioned; /* 03 */
    Transformer *transformer;  /* 08 */

    /* Stages 04 to 07: an input, L layers (one kind per stage), a mean and a linear map. */
    Tensor *word_table;                         /* 05-07: [V, D] */
    Tensor *position_table;                     /* 05-07: [P, D] */
    PairNet *pair_nets[TOUR_MAX_LAYERS];        /* 04: layer 1 [D, 2(V+P)], then [D, 2D] */
    ScoredAttention *scored[TOUR_MAX_LAYERS];   /* 05: D -> D, scoring hidden width D */
    LinearAttention *linear[TOUR_MAX_LAYERS];   /* 06: Dk = Dv = D */
    MultiHeadAttention *multi[TOUR_MAX_LAYERS]; /* 07: H heads, Dk = Dv = D/H */
    Mlp *mlps[TOUR_MAX_LAYERS];                 /* 06-07: D -> 4D -> D, ReLU */
    Tensor *out_weight;                         /* 04-07: [C, D] */
    Tensor *out_bias;                           /* 04-07: [C] */
};

const char *tour_stage_name(TourStage stage)
{
    if (stage < 0 || stage >= TOUR_STAGE_COUNT)
        return "unknown";
    return STAGE_NAMES[stage];
}

bool tour_config_check(const TourConfig *config, char *error, size_t error_size)
{
    const TourConfig *c = config;
    const char *problem = NULL;
    if (c->vocab_size < 1 || c->positions < 1 || c->width < 1 || c->heads < 1 || c->classes < 1)
        problem = "every size must be at least 1";
    else if (c->layers < 1 || c->layers > TOUR_MAX_LAYERS)
        problem = "L must be from 1 to " TOUR_STRING(TOUR_MAX_LAYERS);
    else if (c->width % c->heads != 0)
        problem = "the width must be a multiple of the head count";
    else if (c->width > INT_MAX / TOUR_MLP_FACTOR / c->width ||
             c->vocab_size > INT_MAX / 4 - c->positions)
        problem = "a weight matrix would have more than INT_MAX elements";
    if (!problem)
        return true;
    if (error_size > 0)
        snprintf(error, error_size,
                 "invalid sizes (V = %d, P = %d, D = %d, L = %d, H = %d, C = %d): %s",
                 c->vocab_size, c->positions, c->width, c->layers, c->heads, c->classes, problem);
    return false;
}

/* ------------------------------------------------------------------------- */
/* Building the models                                                        */
/* ------------------------------------------------------------------------- */

/* Allocates a table [rows, D] of normal values and registers it; false when registering fails. */
static bool add_table(TourModel *model, Tensor **table, int rows, Rng *rng, const char *name)
{
    *table = tensor_new(shape2(rows, model->config.width), true);
    init_normal(*table, rng, TOUR_EMBEDDING_STD);
    return params_add(model->params, *table, name);
}

/* Allocates the final linear map D -> C with PyTorch's default initialisation. */
static bool add_output(TourModel *model, Rng *rng)
{
    int width = model->config.width;
    model->out_weight = tensor_new(shape2(model->config.classes, width), true);
    model->out_bias = tensor_new(shape1(model->config.classes), true);
    init_linear_default(model->out_weight, rng);
    init_uniform(model->out_bias, rng, 1.0f / sqrtf((float)width));
    return params_add(model->params, model->out_weight, "output.weight") &&
           params_add(model->params, model->out_bias, "output.bias");
}

/* Draws layer l (0-based) of stages 04 to 07; false when a constructor fails. */
static bool add_layer(TourModel *model, int l, Rng *rng)
{
    const TourConfig *c = &model->config;
    int width = c->width, head_width = c->width / c->heads;
    char name[32];
    snprintf(name, sizeof name, "layer%d", l + 1);

    switch (model->stage) {
    case TOUR_COLUMN_SUM: {
        int in_width = l == 0 ? c->vocab_size + c->positions : width;
        model->pair_nets[l] = pair_net_new(in_width, width, rng, model->params);
        return model->pair_nets[l] != NULL;
    }
    case TOUR_SCORED:
        model->scored[l] = scored_attention_new(width, width, width, rng, model->params);
        return model->scored[l] != NULL;
    case TOUR_LINEAR:
        model->linear[l] =
            linear_attention_new(width, width, width, SCORE_BILINEAR, name, rng, model->params);
        break;
    case TOUR_MULTI_HEAD:
        model->multi[l] = multi_head_new(width, c->heads, head_width, head_width, SCORE_BILINEAR,
                                         false, name, rng, model->params);
        break;
    default:
        return false;
    }
    if (!model->linear[l] && !model->multi[l])
        return false;

    /* Stages 06 and 07: the per-vector MLP after attention. */
    snprintf(name, sizeof name, "mlp%d", l + 1);
    model->mlps[l] =
        mlp_new(width, TOUR_MLP_FACTOR * width, width, MLP_RELU, name, rng, model->params);
    return model->mlps[l] != NULL;
}

/* Builds stages 04 to 07: the input tables (05-07), the L layers, the output. */
static bool build_stacked(TourModel *model, Rng *rng)
{
    const TourConfig *c = &model->config;
    if (model->stage != TOUR_COLUMN_SUM &&
        (!add_table(model, &model->word_table, c->vocab_size, rng, "words") ||
         !add_table(model, &model->position_table, c->positions, rng, "positions")))
        return false;
    for (int l = 0; l < c->layers; l++)
        if (!add_layer(model, l, rng))
            return false;
    return add_output(model, rng);
}

/* Builds the model of model->stage from the stage's own constructor. */
static bool build(TourModel *model, Rng *rng)
{
    const TourConfig *c = &model->config;
    PairwiseConfig pairwise = {.input_width = c->vocab_size,
                               .width = c->width,
                               .layers = c->layers,
                               .classes = c->classes};

    switch (model->stage) {
    case TOUR_CNN:
        model->cnn = cnn_new((CnnConfig){.vocab_size = c->vocab_size,
                                         .width = c->width,
                                         .layers = c->layers,
                                         .classes = c->classes,
                                         .padding = CONV_SAME},
                             rng);
        return model->cnn != NULL;
    case TOUR_PAIRWISE:
        model->pairwise = pairwise_model_new(&pairwise, rng, model->params);
        return model->pairwise != NULL;
    case TOUR_POSITIONS:
        model->positioned =
            position_model_new(c->vocab_size, c->positions, &pairwise, rng, model->params);
        return model->positioned != NULL;
    case TOUR_TRANSFORMER:
        model->transformer =
            transformer_new((TransformerConfig){.vocab_size = c->vocab_size,
                                                .positions = c->positions,
                                                .width = c->width,
                                                .heads = c->heads,
                                                .mlp_width = TOUR_MLP_FACTOR * c->width,
                                                .layers = c->layers,
                                                .classes = c->classes,
                                                .causal = false},
                            rng);
        return model->transformer != NULL;
    default:
        return build_stacked(model, rng);
    }
}

TourModel *tour_model_new(TourStage stage, const TourConfig *config, uint64_t seed)
{
    if (stage < 0 || stage >= TOUR_STAGE_COUNT || !tour_config_check(config, NULL, 0))
        return NULL;
    TourModel *model = calloc(1, sizeof *model);
    if (!model)
        return NULL;
    model->stage = stage;
    model->config = *config;
    model->params = params_new();

    Rng rng;
    rng_seed(&rng, seed, (uint64_t)stage + 1);
    if (!model->params || !build(model, &rng)) {
        tour_model_free(model);
        return NULL;
    }
    return model;
}

void tour_model_free(TourModel *model)
{
    if (!model)
        return;
    cnn_free(model->cnn);
    pairwise_model_free(model->pairwise);
    position_model_free(model->positioned);
    transformer_free(model->transformer);
    tensor_free(model->word_table);
    tensor_free(model->position_table);
    for (int l = 0; l < TOUR_MAX_LAYERS; l++) {
        pair_net_free(model->pair_nets[l]);
        scored_attention_free(model->scored[l]);
        linear_attention_free(model->linear[l]);
        multi_head_free(model->multi[l]);
        mlp_free(model->mlps[l]);
    }
    tensor_free(model->out_weight);
    tensor_free(model->out_bias);
    params_free(model->params);
    free(model);
}

size_t tour_model_parameters(const TourModel *model)
{
    if (model->cnn)
        return params_count_elements(model->cnn->params);
    if (model->transformer) {
        /* The model also contains a next-word head, which the classifier never reads. */
        size_t count = 0;
        TransformerConfig config = transformer_config(model->transformer);
        return transformer_parameter_count(config, TRANSFORMER_CLASSIFIER, &count) ? count : 0;
    }
    return params_count_elements(model->params);
}

/* ------------------------------------------------------------------------- */
/* The forward pass                                                           */
/* ------------------------------------------------------------------------- */

bool tour_model_check(const TourModel *model, int length, char *error, size_t error_size)
{
    const TourConfig *c = &model->config;
    if (model->stage >= TOUR_POSITIONS &&
        !positions_check_length(length < 0 ? 0 : (size_t)length, c->positions, error, error_size))
        return false;
    if (length < 1) {
        if (error_size > 0)
            snprintf(error, error_size, "the sentence has no words");
        return false;
    }
    if (model->stage != TOUR_PAIRWISE && model->stage != TOUR_POSITIONS)
        return true;

    /* The pairwise stages allocate n^(2^L) vectors: ask their size guard first. */
    int input_width = c->vocab_size + (model->stage == TOUR_POSITIONS ? c->positions : 0);
    PairwiseRequest request = {.batch = 1,
                               .words = (size_t)length,
                               .layers = c->layers,
                               .input_width = input_width,
                               .width = c->width,
                               .gradients = false};
    return pairwise_check_size(&request, NULL, error, error_size);
}

/* ids [n] -> x [1, n, D]: each word's vector plus its position's vector (stages 05-07). */
static Tensor *embed_words(Tape *tape, const TourModel *model, const int *ids, int length)
{
    int *positions = arena_alloc(&tape->arena, (size_t)length * sizeof *positions);
    for (int t = 0; t < length; t++)
        positions[t] = t;
    Tensor *x = op_add(tape, op_embedding(tape, model->word_table, ids, length),
                       op_embedding(tape, model->position_table, positions, length));
    return op_reshape(tape, x, shape3(1, length, model->config.width));
}

/* Runs layer l of stages 04 to 07. Shapes: x [1, n, Din], out [1, n, D]. */
static Tensor *forward_layer(Tape *tape, const TourModel *model, int l, Tensor *x)
{
    switch (model->stage) {
    case TOUR_COLUMN_SUM:
        return column_sum_layer_forward(tape, model->pair_nets[l], x, NULL);
    case TOUR_SCORED:
        return scored_attention_forward(tape, model->scored[l], x, NULL);
    case TOUR_LINEAR:
        return mlp_forward(tape, model->mlps[l],
                           linear_attention_forward(tape, model->linear[l], x, NULL));
    case TOUR_MULTI_HEAD:
        return mlp_forward(tape, model->mlps[l],
                           multi_head_forward(tape, model->multi[l], x, NULL));
    default:
        core_fatal("forward_layer: stage %d has no stacked layers", (int)model->stage);
    }
}

/* Stages 04 to 07: input, L layers, mean over the words, linear map. Out [1, C]. */
static Tensor *forward_stacked(Tape *tape, const TourModel *model, const int *ids, int length)
{
    const TourConfig *c = &model->config;
    Tensor *x = model->stage == TOUR_COLUMN_SUM
                    ? positions_encode(tape, ids, 1, length, c->vocab_size, c->positions)
                    : embed_words(tape, model, ids, length);
    for (int l = 0; l < c->layers; l++)
        x = forward_layer(tape, model, l, x);
    return op_linear(tape, op_mean_positions(tape, x), model->out_weight, model->out_bias);
}

Tensor *tour_model_forward(Tape *tape, const TourModel *model, const int *ids, int length)
{
    char error[512];
    if (!tour_model_check(model, length, error, sizeof error))
        core_fatal("tour_model_forward: %s: %s", tour_stage_name(model->stage), error);

    switch (model->stage) {
    case TOUR_CNN:
        return cnn_forward(tape, model->cnn, ids, 1, length);
    case TOUR_PAIRWISE: {
        Tensor *x = pairwise_onehot_words(tape, ids, 1, length, model->config.vocab_size);
        return pairwise_model_forward(tape, model->pairwise, x);
    }
    case TOUR_POSITIONS:
        return position_model_forward(tape, model->positioned, ids, 1, length);
    case TOUR_TRANSFORMER:
        return transformer_classify(tape, model->transformer, ids, 1, length);
    default:
        return forward_stacked(tape, model, ids, length);
    }
}

/* ------------------------------------------------------------------------- */
/* Cost formulas and counts                                                   */
/* ------------------------------------------------------------------------- */

/*
 * Stages 02 and 03 (their READMEs):
 * n^2 * 2 Din D + sum over l = 2..L of n^(2^l) * 2 D^2 + D C, in double.
 */
static double pairwise_formula(double n, int layers, int in_width, int width, int classes)
{
    double d = width, vectors = n * n;
    double count = vectors * 2.0 * in_width * d + d * classes;
    for (int l = 2; l <= layers; l++) {
        vectors *= vectors;
        count += vectors * 2.0 * d * d;
    }
    return count;
}

/* Stage 07 (its README): per head the projections, scores and weighted sums; then the MLP. */
static bool multi_head_formula(uint64_t n, const TourConfig *c, double *count)
{
    int head_width = c->width / c->heads, hidden = TOUR_MLP_FACTOR * c->width;
    AttentionWidths widths = {.width = c->width,
                              .key_width = head_width,
                              .value_width = head_width,
                              .hidden_width = hidden};
    AttentionCost head;
    uint64_t mlp;
    if (!linear_attention_cost(n, widths, SCORE_BILINEAR, &head) ||
        !mlp_cost(n, c->width, hidden, c->width, &mlp))
        return false;
    double heads = (double)(head.projections + head.scores + head.combine) * c->heads;
    *count = ((double)mlp + heads) * c->layers;
    return true;
}

/* Stages 04 to 07: the layers' cost by each stage's own function, without the output. */
static bool stacked_formula(TourStage stage, const TourConfig *c, int length, double *count)
{
    size_t size = 0;
    AttentionCost cost;
    AttentionWidths widths = {.width = c->width,
                              .key_width = c->width,
                              .value_width = c->width,
                              .hidden_width = TOUR_MLP_FACTOR * c->width};
    ScoredAttention scored = {.in_width = c->width, .out_width = c->width, .score_width = c->width};

    switch (stage) {
    case TOUR_COLUMN_SUM:
        if (!column_sum_multiply_adds((size_t)length, c->layers, c->vocab_size + c->positions,
                                      c->width, &size))
            return false;
        *count = (double)size;
        return true;
    case TOUR_SCORED:
        if (!scored_attention_multiply_adds((size_t)length, &scored, &size))
            return false;
        *count = (double)size * c->layers;
        return true;
    case TOUR_LINEAR:
        if (!linear_attention_cost((uint64_t)length, widths, SCORE_BILINEAR, &cost))
            return false;
        *count = (double)cost.total * c->layers;
        return true;
    case TOUR_MULTI_HEAD:
        return multi_head_formula((uint64_t)length, c, count);
    default:
        return false;
    }
}

/* Stages 01 and 08: the whole model's cost by the stage's own function. */
static bool whole_model_formula(TourStage stage, const TourConfig *c, int length, double *count)
{
    size_t size = 0;
    CnnConfig cnn = {.vocab_size = c->vocab_size,
                     .width = c->width,
                     .layers = c->layers,
                     .classes = c->classes,
                     .padding = CONV_SAME};
    TransformerConfig transformer = {.vocab_size = c->vocab_size,
                                     .positions = c->positions,
                                     .width = c->width,
                                     .heads = c->heads,
                                     .mlp_width = TOUR_MLP_FACTOR * c->width,
                                     .layers = c->layers,
                                     .classes = c->classes};
    bool ok = stage == TOUR_CNN
                  ? cnn_multiply_adds(cnn, length, &size)
                  : transformer_multiply_adds(transformer, length, TRANSFORMER_CLASSIFIER, &size);
    if (ok)
        *count = (double)size;
    return ok;
}

bool tour_formula_multiply_adds(TourStage stage, const TourConfig *config, int length,
                                double *count)
{
    const TourConfig *c = config;
    if (length < 1 || !tour_config_check(config, NULL, 0))
        return false;

    switch (stage) {
    case TOUR_CNN:
    case TOUR_TRANSFORMER:
        return whole_model_formula(stage, c, length, count);
    case TOUR_PAIRWISE:
    case TOUR_POSITIONS: {
        int in_width = c->vocab_size + (stage == TOUR_POSITIONS ? c->positions : 0);
        *count = pairwise_formula(length, c->layers, in_width, c->width, c->classes);
        return isfinite(*count);
    }
    case TOUR_COLUMN_SUM:
    case TOUR_SCORED:
    case TOUR_LINEAR:
    case TOUR_MULTI_HEAD: {
        double layers = 0.0;
        if (!stacked_formula(stage, c, length, &layers))
            return false;
        *count = layers + (double)c->classes * c->width;
        return true;
    }
    default:
        return false;
    }
}

void tour_format_vectors(TourStage stage, const TourConfig *config, int length, char *text,
                         size_t text_size)
{
    size_t used = 0, n = length < 0 ? 0 : (size_t)length;
    if (text_size == 0)
        return;
    text[0] = '\0';

    for (int l = 1; l <= config->layers && used < text_size; l++) {
        size_t count = n;
        bool ok = true;
        if (stage == TOUR_PAIRWISE || stage == TOUR_POSITIONS)
            ok = pairwise_vector_count(n, l, &count);
        else if (stage == TOUR_COLUMN_SUM || stage == TOUR_SCORED)
            ok = column_sum_pair_count(n, &count);

        const char *separator = l > 1 ? ", " : "";
        int written = ok ? snprintf(text + used, text_size - used, "%s%zu", separator, count)
                         : snprintf(text + used, text_size - used, "%soverflow", separator);
        if (written < 0)
            return;
        used += (size_t)written;
    }
}

int tour_receptive_field(TourStage stage, const TourConfig *config, int length)
{
    return stage == TOUR_CNN ? cnn_receptive_field(config->layers) : length;
}
