/* Central-difference gradient checker (see gradcheck.h). */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Mismatches printed per check before the rest are only counted. */
#define GRADCHECK_PRINT_LIMIT 5

GradcheckOptions gradcheck_default_options(void)
{
    return (GradcheckOptions){.eps = 1e-2f, .tol_abs = 1e-3, .tol_rel = 1e-2};
}

/*
 * The fixed weight of output element i: a hash of i mapped into [0.5, 1.5]
 * with a sign, so every element counts and no two elements are alike.
 */
static double probe_weight(size_t i)
{
    unsigned long long h = (unsigned long long)i * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    double unit = (double)(h % 1000003ull) / 1000003.0; /* [0, 1) */
    double magnitude = 0.5 + unit;
    return (h & 1ull) ? magnitude : -magnitude;
}

/* Runs f on a fresh tape and returns L = sum_i out_i * w_i in double. */
static double probe_loss(Tape *tape, GradcheckFn f, Tensor **inputs, void *context)
{
    tape_reset(tape);
    Tensor *out = f(tape, inputs, context);
    double loss = 0.0;
    for (size_t i = 0; i < out->size; i++)
        loss += (double)out->data[i] * probe_weight(i);
    return loss;
}

/* Runs f and backward with d(L)/d(out_i) = w_i, leaving analytic gradients in the inputs. */
static void analytic_gradients(Tape *tape, GradcheckFn f, Tensor **inputs, int input_count,
                               void *context)
{
    for (int i = 0; i < input_count; i++)
        tensor_zero_grad(inputs[i]);

    tape_reset(tape);
    Tensor *out = f(tape, inputs, context);
    if (!out->grad)
        core_fatal("gradcheck: the checked output has no gradient; give an input requires_grad");

    /* Seed the output gradient with the probe weights, then walk the tape. */
    for (size_t i = 0; i < out->size; i++)
        out->grad[i] = (float)probe_weight(i);
    for (size_t e = tape->count; e-- > 0;)
        tape->entries[e].backward(&tape->entries[e]);
}

GradcheckResult gradcheck(const char *label, GradcheckFn f, Tensor **inputs, int input_count,
                          void *context, GradcheckOptions options)
{
    GradcheckResult result = {0, 0, 0.0, true};
    Tape tape;
    tape_init(&tape);

    analytic_gradients(&tape, f, inputs, input_count, context);

    for (int i = 0; i < input_count; i++) {
        Tensor *x = inputs[i];
        if (!x->grad)
            continue;

        for (size_t j = 0; j < x->size; j++) {
            float saved = x->data[j];
            x->data[j] = saved + options.eps;
            double loss_plus = probe_loss(&tape, f, inputs, context);
            x->data[j] = saved - options.eps;
            double loss_minus = probe_loss(&tape, f, inputs, context);
            x->data[j] = saved;

            double numeric = (loss_plus - loss_minus) / (2.0 * (double)options.eps);
            double analytic = (double)x->grad[j];
            double diff = fabs(analytic - numeric);
            double scale = fmax(fabs(analytic), fabs(numeric));

            result.checked++;
            if (analytic != 0.0)
                result.all_zero = false;
            if (diff > result.max_abs_diff)
                result.max_abs_diff = diff;
            if (diff > options.tol_abs + options.tol_rel * scale) {
                if (result.mismatches < GRADCHECK_PRINT_LIMIT)
                    fprintf(stderr, "%s: input %d element %zu: analytic %.6g, numeric %.6g\n",
                            label, i, j, analytic, numeric);
                result.mismatches++;
            }
        }
    }

    if (result.mismatches > 0)
        fprintf(stderr, "%s: %zu of %zu gradient elements differ; largest difference %.6g\n", label,
                result.mismatches, result.checked, result.max_abs_diff);

    tape_free(&tape);
    return result;
}
