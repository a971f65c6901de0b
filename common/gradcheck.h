/**
 * @file gradcheck.h
 * @brief Checks an op's hand-written backward against central differences.
 *
 * The checked function f builds a tensor from its inputs on a tape. The
 * checker reduces it to the scalar L = sum_i out_i * w_i, with fixed
 * pseudo-random weights w_i (so that a backward which gets the gradient of a
 * plain sum right but mixes up elements still fails), runs tape_backward,
 * and compares every element of every input gradient with
 *
 *   (L(x + eps) - L(x - eps)) / (2 eps),
 *
 * the loss evaluated in double precision from the float outputs.
 */
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include "tensor.h"

/** Builds the checked tensor from @p inputs on @p tape. */
typedef Tensor *(*GradcheckFn)(Tape *tape, Tensor **inputs, void *context);

/** Tolerances of a gradient check. */
typedef struct GradcheckOptions {
    float eps;      /**< finite-difference step */
    double tol_abs; /**< allowed absolute difference */
    double tol_rel; /**< allowed difference relative to the larger of the two gradients */
} GradcheckOptions;

/** eps 1e-2, tol_abs 1e-3, tol_rel 1e-2: right for float32 ops with values of order 1. */
GradcheckOptions gradcheck_default_options(void);

/** What a gradient check found. */
typedef struct GradcheckResult {
    size_t checked;      /**< gradient elements compared */
    size_t mismatches;   /**< elements outside the tolerance */
    double max_abs_diff; /**< largest |analytic - numeric| */
    bool all_zero;       /**< every analytic gradient element was exactly zero */
} GradcheckResult;

/**
 * Compares analytic and numeric gradients of every input that has a
 * gradient (persistent tensors from tensor_new with requires_grad).
 * On a mismatch it prints @p label, the input, the first few differing
 * indices and the largest difference to stderr; on success it prints nothing.
 * The inputs' data is restored and their gradients are left holding the
 * analytic gradient.
 */
GradcheckResult gradcheck(const char *label, GradcheckFn f, Tensor **inputs, int input_count,
                          void *context, GradcheckOptions options);

#endif /* GRADCHECK_H */
