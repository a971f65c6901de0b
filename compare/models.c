/* The comparison's models behind one interface (see models.h). */
#include "models.h"

#include <limits.h>
#include <stdlib.h>

#include "01_cnn_baseline/cnn.h"
#include "02_pairwise_convolution/pairwise.h"
#include "03_position_encoding/positions.h"
#include "attention.h"
#include "bag.h"

static const char *const MODEL_NAMES[MODEL_KIND_COUNT] = {
    "01_cnn_baseline",      "02_pairwise_convolution", "03_position_encoding",
    "05_scored_attention",  "06_linear_projections",   "07_multi_head",
    "08_transformer_block", "control_bag_of_words",    "control_deep_cnn",
};

const char *model_kind_name(ModelKind kind)
{
    if ((int)kind < 0 || kind >= MODEL_KIND_COUNT)
        return "unknown";
    return MODEL_NAMES[kind];
}

/* ------------------------------------------------------------------------- */
/* Forward passes with the ClassifierForwardFn signature                      */
/* ------------------------------------------------------------------------- */

/* The causal CNN language model: stage 01's layers, then a linear map to the vocabulary. */
static Tensor *cnn_next_word_forward(Tape *tape, void *model, const int *ids, int batch, int length)
{
    const Cnn *cnn = model;

    /* [B, n, D] causal features -> [B, n, V] logits -> [B*n, V]. */
    Tensor *features = cnn_features(tape, cnn, ids, batch, length);
    Tensor *logits = op_linear(tape, features, cnn->out_weight, cnn->out_bias);
    return op_reshape(tape, logits, shape2(batch * length, cnn->config.classes));
}

/* Stage 02 on one-hot words. */
static Tensor *pairwise_words_forward(Tape *tape, void *model, const int *ids, int batch,
                                      int length)
{
    const PairwiseModel *pairwise = model;
    Tensor *x = pairwise_onehot_words(tape, ids, batch, length, pairwise->config.input_width);
    return pairwise_model_forward(tape, pairwise, x);
}

static void free_cnn(void *impl) { cnn_free(impl); }
static void free_pairwise(void *impl) { pairwise_model_free(impl); }
static void free_positions(void *impl) { position_model_free(impl); }
static void free_bag(void *impl) { bag_of_words_free(impl); }

/* ------------------------------------------------------------------------- */
/* Builders, one per family                                                   */
/* ------------------------------------------------------------------------- */

/* The stage 01 CNN and the deep CNN control; a language model pads causally. */
static bool build_cnn(Model *model, Rng *rng)
{
    const ModelSpec *s = &model->spec;
    CnnConfig config = {.vocab_size = s->vocab_size,
                        .width = s->width,
                        .layers = s->layers,
                        .classes = s->language_model ? s->vocab_size : s->classes,
                        .padding = s->language_model ? CONV_CAUSAL : CONV_SAME};
    Cnn *cnn = cnn_new(config, rng);
    if (!cnn)
        return false;
    model->impl = cnn;
    model->params = cnn->params;
    model->free_impl = free_cnn;
    model->forward = s->language_model ? cnn_next_word_forward : cnn_forward;
    return true;
}

/* Stage 02 (one-hot words) or stage 03 (one-hot words and positions). */
static bool build_pairwise(Model *model, Rng *rng)
{
    const ModelSpec *s = &model->spec;
    if (s->language_model || s->layers < 1 || s->layers > PAIRWISE_MAX_LAYERS)
        return false;
    model->owned_params = params_new();
    if (!model->owned_params)
        return false;
    model->params = model->owned_params;

    PairwiseConfig config = {.input_width = s->vocab_size,
                             .width = s->width,
                             .layers = s->layers,
                             .classes = s->classes};
    if (s->kind == MODEL_PAIRWISE) {
        model->impl = pairwise_model_new(&config, rng, model->params);
        model->forward = pairwise_words_forward;
        model->free_impl = free_pairwise;
    } else {
        model->impl = position_model_new(s->vocab_size, s->positions, &config, rng, model->params);
        model->forward = position_model_forward;
        model->free_impl = free_positions;
    }
    return model->impl != NULL;
}

/* The bag-of-words control; its width is the hidden layer's. */
static bool build_bag(Model *model, Rng *rng)
{
    const ModelSpec *s = &model->spec;
    if (s->language_model)
        return false;
    BagOfWords *bag = bag_of_words_new(s->vocab_size, s->width, s->classes, rng);
    if (!bag)
        return false;
    model->impl = bag;
    model->params = bag->params;
    model->free_impl = free_bag;
    model->forward = bag_of_words_forward;
    return true;
}

Model *model_new(const ModelSpec *spec, Rng *rng)
{
    Model *model = calloc(1, sizeof *model);
    if (!model)
        return NULL;
    model->spec = *spec;

    bool built = false;
    switch (spec->kind) {
    case MODEL_CNN:
    case MODEL_DEEP_CNN:
        built = build_cnn(model, rng);
        break;
    case MODEL_PAIRWISE:
    case MODEL_POSITIONS:
        built = build_pairwise(model, rng);
        break;
    case MODEL_SCORED_ATTENTION:
    case MODEL_LINEAR_ATTENTION:
    case MODEL_MULTI_HEAD:
    case MODEL_TRANSFORMER:
        built = attention_build(model, rng);
        break;
    case MODEL_BAG_OF_WORDS:
        built = build_bag(model, rng);
        break;
    case MODEL_KIND_COUNT:
        break;
    }
    if (!built) {
        model_free(model);
        return NULL;
    }
    if (model->param_count == 0)
        model->param_count = params_count_elements(model->params);
    return model;
}

void model_free(Model *model)
{
    if (!model)
        return;
    if (model->impl && model->free_impl)
        model->free_impl(model->impl);
    params_free(model->owned_params);
    free(model);
}

/* ------------------------------------------------------------------------- */
/* Parameter matching and costs                                               */
/* ------------------------------------------------------------------------- */

size_t model_param_count(const ModelSpec *spec)
{
    /* The weights' values do not matter for the count, so any seed will do. */
    Rng rng;
    rng_seed(&rng, 0, 0);
    Model *model = model_new(spec, &rng);
    if (!model)
        return 0;
    size_t count = model->param_count;
    model_free(model);
    return count;
}

/* Returns |a - b| for counts. */
static size_t count_distance(size_t a, size_t b) { return a > b ? a - b : b - a; }

/* Returns the parameter count at width step * multiple, or 0 when it does not build. */
static size_t count_at(ModelSpec spec, int multiple, int step)
{
    spec.width = multiple * step;
    return model_param_count(&spec);
}

size_t model_match_width(ModelSpec *spec, size_t target, int max_width)
{
    int step = spec->heads > 1 ? spec->heads : 1;
    int low = 1, high = max_width / step;
    if (high < 1 || count_at(*spec, low, step) == 0)
        return 0;

    /* Smallest multiple whose count reaches the target (or the largest one). */
    while (low < high) {
        int middle = low + (high - low) / 2;
        size_t count = count_at(*spec, middle, step);
        if (count != 0 && count < target)
            low = middle + 1;
        else
            high = middle;
    }

    /* The closest of that multiple and the one below it. */
    size_t above = count_at(*spec, low, step);
    size_t below = low > 1 ? count_at(*spec, low - 1, step) : 0;
    bool take_below =
        below != 0 && (above == 0 || count_distance(below, target) < count_distance(above, target));
    spec->width = (take_below ? low - 1 : low) * step;
    return take_below ? below : above;
}

int model_receptive_field(const ModelSpec *spec)
{
    if (spec->kind == MODEL_CNN || spec->kind == MODEL_DEEP_CNN)
        return cnn_receptive_field(spec->layers);
    return 0;
}

double model_cost_per_sentence(const ModelSpec *spec, int length)
{
    double n = length, d = spec->width, v = spec->vocab_size, l = spec->layers;
    double head = spec->language_model ? n * v * d : d * spec->classes;
    switch (spec->kind) {
    case MODEL_CNN:
    case MODEL_DEEP_CNN:
        return n * l * CNN_KERNEL * d * d + head;
    case MODEL_PAIRWISE:
    case MODEL_POSITIONS:
        return n * n * 2.0 * (v + spec->positions + d) * d + head;
    case MODEL_BAG_OF_WORDS:
        return n * v + v * d + head;
    default:
        return attention_cost_per_sentence(spec, length) + head;
    }
}
