/**
 * @file train.h
 * @brief The training loop every classifier in the project shares: Adam on
 *        freshly generated batches, then accuracy on held-out batches.
 *
 * Sharing one loop is what makes comparisons fair: every model gets the same
 * optimiser, batch size, number of steps and seeds.
 */
#ifndef TRAIN_H
#define TRAIN_H

#include <stdint.h>

#include "optim.h"
#include "rng.h"
#include "tensor.h"

/**
 * A model's forward pass for classification.
 * Shapes: ids [batch * length] word ids, row-major by sentence;
 * returns logits [batch, C] on the tape.
 */
typedef Tensor *(*ClassifierForwardFn)(Tape *tape, void *model, const int *ids, int batch, int length);

/**
 * Draws a batch of examples from a task.
 * Shapes: ids [batch * length], labels [batch].
 */
typedef void (*TaskSampleFn)(const void *task, Rng *rng, int batch, int *ids, int *labels);

/** A task as the training loop sees it. */
typedef struct ClassifierTask {
    TaskSampleFn sample;   /**< draws examples */
    const void *task;      /**< passed to sample */
    int length;            /**< words per sentence */
} ClassifierTask;

/**
 * Called by train_classifier after every optimiser step, with the step
 * number (1 .. steps) and the training loss of that step's batch. The
 * comparison program uses it to draw its own progress display and to
 * record loss curves.
 */
typedef void (*TrainStepFn)(void *context, int step, float loss);

/** Settings of one training run. */
typedef struct TrainConfig {
    int steps;             /**< optimiser steps */
    int batch;             /**< sentences per step */
    float learning_rate;   /**< Adam's learning rate */
    float clip_norm;       /**< clip the global gradient norm to this; 0 disables clipping */
    int eval_batches;      /**< held-out batches for the final accuracy */
    uint64_t seed;         /**< seeds the training and the held-out streams */
    const char *label;     /**< shown on the progress bar, may be NULL */
    TrainStepFn on_step;   /**< called after every step, or NULL; when set, no progress bar is drawn */
    void *on_step_context; /**< passed to on_step */
} TrainConfig;

/**
 * Returns the defaults the stage programs use: 600 steps of 32, lr 3e-3,
 * clip 1, 16 eval batches, seed 1, no label and no on_step.
 */
TrainConfig train_default_config(void);

/** What a training run measured. */
typedef struct TrainResult {
    float final_loss;      /**< mean training loss over the last 50 steps */
    float accuracy;        /**< accuracy on the held-out batches, 0..1 */
    double seconds;        /**< wall time of the training steps */
    int steps;             /**< steps run */
} TrainResult;

/**
 * Trains @p model with Adam on freshly drawn batches, then measures its
 * accuracy on held-out batches drawn from a separate random stream.
 * Shows a progress bar on stderr, unless @p config.on_step is set: then it
 * calls on_step after every step instead and writes nothing itself. Training batches come from stream 1 and
 * held-out batches from stream 2 of @p config.seed, so the same seed gives
 * the same numbers.
 */
TrainResult train_classifier(ClassifierForwardFn forward, void *model, ParamList *params,
                             ClassifierTask task, TrainConfig config);

/**
 * Measures accuracy on @p batches batches of @p batch_size sentences drawn
 * from @p rng, without recording gradients.
 * @return the fraction of sentences whose largest logit is the label.
 */
float evaluate_classifier(ClassifierForwardFn forward, void *model, ClassifierTask task, Rng *rng,
                          int batches, int batch_size);

#endif /* TRAIN_H */
