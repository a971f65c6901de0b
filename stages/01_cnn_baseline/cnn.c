/* The stage 01 CNN classifier (see cnn.h). */
#include "01_cnn_baseline/cnn.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "init.h"

/* Room for a parameter name such as "conv12.weight". */
#define PARAM_NAME_BYTES 64

/* ------------------------------------------------------------------------- */
/* One convolutional layer                                                    */
/* ------------------------------------------------------------------------- */

/* Adds "PREFIX.SUFFIX" to params; returns false when the name is too long or adding fails. */
static bool add_named(ParamList *params, Tensor *t, const char *prefix, const char *suffix)
{
    char name[PARAM_NAME_BYTES];
    int length = snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    if (length < 0 || (size_t)length >= sizeof name)
        return false;
    return params_add(params, t, name);
}

ConvLayer *conv_layer_new(int width, Rng *rng, ParamList *params, const char *name)
{
    if (width < 1 || width > INT_MAX / CNN_KERNEL / width || !name)
        return NULL;
    ConvLayer *layer = calloc(1, sizeof *layer);
    if (!layer)
        return NULL;

    /* He initialisation keeps the activations' scale through the ReLUs of deep stacks. */
    layer->weight = tensor_new(shape2(width, CNN_KERNEL * width), true);
    layer->bias = tensor_new(shape1(width), true);
    init_he_normal(layer->weight, rng);
    init_constant(layer->bias, 0.0f);

    if (params) {
        size_t count_before = params->count;
        if (!add_named(params, layer->weight, name, "weight") ||
            !add_named(params, layer->bias, name, "bias")) {
            /* Leave the list as it was: drop the weight if only the bias failed. */
            while (params->count > count_before)
                free(params->names[--params->count]);
            conv_layer_free(layer);
            return NULL;
        }
    }
    return layer;
}

void conv_layer_free(ConvLayer *layer)
{
    if (!layer)
        return;
    tensor_free(layer->weight);
    tensor_free(layer->bias);
    free(layer);
}

Tensor *conv_layer_forward(Tape *tape, const ConvLayer *layer, Tensor *x, ConvPadding padding)
{
    /* Shapes: x [B, n, D] -> windows of 3 through one linear net -> [B, n, D]. */
    Tensor *pre = op_conv1d(tape, x, layer->weight, layer->bias, CNN_KERNEL, padding);
    return op_relu(tape, pre);
}

/* ------------------------------------------------------------------------- */
/* The classifier                                                             */
/* ------------------------------------------------------------------------- */

/* Returns whether every size is in range and every tensor's element count fits in an int. */
static bool cnn_config_valid(CnnConfig c)
{
    if (c.vocab_size < 1 || c.width < 1 || c.layers < 0 || c.classes < 1)
        return false;
    if (c.padding != CONV_SAME && c.padding != CONV_CAUSAL)
        return false;
    if (c.width > INT_MAX / CNN_KERNEL / c.width)
        return false;
    return c.vocab_size <= INT_MAX / c.width && c.classes <= INT_MAX / c.width;
}

/* Allocates the embedding table, draws it and adds it to the list. */
static bool cnn_add_embedding(Cnn *cnn, Rng *rng)
{
    CnnConfig c = cnn->config;
    cnn->embedding = tensor_new(shape2(c.vocab_size, c.width), true);
    init_normal(cnn->embedding, rng, 1.0f);
    return params_add(cnn->params, cnn->embedding, "embedding");
}

/* Allocates the final linear layer, draws it as PyTorch's nn.Linear and adds it to the list. */
static bool cnn_add_output(Cnn *cnn, Rng *rng)
{
    CnnConfig c = cnn->config;
    cnn->out_weight = tensor_new(shape2(c.classes, c.width), true);
    cnn->out_bias = tensor_new(shape1(c.classes), true);
    init_linear_default(cnn->out_weight, rng);
    init_uniform(cnn->out_bias, rng, 1.0f / sqrtf((float)c.width));
    return params_add(cnn->params, cnn->out_weight, "output.weight") &&
           params_add(cnn->params, cnn->out_bias, "output.bias");
}

Cnn *cnn_new(CnnConfig config, Rng *rng)
{
    if (!cnn_config_valid(config))
        return NULL;
    Cnn *cnn = calloc(1, sizeof *cnn);
    if (!cnn)
        return NULL;
    cnn->config = config;
    cnn->params = params_new();
    cnn->layers = calloc((size_t)config.layers + 1, sizeof *cnn->layers);
    if (!cnn->params || !cnn->layers || !cnn_add_embedding(cnn, rng)) {
        cnn_free(cnn);
        return NULL;
    }

    /* The layers, input side first, named conv1, conv2, ... */
    for (int l = 0; l < config.layers; l++) {
        char name[PARAM_NAME_BYTES];
        snprintf(name, sizeof name, "conv%d", l + 1);
        cnn->layers[l] = conv_layer_new(config.width, rng, cnn->params, name);
        if (!cnn->layers[l]) {
            cnn_free(cnn);
            return NULL;
        }
    }

    if (!cnn_add_output(cnn, rng)) {
        cnn_free(cnn);
        return NULL;
    }
    return cnn;
}

void cnn_free(Cnn *cnn)
{
    if (!cnn)
        return;
    params_free(cnn->params);
    if (cnn->layers)
        for (int l = 0; l < cnn->config.layers; l++)
            conv_layer_free(cnn->layers[l]);
    free(cnn->layers);
    tensor_free(cnn->embedding);
    tensor_free(cnn->out_weight);
    tensor_free(cnn->out_bias);
    free(cnn);
}

/* Stops the program unless batch * length is a positive count that fits in an int. */
static int checked_word_count(const char *function, int batch, int length)
{
    if (batch < 1 || length < 1 || batch > INT_MAX / length)
        core_fatal("%s: expects batch >= 1 and length >= 1 with batch * length <= %d, "
                   "got batch %d and length %d",
                   function, INT_MAX, batch, length);
    return batch * length;
}

Tensor *cnn_embed(Tape *tape, const Cnn *cnn, const int *ids, int batch, int length)
{
    int count = checked_word_count("cnn_embed", batch, length);
    Tensor *rows = op_embedding(tape, cnn->embedding, ids, count);
    return op_reshape(tape, rows, shape3(batch, length, cnn->config.width));
}

Tensor *cnn_embed_onehot(Tape *tape, const Cnn *cnn, const int *ids, int batch, int length)
{
    int count = checked_word_count("cnn_embed_onehot", batch, length);

    /* [B*n, V] one-hot rows times the [V, D] table selects one row per word. */
    Tensor *onehot = op_onehot(tape, ids, count, cnn->config.vocab_size);
    Tensor *rows = op_matmul(tape, onehot, cnn->embedding, false, false);
    return op_reshape(tape, rows, shape3(batch, length, cnn->config.width));
}

Tensor *cnn_features(Tape *tape, const Cnn *cnn, const int *ids, int batch, int length)
{
    Tensor *x = cnn_embed(tape, cnn, ids, batch, length);
    for (int l = 0; l < cnn->config.layers; l++)
        x = conv_layer_forward(tape, cnn->layers[l], x, cnn->config.padding);
    return x;
}

Tensor *cnn_forward(Tape *tape, void *model, const int *ids, int batch, int length)
{
    const Cnn *cnn = model;

    /* [B, n, D] features -> [B, D] sentence vectors -> [B, C] logits. */
    Tensor *features = cnn_features(tape, cnn, ids, batch, length);
    Tensor *pooled = op_mean_positions(tape, features);
    return op_linear(tape, pooled, cnn->out_weight, cnn->out_bias);
}

int cnn_receptive_field(int layers) { return layers * (CNN_KERNEL - 1) + 1; }

/* Sets *product = a * b; returns false when it overflows size_t. */
static bool multiply_size(size_t a, size_t b, size_t *product)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *product = a * b;
    return true;
}

bool cnn_multiply_adds(CnnConfig config, int length, size_t *count)
{
    if (length < 0 || config.layers < 0 || config.width < 0 || config.classes < 0)
        return false;
    size_t width = (size_t)config.width;

    /* Each of the n * L outputs is a [D, 3D] matrix times a 3D window. */
    size_t layers = 0, output = 0;
    if (!multiply_size((size_t)length, (size_t)config.layers, &layers) ||
        !multiply_size(layers, CNN_KERNEL * width, &layers) ||
        !multiply_size(layers, width, &layers) ||
        !multiply_size((size_t)config.classes, width, &output) || layers > SIZE_MAX - output)
        return false;
    *count = layers + output;
    return true;
}
