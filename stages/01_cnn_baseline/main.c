/*
 * Stage 01 program: the CNN baseline, in three sections.
 *
 *   1. Words become numbers: the vocabulary of the example sentence, its ids,
 *      and the one-hot form of the embedding checked against the lookup.
 *   2. The receptive field: each word is replaced in turn, and a grid shows
 *      which outputs of the last layer change (compared bit for bit).
 *   3. The distance task: the CNN is trained with the two related words at
 *      distances inside and beyond its receptive field, and the accuracy per
 *      distance goes to OUT/stage01_distance.csv and a plot.
 *
 * stdout carries only results, the same bytes for the same options;
 * progress and timings go to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "01_cnn_baseline/cnn.h"
#include "cli.h"
#include "clock.h"
#include "csv.h"
#include "files.h"
#include "program.h"
#include "result_file.h"
#include "tasks.h"
#include "train.h"
#include "vocab.h"

#define PROGRAM "stage01"

/* The example sentence, in which "dog" and "tail" are 9 positions apart. */
#define EXAMPLE_SENTENCE "the dog spun around so fast that it caught its tail"
#define EXAMPLE_FIRST_WORD "dog"
#define EXAMPLE_SECOND_WORD "tail"

#define DEFAULT_LAYERS 3
#define DEFAULT_WIDTH 32
#define DEFAULT_SEEDS 3
/*
 * One thread by default, because this model's parallel loops are small (a
 * batch of 32 sentences of about 30 words at width 32). On a 2-core machine
 * shared with other processes, a full run took 100 s with 2 threads and 11 s
 * with 1 (gcc 12, libgomp). --threads 2 turns the threads back on.
 */
#define DEFAULT_THREADS 1
#define DEFAULT_OUT "results/stage01"
static const int DEFAULT_DISTANCES[] = {1, 2, 3, 4, 5, 6, 7, 8, 10};

/* Limits of the options. The grid of section 2 has one column per word, so
 * sentences longer than MAX_WORDS would not fit on a terminal line. */
#define MAX_LAYERS 64
#define MAX_WIDTH 1024
#define MAX_STEPS 10000000
#define MAX_SEEDS 100
#define MAX_WORDS 80
#define MAX_DISTANCE 1000
#define MAX_DISTANCE_COUNT 64

/* The options that fix the shapes of the CNN a checkpoint holds. */
#define MODEL_OPTIONS "--width and --layers"

/* Filler words shared out at random before and after the two spans of the
 * distance task, so the spans do not always start at the first word. */
#define TASK_MARGIN 2

/* The one-hot matrix of section 1 is printed only up to this vocabulary size. */
#define MAX_PRINTED_VOCAB 24

/* Everything the command line sets. */
typedef struct Options {
    int seeds;                         /* training runs per distance, one per seed */
    int layers;                        /* L */
    int width;                         /* D */
    int steps;                         /* training steps per run */
    int distances[MAX_DISTANCE_COUNT]; /* [distance_count] */
    int distance_count;
    ProgramOptions common; /* seed (section 3 also uses seed + 1, ...), threads, out_dir,
                              sentences */
} Options;

/* Returns "s" unless count is 1, for "1 layer" and "3 layers". */
static const char *plural(int count) { return count == 1 ? "" : "s"; }

/* ------------------------------------------------------------------------- */
/* Options                                                                    */
/* ------------------------------------------------------------------------- */

static void print_usage(void)
{
    printf(
        "Usage: %s [OPTION]...\n"
        "Walk through the CNN baseline: words become ids (section 1), the receptive\n"
        "field of L layers (section 2), and accuracy on the distance task inside and\n"
        "beyond it (section 3).\n"
        "\n"
        "  --sentence TEXT       sentence for sections 1 and 2, repeatable; replaces the\n"
        "                        example \"%s\".\n"
        "                        At most %d words each. The vocabulary is built from\n"
        "                        these sentences, so no word is unknown.\n"
        "  --sentence-file FILE  read sentences from FILE, one per line ('-' = stdin)\n"
        "  --layers N            convolutional layers L in every section, 0..%d\n"
        "                        (default %d)\n"
        "  --width N             width D of word vectors and layers, 1..%d (default %d)\n"
        "  --steps N             training steps per run in section 3, 1..%d (default %d)\n"
        "  --distances LIST      comma-separated distances between the related words in\n"
        "                        section 3, each 1..%d (default 1,2,3,4,5,6,7,8,10)\n"
        "  --seed N              seed of the random weights and of the first training run\n"
        "                        (default 1)\n"
        "  --seeds N             training runs per distance, with seeds SEED, SEED+1, ...,\n"
        "                        1..%d (default %d)\n"
        "  --out DIR             folder for stage01_distance.csv and .png (default %s)\n" PROGRAM_CHECKPOINT_HELP
        "                        --save writes the run of the first distance with seed\n"
        "                        SEED; --load skips training and measures the loaded\n"
        "                        CNN at every distance\n"
        "  --threads N           threads for the heavy loops, 1..%d (default %d)\n"
        "  --help                print this help and exit\n",
        PROGRAM, EXAMPLE_SENTENCE, MAX_WORDS, MAX_LAYERS, DEFAULT_LAYERS, MAX_WIDTH, DEFAULT_WIDTH,
        MAX_STEPS, train_default_config().steps, MAX_DISTANCE, MAX_SEEDS, DEFAULT_SEEDS,
        DEFAULT_OUT, PROGRAM_MAX_THREADS, DEFAULT_THREADS);
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Parses "1,2,8" into options->distances; exits through cli_usage_error on a bad list. */
static void parse_distances(const char *text, Options *options)
{
    char item[32], shown[CLI_ABBREVIATION_SIZE];
    cli_abbreviate(text, strlen(text), shown, sizeof shown);
    int count = 0;
    const char *start = text;
    for (;;) {
        size_t length = strcspn(start, ",");
        if (length == 0 || length >= sizeof item || count == MAX_DISTANCE_COUNT)
            cli_usage_error(PROGRAM,
                            "invalid value '%s' for --distances: expected 1 to %d "
                            "comma-separated integers from 1 to %d",
                            shown, MAX_DISTANCE_COUNT, MAX_DISTANCE);
        memcpy(item, start, length);
        item[length] = '\0';
        options->distances[count++] = cli_parse_int(PROGRAM, "--distances", item, 1, MAX_DISTANCE);
        if (start[length] == '\0')
            break;
        start += length + 1;
    }
    options->distance_count = count;

    /* Ascending order, so that the table can draw the receptive-field rule between two rows. */
    qsort(options->distances, (size_t)count, sizeof options->distances[0], compare_ints);
    for (int i = 1; i < count; i++)
        if (options->distances[i] == options->distances[i - 1])
            cli_usage_error(PROGRAM,
                            "invalid value '%s' for --distances: distance %d appears "
                            "twice",
                            shown, options->distances[i]);
}

enum { OPT_LAYERS = PROGRAM_OWN_OPTION, OPT_WIDTH, OPT_STEPS, OPT_DISTANCES, OPT_SEEDS };

/* Reads one of the options of this program (ProgramOptionFn). */
static void handle_option(int option, const char *value, void *context)
{
    Options *options = context;
    switch (option) {
    case OPT_LAYERS:
        options->layers = cli_parse_int(PROGRAM, "--layers", value, 0, MAX_LAYERS);
        break;
    case OPT_WIDTH:
        options->width = cli_parse_int(PROGRAM, "--width", value, 1, MAX_WIDTH);
        break;
    case OPT_STEPS:
        options->steps = cli_parse_int(PROGRAM, "--steps", value, 1, MAX_STEPS);
        break;
    case OPT_DISTANCES:
        parse_distances(value, options);
        break;
    case OPT_SEEDS:
        options->seeds = cli_parse_int(PROGRAM, "--seeds", value, 1, MAX_SEEDS);
        break;
    }
}

/* Sets the defaults, then reads argv; exits on --help and on any invalid option. */
static void parse_options(int argc, char **argv, Options *options)
{
    static const struct option own_options[] = {
        {"layers", required_argument, NULL, OPT_LAYERS},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"steps", required_argument, NULL, OPT_STEPS},
        {"distances", required_argument, NULL, OPT_DISTANCES},
        {"seeds", required_argument, NULL, OPT_SEEDS},
        {NULL, 0, NULL, 0},
    };
    static const char *const default_sentences[] = {EXAMPLE_SENTENCE};
    *options = (Options){.seeds = DEFAULT_SEEDS,
                         .layers = DEFAULT_LAYERS,
                         .width = DEFAULT_WIDTH,
                         .steps = train_default_config().steps};

    /* Runs use seed, seed + 1, ..., so the top MAX_SEEDS values of --seed are kept free. */
    ProgramSpec spec = {.name = PROGRAM,
                        .print_usage = print_usage,
                        .own_options = own_options,
                        .handle_option = handle_option,
                        .context = options,
                        .takes_sentences = true,
                        .takes_out = true,
                        .default_out = DEFAULT_OUT,
                        .takes_checkpoint = true,
                        .default_threads = DEFAULT_THREADS,
                        .extra_seeds = MAX_SEEDS,
                        PROGRAM_DEFAULT_SENTENCES(default_sentences),
                        .max_words = MAX_WORDS,
                        .max_words_reason = "so that the grid of section 2 fits a line"};
    program_parse_options(&spec, argc, argv, &options->common);

    if (options->distance_count == 0) {
        options->distance_count = (int)(sizeof DEFAULT_DISTANCES / sizeof DEFAULT_DISTANCES[0]);
        memcpy(options->distances, DEFAULT_DISTANCES, sizeof DEFAULT_DISTANCES);
    }
}

/* ------------------------------------------------------------------------- */
/* Sentences                                                                  */
/* ------------------------------------------------------------------------- */

/* Stops the program with status 1 when memory runs out. */
static void *checked_calloc(size_t count, size_t size, const char *description)
{
    void *memory = calloc(count, size);
    if (!memory) {
        fprintf(stderr, "%s: out of memory allocating %s\n", PROGRAM, description);
        exit(1);
    }
    return memory;
}

/* Gives every word of the sentences an id; exits with status 1 when memory runs out. */
static void encode_sentences(SentenceSet *sentences)
{
    char error[512];
    if (!sentence_set_encode(sentences, error, sizeof error)) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
        exit(1);
    }
}

/* ------------------------------------------------------------------------- */
/* Section 1: words become numbers                                            */
/* ------------------------------------------------------------------------- */

static void print_vocabulary(const Vocab *vocab)
{
    printf("vocabulary: V = %d ids, one per distinct word, ordered by count and then "
           "alphabetically;\nid 0 is %s, which any word outside the vocabulary would map to\n",
           vocab->size, VOCAB_UNKNOWN_WORD);
    /* Five per line; the last of a line is not padded, so no line ends in spaces. */
    for (int id = 0; id < vocab->size; id++) {
        bool line_end = id % 5 == 4 || id == vocab->size - 1;
        printf("%4d %-*s%s", id, line_end ? 0 : 12, vocab_word(vocab, id), line_end ? "\n" : "");
    }
}

/* Prints each word's one-hot row: a 1 in the column of its id, 0 elsewhere. */
static void print_onehot(const TokenList *tokens, const int *ids, int vocab_size)
{
    printf("one-hot vectors, one row per word, one column per id:\n%-12s", "");
    for (int id = 0; id < vocab_size; id++)
        printf("%3d", id);
    printf("\n");
    for (size_t i = 0; i < tokens->count; i++) {
        printf("%-12s", token_list_get(tokens, i));
        for (int id = 0; id < vocab_size; id++)
            printf("%3d", id == ids[i] ? 1 : 0);
        printf("\n");
    }
}

/* Returns the largest |one-hot x table - lookup| over the word vectors of one sentence. */
static double onehot_lookup_difference(const Cnn *cnn, const int *ids, int length)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *looked_up = cnn_embed(&tape, cnn, ids, 1, length);
    Tensor *multiplied = cnn_embed_onehot(&tape, cnn, ids, 1, length);

    double max_difference = 0.0;
    for (size_t i = 0; i < looked_up->size; i++) {
        double difference = fabs((double)looked_up->data[i] - (double)multiplied->data[i]);
        if (difference > max_difference)
            max_difference = difference;
    }
    tape_free(&tape);
    return max_difference;
}

static void section_words(const SentenceSet *sentences, const Cnn *cnn)
{
    printf("== 1. Words become numbers ==\n\n");
    print_vocabulary(sentences->vocab);

    for (size_t s = 0; s < sentences->count; s++) {
        const TokenList *tokens = &sentences->items[s].words;
        int length = (int)tokens->count;
        printf("\nsentence %zu (%d word%s):\n", s + 1, length, plural(length));
        for (size_t i = 0; i < tokens->count; i++)
            printf("%s%s", i ? " " : "  words: ", token_list_get(tokens, i));
        for (size_t i = 0; i < tokens->count; i++)
            printf("%s%d", i ? " " : "\n  ids:   ", sentences->items[s].ids[i]);
        printf("\n");
        if (s == 0 && sentences->vocab->size <= MAX_PRINTED_VOCAB)
            print_onehot(tokens, sentences->items[s].ids, sentences->vocab->size);

        /* The identity: a one-hot row times the table selects one row of it. */
        printf("word vectors as one-hot [%d, %d] x table [%d, %d] versus the lookup of rows "
               "[%d, %d]:\nmax |difference| = %g\n",
               length, cnn->config.vocab_size, cnn->config.vocab_size, cnn->config.width, length,
               cnn->config.width, onehot_lookup_difference(cnn, sentences->items[s].ids, length));
    }
}

/* ------------------------------------------------------------------------- */
/* Section 2: the receptive field                                             */
/* ------------------------------------------------------------------------- */

/* Builds a model for the vocabulary of the sentences, with random weights drawn from seed. */
static Cnn *new_sentence_model(const SentenceSet *sentences, int layers, int width, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 0);
    CnnConfig config = {.vocab_size = sentences->vocab->size,
                        .width = width,
                        .layers = layers,
                        .classes = 2,
                        .padding = CONV_SAME};
    Cnn *cnn = cnn_new(config, &rng);
    if (!cnn) {
        fprintf(stderr, "%s: out of memory building a CNN of %d layers\n", PROGRAM, layers);
        exit(1);
    }
    return cnn;
}

/* Writes the last layer's vectors for one sentence into features [length * D]. */
static void compute_features(const Cnn *cnn, const int *ids, int length, float *features)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *out = cnn_features(&tape, cnn, ids, 1, length);
    memcpy(features, out->data, out->size * sizeof(float));
    tape_free(&tape);
}

/* Work space for the receptive-field measurements of one sentence. */
typedef struct FieldBuffers {
    float *base;    /* [length * D] outputs for the sentence as it is */
    float *scratch; /* [length * D] outputs after one word was replaced */
    int *ids;       /* [length] the sentence with one word replaced */
    bool *changed;  /* [length * length] row j: outputs that changed when word j did */
} FieldBuffers;

/* Allocates the buffers for sentences of up to MAX_WORDS words at width D. */
static FieldBuffers new_field_buffers(int width)
{
    /* MAX_WORDS and MAX_WIDTH keep every product far below SIZE_MAX. */
    size_t floats = (size_t)MAX_WORDS * (size_t)width;
    FieldBuffers b = {
        .base = checked_calloc(floats, sizeof(float), "the layer outputs"),
        .scratch = checked_calloc(floats, sizeof(float), "the layer outputs"),
        .ids = checked_calloc(MAX_WORDS, sizeof(int), "word ids"),
        .changed = checked_calloc((size_t)MAX_WORDS * MAX_WORDS, sizeof(bool), "the grid"),
    };
    return b;
}

static void free_field_buffers(FieldBuffers *b)
{
    free(b->base);
    free(b->scratch);
    free(b->ids);
    free(b->changed);
}

/*
 * Replaces word `word` by another id and sets changed[t] for every output
 * position t whose vector is not bit-identical to b->base, which must hold
 * the outputs for the unchanged sentence.
 */
static void find_changed_outputs(const Cnn *cnn, const int *ids, int length, int word,
                                 FieldBuffers *b, bool *changed)
{
    /* <unk> (id 0) never occurs in a sentence, because the vocabulary was built from it. */
    memcpy(b->ids, ids, (size_t)length * sizeof *ids);
    b->ids[word] = ids[word] == VOCAB_UNKNOWN_ID ? 1 : VOCAB_UNKNOWN_ID;
    compute_features(cnn, b->ids, length, b->scratch);

    size_t width = (size_t)cnn->config.width;
    for (int t = 0; t < length; t++)
        changed[t] = memcmp(b->base + (size_t)t * width, b->scratch + (size_t)t * width,
                            width * sizeof(float)) != 0;
}

/* Fills b->changed: row j marks the outputs that change when word j is replaced. */
static void measure_field(const Cnn *cnn, const int *ids, int length, FieldBuffers *b)
{
    compute_features(cnn, ids, length, b->base);
    for (int j = 0; j < length; j++)
        find_changed_outputs(cnn, ids, length, j, b, b->changed + (size_t)j * (size_t)length);
}

/* Prints the grid of b->changed and counts outputs inside and outside the 2L+1 window. */
static void print_field_grid(const TokenList *tokens, int layers, const FieldBuffers *b)
{
    int length = (int)tokens->count;
    printf("%-16s", "replaced word");
    for (int t = 0; t < length; t++)
        printf("%3d", t);
    printf("   <- output position\n");

    int changed_outside = 0, unchanged_inside = 0;
    for (int j = 0; j < length; j++) {
        printf("%2d %-13.13s", j, token_list_get(tokens, (size_t)j));
        for (int t = 0; t < length; t++) {
            bool changed = b->changed[(size_t)j * (size_t)length + (size_t)t];
            bool inside = abs(t - j) <= layers;
            changed_outside += changed && !inside;
            unchanged_inside += !changed && inside;
            printf("  %c", changed ? 'X' : '.');
        }
        printf("\n");
    }
    printf("outputs more than %d position%s from the replaced word that changed: %d\n", layers,
           plural(layers), changed_outside);
    printf("outputs at most %d position%s away that stayed bit-identical: %d%s\n", layers,
           plural(layers), unchanged_inside,
           unchanged_inside ? " (every ReLU on their paths was inactive)" : "");
}

/* Returns the position of the first `word` in tokens, or -1. */
static int find_word(const TokenList *tokens, const char *word)
{
    for (size_t i = 0; i < tokens->count; i++)
        if (strcmp(token_list_get(tokens, i), word) == 0)
            return (int)i;
    return -1;
}

/*
 * Finds the outputs of the model's last layer that change both when word a
 * and when word b is replaced.
 * @return whether there is one; the first and last such output go to
 *         *first_output and *last_output.
 */
static bool some_output_sees_both(const Cnn *cnn, const int *ids, int length, int a, int b,
                                  FieldBuffers *buffers, int *first_output, int *last_output)
{
    bool *changed_a = buffers->changed;
    bool *changed_b = buffers->changed + length;
    compute_features(cnn, ids, length, buffers->base);
    find_changed_outputs(cnn, ids, length, a, buffers, changed_a);
    find_changed_outputs(cnn, ids, length, b, buffers, changed_b);

    *first_output = -1;
    for (int t = 0; t < length; t++) {
        if (changed_a[t] && changed_b[t]) {
            if (*first_output < 0)
                *first_output = t;
            *last_output = t;
        }
    }
    return *first_output >= 0;
}

/*
 * Adds layers one at a time until some output of the last layer changes
 * both when word a and when word b is replaced, and prints what it found.
 */
static void print_layers_to_meet(const SentenceSet *sentences, size_t sentence, int a, int b,
                                 const Options *options, FieldBuffers *buffers)
{
    const TokenList *tokens = &sentences->items[sentence].words;
    const char *word_a = token_list_get(tokens, (size_t)a);
    const char *word_b = token_list_get(tokens, (size_t)b);
    int apart = b - a;
    printf("\n'%s' (position %d) and '%s' (position %d) are %d position%s apart.\n", word_a, a,
           word_b, b, apart, cli_plural_suffix(apart));

    for (int layers = 1; layers <= MAX_LAYERS; layers++) {
        Cnn *cnn = new_sentence_model(sentences, layers, options->width, options->common.seed);
        int first = -1, last = -1;
        bool met = some_output_sees_both(cnn, sentences->items[sentence].ids, (int)tokens->count, a,
                                         b, buffers, &first, &last);
        cnn_free(cnn);
        if (!met)
            continue;

        if (layers == 2)
            printf("with 1 layer no output changes with both\n");
        else if (layers > 2)
            printf("with 1 to %d layers no output changes with both\n", layers - 1);
        printf("with %d layer%s output%s %d", layers, cli_plural_suffix(layers),
               first == last ? "" : "s", first);
        if (last != first)
            printf(" to %d", last);
        printf(" change%s with both\n", first == last ? "s" : "");
        printf("layers needed before any output sees both '%s' and '%s': %d "
               "(by the formula, the smallest L with 2L >= %d is %d)\n",
               word_a, word_b, layers, apart, (apart + 1) / 2);
        return;
    }
    printf("no output of up to %d layers changes with both\n", MAX_LAYERS);
}

static void section_receptive_field(const SentenceSet *sentences, const Cnn *cnn,
                                    const Options *options)
{
    int layers = options->layers;
    printf("\n== 2. The receptive field ==\n\n");
    printf("A CNN of %d layer%s, width %d, random weights (seed %llu). Each row replaces one "
           "word\nby another; X marks an output of the last layer that changed, '.' one that "
           "stayed\nbit-identical.\n",
           layers, plural(layers), options->width, (unsigned long long)options->common.seed);

    FieldBuffers buffers = new_field_buffers(options->width);
    for (size_t s = 0; s < sentences->count; s++) {
        const TokenList *tokens = &sentences->items[s].words;
        printf("\nsentence %zu:\n", s + 1);
        measure_field(cnn, sentences->items[s].ids, (int)tokens->count, &buffers);
        print_field_grid(tokens, layers, &buffers);
        int field = cnn_receptive_field(layers);
        printf("receptive field after %d layer%s: %d word%s (2L+1)\n", layers, plural(layers),
               field, plural(field));

        /* The example's pair, or else the first and the last word. */
        int a = find_word(tokens, EXAMPLE_FIRST_WORD), b = find_word(tokens, EXAMPLE_SECOND_WORD);
        if (a < 0 || b < 0 || a == b) {
            a = 0;
            b = (int)tokens->count - 1;
        }
        if (a > b) {
            int swap = a;
            a = b;
            b = swap;
        }
        if (a < b)
            print_layers_to_meet(sentences, s, a, b, options, &buffers);
    }
    free_field_buffers(&buffers);
}

/* ------------------------------------------------------------------------- */
/* Section 3: accuracy against distance                                       */
/* ------------------------------------------------------------------------- */

/* Draws sentences of the distance task for the training loop. */
static void sample_distance_task(const void *task, Rng *rng, int batch, int *ids, int *labels)
{
    distance_task_sample(task, rng, batch, ids, labels);
}

/* Trains a fresh CNN on the distance task at one distance and seed; returns its accuracy. */
static float train_at_distance(const DistanceTask *task, const Options *options, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 0);
    CnnConfig config = {.vocab_size = task->vocab->size,
                        .width = options->width,
                        .layers = options->layers,
                        .classes = 2,
                        .padding = CONV_SAME};
    Cnn *cnn = cnn_new(config, &rng);
    if (!cnn) {
        fprintf(stderr, "%s: out of memory building the CNN\n", PROGRAM);
        exit(1);
    }

    char label[64];
    snprintf(label, sizeof label, "distance %d, seed %llu", task->distance,
             (unsigned long long)seed);
    TrainConfig train = train_default_config();
    train.steps = options->steps;
    train.seed = seed;
    train.label = label;

    /* --load replaces training; --save keeps the first run: first distance, seed --seed. */
    if (program_load_checkpoint(PROGRAM, &options->common, cnn->params, MODEL_OPTIONS))
        train.steps = 0;
    if (seed == options->common.seed && task->distance == options->distances[0])
        program_configure_checkpoint(&options->common, &train);

    ClassifierTask classifier_task = {sample_distance_task, task, task->length};
    TrainResult result = train_classifier(cnn_forward, cnn, cnn->params, classifier_task, train);
    train_exit_on_failure(PROGRAM, &result);
    fprintf(stderr, "%s: accuracy %.3f, final loss %.3f, %.1f s\n", label, (double)result.accuracy,
            (double)result.final_loss, result.seconds);

    cnn_free(cnn);
    return result.accuracy;
}

/* Returns the number of trainable values of the CNN that section 3 trains. */
static size_t count_task_parameters(const DistanceTask *task, const Options *options)
{
    Rng rng;
    rng_seed(&rng, options->common.seed, 0);
    CnnConfig config = {.vocab_size = task->vocab->size,
                        .width = options->width,
                        .layers = options->layers,
                        .classes = 2,
                        .padding = CONV_SAME};
    Cnn *cnn = cnn_new(config, &rng);
    if (!cnn) {
        fprintf(stderr, "%s: out of memory building the CNN\n", PROGRAM);
        exit(1);
    }
    size_t count = params_count_elements(cnn->params);
    cnn_free(cnn);
    return count;
}

/* Prints what the task is, the model's size and the training settings. */
static void print_training_setup(const DistanceTask *task, const Options *options)
{
    int field = cnn_receptive_field(options->layers);
    TrainConfig train = train_default_config();

    printf("\n== 3. Accuracy against distance ==\n\n");
    printf("Each sentence holds two subject words and two object words, each subject\n"
           "followed `distance` positions later by an object. Label 1: each object belongs\n"
           "to the subject before it; label 0: the two objects are swapped. Both labels\n"
           "contain the same words, so chance is 0.5. The two spans are %d filler word%s\n"
           "apart (the receptive field), so every other pair of words that reveals the\n"
           "label is at least %d positions apart, out of every output's reach.\n\n",
           field, plural(field), field + 1);
    printf("CNN: %d layer%s of width %d, %zu parameters (V = %d), receptive field %d word%s:\n"
           "two words share an output only when they are at most %d positions apart.\n",
           options->layers, plural(options->layers), options->width,
           count_task_parameters(task, options), task->vocab->size, field, plural(field),
           2 * options->layers);
    if (options->common.load_path) {
        printf("No training: every run uses the parameters of %s; accuracy on %d held-out\n"
               "sentences.\n\n",
               options->common.load_path, train.eval_batches * train.batch);
        return;
    }
    printf("Training per run: %d step%s of %d sentences, Adam with learning rate %g, gradient\n"
           "norm clipped to %g; accuracy on %d held-out sentences.\n\n",
           options->steps, cli_plural_suffix(options->steps), train.batch,
           (double)train.learning_rate, (double)train.clip_norm, train.eval_batches * train.batch);
}

/* Lowest, highest and mean accuracy over a group of runs. */
typedef struct AccuracySummary {
    float lowest, highest;
    double sum;
    int runs;
} AccuracySummary;

static void summary_add(AccuracySummary *summary, float accuracy)
{
    if (summary->runs == 0 || accuracy < summary->lowest)
        summary->lowest = accuracy;
    if (summary->runs == 0 || accuracy > summary->highest)
        summary->highest = accuracy;
    summary->sum += accuracy;
    summary->runs++;
}

static void print_summary(const char *label, const AccuracySummary *summary)
{
    if (summary->runs == 0)
        return;
    printf("%s: %d run%s, lowest %.3f, highest %.3f, mean %.3f\n", label, summary->runs,
           cli_plural_suffix(summary->runs), (double)summary->lowest, (double)summary->highest,
           summary->sum / summary->runs);
}

/* Builds the task for one distance, with the receptive field as the gap; exits when it cannot. */
static DistanceTask *new_task(int distance, int layers)
{
    DistanceTask *task = distance_task_new(distance, cnn_receptive_field(layers), TASK_MARGIN);
    if (!task) {
        fprintf(stderr,
                "%s: failed to build the distance task for distance %d "
                "(sentence too long, or out of memory)\n",
                PROGRAM, distance);
        exit(1);
    }
    return task;
}

static void print_table_header(const Options *options)
{
    printf("distance  words  mult-adds  first shared layer");
    char name[32];
    for (int r = 0; r < options->seeds; r++) {
        snprintf(name, sizeof name, "seed %llu",
                 (unsigned long long)(options->common.seed + (uint64_t)r));
        printf("  %8s", name);
    }
    printf("    mean\n");
}

/* Trains every run of one distance, prints its table row and stores the accuracies. */
static void run_distance(int distance, const Options *options, float *accuracies,
                         AccuracySummary *inside, AccuracySummary *beyond)
{
    DistanceTask *task = new_task(distance, options->layers);
    CnnConfig config = {.vocab_size = task->vocab->size,
                        .width = options->width,
                        .layers = options->layers,
                        .classes = 2,
                        .padding = CONV_SAME};
    size_t multiply_adds = 0;
    cnn_multiply_adds(config, task->length, &multiply_adds);

    double sum = 0.0;
    for (int r = 0; r < options->seeds; r++) {
        accuracies[r] = train_at_distance(task, options, options->common.seed + (uint64_t)r);
        sum += accuracies[r];
        summary_add(distance <= 2 * options->layers ? inside : beyond, accuracies[r]);
    }

    /* The two words first share an output in layer ceil(distance / 2). */
    int meet_layer = (distance + 1) / 2;
    char meet[16];
    if (meet_layer <= options->layers)
        snprintf(meet, sizeof meet, "%d", meet_layer);
    else
        snprintf(meet, sizeof meet, "never");
    printf("%8d  %5d  %9zu  %18s", distance, task->length, multiply_adds, meet);
    for (int r = 0; r < options->seeds; r++)
        printf("  %8.3f", (double)accuracies[r]);
    printf("  %6.3f%s\n", sum / options->seeds,
           distance == 2 * options->layers ? "  <- edge of the receptive field" : "");
    files_flush_stdout();
    distance_task_free(task);
}

/* Writes OUT/stage01_distance.csv and draws OUT/stage01_distance.png. */
static void write_distance_results(const Options *options, const float *accuracies)
{
    ResultCsv csv;
    if (!result_csv_open(&csv, PROGRAM, options->common.out_dir, "stage01_distance",
                         "distance,layers,receptive_field,seed,accuracy"))
        return;
    for (int i = 0; i < options->distance_count; i++)
        for (int r = 0; r < options->seeds; r++)
            csv_row(csv.writer, "%d,%d,%d,%llu,%.4f", options->distances[i], options->layers,
                    cnn_receptive_field(options->layers),
                    (unsigned long long)(options->common.seed + (uint64_t)r),
                    (double)accuracies[(size_t)i * (size_t)options->seeds + (size_t)r]);
    result_csv_close(&csv, "stage01_distance.gp");
}

/* Loads --load into a CNN of section 3 and exits with status 2 before any output if it fails. */
static void check_checkpoint(const Options *options)
{
    if (!options->common.load_path)
        return;
    DistanceTask *task = new_task(options->distances[0], options->layers);
    Rng rng;
    rng_seed(&rng, options->common.seed, 0);
    CnnConfig config = {.vocab_size = task->vocab->size,
                        .width = options->width,
                        .layers = options->layers,
                        .classes = 2,
                        .padding = CONV_SAME};
    Cnn *cnn = cnn_new(config, &rng);
    if (!cnn) {
        fprintf(stderr, "%s: out of memory building the CNN\n", PROGRAM);
        exit(1);
    }
    program_load_checkpoint(PROGRAM, &options->common, cnn->params, MODEL_OPTIONS);
    cnn_free(cnn);
    distance_task_free(task);
}

static void section_training(const Options *options)
{
    DistanceTask *first_task = new_task(options->distances[0], options->layers);
    print_training_setup(first_task, options);
    distance_task_free(first_task);

    size_t runs = (size_t)options->distance_count * (size_t)options->seeds;
    float *accuracies = checked_calloc(runs, sizeof *accuracies, "the accuracies");
    AccuracySummary inside = {0}, beyond = {0};
    int field = cnn_receptive_field(options->layers);

    print_table_header(options);
    bool ruled = false;
    for (int i = 0; i < options->distance_count; i++) {
        /* A rule between the last distance inside the receptive field and the first beyond it. */
        if (!ruled && options->distances[i] > 2 * options->layers) {
            printf("---- receptive field: %d word%s; from distance %d on no output sees both "
                   "----\n",
                   field, plural(field), field);
            ruled = true;
        }
        float *row = accuracies + (size_t)i * (size_t)options->seeds;
        run_distance(options->distances[i], options, row, &inside, &beyond);
    }

    printf("\n");
    char label[128];
    snprintf(label, sizeof label, "inside the receptive field (distance <= %d)",
             2 * options->layers);
    print_summary(label, &inside);
    snprintf(label, sizeof label, "beyond it (distance >= %d, chance 0.5)", field);
    print_summary(label, &beyond);

    write_distance_results(options, accuracies);
    free(accuracies);
}

/* ------------------------------------------------------------------------- */
/* main                                                                       */
/* ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    Options options;
    parse_options(argc, argv, &options);
    double start = time_now_seconds();

    check_checkpoint(&options);
    SentenceSet *sentences = &options.common.sentences;
    encode_sentences(sentences);
    Cnn *cnn = new_sentence_model(sentences, options.layers, options.width, options.common.seed);

    section_words(sentences, cnn);
    section_receptive_field(sentences, cnn, &options);
    section_training(&options);

    fprintf(stderr, "%s: finished in %.1f s\n", PROGRAM, time_now_seconds() - start);
    cnn_free(cnn);
    program_options_free(&options.common);
    return result_exit_status();
}
