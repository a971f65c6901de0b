/*
 * Stage 04 program: the column-sum reduction, in two sections.
 *
 *   1. The vector count: each sentence goes through L column-sum layers, and
 *      the number of pair vectors of each layer, read from the layer's
 *      tensors, is printed next to stage 02's n^(2^L), with the cost.
 *   2. The blurring measurement: how well one vector can be recovered from a
 *      sum of n vectors, for n = 1, 2, 4, ..., 256 and five dominances. The
 *      table also goes to OUT/stage04_blur.csv and a plot.
 *
 * stdout carries only results, the same bytes for the same options;
 * file notices and timings go to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "04_column_sum/blur.h"
#include "04_column_sum/column_sum.h"
#include "cli.h"
#include "csv.h"
#include "init.h"
#include "program.h"
#include "result_file.h"

#define PROGRAM "stage04"

static const char *const DEFAULT_SENTENCES[] = {
    "the fat cat",
    "the dog spun around so fast that it caught its tail",
};
#define DEFAULT_LAYERS 4
#define DEFAULT_MODEL_WIDTH 8
#define DEFAULT_WIDTH 64
#define DEFAULT_CODEBOOK 64
#define DEFAULT_TRIALS 2000
#define DEFAULT_OUT "results/stage04"

/*
 * One thread by default, as in the other stage programs. On a 2-core machine
 * shared with other processes, runs of the default took 4.6 to 5.4 s with
 * 1 thread and 4.2 to 7.9 s with 2 (gcc 12, libgomp), so threads gave no
 * reliable gain there. --threads 2 turns them back on.
 */
#define DEFAULT_THREADS 1
#define MAX_LAYERS 16
#define MAX_WORDS 256
#define MAX_WIDTH 4096
#define MAX_CODEBOOK 100000
#define MAX_TRIALS 10000000

/* The sums measured: n = 1, 2, 4, ..., 256 vectors, at each dominance. */
static const int BLUR_COUNTS[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
static const double BLUR_DOMINANCES[] = {1, 2, 4, 8, 16};
#define BLUR_COUNT_N ((int)(sizeof BLUR_COUNTS / sizeof BLUR_COUNTS[0]))
#define BLUR_DOMINANCE_N ((int)(sizeof BLUR_DOMINANCES / sizeof BLUR_DOMINANCES[0]))

/* Everything the command line sets. */
typedef struct Options {
    int layers;            /* L of section 1 */
    int width;             /* d of section 2 */
    int codebook;          /* M of section 2 */
    int trials;            /* trials per point of section 2 */
    ProgramOptions common; /* seed, threads, out_dir, sentences */
} Options;

/* ------------------------------------------------------------------------- */
/* Options                                                                    */
/* ------------------------------------------------------------------------- */

static void print_usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Walk through the column-sum reduction: L layers keep n*n pair vectors each\n"
           "instead of stage 02's n^(2^L), and summing n vectors blurs them.\n"
           "\n"
           "  --sentence TEXT       sentence for section 1, repeatable; replaces the two\n"
           "                        built-in sentences. At most %d words; only their\n"
           "                        number matters, so no word is unknown.\n"
           "  --sentence-file FILE  read sentences from FILE, one per line ('-' = stdin)\n"
           "  --layers N            column-sum layers L of section 1, 1..%d (default %d)\n"
           "  --width N             width d of the vectors of section 2, 1..%d (default %d)\n"
           "  --codebook N          candidates M in the retrieval codebook, 2..%d (default %d)\n"
           "  --trials N            random trials per point of section 2, 1..%d\n"
           "                        (default %d)\n"
           "  --seed N              seed of the weights and the trials (default 1)\n"
           "  --out DIR             folder for stage04_blur.csv and .png (default %s)\n"
           "  --threads N           threads for the heavy loops, 1..%d (default %d)\n"
           "  --help                print this help and exit\n",
           PROGRAM, MAX_WORDS, MAX_LAYERS, DEFAULT_LAYERS, MAX_WIDTH, DEFAULT_WIDTH, MAX_CODEBOOK,
           DEFAULT_CODEBOOK, MAX_TRIALS, DEFAULT_TRIALS, DEFAULT_OUT, PROGRAM_MAX_THREADS,
           DEFAULT_THREADS);
}

enum { OPT_LAYERS = PROGRAM_OWN_OPTION, OPT_WIDTH, OPT_CODEBOOK, OPT_TRIALS };

/* Reads one of the options of this program (ProgramOptionFn). */
static void handle_option(int option, const char *value, void *context)
{
    Options *options = context;
    switch (option) {
    case OPT_LAYERS:
        options->layers = cli_parse_int(PROGRAM, "--layers", value, 1, MAX_LAYERS);
        break;
    case OPT_WIDTH:
        options->width = cli_parse_int(PROGRAM, "--width", value, 1, MAX_WIDTH);
        break;
    case OPT_CODEBOOK:
        options->codebook = cli_parse_int(PROGRAM, "--codebook", value, 2, MAX_CODEBOOK);
        break;
    case OPT_TRIALS:
        options->trials = cli_parse_int(PROGRAM, "--trials", value, 1, MAX_TRIALS);
        break;
    }
}

/* Sets the defaults, then reads argv; exits on --help and on any invalid option. */
static void parse_options(int argc, char **argv, Options *options)
{
    static const struct option own_options[] = {
        {"layers", required_argument, NULL, OPT_LAYERS},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"codebook", required_argument, NULL, OPT_CODEBOOK},
        {"trials", required_argument, NULL, OPT_TRIALS},
        {NULL, 0, NULL, 0},
    };
    *options = (Options){.layers = DEFAULT_LAYERS,
                         .width = DEFAULT_WIDTH,
                         .codebook = DEFAULT_CODEBOOK,
                         .trials = DEFAULT_TRIALS};
    ProgramSpec spec = {.name = PROGRAM,
                        .print_usage = print_usage,
                        .own_options = own_options,
                        .handle_option = handle_option,
                        .context = options,
                        .takes_sentences = true,
                        .takes_out = true,
                        .default_out = DEFAULT_OUT,
                        .default_threads = DEFAULT_THREADS,
                        PROGRAM_DEFAULT_SENTENCES(DEFAULT_SENTENCES),
                        .max_words = MAX_WORDS,
                        .max_words_reason = "section 1 forms n*n pairs per layer"};
    program_parse_options(&spec, argc, argv, &options->common);
}

/* ------------------------------------------------------------------------- */
/* Section 1: the vector count                                                */
/* ------------------------------------------------------------------------- */

/* Formats stage 02's n^(2^L) exactly when it fits in size_t, else as a rounded power. */
static void format_pairwise_count(size_t words, int layers, char *text, size_t size)
{
    size_t count;
    if (pairwise_vector_count(words, layers, &count))
        snprintf(text, size, "%zu", count);
    else
        snprintf(text, size, "%.3g", pow((double)words, pow(2.0, layers)));
}

/*
 * Runs the layers on random word vectors (the count does not depend on the
 * words) and writes the pair vectors of each layer, read from the layer's
 * tensor, into pair_counts [layers].
 */
static void measure_pair_counts(PairNet **nets, int layers, int words, Rng *rng,
                                size_t *pair_counts)
{
    Tensor *x0 = tensor_new(shape3(1, words, DEFAULT_MODEL_WIDTH), false);
    init_normal(x0, rng, 1.0f);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    Tensor *x = x0;
    for (int l = 0; l < layers; l++) {
        Tensor *pairs;
        x = column_sum_layer_forward(&tape, nets[l], x, &pairs);
        pair_counts[l] = (size_t)pairs->shape.dim[1];
    }
    tape_free(&tape);
    tensor_free(x0);
}

static void print_counts(const char *text, int words, const size_t *pair_counts, int layers)
{
    printf("\n\"%s\" (n = %d word%s)\n", text, words, words == 1 ? "" : "s");
    printf("%6s  %22s  %22s  %14s\n", "layer", "stage 02: n^(2^L)", "column sum: pairs",
           "vectors kept");
    for (int l = 0; l < layers; l++) {
        char pairwise[32];
        format_pairwise_count((size_t)words, l + 1, pairwise, sizeof pairwise);
        printf("%6d  %22s  %22zu  %14d\n", l + 1, pairwise, pair_counts[l], words);
    }

    size_t cost;
    if (column_sum_multiply_adds((size_t)words, layers, DEFAULT_MODEL_WIDTH, DEFAULT_MODEL_WIDTH,
                                 &cost))
        printf("multiply-adds of %d layer%s at D = %d: n^2 L (2 D^2 + D) = %zu\n", layers,
               cli_plural_suffix(layers), DEFAULT_MODEL_WIDTH, cost);
}

static void section_counts(const Options *options)
{
    printf("== 1. The vector count: n*n pair vectors per layer, n kept ==\n");
    printf("A column-sum layer forms the n*n pairs of its n input vectors, runs the pair net\n"
           "on each, and sums the n pairs of each word back into one vector, so the next\n"
           "layer again starts from n vectors. Pair counts are read from the layers' tensors.\n");

    Rng rng;
    rng_seed(&rng, options->common.seed, 0);
    PairNet *nets[MAX_LAYERS];
    for (int l = 0; l < options->layers; l++) {
        nets[l] = pair_net_new(DEFAULT_MODEL_WIDTH, DEFAULT_MODEL_WIDTH, &rng, NULL);
        if (!nets[l]) {
            fprintf(stderr, "%s: out of memory creating the pair nets\n", PROGRAM);
            exit(1);
        }
    }

    size_t pair_counts[MAX_LAYERS];
    const SentenceSet *sentences = &options->common.sentences;
    for (size_t s = 0; s < sentences->count; s++) {
        int words = (int)sentences->items[s].words.count;
        measure_pair_counts(nets, options->layers, words, &rng, pair_counts);
        print_counts(sentences->items[s].text, words, pair_counts, options->layers);
    }
    for (int l = 0; l < options->layers; l++)
        pair_net_free(nets[l]);
}

/* ------------------------------------------------------------------------- */
/* Section 2: summing blurs                                                   */
/* ------------------------------------------------------------------------- */

/* Measures every (n, dominance) point into points [BLUR_COUNT_N * BLUR_DOMINANCE_N]. */
static void measure_blur(const Options *options, BlurPoint *points)
{
    BlurConfig config = {.width = options->width,
                         .codebook = options->codebook,
                         .trials = options->trials,
                         .seed = options->common.seed};
    for (int c = 0; c < BLUR_COUNT_N; c++)
        if (!blur_measure(&config, BLUR_COUNTS[c], BLUR_DOMINANCES, BLUR_DOMINANCE_N,
                          points + (size_t)c * BLUR_DOMINANCE_N)) {
            fprintf(stderr, "%s: out of memory measuring sums of %d vectors\n", PROGRAM,
                    BLUR_COUNTS[c]);
            exit(1);
        }
}

/* Prints one table with a row per n and a column per dominance; pick selects the value. */
static void print_blur_table(const char *title, const BlurPoint *points,
                             double (*pick)(const BlurPoint *point))
{
    printf("\n%s\n%6s", title, "n");
    for (int i = 0; i < BLUR_DOMINANCE_N; i++) {
        char heading[32];
        snprintf(heading, sizeof heading, "dominance %g", BLUR_DOMINANCES[i]);
        printf("  %12s", heading);
    }
    printf("\n");
    for (int c = 0; c < BLUR_COUNT_N; c++) {
        printf("%6d", BLUR_COUNTS[c]);
        for (int i = 0; i < BLUR_DOMINANCE_N; i++)
            printf("  %12.3f", pick(&points[(size_t)c * BLUR_DOMINANCE_N + i]));
        printf("\n");
    }
}

static double pick_cosine(const BlurPoint *point) { return point->mean_cosine; }
static double pick_expected(const BlurPoint *point) { return point->expected_cosine; }
static double pick_retrieval(const BlurPoint *point) { return point->retrieval; }

/* Writes OUT/stage04_blur.csv and draws OUT/stage04_blur.png. */
static void write_blur_figure(const char *out_dir, const BlurPoint *points)
{
    ResultCsv csv;
    if (!result_csv_open(&csv, PROGRAM, out_dir, "stage04_blur",
                         "words,dominance,mean_cosine,expected_cosine,retrieval_accuracy"))
        return;
    for (int i = 0; i < BLUR_COUNT_N * BLUR_DOMINANCE_N; i++)
        csv_row(csv.writer, "%d,%g,%.6f,%.6f,%.6f", points[i].count, points[i].dominance,
                points[i].mean_cosine, points[i].expected_cosine, points[i].retrieval);
    result_csv_close(&csv, "stage04_blur.gp");
}

static void section_blur(const Options *options)
{
    printf("\n== 2. Summing n vectors blurs them ==\n");
    printf("One component c of length 'dominance' plus n-1 other vectors of length 1, all in\n"
           "random directions in R^%d; %d trial%s per point (seed %llu).\n"
           "cosine: mean of cos(sum, c); 1 means the sum points exactly along c.\n"
           "retrieval: fraction of trials in which c is the nearest (by cosine) to the sum\n"
           "among a codebook of %d unit vectors, c and %d random other%s (chance %.3f).\n",
           options->width, options->trials, cli_plural_suffix(options->trials),
           (unsigned long long)options->common.seed, options->codebook, options->codebook - 1,
           cli_plural_suffix(options->codebook - 1), 1.0 / options->codebook);

    BlurPoint points[BLUR_COUNT_N * BLUR_DOMINANCE_N];
    measure_blur(options, points);
    print_blur_table("cosine between the sum and c (measured):", points, pick_cosine);
    print_blur_table("cosine estimate dominance / sqrt(dominance^2 + n - 1), which treats the "
                     "vectors as orthogonal:",
                     points, pick_expected);
    print_blur_table("retrieval accuracy:", points, pick_retrieval);

    /* The first and last rows of dominance 1 and of the largest dominance. */
    const BlurPoint *last = points + (size_t)(BLUR_COUNT_N - 1) * BLUR_DOMINANCE_N;
    printf("\nWith equal vectors (dominance 1) the cosine falls from %.3f at n = %d to %.3f at\n"
           "n = %d and retrieval from %.3f to %.3f. With dominance %g the sum of %d vectors\n"
           "still has cosine %.3f and retrieval %.3f: a sum keeps one vector only when that\n"
           "vector is much larger than the rest. Stage 05 lets the model choose which one.\n",
           points[0].mean_cosine, BLUR_COUNTS[0], last[0].mean_cosine,
           BLUR_COUNTS[BLUR_COUNT_N - 1], points[0].retrieval, last[0].retrieval,
           BLUR_DOMINANCES[BLUR_DOMINANCE_N - 1], BLUR_COUNTS[BLUR_COUNT_N - 1],
           last[BLUR_DOMINANCE_N - 1].mean_cosine, last[BLUR_DOMINANCE_N - 1].retrieval);

    write_blur_figure(options->common.out_dir, points);
}

int main(int argc, char **argv)
{
    Options options;
    parse_options(argc, argv, &options);

    section_counts(&options);
    section_blur(&options);

    program_options_free(&options.common);
    return result_exit_status();
}
