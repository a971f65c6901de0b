/*
 * Non-linearities, normalisation and the loss: relu, tanh, gelu, exp,
 * softmax, cross-entropy, layer norm and the causal mask (contracts and
 * shapes in ops.h). Each op's backward function sits right below its
 * forward function.
 *
 * Precision: element-wise math is in float. Every reduction along a row or
 * over rows accumulates in double, so a long row loses no more accuracy than
 * a short one. These are the softmax and cross-entropy sums, the layer-norm
 * mean and variance, the sums in their backward passes, and the gain and
 * bias gradients.
 *
 * Threads: the loops over rows and the transcendental element-wise loops run
 * on the OpenMP threads when the tensor is large. Each row or element is
 * computed by one thread, and sums over rows run in a fixed order on one
 * thread, so results do not depend on the thread count.
 */
#include "ops.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Elements below which an element-wise or row loop stays on one thread.
 * Measured: at 2^15, stage03's default run took 15 s with 2 threads against
 * 0.3 s with 1 on a 2-core machine busy with other processes, because every
 * small parallel region waited for a descheduled thread; at 2^18 both take
 * about 0.3 s. These loops are memory-bound, so below 1 MiB a second thread
 * gains little even on an idle machine.
 */
#define THREAD_MIN_ELEMENTS ((size_t)1 << 18)

/* Stops the program with "op: shape S <reason>". */
static void fail_shape(const char *op, Shape shape, const char *reason)
{
    char text[64];
    shape_format(shape, text, sizeof text);
    core_fatal("%s: shape %s %s", op, text, reason);
}

/* Returns a zero-filled array of count doubles from the heap; stops the program when memory runs
 * out. */
static double *calloc_doubles(size_t count, const char *op)
{
    double *values = calloc(count, sizeof(double));
    if (!values)
        core_fatal("%s: out of memory allocating %zu doubles", op, count);
    return values;
}

/* ------------------------------------------------------------------------- */
/* exp of a non-positive argument, in a form the compiler vectorises           */
/* ------------------------------------------------------------------------- */

/*
 * Constants of exp_nonpositive: log2(e); 1.5 * 2^23, which rounds a float
 * below 2^22 in magnitude to an integer when added; ln 2 split into a part
 * with 12 significant bits, so that n * LN2_HIGH is exact for |n| <= 126, and
 * the rest; and the smallest argument whose result is a normal float.
 */
#define LOG2_E 1.44269504088896341f
#define ROUND_SHIFT 12582912.0f
#define LN2_HIGH 0.693145751953125f
#define LN2_LOW 1.42860682030941723212e-6f
#define EXP_MIN_ARG (-87.33654f)

/*
 * Returns exp(x) for x <= 0, the softmax, cross-entropy and GELU terms (it
 * stays correct up to x = 88, which covers a difference that rounding made
 * slightly positive). Within 1.3 units in the last place of the exact value,
 * checked against exp in double for every float in [-87.3, 0]. Below
 * EXP_MIN_ARG, where exp(x) is below the smallest normal float, it returns
 * 0, so -INFINITY gives 0; NaN gives NaN.
 *
 * Why not expf: glibc's expf is a library call that the compiler cannot
 * vectorise without -ffast-math. This version is plain arithmetic, so loops
 * calling it run 16 floats per AVX-512 instruction. With the partial sums
 * below, it cut the CPU time of one training step of the stage 08 benchmark
 * model (bench/, 1024 rows of 1000 logits) by 24%, on a 2-core AMD EPYC
 * (Zen 4) with GCC 12 -O3 -march=native.
 *
 * Method: x = n ln 2 + r with n an integer and |r| <= ln(2) / 2, so
 * exp(x) = 2^n exp(r). exp(r) is its Taylor series to degree 7 (the error
 * of the cut is below 6e-9 relative), and 2^n is built in the exponent bits.
 */
static inline float exp_nonpositive(float x)
{
    /* 1. n = round(x / ln 2), read back from the low bits of shifted. */
    float clamped = x < EXP_MIN_ARG ? EXP_MIN_ARG : x;
    float shifted = clamped * LOG2_E + ROUND_SHIFT;
    float n = shifted - ROUND_SHIFT;

    /* 2. r = x - n ln 2, in two steps so that r keeps its low bits (Cody and Waite). */
    float r = (clamped - n * LN2_HIGH) - n * LN2_LOW;

    /* 3. exp(r) = sum of r^k / k! for k = 0..7, by Horner's rule. */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;

    /*
     * 4. 2^n: the biased exponent n + 127 (at least 1 after the clamp) in bits 23..30.
     * Unsigned arithmetic, because a NaN or infinite x gives bits far out of range, and
     * then p is NaN anyway; signed overflow there would be undefined behaviour.
     */
    uint32_t shifted_bits;
    memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
    uint32_t scale_bits = (shifted_bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &scale_bits, sizeof scale);
    return x < EXP_MIN_ARG ? 0.0f : p * scale;
}

/*
 * Partial sums and maxima of the row reductions. One running sum makes every
 * addition wait for the one before, and the compiler may not reorder float
 * additions, so such a loop runs one element at a time. Lane l takes the
 * elements j = l, l + REDUCE_LANES, ... instead, each lane in order, and the
 * lanes are combined in order at the end: the compiler keeps the lanes in
 * one vector register, and the result is the same on any number of threads.
 */
#define REDUCE_LANES 8

/* Terms of a row that sum_exp_shifted computes at a time, 1 KiB on the stack. */
#define EXP_CHUNK 256

/*
 * Returns the sum of exp(x[j] - shift) over the row x [m], accumulated in
 * double, and writes each term into y [m] when y is not NULL. Needs
 * x[j] <= shift, such as shift = the row maximum. The terms are computed in
 * one loop and summed in another, because the compiler vectorises each loop
 * alone but not the two fused. The cross-entropy forward pass over
 * [1024, 1000] logits took 0.68 ms, against 3.9 ms with expf and one running
 * sum (same machine as exp_nonpositive).
 */
static double sum_exp_shifted(const float *x, int m, float shift, float *y)
{
    double lanes[REDUCE_LANES] = {0};
    float chunk[EXP_CHUNK];
    for (int start = 0; start < m; start += EXP_CHUNK) {
        int count = m - start < EXP_CHUNK ? m - start : EXP_CHUNK;
        float *terms = y ? y + start : chunk;
        for (int j = 0; j < count; j++)
            terms[j] = exp_nonpositive(x[start + j] - shift);

        int j = 0;
        for (; j + REDUCE_LANES <= count; j += REDUCE_LANES)
            for (int l = 0; l < REDUCE_LANES; l++)
                lanes[l] += terms[j + l];
        for (int l = 0; j < count; j++, l++)
            lanes[l] += terms[j];
    }

    double sum = 0.0;
    for (int l = 0; l < REDUCE_LANES; l++)
        sum += lanes[l];
    return sum;
}

/* ------------------------------------------------------------------------- */
/* relu, tanh, gelu, exp                                                       */
/* ------------------------------------------------------------------------- */

/* Backward of relu. Entry: in[0] x. dx += G where x > 0 (the kink at 0 gets 0). */
static void relu_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    const float *grad_out = entry->out->grad;

    if (x->grad)
        for (size_t i = 0; i < x->size; i++)
            x->grad[i] += x->data[i] > 0.0f ? grad_out[i] : 0.0f;
}

Tensor *op_relu(Tape *tape, Tensor *x)
{
    Tensor *out = tape_tensor(tape, x->shape, x->grad != NULL);
    for (size_t i = 0; i < x->size; i++)
        out->data[i] = x->data[i] > 0.0f ? x->data[i] : 0.0f;

    if (out->grad)
        tape_record(tape, "relu", relu_backward, out)->in[0] = x;
    return out;
}

/* Backward of tanh. Entry: in[0] x. dx += G (1 - out^2). */
static void tanh_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    const float *y = entry->out->data, *grad_out = entry->out->grad;
    if (!x->grad)
        return;

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (x->size >= THREAD_MIN_ELEMENTS)
#endif
    for (size_t i = 0; i < x->size; i++)
        x->grad[i] += grad_out[i] * (1.0f - y[i] * y[i]);
}

Tensor *op_tanh(Tape *tape, Tensor *x)
{
    Tensor *out = tape_tensor(tape, x->shape, x->grad != NULL);

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (x->size >= THREAD_MIN_ELEMENTS)
#endif
    for (size_t i = 0; i < x->size; i++)
        out->data[i] = tanhf(x->data[i]);

    if (out->grad)
        tape_record(tape, "tanh", tanh_backward, out)->in[0] = x;
    return out;
}

/* 1 / sqrt(2) and 1 / sqrt(2 pi), for the normal distribution in GELU. */
#define INV_SQRT2 0.70710678118654752440f
#define INV_SQRT_2PI 0.39894228040143267794f

/*
 * Returns Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF, within
 * 8e-8 of the exact value for every float x (checked against erfc in double
 * over every float in [-12, 12]; the form with glibc's erff is within 6e-8).
 * For x < 0 it is computed from erfc without cancellation, so it is also
 * within 2.2e-6 relative down to x = -5.6. NaN gives NaN.
 *
 * Why not erff: like expf, it is a call the compiler cannot vectorise, and
 * it was the slowest step of GELU. This version is plain arithmetic: GELU's
 * forward pass over [1024, 256] took 0.35 ms, against 3.2 ms with erff
 * (same machine as exp_nonpositive).
 *
 * Method, with z = |x| / sqrt 2: for z < 1, erf(z) = z P(2 z^2 - 1); for
 * z >= 1, erfc(z) = exp(-z^2) Q((z - 2.5) / 1.5), with z clamped to 4 in Q
 * (beyond, Phi rounds to 0 or 1 in float). P (degree 6, error 1.2e-9) and
 * Q (degree 11, error below 3.1e-9 after the factor exp(-z^2)) are
 * least-squares fits at 4000 Chebyshev nodes, computed with NumPy 1.24.
 */
static inline float normal_cdf(float x)
{
    float z = fabsf(x) * INV_SQRT2;

    /* 1. erf(z), accurate for z < 1. */
    float t = 2.0f * z * z - 1.0f;
    float p = 1.231640173e-06f;
    p = p * t - 1.766908081e-05f;
    p = p * t + 2.175119898e-04f;
    p = p * t - 2.285419529e-03f;
    p = p * t + 1.985249772e-02f;
    p = p * t - 1.405360973e-01f;
    p = p * t + 9.654687386e-01f;
    float erf_small = z * p;

    /* 2. erfc(z) / 2, accurate for z >= 1. */
    float u = ((z < 4.0f ? z : 4.0f) - 2.5f) * (1.0f / 1.5f);
    float q = -3.692872359e-05f;
    q = q * u + 9.640451525e-05f;
    q = q * u - 1.439485978e-04f;
    q = q * u + 3.678686724e-04f;
    q = q * u - 1.017117774e-03f;
    q = q * u + 2.425885101e-03f;
    q = q * u - 5.567332909e-03f;
    q = q * u + 1.248403569e-02f;
    q = q * u - 2.700572529e-02f;
    q = q * u + 5.611095841e-02f;
    q = q * u - 1.115210047e-01f;
    q = q * u + 2.108063575e-01f;
    float half_erfc = 0.5f * exp_nonpositive(-z * z) * q;

    /* 3. Phi(-|x|) and Phi(|x|) from the piece that is accurate for this z. */
    float lower = z < 1.0f ? 0.5f - 0.5f * erf_small : half_erfc;
    float upper = z < 1.0f ? 0.5f + 0.5f * erf_small : 1.0f - half_erfc;
    return x < 0.0f ? lower : upper;
}

/*
 * Backward of gelu. Entry: in[0] x, saved [size] Phi(x) from forward. With
 * Phi the normal CDF and phi its density, gelu(x) = x Phi(x), so
 * dx += G (Phi(x) + x phi(x)).
 */
static void gelu_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    const float *grad_out = entry->out->grad, *cdf = entry->saved;
    if (!x->grad)
        return;

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (x->size >= THREAD_MIN_ELEMENTS)
#endif
    for (size_t i = 0; i < x->size; i++) {
        float v = x->data[i];
        float pdf = INV_SQRT_2PI * exp_nonpositive(-0.5f * v * v);
        x->grad[i] += grad_out[i] * (cdf[i] + v * pdf);
    }
}

Tensor *op_gelu(Tape *tape, Tensor *x)
{
    Tensor *out = tape_tensor(tape, x->shape, x->grad != NULL);

    /* Phi(x) is kept for backward, which then needs no second normal_cdf. */
    float *cdf = out->grad ? arena_alloc(&tape->arena, x->size * sizeof(float)) : NULL;

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (x->size >= THREAD_MIN_ELEMENTS)
#endif
    for (size_t i = 0; i < x->size; i++) {
        float v = x->data[i];
        float phi_cdf = normal_cdf(v);
        out->data[i] = v * phi_cdf;
        if (cdf)
            cdf[i] = phi_cdf;
    }

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "gelu", gelu_backward, out);
        entry->in[0] = x;
        entry->saved = cdf;
    }
    return out;
}

/* Backward of exp. Entry: in[0] x. dx += G out. */
static void exp_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    const float *y = entry->out->data, *grad_out = entry->out->grad;

    if (x->grad)
        for (size_t i = 0; i < x->size; i++)
            x->grad[i] += grad_out[i] * y[i];
}

Tensor *op_exp(Tape *tape, Tensor *x)
{
    Tensor *out = tape_tensor(tape, x->shape, x->grad != NULL);

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (x->size >= THREAD_MIN_ELEMENTS)
#endif
    for (size_t i = 0; i < x->size; i++)
        out->data[i] = expf(x->data[i]);

    if (out->grad)
        tape_record(tape, "exp", exp_backward, out)->in[0] = x;
    return out;
}

/* ------------------------------------------------------------------------- */
/* softmax                                                                     */
/* ------------------------------------------------------------------------- */

/*
 * Returns the largest of x[0..m-1]; -INFINITY when every entry is -INFINITY.
 * NaN entries are skipped. Uses REDUCE_LANES running maxima, for the same
 * reason as sum_exp_shifted.
 */
static float row_max(const float *x, int m)
{
    float lanes[REDUCE_LANES];
    for (int l = 0; l < REDUCE_LANES; l++)
        lanes[l] = -INFINITY;
    int j = 0;
    for (; j + REDUCE_LANES <= m; j += REDUCE_LANES)
        for (int l = 0; l < REDUCE_LANES; l++)
            lanes[l] = x[j + l] > lanes[l] ? x[j + l] : lanes[l];
    for (int l = 0; j < m; j++, l++)
        lanes[l] = x[j] > lanes[l] ? x[j] : lanes[l];

    float max = -INFINITY;
    for (int l = 0; l < REDUCE_LANES; l++)
        max = lanes[l] > max ? lanes[l] : max;
    return max;
}

/*
 * Writes the softmax of the row x [m] into y [m].
 * A row whose entries are all -INFINITY (a query that may see no key) has no
 * finite maximum to subtract, and exp(-inf - -inf) would be NaN. Such a row
 * gets all weights 0 instead, so it also passes no gradient back.
 */
static void softmax_row(const float *x, float *y, int m)
{
    float max = row_max(x, m);
    if (max == -INFINITY) {
        memset(y, 0, (size_t)m * sizeof(float));
        return;
    }

    /* Subtracting the max keeps every exp in (0, 1]; -INFINITY entries give exactly 0. */
    double sum = sum_exp_shifted(x, m, max, y);
    for (int j = 0; j < m; j++)
        y[j] = (float)(y[j] / sum);
}

/*
 * Backward of softmax. Entry: in[0] x [..., m]. Per row, with y = out and
 * g = G: dx_j += y_j (g_j - sum_k y_k g_k).
 */
static void softmax_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    if (!x->grad)
        return;
    const float *y = entry->out->data, *grad_out = entry->out->grad;
    int m = tensor_cols(x);
    long rows = (long)tensor_rows(x);

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (x->size >= THREAD_MIN_ELEMENTS)
#endif
    for (long i = 0; i < rows; i++) {
        const float *y_row = y + (size_t)i * (size_t)m, *g_row = grad_out + (size_t)i * (size_t)m;
        double dot = 0.0;
        for (int j = 0; j < m; j++)
            dot += (double)y_row[j] * g_row[j];

        float *dx = x->grad + (size_t)i * (size_t)m;
        for (int j = 0; j < m; j++)
            dx[j] += (float)(y_row[j] * (g_row[j] - dot));
    }
}

Tensor *op_softmax(Tape *tape, Tensor *x)
{
    Tensor *out = tape_tensor(tape, x->shape, x->grad != NULL);
    int m = tensor_cols(x);
    long rows = (long)tensor_rows(x);

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (x->size >= THREAD_MIN_ELEMENTS)
#endif
    for (long i = 0; i < rows; i++)
        softmax_row(x->data + (size_t)i * (size_t)m, out->data + (size_t)i * (size_t)m, m);

    if (out->grad)
        tape_record(tape, "softmax", softmax_backward, out)->in[0] = x;
    return out;
}

/* ------------------------------------------------------------------------- */
/* cross-entropy                                                               */
/* ------------------------------------------------------------------------- */

/* Stops the program when a target is outside -1..classes-1, naming the row and the value. */
static void check_targets(const int *targets, size_t rows, int classes)
{
    for (size_t i = 0; i < rows; i++)
        if (targets[i] < -1 || targets[i] >= classes)
            core_fatal("cross_entropy: target %d of row %zu is outside -1..%d (%d classes)",
                       targets[i], i, classes - 1, classes);
}

/*
 * Returns log(sum_j exp(x_j)) of the row x [m], computed as
 * max + log(sum_j exp(x_j - max)) so that no exp overflows.
 */
static double row_log_sum_exp(const float *x, int m)
{
    float max = row_max(x, m);
    return max + log(sum_exp_shifted(x, m, max, NULL));
}

/*
 * Backward of cross_entropy. Entry: in[0] logits [N, C], ids the targets,
 * saved [N] each row's log-sum-exp, iarg[0] the rows counted in the mean.
 * For a counted row: dlogits_j += G (softmax_j - [j == target]) / count.
 */
static void cross_entropy_backward(const TapeEntry *entry)
{
    Tensor *logits = entry->in[0];
    if (!logits->grad || entry->iarg[0] == 0)
        return;
    int classes = tensor_cols(logits);
    long rows = (long)tensor_rows(logits);
    float scale = entry->out->grad[0] / (float)entry->iarg[0];

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (logits->size >= THREAD_MIN_ELEMENTS)
#endif
    for (long i = 0; i < rows; i++) {
        int target = entry->ids[i];
        if (target == -1)
            continue;
        const float *x = logits->data + (size_t)i * (size_t)classes;
        float *dx = logits->grad + (size_t)i * (size_t)classes;
        for (int j = 0; j < classes; j++) {
            float p = exp_nonpositive(x[j] - entry->saved[i]);
            dx[j] += scale * (p - (j == target ? 1.0f : 0.0f));
        }
    }
}

/*
 * A batch in which every target is -1 has no row to average. Its loss is 0
 * instead of 0 / 0, and it passes no gradient back.
 */
Tensor *op_cross_entropy(Tape *tape, Tensor *logits, const int *targets)
{
    int classes = tensor_cols(logits);
    size_t rows = tensor_rows(logits);
    check_targets(targets, rows, classes);

    /* Per row: loss = log-sum-exp - the target's logit. Rows run in parallel. */
    float *log_sum_exp = arena_alloc(&tape->arena, rows * sizeof(float));
    double *row_loss = arena_alloc(&tape->arena, rows * sizeof(double));
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (logits->size >= THREAD_MIN_ELEMENTS)
#endif
    for (long i = 0; i < (long)rows; i++) {
        if (targets[i] == -1)
            continue;
        const float *x = logits->data + (size_t)i * (size_t)classes;
        double lse = row_log_sum_exp(x, classes);
        log_sum_exp[i] = (float)lse;
        row_loss[i] = lse - x[targets[i]];
    }

    /* The mean over counted rows, summed in row order. */
    double total = 0.0;
    int counted = 0;
    for (size_t i = 0; i < rows; i++) {
        if (targets[i] != -1) {
            total += row_loss[i];
            counted++;
        }
    }
    Tensor *out = tape_tensor(tape, shape1(1), logits->grad != NULL);
    out->data[0] = counted > 0 ? (float)(total / counted) : 0.0f;

    if (out->grad) {
        int *ids = arena_alloc(&tape->arena, rows * sizeof(int));
        memcpy(ids, targets, rows * sizeof(int));
        TapeEntry *entry = tape_record(tape, "cross_entropy", cross_entropy_backward, out);
        entry->in[0] = logits;
        entry->ids = ids;
        entry->saved = log_sum_exp;
        entry->iarg[0] = counted;
    }
    return out;
}

/* ------------------------------------------------------------------------- */
/* layer norm                                                                  */
/* ------------------------------------------------------------------------- */

/* Writes the mean and 1 / sqrt(var + eps) of the row x [d] into stats[0] and stats[1]. */
static void row_mean_rstd(const float *x, int d, float eps, float stats[2])
{
    double sum = 0.0;
    for (int j = 0; j < d; j++)
        sum += x[j];
    double mean = sum / d;

    /* Two passes: summing squares of x - mean avoids the cancellation of E[x^2] - mean^2. */
    double squares = 0.0;
    for (int j = 0; j < d; j++)
        squares += ((double)x[j] - mean) * ((double)x[j] - mean);
    stats[0] = (float)mean;
    stats[1] = (float)(1.0 / sqrt(squares / d + eps));
}

/*
 * Adds the gain and bias gradients: dgain_j += sum_i G_ij xhat_ij and
 * dbias_j += sum_i G_ij, summed over rows in order in double.
 */
static void layernorm_backward_params(const TapeEntry *entry)
{
    Tensor *x = entry->in[0], *gain = entry->in[1], *bias = entry->in[2];
    int d = tensor_cols(x);
    size_t rows = tensor_rows(x);
    double *sums = calloc_doubles(2 * (size_t)d, "layernorm");

    for (size_t i = 0; i < rows; i++) {
        const float *xr = x->data + i * (size_t)d, *g = entry->out->grad + i * (size_t)d;
        float mean = entry->saved[2 * i], rstd = entry->saved[2 * i + 1];
        for (int j = 0; j < d; j++) {
            sums[j] += (double)g[j] * ((xr[j] - mean) * rstd);
            sums[d + j] += g[j];
        }
    }

    for (int j = 0; j < d; j++) {
        if (gain->grad)
            gain->grad[j] += (float)sums[j];
        if (bias->grad)
            bias->grad[j] += (float)sums[d + j];
    }
    free(sums);
}

/*
 * Backward of layernorm. Entry: in[0] x [N, D], in[1] gain [D], in[2] bias
 * [D], saved [N, 2] each row's mean and rstd = 1 / sqrt(var + eps).
 * With xhat = (x - mean) rstd and h = G gain, per row:
 * dx += rstd (h - mean(h) - xhat mean(h xhat)).
 */
static void layernorm_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0], *gain = entry->in[1];
    int d = tensor_cols(x);
    long rows = (long)tensor_rows(x);

    if (x->grad) {
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (x->size >= THREAD_MIN_ELEMENTS)
#endif
        for (long i = 0; i < rows; i++) {
            const float *xr = x->data + (size_t)i * (size_t)d;
            const float *g = entry->out->grad + (size_t)i * (size_t)d;
            float mean = entry->saved[2 * i], rstd = entry->saved[2 * i + 1];

            double h_sum = 0.0, h_xhat_sum = 0.0;
            for (int j = 0; j < d; j++) {
                double h = (double)g[j] * gain->data[j];
                h_sum += h;
                h_xhat_sum += h * ((xr[j] - mean) * rstd);
            }
            double h_mean = h_sum / d, h_xhat_mean = h_xhat_sum / d;

            float *dx = x->grad + (size_t)i * (size_t)d;
            for (int j = 0; j < d; j++) {
                double xhat = (xr[j] - mean) * rstd;
                double h = (double)g[j] * gain->data[j];
                dx[j] += (float)(rstd * (h - h_mean - xhat * h_xhat_mean));
            }
        }
    }
    if (entry->in[1]->grad || entry->in[2]->grad)
        layernorm_backward_params(entry);
}

Tensor *op_layernorm(Tape *tape, Tensor *x, Tensor *gain, Tensor *bias, float eps)
{
    /* Shapes: x [..., D], gain [D], bias [D]. */
    int d = tensor_cols(x);
    if (!gain || !bias)
        fail_shape("layernorm", x->shape, "needs both a gain and a bias [D] (got NULL)");
    if (gain->shape.ndim != 1 || gain->shape.dim[0] != d)
        fail_shape("layernorm", gain->shape, "does not fit as the gain [D] of x [..., D]");
    if (bias->shape.ndim != 1 || bias->shape.dim[0] != d)
        fail_shape("layernorm", bias->shape, "does not fit as the bias [D] of x [..., D]");

    Tensor *out = tape_tensor(tape, x->shape, x->grad || gain->grad || bias->grad);
    long rows = (long)tensor_rows(x);
    float *stats = arena_alloc(&tape->arena, 2 * (size_t)rows * sizeof(float));

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (x->size >= THREAD_MIN_ELEMENTS)
#endif
    for (long i = 0; i < rows; i++) {
        const float *xr = x->data + (size_t)i * (size_t)d;
        float *y = out->data + (size_t)i * (size_t)d;
        row_mean_rstd(xr, d, eps, stats + 2 * i);
        for (int j = 0; j < d; j++)
            y[j] = (xr[j] - stats[2 * i]) * stats[2 * i + 1] * gain->data[j] + bias->data[j];
    }

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "layernorm", layernorm_backward, out);
        entry->in[0] = x;
        entry->in[1] = gain;
        entry->in[2] = bias;
        entry->farg = eps;
        entry->saved = stats;
    }
    return out;
}

/* ------------------------------------------------------------------------- */
/* causal mask                                                                 */
/* ------------------------------------------------------------------------- */

/* Backward of causal_mask. Entry: in[0] scores [..., n, n]. dx += G where key <= query. */
static void causal_mask_backward(const TapeEntry *entry)
{
    Tensor *scores = entry->in[0];
    if (!scores->grad)
        return;
    const float *grad_out = entry->out->grad;
    size_t n = (size_t)tensor_cols(scores), rows = tensor_rows(scores);

    /* Row r of the flattened tensor is query r % n; keys 0..query pass the gradient. */
    for (size_t row = 0; row < rows; row++) {
        size_t query = row % n;
        for (size_t key = 0; key <= query; key++)
            scores->grad[row * n + key] += grad_out[row * n + key];
    }
}

Tensor *op_causal_mask(Tape *tape, Tensor *scores)
{
    Shape shape = scores->shape;
    if (shape.ndim < 2 || shape.dim[shape.ndim - 1] != shape.dim[shape.ndim - 2])
        fail_shape("causal_mask", shape, "is not [..., n, n]");

    Tensor *out = tape_tensor(tape, shape, scores->grad != NULL);
    size_t n = (size_t)tensor_cols(scores), rows = tensor_rows(scores);
    for (size_t row = 0; row < rows; row++) {
        size_t query = row % n;
        for (size_t key = 0; key < n; key++)
            out->data[row * n + key] = key <= query ? scores->data[row * n + key] : -INFINITY;
    }

    if (out->grad)
        tape_record(tape, "causal_mask", causal_mask_backward, out)->in[0] = scores;
    return out;
}
