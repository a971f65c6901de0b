/*
 * PCG32 and the draws built on it (see rng.h for the algorithm and its source).
 */
#include "rng.h"

#include <math.h>

#include "tensor.h"

/* The 64-bit LCG multiplier of PCG32, from O'Neill's reference implementation. */
#define PCG32_MULTIPLIER UINT64_C(6364136223846793005)

void rng_seed(Rng *rng, uint64_t seed, uint64_t stream)
{
    rng->state = 0;
    rng->increment = (stream << 1) | 1;
    (void)rng_u32(rng);
    rng->state += seed;
    (void)rng_u32(rng);
}

uint32_t rng_u32(Rng *rng)
{
    uint64_t old = rng->state;
    rng->state = old * PCG32_MULTIPLIER + rng->increment;

    /* XSH: xor-shift the old state, keep 32 bits of it. RR: rotate them right
     * by the top 5 bits of the old state. */
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rotation = (uint32_t)(old >> 59);
    return (xorshifted >> rotation) | (xorshifted << ((32 - rotation) & 31));
}

uint32_t rng_below(Rng *rng, uint32_t bound)
{
    if (bound == 0)
        core_fatal("rng_below: bound must be at least 1");

    /* 2^32 mod bound, computed in 32 bits: the count of outputs to reject so
     * that the remaining 2^32 - threshold outputs are a multiple of bound. */
    uint32_t threshold = (0u - bound) % bound;
    for (;;) {
        uint32_t value = rng_u32(rng);
        if (value >= threshold)
            return value % bound;
    }
}

float rng_uniform(Rng *rng) { return (float)(rng_u32(rng) >> 8) * (1.0f / 16777216.0f); }

float rng_normal(Rng *rng)
{
    const double two_pi = 6.283185307179586476925286766559;
    const double inv_2_32 = 1.0 / 4294967296.0;

    /* u1 in (0, 1] keeps log() finite, and u2 in [0, 1) gives the angle. */
    double u1 = ((double)rng_u32(rng) + 1.0) * inv_2_32;
    double u2 = (double)rng_u32(rng) * inv_2_32;
    return (float)(sqrt(-2.0 * log(u1)) * cos(two_pi * u2));
}

void rng_shuffle_ints(Rng *rng, int *values, size_t count)
{
    if (count > UINT32_MAX)
        core_fatal("rng_shuffle_ints: %zu values, at most %u supported", count, UINT32_MAX);

    /* Fisher-Yates: position i takes a uniformly chosen value among 0 .. i. */
    for (size_t i = count; i > 1; i--) {
        size_t j = rng_below(rng, (uint32_t)i);
        int swap = values[i - 1];
        values[i - 1] = values[j];
        values[j] = swap;
    }
}
