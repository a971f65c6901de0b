/*
 * Tests of common/optim.c: parameter lists, gradient norms and clipping,
 * SGD with momentum and Adam, against hand computations and against
 * PyTorch 1.13 (tests/reference/optim_reference.py).
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

#include "optim.h"

/* Returns true when |actual[i] - expected[i]| <= tolerance + relative *
 * |expected[i]| for every i. Otherwise prints the label, the first
 * mismatches and the largest difference to stderr. */
static bool floats_close_relative(const char *label, const float *actual, const float *expected,
                                  size_t count, double tolerance, double relative)
{
    size_t mismatches = 0;
    double max_difference = 0.0;
    for (size_t i = 0; i < count; i++) {
        double difference = fabs((double)actual[i] - (double)expected[i]);
        if (!(difference <= tolerance + relative * fabs((double)expected[i]))) {
            if (mismatches < 5)
                fprintf(stderr, "%s: [%zu] is %.9g (%a), expected %.9g (%a)\n", label, i,
                        (double)actual[i], (double)actual[i], (double)expected[i],
                        (double)expected[i]);
            mismatches++;
        }
        if (difference > max_difference || isnan(difference))
            max_difference = difference;
    }
    if (mismatches > 0)
        fprintf(stderr, "%s: %zu of %zu differ, max difference %.3g\n", label, mismatches, count,
                max_difference);
    return mismatches == 0;
}

/* Returns true when |actual[i] - expected[i]| <= tolerance for every i,
 * printing the mismatches otherwise. */
static bool floats_close(const char *label, const float *actual, const float *expected,
                         size_t count, double tolerance)
{
    return floats_close_relative(label, actual, expected, count, tolerance, 0.0);
}

/* Relative tolerance of the comparisons with PyTorch: 2^-22, at most two
 * units in the last place of a float. PyTorch 1.13 fuses some multiply-adds
 * (its Adam values here are reproduced exactly only when the second-moment
 * update is emulated with a fused multiply-add), and this code never fuses,
 * so the last bit can differ. */
#define PYTORCH_RELATIVE_TOLERANCE 0x1p-22

/* Creates a persistent tensor [count] with gradient, holding values. */
static Tensor *tensor_from_values(const float *values, int count)
{
    Tensor *t = tensor_new(shape1(count), true);
    for (int i = 0; i < count; i++)
        t->data[i] = values[i];
    return t;
}

/* Runs function in a child process with stderr sent to /dev/null and
 * returns its exit status, or -1 when it did not exit normally. */
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

/* ------------------------------------------------------------------------- */
/* Parameter lists                                                            */
/* ------------------------------------------------------------------------- */

static void test_params_add_counts_elements(void **state)
{
    (void)state;
    ParamList *params = params_new();
    assert_non_null(params);
    Tensor *w = tensor_new(shape2(3, 4), true);
    Tensor *b = tensor_new(shape1(3), true);
    assert_true(params_add(params, w, "layer.weight"));
    assert_true(params_add(params, b, "layer.bias"));

    assert_int_equal(params->count, 2);
    assert_int_equal(params_count_elements(params), 15);
    assert_string_equal(params->names[1], "layer.bias");
    params_free(params);
    tensor_free(w);
    tensor_free(b);
}

static void test_params_add_rejects_invalid_entries(void **state)
{
    (void)state;
    ParamList *params = params_new();
    Tensor *frozen = tensor_new(shape1(2), false);
    Tensor *w = tensor_new(shape1(2), true);
    Tensor *other = tensor_new(shape1(2), true);
    assert_true(params_add(params, w, "w"));

    assert_false(params_add(params, frozen, "frozen"));
    assert_false(params_add(params, w, "w again"));
    assert_false(params_add(params, other, "w"));
    assert_false(params_add(params, other, ""));
    assert_false(params_add(params, other, NULL));
    assert_int_equal(params->count, 1);
    params_free(params);
    tensor_free(frozen);
    tensor_free(w);
    tensor_free(other);
}

/* Adds more tensors than the initial capacity, so that the list grows. */
static void test_params_add_grows_past_capacity(void **state)
{
    (void)state;
    enum { COUNT = 100 };
    ParamList *params = params_new();
    Tensor *tensors[COUNT];
    for (int i = 0; i < COUNT; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%d", i);
        tensors[i] = tensor_new(shape1(i + 1), true);
        assert_true(params_add(params, tensors[i], name));
    }

    assert_int_equal(params->count, COUNT);
    assert_string_equal(params->names[COUNT - 1], "t99");
    assert_int_equal(params_count_elements(params), COUNT * (COUNT + 1) / 2);
    params_free(params);
    for (int i = 0; i < COUNT; i++)
        tensor_free(tensors[i]);
}

static void test_params_zero_grad_clears_all(void **state)
{
    (void)state;
    ParamList *params = params_new();
    Tensor *a = tensor_new(shape1(3), true);
    Tensor *b = tensor_new(shape2(2, 2), true);
    params_add(params, a, "a");
    params_add(params, b, "b");
    for (int i = 0; i < 3; i++)
        a->grad[i] = 1.0f + (float)i;
    for (int i = 0; i < 4; i++)
        b->grad[i] = -2.0f;

    params_zero_grad(params);
    for (int i = 0; i < 3; i++)
        assert_true(a->grad[i] == 0.0f);
    for (int i = 0; i < 4; i++)
        assert_true(b->grad[i] == 0.0f);
    params_free(params);
    tensor_free(a);
    tensor_free(b);
}

/* Fixture for the norm tests: gradients {3, 4} and {12}, whose norm is
 * sqrt(9 + 16 + 144) = 13 by hand. */
typedef struct NormFixture {
    ParamList *params;
    Tensor *a;
    Tensor *b;
} NormFixture;

static NormFixture make_norm_fixture(void)
{
    NormFixture f = {params_new(), tensor_new(shape1(2), true), tensor_new(shape1(1), true)};
    f.a->grad[0] = 3.0f;
    f.a->grad[1] = 4.0f;
    f.b->grad[0] = 12.0f;
    params_add(f.params, f.a, "a");
    params_add(f.params, f.b, "b");
    return f;
}

static void free_norm_fixture(NormFixture f)
{
    params_free(f.params);
    tensor_free(f.a);
    tensor_free(f.b);
}

static void test_params_grad_norm_by_hand(void **state)
{
    (void)state;
    NormFixture f = make_norm_fixture();
    assert_true(params_grad_norm(f.params) == 13.0);
    free_norm_fixture(f);
}

/* Clipping to 6.5 scales by 6.5 / (13 + 1e-6), just under one half. */
static void test_params_clip_grad_norm_scales_down(void **state)
{
    (void)state;
    NormFixture f = make_norm_fixture();
    assert_true(params_clip_grad_norm(f.params, 6.5) == 13.0);

    const float expected_a[] = {1.5f, 2.0f};
    const float expected_b[] = {6.0f};
    assert_true(floats_close("clipped a", f.a->grad, expected_a, 2, 1e-6));
    assert_true(floats_close("clipped b", f.b->grad, expected_b, 1, 1e-6));
    assert_true(fabs(params_grad_norm(f.params) - 6.5) < 1e-5);
    free_norm_fixture(f);
}

static void test_params_clip_grad_norm_small_unchanged(void **state)
{
    (void)state;
    NormFixture f = make_norm_fixture();
    assert_true(params_clip_grad_norm(f.params, 13.0) == 13.0);
    assert_true(f.a->grad[0] == 3.0f);
    assert_true(f.a->grad[1] == 4.0f);
    assert_true(f.b->grad[0] == 12.0f);
    free_norm_fixture(f);
}

static void test_params_clip_grad_norm_nan_unchanged(void **state)
{
    (void)state;
    NormFixture f = make_norm_fixture();
    f.a->grad[1] = NAN;
    assert_true(isnan(params_clip_grad_norm(f.params, 1.0)));
    assert_true(f.a->grad[0] == 3.0f);
    assert_true(f.b->grad[0] == 12.0f);
    free_norm_fixture(f);
}

static void test_params_all_finite_names_first_bad(void **state)
{
    (void)state;
    NormFixture f = make_norm_fixture();
    assert_null(params_all_finite(f.params));

    f.b->grad[0] = INFINITY;
    assert_string_equal(params_all_finite(f.params), "b");

    f.a->data[0] = NAN;
    assert_string_equal(params_all_finite(f.params), "a");
    free_norm_fixture(f);
}

/* ------------------------------------------------------------------------- */
/* SGD                                                                        */
/* ------------------------------------------------------------------------- */

/* By hand, lr 0.1, momentum 0.9, value 1:
 * step 1, grad 2:  velocity = 0.9 * 0 + 2 = 2,        value = 1 - 0.1 * 2 = 0.8
 * step 2, grad -1: velocity = 0.9 * 2 - 1 = 0.8,      value = 0.8 - 0.1 * 0.8 = 0.72 */
static void test_sgd_step_momentum_by_hand(void **state)
{
    (void)state;
    ParamList *params = params_new();
    Tensor *x = tensor_new(shape1(1), true);
    x->data[0] = 1.0f;
    params_add(params, x, "x");
    Sgd *sgd = sgd_new(params, 0.1, 0.9);
    assert_non_null(sgd);

    x->grad[0] = 2.0f;
    sgd_step(sgd);
    assert_true(fabsf(x->data[0] - 0.8f) < 1e-7f);
    assert_true(fabsf(sgd->velocity[0] - 2.0f) < 1e-7f);

    x->grad[0] = -1.0f;
    sgd_step(sgd);
    assert_true(fabsf(x->data[0] - 0.72f) < 1e-7f);
    assert_true(fabsf(sgd->velocity[0] - 0.8f) < 1e-7f);
    assert_true(x->grad[0] == -1.0f);
    sgd_free(sgd);
    params_free(params);
    tensor_free(x);
}

/* Momentum 0 is plain gradient descent: value -= lr * grad each step. */
static void test_sgd_step_without_momentum(void **state)
{
    (void)state;
    ParamList *params = params_new();
    Tensor *x = tensor_new(shape1(2), true);
    params_add(params, x, "x");
    Sgd *sgd = sgd_new(params, 0.5, 0.0);

    x->grad[0] = 1.0f;
    x->grad[1] = -4.0f;
    sgd_step(sgd);
    sgd_step(sgd);
    const float expected[] = {-1.0f, 4.0f};
    assert_true(floats_close("sgd without momentum", x->data, expected, 2, 0.0));
    sgd_free(sgd);
    params_free(params);
    tensor_free(x);
}

/* The values of the third case of tests/reference/optim_reference.py. */
static const float REFERENCE_INITIAL[4] = {0.5f, -1.5f, 2.0f, 0.0f};
static const float REFERENCE_GRADIENTS[3][4] = {
    {1.0f, -0.25f, 3.0f, 0.001f},
    {-0.5f, 0.75f, 2.0f, -2.0f},
    {0.125f, -1.0f, -4.0f, 1e-4f},
};

static void test_sgd_step_matches_pytorch(void **state)
{
    (void)state;
    /* PyTorch 1.13 SGD(lr=0.1, momentum=0.9), from optim_reference.py. */
    const float expected[3][4] = {
        {0x1.99999ap-2f, -0x1.79999ap+0f, 0x1.b33334p+0f, -0x1.a36e3p-14f},
        {0x1.70a3d8p-2f, -0x1.870a3ep+0f, 0x1.3ae148p+0f, 0x1.9935fcp-3f},
        {0x1.3ef9dcp-2f, -0x1.798938p+0f, 0x1.34fdf4p+0f, 0x1.84d50ep-2f},
    };
    ParamList *params = params_new();
    Tensor *x = tensor_from_values(REFERENCE_INITIAL, 4);
    params_add(params, x, "x");
    Sgd *sgd = sgd_new(params, 0.1, 0.9);

    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < 4; i++)
            x->grad[i] = REFERENCE_GRADIENTS[step][i];
        sgd_step(sgd);
        assert_true(floats_close_relative("sgd against PyTorch", x->data, expected[step], 4, 0.0,
                                          PYTORCH_RELATIVE_TOLERANCE));
    }
    sgd_free(sgd);
    params_free(params);
    tensor_free(x);
}

static void test_sgd_new_rejects_invalid_options(void **state)
{
    (void)state;
    ParamList *params = params_new();
    assert_null(sgd_new(params, -0.1, 0.0));
    assert_null(sgd_new(params, NAN, 0.0));
    assert_null(sgd_new(params, INFINITY, 0.0));
    assert_null(sgd_new(params, 0.1, 1.0));
    assert_null(sgd_new(params, 0.1, -0.5));
    params_free(params);
}

/* ------------------------------------------------------------------------- */
/* Adam                                                                       */
/* ------------------------------------------------------------------------- */

/* Two scalar parameters, x = 0 and y = 0.002, for the exact first steps. */
typedef struct ScalarPair {
    ParamList *params;
    Tensor *x;
    Tensor *y;
    Adam *adam;
} ScalarPair;

static ScalarPair make_scalar_pair(void)
{
    ScalarPair p = {params_new(), tensor_new(shape1(1), true), tensor_new(shape1(1), true), NULL};
    p.y->data[0] = 0.002f;
    params_add(p.params, p.x, "x");
    params_add(p.params, p.y, "y");
    p.adam = adam_new(p.params, adam_default_options());
    return p;
}

static void free_scalar_pair(ScalarPair p)
{
    adam_free(p.adam);
    params_free(p.params);
    tensor_free(p.x);
    tensor_free(p.y);
}

static void step_scalar_pair(ScalarPair *p, float grad_x, float grad_y)
{
    p->x->grad[0] = grad_x;
    p->y->grad[0] = grad_y;
    adam_step(p->adam);
}

/* Step 1 with gradient 1, lr 1e-3, betas 0.9 and 0.999, eps 1e-8.
 * In exact arithmetic m = 0.1, v = 0.001, m_hat = v_hat = 1 and the change
 * is 1e-3 / (1 + 1e-8) = 0.00099999999, which rounds to 0.001f
 * (0x1.0624dep-10). In float32, worked by hand in PyTorch's order:
 *   v = 0.001f, sqrtf(v) = 0x1.030dc6p-5 but sqrt(1 - 0.999) rounds to
 *   0x1.030dc4p-5, so denom = 0x1.000002p+0 (1 + 2^-23; eps vanishes);
 *   step_size * m = 0.01f * 0.1f rounds to 0x1.0624dep-10;
 *   divided by denom: 0x1.0624dcp-10 = 0.00099999993, one unit in the last
 *   place below 0.001f.
 * PyTorch 1.13 gives the same float for this step. Adding eps before the
 * bias correction, (lr * sqrt(1 - 0.999) / 0.1) * m / (sqrtf(v) + eps),
 * gives 0.00099999968 in exact arithmetic and 0x1.0624d6p-10 in float32.
 * x starts at 0 and y at 0.002f = 2 * 0.001f, so both differences below are
 * exact (Sterbenz's lemma). */
static void test_adam_first_step_moves_lr_in_float32(void **state)
{
    (void)state;
    ScalarPair p = make_scalar_pair();
    step_scalar_pair(&p, 1.0f, 1.0f);

    const float change = 0x1.0624dcp-10f;
    assert_int_equal(p.adam->step, 1);
    assert_true(0.0f - p.x->data[0] == change);
    assert_true(0.002f - p.y->data[0] == change);
    assert_true(change != 0x1.0624d6p-10f);
    assert_true(fabsf(change - 0.001f) <= 0x1p-33f);
    free_scalar_pair(p);
}

/* Step 2 with gradients 2 (x) and -1 (y), by hand:
 * x: m = 0.9 * 0.1 + 0.1 * 2 = 0.29, v = 0.999 * 0.001 + 0.001 * 4 = 0.004999,
 *    m_hat = 0.29 / (1 - 0.81) = 1.5263158, v_hat = 0.004999 / 0.001999
 *    = 2.5007504, change = 1e-3 * 1.5263158 / (1.5813761 + 1e-8)
 *    = 0.00096518202, x = -0.001 - 0.00096518202 = -0.00196518202.
 * y: m = 0.09 - 0.1 = -0.01, v = 0.001999, m_hat = -0.01 / 0.19
 *    = -0.052631579, v_hat = 1, change = -0.000052631578,
 *    y = 0.001 + 0.000052631578 = 0.00105263158.
 * The tolerance, 1e-9, is 4 units in the last place of a float near 0.002. */
static void test_adam_second_step_by_hand(void **state)
{
    (void)state;
    ScalarPair p = make_scalar_pair();
    step_scalar_pair(&p, 1.0f, 1.0f);
    step_scalar_pair(&p, 2.0f, -1.0f);

    assert_int_equal(p.adam->step, 2);
    assert_true(fabs(p.x->data[0] - -0.00196518202) < 1e-9);
    assert_true(fabs(p.y->data[0] - 0.00105263158) < 1e-9);
    free_scalar_pair(p);
}

/* Runs three Adam steps on the reference parameter and compares each step
 * with PyTorch's values. */
static void check_adam_against_pytorch(const char *label, AdamOptions options,
                                       const float expected[3][4])
{
    ParamList *params = params_new();
    Tensor *x = tensor_from_values(REFERENCE_INITIAL, 4);
    params_add(params, x, "x");
    Adam *adam = adam_new(params, options);
    assert_non_null(adam);

    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < 4; i++)
            x->grad[i] = REFERENCE_GRADIENTS[step][i];
        adam_step(adam);
        assert_true(floats_close_relative(label, x->data, expected[step], 4, 0.0,
                                          PYTORCH_RELATIVE_TOLERANCE));
    }
    adam_free(adam);
    params_free(params);
    tensor_free(x);
}

static void test_adam_step_matches_pytorch(void **state)
{
    (void)state;
    /* PyTorch 1.13 Adam(lr=0.01), from optim_reference.py. */
    const float expected[3][4] = {
        {0x1.f5c29p-2f, -0x1.7d70a4p+0f, 0x1.fd70a4p+0f, -0x1.47ad3ep-7f},
        {0x1.f3086p-2f, -0x1.7eb484p+0f, 0x1.faf4b6p+0f, -0x1.4fca8p-9f},
        {0x1.f035cap-2f, -0x1.7e073ep+0f, 0x1.fae2d2p+0f, 0x1.a1c7acp-9f},
    };
    AdamOptions options = adam_default_options();
    options.lr = 0.01;
    check_adam_against_pytorch("adam against PyTorch", options, expected);
}

static void test_adam_weight_decay_matches_pytorch(void **state)
{
    (void)state;
    /* PyTorch 1.13 Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-3,
     * weight_decay=0.1), from optim_reference.py. */
    const float expected[3][4] = {
        {0x1.f5c50ep-2f, -0x1.7d7246p+0f, 0x1.fd70d8p+0f, -0x1.47ae14p-8f},
        {0x1.f3079cp-2f, -0x1.7e3a1ap+0f, 0x1.faf966p+0f, 0x1.72ba08p-9f},
        {0x1.eff8fp-2f, -0x1.7cfe9ep+0f, 0x1.faf8f4p+0f, 0x1.167d5cp-7f},
    };
    AdamOptions options = {
        .lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-3, .weight_decay = 0.1};
    check_adam_against_pytorch("adam with weight decay against PyTorch", options, expected);
}

/* f(x) = sum_i (x_i - c_i)^2 has its minimum at c, and df/dx_i =
 * 2 (x_i - c_i). Adam with lr 0.01 must get close to c from 0. */
static void test_adam_minimises_quadratic(void **state)
{
    (void)state;
    const float target[] = {1.5f, -2.0f, 0.25f, 3.0f};
    ParamList *params = params_new();
    Tensor *x = tensor_new(shape1(4), true);
    params_add(params, x, "x");
    AdamOptions options = adam_default_options();
    options.lr = 0.01;
    Adam *adam = adam_new(params, options);

    for (int step = 0; step < 3000; step++) {
        params_zero_grad(params);
        for (int i = 0; i < 4; i++)
            x->grad[i] = 2.0f * (x->data[i] - target[i]);
        adam_step(adam);
    }
    assert_true(floats_close("adam minimum", x->data, target, 4, 1e-2));
    adam_free(adam);
    params_free(params);
    tensor_free(x);
}

static void test_adam_new_rejects_invalid_options(void **state)
{
    (void)state;
    ParamList *params = params_new();
    AdamOptions options = adam_default_options();
    options.beta1 = 1.0;
    assert_null(adam_new(params, options));

    options = adam_default_options();
    options.beta2 = -0.1;
    assert_null(adam_new(params, options));

    options = adam_default_options();
    options.lr = NAN;
    assert_null(adam_new(params, options));

    options = adam_default_options();
    options.eps = -1e-8;
    assert_null(adam_new(params, options));

    options = adam_default_options();
    options.weight_decay = INFINITY;
    assert_null(adam_new(params, options));
    params_free(params);
}

/* A tensor added after the optimiser was created has no optimiser state, so
 * the step must stop the program (exit status 1) instead of reading past
 * the state arrays. The objects are static so that the sanitizer's leak
 * checker treats them as reachable when core_fatal exits. */
static void step_after_late_add(void)
{
    static ParamList *params;
    static Tensor *a, *b;
    static Adam *adam;
    params = params_new();
    a = tensor_new(shape1(2), true);
    b = tensor_new(shape1(2), true);
    params_add(params, a, "a");
    adam = adam_new(params, adam_default_options());
    params_add(params, b, "b");
    adam_step(adam);
}

static void test_adam_step_after_late_add_stops(void **state)
{
    (void)state;
    assert_int_equal(run_in_child(step_after_late_add), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_add_counts_elements),
        cmocka_unit_test(test_params_add_rejects_invalid_entries),
        cmocka_unit_test(test_params_add_grows_past_capacity),
        cmocka_unit_test(test_params_zero_grad_clears_all),
        cmocka_unit_test(test_params_grad_norm_by_hand),
        cmocka_unit_test(test_params_clip_grad_norm_scales_down),
        cmocka_unit_test(test_params_clip_grad_norm_small_unchanged),
        cmocka_unit_test(test_params_clip_grad_norm_nan_unchanged),
        cmocka_unit_test(test_params_all_finite_names_first_bad),
        cmocka_unit_test(test_sgd_step_momentum_by_hand),
        cmocka_unit_test(test_sgd_step_without_momentum),
        cmocka_unit_test(test_sgd_step_matches_pytorch),
        cmocka_unit_test(test_sgd_new_rejects_invalid_options),
        cmocka_unit_test(test_adam_first_step_moves_lr_in_float32),
        cmocka_unit_test(test_adam_second_step_by_hand),
        cmocka_unit_test(test_adam_step_matches_pytorch),
        cmocka_unit_test(test_adam_weight_decay_matches_pytorch),
        cmocka_unit_test(test_adam_minimises_quadratic),
        cmocka_unit_test(test_adam_new_rejects_invalid_options),
        cmocka_unit_test(test_adam_step_after_late_add_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
