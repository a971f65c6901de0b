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
typedef Tensor *(*ClassifierForwardFn)(Tape *tape, void *model, const int *ids, int batch,
                                       int length);

/**
 * Draws a batch of examples from a task.
 * Shapes: ids [batch * length], labels [batch].
 */
typedef void (*TaskSampleFn)(const void *task, Rng *rng, int batch, int *ids, int *labels);

/** A task in the form the training loop uses: a sampler, its data and the sentence length. */
typedef struct ClassifierTask {
    TaskSampleFn sample; /**< draws examples */
    const void *task;    /**< passed to sample */
    int length;          /**< words per sentence */
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
    int steps;                   /**< optimiser steps */
    int batch;                   /**< sentences per step */
    float learning_rate;         /**< Adam's learning rate */
    float clip_norm;             /**< clip the global gradient norm to this; 0 disables clipping */
    int eval_batches;            /**< held-out batches for the final accuracy */
    uint64_t seed;               /**< seeds the training and the held-out streams */
    const char *label;           /**< shown on the progress bar, may be NULL */
    const char *checkpoint_path; /**< where checkpoint_save writes the parameters during and
                                      after training; NULL saves nothing */
    int checkpoint_every;        /**< with checkpoint_path: also save after every this many steps;
                                      0 saves only after the last step */
    TrainStepFn
        on_step; /**< called after every step, or NULL; when set, no progress bar is drawn */
    void *on_step_context; /**< passed to on_step */
} TrainConfig;

/**
 * Returns the defaults the stage programs use: 600 steps of 32, lr 3e-3,
 * clip 1, 16 eval batches, seed 1, no label, no on_step and no checkpoint.
 */
TrainConfig train_default_config(void);

/** The outcome of a training run. */
typedef enum TrainStatus {
    TRAIN_OK = 0,      /**< every step ran and the accuracy was measured */
    TRAIN_DIVERGED,    /**< a loss, gradient or weight became infinite or NaN */
    TRAIN_SAVE_FAILED, /**< checkpoint_save failed */
} TrainStatus;

/** The longest TrainResult.message, terminating NUL included. */
#define TRAIN_MESSAGE_SIZE 1536

/** The measurements of a training run. */
typedef struct TrainResult {
    float final_loss;    /**< mean training loss over the last 50 steps; NaN when
                              training stopped early */
    float accuracy;      /**< accuracy on the held-out batches, 0..1; NaN when
                              training stopped early */
    double seconds;      /**< wall time of the training steps */
    int steps;           /**< steps completed, that is, followed by an update */
    TrainStatus status;  /**< TRAIN_OK, or why training stopped early */
    int checkpoint_step; /**< steps completed when the checkpoint file was last written;
                              -1 when it was not written */
    char message[TRAIN_MESSAGE_SIZE]; /**< with a status other than TRAIN_OK: what went wrong,
                                           at which step, in which tensor, and which
                                           checkpoint is kept; empty otherwise */
} TrainResult;

/**
 * Trains @p model with Adam on freshly drawn batches, then measures its
 * accuracy on held-out batches drawn from a separate random stream.
 * Shows a progress bar on stderr, unless @p config.on_step is set: then it
 * calls on_step after every step instead and writes nothing itself. Training batches come from
 * stream 1 and held-out batches from stream 2 of @p config.seed, so the same seed gives the same
 * numbers.
 *
 * With config.checkpoint_path, it saves @p params there (checkpoint_save)
 * after every config.checkpoint_every steps and after the last step, each
 * time only when every weight is finite.
 *
 * When the loss, a gradient or a weight becomes infinite or NaN, it stops
 * before the bad values reach the weights or the file, and returns status
 * TRAIN_DIVERGED with a message naming the step (1-based) and the tensor
 * ("the loss" or a parameter name) and saying where the last good
 * checkpoint is, if any. When a save fails it stops with TRAIN_SAVE_FAILED
 * and a message with checkpoint_save's reason and where the last good
 * checkpoint is, if any. Either way the accuracy is not measured.
 * It stops the program through core_fatal only when memory runs out.
 */
TrainResult train_classifier(ClassifierForwardFn forward, void *model, ParamList *params,
                             ClassifierTask task, TrainConfig config);

/** The exit status of a program whose training diverged (see train_exit_on_failure). */
#define TRAIN_DIVERGED_EXIT_STATUS 3

/**
 * The exit status of a program whose checkpoint could not be saved: 1, the
 * status of every I/O failure.
 */
#define TRAIN_SAVE_FAILED_EXIT_STATUS 1

/**
 * Stops the program when @p result is not TRAIN_OK: prints
 * "<program>: " and the result's message to stderr and exits with status
 * TRAIN_DIVERGED_EXIT_STATUS (3) for TRAIN_DIVERGED or
 * TRAIN_SAVE_FAILED_EXIT_STATUS (1) for TRAIN_SAVE_FAILED. Returns
 * otherwise.
 */
void train_exit_on_failure(const char *program, const TrainResult *result);

/**
 * Measures accuracy on @p batches batches of @p batch_size sentences drawn
 * from @p rng, without recording gradients.
 * @return the fraction of sentences whose largest logit is the label.
 */
float evaluate_classifier(ClassifierForwardFn forward, void *model, ClassifierTask task, Rng *rng,
                          int batches, int batch_size);

#endif /* TRAIN_H */
