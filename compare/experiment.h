/*
 * One classifier training run of the comparison (the distance and the word
 * order tasks), with its loss curve, and the recipe every run shares.
 *
 * A run draws its weights from a generator seeded by (seed, task, distance,
 * model) and its training and held-out batches from one seeded by (seed,
 * task, distance) alone, so at a given seed and distance every model trains
 * and is tested on exactly the same sentences.
 */
#ifndef COMPARE_EXPERIMENT_H
#define COMPARE_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "display.h"
#include "models.h"
#include "train.h"

/** The training recipe, the same for every model of a task. */
typedef struct Recipe {
    int steps;           /**< optimiser steps */
    int batch;           /**< sentences per step */
    float learning_rate; /**< Adam's learning rate */
    float clip_norm;     /**< the global gradient norm is clipped to this */
    int eval_batches;    /**< held-out batches for the final accuracy */
    int curve_every;     /**< steps between two points of the loss curve */
    int curve_batches;   /**< held-out batches for each point's validation loss */
} Recipe;

/** One point of a loss curve. */
typedef struct CurvePoint {
    int step;          /**< optimiser steps done */
    double seconds;    /**< training time so far, without the validation passes */
    double train_loss; /**< mean training loss since the previous point */
    double val_loss;   /**< mean loss on the held-out batches */
} CurvePoint;

/** A growable loss curve. */
typedef struct Curve {
    CurvePoint *points; /**< [count] in step order; owned */
    size_t count;       /**< points recorded */
    size_t capacity;    /**< points allocated */
} Curve;

/**
 * Appends @p point to @p curve.
 * @return false, leaving the curve unchanged, when memory runs out.
 */
bool curve_append(Curve *curve, CurvePoint point);

/** Frees the points and empties the curve. */
void curve_free(Curve *curve);

/** A classifier run: what to train, then what it measured. */
typedef struct ClassifierRun {
    const char *task_name;           /**< "distance" or "order", the task column of curves.csv */
    ClassifierTask task;             /**< draws the sentences; shared by runs, read-only */
    ModelSpec spec;                  /**< the model, width already matched */
    int distance;                    /**< the distance task's d, or 0 for another task */
    uint64_t seed;                   /**< the seed the CSV files report */
    Recipe recipe;                   /**< shared by every run of the task */
    char label[DISPLAY_LABEL_BYTES]; /**< such as "01_cnn_baseline d=3 seed 2" */

    bool skipped;     /**< not trained: its estimated cost exceeds the study's limit */
    bool finished;    /**< the fields below are valid */
    float accuracy;   /**< held-out accuracy, 0..1 */
    float final_loss; /**< mean training loss of the last steps */
    double seconds;   /**< wall time of the training steps */
    size_t params;    /**< trainable parameters */
    Curve curve;      /**< the loss curve; owned */
} ClassifierRun;

/**
 * Trains the model of @p run on its task with the recipe, measures the
 * held-out accuracy and records the loss curve, reporting progress to
 * @p display in @p slot. A run that cannot build its model stops the
 * program (the widths were checked when the plan was made).
 */
void classifier_run_execute(ClassifierRun *run, Display *display, int slot);

/** Estimates the multiply-adds of the whole run (training and validation), for ordering and the
 * time left. */
double classifier_run_cost(const ClassifierRun *run);

/**
 * Computes the mean cross-entropy of a classifier on @p batches batches of
 * @p batch_size sentences drawn from @p rng, without recording gradients.
 */
double classifier_loss(ClassifierForwardFn forward, void *model, ClassifierTask task, Rng *rng,
                       int batches, int batch_size);

/** Returns the median of @p values [count] (the mean of the middle two for an even count); 0 for
 * none. */
double median_of(const double *values, size_t count);

#endif /* COMPARE_EXPERIMENT_H */
