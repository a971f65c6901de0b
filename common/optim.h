/**
 * @file optim.h
 * @brief Parameter lists and the optimisers that update them: SGD with
 *        momentum and Adam.
 *
 * A model collects its trainable tensors in a ParamList once, in a fixed
 * order. A training step then runs
 *
 *     params_zero_grad(params);
 *     ... forward pass, tape_backward(tape, loss) ...
 *     params_clip_grad_norm(params, 1.0);   (optional)
 *     adam_step(adam);
 *
 * Optimisers keep their per-element state (velocity, moments) in the order
 * of the list, so the list must not change after an optimiser was created
 * from it. A step that finds a different number of parameters stops the
 * program through core_fatal.
 *
 * Arithmetic: updates are computed per element in float32, in PyTorch 1.13's
 * order of operations, with one operation per statement so that no compiler
 * fuses a multiply and an add and every build gives the same bits.
 * Hyperparameters are doubles, rounded to float where they enter the
 * per-element arithmetic, as PyTorch does with its Python floats. PyTorch's
 * CPU kernels do fuse some multiply-adds, so results can differ from
 * PyTorch's in the last bit; tests/test_optim.c compares three steps of SGD
 * and Adam with PyTorch 1.13 within two units in the last place.
 */
#ifndef OPTIM_H
#define OPTIM_H

#include <stdbool.h>
#include <stddef.h>

#include "tensor.h"

/* ------------------------------------------------------------------------- */
/* Parameter lists                                                            */
/* ------------------------------------------------------------------------- */

/** An ordered list of trainable tensors with their names. */
typedef struct ParamList {
    Tensor **tensors; /**< [count] the parameters; not owned */
    char **names;     /**< [count] each parameter's name; owned copies */
    size_t count;     /**< parameters in the list */
    size_t capacity;  /**< slots allocated in tensors and names */
} ParamList;

/**
 * Allocates an empty parameter list.
 * @return a list the caller frees with params_free, or NULL when memory
 *         runs out.
 */
ParamList *params_new(void);

/**
 * Appends the persistent tensor @p t under @p name (copied). The tensor stays
 * owned by the caller and must outlive the list.
 * @return false, leaving the list unchanged, when @p t has no gradient, @p t
 *         or another tensor named @p name is already in the list, @p name is
 *         NULL or empty, or memory runs out.
 */
bool params_add(ParamList *params, Tensor *t, const char *name);

/** Frees the list and its copies of the names, not the tensors. NULL is ignored. */
void params_free(ParamList *params);

/** Returns the total number of elements of all parameters. */
size_t params_count_elements(const ParamList *params);

/** Sets every parameter's gradient to zero. */
void params_zero_grad(ParamList *params);

/**
 * Computes the L2 norm of all gradients together, sqrt(sum of g^2 over every
 * element of every parameter), accumulated in double.
 * @return the norm; infinity or NaN when a gradient is not finite.
 */
double params_grad_norm(const ParamList *params);

/**
 * Scales all gradients down together when their L2 norm exceeds
 * @p max_norm, by max_norm / (norm + 1e-6) as PyTorch 1.13's
 * clip_grad_norm_ does, so that the direction is kept.
 * Gradients are left unchanged when the norm is at most @p max_norm, or is
 * infinite or NaN (check params_all_finite before stepping).
 * @return the norm before clipping.
 */
double params_clip_grad_norm(ParamList *params, double max_norm);

/**
 * Checks every value and every gradient element of every parameter.
 * @return NULL when all of them are finite, otherwise the name of the first
 *         parameter in list order with an infinite or NaN value or gradient
 *         (owned by the list).
 */
const char *params_all_finite(const ParamList *params);

/* ------------------------------------------------------------------------- */
/* SGD with momentum                                                          */
/* ------------------------------------------------------------------------- */

/**
 * Stochastic gradient descent with momentum, as PyTorch 1.13's SGD without
 * dampening, Nesterov or weight decay. For each element:
 *
 *     velocity = momentum * velocity + grad     (velocity starts at 0)
 *     value    = value - lr * velocity
 */
typedef struct Sgd {
    const ParamList *params; /**< parameters to update; not owned */
    double lr;               /**< learning rate; may be changed between steps */
    double momentum;         /**< velocity decay per step, in [0, 1); 0 is plain SGD */
    float *velocity;         /**< [params_count_elements] one per element, in list order */
    size_t param_count;      /**< params->count when the optimiser was created */
} Sgd;

/**
 * Creates an SGD optimiser for @p params, which must outlive it.
 * @return an optimiser the caller frees with sgd_free, or NULL when @p lr is
 *         negative or not finite, @p momentum is outside [0, 1), or memory
 *         runs out.
 */
Sgd *sgd_new(const ParamList *params, double lr, double momentum);

/** Updates every parameter's values from its gradient; gradients are unchanged. */
void sgd_step(Sgd *sgd);

/** Frees the optimiser, not the parameters. NULL is ignored. */
void sgd_free(Sgd *sgd);

/* ------------------------------------------------------------------------- */
/* Adam                                                                       */
/* ------------------------------------------------------------------------- */

/** Hyperparameters of Adam. */
typedef struct AdamOptions {
    double lr;           /**< learning rate */
    double beta1;        /**< decay of the first-moment average, in [0, 1) */
    double beta2;        /**< decay of the second-moment average, in [0, 1) */
    double eps;          /**< added to the denominator, after the bias-corrected square root */
    double weight_decay; /**< L2 penalty added to the gradient (not decoupled as in AdamW) */
} AdamOptions;

/** Returns PyTorch's defaults: lr 1e-3, betas 0.9 and 0.999, eps 1e-8, weight decay 0. */
AdamOptions adam_default_options(void);

/**
 * Adam (Kingma and Ba, 2015) as PyTorch 1.13's torch.optim.Adam computes it
 * without amsgrad. With t the step number, starting at 1, for each element:
 *
 *     g     = grad + weight_decay * value
 *     m     = beta1 * m + (1 - beta1) * g         (m and v start at 0)
 *     v     = beta2 * v + (1 - beta2) * g * g
 *     denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *     value = value - (lr / (1 - beta1^t)) * m / denom
 *
 * which is value -= lr * m_hat / (sqrt(v_hat) + eps) with the bias-corrected
 * moments m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t): eps is
 * added after the bias correction. The bias corrections are computed in
 * double and rounded to float, as PyTorch does.
 */
typedef struct Adam {
    const ParamList *params; /**< parameters to update; not owned */
    AdamOptions options;     /**< hyperparameters; options.lr may be changed between steps */
    long step;               /**< steps taken so far, shared by all parameters */
    float *m;                /**< [params_count_elements] first moments, in list order */
    float *v;                /**< [params_count_elements] second moments, in list order */
    size_t param_count;      /**< params->count when the optimiser was created */
} Adam;

/**
 * Creates an Adam optimiser for @p params, which must outlive it.
 * @return an optimiser the caller frees with adam_free, or NULL when an
 *         option is out of range (lr, eps or weight_decay negative or not
 *         finite, a beta outside [0, 1)) or memory runs out.
 */
Adam *adam_new(const ParamList *params, AdamOptions options);

/** Counts one step and updates every parameter's values; gradients are unchanged. */
void adam_step(Adam *adam);

/** Frees the optimiser, not the parameters. NULL is ignored. */
void adam_free(Adam *adam);

#endif /* OPTIM_H */
