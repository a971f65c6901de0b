/* The per-vector MLP that follows attention (see mlp.h). */
#include "06_linear_projections/mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

/* Maximum length of a layer name, so that "NAME.hidden_weight" fits the buffers below. */
#define MLP_NAME_MAX 100

/* Allocates a linear map's weight [rows, cols] and bias [rows] with PyTorch's default ranges. */
static void mlp_init_linear(Tensor **weight, Tensor **bias, int rows, int cols, Rng *rng)
{
    *weight = tensor_new(shape2(rows, cols), true);
    *bias = tensor_new(shape1(rows), true);
    init_linear_default(*weight, rng);
    init_uniform(*bias, rng, 1.0f / sqrtf((float)cols));
}

/* Adds t to params as "prefix.suffix"; a NULL list accepts everything. */
static bool mlp_add_param(ParamList *params, Tensor *t, const char *prefix, const char *suffix)
{
    if (!params)
        return true;
    char name[MLP_NAME_MAX + 32];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    return params_add(params, t, name);
}

/* Removes the last `count` entries of params, undoing mlp_add_param after a failure. */
static void mlp_drop_params(ParamList *params, size_t count)
{
    for (size_t i = 0; params && i < count && params->count > 0; i++) {
        params->count--;
        free(params->names[params->count]);
    }
}

Mlp *mlp_new(int in_width, int hidden_width, int out_width, MlpActivation activation,
             const char *name, Rng *rng, ParamList *params)
{
    if (in_width < 1 || hidden_width < 1 || out_width < 1)
        return NULL;
    if (activation != MLP_RELU && activation != MLP_GELU)
        return NULL;
    if (!name || name[0] == '\0' || strlen(name) > MLP_NAME_MAX)
        return NULL;
    Mlp *mlp = calloc(1, sizeof *mlp);
    if (!mlp)
        return NULL;

    mlp->in_width = in_width;
    mlp->hidden_width = hidden_width;
    mlp->out_width = out_width;
    mlp->activation = activation;
    mlp_init_linear(&mlp->hidden_weight, &mlp->hidden_bias, hidden_width, in_width, rng);
    mlp_init_linear(&mlp->out_weight, &mlp->out_bias, out_width, hidden_width, rng);

    /* Register all four or none, so that a failure leaves params as it was. */
    Tensor *tensors[4] = {mlp->hidden_weight, mlp->hidden_bias, mlp->out_weight, mlp->out_bias};
    const char *suffixes[4] = {"hidden_weight", "hidden_bias", "out_weight", "out_bias"};
    for (size_t i = 0; i < 4; i++) {
        if (!mlp_add_param(params, tensors[i], name, suffixes[i])) {
            mlp_drop_params(params, i);
            mlp_free(mlp);
            return NULL;
        }
    }
    return mlp;
}

void mlp_free(Mlp *mlp)
{
    if (!mlp)
        return;
    tensor_free(mlp->hidden_weight);
    tensor_free(mlp->hidden_bias);
    tensor_free(mlp->out_weight);
    tensor_free(mlp->out_bias);
    free(mlp);
}

/* x [..., Din] -> out [..., Dout]. */
Tensor *mlp_forward(Tape *tape, const Mlp *mlp, Tensor *x)
{
    /* 1. The first linear map widens each vector to Dh. */
    Tensor *hidden = op_linear(tape, x, mlp->hidden_weight, mlp->hidden_bias);

    /* 2. The non-linearity: the only one in a stage 06 layer. */
    hidden = mlp->activation == MLP_GELU ? op_gelu(tape, hidden) : op_relu(tape, hidden);

    /* 3. The second linear map brings each vector to Dout. */
    return op_linear(tape, hidden, mlp->out_weight, mlp->out_bias);
}

bool mlp_cost(uint64_t vectors, int in_width, int hidden_width, int out_width, uint64_t *count)
{
    if (in_width < 1 || hidden_width < 1 || out_width < 1)
        return false;

    /* Per vector: Din*Dh + Dh*Dout; every factor is below 2^31, so only the last product
     * can overflow. */
    uint64_t per_vector =
        (uint64_t)in_width * (uint64_t)hidden_width + (uint64_t)hidden_width * (uint64_t)out_width;
    if (vectors != 0 && per_vector > UINT64_MAX / vectors)
        return false;
    *count = vectors * per_vector;
    return true;
}

bool mlp_activation_from_name(const char *name, MlpActivation *activation)
{
    if (strcmp(name, "relu") == 0) {
        *activation = MLP_RELU;
        return true;
    }
    if (strcmp(name, "gelu") == 0) {
        *activation = MLP_GELU;
        return true;
    }
    return false;
}

const char *mlp_activation_name(MlpActivation activation)
{
    switch (activation) {
    case MLP_RELU:
        return "relu";
    case MLP_GELU:
        return "gelu";
    }
    return "unknown";
}
