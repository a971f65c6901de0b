/* The full and quick recipes (see settings.h). */
#include "settings.h"

#include <string.h>

/*
 * Distances of task 1: every distance up to just past the CNN's receptive
 * field 2L+1, then a spread up to 4 times it.
 */
static const int QUICK_DISTANCES[] = {1, 2, 3, 4, 6, 8, 12};
static const int FULL_DISTANCES[] = {1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 28};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

/* Task 1: the stage 01 CNN of L layers against the attention stages and the controls. */
static void init_distance(Settings *s, bool quick)
{
    const int *distances = quick ? QUICK_DISTANCES : FULL_DISTANCES;
    size_t count = quick ? COUNT_OF(QUICK_DISTANCES) : COUNT_OF(FULL_DISTANCES);
    memcpy(s->distances, distances, count * sizeof *distances);
    s->distance = (DistanceSetup){
        .cnn_layers = quick ? 1 : 3,
        .cnn_width = quick ? 40 : 24,
        /* 2L >= the largest distance, so one output reads both words at every distance. */
        .deep_cnn_layers = quick ? 6 : 14,
        .attention_layers = 1,
        .heads = 2,
        .margin = 4,
        /*
         * Only stage 05's runs beyond distance 8 cost more: each of them
         * would take several minutes of one core.
         */
        .max_run_cost = quick ? 0.0 : 7e11,
        /* Stages 05, 06, 07, 08; --quick leaves out the two slowest, 05 and 08. */
        .attention = {!quick, true, true, !quick},
        .distances = s->distances,
        .distance_count = count,
    };
    s->distance_recipe = (Recipe){
        /* Attention at distance 28 (69 words) leaves chance only after about 1500 steps. */
        .steps = quick ? 1500 : 2500, .batch = 32,
        .learning_rate = 3e-3f,       .clip_norm = 1.0f,
        .eval_batches = 16,           .curve_every = quick ? 50 : 100,
        .curve_batches = 4,
    };
}

/* Task 2: stage 02 against stage 03 on the word order task. */
static void init_order(Settings *s, bool quick)
{
    s->order_layers = 1;
    s->order_width = 8;
    s->order_recipe = (Recipe){
        .steps = quick ? 200 : 400,
        .batch = 32,
        .learning_rate = 3e-3f,
        .clip_norm = 1.0f,
        .eval_batches = 16,
        .curve_every = 20,
        .curve_batches = 4,
    };
}

/* Task 3: the causal CNN against the stage 08 causal transformer on real text. */
static void init_text(Settings *s, bool quick)
{
    s->text = (TextSettings){
        .vocab_size = quick ? 1000 : 2000,
        .validation_fraction = 0.1,
        .context = quick ? 32 : 64,
        .batch = 16,
        .steps = quick ? 500 : 3000,
        .learning_rate = 3e-3f,
        .eval_every = quick ? 50 : 100,
        .eval_windows = quick ? 32 : 64,
        .cnn_layers = quick ? 1 : 3,
        .cnn_width = quick ? 32 : 48,
        .transformer_layers = quick ? 1 : 2,
        .transformer_heads = 2,
        .temperature = 0.8f,
        .sample_words = 16,
    };
}

void settings_init(Settings *settings, bool quick)
{
    memset(settings, 0, sizeof *settings);
    settings->quick = quick;
    settings->seed_count = 3;
    init_distance(settings, quick);
    init_order(settings, quick);
    init_text(settings, quick);
}
