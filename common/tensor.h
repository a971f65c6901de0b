/**
 * @file tensor.h
 * @brief Float tensors, the per-step arena and the tape that records ops for
 *        reverse-mode automatic differentiation.
 *
 * Every model in the project is written with these tensors and the ops in
 * ops.h. A forward pass records each op on a Tape; tape_backward() then walks
 * the tape in reverse and calls each op's hand-written backward function,
 * which sits right beside its forward function in the ops_*.c files.
 *
 * Shape legend, used in every comment of the project:
 *
 *   B  batch size (sentences processed together)
 *   n  words in a sentence (sequence length); m is a count of vectors in
 *      general, such as the n*n pair vectors of the pairwise stages
 *   D  vector width (Din, Dout for a layer's input and output)
 *   V  vocabulary size
 *   P  number of positions (the position cutoff)
 *   H  number of attention heads, Dh the width of one head
 *   k  convolution window size
 *   C  number of classes
 *   N  rows in general, for example B*n
 *
 * Storage: float32, contiguous, row-major, up to 4 dimensions; the last
 * dimension varies fastest. Weight matrices are stored out x in ([Dout, Din],
 * as PyTorch stores them), so a linear layer computes y = x W^T + b. The one
 * exception is an embedding table, stored [V, D] so that row v is the vector
 * of word v.
 *
 * Memory: a tensor is either persistent (tensor_new, freed by tensor_free;
 * used for parameters and data) or belongs to a Tape (tape_tensor and every
 * op; freed all at once by tape_reset or tape_free). A training step therefore
 * allocates nothing that outlives it, and a loop of thousands of steps keeps a
 * constant footprint.
 *
 * Errors: a shape that does not fit an op, or memory that cannot be had, is a
 * bug in the calling code or an exhausted machine, not bad user input, so the
 * core prints a message naming the op and the shapes to stderr and stops the
 * program with exit status 1 (see core_fatal). Programs validate user input
 * before it reaches the core and report it themselves.
 */
#ifndef TENSOR_H
#define TENSOR_H

#include <stdbool.h>
#include <stddef.h>

/** Largest number of dimensions a tensor can have. */
#define TENSOR_MAX_DIMS 4

/** A tensor's dimensions, outermost first. */
typedef struct Shape {
    int ndim;                  /**< number of dimensions, 1 to TENSOR_MAX_DIMS */
    int dim[TENSOR_MAX_DIMS];  /**< size of each dimension, each >= 1 */
} Shape;

/** Returns the shape [d0]. */
Shape shape1(int d0);
/** Returns the shape [d0, d1]. */
Shape shape2(int d0, int d1);
/** Returns the shape [d0, d1, d2]. */
Shape shape3(int d0, int d1, int d2);
/** Returns the shape [d0, d1, d2, d3]. */
Shape shape4(int d0, int d1, int d2, int d3);

/**
 * Computes the number of elements of @p shape in size_t.
 * @return false, leaving *count unchanged, when a dimension is below 1, the
 *         number of dimensions is out of range, or the product overflows.
 */
bool shape_count(Shape shape, size_t *count);

/** Writes a shape as "[2, 3, 4]" into buf (always NUL-terminated). */
void shape_format(Shape shape, char *buf, size_t buf_size);

/** A float32 tensor with an optional gradient of the same shape. */
typedef struct Tensor {
    float *data;       /**< [size] values, row-major */
    float *grad;       /**< [size] d(loss)/d(value), or NULL when no gradient flows here */
    size_t size;       /**< number of elements, the product of shape.dim */
    Shape shape;       /**< dimensions, outermost first */
    const char *name;  /**< label for messages and checkpoints, or NULL; not owned */
} Tensor;

/* ------------------------------------------------------------------------- */
/* Persistent tensors (parameters, data)                                      */
/* ------------------------------------------------------------------------- */

/**
 * Allocates a zero-filled tensor on the heap. With @p requires_grad a
 * zero-filled gradient of the same shape is allocated too.
 * @return a tensor the caller owns and frees with tensor_free; stops the
 *         program (core_fatal) when the shape is invalid or memory runs out.
 */
Tensor *tensor_new(Shape shape, bool requires_grad);

/** Frees a tensor from tensor_new and its gradient. NULL is ignored. */
void tensor_free(Tensor *t);

/** Sets every element of t->grad to zero (no-op when there is no gradient). */
void tensor_zero_grad(Tensor *t);

/** Copies src->data into dst->data; the shapes must have equal sizes. */
void tensor_copy_data(Tensor *dst, const Tensor *src);

/** Returns the rows of a tensor seen as a matrix: the product of all but the last dimension. */
size_t tensor_rows(const Tensor *t);

/** Returns the last dimension of a tensor (the vector width). */
int tensor_cols(const Tensor *t);

/* ------------------------------------------------------------------------- */
/* The arena: one bump allocator per tape                                     */
/* ------------------------------------------------------------------------- */

/** A chunk of arena memory; chunks form a singly linked list. */
typedef struct ArenaBlock ArenaBlock;

/**
 * A bump allocator. arena_reset() keeps one block large enough for everything
 * the last cycle used, so from the second training step on it allocates
 * nothing from the system.
 */
typedef struct Arena {
    ArenaBlock *head;    /**< newest block, allocations come from here */
    size_t used_bytes;   /**< bytes handed out since the last reset */
    size_t peak_bytes;   /**< largest used_bytes seen since arena_init */
} Arena;

/** Prepares an empty arena; nothing is allocated until the first request. */
void arena_init(Arena *arena);

/**
 * Returns @p bytes of zero-filled memory aligned to 64 bytes, owned by the
 * arena and valid until the next arena_reset or arena_free.
 */
void *arena_alloc(Arena *arena, size_t bytes);

/** Invalidates everything allocated since the last reset, keeping the memory. */
void arena_reset(Arena *arena);

/** Releases all memory of the arena. */
void arena_free(Arena *arena);

/* ------------------------------------------------------------------------- */
/* The tape                                                                    */
/* ------------------------------------------------------------------------- */

struct TapeEntry;

/**
 * An op's backward function: reads entry->out->grad and adds the gradient of
 * each input into that input's grad (when it is not NULL).
 */
typedef void (*BackwardFn)(const struct TapeEntry *entry);

/**
 * One recorded op: what backward needs to send the output's gradient to the
 * inputs. Which fields an op uses is stated beside its backward function.
 */
typedef struct TapeEntry {
    BackwardFn backward;   /**< the op's backward function */
    const char *op_name;   /**< for messages, such as "matmul" */
    Tensor *out;           /**< the op's output */
    Tensor *in[3];         /**< the op's tensor inputs, unused slots NULL */
    int iarg[4];           /**< integer arguments (flags, sizes) */
    float farg;            /**< a float argument (scale factor, epsilon) */
    const int *ids;        /**< index arguments (word ids, targets), a copy in the arena */
    float *saved;          /**< values forward saved for backward, in the arena */
} TapeEntry;

/**
 * Records ops in order and owns every tensor they create.
 * With grad_enabled false (inference), ops still allocate their outputs here
 * but record nothing and allocate no gradients.
 */
typedef struct Tape {
    Arena arena;           /**< memory of every tensor made since the last reset */
    TapeEntry *entries;    /**< [capacity] recorded ops, oldest first */
    size_t count;          /**< entries in use */
    size_t capacity;       /**< entries allocated */
    bool grad_enabled;     /**< record ops and allocate gradients */
    /**
     * Multiply-adds of the matrix products run forward since the last reset
     * (op_matmul, op_linear and the ops built on them). Element-wise ops,
     * copies and backward passes are not counted.
     */
    unsigned long long multiply_adds;
} Tape;

/** Prepares an empty tape with gradients enabled. */
void tape_init(Tape *tape);

/**
 * Forgets every recorded op and tensor, whose memory is reused by the next
 * step, and sets multiply_adds to 0.
 */
void tape_reset(Tape *tape);

/** Releases all memory of the tape. */
void tape_free(Tape *tape);

/**
 * Allocates a zero-filled tensor owned by the tape, valid until the next
 * tape_reset. A gradient is allocated when @p requires_grad and the tape has
 * gradients enabled.
 */
Tensor *tape_tensor(Tape *tape, Shape shape, bool requires_grad);

/**
 * Appends an entry to the tape and returns it for the op to fill in.
 * Ops call this only when their output has a gradient.
 */
TapeEntry *tape_record(Tape *tape, const char *op_name, BackwardFn backward, Tensor *out);

/**
 * Computes gradients of a scalar @p loss with respect to every tensor with a
 * gradient, by walking the tape from the newest entry to the oldest.
 * Gradients accumulate: parameters' grads are added to, so zero them before
 * each step (params_zero_grad).
 */
void tape_backward(Tape *tape, Tensor *loss);

/* ------------------------------------------------------------------------- */
/* Errors and threads                                                         */
/* ------------------------------------------------------------------------- */

/**
 * Prints "error: " and the formatted message to stderr and exits with status 1.
 * For bugs in calling code and exhausted memory, never for user input.
 */
void core_fatal(const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((noreturn, format(printf, 1, 2)))
#endif
    ;

/**
 * Sets the number of threads the heavy loops use; 0 keeps the OpenMP default.
 * Results depend only on the seed, never on the thread count, because each
 * output element is computed by one thread in a fixed order.
 */
void core_set_threads(int threads);

/** Returns the number of threads the heavy loops will use (1 without OpenMP). */
int core_threads(void);

#endif /* TENSOR_H */
