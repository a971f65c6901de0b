/*
 * The two recipes of the comparison: the full run and the --quick run.
 * Everything a run trains with is fixed here, so that REPORT.md can state
 * it and a reader can change it in one place.
 */
#ifndef COMPARE_SETTINGS_H
#define COMPARE_SETTINGS_H

#include <stdbool.h>

#include "experiment.h"
#include "study.h"

/** The settings of task 3, real text. */
typedef struct TextSettings {
    int vocab_size;             /**< the most frequent words kept, \<unk\> included */
    double validation_fraction; /**< the last part of the corpus held out */
    int context;                /**< words per window */
    int batch;                  /**< windows per step */
    int steps;                  /**< optimiser steps */
    float learning_rate;        /**< Adam's learning rate */
    int eval_every;             /**< steps between two points of the loss curve */
    int eval_windows;           /**< validation windows per curve point */
    int cnn_layers;             /**< L of the causal CNN; its receptive field is 2L+1 */
    int cnn_width;              /**< D of the causal CNN; its parameter count is the target */
    int transformer_layers;     /**< blocks of the stage 08 model */
    int transformer_heads;      /**< heads of the stage 08 model */
    float temperature;          /**< of the samples */
    int sample_words;           /**< words sampled after each prompt */
} TextSettings;

/** Everything one run of the program trains with. */
typedef struct Settings {
    bool quick;                         /**< the --quick recipe */
    int seed_count;                     /**< seeds per point of tasks 1 and 2 */
    int distances[STUDY_MAX_DISTANCES]; /**< distances of task 1 */
    DistanceSetup distance;             /**< models and task of task 1; distances points above */
    Recipe distance_recipe;             /**< training of task 1 */
    int order_layers;                   /**< pairwise layers of task 2 */
    int order_width;                    /**< width of stage 02 in task 2; stage 03 matches it */
    Recipe order_recipe;                /**< training of task 2 */
    TextSettings text;                  /**< task 3 */
} Settings;

/**
 * Fills @p settings with the full recipe or, with @p quick, the quick one.
 * settings->distance.distances points into settings->distances, so copy a
 * Settings only through this function.
 */
void settings_init(Settings *settings, bool quick);

#endif /* COMPARE_SETTINGS_H */
