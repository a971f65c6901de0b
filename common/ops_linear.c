/*
 * Linear algebra and element-wise arithmetic: matmul, linear, add, mul,
 * scale, concat and reshape (contracts and shapes in ops.h). Each op's
 * backward function sits right below its forward function.
 *
 * The matrix product is where the models spend their time, so it has one
 * kernel, gemm_accumulate, that forward and backward both call directly (not
 * through the tape). Its result does not depend on the number of threads:
 * every output element is computed by one thread, as float sums over fixed
 * chunks of k added to the destination in ascending order.
 *
 * Built with `make BLAS=openblas` (which defines CORE_BLAS_OPENBLAS), the
 * kernel hands every product to OpenBLAS's cblas_sgemm instead; see
 * gemm_blas.
 */
#include "ops.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef CORE_BLAS_OPENBLAS
#include <cblas.h>
#endif

/* ------------------------------------------------------------------------- */
/* The matrix-product kernel                                                   */
/* ------------------------------------------------------------------------- */

/*
 * Size of the output tile that the kernel keeps in registers. Each step over
 * k loads one row of TILE_COLS values of B and TILE_ROWS values of A, and
 * then does TILE_ROWS * TILE_COLS multiply-adds, so the loads no longer limit
 * the speed. 8 x 32 was the fastest of the sizes tried (4 to 12 rows, 16 to 64
 * columns) with GCC 12 -O3 -march=native on an AMD EPYC with AVX-512: about
 * 100 GFLOPS on one core for 512 x 512 x 512.
 * NOTE: on CPUs with AVX2 but no AVX-512 a smaller tile may be faster. Built
 * with -march=haswell on the same machine, 8 x 32 reached about 60 GFLOPS
 * and 4 x 24 about 100.
 */
#define TILE_ROWS 8
#define TILE_COLS 32

/*
 * Rows of C in one task. Each chunk of a panel of B is packed once per task,
 * so taller blocks pack less often, while the block's part of A for one
 * chunk (256 * K_CHUNK floats, 128 KB) still fits in the L2 cache. 256 was
 * faster than 64 and 128 in the measurement above.
 */
#define BLOCK_ROWS 256

/*
 * Depth of one chunk of the sum over k. A task packs K_CHUNK rows of one
 * panel of B (K_CHUNK * TILE_COLS floats, 16 KB) and runs all its tiles over
 * them while they sit in the L1 cache. A long sum, such as a weight gradient
 * over many rows, then reads B from memory once per task, not once per tile.
 */
#define K_CHUNK 128

/*
 * Multiply-adds below which a product stays on one thread, because waking
 * the threads costs more than they save: 100 x 100 x 100 (one million) ran
 * slower on 2 threads than on 1 in the measurement above.
 */
#define THREAD_MIN_MACS ((double)(1 << 23))

/*
 * a * b + c. Where the hardware has a fused multiply-add (FP_FAST_FMAF, from
 * C99's math.h), fmaf is one instruction with one rounding. GCC in ISO C mode
 * does not fuse a * b + c by itself, and the fused form made the kernel about
 * 1.4 times faster in the measurement above.
 */
#ifdef FP_FAST_FMAF
#define MUL_ADD(a, b, c) fmaf((a), (b), (c))
#else
#define MUL_ADD(a, b, c) ((a) * (b) + (c))
#endif

/*
 * A matrix product C += op(A) op(B), or `batches` independent ones, all
 * matrices row-major and contiguous. op(A) is [m, k] and op(B) is [k, n].
 * A is stored [m, k], or [k, m] when trans_a, and B is stored [k, n], or
 * [n, k] when trans_b. The matrices of product t start t * a_stride,
 * t * b_stride and t * c_stride elements after the first ones.
 */
typedef struct Gemm {
    float *c;       /* [m, n], added to */
    const float *a; /* [m, k] or [k, m] */
    const float *b; /* [k, n] or [n, k] */
    int m, n, k;
    bool trans_a, trans_b;
    int batches; /* products; gemm_accumulate runs only the first */
    size_t a_stride, b_stride, c_stride;
} Gemm;

static int min_int(int x, int y) { return x < y ? x : y; }

/* Returns count as an int, the type of the kernel's sizes; stops the program when it does not fit.
 */
static int int_or_die(size_t count, const char *op)
{
    if (count > INT_MAX)
        core_fatal("%s: %zu rows or products exceed the kernel's limit of %d", op, count, INT_MAX);
    return (int)count;
}

static int panel_count(int n) { return (n + TILE_COLS - 1) / TILE_COLS; }

/*
 * Copies rows k0..k0+depth-1, columns j0..j0+cols-1 of op(B) into
 * panel [depth, TILE_COLS], zero past column cols. The kernel then reads B
 * sequentially, whether or not it is transposed, and never needs a column
 * remainder loop.
 */
static void pack_panel(const Gemm *g, int k0, int depth, int j0, int cols, float *panel)
{
    if (cols < TILE_COLS)
        memset(panel, 0, (size_t)depth * TILE_COLS * sizeof(float));

    if (g->trans_b) {
        /* B [n, k]: read each row of B along k, write one column of the panel. */
        for (int j = 0; j < cols; j++) {
            const float *b_row = g->b + (size_t)(j0 + j) * (size_t)g->k + k0;
            for (int kk = 0; kk < depth; kk++)
                panel[kk * TILE_COLS + j] = b_row[kk];
        }
    } else {
        /* B [k, n]: copy a piece of each row. */
        for (int kk = 0; kk < depth; kk++)
            memcpy(panel + kk * TILE_COLS, g->b + (size_t)(k0 + kk) * (size_t)g->n + j0,
                   (size_t)cols * sizeof(float));
    }
}

/*
 * Adds one tile of one chunk of the product to C: rows i0..i0+rows-1,
 * columns j0..j0+cols-1, k from k0 to k0+depth-1, with rows <= TILE_ROWS
 * and cols <= TILE_COLS. The sum runs in a local array that the compiler
 * keeps in vector registers, because the two inner loops have constant
 * bounds and are unrolled and vectorised. It is added to C once at the end.
 */
static void multiply_tile(const Gemm *g, const float *panel, int k0, int depth, int i0, int rows,
                          int j0, int cols)
{
    /* Rows past the last one repeat it, so the loop bounds stay fixed. Their sums are dropped. */
    const float *a_row[TILE_ROWS];
    ptrdiff_t a_step = g->trans_a ? g->m : 1;
    for (int r = 0; r < TILE_ROWS; r++) {
        size_t i = (size_t)(i0 + min_int(r, rows - 1));
        a_row[r] = g->trans_a ? g->a + (size_t)k0 * (size_t)g->m + i : g->a + i * (size_t)g->k + k0;
    }

    float acc[TILE_ROWS][TILE_COLS] = {{0}};
    for (int kk = 0; kk < depth; kk++) {
        const float *b = panel + kk * TILE_COLS;
        for (int r = 0; r < TILE_ROWS; r++) {
            float a = a_row[r][kk * a_step];
            for (int j = 0; j < TILE_COLS; j++)
                acc[r][j] = MUL_ADD(a, b[j], acc[r][j]);
        }
    }

    float *c = g->c + (size_t)i0 * (size_t)g->n + j0;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++)
            c[(size_t)r * (size_t)g->n + j] += acc[r][j];
}

/* Adds the product of rows i_start..i_end-1 of op(A) and panel p of op(B) into C, chunk by chunk.
 */
static void multiply_task(const Gemm *g, int i_start, int i_end, int p)
{
    _Alignas(64) float panel[K_CHUNK * TILE_COLS];
    int j0 = p * TILE_COLS;
    int cols = min_int(TILE_COLS, g->n - j0);

    for (int k0 = 0; k0 < g->k; k0 += K_CHUNK) {
        int depth = min_int(K_CHUNK, g->k - k0);
        pack_panel(g, k0, depth, j0, cols, panel);
        for (int i = i_start; i < i_end; i += TILE_ROWS)
            multiply_tile(g, panel, k0, depth, i, min_int(TILE_ROWS, i_end - i), j0, cols);
    }
}

/*
 * Returns the rows of C per task: BLOCK_ROWS, halved down to one tile while
 * that gives fewer tasks than threads. A short C, such as a weight gradient
 * summed over many rows, thus still spreads over the threads.
 */
static int choose_block_rows(int m, int panels)
{
    int rows = BLOCK_ROWS;
    while (rows > TILE_ROWS && (m + rows - 1) / rows * panels < core_threads())
        rows /= 2;
    return rows;
}

#ifdef CORE_BLAS_OPENBLAS
/*
 * Computes C += op(A) op(B) with OpenBLAS: cblas_sgemm computes
 * C = alpha op(A) op(B) + beta C, so alpha = beta = 1 accumulates. In
 * row-major storage a leading dimension is the length of a stored row: k for
 * A [m, k], m for A [k, m], n for B [k, n], k for B [n, k], n for C [m, n].
 * OpenBLAS runs its own thread pool, sized here to the core's thread count.
 * Its sums are not cut into K_CHUNK pieces, so results may differ from the
 * default build's in the last bits, and OpenBLAS may split a product
 * differently for another thread count: with BLAS=openblas only the same
 * thread count gives the same bits.
 */
static void gemm_blas(const Gemm *g)
{
    openblas_set_num_threads(core_threads());
    cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
                g->trans_b ? CblasTrans : CblasNoTrans, g->m, g->n, g->k, 1.0f, g->a,
                g->trans_a ? g->m : g->k, g->b, g->trans_b ? g->k : g->n, 1.0f, g->c, g->n);
}
#endif

/* Runs task number `task`: a block of block_rows rows of C times one panel of columns. */
static void run_task(const Gemm *g, int task, int panels, int block_rows)
{
    /* Consecutive tasks share a block of A, so it stays in one thread's cache. */
    int i_start = task / panels * block_rows;
    int i_end = min_int(i_start + block_rows, g->m);
    multiply_task(g, i_start, i_end, task % panels);
}

/*
 * Computes C += op(A) op(B). A task is a block of rows of C times one panel
 * of columns, and each element of C belongs to exactly one task. With
 * allow_threads and enough work, the tasks are split over the OpenMP threads.
 * Each element is summed the same way in any task: one float sum per chunk
 * of K_CHUNK values of k (chunks start at multiples of K_CHUNK), each added
 * to C in order. So neither the cut into tasks nor the thread count changes
 * a result.
 */
static void gemm_accumulate(const Gemm *g, bool allow_threads)
{
#ifdef CORE_BLAS_OPENBLAS
    gemm_blas(g);
    (void)allow_threads;
    return;
#endif

    int panels = panel_count(g->n);
    int block_rows = choose_block_rows(g->m, panels);
    int blocks = (g->m + block_rows - 1) / block_rows;
    int tasks = blocks * panels;
    bool threaded =
        allow_threads && tasks > 1 && (double)g->m * (double)g->n * (double)g->k >= THREAD_MIN_MACS;

    /*
     * A product too small for threads skips the OpenMP construct, because
     * entering one costs time even with its if clause false. One 32 x 16 x 32
     * product of an attention head took 1.36 microseconds with it and 0.83
     * without (same machine as TILE_ROWS, one thread).
     */
    if (!threaded) {
        for (int task = 0; task < tasks; task++)
            run_task(g, task, panels, block_rows);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
    for (int task = 0; task < tasks; task++)
        run_task(g, task, panels, block_rows);
}

/*
 * Runs all g->batches products. Many small products (attention heads) are
 * spread over the threads one product each, and a large product uses the
 * threads inside gemm_accumulate.
 */
static void gemm_batched(const Gemm *g)
{
    double product_macs = (double)g->m * (double)g->n * (double)g->k;
    bool across_batches = g->batches > 1 && product_macs < THREAD_MIN_MACS &&
                          product_macs * g->batches >= THREAD_MIN_MACS;
    (void)across_batches; /* read only by the OpenMP clause */
#ifdef CORE_BLAS_OPENBLAS
    /* OpenBLAS threads each product itself, and gemm_blas resizes its pool from one thread only. */
    across_batches = false;
#endif

#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (across_batches)
#endif
    for (int t = 0; t < g->batches; t++) {
        Gemm one = *g;
        one.a = g->a + (size_t)t * g->a_stride;
        one.b = g->b + (size_t)t * g->b_stride;
        one.c = g->c + (size_t)t * g->c_stride;
        gemm_accumulate(&one, !across_batches);
    }
}

/* ------------------------------------------------------------------------- */
/* Shape checks                                                                */
/* ------------------------------------------------------------------------- */

/* Stops the program with "op: shapes A and B <reason>". */
static void fail_shapes(const char *op, Shape a, Shape b, const char *reason)
{
    char a_text[64];
    char b_text[64];
    shape_format(a, a_text, sizeof a_text);
    shape_format(b, b_text, sizeof b_text);
    core_fatal("%s: shapes %s and %s %s", op, a_text, b_text, reason);
}

static bool shapes_equal(Shape a, Shape b)
{
    if (a.ndim != b.ndim)
        return false;
    for (int i = 0; i < a.ndim; i++)
        if (a.dim[i] != b.dim[i])
            return false;
    return true;
}

/* Returns whether the first `count` dimensions of a and b are equal. */
static bool leading_dims_equal(Shape a, Shape b, int count)
{
    for (int i = 0; i < count; i++)
        if (a.dim[i] != b.dim[i])
            return false;
    return true;
}

/* ------------------------------------------------------------------------- */
/* matmul                                                                      */
/* ------------------------------------------------------------------------- */

/* How op_matmul maps its tensors onto products: sizes, count and strides. */
typedef struct MatmulPlan {
    int m, n, k;     /* one product: op(a) [m, k], op(b) [k, n] */
    int batches;     /* products, 1 when b is 2-D */
    size_t a_stride; /* elements between consecutive products' matrices */
    size_t b_stride;
    size_t c_stride;
    Shape out_shape;
} MatmulPlan;

/* b 2-D: a's leading dimensions fold into the rows of one product. */
static MatmulPlan plan_folded(Shape a, Shape b, bool trans_a, bool trans_b)
{
    MatmulPlan plan = {0};
    if (trans_a && a.ndim != 2)
        fail_shapes("matmul", a, b, "do not fit: trans_a needs a 2-D a when b is 2-D");

    int a_last = a.dim[a.ndim - 1];
    size_t rows = (size_t)a.dim[0];
    for (int i = 1; i < a.ndim - 1; i++)
        rows *= (size_t)a.dim[i];
    plan.k = trans_a ? a.dim[0] : a_last;
    plan.m = trans_a ? a_last : int_or_die(rows, "matmul");
    plan.n = trans_b ? b.dim[0] : b.dim[1];
    if ((trans_b ? b.dim[1] : b.dim[0]) != plan.k)
        fail_shapes("matmul", a, b, "do not fit: the inner dimensions differ");

    plan.batches = 1;
    plan.out_shape = a;
    if (trans_a)
        plan.out_shape.dim[0] = plan.m;
    plan.out_shape.dim[a.ndim - 1] = plan.n;
    return plan;
}

/* b 3-D or 4-D: one product per index of the shared leading dimensions. */
static MatmulPlan plan_batched(Shape a, Shape b, bool trans_a, bool trans_b)
{
    MatmulPlan plan = {0};
    int lead = b.ndim - 2;
    if (a.ndim != b.ndim || !leading_dims_equal(a, b, lead))
        fail_shapes("matmul", a, b, "do not fit: a batched product needs equal leading dimensions");

    int a_rows = a.dim[lead], a_cols = a.dim[lead + 1];
    int b_rows = b.dim[lead], b_cols = b.dim[lead + 1];
    plan.m = trans_a ? a_cols : a_rows;
    plan.k = trans_a ? a_rows : a_cols;
    plan.n = trans_b ? b_rows : b_cols;
    if ((trans_b ? b_cols : b_rows) != plan.k)
        fail_shapes("matmul", a, b, "do not fit: the inner dimensions differ");

    size_t batches = 1;
    for (int i = 0; i < lead; i++)
        batches *= (size_t)a.dim[i];
    plan.batches = int_or_die(batches, "matmul");
    plan.a_stride = (size_t)a_rows * (size_t)a_cols;
    plan.b_stride = (size_t)b_rows * (size_t)b_cols;
    plan.c_stride = (size_t)plan.m * (size_t)plan.n;
    plan.out_shape = a;
    plan.out_shape.dim[lead] = plan.m;
    plan.out_shape.dim[lead + 1] = plan.n;
    return plan;
}

/* Checks the shapes of op_matmul and returns its plan; stops the program on a mismatch. */
static MatmulPlan plan_matmul(Shape a, Shape b, bool trans_a, bool trans_b)
{
    if (a.ndim < 2 || b.ndim < 2)
        fail_shapes("matmul", a, b, "do not fit: both operands need at least 2 dimensions");
    if (b.ndim == 2)
        return plan_folded(a, b, trans_a, trans_b);
    return plan_batched(a, b, trans_a, trans_b);
}

/* Adds d(a) of out = op(a) op(b) into a->grad: G op(b)^T for a [m, k], op(b) G^T for a [k, m]. */
static void matmul_grad_a(const MatmulPlan *plan, Tensor *a, const Tensor *b, const float *grad_out,
                          bool trans_a, bool trans_b)
{
    if (!trans_a)
        gemm_batched(&(Gemm){.c = a->grad,
                             .a = grad_out,
                             .b = b->data,
                             .m = plan->m,
                             .n = plan->k,
                             .k = plan->n,
                             .trans_a = false,
                             .trans_b = !trans_b,
                             .batches = plan->batches,
                             .a_stride = plan->c_stride,
                             .b_stride = plan->b_stride,
                             .c_stride = plan->a_stride});
    else
        gemm_batched(&(Gemm){.c = a->grad,
                             .a = b->data,
                             .b = grad_out,
                             .m = plan->k,
                             .n = plan->m,
                             .k = plan->n,
                             .trans_a = trans_b,
                             .trans_b = true,
                             .batches = plan->batches,
                             .a_stride = plan->b_stride,
                             .b_stride = plan->c_stride,
                             .c_stride = plan->a_stride});
}

/* Adds d(b) of out = op(a) op(b) into b->grad: op(a)^T G for b [k, n], G^T op(a) for b [n, k]. */
static void matmul_grad_b(const MatmulPlan *plan, const Tensor *a, Tensor *b, const float *grad_out,
                          bool trans_a, bool trans_b)
{
    if (!trans_b)
        gemm_batched(&(Gemm){.c = b->grad,
                             .a = a->data,
                             .b = grad_out,
                             .m = plan->k,
                             .n = plan->n,
                             .k = plan->m,
                             .trans_a = !trans_a,
                             .trans_b = false,
                             .batches = plan->batches,
                             .a_stride = plan->a_stride,
                             .b_stride = plan->c_stride,
                             .c_stride = plan->b_stride});
    else
        gemm_batched(&(Gemm){.c = b->grad,
                             .a = grad_out,
                             .b = a->data,
                             .m = plan->n,
                             .n = plan->k,
                             .k = plan->m,
                             .trans_a = true,
                             .trans_b = trans_a,
                             .batches = plan->batches,
                             .a_stride = plan->c_stride,
                             .b_stride = plan->a_stride,
                             .c_stride = plan->b_stride});
}

/*
 * Backward of matmul. Entry: in[0] a, in[1] b, iarg[0] trans_a, iarg[1] trans_b.
 * With G = d(out):  d op(a) = G op(b)^T  and  d op(b) = op(a)^T G.
 * A transposed operand receives the transpose, so each gradient is one more
 * product with the transpose flags chosen to match.
 */
static void matmul_backward(const TapeEntry *entry)
{
    Tensor *a = entry->in[0], *b = entry->in[1];
    bool trans_a = entry->iarg[0], trans_b = entry->iarg[1];
    MatmulPlan plan = plan_matmul(a->shape, b->shape, trans_a, trans_b);

    if (a->grad)
        matmul_grad_a(&plan, a, b, entry->out->grad, trans_a, trans_b);
    if (b->grad)
        matmul_grad_b(&plan, a, b, entry->out->grad, trans_a, trans_b);
}

Tensor *op_matmul(Tape *tape, Tensor *a, Tensor *b, bool trans_a, bool trans_b)
{
    MatmulPlan plan = plan_matmul(a->shape, b->shape, trans_a, trans_b);
    Tensor *out = tape_tensor(tape, plan.out_shape, a->grad || b->grad);

    /* out is zero-filled, so accumulating into it computes the product. */
    tape->multiply_adds += (unsigned long long)plan.batches * (unsigned long long)plan.m *
                           (unsigned long long)plan.n * (unsigned long long)plan.k;
    gemm_batched(&(Gemm){.c = out->data,
                         .a = a->data,
                         .b = b->data,
                         .m = plan.m,
                         .n = plan.n,
                         .k = plan.k,
                         .trans_a = trans_a,
                         .trans_b = trans_b,
                         .batches = plan.batches,
                         .a_stride = plan.a_stride,
                         .b_stride = plan.b_stride,
                         .c_stride = plan.c_stride});

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "matmul", matmul_backward, out);
        entry->in[0] = a;
        entry->in[1] = b;
        entry->iarg[0] = trans_a;
        entry->iarg[1] = trans_b;
    }
    return out;
}

/* ------------------------------------------------------------------------- */
/* linear                                                                      */
/* ------------------------------------------------------------------------- */

/*
 * Adds the column sums of grad_out [rows, cols] into grad [cols]. Like the
 * row reductions in ops_activation.c, each sum runs over the rows in order
 * in double, and is then added to grad once.
 */
static void add_column_sums(float *grad, const float *grad_out, size_t rows, size_t cols)
{
    double *sums = calloc(cols, sizeof(double));
    if (!sums)
        core_fatal("out of memory summing %zu gradient columns", cols);

    for (size_t i = 0; i < rows; i++) {
        const float *row = grad_out + i * cols;
        for (size_t j = 0; j < cols; j++)
            sums[j] += row[j];
    }
    for (size_t j = 0; j < cols; j++)
        grad[j] += (float)sums[j];
    free(sums);
}

/*
 * Backward of linear. Entry: in[0] x [N, Din], in[1] w [Dout, Din],
 * in[2] bias [Dout] or NULL. With G = d(out) [N, Dout]:
 * dx += G w, dw += G^T x, dbias += the column sums of G.
 */
static void linear_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0], *w = entry->in[1], *bias = entry->in[2];
    const float *grad_out = entry->out->grad;
    int rows = int_or_die(tensor_rows(x), "linear");
    int in_dim = w->shape.dim[1], out_dim = w->shape.dim[0];

    if (x->grad)
        gemm_accumulate(
            &(Gemm){
                .c = x->grad, .a = grad_out, .b = w->data, .m = rows, .n = in_dim, .k = out_dim},
            true);
    if (w->grad)
        gemm_accumulate(&(Gemm){.c = w->grad,
                                .a = grad_out,
                                .b = x->data,
                                .m = out_dim,
                                .n = in_dim,
                                .k = rows,
                                .trans_a = true},
                        true);
    if (bias && bias->grad)
        add_column_sums(bias->grad, grad_out, (size_t)rows, (size_t)out_dim);
}

Tensor *op_linear(Tape *tape, Tensor *x, Tensor *w, Tensor *bias)
{
    /* Shapes: x [..., Din], w [Dout, Din], bias [Dout] or NULL. */
    if (w->shape.ndim != 2 || tensor_cols(x) != w->shape.dim[1])
        fail_shapes("linear", x->shape, w->shape,
                    "do not fit: x must be [..., Din], w [Dout, Din]");
    int out_dim = w->shape.dim[0], in_dim = w->shape.dim[1];
    if (bias && (bias->shape.ndim != 1 || bias->shape.dim[0] != out_dim))
        fail_shapes("linear", w->shape, bias->shape, "do not fit: bias must be [Dout]");

    Shape out_shape = x->shape;
    out_shape.dim[out_shape.ndim - 1] = out_dim;
    bool needs_grad = x->grad || w->grad || (bias && bias->grad);
    Tensor *out = tape_tensor(tape, out_shape, needs_grad);

    /* out = x w^T, then the bias on every row. */
    int rows = int_or_die(tensor_rows(x), "linear");
    tape->multiply_adds +=
        (unsigned long long)rows * (unsigned long long)out_dim * (unsigned long long)in_dim;
    gemm_accumulate(&(Gemm){.c = out->data,
                            .a = x->data,
                            .b = w->data,
                            .m = rows,
                            .n = out_dim,
                            .k = in_dim,
                            .trans_b = true},
                    true);
    if (bias)
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < out_dim; j++)
                out->data[(size_t)i * (size_t)out_dim + j] += bias->data[j];

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "linear", linear_backward, out);
        entry->in[0] = x;
        entry->in[1] = w;
        entry->in[2] = bias;
    }
    return out;
}

/* ------------------------------------------------------------------------- */
/* add, mul, scale                                                             */
/* ------------------------------------------------------------------------- */

/* Returns whether `tail` equals the last tail.ndim dimensions of `whole`. */
static bool is_trailing_shape(Shape whole, Shape tail)
{
    if (tail.ndim > whole.ndim)
        return false;
    int offset = whole.ndim - tail.ndim;
    for (int i = 0; i < tail.ndim; i++)
        if (whole.dim[offset + i] != tail.dim[i])
            return false;
    return true;
}

/*
 * Backward of add. Entry: in[0] a, in[1] b. da += G; db += G summed over
 * the copies of b (one copy when the shapes are equal), copies in order.
 */
static void add_backward(const TapeEntry *entry)
{
    Tensor *a = entry->in[0], *b = entry->in[1];
    const float *grad_out = entry->out->grad;

    if (a->grad)
        for (size_t i = 0; i < a->size; i++)
            a->grad[i] += grad_out[i];
    if (b->grad && b->size == a->size)
        for (size_t i = 0; i < b->size; i++)
            b->grad[i] += grad_out[i];
    else if (b->grad)
        add_column_sums(b->grad, grad_out, a->size / b->size, b->size);
}

Tensor *op_add(Tape *tape, Tensor *a, Tensor *b)
{
    /* Shapes: a [...], b a's shape or a's trailing dimensions. */
    if (!is_trailing_shape(a->shape, b->shape))
        fail_shapes("add", a->shape, b->shape,
                    "do not fit: b must have the shape of a or of a's trailing dimensions");

    Tensor *out = tape_tensor(tape, a->shape, a->grad || b->grad);

    /* Copy t of b goes onto elements t * b->size .. of a. */
    for (size_t start = 0; start < a->size; start += b->size)
        for (size_t j = 0; j < b->size; j++)
            out->data[start + j] = a->data[start + j] + b->data[j];

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "add", add_backward, out);
        entry->in[0] = a;
        entry->in[1] = b;
    }
    return out;
}

/* Backward of mul. Entry: in[0] a, in[1] b. da += G b, db += G a. */
static void mul_backward(const TapeEntry *entry)
{
    Tensor *a = entry->in[0], *b = entry->in[1];
    const float *grad_out = entry->out->grad;

    if (a->grad)
        for (size_t i = 0; i < a->size; i++)
            a->grad[i] += grad_out[i] * b->data[i];
    if (b->grad)
        for (size_t i = 0; i < b->size; i++)
            b->grad[i] += grad_out[i] * a->data[i];
}

Tensor *op_mul(Tape *tape, Tensor *a, Tensor *b)
{
    if (!shapes_equal(a->shape, b->shape))
        fail_shapes("mul", a->shape, b->shape, "differ: mul needs equal shapes");

    Tensor *out = tape_tensor(tape, a->shape, a->grad || b->grad);
    for (size_t i = 0; i < a->size; i++)
        out->data[i] = a->data[i] * b->data[i];

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "mul", mul_backward, out);
        entry->in[0] = a;
        entry->in[1] = b;
    }
    return out;
}

/* Backward of scale. Entry: in[0] x, farg the factor. dx += factor G. */
static void scale_backward(const TapeEntry *entry)
{
    Tensor *x = entry->in[0];
    const float *grad_out = entry->out->grad;

    if (x->grad)
        for (size_t i = 0; i < x->size; i++)
            x->grad[i] += entry->farg * grad_out[i];
}

Tensor *op_scale(Tape *tape, Tensor *x, float factor)
{
    Tensor *out = tape_tensor(tape, x->shape, x->grad != NULL);
    for (size_t i = 0; i < x->size; i++)
        out->data[i] = factor * x->data[i];

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "scale", scale_backward, out);
        entry->in[0] = x;
        entry->farg = factor;
    }
    return out;
}

/* ------------------------------------------------------------------------- */
/* concat, reshape                                                             */
/* ------------------------------------------------------------------------- */

/*
 * Backward of concat. Entry: in[0] a [..., Da], in[1] b [..., Db].
 * Each row of G splits into its first Da values (for a) and the rest (for b).
 */
static void concat_backward(const TapeEntry *entry)
{
    Tensor *a = entry->in[0], *b = entry->in[1];
    const float *grad_out = entry->out->grad;
    size_t rows = tensor_rows(a);
    size_t a_cols = (size_t)tensor_cols(a), b_cols = (size_t)tensor_cols(b);

    for (size_t i = 0; i < rows; i++) {
        const float *row = grad_out + i * (a_cols + b_cols);
        if (a->grad)
            for (size_t j = 0; j < a_cols; j++)
                a->grad[i * a_cols + j] += row[j];
        if (b->grad)
            for (size_t j = 0; j < b_cols; j++)
                b->grad[i * b_cols + j] += row[a_cols + j];
    }
}

Tensor *op_concat(Tape *tape, Tensor *a, Tensor *b)
{
    /* Shapes: a [..., Da], b [..., Db], out [..., Da + Db]. */
    int lead = a->shape.ndim - 1;
    if (a->shape.ndim != b->shape.ndim || !leading_dims_equal(a->shape, b->shape, lead))
        fail_shapes("concat", a->shape, b->shape, "do not fit: the leading dimensions differ");

    size_t a_cols = (size_t)tensor_cols(a), b_cols = (size_t)tensor_cols(b);
    Shape out_shape = a->shape;
    out_shape.dim[lead] = (int)(a_cols + b_cols);
    Tensor *out = tape_tensor(tape, out_shape, a->grad || b->grad);

    size_t rows = tensor_rows(a);
    for (size_t i = 0; i < rows; i++) {
        float *row = out->data + i * (a_cols + b_cols);
        memcpy(row, a->data + i * a_cols, a_cols * sizeof(float));
        memcpy(row + a_cols, b->data + i * b_cols, b_cols * sizeof(float));
    }

    if (out->grad) {
        TapeEntry *entry = tape_record(tape, "concat", concat_backward, out);
        entry->in[0] = a;
        entry->in[1] = b;
    }
    return out;
}

Tensor *op_reshape(Tape *tape, Tensor *x, Shape shape)
{
    size_t count;
    if (!shape_count(shape, &count) || count != x->size)
        fail_shapes("reshape", x->shape, shape, "differ in size or the new shape is invalid");

    /*
     * A new Tensor struct on the tape pointing at x's data and gradient:
     * gradients added through the view land in x->grad, so no tape entry
     * is needed.
     */
    Tensor *view = arena_alloc(&tape->arena, sizeof *view);
    *view = *x;
    view->shape = shape;
    return view;
}
