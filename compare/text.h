/*
 * Task 3 of the comparison: next-word prediction on real text.
 *
 * Both models read a window of `context` words and predict, at every
 * position t, the word at t + 1. The validation loss is also split into
 * buckets by where the target word last appeared in the window before it:
 *
 *   absent     not among the words the model has read
 *   within_rf  at most receptive_field words back, so the causal CNN's
 *              output at t could have read it
 *   beyond_rf  further back: visible to attention, not to the CNN
 *
 * Targets that are \<unk\> are left out of the validation loss and of every
 * bucket: one \<unk\> stands for many different rare words, so "the same word
 * appeared before" means nothing for it. Training still predicts them.
 */
#ifndef COMPARE_TEXT_H
#define COMPARE_TEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "corpus.h"
#include "csv.h"
#include "display.h"
#include "experiment.h"
#include "models.h"

/** Buckets of validation targets, in the order text.csv lists them. */
typedef enum TextBucket {
    BUCKET_ALL,       /**< every target except \<unk\> */
    BUCKET_ABSENT,    /**< the target word is not among the words read */
    BUCKET_WITHIN_RF, /**< it last appeared at most receptive_field words back */
    BUCKET_BEYOND_RF, /**< it last appeared further back */
    BUCKET_COUNT      /**< the number of buckets */
} TextBucket;

/** Prompts sampled from after training. */
#define TEXT_SAMPLE_COUNT 3

/** Room for one sampled line, prompt included. */
#define TEXT_SAMPLE_BYTES 512

/** Returns the bucket's name as text.csv writes it ("all", "absent", "within_rf", "beyond_rf"). */
const char *text_bucket_name(TextBucket bucket);

/**
 * Returns the bucket of the target ids[t + 1] given the words ids[0 .. t]
 * before it: BUCKET_ABSENT when the target is not among them, otherwise
 * BUCKET_WITHIN_RF when its latest occurrence p has t + 1 - p <=
 * @p receptive_field, else BUCKET_BEYOND_RF. Shapes: ids [t + 2] at least.
 */
TextBucket text_bucket(const int *ids, int t, int receptive_field);

/** Settings of a text run; both models get the same ones. */
typedef struct TextConfig {
    int context;         /**< words per window */
    int batch;           /**< windows per step, so one step trains on batch * context targets */
    int steps;           /**< optimiser steps */
    float learning_rate; /**< Adam's learning rate */
    float clip_norm;     /**< the global gradient norm is clipped to this */
    int eval_every;      /**< steps between two points of the loss curve */
    int eval_windows;    /**< validation windows for each curve point (the final loss uses all) */
    uint64_t seed;       /**< the seed the CSV files report */
    int receptive_field; /**< the CNN's: the bucket boundary for both models */
    float temperature;   /**< of the samples */
    int sample_words;    /**< words generated after each prompt */
} TextConfig;

/** One model's text run: what to train, then what it measured. */
typedef struct TextRun {
    ModelSpec spec;                  /**< a language model, width already matched */
    const Corpus *corpus;            /**< the text; shared, read-only */
    TextConfig config;               /**< shared by both runs */
    char label[DISPLAY_LABEL_BYTES]; /**< such as "text 08_transformer_block" */

    bool finished;             /**< the fields below are valid */
    double loss[BUCKET_COUNT]; /**< mean validation cross-entropy per bucket, nats */
    long tokens[BUCKET_COUNT]; /**< validation targets per bucket */
    double seconds;            /**< training wall time, without validation */
    size_t params;             /**< trainable parameters */
    Curve curve;               /**< the loss curve; owned */
    char samples[TEXT_SAMPLE_COUNT][TEXT_SAMPLE_BYTES]; /**< prompt and sampled words */
} TextRun;

/** The prompts of the samples, the same for both models. */
extern const char *const TEXT_PROMPTS[TEXT_SAMPLE_COUNT];

/**
 * Trains the run's model on the training part of the corpus, measures the
 * per-bucket validation loss over every non-overlapping validation window,
 * records the loss curve and samples after each prompt. Progress goes to
 * @p display. A model that diverges or cannot be built stops the program.
 * @return true, or false when it stopped training early because a stop was
 *         requested (runner_request_stop): a text run takes minutes, and an
 *         interrupted task writes none of its results.
 */
bool text_run_execute(TextRun *run, Display *display, int slot);

/** Estimates the multiply-adds of the whole run, for ordering and the time left. */
double text_run_cost(const TextRun *run);

/* ------------------------------------------------------------------------- */
/* What task 3 writes (text_output.c)                                         */
/* ------------------------------------------------------------------------- */

/**
 * Writes text.csv into @p directory (atomically): one row per model and
 * bucket, model,bucket,tokens,loss,perplexity,params,receptive_field,seed.
 * @return false with a message in @p error when writing fails.
 */
bool text_write_csv(const TextRun *runs, int count, const char *directory, char *error,
                    size_t error_size);

/** Appends the runs' loss curves to an open curves.csv writer. */
bool text_write_curves(const TextRun *runs, int count, CsvWriter *writer);

/** Prints the per-bucket table in Markdown to @p out. */
void text_print_table(const TextRun *runs, int count, FILE *out);

/** Prints each model's samples, with the prompt, temperature and seed, to @p out. */
void text_print_samples(const TextRun *runs, int count, FILE *out);

#endif /* COMPARE_TEXT_H */
