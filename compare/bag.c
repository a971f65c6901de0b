/* The bag-of-words control (see bag.h). */
#include "bag.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "init.h"
#include "ops.h"

BagOfWords *bag_of_words_new(int vocab_size, int hidden, int classes, Rng *rng)
{
    if (vocab_size < 1 || hidden < 1 || classes < 1 || vocab_size > INT_MAX / hidden ||
        classes > INT_MAX / hidden)
        return NULL;
    BagOfWords *bag = calloc(1, sizeof *bag);
    if (!bag)
        return NULL;
    bag->vocab_size = vocab_size;
    bag->hidden = hidden;
    bag->classes = classes;

    /* He initialisation for the layer a ReLU follows, PyTorch's default for the output. */
    bag->hidden_weight = tensor_new(shape2(hidden, vocab_size), true);
    bag->hidden_bias = tensor_new(shape1(hidden), true);
    bag->out_weight = tensor_new(shape2(classes, hidden), true);
    bag->out_bias = tensor_new(shape1(classes), true);
    init_he_normal(bag->hidden_weight, rng);
    init_linear_default(bag->out_weight, rng);
    init_uniform(bag->out_bias, rng, 1.0f / sqrtf((float)hidden));

    bag->params = params_new();
    if (!bag->params || !params_add(bag->params, bag->hidden_weight, "hidden.weight") ||
        !params_add(bag->params, bag->hidden_bias, "hidden.bias") ||
        !params_add(bag->params, bag->out_weight, "output.weight") ||
        !params_add(bag->params, bag->out_bias, "output.bias")) {
        bag_of_words_free(bag);
        return NULL;
    }
    return bag;
}

void bag_of_words_free(BagOfWords *bag)
{
    if (!bag)
        return;
    params_free(bag->params);
    tensor_free(bag->hidden_weight);
    tensor_free(bag->hidden_bias);
    tensor_free(bag->out_weight);
    tensor_free(bag->out_bias);
    free(bag);
}

Tensor *bag_of_words_forward(Tape *tape, void *model, const int *ids, int batch, int length)
{
    const BagOfWords *bag = model;
    if (batch < 1 || length < 1 || batch > INT_MAX / length)
        core_fatal("bag_of_words_forward: invalid batch %d or length %d", batch, length);

    /* [B*n, V] one-hot rows -> [B, n, V] -> [B, V], the fraction of each word. */
    Tensor *onehot = op_onehot(tape, ids, batch * length, bag->vocab_size);
    Tensor *words = op_reshape(tape, onehot, shape3(batch, length, bag->vocab_size));
    Tensor *bag_vector = op_mean_positions(tape, words);

    /* The two-layer net on the word fractions: [B, V] -> [B, Dh] -> [B, C]. */
    Tensor *hidden =
        op_relu(tape, op_linear(tape, bag_vector, bag->hidden_weight, bag->hidden_bias));
    return op_linear(tape, hidden, bag->out_weight, bag->out_bias);
}
