/*
 * Stage 02: the pair net, the pairwise layer and the vector count (contracts
 * in pairwise.h).
 */
#include "02_pairwise_convolution/pairwise.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

/* Maximum length of a parameter name that pair_net_new writes, such as "pair_net12.weight". */
#define PAIR_NET_NAME_BYTES 48

/* Returns whether @p params already contains a tensor called @p name. */
static bool params_has_name(const ParamList *params, const char *name)
{
    for (size_t i = 0; i < params->count; i++)
        if (strcmp(params->names[i], name) == 0)
            return true;
    return false;
}

/*
 * Adds the net's weight and bias to @p params as "pair_netI.weight" and
 * "pair_netI.bias", with I the smallest number from 1 not yet in the list.
 */
static bool add_pair_net_params(ParamList *params, PairNet *net)
{
    char weight_name[PAIR_NET_NAME_BYTES];
    char bias_name[PAIR_NET_NAME_BYTES];
    for (int i = 1;; i++) {
        snprintf(weight_name, sizeof weight_name, "pair_net%d.weight", i);
        if (!params_has_name(params, weight_name))
            break;
    }
    snprintf(bias_name, sizeof bias_name, "%.*s.bias",
             (int)(strlen(weight_name) - strlen(".weight")), weight_name);

    if (!params_add(params, net->weight, weight_name))
        return false;
    if (!params_add(params, net->bias, bias_name)) {
        params->count--; /* the weight was the last entry: take it back out */
        free(params->names[params->count]);
        return false;
    }
    return true;
}

PairNet *pair_net_new(int in_width, int out_width, Rng *rng, ParamList *params)
{
    if (in_width < 1 || out_width < 1 || in_width > INT_MAX / 2)
        return NULL;
    PairNet *net = malloc(sizeof *net);
    if (!net)
        return NULL;

    /* PyTorch's nn.Linear default: weight and bias uniform in +-1/sqrt(fan-in). */
    net->weight = tensor_new(shape2(out_width, 2 * in_width), true);
    net->bias = tensor_new(shape1(out_width), true);
    net->weight->name = "pair_net.weight";
    net->bias->name = "pair_net.bias";
    init_linear_default(net->weight, rng);
    init_uniform(net->bias, rng, 1.0f / sqrtf((float)(2 * in_width)));

    if (params && !add_pair_net_params(params, net)) {
        pair_net_free(net);
        return NULL;
    }
    return net;
}

void pair_net_free(PairNet *net)
{
    if (!net)
        return;
    tensor_free(net->weight);
    tensor_free(net->bias);
    free(net);
}

Tensor *pair_net_forward(Tape *tape, const PairNet *net, Tensor *pairs)
{
    /* Shapes: pairs [B, m, 2*Din], out [B, m, Dout]. */
    Tensor *pre = op_linear(tape, pairs, net->weight, net->bias);
    return op_relu(tape, pre);
}

Tensor *pairwise_layer_forward(Tape *tape, const PairNet *net, Tensor *x)
{
    /* Shapes: x [B, m, Din], pairs [B, m*m, 2*Din], out [B, m*m, Dout]. */
    Tensor *pairs = op_pairwise(tape, x);
    return pair_net_forward(tape, net, pairs);
}

bool pairwise_vector_count(size_t words, int layers, size_t *count)
{
    if (layers < 0)
        return false;

    /* Each layer squares the count; 0 and 1 stay fixed, so stop early. */
    size_t vectors = words;
    for (int l = 0; l < layers && vectors > 1; l++) {
        if (vectors > SIZE_MAX / vectors)
            return false;
        vectors *= vectors;
    }
    *count = vectors;
    return true;
}

/* ------------------------------------------------------------------------- */
/* The size guard                                                             */
/* ------------------------------------------------------------------------- */

/* Sets *product = a * b and returns true, or returns false when it overflows size_t. */
static bool multiply_sizes(size_t a, size_t b, size_t *product)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *product = a * b;
    return true;
}

/* Sets *sum = a + b and returns true, or returns false when it overflows size_t. */
static bool add_sizes(size_t a, size_t b, size_t *sum)
{
    if (b > SIZE_MAX - a)
        return false;
    *sum = a + b;
    return true;
}

/* Returns whether every size of the request is in range. */
static bool request_valid(const PairwiseRequest *request)
{
    return request->batch >= 1 && request->words >= 1 && request->layers >= 0 &&
           request->input_width >= 1 && request->width >= 1;
}

bool pairwise_forward_size(const PairwiseRequest *request, PairwiseSize *size)
{
    if (!request_valid(request))
        return false;

    /* Layer l turns m vectors into m^2 pairs [2*Din], a linear output [D] and a relu output [D]. */
    size_t vectors = request->words;
    size_t in_width = (size_t)request->input_width;
    size_t width = (size_t)request->width;
    size_t floats = 0;
    for (int l = 1; l <= request->layers; l++) {
        size_t per_vector = 2 * in_width + 2 * width; /* both are below 2^32, so no overflow */
        size_t layer_floats;
        if (!multiply_sizes(vectors, vectors, &vectors) ||
            !multiply_sizes(request->batch, vectors, &layer_floats) ||
            !multiply_sizes(layer_floats, per_vector, &layer_floats) ||
            !add_sizes(floats, layer_floats, &floats))
            return false;
        in_width = width;
    }

    /* Gradients have the shape of their values. */
    size_t bytes;
    if (!multiply_sizes(floats, sizeof(float) * (request->gradients ? 2 : 1), &bytes))
        return false;
    size->vectors = vectors;
    size->bytes = bytes;
    return true;
}

/* Computes the same numbers as pairwise_forward_size in double, for messages about overflow. */
static void approximate_forward_size(const PairwiseRequest *request, double *vectors, double *bytes)
{
    double count = (double)request->words;
    double in_width = request->input_width;
    double floats = 0.0;
    for (int l = 1; l <= request->layers; l++) {
        count *= count;
        floats += (double)request->batch * count * (2.0 * in_width + 2.0 * request->width);
        in_width = request->width;
    }
    *vectors = count;
    *bytes = floats * sizeof(float) * (request->gradients ? 2 : 1);
}

/* Writes "n^e" for the count words^(2^layers) into text, or "n^(2^L)" when 2^L is too large. */
static void format_power(const PairwiseRequest *request, char *text, size_t text_size)
{
    if (request->layers < 63)
        snprintf(text, text_size, "%zu^%llu", request->words, 1ULL << request->layers);
    else
        snprintf(text, text_size, "%zu^(2^%d)", request->words, request->layers);
}

bool pairwise_check_size(const PairwiseRequest *request, PairwiseSize *size, char *error,
                         size_t error_size)
{
    char power[64];
    char limits[160];
    format_power(request, power, sizeof power);
    snprintf(
        limits, sizeof limits,
        "the limit is %zu vectors (2^26) and %zu bytes (1 GiB): use fewer words or fewer layers",
        PAIRWISE_MAX_VECTORS, PAIRWISE_MAX_BYTES);

    if (!request_valid(request)) {
        snprintf(error, error_size,
                 "invalid pairwise request: batch, words, widths must be >= 1 "
                 "and layers >= 0");
        return false;
    }

    /* An overflowing count or byte number can only be given approximately. */
    PairwiseSize exact;
    size_t count;
    bool count_fits = pairwise_vector_count(request->words, request->layers, &count);
    if (!count_fits || !pairwise_forward_size(request, &exact)) {
        double approx_vectors, approx_bytes;
        approximate_forward_size(request, &approx_vectors, &approx_bytes);
        char vectors_text[160];
        if (count_fits)
            snprintf(vectors_text, sizeof vectors_text, "%s = %zu", power, count);
        else
            snprintf(vectors_text, sizeof vectors_text, "%s (about %.3g)", power, approx_vectors);
        snprintf(error, error_size,
                 "%d layers on %zu words need %s vectors and about %.3g bytes; the %s count "
                 "overflows size_t (largest value %zu), and %s",
                 request->layers, request->words, vectors_text, approx_bytes,
                 count_fits ? "byte" : "vector", SIZE_MAX, limits);
        return false;
    }

    if (exact.vectors > PAIRWISE_MAX_VECTORS || exact.bytes > PAIRWISE_MAX_BYTES) {
        snprintf(error, error_size,
                 "%d layers on %zu words need %s = %zu vectors and %zu bytes; %s", request->layers,
                 request->words, power, exact.vectors, exact.bytes, limits);
        return false;
    }
    if (size)
        *size = exact;
    return true;
}

/* ------------------------------------------------------------------------- */
/* The stage 02 model                                                         */
/* ------------------------------------------------------------------------- */

/* Removes the entries added to @p params after it held @p count, freeing their names. */
static void params_truncate(ParamList *params, size_t count)
{
    while (params && params->count > count) {
        params->count--;
        free(params->names[params->count]);
    }
}

/* Returns whether every size of @p config is in range. */
static bool config_valid(const PairwiseConfig *config)
{
    return config->input_width >= 1 && config->input_width <= INT_MAX / 2 && config->width >= 1 &&
           config->width <= INT_MAX / 2 && config->layers >= 1 &&
           config->layers <= PAIRWISE_MAX_LAYERS && config->classes >= 1;
}

/* Allocates the prediction's weight [C, D] and bias [C] and adds them to @p params. */
static bool add_prediction(PairwiseModel *model, Rng *rng, ParamList *params)
{
    int width = model->config.width;
    model->out_weight = tensor_new(shape2(model->config.classes, width), true);
    model->out_bias = tensor_new(shape1(model->config.classes), true);
    model->out_weight->name = "prediction.weight";
    model->out_bias->name = "prediction.bias";
    init_linear_default(model->out_weight, rng);
    init_uniform(model->out_bias, rng, 1.0f / sqrtf((float)width));

    if (!params)
        return true;
    return params_add(params, model->out_weight, "prediction.weight") &&
           params_add(params, model->out_bias, "prediction.bias");
}

PairwiseModel *pairwise_model_new(const PairwiseConfig *config, Rng *rng, ParamList *params)
{
    if (!config_valid(config))
        return NULL;
    PairwiseModel *model = calloc(1, sizeof *model);
    if (!model)
        return NULL;
    model->config = *config;
    size_t params_before = params ? params->count : 0;

    /* Layer 1 reads the input vectors, every later layer the D-wide vectors before it. */
    bool ok = true;
    for (int l = 0; l < config->layers && ok; l++) {
        int in_width = l == 0 ? config->input_width : config->width;
        model->nets[l] = pair_net_new(in_width, config->width, rng, params);
        ok = model->nets[l] != NULL;
    }
    ok = ok && add_prediction(model, rng, params);

    if (!ok) {
        params_truncate(params, params_before);
        pairwise_model_free(model);
        return NULL;
    }
    return model;
}

void pairwise_model_free(PairwiseModel *model)
{
    if (!model)
        return;
    for (int l = 0; l < PAIRWISE_MAX_LAYERS; l++)
        pair_net_free(model->nets[l]);
    tensor_free(model->out_weight);
    tensor_free(model->out_bias);
    free(model);
}

Tensor *pairwise_model_vectors(Tape *tape, const PairwiseModel *model, Tensor *x)
{
    /* Shapes: x [B, n, Din]; after layer l, [B, n^(2^l), D]. */
    Tensor *h = x;
    for (int l = 0; l < model->config.layers; l++)
        h = pairwise_layer_forward(tape, model->nets[l], h);
    return h;
}

Tensor *pairwise_model_predict(Tape *tape, const PairwiseModel *model, Tensor *vectors)
{
    /* Shapes: vectors [B, m, D], mean [B, D], out [B, C]. */
    Tensor *mean = op_mean_positions(tape, vectors);
    return op_linear(tape, mean, model->out_weight, model->out_bias);
}

Tensor *pairwise_model_forward(Tape *tape, const PairwiseModel *model, Tensor *x)
{
    return pairwise_model_predict(tape, model, pairwise_model_vectors(tape, model, x));
}

Tensor *pairwise_model_forward_checked(Tape *tape, const PairwiseModel *model, Tensor *x,
                                       char *error, size_t error_size)
{
    /* Shapes: x [B, n, Din], or [n, Din] for one sentence. */
    bool one_sentence = x->shape.ndim == 2;
    PairwiseRequest request = {
        .batch = one_sentence ? 1 : (size_t)x->shape.dim[0],
        .words = (size_t)x->shape.dim[one_sentence ? 0 : 1],
        .layers = model->config.layers,
        .input_width = tensor_cols(x),
        .width = model->config.width,
        .gradients = tape->grad_enabled,
    };
    if (!pairwise_check_size(&request, NULL, error, error_size))
        return NULL;
    return pairwise_model_forward(tape, model, x);
}

Tensor *pairwise_onehot_words(Tape *tape, const int *ids, int batch, int length, int vocab_size)
{
    if (batch < 1 || length < 1 || batch > INT_MAX / length)
        core_fatal("pairwise_onehot_words: %d sentences of %d words do not fit in an int count",
                   batch, length);
    Tensor *rows = op_onehot(tape, ids, batch * length, vocab_size);
    return op_reshape(tape, rows, shape3(batch, length, vocab_size));
}

/* ------------------------------------------------------------------------- */
/* The tree-shaped CNN the pairwise model equals                              */
/* ------------------------------------------------------------------------- */

Tensor *pairwise_index_sequences(Tape *tape, Tensor *x, int layers)
{
    /* Shapes: x [n, Din] or [1, n, Din]. */
    bool one_sentence = x->shape.ndim == 2 || (x->shape.ndim == 3 && x->shape.dim[0] == 1);
    if (!one_sentence || layers < 0 || layers > 30)
        return NULL;
    size_t words = (size_t)x->shape.dim[x->shape.ndim - 2];
    size_t width = (size_t)tensor_cols(x);
    size_t length = (size_t)1 << layers;

    /* T = n^(2^L) sequences of 2^L vectors of width Din, capped like a forward pass. */
    size_t count, floats;
    if (!pairwise_vector_count(words, layers, &count) || !multiply_sizes(count, length, &floats) ||
        !multiply_sizes(floats, width, &floats) || floats > PAIRWISE_MAX_BYTES / sizeof(float))
        return NULL;
    Tensor *out = tape_tensor(tape, shape3((int)count, (int)length, (int)width), false);

    /* Sequence i, place j: the vector whose index is base-n digit j of i, most significant first.
     */
    for (size_t i = 0; i < count; i++) {
        size_t rest = i;
        for (size_t j = length; j-- > 0;) {
            size_t index = rest % words;
            rest /= words;
            memcpy(out->data + (i * length + j) * width, x->data + index * width,
                   width * sizeof(float));
        }
    }
    return out;
}

Tensor *pairwise_tree_cnn_forward(Tape *tape, const PairwiseModel *model, Tensor *sequences)
{
    /* Shapes: sequences [T, 2^L, Din]. */
    int layers = model->config.layers;
    if (sequences->shape.ndim != 3 || sequences->shape.dim[1] != 1 << layers ||
        sequences->shape.dim[2] != model->config.input_width)
        core_fatal("pairwise_tree_cnn_forward: sequences must be [T, %d, %d] for this model",
                   1 << layers, model->config.input_width);
    int count = sequences->shape.dim[0];

    /* Level l: windows of 2 vectors at stride 2, [T, 2s, W] read as [T, s, 2W], then the pair net.
     */
    Tensor *h = sequences;
    int length = 1 << layers;
    for (int l = 0; l < layers; l++) {
        length /= 2;
        h = op_reshape(tape, h, shape3(count, length, 2 * tensor_cols(h)));
        h = pair_net_forward(tape, model->nets[l], h);
    }
    return op_reshape(tape, h, shape2(count, model->config.width));
}
