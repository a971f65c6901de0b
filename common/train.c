/* The shared classifier training loop (see train.h). */
#include "train.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ops.h"
#include "clock.h"
#include "progress.h"

/* The final loss is the mean over this many last steps, which smooths batch noise. */
#define TRAIN_LOSS_WINDOW 50

TrainConfig train_default_config(void)
{
    return (TrainConfig){
        .steps = 600,
        .batch = 32,
        .learning_rate = 3e-3f,
        .clip_norm = 1.0f,
        .eval_batches = 16,
        .seed = 1,
        .label = NULL,
        .on_step = NULL,
        .on_step_context = NULL,
    };
}

/* Allocates the id and label buffers of one batch; stops the program when memory runs out. */
static void batch_buffers(int batch, int length, int **ids, int **labels)
{
    *ids = malloc((size_t)batch * (size_t)length * sizeof **ids);
    *labels = malloc((size_t)batch * sizeof **labels);
    if (!*ids || !*labels)
        core_fatal("out of memory allocating a batch of %d sentences of %d words", batch, length);
}

float evaluate_classifier(ClassifierForwardFn forward, void *model, ClassifierTask task, Rng *rng,
                          int batches, int batch_size)
{
    int *ids, *labels;
    batch_buffers(batch_size, task.length, &ids, &labels);

    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    long correct = 0;
    for (int b = 0; b < batches; b++) {
        tape_reset(&tape);
        task.sample(task.task, rng, batch_size, ids, labels);
        Tensor *logits = forward(&tape, model, ids, batch_size, task.length);

        /* Shapes: logits [batch, C]; the prediction is the largest logit (first on ties). */
        int classes = tensor_cols(logits);
        for (int i = 0; i < batch_size; i++) {
            const float *row = logits->data + (size_t)i * (size_t)classes;
            int best = 0;
            for (int c = 1; c < classes; c++)
                if (row[c] > row[best])
                    best = c;
            correct += (best == labels[i]);
        }
    }

    tape_free(&tape);
    free(ids);
    free(labels);
    return (float)correct / (float)((long)batches * batch_size);
}

TrainResult train_classifier(ClassifierForwardFn forward, void *model, ParamList *params,
                             ClassifierTask task, TrainConfig config)
{
    int *ids, *labels;
    batch_buffers(config.batch, task.length, &ids, &labels);

    AdamOptions options = adam_default_options();
    options.lr = config.learning_rate;
    Adam *adam = adam_new(params, options);
    if (!adam)
        core_fatal("could not create the Adam optimiser (learning rate %g)", (double)config.learning_rate);

    Rng train_rng;
    rng_seed(&train_rng, config.seed, 1);
    Tape tape;
    tape_init(&tape);

    TrainResult result = {0};
    double loss_window = 0.0;
    int window_steps = 0;
    double start = time_now_seconds();
    /* The caller's on_step, when set, replaces the progress bar. */
    bool show_progress = config.on_step == NULL;
    Progress progress;
    if (show_progress)
        progress_start(&progress, config.label ? config.label : "train", (size_t)config.steps);

    for (int step = 0; step < config.steps; step++) {
        /* 1. A fresh batch and the forward pass. */
        tape_reset(&tape);
        task.sample(task.task, &train_rng, config.batch, ids, labels);
        Tensor *logits = forward(&tape, model, ids, config.batch, task.length);
        Tensor *loss = op_cross_entropy(&tape, logits, labels);

        /* 2. Gradients, clipped so that one bad batch cannot throw the weights far. */
        params_zero_grad(params);
        tape_backward(&tape, loss);
        if (config.clip_norm > 0.0f)
            params_clip_grad_norm(params, config.clip_norm);

        /* 3. Stop before a non-finite value spreads into every weight. */
        const char *bad = params_all_finite(params);
        if (bad || !isfinite(loss->data[0]))
            core_fatal("training diverged at step %d: %s is not finite; lower the learning rate",
                       step + 1, bad ? bad : "the loss");

        /* 4. The update. */
        adam_step(adam);

        if (step >= config.steps - TRAIN_LOSS_WINDOW) {
            loss_window += loss->data[0];
            window_steps++;
        }
        if (show_progress)
            progress_update(&progress, (size_t)step + 1, loss->data[0]);
        else
            config.on_step(config.on_step_context, step + 1, loss->data[0]);
    }
    if (show_progress)
        progress_finish(&progress);

    result.seconds = time_now_seconds() - start;
    result.steps = config.steps;
    result.final_loss = window_steps ? (float)(loss_window / window_steps) : NAN;

    Rng eval_rng;
    rng_seed(&eval_rng, config.seed, 2);
    result.accuracy =
        evaluate_classifier(forward, model, task, &eval_rng, config.eval_batches, config.batch);

    tape_free(&tape);
    adam_free(adam);
    free(ids);
    free(labels);
    return result;
}
