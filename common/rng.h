/**
 * @file rng.h
 * @brief A small, seedable pseudo-random generator (PCG32) and the draws the
 *        project needs: integers below a bound, floats, normal samples and
 *        shuffles.
 *
 * Every random choice in the project (weight initialisation, data
 * generation, batch order) goes through an Rng, so a run is fully
 * determined by its seeds on every platform. The C library's rand() is
 * never used because its sequence differs between C libraries.
 *
 * Algorithm: PCG-XSH-RR with 64-bit state and 32-bit output, from
 * M. E. O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically
 * Good Algorithms for Random Number Generation", Harvey Mudd College
 * technical report HMC-CS-2014-0905 (2014); see also pcg-random.org.
 *
 * - The state advances as a 64-bit linear congruential generator:
 *   state' = state * 6364136223846793005 + increment (mod 2^64).
 *   The increment is odd, so each of the 2^63 streams has period 2^64.
 * - The output is computed from the old state: xor-shift it right by 18,
 *   keep bits 27..58 as a 32-bit word, and rotate that word right by the
 *   top 5 bits of the old state (state >> 59).
 * - Seeding (as in the reference pcg32_srandom_r): increment =
 *   2 * stream + 1, state = 0; advance once; add the seed to the state;
 *   advance once more. With seed 42 and stream 54 the first outputs are
 *   0xa15c02b7, 0x7b47f409, 0xba1d3330, as in O'Neill's published check
 *   output (test-high/expected/check-pcg32.out in github.com/imneme/pcg-c).
 *
 * Not cryptographically secure; do not use it for anything secret.
 */
#ifndef RNG_H
#define RNG_H

#include <stddef.h>
#include <stdint.h>

/** The state of one PCG32 generator. Copying the struct forks the sequence. */
typedef struct Rng {
    uint64_t state;     /**< LCG state, advanced by every draw */
    uint64_t increment; /**< LCG increment, always odd; selects the stream */
} Rng;

/**
 * Seeds @p rng. Generators with the same seed but different streams give
 * unrelated sequences; only the low 63 bits of @p stream matter.
 */
void rng_seed(Rng *rng, uint64_t seed, uint64_t stream);

/** Draws the next 32-bit output, uniform over 0 .. 2^32 - 1. */
uint32_t rng_u32(Rng *rng);

/**
 * Draws an integer uniform over 0 .. bound - 1 without modulo bias: outputs
 * below 2^32 mod bound are rejected and drawn again, so every value has
 * exactly the same number of accepted outputs mapping to it. The expected
 * number of draws is below 2 for any bound. This is the method of the
 * reference pcg32_boundedrand_r, so both give the same values.
 * @p bound must be at least 1; 0 is a bug in the caller and stops the
 * program through core_fatal.
 */
uint32_t rng_below(Rng *rng, uint32_t bound);

/**
 * Draws a float uniform over [0, 1): the top 24 bits of one output times
 * 2^-24, so every value is a multiple of 2^-24 and exact in float32
 * (1.0 is never returned).
 */
float rng_uniform(Rng *rng);

/**
 * Draws a sample of the standard normal distribution (mean 0, standard
 * deviation 1) with the Box-Muller transform: for independent u1 uniform
 * over (0, 1] and u2 uniform over [0, 1),
 * z = sqrt(-2 ln u1) * cos(2 pi u2) is standard normal.
 * Each call uses two outputs (u1 = (a + 1) / 2^32, u2 = b / 2^32, computed
 * in double) and discards the second sample sqrt(-2 ln u1) * sin(2 pi u2),
 * so the stream position depends only on the number of calls.
 * |z| never exceeds sqrt(64 ln 2), about 6.66.
 */
float rng_normal(Rng *rng);

/**
 * Shuffles @p values[0 .. count-1] in place into a uniformly random order
 * (Fisher-Yates: for i = count down to 2, swap values[i-1] with
 * values[rng_below(rng, i)]).
 * @p count above UINT32_MAX stops the program through core_fatal.
 */
void rng_shuffle_ints(Rng *rng, int *values, size_t count);

#endif /* RNG_H */
