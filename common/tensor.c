/*
 * Tensors, the arena and the tape (see tensor.h for the conventions).
 * The ops themselves live in ops_*.c.
 */
#include "tensor.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Alignment of every arena allocation: one cache line, enough for AVX-512 loads. */
#define ARENA_ALIGN 64

/* Smallest block the arena asks the system for. */
#define ARENA_MIN_BLOCK_BYTES ((size_t)1 << 20)

void core_fatal(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("error: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

void core_set_threads(int threads)
{
#ifdef _OPENMP
    if (threads > 0)
        omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}

int core_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* ------------------------------------------------------------------------- */
/* Shapes                                                                      */
/* ------------------------------------------------------------------------- */

Shape shape1(int d0) { return (Shape){1, {d0, 1, 1, 1}}; }
Shape shape2(int d0, int d1) { return (Shape){2, {d0, d1, 1, 1}}; }
Shape shape3(int d0, int d1, int d2) { return (Shape){3, {d0, d1, d2, 1}}; }
Shape shape4(int d0, int d1, int d2, int d3) { return (Shape){4, {d0, d1, d2, d3}}; }

bool shape_count(Shape shape, size_t *count)
{
    if (shape.ndim < 1 || shape.ndim > TENSOR_MAX_DIMS)
        return false;

    size_t total = 1;
    for (int i = 0; i < shape.ndim; i++) {
        if (shape.dim[i] < 1)
            return false;
        if (total > SIZE_MAX / (size_t)shape.dim[i])
            return false;
        total *= (size_t)shape.dim[i];
    }
    *count = total;
    return true;
}

void shape_format(Shape shape, char *buf, size_t buf_size)
{
    if (buf_size == 0)
        return;
    size_t used = (size_t)snprintf(buf, buf_size, "[");
    for (int i = 0; i < shape.ndim && i < TENSOR_MAX_DIMS && used < buf_size; i++)
        used += (size_t)snprintf(buf + used, buf_size - used, i ? ", %d" : "%d", shape.dim[i]);
    if (used < buf_size)
        snprintf(buf + used, buf_size - used, "]");
}

/* Returns the element count of a shape, or stops the program naming the shape. */
static size_t shape_count_or_die(Shape shape)
{
    size_t count;
    if (!shape_count(shape, &count)) {
        char text[96];
        shape_format(shape, text, sizeof text);
        core_fatal("invalid tensor shape %s: dimensions must be 1..%d sizes >= 1 whose product fits in size_t",
                   text, TENSOR_MAX_DIMS);
    }
    return count;
}

/* Returns count * elem_bytes, or stops the program when it overflows size_t. */
static size_t bytes_or_die(size_t count, size_t elem_bytes)
{
    if (count > SIZE_MAX / elem_bytes)
        core_fatal("allocation of %zu elements of %zu bytes overflows size_t", count, elem_bytes);
    return count * elem_bytes;
}

/* ------------------------------------------------------------------------- */
/* Persistent tensors                                                          */
/* ------------------------------------------------------------------------- */

Tensor *tensor_new(Shape shape, bool requires_grad)
{
    size_t count = shape_count_or_die(shape);
    size_t bytes = bytes_or_die(count, sizeof(float));

    Tensor *t = calloc(1, sizeof *t);
    float *data = calloc(count, sizeof(float));
    float *grad = requires_grad ? calloc(count, sizeof(float)) : NULL;
    if (!t || !data || (requires_grad && !grad))
        core_fatal("out of memory allocating a tensor of %zu bytes", bytes);

    t->data = data;
    t->grad = grad;
    t->size = count;
    t->shape = shape;
    return t;
}

void tensor_free(Tensor *t)
{
    if (!t)
        return;
    free(t->data);
    free(t->grad);
    free(t);
}

void tensor_zero_grad(Tensor *t)
{
    if (t->grad)
        memset(t->grad, 0, t->size * sizeof(float));
}

void tensor_copy_data(Tensor *dst, const Tensor *src)
{
    if (dst->size != src->size)
        core_fatal("tensor_copy_data: sizes differ (%zu and %zu)", dst->size, src->size);
    memcpy(dst->data, src->data, src->size * sizeof(float));
}

size_t tensor_rows(const Tensor *t) { return t->size / (size_t)tensor_cols(t); }

int tensor_cols(const Tensor *t) { return t->shape.dim[t->shape.ndim - 1]; }

/* ------------------------------------------------------------------------- */
/* Arena                                                                       */
/* ------------------------------------------------------------------------- */

struct ArenaBlock {
    ArenaBlock *next;    /* older block */
    size_t capacity;     /* usable bytes after the header */
    size_t used;         /* bytes handed out from this block */
    unsigned char *base; /* first usable byte, aligned to ARENA_ALIGN */
};

void arena_init(Arena *arena) { memset(arena, 0, sizeof *arena); }

/* Allocates a block with room for at least @p bytes, aligned. */
static ArenaBlock *arena_block_new(size_t bytes)
{
    if (bytes > SIZE_MAX - sizeof(ArenaBlock) - ARENA_ALIGN)
        core_fatal("arena request of %zu bytes overflows size_t", bytes);

    ArenaBlock *block = malloc(sizeof(ArenaBlock) + ARENA_ALIGN + bytes);
    if (!block)
        core_fatal("out of memory: the arena needs a block of %zu bytes", bytes);

    uintptr_t start = (uintptr_t)(block + 1);
    uintptr_t aligned = (start + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    block->base = (unsigned char *)aligned;
    block->capacity = bytes;
    block->used = 0;
    block->next = NULL;
    return block;
}

void *arena_alloc(Arena *arena, size_t bytes)
{
    /* Round up so the next allocation stays aligned. */
    if (bytes > SIZE_MAX - ARENA_ALIGN)
        core_fatal("arena request of %zu bytes overflows size_t", bytes);
    size_t rounded = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

    ArenaBlock *block = arena->head;
    if (!block || block->capacity - block->used < rounded) {
        size_t want = rounded > ARENA_MIN_BLOCK_BYTES ? rounded : ARENA_MIN_BLOCK_BYTES;
        block = arena_block_new(want);
        block->next = arena->head;
        arena->head = block;
    }

    void *memory = block->base + block->used;
    block->used += rounded;
    arena->used_bytes += rounded;
    if (arena->used_bytes > arena->peak_bytes)
        arena->peak_bytes = arena->used_bytes;

    memset(memory, 0, rounded);
    return memory;
}

void arena_reset(Arena *arena)
{
    ArenaBlock *head = arena->head;
    if (!head)
        return;

    /* One block that held everything: keep it as it is. */
    if (!head->next) {
        head->used = 0;
        arena->used_bytes = 0;
        return;
    }

    /*
     * Several blocks: replace them by one block the size of the peak, so the
     * next step with the same shapes fits without asking the system again.
     */
    size_t want = arena->peak_bytes;
    arena_free(arena);
    arena->head = arena_block_new(want);
    arena->peak_bytes = want;
}

void arena_free(Arena *arena)
{
    size_t peak = arena->peak_bytes;
    ArenaBlock *block = arena->head;
    while (block) {
        ArenaBlock *next = block->next;
        free(block);
        block = next;
    }
    arena->head = NULL;
    arena->used_bytes = 0;
    arena->peak_bytes = peak;
}

/* ------------------------------------------------------------------------- */
/* Tape                                                                        */
/* ------------------------------------------------------------------------- */

void tape_init(Tape *tape)
{
    memset(tape, 0, sizeof *tape);
    arena_init(&tape->arena);
    tape->grad_enabled = true;
}

void tape_reset(Tape *tape)
{
    arena_reset(&tape->arena);
    tape->count = 0;
    tape->multiply_adds = 0;
}

void tape_free(Tape *tape)
{
    arena_free(&tape->arena);
    free(tape->entries);
    tape->entries = NULL;
    tape->count = 0;
    tape->capacity = 0;
}

Tensor *tape_tensor(Tape *tape, Shape shape, bool requires_grad)
{
    size_t count = shape_count_or_die(shape);
    size_t bytes = bytes_or_die(count, sizeof(float));

    Tensor *t = arena_alloc(&tape->arena, sizeof *t);
    t->data = arena_alloc(&tape->arena, bytes);
    t->grad = (requires_grad && tape->grad_enabled) ? arena_alloc(&tape->arena, bytes) : NULL;
    t->size = count;
    t->shape = shape;
    return t;
}

TapeEntry *tape_record(Tape *tape, const char *op_name, BackwardFn backward, Tensor *out)
{
    if (tape->count == tape->capacity) {
        size_t capacity = tape->capacity ? 2 * tape->capacity : 256;
        TapeEntry *grown = realloc(tape->entries, bytes_or_die(capacity, sizeof *grown));
        if (!grown)
            core_fatal("out of memory growing the tape to %zu entries", capacity);
        tape->entries = grown;
        tape->capacity = capacity;
    }

    TapeEntry *entry = &tape->entries[tape->count++];
    memset(entry, 0, sizeof *entry);
    entry->op_name = op_name;
    entry->backward = backward;
    entry->out = out;
    return entry;
}

void tape_backward(Tape *tape, Tensor *loss)
{
    if (loss->size != 1)
        core_fatal("tape_backward: the loss must be a scalar, got %zu elements", loss->size);
    if (!loss->grad)
        core_fatal("tape_backward: the loss has no gradient (no parameter with a gradient reached it, "
                   "or the tape has gradients disabled)");

    /* d(loss)/d(loss) = 1 starts the chain rule. */
    loss->grad[0] = 1.0f;

    /* Newest first: by the time an entry runs, every op that read its output has added its share. */
    for (size_t i = tape->count; i-- > 0;) {
        const TapeEntry *entry = &tape->entries[i];
        entry->backward(entry);
    }
}
