/*
 * Weight initialisation (see init.h for the conventions).
 */
#include "init.h"

#include <math.h>

/* Returns the fan-in of a weight (its last dimension). Stops the program when
 * w has fewer than 2 dimensions. */
static int weight_fan_in(const Tensor *w, const char *function_name)
{
    if (w->shape.ndim < 2) {
        char shape_text[64];
        shape_format(w->shape, shape_text, sizeof shape_text);
        core_fatal("%s: weight %s has shape %s, expected [Dout, Din] or more dimensions",
                   function_name, w->name ? w->name : "(unnamed)", shape_text);
    }
    return tensor_cols(w);
}

void init_uniform(Tensor *t, Rng *rng, float bound)
{
    if (!(bound >= 0.0f) || !isfinite(bound))
        core_fatal("init_uniform: bound %g must be finite and >= 0", (double)bound);

    for (size_t i = 0; i < t->size; i++)
        t->data[i] = bound * (2.0f * rng_uniform(rng) - 1.0f);
}

void init_normal(Tensor *t, Rng *rng, float std)
{
    if (!(std >= 0.0f) || !isfinite(std))
        core_fatal("init_normal: standard deviation %g must be finite and >= 0", (double)std);

    for (size_t i = 0; i < t->size; i++)
        t->data[i] = std * rng_normal(rng);
}

void init_linear_default(Tensor *w, Rng *rng)
{
    int fan_in = weight_fan_in(w, "init_linear_default");
    init_uniform(w, rng, 1.0f / sqrtf((float)fan_in));
}

void init_he_normal(Tensor *w, Rng *rng)
{
    int fan_in = weight_fan_in(w, "init_he_normal");
    init_normal(w, rng, sqrtf(2.0f / (float)fan_in));
}

void init_constant(Tensor *t, float value)
{
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = value;
}
