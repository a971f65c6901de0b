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

/* Longest parameter name pair_net_new writes, such as "pair_net12.weight". */
#define PAIR_NET_NAME_BYTES 48

/* Returns whether @p params already holds a tensor called @p name. */
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
