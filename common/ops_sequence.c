/*
 * Ops on words and sequences: one-hot vectors, embedding lookup, the mean
 * over positions, convolution windows, pairwise concatenation and column
 * sums (contracts in ops.h). Each op's backward function follows its forward
 * function.
 *
 * Ops that work per sentence read x [B, n, D], or x [n, D] as one sentence.
 * A 2-D input gives a 2-D output, and op_mean_positions gives [1, D].
 *
 * Threads: a loop runs in parallel only when each output element is written
 * by exactly one thread, in a fixed order, so results are bitwise identical
 * for any thread count. Backward functions therefore gather (each input row
 * sums the output rows that read it) instead of scattering, except the
 * embedding backward, whose repeated ids make it serial.
 */
#include "ops.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#define OPS_PRAGMA(text) _Pragma(#text)
#define PARALLEL_FOR_IF(condition) OPS_PRAGMA(omp parallel for if (condition))
#else
#define PARALLEL_FOR_IF(condition)
#endif

/*
 * Output floats below which a loop stays on one thread.
 * Measured: at 2^15, stage03's default run took 15 s with 2 threads against
 * 0.3 s with 1 on a 2-core machine busy with other processes, because every
 * small parallel region waited for a descheduled thread; at 2^18 both take
 * about 0.3 s. These loops are memory-bound, so below 1 MiB a second thread
 * gains little even on an idle machine.
 */
#define PARALLEL_MIN_FLOATS ((size_t)1 << 18)

/* Room for a formatted shape such as "[2147483647, 2147483647, ...]". */
#define SHAPE_TEXT_BYTES 64

/* ------------------------------------------------------------------------- */
/* Shape checks shared by the ops                                             */
/* ------------------------------------------------------------------------- */

/* Stops the program with "OP: PROBLEM, got SHAPE". */
static _Noreturn void fatal_shape(const char *op, const char *problem, Shape shape)
{
    char text[SHAPE_TEXT_BYTES];
    shape_format(shape, text, sizeof text);
    core_fatal("%s: %s, got %s", op, problem, text);
}

/* Returns a * b for sizes >= 1, or stops the program when the product exceeds INT_MAX. */
static int multiply_dims(const char *op, const char *what, int a, int b)
{
    if (b > INT_MAX / a)
        core_fatal("%s: %s = %d * %d overflows int", op, what, a, b);
    return a * b;
}

/*
 * Allocates an op's output on the tape after checking in size_t that its
 * element count and byte size fit, so the message names the op.
 */
static Tensor *new_output(Tape *tape, const char *op, Shape shape, bool requires_grad)
{
    size_t count;
    if (!shape_count(shape, &count) || count > SIZE_MAX / sizeof(float))
        fatal_shape(op, "the output's size overflows size_t", shape);
    return tape_tensor(tape, shape, requires_grad);
}

/* Sentence dimensions of x [B, n, D], or of x [n, D] read as B = 1. */
typedef struct Sentences {
    int batch;  /* B */
    int length; /* n (or m) */
    int width;  /* D */
    bool flat;  /* x was 2-D, so the output is 2-D too */
} Sentences;

/* Reads x as sentences, or stops the program when x is neither [B, n, D] nor [n, D]. */
static Sentences read_sentences(const char *op, const Tensor *x)
{
    const Shape *s = &x->shape;
    if (s->ndim == 3)
        return (Sentences){s->dim[0], s->dim[1], s->dim[2], false};
    if (s->ndim == 2)
        return (Sentences){1, s->dim[0], s->dim[1], true};
    fatal_shape(op, "expects x [B, n, D] or [n, D]", *s);
}

/* Returns [B, length, width], or [length, width] when the input was 2-D. */
static Shape sentence_shape(Sentences in, int length, int width)
{
    return in.flat ? shape2(length, width) : shape3(in.batch, length, width);
}

/* Stops the program when an id lies outside 0..depth-1, naming its index and value. */
static void check_ids(const char *op, const int *ids, int count, int depth)
{
    if (count < 1)
        core_fatal("%s: count must be >= 1, got %d", op, count);
    if (!ids)
        core_fatal("%s: ids is NULL but count is %d", op, count);

    for (int i = 0; i < count; i++) {
        if (ids[i] < 0 || ids[i] >= depth)
            core_fatal("%s: ids[%d] = %d is outside 0..%d; validate word ids before they reach "
                       "the model",
                       op, i, ids[i], depth - 1);
    }
}

/* ------------------------------------------------------------------------- */
/* One-hot vectors                                                             */
/* ------------------------------------------------------------------------- */

/* ids [count] -> out [count, depth]; no tape entry, because ids carry no gradient. */
Tensor *op_onehot(Tape *tape, const int *ids, int count, int depth)
{
    if (depth < 1)
        core_fatal("onehot: depth must be >= 1, got %d", depth);
    check_ids("onehot", ids, count, depth);

    /* The output starts zero-filled, so only the ones are written. */
    Tensor *out = new_output(tape, "onehot", shape2(count, depth), false);
    for (int i = 0; i < count; i++)
        out->data[(size_t)i * (size_t)depth + (size_t)ids[i]] = 1.0f;
    return out;
}

/* ------------------------------------------------------------------------- */
/* Embedding lookup                                                            */
/* ------------------------------------------------------------------------- */

/*
 * dtable[ids[i]] += dout[i] for every i. Uses in[0] = table [V, D],
 * ids = a copy of the ids, iarg[0] = count. Serial, because two rows of out
 * may add to the same row of the table.
 */
static void embedding_backward(const TapeEntry *entry)
{
    Tensor *table = entry->in[0];
    if (!table->grad)
        return;

    size_t width = (size_t)table->shape.dim[1];
    const float *dout = entry->out->grad;
    for (int i = 0; i < entry->iarg[0]; i++) {
        float *dst = table->grad + (size_t)entry->ids[i] * width;
        const float *src = dout + (size_t)i * width;
        for (size_t d = 0; d < width; d++)
            dst[d] += src[d];
    }
}

/* table [V, D], ids [count] -> out [count, D]: row i of out is row ids[i] of table. */
Tensor *op_embedding(Tape *tape, Tensor *table, const int *ids, int count)
{
    if (table->shape.ndim != 2)
        fatal_shape("embedding", "expects table [V, D]", table->shape);
    int vocab = table->shape.dim[0];
    size_t width = (size_t)table->shape.dim[1];
    check_ids("embedding", ids, count, vocab);

    /* Copy each selected row. */
    Tensor *out = new_output(tape, "embedding", shape2(count, (int)width), table->grad != NULL);
    for (int i = 0; i < count; i++)
        memcpy(out->data + (size_t)i * width, table->data + (size_t)ids[i] * width,
               width * sizeof(float));

    /* Backward reads the ids after the caller may have reused its array, so keep a copy. */
    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "embedding", embedding_backward, out);
        int *ids_copy = arena_alloc(&tape->arena, (size_t)count * sizeof(int));
        memcpy(ids_copy, ids, (size_t)count * sizeof(int));
        entry->in[0] = table;
        entry->ids = ids_copy;
        entry->iarg[0] = count;
    }
    return out;
}

/* ------------------------------------------------------------------------- */
/* Mean over positions                                                         */
/* ------------------------------------------------------------------------- */

/* dx[b, t] += dout[b] / n for every position t. Uses in[0] = x [B, n, D] or [n, D]. */
static void mean_positions_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    if (!x->grad)
        return;

    Sentences s = read_sentences("mean_positions", x);
    size_t width = (size_t)s.width;
    size_t rows = (size_t)s.batch * (size_t)s.length;
    float inv_length = 1.0f / (float)s.length;
    const float *dout = entry->out->grad;

    /* Row r of x belongs to sentence r / n. */
    PARALLEL_FOR_IF(x->size >= PARALLEL_MIN_FLOATS)
    for (size_t r = 0; r < rows; r++) {
        const float *src = dout + (r / (size_t)s.length) * width;
        float *dst = x->grad + r * width;
        for (size_t d = 0; d < width; d++)
            dst[d] += src[d] * inv_length;
    }
}

/* x [B, n, D] -> out [B, D], or x [n, D] -> out [1, D]: out[b] = (1/n) sum_t x[b, t]. */
Tensor *op_mean_positions(Tape *tape, Tensor *x)
{
    Sentences s = read_sentences("mean_positions", x);
    size_t width = (size_t)s.width;
    size_t length = (size_t)s.length;
    float inv_length = 1.0f / (float)s.length;
    Tensor *out = new_output(tape, "mean_positions", shape2(s.batch, s.width), x->grad != NULL);

    /* Sum the positions of each sentence in order, then scale. */
    PARALLEL_FOR_IF(x->size >= PARALLEL_MIN_FLOATS)
    for (int b = 0; b < s.batch; b++) {
        float *dst = out->data + (size_t)b * width;
        const float *sentence = x->data + (size_t)b * length * width;
        for (size_t t = 0; t < length; t++)
            for (size_t d = 0; d < width; d++)
                dst[d] += sentence[t * width + d];
        for (size_t d = 0; d < width; d++)
            dst[d] *= inv_length;
    }

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "mean_positions", mean_positions_backward, out);
        entry->in[0] = x;
    }
    return out;
}

/* ------------------------------------------------------------------------- */
/* Windows (im2col) and convolution                                            */
/* ------------------------------------------------------------------------- */

/* Sizes of a windows op: x [B, n, D] -> out [B, count, k*D]. */
typedef struct WindowGeometry {
    Sentences in; /* B, n, D of x */
    int k;        /* window size */
    int pad_left; /* zero vectors before the first word */
    int count;    /* windows per sentence: n + pad_left + pad_right - k + 1 */
} WindowGeometry;

/* Checks the arguments of op_windows and returns its sizes, or stops the program. */
static WindowGeometry read_window_geometry(const Tensor *x, int k, int pad_left, int pad_right)
{
    WindowGeometry g = {read_sentences("windows", x), k, pad_left, 0};
    char text[SHAPE_TEXT_BYTES];
    shape_format(x->shape, text, sizeof text);

    if (k < 1 || pad_left < 0 || pad_right < 0)
        core_fatal("windows: expects k >= 1 and paddings >= 0, got k = %d, pad_left = %d, "
                   "pad_right = %d for x %s",
                   k, pad_left, pad_right, text);

    /* In long long, so that large paddings cannot overflow int before the check. */
    long long count = (long long)g.in.length + pad_left + pad_right - k + 1;
    if (count < 1 || count > INT_MAX)
        core_fatal("windows: n + pad_left + pad_right - k + 1 = %lld windows for x %s, k = %d, "
                   "pad_left = %d, pad_right = %d; expected 1..%d",
                   count, text, k, pad_left, pad_right, INT_MAX);
    g.count = (int)count;

    /* k * D is the output's last dimension, so it must fit in int. */
    multiply_dims("windows", "k * D", k, g.in.width);
    return g;
}

/*
 * Returns the first and one-past-last word of window t that lie inside the
 * sentence. Window t contains words t - pad_left .. t - pad_left + k - 1.
 */
static void clip_window(const WindowGeometry *g, long long t, long long *first, long long *end)
{
    long long start = t - g->pad_left;
    *first = start > 0 ? start : 0;
    *end = start + g->k < g->in.length ? start + g->k : g->in.length;
}

/*
 * dx[b, j] += dout[b, t, s*D .. s*D + D - 1] for every window t whose slot
 * s = j - t + pad_left contains word j. Uses in[0] = x, iarg[0] = k,
 * iarg[1] = pad_left, iarg[2] = pad_right. Gathers per input row, so each
 * element of dx is written by one thread.
 */
static void windows_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    if (!x->grad)
        return;

    WindowGeometry g = read_window_geometry(x, entry->iarg[0], entry->iarg[1], entry->iarg[2]);
    size_t width = (size_t)g.in.width;
    size_t out_row = (size_t)g.k * width;
    size_t rows = (size_t)g.in.batch * (size_t)g.in.length;
    const float *dout = entry->out->grad;

    PARALLEL_FOR_IF(entry->out->size >= PARALLEL_MIN_FLOATS)
    for (size_t r = 0; r < rows; r++) {
        size_t b = r / (size_t)g.in.length;
        long long j = (long long)(r % (size_t)g.in.length);
        float *dst = x->grad + r * width;

        /* Windows t = j + pad_left - s for slots s = k-1 .. 0, clipped to 0..count-1. */
        long long t_first = j + g.pad_left - g.k + 1 > 0 ? j + g.pad_left - g.k + 1 : 0;
        long long t_last = j + g.pad_left < g.count - 1 ? j + g.pad_left : g.count - 1;
        for (long long t = t_first; t <= t_last; t++) {
            size_t slot = (size_t)(j - t + g.pad_left);
            const float *src = dout + (b * (size_t)g.count + (size_t)t) * out_row + slot * width;
            for (size_t d = 0; d < width; d++)
                dst[d] += src[d];
        }
    }
}

/*
 * x [B, n, D] -> out [B, n + pad_left + pad_right - k + 1, k*D]: window t is
 * words t - pad_left .. t - pad_left + k - 1 side by side, the earliest
 * first, with zero vectors for positions outside the sentence.
 */
Tensor *op_windows(Tape *tape, Tensor *x, int k, int pad_left, int pad_right)
{
    WindowGeometry g = read_window_geometry(x, k, pad_left, pad_right);
    size_t width = (size_t)g.in.width;
    size_t out_row = (size_t)k * width;
    size_t windows = (size_t)g.in.batch * (size_t)g.count;
    Tensor *out =
        new_output(tape, "windows", sentence_shape(g.in, g.count, k * g.in.width), x->grad != NULL);

    /*
     * The words of a window that lie inside the sentence are consecutive in
     * x and in the window, so one memcpy moves them. The padding slots keep
     * the zeros of the allocation.
     */
    PARALLEL_FOR_IF(out->size >= PARALLEL_MIN_FLOATS)
    for (size_t w = 0; w < windows; w++) {
        size_t b = w / (size_t)g.count;
        long long t = (long long)(w % (size_t)g.count);
        long long first, end;
        clip_window(&g, t, &first, &end);
        if (first >= end)
            continue;

        size_t slot = (size_t)(first - (t - g.pad_left));
        const float *src = x->data + (b * (size_t)g.in.length + (size_t)first) * width;
        size_t bytes = (size_t)(end - first) * width * sizeof(float);
        memcpy(out->data + w * out_row + slot * width, src, bytes);
    }

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "windows", windows_backward, out);
        entry->in[0] = x;
        entry->iarg[0] = k;
        entry->iarg[1] = pad_left;
        entry->iarg[2] = pad_right;
    }
    return out;
}

/*
 * Returns the zero vectors a convolution puts before the first word. Both
 * paddings add k - 1 zero vectors in total, so there are n windows.
 */
static int conv_left_padding(int k, ConvPadding padding, const char *x_text, const char *w_text)
{
    if (k < 1)
        core_fatal("conv1d: k must be >= 1, got %d (x %s, w %s)", k, x_text, w_text);

    if (padding == CONV_SAME) {
        if (k % 2 == 0)
            core_fatal("conv1d: CONV_SAME needs an odd k to centre the window, got k = %d "
                       "(x %s, w %s)",
                       k, x_text, w_text);
        return (k - 1) / 2;
    }
    if (padding == CONV_CAUSAL)
        return k - 1;
    core_fatal("conv1d: padding must be CONV_SAME or CONV_CAUSAL, got %d", (int)padding);
}

/*
 * x [B, n, Din], w [Dout, k*Din], bias [Dout] or NULL -> out [B, n, Dout].
 * No backward of its own: op_windows and op_linear record theirs.
 */
Tensor *op_conv1d(Tape *tape, Tensor *x, Tensor *w, Tensor *bias, int k, ConvPadding padding)
{
    Sentences s = read_sentences("conv1d", x);
    char x_text[SHAPE_TEXT_BYTES], w_text[SHAPE_TEXT_BYTES];
    shape_format(x->shape, x_text, sizeof x_text);
    shape_format(w->shape, w_text, sizeof w_text);
    int pad_left = conv_left_padding(k, padding, x_text, w_text);

    /* op_linear would reject a wrong w too, but only this message names k and Din. */
    int window_width = multiply_dims("conv1d", "k * Din", k, s.width);
    if (w->shape.ndim != 2 || w->shape.dim[1] != window_width)
        core_fatal("conv1d: expects w [Dout, k*Din] = [Dout, %d] for k = %d and x %s, got w %s",
                   window_width, k, x_text, w_text);

    Tensor *windows = op_windows(tape, x, k, pad_left, k - 1 - pad_left);
    return op_linear(tape, windows, w, bias);
}

/* ------------------------------------------------------------------------- */
/* Pairwise concatenation and column sums                                      */
/* ------------------------------------------------------------------------- */

/*
 * Pair q*m + k of out is [x_q ; x_k], so
 *   dx_q += sum over k of dout[q*m + k][0 .. D-1]    (x_q as the first half)
 *   dx_q += sum over p of dout[p*m + q][D .. 2D-1]   (x_q as the second half).
 * Uses in[0] = x [B, m, D] or [m, D]. Gathers per row of x, so each element
 * of dx is written by one thread.
 */
static void pairwise_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    if (!x->grad)
        return;

    Sentences s = read_sentences("pairwise", x);
    size_t width = (size_t)s.width;
    size_t m = (size_t)s.length;
    size_t rows = (size_t)s.batch * m;
    const float *dout = entry->out->grad;

    PARALLEL_FOR_IF(entry->out->size >= PARALLEL_MIN_FLOATS)
    for (size_t r = 0; r < rows; r++) {
        size_t b = r / m;
        size_t q = r % m;
        const float *pairs = dout + b * m * m * 2 * width;
        float *dst = x->grad + r * width;

        for (size_t k = 0; k < m; k++) {
            const float *first_half = pairs + (q * m + k) * 2 * width;
            for (size_t d = 0; d < width; d++)
                dst[d] += first_half[d];
        }
        for (size_t p = 0; p < m; p++) {
            const float *second_half = pairs + (p * m + q) * 2 * width + width;
            for (size_t d = 0; d < width; d++)
                dst[d] += second_half[d];
        }
    }
}

/* x [B, m, D] -> out [B, m*m, 2D]: pair q*m + k is [x_q ; x_k]. */
Tensor *op_pairwise(Tape *tape, Tensor *x)
{
    Sentences s = read_sentences("pairwise", x);
    int pair_count = multiply_dims("pairwise", "m * m", s.length, s.length);
    int pair_width = multiply_dims("pairwise", "2 * D", 2, s.width);
    Tensor *out =
        new_output(tape, "pairwise", sentence_shape(s, pair_count, pair_width), x->grad != NULL);

    /* Each row r of x is the query of the m pairs r*m .. r*m + m-1 of its sentence. */
    size_t width = (size_t)s.width;
    size_t m = (size_t)s.length;
    size_t rows = (size_t)s.batch * m;
    size_t bytes = width * sizeof(float);
    PARALLEL_FOR_IF(out->size >= PARALLEL_MIN_FLOATS)
    for (size_t r = 0; r < rows; r++) {
        const float *sentence = x->data + (r / m) * m * width;
        const float *query = x->data + r * width;
        float *dst = out->data + r * m * 2 * width;
        for (size_t k = 0; k < m; k++) {
            memcpy(dst + k * 2 * width, query, bytes);
            memcpy(dst + k * 2 * width + width, sentence + k * width, bytes);
        }
    }

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "pairwise", pairwise_backward, out);
        entry->in[0] = x;
    }
    return out;
}

/* Returns n with n * n == count, or stops the program naming x's shape. */
static int read_grid_side(const Tensor *x, int count)
{
    int n = 1;
    while ((long long)n * n < count)
        n++;
    if ((long long)n * n != count)
        fatal_shape("column_sum",
                    "expects x [B, n*n, D] whose middle dimension is a perfect square", x->shape);
    return n;
}

/*
 * dx[b, q*n + k] += dout[b, q] for every k. Uses in[0] = x [B, n*n, D] or
 * [n*n, D]. Each row of dx is written by one thread.
 */
static void column_sum_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    if (!x->grad)
        return;

    Sentences s = read_sentences("column_sum", x);
    size_t n = (size_t)read_grid_side(x, s.length);
    size_t width = (size_t)s.width;
    size_t rows = (size_t)s.batch * n * n;
    const float *dout = entry->out->grad;

    /* Row r of x is pair r of the grids; its query row in out is r / n. */
    PARALLEL_FOR_IF(x->size >= PARALLEL_MIN_FLOATS)
    for (size_t r = 0; r < rows; r++) {
        const float *src = dout + (r / n) * width;
        float *dst = x->grad + r * width;
        for (size_t d = 0; d < width; d++)
            dst[d] += src[d];
    }
}

/* x [B, n*n, D] -> out [B, n, D]: out[b, q] = sum over k of x[b, q*n + k]. */
Tensor *op_column_sum(Tape *tape, Tensor *x)
{
    Sentences s = read_sentences("column_sum", x);
    int n = read_grid_side(x, s.length);
    size_t width = (size_t)s.width;
    size_t columns = (size_t)s.batch * (size_t)n;
    Tensor *out = new_output(tape, "column_sum", sentence_shape(s, n, s.width), x->grad != NULL);

    /* Output row c (sentence c / n, query c % n) sums the n consecutive rows c*n .. c*n + n-1. */
    PARALLEL_FOR_IF(out->size * (size_t)n >= PARALLEL_MIN_FLOATS)
    for (size_t c = 0; c < columns; c++) {
        float *dst = out->data + c * width;
        const float *column = x->data + c * (size_t)n * width;
        for (size_t k = 0; k < (size_t)n; k++)
            for (size_t d = 0; d < width; d++)
                dst[d] += column[k * width + d];
    }

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "column_sum", column_sum_backward, out);
        entry->in[0] = x;
    }
    return out;
}
