/* The shared classifier training loop (see train.h). */
#include "train.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "clock.h"
#include "ops.h"
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
        .checkpoint_path = NULL,
        .checkpoint_every = 0,
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

/* The state of one training run that the steps share. */
typedef struct TrainRun {
    ParamList *params;
    TrainConfig config;
    TrainResult *result;
} TrainRun;

/* Says where the last good checkpoint is, for the end of a divergence or save failure message. */
static void describe_checkpoint(const TrainRun *run, char *text, size_t size)
{
    if (!run->config.checkpoint_path)
        snprintf(text, size, "no checkpoint was configured");
    else if (run->result->checkpoint_step < 0)
        snprintf(text, size, "no checkpoint was saved before it, so %s was not written",
                 run->config.checkpoint_path);
    else
        snprintf(text, size, "the last good checkpoint, after step %d, is kept in %s",
                 run->result->checkpoint_step, run->config.checkpoint_path);
}

/*
 * Records that `tensor` went wrong at `step` (1-based); `problem` describes how
 * and when, such as "is not finite after the update".
 */
static void stop_diverged(TrainRun *run, int step, const char *tensor, const char *problem)
{
    char kept[TRAIN_MESSAGE_SIZE / 2];
    describe_checkpoint(run, kept, sizeof kept);
    run->result->status = TRAIN_DIVERGED;
    snprintf(run->result->message, sizeof run->result->message,
             "training diverged at step %d: %s %s; %s; lower the learning rate (now %g)", step,
             tensor, problem, kept, (double)run->config.learning_rate);
}

/* Returns whether every value of `values` [count] is finite. */
static bool all_finite(const float *values, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(values[i]))
            return false;
    return true;
}

/*
 * Names the first non-finite tensor in `name` and returns true, or returns
 * false when all are finite. Weights come first because a bad weight makes
 * the loss and every gradient bad too; then the loss, then the gradients.
 */
static bool find_non_finite(const ParamList *params, const Tensor *loss, char *name, size_t size)
{
    for (size_t i = 0; i < params->count; i++) {
        if (!all_finite(params->tensors[i]->data, params->tensors[i]->size)) {
            snprintf(name, size, "the weight %s", params->names[i]);
            return true;
        }
    }
    if (!isfinite(loss->data[0])) {
        snprintf(name, size, "the loss");
        return true;
    }
    for (size_t i = 0; i < params->count; i++) {
        if (!all_finite(params->tensors[i]->grad, params->tensors[i]->size)) {
            snprintf(name, size, "the gradient of %s", params->names[i]);
            return true;
        }
    }
    return false;
}

/* Saves the parameters after `step` steps; returns false with the result filled on failure. */
static bool save_checkpoint(TrainRun *run, int step)
{
    char error[TRAIN_MESSAGE_SIZE / 2];
    if (checkpoint_save(run->params, run->config.checkpoint_path, error, sizeof error)) {
        run->result->checkpoint_step = step;
        return true;
    }
    char kept[TRAIN_MESSAGE_SIZE / 4];
    describe_checkpoint(run, kept, sizeof kept);
    run->result->status = TRAIN_SAVE_FAILED;
    snprintf(run->result->message, sizeof run->result->message,
             "saving the checkpoint after step %d failed: %s; %s", step, error, kept);
    return false;
}

/* Saves after step `step` (1-based) when a checkpoint is due; false when training must stop. */
static bool save_if_due(TrainRun *run, int step)
{
    const TrainConfig *config = &run->config;
    bool last = step == config->steps;
    bool every = config->checkpoint_every > 0 && step % config->checkpoint_every == 0;
    if (!config->checkpoint_path || !(last || every))
        return true;

    /* Adam can overflow a weight even from finite gradients; never save such weights. */
    const char *bad = params_all_finite(run->params);
    if (bad) {
        char name[TRAIN_MESSAGE_SIZE / 4];
        snprintf(name, sizeof name, "the weight %s", bad);
        stop_diverged(run, step, name, "is not finite after the update");
        return false;
    }

    /* Such weights overflow the forward pass soon, and checkpoint_load would reject them. */
    const char *large = checkpoint_find_value_above_max(run->params);
    if (large) {
        char name[TRAIN_MESSAGE_SIZE / 4], problem[96];
        snprintf(name, sizeof name, "the weight %s", large);
        snprintf(problem, sizeof problem, "has a value above %g after the update",
                 (double)CHECKPOINT_MAX_ABS_VALUE);
        stop_diverged(run, step, name, problem);
        return false;
    }
    return save_checkpoint(run, step);
}

/* Runs the training steps; returns false when training stopped early. */
static bool run_steps(TrainRun *run, ClassifierForwardFn forward, void *model, ClassifierTask task,
                      Adam *adam)
{
    const TrainConfig *config = &run->config;
    int *ids, *labels;
    batch_buffers(config->batch, task.length, &ids, &labels);
    Rng train_rng;
    rng_seed(&train_rng, config->seed, 1);
    Tape tape;
    tape_init(&tape);

    double loss_window = 0.0;
    int window_steps = 0;
    bool finished = true;
    /* The caller's on_step, when set, replaces the progress bar; 0 steps (a loaded model
     * that is only measured) show none. */
    bool show_progress = config->on_step == NULL && config->steps > 0;
    Progress progress;
    if (show_progress)
        progress_start(&progress, config->label ? config->label : "train", (size_t)config->steps);

    for (int step = 0; step < config->steps; step++) {
        /* 1. A fresh batch and the forward pass. */
        tape_reset(&tape);
        task.sample(task.task, &train_rng, config->batch, ids, labels);
        Tensor *logits = forward(&tape, model, ids, config->batch, task.length);
        Tensor *loss = op_cross_entropy(&tape, logits, labels);

        /* 2. Gradients, clipped so that one bad batch cannot throw the weights far. */
        params_zero_grad(run->params);
        tape_backward(&tape, loss);
        if (config->clip_norm > 0.0f)
            params_clip_grad_norm(run->params, config->clip_norm);

        /* 3. Stop before a non-finite value spreads into every weight. */
        char bad[TRAIN_MESSAGE_SIZE / 4];
        if (find_non_finite(run->params, loss, bad, sizeof bad)) {
            stop_diverged(run, step + 1, bad, "is not finite before the update");
            finished = false;
            break;
        }

        /* 4. The update, and the checkpoint when one is due. */
        adam_step(adam);
        run->result->steps = step + 1;
        if (step >= config->steps - TRAIN_LOSS_WINDOW) {
            loss_window += loss->data[0];
            window_steps++;
        }
        if (show_progress)
            progress_update(&progress, (size_t)step + 1, loss->data[0]);
        else
            config->on_step(config->on_step_context, step + 1, loss->data[0]);
        if (!save_if_due(run, step + 1)) {
            finished = false;
            break;
        }
    }
    if (show_progress)
        progress_finish(&progress);

    run->result->final_loss = finished && window_steps ? (float)(loss_window / window_steps) : NAN;
    tape_free(&tape);
    free(ids);
    free(labels);
    return finished;
}

TrainResult train_classifier(ClassifierForwardFn forward, void *model, ParamList *params,
                             ClassifierTask task, TrainConfig config)
{
    TrainResult result = {.status = TRAIN_OK, .checkpoint_step = -1, .accuracy = NAN};
    TrainRun run = {.params = params, .config = config, .result = &result};

    AdamOptions options = adam_default_options();
    options.lr = config.learning_rate;
    Adam *adam = adam_new(params, options);
    if (!adam)
        core_fatal("could not create the Adam optimiser (learning rate %g)",
                   (double)config.learning_rate);

    double start = time_now_seconds();
    bool finished = run_steps(&run, forward, model, task, adam);
    result.seconds = time_now_seconds() - start;
    adam_free(adam);

    /* 0 steps with a checkpoint path still writes the (initial) weights. */
    if (finished && config.steps == 0 && config.checkpoint_path)
        finished = save_if_due(&run, 0);
    if (!finished)
        return result;

    Rng eval_rng;
    rng_seed(&eval_rng, config.seed, 2);
    result.accuracy =
        evaluate_classifier(forward, model, task, &eval_rng, config.eval_batches, config.batch);
    return result;
}

void train_exit_on_failure(const char *program, const TrainResult *result)
{
    if (result->status == TRAIN_OK)
        return;
    fprintf(stderr, "%s: %s\n", program, result->message);
    exit(result->status == TRAIN_SAVE_FAILED ? TRAIN_SAVE_FAILED_EXIT_STATUS
                                             : TRAIN_DIVERGED_EXIT_STATUS);
}
