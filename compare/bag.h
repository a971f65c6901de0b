/*
 * The bag-of-words control of the comparison: the mean of the sentence's
 * one-hot word vectors, then a two-layer net. The mean forgets word order
 * and every relation between words, so on a task whose two classes contain
 * the same words this model must stay at chance. If it does not, the task
 * leaks its label through which words are present.
 */
#ifndef COMPARE_BAG_H
#define COMPARE_BAG_H

#include "optim.h"
#include "rng.h"
#include "tensor.h"

/** The bag-of-words classifier: logits = W2 relu(W1 mean(one-hot(ids)) + b1) + b2. */
typedef struct BagOfWords {
    int vocab_size;        /**< V, the width of a one-hot word */
    int hidden;            /**< Dh, the width of the hidden layer */
    int classes;           /**< C */
    Tensor *hidden_weight; /**< W1 [Dh, V], He-initialised because a ReLU follows */
    Tensor *hidden_bias;   /**< b1 [Dh], zero */
    Tensor *out_weight;    /**< W2 [C, Dh], PyTorch's nn.Linear default */
    Tensor *out_bias;      /**< b2 [C] */
    ParamList *params;     /**< the four tensors above, in that order; owned */
} BagOfWords;

/**
 * Allocates a model drawn from @p rng (W1, then W2, then b2).
 * @return a model the caller frees with bag_of_words_free, or NULL when a
 *         size is below 1 or a product of two sizes overflows an int, or
 *         memory for the parameter list runs out.
 */
BagOfWords *bag_of_words_new(int vocab_size, int hidden, int classes, Rng *rng);

/** Frees a model and its tensors; NULL is ignored. */
void bag_of_words_free(BagOfWords *bag);

/**
 * Computes the logits (a ClassifierForwardFn of train.h, @p model is a
 * BagOfWords). Shapes: ids [batch * length] in 0 .. V-1, out [batch, C].
 */
Tensor *bag_of_words_forward(Tape *tape, void *model, const int *ids, int batch, int length);

#endif /* COMPARE_BAG_H */
