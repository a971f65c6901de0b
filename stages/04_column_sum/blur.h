/**
 * @file blur.h
 * @brief Measures how much of one vector can still be recovered from a sum
 *        of n vectors, the reason a column sum loses information.
 *
 * One trial: draw n directions uniformly at random in R^d (Gaussian vectors
 * scaled to length 1). The first is the component c; it is scaled to length
 * equal to the dominance, and the other n - 1 keep length 1, so the
 * dominance is the ratio of c's norm to each other vector's norm. Their sum
 * is s. Two measures of how well c can be recovered from s:
 *
 * - cosine: cos(s, c) = s.c / (|s| |c|), averaged over trials. It is 1 when
 *   s points exactly along c. For large d the other vectors are nearly
 *   orthogonal to c and to each other, so it is close to
 *   dominance / sqrt(dominance^2 + n - 1) (an estimate, not exact).
 * - retrieval accuracy: the fraction of trials in which c is the nearest
 *   vector to s, by cosine, in a codebook of M unit vectors: c's direction
 *   and M - 1 fresh random directions that are not part of the sum.
 *   Chance level is 1/M.
 *
 * Trial t draws from stream t of the seed, so the results do not depend on
 * the thread count, and every dominance uses the same draws (which makes
 * the curves differ only by the dominance, not by sampling noise).
 */
#ifndef BLUR_H
#define BLUR_H

#include <stdbool.h>
#include <stdint.h>

/** Settings of a blurring measurement. */
typedef struct BlurConfig {
    int width;     /**< d, the width of every vector */
    int codebook;  /**< M, candidates in the retrieval codebook, c included; >= 2 */
    int trials;    /**< trials per point */
    uint64_t seed; /**< seeds the trials */
} BlurConfig;

/** One measured point: n vectors at one dominance. */
typedef struct BlurPoint {
    int count;              /**< n, vectors in the sum */
    double dominance;       /**< |c| divided by the norm of each other vector */
    double mean_cosine;     /**< mean of cos(s, c) over the trials */
    double expected_cosine; /**< dominance / sqrt(dominance^2 + n - 1), the large-d estimate */
    double retrieval;       /**< fraction of trials in which c was the nearest codebook entry */
} BlurPoint;

/**
 * Measures sums of @p count vectors at each of @p dominance_count
 * dominances, one point per dominance, into @p points [dominance_count].
 * @return false, leaving @p points unchanged, when an argument is out of
 *         range (a count, width, trial number or dominance below 1, a
 *         codebook below 2) or memory runs out.
 */
bool blur_measure(const BlurConfig *config, int count, const double *dominances,
                  int dominance_count, BlurPoint *points);

#endif /* BLUR_H */
