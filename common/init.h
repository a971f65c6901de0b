/**
 * @file init.h
 * @brief Weight initialisation: fills a tensor's values with random draws
 *        from an Rng, or with a constant.
 *
 * Every function writes t->data[0 .. size-1] in index order, one draw per
 * element, so the values depend only on the generator's state. Gradients are
 * left unchanged.
 *
 * Fan-in is the number of inputs that one output of a layer sums over. All
 * weight matrices of the project are stored [Dout, Din], and a convolution's
 * weights [Dout, k*Din], so fan-in is the last dimension.
 *
 * A bad argument (a negative bound or standard deviation, a weight with fewer
 * than 2 dimensions) is a bug in the calling code, so these functions stop
 * the program through core_fatal, as the ops do.
 */
#ifndef INIT_H
#define INIT_H

#include "rng.h"
#include "tensor.h"

/**
 * Fills @p t (any shape) with values uniform over [-bound, bound):
 * data[i] = bound * (2u - 1) for u = rng_uniform(rng).
 * @p bound must be finite and >= 0.
 */
void init_uniform(Tensor *t, Rng *rng, float bound);

/**
 * Fills @p t (any shape) with normal values of mean 0 and standard
 * deviation @p std: data[i] = std * rng_normal(rng).
 * @p std must be finite and >= 0.
 */
void init_normal(Tensor *t, Rng *rng, float std);

/**
 * Fills a weight @p w [Dout, Din] (or [Dout, k*Din]) with values uniform over
 * [-1/sqrt(Din), 1/sqrt(Din)), the default of PyTorch's nn.Linear and
 * nn.Conv1d (PyTorch 1.13 calls kaiming_uniform_ with a = sqrt(5), whose
 * bound gain * sqrt(3 / Din) with gain = sqrt(2 / (1 + a^2)) is 1/sqrt(Din)).
 * PyTorch draws the bias [Dout] from the same range; do that with
 * init_uniform(bias, rng, 1 / sqrtf(Din)).
 * A @p w with fewer than 2 dimensions stops the program through core_fatal.
 */
void init_linear_default(Tensor *w, Rng *rng);

/**
 * Fills a weight @p w [Dout, Din] (or [Dout, k*Din]) with normal values of
 * standard deviation sqrt(2 / Din) (He et al., 2015, "Delving Deep into
 * Rectifiers"). It keeps the variance of activations roughly constant
 * through layers followed by ReLU, which halves the variance.
 * A @p w with fewer than 2 dimensions stops the program through core_fatal.
 */
void init_he_normal(Tensor *w, Rng *rng);

/** Sets every value of @p t (any shape) to @p value. */
void init_constant(Tensor *t, float value);

#endif /* INIT_H */
