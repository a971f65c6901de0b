/*
 * A study: the grid of classifier runs of one generated task, every model
 * at every distance with every seed, and what is written from it (the CSV
 * file, the table of medians and the figure).
 *
 * Task 1 (distance) uses the distance task of common/tasks.h at several
 * distances; task 2 (order) uses the word order task, with one "distance"
 * of 0.
 */
#ifndef COMPARE_STUDY_H
#define COMPARE_STUDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "csv.h"
#include "experiment.h"
#include "runner.h"
#include "tasks.h"

/** Maximum number of models one study compares. */
#define STUDY_MAX_MODELS 9

/** Maximum number of seeds per point of one study. */
#define STUDY_MAX_SEEDS 64

/** Maximum number of distances one study trains at. */
#define STUDY_MAX_DISTANCES 32

/** The grid of runs of one task. */
typedef struct Study {
    const char *task_name;                             /**< "distance" or "order" */
    size_t model_count;                                /**< models compared */
    ModelSpec specs[STUDY_MAX_MODELS];                 /**< each model, width matched */
    size_t params[STUDY_MAX_MODELS];                   /**< parameters of each model */
    size_t distance_count;                             /**< distances, 1 for the order task */
    int distances[STUDY_MAX_DISTANCES];                /**< the distances, or {0} */
    DistanceTask *distance_tasks[STUDY_MAX_DISTANCES]; /**< one per distance; owned */
    OrderTask *order_task;                             /**< the order task; owned */
    ClassifierTask tasks[STUDY_MAX_DISTANCES];         /**< the sampler of each distance */
    int seed_count;                                    /**< seeds per point */
    uint64_t first_seed; /**< seeds are first_seed .. first_seed + seed_count - 1 */
    Recipe recipe;       /**< the recipe of every run */
    ClassifierRun *runs; /**< [distances * models * seeds]; owned */
    size_t run_count;    /**< runs in the grid */
    double max_run_cost; /**< runs estimated above this are skipped; 0: none */
    Job *jobs;           /**< [job_count] the runs to train; owned */
    size_t job_count;    /**< runs not skipped */
} Study;

/** The sizes a distance study is built from. */
typedef struct DistanceSetup {
    int cnn_layers;        /**< L of the stage 01 CNN; its receptive field is 2L+1 */
    int cnn_width;         /**< D of the stage 01 CNN; its parameter count is the target */
    int deep_cnn_layers;   /**< L of the deep CNN control */
    int attention_layers;  /**< blocks of the attention stages */
    int heads;             /**< heads of stages 07 and 08 */
    int margin;            /**< extra filler words of the task */
    double max_run_cost;   /**< skip runs estimated above this many multiply-adds; 0: no limit */
    bool attention[4];     /**< which of stages 05, 06, 07, 08 to include */
    const int *distances;  /**< the distances */
    size_t distance_count; /**< how many */
} DistanceSetup;

/**
 * Builds the distance study: tasks with a gap of the CNN's receptive field,
 * every model matched to the CNN's parameter count, and the grid of runs.
 * @return true, or false with a message in @p error (a width that cannot
 *         match within MATCH_TOLERANCE, a task that cannot be built).
 */
bool study_new_distance(Study *study, const DistanceSetup *setup, int seed_count,
                        uint64_t first_seed, Recipe recipe, char *error, size_t error_size);

/**
 * Builds the word order study: stage 02 (no positions) against stage 03
 * (positions) with @p layers pairwise layers, stage 03 matched to stage 02
 * of width @p width.
 */
bool study_new_order(Study *study, int layers, int width, int seed_count, uint64_t first_seed,
                     Recipe recipe, char *error, size_t error_size);

/** Frees everything a study owns and zeroes it. */
void study_free(Study *study);

/** Returns the run of distance @p d, model @p m and seed @p s (indices). */
ClassifierRun *study_run(const Study *study, size_t d, size_t m, size_t s);

/** Returns the total cost of the study's runs that are not skipped. */
double study_cost(const Study *study);

/**
 * Computes the median, minimum and maximum accuracy over the seeds of
 * distance @p d and model @p m that were trained.
 * @return false, leaving the outputs unchanged, when every seed was skipped.
 */
bool study_accuracy_summary(const Study *study, size_t d, size_t m, double *median, double *min,
                            double *max);

/**
 * Writes distance.csv or order.csv into @p directory (atomically) with one
 * row per run that was trained (skipped runs have no row).
 * @return false with a message in @p error when writing fails.
 */
bool study_write_csv(const Study *study, const char *directory, char *error, size_t error_size);

/**
 * Appends the study's loss curves to an open curves.csv writer
 * (task,model,seed,step,seconds,train_loss,val_loss,distance).
 */
bool study_write_curves(const Study *study, CsvWriter *writer);

/** Prints the table of medians and ranges in Markdown to @p out. */
void study_print_table(const Study *study, FILE *out);

/**
 * Prints, for a distance study, the medians that decide the comparison:
 * the CNN at d <= L and at d > 2L, the best attention stage over every
 * distance, and the bag of words over every distance, each against its
 * threshold (0.9 or 0.65).
 */
void study_print_findings(const Study *study, FILE *out);

#endif /* COMPARE_STUDY_H */
