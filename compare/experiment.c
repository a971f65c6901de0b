/* One classifier run of the comparison (see experiment.h). */
#include "experiment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ops.h"
#include "runner.h"

/* Random streams of a run's data seed: train.c uses 1 (training) and 2 (accuracy). */
#define CURVE_STREAM 5

/* The stream of a run's init seed that draws the weights. */
#define INIT_STREAM 11

bool curve_append(Curve *curve, CurvePoint point)
{
    if (curve->count == curve->capacity) {
        size_t capacity = curve->capacity ? 2 * curve->capacity : 16;
        CurvePoint *points = realloc(curve->points, capacity * sizeof *points);
        if (!points)
            return false;
        curve->points = points;
        curve->capacity = capacity;
    }
    curve->points[curve->count++] = point;
    return true;
}

void curve_free(Curve *curve)
{
    free(curve->points);
    memset(curve, 0, sizeof *curve);
}

double classifier_loss(ClassifierForwardFn forward, void *model, ClassifierTask task, Rng *rng,
                       int batches, int batch_size)
{
    int *ids = malloc((size_t)batch_size * (size_t)task.length * sizeof *ids);
    int *labels = malloc((size_t)batch_size * sizeof *labels);
    if (!ids || !labels)
        core_fatal("out of memory allocating a batch of %d sentences of %d words", batch_size,
                   task.length);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    double sum = 0.0;
    for (int b = 0; b < batches; b++) {
        tape_reset(&tape);
        task.sample(task.task, rng, batch_size, ids, labels);
        Tensor *logits = forward(&tape, model, ids, batch_size, task.length);
        sum += op_cross_entropy(&tape, logits, labels)->data[0];
    }

    tape_free(&tape);
    free(ids);
    free(labels);
    return batches > 0 ? sum / batches : NAN;
}

/* What the per-step callback needs to draw progress and record the curve. */
typedef struct StepObserver {
    ClassifierRun *run;
    Model *model;
    Display *display;
    int slot;
    uint64_t data_seed;   /* seeds the validation batches of every curve point */
    double start_seconds; /* clock when training started */
    double eval_seconds;  /* time spent on validation so far, left out of the curve */
    double loss_sum;      /* training losses since the last curve point */
    int loss_steps;
} StepObserver;

/* The TrainStepFn: progress, and a curve point every curve_every steps and at the end. */
static void observe_step(void *context, int step, float loss)
{
    StepObserver *o = context;
    const Recipe *recipe = &o->run->recipe;
    o->loss_sum += loss;
    o->loss_steps++;
    display_step(o->display, o->slot, step, loss);
    if (step % recipe->curve_every != 0 && step != recipe->steps)
        return;

    /* The same held-out batches at every point, so the curve shows the model change. */
    double before = time_now_seconds();
    Rng rng;
    rng_seed(&rng, o->data_seed, CURVE_STREAM);
    double val_loss = classifier_loss(o->model->forward, o->model->impl, o->run->task, &rng,
                                      recipe->curve_batches, recipe->batch);
    double after = time_now_seconds();

    CurvePoint point = {.step = step,
                        .seconds = before - o->start_seconds - o->eval_seconds,
                        .train_loss = o->loss_sum / o->loss_steps,
                        .val_loss = val_loss};
    if (!curve_append(&o->run->curve, point))
        core_fatal("out of memory recording the loss curve of %s", o->run->label);
    o->eval_seconds += after - before;
    o->loss_sum = 0.0;
    o->loss_steps = 0;
}

void classifier_run_execute(ClassifierRun *run, Display *display, int slot)
{
    /* Names that seed the data ("distance/d=3") and the weights (the name plus the model). */
    char data_name[96], init_name[192];
    snprintf(data_name, sizeof data_name, "%s/d=%d", run->task_name, run->distance);
    snprintf(init_name, sizeof init_name, "%s/%s", data_name, model_kind_name(run->spec.kind));
    uint64_t data_seed = runner_seed(run->seed, data_name);
    Rng init_rng;
    rng_seed(&init_rng, runner_seed(run->seed, init_name), INIT_STREAM);
    Model *model = model_new(&run->spec, &init_rng);
    if (!model)
        core_fatal("could not build %s with width %d", run->label, run->spec.width);

    TrainConfig config = train_default_config();
    config.steps = run->recipe.steps;
    config.batch = run->recipe.batch;
    config.learning_rate = run->recipe.learning_rate;
    config.clip_norm = run->recipe.clip_norm;
    config.eval_batches = run->recipe.eval_batches;
    config.seed = data_seed;
    StepObserver observer = {
        .run = run, .model = model, .display = display, .slot = slot, .data_seed = data_seed};
    config.on_step = observe_step;
    config.on_step_context = &observer;

    display_begin(display, slot, run->label, run->recipe.steps, classifier_run_cost(run));
    observer.start_seconds = time_now_seconds();
    TrainResult result =
        train_classifier(model->forward, model->impl, model->params, run->task, config);

    /* A diverged run keeps its NaN accuracy in the tables and says why here. */
    if (result.status != TRAIN_OK)
        fprintf(stderr, "compare: %s: %s\n", run->label, result.message);
    run->accuracy = result.accuracy;
    run->final_loss = result.final_loss;
    run->seconds =
        run->curve.count ? run->curve.points[run->curve.count - 1].seconds : result.seconds;
    run->params = model->param_count;
    run->finished = true;
    char summary[96];
    snprintf(summary, sizeof summary, "accuracy %.3f, %.1f s", (double)run->accuracy, run->seconds);
    display_end(display, slot, summary);
    model_free(model);
}

double classifier_run_cost(const ClassifierRun *run)
{
    const Recipe *r = &run->recipe;
    double per_sentence = model_cost_per_sentence(&run->spec, run->task.length);
    double training = 3.0 * per_sentence * r->steps * r->batch;
    int curve_points = r->steps / r->curve_every + 1;
    double evaluation =
        per_sentence * r->batch * (r->eval_batches + curve_points * r->curve_batches);
    return training + evaluation;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median_of(const double *values, size_t count)
{
    if (count == 0)
        return 0.0;
    double *sorted = malloc(count * sizeof *sorted);
    if (!sorted)
        core_fatal("out of memory computing a median of %zu values", count);
    memcpy(sorted, values, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare_doubles);
    double median =
        count % 2 ? sorted[count / 2] : 0.5 * (sorted[count / 2 - 1] + sorted[count / 2]);
    free(sorted);
    return median;
}
