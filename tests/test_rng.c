/*
 * Tests of common/rng.c: the published PCG32 reference output, determinism,
 * and the range and distribution of each kind of draw.
 * Every statistical check uses a fixed seed, so it gives the same result on
 * every run. Its bounds are wide (3 or more standard deviations), so that it
 * tests the method and not the luck of one seed.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rng.h"

/* Round 1 of O'Neill's published PCG32 check output for seed 42, stream 54
 * (test-high/expected/check-pcg32.out in github.com/imneme/pcg-c; pcg32-demo
 * of pcg-c-basic prints the same round): six outputs, then 65 coin tosses
 * (bound 2), 33 dice rolls (bound 6) and a 52-card deck shuffled by
 * Fisher-Yates from the last position down, all drawn with the reference
 * bounded draw. tests/reference/pcg32_reference.py, an independent Python
 * version written from O'Neill's description, reproduces this round and gives
 * the outputs 7 to 10 that the first test below also checks. */
static const char *const PUBLISHED_COINS =
    "HHTTTHTHHHTHTTTHHHHHTTTHHHTHTHTHTTHTTTHHHHHHTTTTHHTTTTTHTTTTTTTHT";
static const int PUBLISHED_ROLLS[33] = {3, 4, 1, 1, 2, 2, 3, 2, 4, 3, 2, 4, 3, 3, 5, 2, 3,
                                        1, 3, 1, 5, 1, 4, 1, 5, 6, 4, 6, 6, 2, 6, 3, 3};
static const char *const PUBLISHED_CARDS =
    "Qd Ks 6d 3s 3d 4c 3h Td Kc 5c Jh Kd Jd As 4s 4h Ad Th Ac Jc 7s Qs "
    "2s 7h Kh 2d 6c Ah 4d Qh 9h 6s 5s 2c 9c Ts 8d 9s 3c 8c Js 5d 2h 6h "
    "7d 8s 9d 5h 8h Qc 7c Tc";

static void test_rng_u32_matches_reference_sequence(void **state)
{
    (void)state;
    const uint32_t expected[] = {
        0xa15c02b7u, 0x7b47f409u, 0xba1d3330u, 0x83d2f293u, 0xbfa4784bu,
        0xcbed606eu, 0xbfc6a3adu, 0x812fff6du, 0xe61f305au, 0xf9384b90u,
    };
    Rng rng;
    rng_seed(&rng, 42, 54);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_int_equal(rng_u32(&rng), expected[i]);
}

/* Positions the generator after the six outputs of the published round. */
static Rng seed_after_published_outputs(void)
{
    Rng rng;
    rng_seed(&rng, 42, 54);
    for (int i = 0; i < 6; i++)
        (void)rng_u32(&rng);
    return rng;
}

static void test_rng_below_matches_published_coins_and_rolls(void **state)
{
    (void)state;
    Rng rng = seed_after_published_outputs();
    char coins[66] = {0};
    for (int i = 0; i < 65; i++)
        coins[i] = rng_below(&rng, 2) ? 'H' : 'T';
    assert_string_equal(coins, PUBLISHED_COINS);

    for (int i = 0; i < 33; i++)
        assert_int_equal(rng_below(&rng, 6) + 1, PUBLISHED_ROLLS[i]);
}

static void test_rng_shuffle_ints_matches_published_cards(void **state)
{
    (void)state;
    Rng rng = seed_after_published_outputs();
    for (int i = 0; i < 65 + 33; i++)
        (void)rng_below(&rng, i < 65 ? 2 : 6);

    /* Card c is rank "A23456789TJQK"[c / 4] of suit "hcds"[c % 4], as in
     * the published program. */
    int cards[52];
    for (int i = 0; i < 52; i++)
        cards[i] = i;
    rng_shuffle_ints(&rng, cards, 52);

    char names[52 * 3] = {0};
    for (int i = 0; i < 52; i++) {
        names[3 * i] = "A23456789TJQK"[cards[i] / 4];
        names[3 * i + 1] = "hcds"[cards[i] % 4];
        names[3 * i + 2] = i < 51 ? ' ' : '\0';
    }
    assert_string_equal(names, PUBLISHED_CARDS);
}

/* Reference: tests/reference/pcg32_reference.py with seeds at the edges of
 * the 64-bit range, where a missing mask or a signed shift would show. */
static void test_rng_u32_matches_reference_extreme_seeds(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 0, 0);
    assert_int_equal(rng_u32(&rng), 0xe4c14788u);
    assert_int_equal(rng_u32(&rng), 0x379c6516u);

    rng_seed(&rng, UINT64_MAX, INT64_MAX);
    assert_int_equal(rng_u32(&rng), 0x2675c047u);
    assert_int_equal(rng_u32(&rng), 0x7779a837u);
}

static void test_rng_seed_same_arguments_repeat(void **state)
{
    (void)state;
    Rng a, b;
    rng_seed(&a, 123456789, 7);
    rng_seed(&b, 123456789, 7);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(rng_u32(&a), rng_u32(&b));
}

/* Two different generators agree on one output with probability 2^-32, so
 * agreeing on all of 100 outputs means the seed or stream was ignored. */
static int count_equal_outputs(Rng a, Rng b, int draws)
{
    int equal = 0;
    for (int i = 0; i < draws; i++)
        equal += rng_u32(&a) == rng_u32(&b);
    return equal;
}

static void test_rng_seed_other_stream_differs(void **state)
{
    (void)state;
    Rng a, b;
    rng_seed(&a, 42, 1);
    rng_seed(&b, 42, 2);
    assert_true(count_equal_outputs(a, b, 100) < 5);
}

static void test_rng_seed_other_seed_differs(void **state)
{
    (void)state;
    Rng a, b;
    rng_seed(&a, 1, 54);
    rng_seed(&b, 2, 54);
    assert_true(count_equal_outputs(a, b, 100) < 5);
}

static void test_rng_below_stays_in_range(void **state)
{
    (void)state;
    const uint32_t bounds[] = {1, 2, 3, 7, 10, 1000, 2147483649u, UINT32_MAX};
    Rng rng;
    rng_seed(&rng, 5, 5);
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        for (int i = 0; i < 2000; i++)
            assert_true(rng_below(&rng, bounds[b]) < bounds[b]);
    }
}

static void test_rng_below_one_returns_zero(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 9, 9);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rng_below(&rng, 1), 0);
}

/* Pearson's chi-square over 10 equally likely values, 100000 draws. The
 * critical value 27.88 for 9 degrees of freedom at p = 0.001 is from the
 * standard chi-square table. */
static void test_rng_below_ten_roughly_uniform(void **state)
{
    (void)state;
    enum { BINS = 10, DRAWS = 100000 };
    int counts[BINS] = {0};
    Rng rng;
    rng_seed(&rng, 2024, 1);
    for (int i = 0; i < DRAWS; i++)
        counts[rng_below(&rng, BINS)]++;

    double expected = (double)DRAWS / BINS;
    double chi_square = 0.0;
    for (int b = 0; b < BINS; b++)
        chi_square += (counts[b] - expected) * (counts[b] - expected) / expected;
    assert_true(chi_square < 27.88);
}

/* With bound 3 * 2^30, plain rng_u32() % bound would map two outputs to each
 * value below 2^30 and one to each value above, so a third of the range would
 * get half the draws. Unbiased, it gets one third: 1/3 +- 0.0027 (one
 * standard deviation) over 30000 draws. */
static void test_rng_below_large_bound_unbiased(void **state)
{
    (void)state;
    const uint32_t bound = 3u << 30;
    const int draws = 30000;
    int low = 0;
    Rng rng;
    rng_seed(&rng, 77, 3);
    for (int i = 0; i < draws; i++)
        low += rng_below(&rng, bound) < (1u << 30);

    double fraction = (double)low / draws;
    assert_true(fraction > 0.3333 - 0.015);
    assert_true(fraction < 0.3333 + 0.015);
}

/* rng_below(0) is a caller bug: the child process must exit with status 1
 * through core_fatal. */
static void test_rng_below_zero_bound_stops(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(99);
        Rng rng;
        rng_seed(&rng, 1, 1);
        (void)rng_below(&rng, 0);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

static void test_rng_uniform_in_unit_interval(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 31, 4);
    for (int i = 0; i < 100000; i++) {
        float u = rng_uniform(&rng);
        assert_true(u >= 0.0f);
        assert_true(u < 1.0f);
    }
}

/* The documented construction: the top 24 bits of one output, scaled by
 * 2^-24. A copy of the generator gives the same output to compare with. */
static void test_rng_uniform_uses_top_24_bits(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 8, 8);
    for (int i = 0; i < 100; i++) {
        Rng copy = rng;
        uint32_t top_bits = rng_u32(&copy) >> 8;
        float u = rng_uniform(&rng);
        assert_true(u * 16777216.0f == (float)top_bits);
    }
}

/* Mean of a uniform [0, 1) variable: 0.5, with standard deviation
 * sqrt(1/12) / sqrt(100000) = 0.0009 for the sample mean. */
static void test_rng_uniform_mean_near_half(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 13, 13);
    double sum = 0.0;
    for (int i = 0; i < 100000; i++)
        sum += rng_uniform(&rng);
    assert_true(fabs(sum / 100000 - 0.5) < 0.005);
}

/* Standard normal: mean 0, variance 1, P(|z| < 1) = 0.6827 (from the normal
 * table). Over 40000 samples the standard deviations of these estimates are
 * 0.005, 0.007 and 0.0023. */
static void test_rng_normal_moments_match_standard(void **state)
{
    (void)state;
    enum { SAMPLES = 40000 };
    Rng rng;
    rng_seed(&rng, 99, 1);
    double sum = 0.0, sum_squares = 0.0;
    int within_one = 0;
    for (int i = 0; i < SAMPLES; i++) {
        double z = rng_normal(&rng);
        sum += z;
        sum_squares += z * z;
        within_one += fabs(z) < 1.0;
    }

    double mean = sum / SAMPLES;
    double variance = sum_squares / SAMPLES - mean * mean;
    assert_true(fabs(mean) < 0.025);
    assert_true(fabs(variance - 1.0) < 0.035);
    assert_true(fabs((double)within_one / SAMPLES - 0.6827) < 0.012);
}

/* sqrt(-2 ln 2^-32) = sqrt(64 ln 2) = 6.66 is the largest possible |z|. */
static void test_rng_normal_finite_and_bounded(void **state)
{
    (void)state;
    Rng rng;
    rng_seed(&rng, 4, 4);
    for (int i = 0; i < 100000; i++) {
        float z = rng_normal(&rng);
        assert_true(isfinite(z));
        assert_true(fabsf(z) <= 6.661f);
    }
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void test_rng_shuffle_ints_keeps_values(void **state)
{
    (void)state;
    enum { COUNT = 100 };
    int values[COUNT];
    for (int i = 0; i < COUNT; i++)
        values[i] = i;
    Rng rng;
    rng_seed(&rng, 3, 3);
    rng_shuffle_ints(&rng, values, COUNT);

    int moved = 0;
    for (int i = 0; i < COUNT; i++)
        moved += values[i] != i;
    assert_true(moved > COUNT / 2);

    qsort(values, COUNT, sizeof values[0], compare_ints);
    for (int i = 0; i < COUNT; i++)
        assert_int_equal(values[i], i);
}

static void test_rng_shuffle_ints_same_seed_repeats(void **state)
{
    (void)state;
    int a[20], b[20];
    for (int i = 0; i < 20; i++)
        a[i] = b[i] = i;
    Rng ra, rb;
    rng_seed(&ra, 11, 2);
    rng_seed(&rb, 11, 2);
    rng_shuffle_ints(&ra, a, 20);
    rng_shuffle_ints(&rb, b, 20);
    assert_memory_equal(a, b, sizeof a);
}

static void test_rng_shuffle_ints_short_arrays_unchanged(void **state)
{
    (void)state;
    int one[1] = {5};
    Rng rng;
    rng_seed(&rng, 1, 2);
    Rng before = rng;
    rng_shuffle_ints(&rng, NULL, 0);
    rng_shuffle_ints(&rng, one, 1);
    assert_int_equal(one[0], 5);
    assert_memory_equal(&rng, &before, sizeof rng);
}

/* All 6 orders of {0, 1, 2} must be equally likely. A classic off-by-one
 * (Sattolo's variant) gives only the 2 cyclic orders. Chi-square critical
 * value for 5 degrees of freedom at p = 0.001: 20.52 (standard table). */
static void test_rng_shuffle_ints_all_orders_equally_likely(void **state)
{
    (void)state;
    enum { ORDERS = 6, DRAWS = 60000 };
    int counts[ORDERS] = {0};
    Rng rng;
    rng_seed(&rng, 600, 6);
    for (int i = 0; i < DRAWS; i++) {
        int v[3] = {0, 1, 2};
        rng_shuffle_ints(&rng, v, 3);
        /* The first two values identify the order: index 0..5. */
        counts[v[0] * 2 + (v[1] > v[2])]++;
    }

    double expected = (double)DRAWS / ORDERS;
    double chi_square = 0.0;
    for (int k = 0; k < ORDERS; k++)
        chi_square += (counts[k] - expected) * (counts[k] - expected) / expected;
    assert_true(chi_square < 20.52);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_u32_matches_reference_sequence),
        cmocka_unit_test(test_rng_u32_matches_reference_extreme_seeds),
        cmocka_unit_test(test_rng_below_matches_published_coins_and_rolls),
        cmocka_unit_test(test_rng_shuffle_ints_matches_published_cards),
        cmocka_unit_test(test_rng_seed_same_arguments_repeat),
        cmocka_unit_test(test_rng_seed_other_stream_differs),
        cmocka_unit_test(test_rng_seed_other_seed_differs),
        cmocka_unit_test(test_rng_below_stays_in_range),
        cmocka_unit_test(test_rng_below_one_returns_zero),
        cmocka_unit_test(test_rng_below_ten_roughly_uniform),
        cmocka_unit_test(test_rng_below_large_bound_unbiased),
        cmocka_unit_test(test_rng_below_zero_bound_stops),
        cmocka_unit_test(test_rng_uniform_in_unit_interval),
        cmocka_unit_test(test_rng_uniform_uses_top_24_bits),
        cmocka_unit_test(test_rng_uniform_mean_near_half),
        cmocka_unit_test(test_rng_normal_moments_match_standard),
        cmocka_unit_test(test_rng_normal_finite_and_bounded),
        cmocka_unit_test(test_rng_shuffle_ints_keeps_values),
        cmocka_unit_test(test_rng_shuffle_ints_same_seed_repeats),
        cmocka_unit_test(test_rng_shuffle_ints_short_arrays_unchanged),
        cmocka_unit_test(test_rng_shuffle_ints_all_orders_equally_likely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
