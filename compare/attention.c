/* The attention stages as models of the comparison (see attention.h). */
#include "attention.h"

bool attention_build(Model *model, Rng *rng)
{
    (void)model;
    (void)rng;
    return false;
}

double attention_cost_per_sentence(const ModelSpec *spec, int length)
{
    double n = length, d = spec->width;
    return spec->layers * (n * 12.0 * d * d + 2.0 * n * n * d);
}
