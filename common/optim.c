/*
 * Parameter lists, SGD and Adam (see optim.h for the formulas and the
 * floating-point conventions).
 */
#include "optim.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Slots of a new parameter list, which doubles its slots when full. */
#define PARAMS_INITIAL_CAPACITY 16

/* Added to the norm before dividing, as in PyTorch 1.13's clip_grad_norm_. */
#define CLIP_NORM_EPSILON 1e-6

/* ------------------------------------------------------------------------- */
/* Parameter lists                                                            */
/* ------------------------------------------------------------------------- */

ParamList *params_new(void)
{
    ParamList *params = calloc(1, sizeof *params);
    if (!params)
        return NULL;

    params->tensors = calloc(PARAMS_INITIAL_CAPACITY, sizeof *params->tensors);
    params->names = calloc(PARAMS_INITIAL_CAPACITY, sizeof *params->names);
    if (!params->tensors || !params->names) {
        params_free(params);
        return NULL;
    }
    params->capacity = PARAMS_INITIAL_CAPACITY;
    return params;
}

/* Returns true when t or a tensor named name is already in the list. */
static bool params_contains(const ParamList *params, const Tensor *t, const char *name)
{
    for (size_t i = 0; i < params->count; i++) {
        if (params->tensors[i] == t || strcmp(params->names[i], name) == 0)
            return true;
    }
    return false;
}

/* Doubles the capacity; returns false, with the list unchanged, when memory runs out. */
static bool params_grow(ParamList *params)
{
    size_t capacity = params->capacity * 2;
    Tensor **tensors = realloc(params->tensors, capacity * sizeof *tensors);
    if (!tensors)
        return false;
    params->tensors = tensors;

    char **names = realloc(params->names, capacity * sizeof *names);
    if (!names)
        return false;
    params->names = names;
    params->capacity = capacity;
    return true;
}

bool params_add(ParamList *params, Tensor *t, const char *name)
{
    if (!t || !t->grad || !name || name[0] == '\0' || params_contains(params, t, name))
        return false;
    if (params->count == params->capacity && !params_grow(params))
        return false;

    size_t name_bytes = strlen(name) + 1;
    char *name_copy = malloc(name_bytes);
    if (!name_copy)
        return false;
    memcpy(name_copy, name, name_bytes);

    params->tensors[params->count] = t;
    params->names[params->count] = name_copy;
    params->count++;
    return true;
}

void params_free(ParamList *params)
{
    if (!params)
        return;
    for (size_t i = 0; i < params->count; i++)
        free(params->names[i]);
    free(params->names);
    free(params->tensors);
    free(params);
}

size_t params_count_elements(const ParamList *params)
{
    size_t total = 0;
    for (size_t i = 0; i < params->count; i++)
        total += params->tensors[i]->size;
    return total;
}

void params_zero_grad(ParamList *params)
{
    for (size_t i = 0; i < params->count; i++)
        tensor_zero_grad(params->tensors[i]);
}

double params_grad_norm(const ParamList *params)
{
    double sum_squares = 0.0;
    for (size_t i = 0; i < params->count; i++) {
        const Tensor *t = params->tensors[i];
        for (size_t j = 0; j < t->size; j++)
            sum_squares += (double)t->grad[j] * (double)t->grad[j];
    }
    return sqrt(sum_squares);
}

double params_clip_grad_norm(ParamList *params, double max_norm)
{
    double norm = params_grad_norm(params);
    if (!isfinite(norm) || norm <= max_norm)
        return norm;

    float scale = (float)(max_norm / (norm + CLIP_NORM_EPSILON));
    for (size_t i = 0; i < params->count; i++) {
        Tensor *t = params->tensors[i];
        for (size_t j = 0; j < t->size; j++)
            t->grad[j] *= scale;
    }
    return norm;
}

/* Returns true when every one of values[0 .. count-1] is finite. */
static bool floats_all_finite(const float *values, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(values[i]))
            return false;
    }
    return true;
}

const char *params_all_finite(const ParamList *params)
{
    for (size_t i = 0; i < params->count; i++) {
        const Tensor *t = params->tensors[i];
        if (!floats_all_finite(t->data, t->size) || !floats_all_finite(t->grad, t->size))
            return params->names[i];
    }
    return NULL;
}

/* Stops the program when the list changed since the optimiser was created. */
static void check_param_count(const char *optimiser, const ParamList *params, size_t expected)
{
    if (params->count != expected)
        core_fatal("%s: the parameter list has %zu tensors but had %zu when the optimiser "
                   "was created; create the optimiser after the last params_add",
                   optimiser, params->count, expected);
}

/* Allocates count zero-filled floats, or returns NULL (also when the size overflows). */
static float *allocate_floats(size_t count)
{
    if (count > SIZE_MAX / sizeof(float))
        return NULL;
    return calloc(count > 0 ? count : 1, sizeof(float));
}

/* ------------------------------------------------------------------------- */
/* SGD with momentum                                                          */
/* ------------------------------------------------------------------------- */

Sgd *sgd_new(const ParamList *params, double lr, double momentum)
{
    if (!(lr >= 0.0) || !isfinite(lr) || !(momentum >= 0.0 && momentum < 1.0))
        return NULL;

    Sgd *sgd = calloc(1, sizeof *sgd);
    if (!sgd)
        return NULL;
    sgd->velocity = allocate_floats(params_count_elements(params));
    if (!sgd->velocity) {
        free(sgd);
        return NULL;
    }
    sgd->params = params;
    sgd->lr = lr;
    sgd->momentum = momentum;
    sgd->param_count = params->count;
    return sgd;
}

void sgd_step(Sgd *sgd)
{
    const ParamList *params = sgd->params;
    check_param_count("sgd_step", params, sgd->param_count);
    const float lr = (float)sgd->lr;
    const float momentum = (float)sgd->momentum;

    float *velocity = sgd->velocity;
    for (size_t i = 0; i < params->count; i++) {
        Tensor *t = params->tensors[i];
        for (size_t j = 0; j < t->size; j++) {
            float decayed = momentum * velocity[j];
            velocity[j] = decayed + t->grad[j];
            float change = lr * velocity[j];
            t->data[j] -= change;
        }
        velocity += t->size;
    }
}

void sgd_free(Sgd *sgd)
{
    if (!sgd)
        return;
    free(sgd->velocity);
    free(sgd);
}

/* ------------------------------------------------------------------------- */
/* Adam                                                                       */
/* ------------------------------------------------------------------------- */

AdamOptions adam_default_options(void)
{
    return (AdamOptions){
        .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.0};
}

/* Returns true when the options are in the ranges documented in optim.h. */
static bool adam_options_valid(AdamOptions options)
{
    bool lr_valid = options.lr >= 0.0 && isfinite(options.lr);
    bool betas_valid =
        options.beta1 >= 0.0 && options.beta1 < 1.0 && options.beta2 >= 0.0 && options.beta2 < 1.0;
    bool eps_valid = options.eps >= 0.0 && isfinite(options.eps);
    bool decay_valid = options.weight_decay >= 0.0 && isfinite(options.weight_decay);
    return lr_valid && betas_valid && eps_valid && decay_valid;
}

Adam *adam_new(const ParamList *params, AdamOptions options)
{
    if (!adam_options_valid(options))
        return NULL;

    Adam *adam = calloc(1, sizeof *adam);
    if (!adam)
        return NULL;
    size_t elements = params_count_elements(params);
    adam->m = allocate_floats(elements);
    adam->v = allocate_floats(elements);
    if (!adam->m || !adam->v) {
        adam_free(adam);
        return NULL;
    }
    adam->params = params;
    adam->options = options;
    adam->param_count = params->count;
    return adam;
}

/* The per-step constants of Adam's update, rounded to float as PyTorch does. */
typedef struct AdamStepConstants {
    float beta1, one_minus_beta1; /* decay and weight of the new gradient in m */
    float beta2, one_minus_beta2; /* the same for v */
    float eps;                    /* added to the denominator */
    float weight_decay;           /* weight of the value added to the gradient */
    float step_size;              /* lr / (1 - beta1^t) */
    float correction2_sqrt;       /* sqrt(1 - beta2^t) */
} AdamStepConstants;

static AdamStepConstants adam_step_constants(const AdamOptions *options, long step)
{
    /* The bias corrections are computed in double, as PyTorch computes them
     * from Python floats. */
    double correction1 = 1.0 - pow(options->beta1, (double)step);
    double correction2 = 1.0 - pow(options->beta2, (double)step);

    AdamStepConstants c;
    c.beta1 = (float)options->beta1;
    c.one_minus_beta1 = (float)(1.0 - options->beta1);
    c.beta2 = (float)options->beta2;
    c.one_minus_beta2 = (float)(1.0 - options->beta2);
    c.eps = (float)options->eps;
    c.weight_decay = (float)options->weight_decay;
    c.step_size = (float)(options->lr / correction1);
    c.correction2_sqrt = (float)sqrt(correction2);
    return c;
}

/* Updates one tensor's values and its moments m, v [t->size]. One operation
 * per statement, in PyTorch 1.13's order, so that no build fuses them. */
static void adam_update_tensor(Tensor *t, float *m, float *v, const AdamStepConstants *c)
{
    for (size_t j = 0; j < t->size; j++) {
        float g = t->grad[j];
        if (c->weight_decay != 0.0f) {
            float decay = c->weight_decay * t->data[j];
            g = g + decay;
        }

        float m_old = m[j] * c->beta1;
        float m_new = c->one_minus_beta1 * g;
        m[j] = m_old + m_new;

        float v_old = v[j] * c->beta2;
        float v_new = c->one_minus_beta2 * g;
        v_new = v_new * g;
        v[j] = v_old + v_new;

        float root = sqrtf(v[j]);
        float denom = root / c->correction2_sqrt;
        denom = denom + c->eps;
        float scaled = c->step_size * m[j];
        float change = scaled / denom;
        t->data[j] -= change;
    }
}

void adam_step(Adam *adam)
{
    const ParamList *params = adam->params;
    check_param_count("adam_step", params, adam->param_count);

    adam->step++;
    AdamStepConstants constants = adam_step_constants(&adam->options, adam->step);

    size_t offset = 0;
    for (size_t i = 0; i < params->count; i++) {
        Tensor *t = params->tensors[i];
        adam_update_tensor(t, adam->m + offset, adam->v + offset, &constants);
        offset += t->size;
    }
}

void adam_free(Adam *adam)
{
    if (!adam)
        return;
    free(adam->m);
    free(adam->v);
    free(adam);
}
