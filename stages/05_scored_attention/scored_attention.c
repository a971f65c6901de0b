/*
 * Stage 05: the two steps every attention layer shares, turning scores into
 * weights and combining pair vectors with them.
 *
 * Layout: scores and weights are [B, n, n], and row q contains query q's
 * values over the keys k = 0..n-1. Drawings of the pair grid often give each
 * query a column instead. Those are the same n numbers, and the code calls
 * them row q throughout. The pair vectors of stage 02 use the same order:
 * pair q*n + k is r_qk.
 *
 */
#include "05_scored_attention/scored_attention.h"

#include <limits.h>
#include <stdio.h>

/* Returns the shape as text for an error message. */
static const char *format_shape(Shape shape, char *buf, size_t size)
{
    shape_format(shape, buf, size);
    return buf;
}

/*
 * Reads the batch and word count of a [B, n, n] (or [n, n]) tensor, stopping
 * the program through core_fatal when the last two dimensions differ.
 */
static void read_square(const char *op, Tensor *t, int *batch, int *n)
{
    Shape s = t->shape;
    char buf[64];
    if (s.ndim < 2 || s.ndim > 3 || s.dim[s.ndim - 1] != s.dim[s.ndim - 2])
        core_fatal("%s: expected a tensor [B, n, n] or [n, n], got %s", op,
                   format_shape(s, buf, sizeof buf));
    *batch = s.ndim == 3 ? s.dim[0] : 1;
    *n = s.dim[s.ndim - 1];
}

Tensor *attention_weights(Tape *tape, Tensor *scores)
{
    int batch, n;
    read_square("attention_weights", scores, &batch, &n);

    /* op_softmax subtracts each row's maximum before exp, so +-1000 stays finite. */
    return op_softmax(tape, scores);
}

Tensor *attention_combine_pairs(Tape *tape, Tensor *weights, Tensor *pairs)
{
    int batch, n;
    read_square("attention_combine_pairs", weights, &batch, &n);

    /* 1. Check that pairs is [B, n*n, D] (or [n*n, D]) for the same B and n. */
    Shape ps = pairs->shape;
    int width = ps.dim[ps.ndim - 1];
    bool batched = weights->shape.ndim == 3;
    bool fits = batched ? ps.ndim == 3 && ps.dim[0] == batch : ps.ndim == 2;
    long long pair_count = (long long)n * n;
    if (!fits || ps.dim[ps.ndim - 2] != pair_count) {
        char wbuf[64], pbuf[64];
        core_fatal("attention_combine_pairs: weights %s need pairs [B, n*n, D] with n*n = %lld, "
                   "got %s", format_shape(weights->shape, wbuf, sizeof wbuf), pair_count,
                   format_shape(ps, pbuf, sizeof pbuf));
    }

    if ((long long)batch * n > INT_MAX)
        core_fatal("attention_combine_pairs: B * n = %d * %d overflows int", batch, n);

    /*
     * 2. Each query is one small product: its weights as a row [1, n] times
     *    its n pair vectors [n, D]. Folding B and n into one batch of B*n
     *    products lets the batched matmul do all of them and their backward.
     */
    Tensor *row = op_reshape(tape, weights, shape3(batch * n, 1, n));
    Tensor *grid = op_reshape(tape, pairs, shape3(batch * n, n, width));
    Tensor *out = op_matmul(tape, row, grid, false, false);

    /* 3. Back to one vector per query. */
    return op_reshape(tape, out, batched ? shape3(batch, n, width) : shape2(n, width));
}
