/*
 * Stage 02 program: the pairwise convolution, in four sections.
 *
 *   1. The vector count of each layer on the sentences, read from the
 *      output tensor of each layer.
 *   2. The growth table: n^(2^L) vectors and their bytes for n = 2..256 and
 *      L = 1..4, and which requests the size guard rejects. The table also
 *      goes to OUT/stage02_growth.csv and a plot.
 *   3. The identity: the pairwise model equals a tree-shaped CNN run over
 *      every sequence of 2^L word indices (with repetition), averaged.
 *   4. Order invariance: each sentence against the same words with the last
 *      two swapped ("the fat cat" and "the cat fat").
 *
 * Every request is checked by the size guard before anything is allocated;
 * a sentence the guard rejects stops the program with exit status 2.
 * stdout carries only results, the same bytes for the same options;
 * progress and file notices go to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "02_pairwise_convolution/pairwise.h"
#include "cli.h"
#include "csv.h"
#include "program.h"
#include "result_file.h"

#define PROGRAM "stage02"

#define DEFAULT_SENTENCE "the fat cat"
#define DEFAULT_LAYERS 2
#define DEFAULT_WIDTH 8
#define DEFAULT_OUT "results/stage02"
#define MAX_WIDTH 4096

/* The model's prediction has two outputs, as a binary classifier would. */
#define CLASSES 2

/* Sentence lengths and layer counts of the growth table. */
static const size_t GROWTH_WORDS[] = {2, 3, 4, 5, 6, 8, 10, 12, 16, 32, 64, 256};
#define GROWTH_MAX_LAYERS 4

/* The (n, L) cases of the tree-shaped CNN identity. */
static const int TREE_CASES[][2] = {{3, 2}, {4, 2}, {2, 3}};

/* Everything the command line sets. */
typedef struct Options {
    int layers;            /* L */
    int width;             /* D */
    ProgramOptions common; /* seed, threads (0 keeps OpenMP's default), out_dir, sentences */
} Options;

/* ------------------------------------------------------------------------- */
/* Options                                                                    */
/* ------------------------------------------------------------------------- */

static void print_usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Walk through the pairwise convolution: the vector count n^(2^L) of each layer,\n"
           "its growth and the size guard, the equivalence with a tree-shaped CNN over\n"
           "every sequence of word indices, and the loss of word order.\n"
           "\n"
           "  --sentence TEXT       sentence for sections 1 and 4, repeatable; replaces\n"
           "                        \"%s\". The vocabulary is built from the sentences,\n"
           "                        so no word is unknown.\n"
           "  --sentence-file FILE  read sentences from FILE, one per line ('-' = stdin)\n"
           "  --layers N            pairwise layers L, 1..%d (default %d)\n"
           "  --width N             width D of every pair net's output, 1..%d (default %d)\n"
           "  --seed N              seed of the random weights (default 1)\n"
           "  --out DIR             folder for stage02_growth.csv and .png (default %s)\n"
           "  --threads N           threads for the heavy loops, 1..%d (default: OpenMP's)\n"
           "  --help                print this help and exit\n"
           "\n"
           "A sentence whose layers need more than %zu vectors or %zu bytes is\n"
           "rejected with exit status 2 before anything is allocated.\n",
           PROGRAM, DEFAULT_SENTENCE, PAIRWISE_MAX_LAYERS, DEFAULT_LAYERS, MAX_WIDTH, DEFAULT_WIDTH,
           DEFAULT_OUT, PROGRAM_MAX_THREADS, PAIRWISE_MAX_VECTORS, PAIRWISE_MAX_BYTES);
}

enum { OPT_LAYERS = PROGRAM_OWN_OPTION, OPT_WIDTH };

/* Reads one of the options of this program (ProgramOptionFn). */
static void handle_option(int option, const char *value, void *context)
{
    Options *options = context;
    if (option == OPT_LAYERS)
        options->layers = cli_parse_int(PROGRAM, "--layers", value, 1, PAIRWISE_MAX_LAYERS);
    else if (option == OPT_WIDTH)
        options->width = cli_parse_int(PROGRAM, "--width", value, 1, MAX_WIDTH);
}

/* Sets the defaults, then reads argv; exits on --help and on any invalid option. */
static void parse_options(int argc, char **argv, Options *options)
{
    static const struct option own_options[] = {
        {"layers", required_argument, NULL, OPT_LAYERS},
        {"width", required_argument, NULL, OPT_WIDTH},
        {NULL, 0, NULL, 0},
    };
    static const char *const default_sentences[] = {DEFAULT_SENTENCE};
    *options = (Options){.layers = DEFAULT_LAYERS, .width = DEFAULT_WIDTH};

    /* No word limit: check_sentence_sizes applies the size guard to each sentence. */
    ProgramSpec spec = {.name = PROGRAM,
                        .print_usage = print_usage,
                        .own_options = own_options,
                        .handle_option = handle_option,
                        .context = options,
                        .takes_sentences = true,
                        .takes_out = true,
                        .default_out = DEFAULT_OUT,
                        PROGRAM_DEFAULT_SENTENCES(default_sentences)};
    program_parse_options(&spec, argc, argv, &options->common);
}

/* ------------------------------------------------------------------------- */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------- */

/* Returns the largest |a[i] - b[i]| over count elements, in double. */
static double max_difference(const float *a, const float *b, size_t count)
{
    double largest = 0.0;
    for (size_t i = 0; i < count; i++) {
        double diff = fabs((double)a[i] - (double)b[i]);
        if (diff > largest || isnan(diff))
            largest = isnan(diff) ? INFINITY : diff;
    }
    return largest;
}

/* Prints values [count] as "[a, b, ...]" with 7 decimals. */
static void print_vector(const float *values, size_t count)
{
    printf("[");
    for (size_t i = 0; i < count; i++)
        printf("%s%.7f", i > 0 ? ", " : "", (double)values[i]);
    printf("]");
}

/*
 * Checks every sentence against the size guard before any model exists.
 * The first sentence rejected stops the program with the guard's message
 * and exit status 2.
 */
static void check_sentence_sizes(const Options *options, int vocab_size)
{
    for (size_t i = 0; i < options->common.sentences.count; i++) {
        const Sentence *sentence = &options->common.sentences.items[i];
        PairwiseRequest request = {.batch = 1,
                                   .words = sentence->words.count,
                                   .layers = options->layers,
                                   .input_width = vocab_size,
                                   .width = options->width};
        char error[1024];
        if (!pairwise_check_size(&request, NULL, error, sizeof error))
            program_reject_sentence(PROGRAM, &options->common.sentences, i, "%s", error);
    }
}

/* Runs the model on one sentence of ids [n] and copies its output [C] into out. */
static void model_output(const PairwiseModel *model, const int *ids, int n, float *out)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *x = pairwise_onehot_words(&tape, ids, 1, n, model->config.input_width);
    Tensor *logits = pairwise_model_forward(&tape, model, x);
    memcpy(out, logits->data, (size_t)model->config.classes * sizeof(float));
    tape_free(&tape);
}

/* ------------------------------------------------------------------------- */
/* Section 1: the vector count of each layer                                  */
/* ------------------------------------------------------------------------- */

/* Runs the layers one at a time and prints the count of each layer's output tensor. */
static void print_layer_counts(const PairwiseModel *model, const Sentence *sentence)
{
    int n = (int)sentence->words.count;
    printf("sentence \"%s\" (n = %d word%s, L = %d layer%s)\n", sentence->text, n,
           cli_plural_suffix(n), model->config.layers, cli_plural_suffix(model->config.layers));

    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *h = pairwise_onehot_words(&tape, sentence->ids, 1, n, model->config.input_width);
    printf("  vectors after layer 0 (the words): %d\n", h->shape.dim[1]);
    for (int l = 0; l < model->config.layers; l++) {
        h = pairwise_layer_forward(&tape, model->nets[l], h);
        size_t expected = 0;
        pairwise_vector_count((size_t)n, l + 1, &expected);
        printf("  vectors after layer %d: %d%s\n", l + 1, h->shape.dim[1],
               (size_t)h->shape.dim[1] == expected ? "" : "  (differs from n^(2^l)!)");
    }
    tape_free(&tape);
}

static void section_counts(const PairwiseModel *model, const SentenceSet *sentences)
{
    printf("== 1. Vector count per layer: n words become n^(2^l) vectors after layer l\n\n");
    for (size_t i = 0; i < sentences->count; i++) {
        print_layer_counts(model, &sentences->items[i]);
        printf("\n");
    }
}

/* ------------------------------------------------------------------------- */
/* Section 2: the growth table and the size guard                             */
/* ------------------------------------------------------------------------- */

/* Formats a size_t count, or "overflow" and its approximate value when it did not fit. */
static void format_count(bool fits, size_t exact, double approximate, char *text, size_t size)
{
    if (fits)
        snprintf(text, size, "%zu", exact);
    else
        snprintf(text, size, "overflow (~%.2g)", approximate);
}

/* Prints one row of the growth table and writes it to the CSV (when csv is not NULL). */
static void growth_row(CsvWriter *csv, size_t words, int layers, int width)
{
    PairwiseRequest request = {
        .batch = 1, .words = words, .layers = layers, .input_width = width, .width = width};
    PairwiseSize size = {0};
    size_t vectors = 0;
    bool count_fits = pairwise_vector_count(words, layers, &vectors);
    bool size_fits = pairwise_forward_size(&request, &size);
    bool accepted = pairwise_check_size(&request, NULL, NULL, 0);

    /* The approximate values in double serve rows that overflow and the plot. */
    double approx_vectors = pow((double)words, ldexp(1.0, layers));
    double approx_bytes = 0.0, count = (double)words;
    for (int l = 0; l < layers; l++) {
        count *= count;
        approx_bytes += count * (4.0 * width) * sizeof(float);
    }

    char vectors_text[48], bytes_text[48];
    format_count(count_fits, vectors, approx_vectors, vectors_text, sizeof vectors_text);
    format_count(size_fits, size.bytes, approx_bytes, bytes_text, sizeof bytes_text);
    const char *status = accepted                              ? "accepted"
                         : !count_fits || !size_fits           ? "rejected: overflows size_t"
                         : size.vectors > PAIRWISE_MAX_VECTORS ? "rejected: vector count"
                                                               : "rejected: bytes";
    printf("%5zu  %6d  %26s  %26s  %s\n", words, layers, vectors_text, bytes_text, status);
    if (csv)
        csv_row(csv, "%zu,%d,%.6g,%.6g,%d", words, layers, approx_vectors, approx_bytes,
                accepted ? 1 : 0);
}

static void section_growth(const Options *options)
{
    printf("== 2. Growth of the vector count, and the size guard\n\n");
    printf("One sentence, input and layer width D = %d, no gradients. Bytes are every layer's\n"
           "pairs [2D], linear outputs [D] and relu outputs [D], 4 bytes per float. The guard\n"
           "rejects more than %zu vectors (2^26) or %zu bytes (1 GiB).\n\n",
           options->width, PAIRWISE_MAX_VECTORS, PAIRWISE_MAX_BYTES);
    printf("words  layers  %26s  %26s  guard\n", "vectors n^(2^L)", "bytes");

    /* The table is printed even when its CSV file cannot be written. */
    ResultCsv csv;
    result_csv_open(&csv, PROGRAM, options->common.out_dir, "stage02_growth",
                    "words,layers,vectors,bytes,accepted");
    for (size_t i = 0; i < sizeof GROWTH_WORDS / sizeof GROWTH_WORDS[0]; i++)
        for (int layers = 1; layers <= GROWTH_MAX_LAYERS; layers++)
            growth_row(csv.writer, GROWTH_WORDS[i], layers, options->width);
    printf("\n");
    result_csv_close(&csv, "stage02_growth.gp");
}

/* ------------------------------------------------------------------------- */
/* Section 3: the tree-shaped CNN identity                                    */
/* ------------------------------------------------------------------------- */

/*
 * Builds a model for n distinct words (one-hot width n) and compares its
 * final vectors and output with the tree-shaped CNN over every sequence of
 * 2^L indices, averaged.
 */
static void tree_case(const Options *options, int n, int layers)
{
    Rng rng;
    rng_seed(&rng, options->common.seed, 3);
    PairwiseConfig config = {
        .input_width = n, .width = options->width, .layers = layers, .classes = CLASSES};
    PairwiseModel *model = pairwise_model_new(&config, &rng, NULL);
    if (!model) {
        fprintf(stderr, "%s: out of memory building the model of section 3\n", PROGRAM);
        exit(1);
    }
    int ids[8];
    for (int i = 0; i < n; i++)
        ids[i] = i;

    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *x = pairwise_onehot_words(&tape, ids, 1, n, n);
    Tensor *vectors = pairwise_model_vectors(&tape, model, x);
    Tensor *pairwise_out = pairwise_model_predict(&tape, model, vectors);

    /* The tree-shaped CNN on every sequence, then the same mean and prediction. */
    Tensor *sequences = pairwise_index_sequences(&tape, x, layers);
    Tensor *tree = pairwise_tree_cnn_forward(&tape, model, sequences);
    int count = tree->shape.dim[0];
    Tensor *tree_vectors = op_reshape(&tape, tree, shape3(1, count, options->width));
    Tensor *tree_out = pairwise_model_predict(&tape, model, tree_vectors);

    printf("n = %d, L = %d: %d sequences of %d indices\n", n, layers, count, 1 << layers);
    printf("  pairwise model output      ");
    print_vector(pairwise_out->data, CLASSES);
    printf("\n  tree CNN, averaged output  ");
    print_vector(tree_out->data, CLASSES);
    printf("\n  max difference: outputs %.3g, the %d final vectors %.3g\n\n",
           max_difference(pairwise_out->data, tree_out->data, CLASSES), count,
           max_difference(vectors->data, tree->data, vectors->size));

    tape_free(&tape);
    pairwise_model_free(model);
}

static void section_tree(const Options *options)
{
    printf("== 3. The pairwise model is a tree-shaped CNN over every sequence of word indices\n\n");
    printf("Tree CNN: kernel 2, stride 2, the pair net of layer l at level l, run over all\n"
           "n^(2^L) sequences of 2^L indices from 1..n with repetition, outputs averaged.\n\n");
    for (size_t i = 0; i < sizeof TREE_CASES / sizeof TREE_CASES[0]; i++)
        tree_case(options, TREE_CASES[i][0], TREE_CASES[i][1]);
}

/* ------------------------------------------------------------------------- */
/* Section 4: order invariance                                                */
/* ------------------------------------------------------------------------- */

static void section_order(const PairwiseModel *model, const SentenceSet *sentences)
{
    printf("== 4. Word order is lost: each sentence against its last two words swapped\n\n");
    for (size_t i = 0; i < sentences->count; i++) {
        const Sentence *sentence = &sentences->items[i];
        size_t n = sentence->words.count;
        if (n < 2) {
            printf("\"%s\": one word, nothing to reorder\n\n", sentence->text);
            continue;
        }
        int *swapped_ids = malloc(n * sizeof *swapped_ids);
        char *swapped_text =
            swapped_ids ? sentence_swap_words(sentence, n - 2, n - 1, swapped_ids) : NULL;
        if (!swapped_text) {
            fprintf(stderr, "%s: out of memory reordering a sentence\n", PROGRAM);
            exit(1);
        }

        float original[CLASSES], reordered[CLASSES];
        model_output(model, sentence->ids, (int)n, original);
        model_output(model, swapped_ids, (int)n, reordered);
        printf("  %-30s output ", sentence->text);
        print_vector(original, CLASSES);
        printf("\n  %-30s output ", swapped_text);
        print_vector(reordered, CLASSES);
        printf("\n  max difference %.3g (float rounding of the mean in another order)\n\n",
               max_difference(original, reordered, CLASSES));
        free(swapped_text);
        free(swapped_ids);
    }
}

int main(int argc, char **argv)
{
    Options options;
    parse_options(argc, argv, &options);

    /* Words get ids, and every sentence passes the size guard, before any model exists. */
    char error[512];
    if (!sentence_set_encode(&options.common.sentences, error, sizeof error)) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
        return 1;
    }
    int vocab_size = options.common.sentences.vocab->size;
    check_sentence_sizes(&options, vocab_size);

    Rng rng;
    rng_seed(&rng, options.common.seed, 2);
    PairwiseConfig config = {.input_width = vocab_size,
                             .width = options.width,
                             .layers = options.layers,
                             .classes = CLASSES};
    PairwiseModel *model = pairwise_model_new(&config, &rng, NULL);
    if (!model) {
        fprintf(stderr, "%s: out of memory building the model\n", PROGRAM);
        return 1;
    }

    printf("Stage 02: pairwise convolution (seed %llu, L = %d layer%s, width D = %d, "
           "vocabulary V = %d)\n\n",
           (unsigned long long)options.common.seed, options.layers,
           cli_plural_suffix(options.layers), options.width, vocab_size);
    section_counts(model, &options.common.sentences);
    section_growth(&options);
    section_tree(&options);
    section_order(model, &options.common.sentences);

    pairwise_model_free(model);
    program_options_free(&options.common);
    return result_exit_status();
}
