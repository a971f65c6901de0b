/*
 * Tests of common/init.c: range, spread and reproducibility of each
 * initialiser. Statistical checks use fixed seeds and bounds of at least
 * 3 standard deviations of the estimate.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

/* Sample mean, variance, minimum and maximum of a tensor's values. */
typedef struct Moments {
    double mean;
    double variance;
    float min;
    float max;
} Moments;

static Moments compute_moments(const Tensor *t)
{
    Moments m = {0.0, 0.0, t->data[0], t->data[0]};
    double sum = 0.0, sum_squares = 0.0;
    for (size_t i = 0; i < t->size; i++) {
        sum += t->data[i];
        sum_squares += (double)t->data[i] * t->data[i];
        m.min = fminf(m.min, t->data[i]);
        m.max = fmaxf(m.max, t->data[i]);
    }
    m.mean = sum / (double)t->size;
    m.variance = sum_squares / (double)t->size - m.mean * m.mean;
    return m;
}

/* Runs @p function in a child process and returns its exit status, or -1
 * when it did not exit normally. The child's stderr goes to /dev/null.
 * The functions keep their tensors in static variables, so that the leak
 * checker of a sanitizer build sees them as reachable when core_fatal exits. */
static int run_in_child(void (*function)(void))
{
    fflush(NULL);
    pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(99);
        function();
        _exit(0);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Uniform over [-b, b): variance b^2 / 3 (from the variance of a uniform
 * distribution, (2b)^2 / 12). */
static void test_init_uniform_range_and_spread(void **state)
{
    (void)state;
    Tensor *t = tensor_new(shape2(100, 200), false);
    Rng rng;
    rng_seed(&rng, 1, 1);
    init_uniform(t, &rng, 0.5f);

    Moments m = compute_moments(t);
    assert_true(m.min >= -0.5f);
    assert_true(m.max < 0.5f);
    assert_true(m.min < -0.49f);
    assert_true(m.max > 0.49f);
    assert_true(fabs(m.mean) < 0.01);
    assert_true(fabs(m.variance - 0.25 / 3.0) < 0.003);
    tensor_free(t);
}

/* The documented formula, data[i] = bound * (2u - 1), against a copy of the
 * generator. */
static void test_init_uniform_follows_documented_formula(void **state)
{
    (void)state;
    Tensor *t = tensor_new(shape1(50), false);
    Rng rng;
    rng_seed(&rng, 2, 2);
    Rng copy = rng;
    init_uniform(t, &rng, 3.0f);
    for (size_t i = 0; i < t->size; i++)
        assert_true(t->data[i] == 3.0f * (2.0f * rng_uniform(&copy) - 1.0f));

    /* Exactly one draw per element: both generators are at the same place. */
    assert_int_equal(rng_u32(&rng), rng_u32(&copy));
    tensor_free(t);
}

static void test_init_uniform_same_seed_repeats(void **state)
{
    (void)state;
    Tensor *a = tensor_new(shape2(7, 9), false);
    Tensor *b = tensor_new(shape2(7, 9), false);
    Rng ra, rb;
    rng_seed(&ra, 5, 6);
    rng_seed(&rb, 5, 6);
    init_uniform(a, &ra, 1.0f);
    init_uniform(b, &rb, 1.0f);
    assert_memory_equal(a->data, b->data, a->size * sizeof(float));
    tensor_free(a);
    tensor_free(b);
}

static void test_init_uniform_keeps_gradient(void **state)
{
    (void)state;
    Tensor *t = tensor_new(shape1(10), true);
    for (size_t i = 0; i < t->size; i++)
        t->grad[i] = 7.0f;
    Rng rng;
    rng_seed(&rng, 3, 3);
    init_uniform(t, &rng, 1.0f);
    for (size_t i = 0; i < t->size; i++)
        assert_true(t->grad[i] == 7.0f);
    tensor_free(t);
}

/* Normal with standard deviation 0.3: variance 0.09, and the sample
 * variance of 20000 values has standard deviation 0.09 * sqrt(2 / 20000)
 * = 0.0009. */
static void test_init_normal_spread(void **state)
{
    (void)state;
    Tensor *t = tensor_new(shape2(100, 200), false);
    Rng rng;
    rng_seed(&rng, 4, 4);
    init_normal(t, &rng, 0.3f);

    Moments m = compute_moments(t);
    assert_true(fabs(m.mean) < 0.007);
    assert_true(fabs(m.variance - 0.09) < 0.003);
    tensor_free(t);
}

static void test_init_normal_zero_std_gives_zeros(void **state)
{
    (void)state;
    Tensor *t = tensor_new(shape1(20), false);
    Rng rng;
    rng_seed(&rng, 4, 4);
    init_uniform(t, &rng, 1.0f);
    init_normal(t, &rng, 0.0f);
    for (size_t i = 0; i < t->size; i++)
        assert_true(t->data[i] == 0.0f);
    tensor_free(t);
}

/* Din = 100: bound 1/sqrt(100) = 0.1, variance 0.01 / 3. */
static void test_init_linear_default_bound_from_last_dim(void **state)
{
    (void)state;
    Tensor *w = tensor_new(shape2(300, 100), false);
    Rng rng;
    rng_seed(&rng, 10, 1);
    init_linear_default(w, &rng);

    Moments m = compute_moments(w);
    assert_true(m.min >= -0.1f);
    assert_true(m.max < 0.1f);
    assert_true(m.min < -0.099f);
    assert_true(m.max > 0.099f);
    assert_true(fabs(m.variance - 0.01 / 3.0) < 0.0001);
    tensor_free(w);
}

/* A convolution weight [Dout, k*Din] = [400, 3*25]: fan-in 75, bound
 * 1/sqrt(75) = 0.11547. */
static void test_init_linear_default_conv_weight(void **state)
{
    (void)state;
    Tensor *w = tensor_new(shape2(400, 75), false);
    Rng rng;
    rng_seed(&rng, 10, 2);
    init_linear_default(w, &rng);

    Moments m = compute_moments(w);
    assert_true(m.max < 0.11548f);
    assert_true(m.max > 0.1150f);
    assert_true(m.min >= -0.11548f);
    tensor_free(w);
}

static void init_linear_default_on_vector(void)
{
    static Tensor *bias;
    bias = tensor_new(shape1(4), false);
    Rng rng;
    rng_seed(&rng, 1, 1);
    init_linear_default(bias, &rng);
}

static void test_init_linear_default_vector_stops(void **state)
{
    (void)state;
    assert_int_equal(run_in_child(init_linear_default_on_vector), 1);
}

/* He: std sqrt(2 / Din) = sqrt(2 / 50) = 0.2, variance 0.04; over 30000
 * values the sample variance has standard deviation 0.04 * sqrt(2 / 30000)
 * = 0.0003. */
static void test_init_he_normal_spread_from_last_dim(void **state)
{
    (void)state;
    Tensor *w = tensor_new(shape2(600, 50), false);
    Rng rng;
    rng_seed(&rng, 20, 1);
    init_he_normal(w, &rng);

    Moments m = compute_moments(w);
    assert_true(fabs(m.mean) < 0.004);
    assert_true(fabs(m.variance - 0.04) < 0.0012);
    tensor_free(w);
}

static void init_he_normal_on_vector(void)
{
    static Tensor *bias;
    bias = tensor_new(shape1(4), false);
    Rng rng;
    rng_seed(&rng, 1, 1);
    init_he_normal(bias, &rng);
}

static void test_init_he_normal_vector_stops(void **state)
{
    (void)state;
    assert_int_equal(run_in_child(init_he_normal_on_vector), 1);
}

static void init_uniform_negative_bound(void)
{
    static Tensor *t;
    t = tensor_new(shape1(4), false);
    Rng rng;
    rng_seed(&rng, 1, 1);
    init_uniform(t, &rng, -1.0f);
}

static void test_init_uniform_negative_bound_stops(void **state)
{
    (void)state;
    assert_int_equal(run_in_child(init_uniform_negative_bound), 1);
}

static void init_normal_nan_std(void)
{
    static Tensor *t;
    t = tensor_new(shape1(4), false);
    Rng rng;
    rng_seed(&rng, 1, 1);
    init_normal(t, &rng, NAN);
}

static void test_init_normal_nan_std_stops(void **state)
{
    (void)state;
    assert_int_equal(run_in_child(init_normal_nan_std), 1);
}

static void test_init_constant_sets_every_value(void **state)
{
    (void)state;
    Tensor *t = tensor_new(shape3(2, 3, 4), true);
    init_constant(t, -1.25f);
    for (size_t i = 0; i < t->size; i++) {
        assert_true(t->data[i] == -1.25f);
        assert_true(t->grad[i] == 0.0f);
    }
    tensor_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_uniform_range_and_spread),
        cmocka_unit_test(test_init_uniform_follows_documented_formula),
        cmocka_unit_test(test_init_uniform_same_seed_repeats),
        cmocka_unit_test(test_init_uniform_keeps_gradient),
        cmocka_unit_test(test_init_normal_spread),
        cmocka_unit_test(test_init_normal_zero_std_gives_zeros),
        cmocka_unit_test(test_init_linear_default_bound_from_last_dim),
        cmocka_unit_test(test_init_linear_default_conv_weight),
        cmocka_unit_test(test_init_linear_default_vector_stops),
        cmocka_unit_test(test_init_he_normal_spread_from_last_dim),
        cmocka_unit_test(test_init_he_normal_vector_stops),
        cmocka_unit_test(test_init_uniform_negative_bound_stops),
        cmocka_unit_test(test_init_normal_nan_std_stops),
        cmocka_unit_test(test_init_constant_sets_every_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
