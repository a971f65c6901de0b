/*
 * Tests of reverse-mode differentiation through the tape: the chain rule on
 * a hand-worked graph, accumulation into a tensor used twice, repeated
 * training steps after tape_reset, and inference with gradients disabled.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

static void test_autodiff_chain_rule_hand_value(void **state)
{
    (void)state;
    /*
     * x = 2, y = 3x, a = 2y, b = 5y, c = a + b = 42.
     * By the chain rule dc/dx = dc/dy dy/dx = (2 + 5) * 3 = 21; y feeds two ops,
     * so its gradient must be the sum of both.
     */
    Tensor *x = checks_tensor_from(shape1(1), (const float[]){2}, true);
    Tape tape;
    tape_init(&tape);

    Tensor *y = op_scale(&tape, x, 3.0f);
    Tensor *a = op_scale(&tape, y, 2.0f);
    Tensor *b = op_scale(&tape, y, 5.0f);
    Tensor *c = op_add(&tape, a, b);
    tape_backward(&tape, c);

    assert_float_equal(c->data[0], 42.0f, 0.0f);
    assert_float_equal(y->grad[0], 7.0f, 0.0f);
    assert_float_equal(x->grad[0], 21.0f, 0.0f);

    tape_free(&tape);
    tensor_free(x);
}

/* Returns the scalar [1, 1] sum of v's elements, as v [1, n] times a column of ones. */
static Tensor *sum_of(Tape *tape, Tensor *v, Tensor *ones)
{
    return op_matmul(tape, op_reshape(tape, v, shape2(1, (int)v->size)), ones, false, false);
}

static void test_autodiff_tensor_used_twice_accumulates(void **state)
{
    (void)state;
    /* sum(x * x) has gradient 2x and sum(x + x) has gradient 2: both operands are x. */
    Tensor *x = checks_tensor_from(shape1(3), (const float[]){1, 2, -3}, true);
    Tensor *ones = checks_tensor_from(shape2(3, 1), (const float[]){1, 1, 1}, false);
    Tape tape;
    tape_init(&tape);

    tape_backward(&tape, sum_of(&tape, op_mul(&tape, x, x), ones));
    assert_true(checks_near("d sum(x x) / dx", x->grad, (const float[]){2, 4, -6}, 3, 0, 0));

    tensor_zero_grad(x);
    tape_reset(&tape);
    tape_backward(&tape, sum_of(&tape, op_add(&tape, x, x), ones));
    assert_true(checks_near("d sum(x + x) / dx", x->grad, (const float[]){2, 2, 2}, 3, 0, 0));

    tape_free(&tape);
    tensor_free(x);
    tensor_free(ones);
}

/* A small classifier: linear, gelu, layer norm, linear, cross-entropy. */
typedef struct TinyModel {
    Tensor *x;     /* [4, 3] inputs, no gradient */
    Tensor *w1;    /* [5, 3] */
    Tensor *b1;    /* [5] */
    Tensor *gain;  /* [5] */
    Tensor *shift; /* [5] layer-norm bias */
    Tensor *w2;    /* [2, 5] */
    int targets[4];
} TinyModel;

static TinyModel tiny_model_new(void)
{
    TinyModel model = {.targets = {0, 1, 1, -1}};
    model.x = tensor_new(shape2(4, 3), false);
    checks_fill(model.x, 1, -1.0f, 1.0f);
    model.w1 = checks_random_tensor(shape2(5, 3), 2);
    model.b1 = checks_random_tensor(shape1(5), 3);
    model.gain = checks_random_tensor(shape1(5), 4);
    model.shift = checks_random_tensor(shape1(5), 5);
    model.w2 = checks_random_tensor(shape2(2, 5), 6);
    return model;
}

static void tiny_model_free(TinyModel *model)
{
    tensor_free(model->x);
    tensor_free(model->w1);
    tensor_free(model->b1);
    tensor_free(model->gain);
    tensor_free(model->shift);
    tensor_free(model->w2);
}

/* Returns the model's loss [1], built on the tape. */
static Tensor *tiny_model_loss(Tape *tape, TinyModel *model)
{
    Tensor *hidden = op_gelu(tape, op_linear(tape, model->x, model->w1, model->b1));
    Tensor *normal = op_layernorm(tape, hidden, model->gain, model->shift, 1e-5f);
    Tensor *logits = op_linear(tape, normal, model->w2, NULL);
    return op_cross_entropy(tape, logits, model->targets);
}

/* One training step without the update: reset, zero the gradients, forward, backward. */
static void tiny_model_step(Tape *tape, TinyModel *model)
{
    Tensor *params[] = {model->w1, model->b1, model->gain, model->shift, model->w2};
    for (int i = 0; i < 5; i++)
        tensor_zero_grad(params[i]);
    tape_reset(tape);
    tape_backward(tape, tiny_model_loss(tape, model));
}

static void test_autodiff_second_step_same_gradients(void **state)
{
    (void)state;
    TinyModel model = tiny_model_new();
    Tape tape;
    tape_init(&tape);

    tiny_model_step(&tape, &model);
    size_t first_peak = tape.arena.peak_bytes;
    size_t first_count = tape.count;
    float first_w1[15], first_w2[10];
    memcpy(first_w1, model.w1->grad, sizeof first_w1);
    memcpy(first_w2, model.w2->grad, sizeof first_w2);

    /* The same data and weights again: identical gradients, and the arena does not grow. */
    tiny_model_step(&tape, &model);
    assert_memory_equal(model.w1->grad, first_w1, sizeof first_w1);
    assert_memory_equal(model.w2->grad, first_w2, sizeof first_w2);
    assert_int_equal(tape.count, first_count);
    assert_int_equal(tape.arena.peak_bytes, first_peak);
    assert_true(first_peak > 0);

    tape_free(&tape);
    tiny_model_free(&model);
}

static void test_autodiff_grad_disabled_records_nothing(void **state)
{
    (void)state;
    TinyModel model = tiny_model_new();
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    Tensor *loss = tiny_model_loss(&tape, &model);
    assert_int_equal(tape.count, 0);
    assert_null(loss->grad);
    assert_true(isfinite(loss->data[0]));

    tape_free(&tape);
    tiny_model_free(&model);
}

static void test_autodiff_no_grad_inputs_record_nothing(void **state)
{
    (void)state;
    /* Gradients enabled, but no input has one: outputs get no gradient and the tape stays empty. */
    Tensor *a = tensor_new(shape2(2, 3), false);
    Tensor *b = tensor_new(shape2(3, 2), false);
    Tape tape;
    tape_init(&tape);

    Tensor *out = op_softmax(&tape, op_matmul(&tape, a, b, false, false));
    assert_null(out->grad);
    assert_int_equal(tape.count, 0);

    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_autodiff_chain_rule_hand_value),
        cmocka_unit_test(test_autodiff_tensor_used_twice_accumulates),
        cmocka_unit_test(test_autodiff_second_step_same_gradients),
        cmocka_unit_test(test_autodiff_grad_disabled_records_nothing),
        cmocka_unit_test(test_autodiff_no_grad_inputs_record_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
