/*
 * Stage 08 program: what each addition of the standard transformer block
 * does, measured, in six sections.
 *
 *   1. Scores divided by sqrt(d): softmax entropy of random scores with and
 *      without the division, and the identity with W_Q / sqrt(Dh).
 *   2. The causal mask: weights above the diagonal are exactly 0, and
 *      changing a word leaves every earlier output bit for bit the same.
 *   3. Residual sums and layer norms: activation and gradient size through
 *      8 blocks with and without them.
 *   4. The distance task at a distance beyond a 3-layer CNN's receptive
 *      field: transformer against CNN.
 *   5. Next-word prediction on a tiny built-in text: the loss falls.
 *   6. Multiply-adds and parameter counts.
 *
 * stdout carries only results, the same bytes for the same options and
 * thread count; progress, timings and file names go to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "01_cnn_baseline/cnn.h"
#include "02_pairwise_convolution/sentences.h"
#include "08_transformer_block/attention_view.h"
#include "08_transformer_block/transformer.h"
#include "cli.h"
#include "csv.h"
#include "init.h"
#include "program.h"
#include "progress.h"
#include "result_file.h"
#include "tasks.h"
#include "train.h"

#define PROGRAM "stage08"

#define DEFAULT_SENTENCE "the cat that the dog chased ran up the tree"
#define DEFAULT_OUT "results/stage08"
#define DEFAULT_LAYERS 1
#define DEFAULT_HEADS 4
#define DEFAULT_WIDTH 32
#define DEFAULT_STEPS 800
#define MAX_LAYERS 16
#define MAX_WIDTH 1024
#define MAX_STEPS 1000000

/* Each block's MLP is this many times the width, as in most transformers. */
#define MLP_FACTOR 4

/* The options that fix the shapes of the transformer a checkpoint holds. */
#define MODEL_OPTIONS "--width, --heads and --layers"

/*
 * Adam's learning rate in sections 4 and 5. In trial runs with the shared default of 3e-3,
 * more seeds stayed at chance on the distance task within 800 steps.
 */
#define LEARNING_RATE 1e-2f

/* Everything the command line sets. */
typedef struct Options {
    int layers;             /* L of sections 2, 4 and 5 */
    int heads;              /* H */
    int width;              /* D */
    int steps;              /* training steps of sections 4 and 5; 0 skips them */
    const char *heads_text; /* --heads as given, for the error when it does not divide --width */
    bool sentences_given;   /* --sentence or --sentence-file was used */
    ProgramOptions common;  /* seed, threads (0 keeps OpenMP's), out_dir, sentences, --save,
                               --load and --checkpoint-every */
} Options;

static DistanceTask *new_distance_task(void);

/* ------------------------------------------------------------------------- */
/* Options                                                                    */
/* ------------------------------------------------------------------------- */

static void print_usage(void)
{
    DistanceTask *task = new_distance_task();
    int positions = task->length;
    distance_task_free(task);
    printf(
        "Usage: %s [OPTION]...\n"
        "Show what the standard transformer block adds to the derivation, measured: scores\n"
        "divided by sqrt(d), the causal mask, residual sums and layer norms; then train it\n"
        "on the distance task and on next-word prediction.\n"
        "\n"
        "  --sentence TEXT       a sentence of at most %d words (the positions of section 4's\n"
        "                        transformer), repeatable. Section 2 shows the causal mask on\n"
        "                        the sentences with a vocabulary built from them, so no word\n"
        "                        is unknown there; without sentences it uses\n"
        "                        \"%s\".\n"
        "                        Section 4 prints the attention weights of its trained or\n"
        "                        loaded (--load) transformer on each sentence, every block\n"
        "                        and head, and writes them to stage08_attention.csv (its PNG\n"
        "                        draws the first sentence); a word outside the task's\n"
        "                        vocabulary becomes %s, with a note on stderr.\n"
        "  --sentence-file FILE  read sentences from FILE, one per line ('-' = stdin)\n"
        "  --layers N            transformer blocks L of sections 2, 4 and 5, 1..%d\n"
        "                        (default %d; section 3 always uses 8)\n"
        "  --heads N             attention heads H, 1..%d; the width must be a multiple\n"
        "                        (default %d)\n"
        "  --width N             model width D, 2..%d (default %d); each MLP is %d D wide;\n"
        "                        at width 1 layer norm would output only zeros\n"
        "  --steps N             Adam steps of each training run, 0..%d (default %d;\n"
        "                        0 skips them; with --load, section 4 still runs;\n"
        "                        --save without --load needs 1 or more)\n"
        "  --seed N              seed of the weights, the data and the training (default 1)\n"
        "  --out DIR             folder for the CSV files and figures (default %s)\n" PROGRAM_CHECKPOINT_HELP
        "                        These apply to the transformer of section 4: --load\n"
        "                        skips its training (the CNN and section 5 still train)\n"
        "  --threads N           threads for the heavy loops, 1..%d (default: OpenMP's)\n"
        "  --help                print this help and exit\n",
        PROGRAM, positions, DEFAULT_SENTENCE, VOCAB_UNKNOWN_WORD, MAX_LAYERS, DEFAULT_LAYERS,
        MAX_WIDTH, DEFAULT_HEADS, MAX_WIDTH, DEFAULT_WIDTH, MLP_FACTOR, MAX_STEPS, DEFAULT_STEPS,
        DEFAULT_OUT, PROGRAM_MAX_THREADS);
}

enum { OPT_LAYERS = PROGRAM_OWN_OPTION, OPT_HEADS, OPT_WIDTH, OPT_STEPS };

/* Reads one of the options of this program (ProgramOptionFn). */
static void handle_option(int option, const char *value, void *context)
{
    Options *options = context;
    switch (option) {
    case OPT_LAYERS:
        options->layers = cli_parse_int(PROGRAM, "--layers", value, 1, MAX_LAYERS);
        break;
    case OPT_HEADS:
        options->heads = cli_parse_int(PROGRAM, "--heads", value, 1, MAX_WIDTH);
        options->heads_text = value;
        break;
    case OPT_WIDTH:
        options->width = cli_parse_int(PROGRAM, "--width", value, 2, MAX_WIDTH);
        break;
    case OPT_STEPS:
        options->steps = cli_parse_int(PROGRAM, "--steps", value, 0, MAX_STEPS);
        break;
    }
}

/* Exits with status 2 when the width is not a multiple of the heads, naming the option to change.
 */
static void check_heads_divide_width(const Options *options)
{
    if (options->width % options->heads == 0)
        return;
    /* heads_text passed cli_parse_int, so it is a plain number and safe to echo. */
    if (options->heads_text)
        cli_usage_error(PROGRAM,
                        "invalid value '%s' for --heads: the width %d is not a multiple "
                        "of it; choose heads that divide the width",
                        options->heads_text, options->width);
    cli_usage_error(PROGRAM,
                    "invalid value '%d' for --width: not a multiple of the %d heads "
                    "(set --heads)",
                    options->width, options->heads);
}

/* --steps 0 skips section 4, so without --load there is no transformer for --save to write. */
static void check_save_has_model(const Options *options)
{
    if (options->common.save_path && !options->common.load_path && options->steps == 0)
        cli_usage_error(PROGRAM,
                        "invalid value '0' for --steps: --save writes the transformer that "
                        "section 4 trains, so give --steps 1 or more (or --load a model to save)");
}

/*
 * Sets the defaults, then reads argv; exits on --help and on any invalid
 * option. Sentences may have as many words as section 4's transformer has
 * positions, so that its attention can be shown on each of them.
 */
static void parse_options(int argc, char **argv, Options *options)
{
    static const struct option own_options[] = {
        {"layers", required_argument, NULL, OPT_LAYERS},
        {"heads", required_argument, NULL, OPT_HEADS},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"steps", required_argument, NULL, OPT_STEPS},
        {NULL, 0, NULL, 0},
    };
    *options = (Options){.layers = DEFAULT_LAYERS,
                         .heads = DEFAULT_HEADS,
                         .width = DEFAULT_WIDTH,
                         .steps = DEFAULT_STEPS};
    DistanceTask *task = new_distance_task();
    ProgramSpec spec = {.name = PROGRAM,
                        .print_usage = print_usage,
                        .own_options = own_options,
                        .handle_option = handle_option,
                        .context = options,
                        .takes_sentences = true,
                        .takes_out = true,
                        .takes_checkpoint = true,
                        .default_out = DEFAULT_OUT,
                        .max_words = (size_t)task->length,
                        .max_words_reason = "the transformer of section 4 has that many positions"};
    distance_task_free(task);
    program_parse_options(&spec, argc, argv, &options->common);
    check_heads_divide_width(options);
    check_save_has_model(options);

    /* The default sentence serves section 2 only, so it is added here and not through spec. */
    options->sentences_given = options->common.sentences.count > 0;
    char error[512];
    if (!options->sentences_given &&
        !sentence_set_add(&options->common.sentences, DEFAULT_SENTENCE, error, sizeof error)) {
        fprintf(stderr, "%s: the default sentence: %s\n", PROGRAM, error);
        exit(1);
    }
}

/* ------------------------------------------------------------------------- */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------- */

/* Exits with an out-of-memory message naming @p description when @p pointer is NULL. */
static void check_allocated(const void *pointer, const char *description)
{
    if (!pointer) {
        fprintf(stderr, "%s: out of memory allocating %s\n", PROGRAM, description);
        exit(1);
    }
}

/* Returns the configuration of the models the options describe, for V words and P positions. */
static TransformerConfig model_config(const Options *options, int vocab_size, int positions,
                                      int classes, bool causal)
{
    return (TransformerConfig){.vocab_size = vocab_size,
                               .positions = positions,
                               .width = options->width,
                               .heads = options->heads,
                               .mlp_width = MLP_FACTOR * options->width,
                               .layers = options->layers,
                               .classes = classes,
                               .causal = causal};
}

/* Builds a model drawn from stream @p stream of the seed; exits when the sizes are invalid. */
static Transformer *new_model(TransformerConfig config, uint64_t seed, uint64_t stream)
{
    Rng rng;
    rng_seed(&rng, seed, stream);
    Transformer *model = transformer_new(config, &rng);
    check_allocated(model, "a transformer");
    return model;
}

/* Opens OUT/NAME.csv into @p figure; returns its writer, or NULL after result_file_failed. */
static CsvWriter *open_figure_csv(const Options *options, ResultCsv *figure, const char *name,
                                  const char *header)
{
    result_csv_open(figure, PROGRAM, options->common.out_dir, name, header);
    return figure->writer;
}

/* Closes OUT/NAME.csv and draws OUT/NAME.png with plots/NAME.gp (see result_csv_close). */
static void close_figure_csv(ResultCsv *figure, const char *name)
{
    char script[256];
    snprintf(script, sizeof script, "%s.gp", name);
    result_csv_close(figure, script);
}

/* Returns the root mean square of values [count], in double. */
static double rms(const float *values, size_t count)
{
    double sum = 0.0;
    for (size_t i = 0; i < count; i++)
        sum += (double)values[i] * values[i];
    return sqrt(sum / (double)count);
}

/* ------------------------------------------------------------------------- */
/* Section 1: scores divided by sqrt(d)                                       */
/* ------------------------------------------------------------------------- */

/* Keys per query and random queries per width in the entropy measurement. */
#define SCALING_KEYS 16
#define SCALING_TRIALS 256

/* Widths of the entropy table and figure. */
static const int SCALING_WIDTHS[] = {4, 16, 64, 256, 1024};

/* Averages over random queries of one softmax row's statistics. */
typedef struct SoftmaxStats {
    double entropy;    /* -sum a ln a, in nats; ln 16 = 2.77 for equal weights */
    double max_weight; /* the largest weight of the row */
    double gradient;   /* RMS of d(loss)/d(score) for a random upstream gradient */
} SoftmaxStats;

/*
 * Draws SCALING_TRIALS rows of scores s_k = q . k_k for q and k_k with
 * independent standard normal entries of width d (divided by sqrt(d) when
 * @p scaled), applies softmax, and averages the row statistics. The score
 * gradient is the softmax backward for an upstream gradient g with normal
 * entries: a_k (g_k - sum_j a_j g_j).
 */
static SoftmaxStats measure_softmax(int d, bool scaled, Rng *rng)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *scores = tape_tensor(&tape, shape2(SCALING_TRIALS, SCALING_KEYS), false);
    float *query = malloc((size_t)d * sizeof *query);
    check_allocated(query, "a query");
    for (int row = 0; row < SCALING_TRIALS; row++) {
        for (int j = 0; j < d; j++)
            query[j] = rng_normal(rng);
        for (int k = 0; k < SCALING_KEYS; k++) {
            double dot = 0.0;
            for (int j = 0; j < d; j++)
                dot += (double)query[j] * rng_normal(rng);
            scores->data[row * SCALING_KEYS + k] = (float)(scaled ? dot / sqrt((double)d) : dot);
        }
    }
    free(query);

    Tensor *weights = op_softmax(&tape, scores);
    SoftmaxStats stats = {0};
    for (int row = 0; row < SCALING_TRIALS; row++) {
        const float *a = weights->data + row * SCALING_KEYS;
        double g[SCALING_KEYS], mean_g = 0.0, largest = 0.0, squares = 0.0;
        for (int k = 0; k < SCALING_KEYS; k++) {
            g[k] = rng_normal(rng);
            mean_g += a[k] * g[k];
            largest = fmax(largest, a[k]);
            stats.entropy -= a[k] > 0.0f ? a[k] * log(a[k]) / SCALING_TRIALS : 0.0;
        }
        for (int k = 0; k < SCALING_KEYS; k++)
            squares += pow(a[k] * (g[k] - mean_g), 2.0);
        stats.max_weight += largest / SCALING_TRIALS;
        stats.gradient += sqrt(squares / SCALING_KEYS) / SCALING_TRIALS;
    }
    tape_free(&tape);
    return stats;
}

/* Prints the largest difference of scaled attention and unscaled attention with W_Q / sqrt(Dh). */
static void print_scaling_identity(const Options *options, Rng *rng)
{
    int head_width = options->width / options->heads;
    MultiHeadAttention *attention =
        multi_head_new(options->width, options->heads, head_width, head_width, SCORE_BILINEAR, true,
                       "attention", rng, NULL);
    check_allocated(attention, "an attention layer");
    Tensor *x = tensor_new(shape3(2, 8, options->width), false);
    init_normal(x, rng, 1.0f);

    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    /* Each head's score_scale (stage 06) is 1 after creation; the transformer sets 1/sqrt(Dh). */
    for (int h = 0; h < options->heads; h++)
        attention->head[h]->score_scale = 1.0f / sqrtf((float)head_width);
    Tensor *scaled = transformer_attention_forward(&tape, attention, x, false, NULL);
    for (int h = 0; h < options->heads; h++) {
        Tensor *query = attention->head[h]->query;
        for (size_t i = 0; i < query->size; i++)
            query->data[i] /= sqrtf((float)head_width);
        attention->head[h]->score_scale = 1.0f;
    }
    Tensor *unscaled = transformer_attention_forward(&tape, attention, x, false, NULL);
    double largest = 0.0;
    for (size_t i = 0; i < scaled->size; i++)
        largest = fmax(largest, fabs((double)scaled->data[i] - unscaled->data[i]));
    printf("Identity: dividing the scores by sqrt(Dh) equals dividing W_Q by sqrt(Dh), since\n"
           "s = (W_Q x_q) . (W_K x_k) is linear in W_Q. Largest output difference on 2 x 8\n"
           "random vectors (D = %d, H = %d, float rounding only): %.3g\n\n",
           options->width, options->heads, largest);

    tape_free(&tape);
    tensor_free(x);
    multi_head_free(attention);
}

static void section_scaling(const Options *options)
{
    printf("== 1. Scores divided by sqrt(d) keep softmax from saturating\n\n");
    printf("A score is the dot product of two d-wide vectors. With unit-variance entries it is a\n"
           "sum of d products, so its spread grows as sqrt(d). Softmax of widely spread scores\n"
           "puts almost all weight on one key, and its gradient a_k (g_k - sum_j a_j g_j)\n"
           "vanishes, so the scores stop learning. Random q and %d keys, %d rows per width;\n"
           "entropy in nats (ln %d = %.2f for equal weights):\n\n",
           SCALING_KEYS, SCALING_TRIALS, SCALING_KEYS, log((double)SCALING_KEYS));
    printf("     d   entropy raw  entropy /sqrt(d)   max weight raw  /sqrt(d)   score gradient "
           "raw  /sqrt(d)\n");

    Rng rng;
    rng_seed(&rng, options->common.seed, 11);
    ResultCsv figure;
    CsvWriter *csv = open_figure_csv(options, &figure, "stage08_scaling",
                                     "width,entropy_raw,entropy_scaled,max_weight_raw,"
                                     "max_weight_scaled,gradient_raw,gradient_scaled");
    for (size_t i = 0; i < sizeof SCALING_WIDTHS / sizeof SCALING_WIDTHS[0]; i++) {
        int d = SCALING_WIDTHS[i];
        SoftmaxStats raw = measure_softmax(d, false, &rng);
        SoftmaxStats scaled = measure_softmax(d, true, &rng);
        printf("  %4d   %11.3f  %16.3f   %14.3f  %8.3f   %18.4f  %8.4f\n", d, raw.entropy,
               scaled.entropy, raw.max_weight, scaled.max_weight, raw.gradient, scaled.gradient);
        if (csv)
            csv_row(csv, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.6g", d, raw.entropy, scaled.entropy,
                    raw.max_weight, scaled.max_weight, raw.gradient, scaled.gradient);
    }
    close_figure_csv(&figure, "stage08_scaling");
    printf("\n");
    print_scaling_identity(options, &rng);
}

/* ------------------------------------------------------------------------- */
/* Section 2: the causal mask                                                 */
/* ------------------------------------------------------------------------- */

/* Counts over every sentence and every changed position t. */
typedef struct MaskCounts {
    size_t changes;           /* sentences times positions changed */
    size_t earlier_identical; /* changes after which every output before t kept its bits */
    size_t own_changed;       /* changes after which the output at t changed */
    size_t zero_above;        /* weights above the diagonal that are exactly 0, every head */
    size_t above;             /* weights above the diagonal, every block and head */
} MaskCounts;

/* Adds the weights above the diagonal of one [n, n] weight matrix to the counts. */
static void count_above_diagonal(const float *weights, int n, MaskCounts *counts)
{
    for (int q = 0; q < n; q++)
        for (int k = q + 1; k < n; k++) {
            counts->above++;
            counts->zero_above += weights[q * n + k] == 0.0f;
        }
}

/*
 * Runs the model on one sentence of ids [n] and copies its features [n, D].
 * Copies block 1, head 1's weights [n, n] into @p weights and counts the
 * zeros above the diagonal of every head into @p counts, each when not NULL.
 */
static void run_sentence(const Transformer *model, const int *ids, int n, float *features,
                         float *weights, MaskCounts *counts)
{
    TransformerConfig c = transformer_config(model);
    size_t heads = (size_t)c.layers * (size_t)c.heads;
    Tensor **all_weights = calloc(heads, sizeof *all_weights);
    check_allocated(all_weights, "weight pointers");
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *out = transformer_features_with(&tape, model, ids, 1, n,
                                            transformer_standard_additions(), NULL, all_weights);
    memcpy(features, out->data, out->size * sizeof(float));
    if (weights)
        memcpy(weights, all_weights[0]->data, all_weights[0]->size * sizeof(float));
    for (size_t i = 0; counts && i < heads; i++)
        count_above_diagonal(all_weights[i]->data, n, counts);
    tape_free(&tape);
    free(all_weights);
}

/* Words of a sentence whose weights are printed in section 2. */
#define MAX_PRINTED_WORDS 14

/*
 * Prints block 1, head 1's weights [n, n] of a sentence, one row per query
 * word; a longer sentence shows its first MAX_PRINTED_WORDS words.
 */
static void print_weights(const Sentence *sentence, const float *weights)
{
    size_t n = sentence->words.count;
    size_t shown = n < MAX_PRINTED_WORDS ? n : MAX_PRINTED_WORDS;
    if (shown < n)
        printf("(the first %zu of %zu words)\n", shown, n);
    if (!attention_view_words_fit(&sentence->words))
        attention_view_print_legend(&sentence->words);
    attention_view_print_matrix(&sentence->words, weights, shown);
    printf("\n");
}

/* Changes each word of a sentence in turn and compares the model's outputs before and after. */
static void count_mask_effects(const Transformer *model, const Sentence *sentence, int vocab_size,
                               MaskCounts *counts)
{
    int n = (int)sentence->words.count, D = transformer_config(model).width;
    size_t size = (size_t)n * (size_t)D;
    float *base = malloc(size * sizeof *base), *after = malloc(size * sizeof *after);
    int *ids = malloc((size_t)n * sizeof *ids);
    check_allocated(base && after && ids ? base : NULL, "a sentence's outputs");
    run_sentence(model, sentence->ids, n, base, NULL, counts);

    for (int t = 0; t < n; t++) {
        /* Word t becomes the next word of the vocabulary (ids 1 .. V-1, skipping <unk>). */
        memcpy(ids, sentence->ids, (size_t)n * sizeof *ids);
        ids[t] = 1 + ids[t] % (vocab_size - 1);
        if (ids[t] == sentence->ids[t])
            ids[t] = 0;
        run_sentence(model, ids, n, after, NULL, NULL);
        counts->changes++;
        size_t before_t = (size_t)t * (size_t)D;
        counts->earlier_identical += memcmp(base, after, before_t * sizeof(float)) == 0;
        counts->own_changed += memcmp(base + before_t, after + before_t, D * sizeof(float)) != 0;
    }
    free(base);
    free(after);
    free(ids);
}

static void section_causal(const Options *options, const SentenceSet *sentences)
{
    int vocab_size = sentences->vocab->size, positions = 1;
    for (size_t i = 0; i < sentences->count; i++)
        if ((int)sentences->items[i].words.count > positions)
            positions = (int)sentences->items[i].words.count;

    printf("== 2. The causal mask: a word never sees the words after it\n\n");
    printf("Next-word prediction trains position t to predict word t+1, so position t must not\n"
           "read it. The mask adds -infinity to every score of a key k > q before softmax.\n"
           "Untrained causal model, L = %d, vocabulary of the %zu sentence(s) (V = %d).\n"
           "Block 1, head 1 weights (row = query, column = key):\n\n",
           options->layers, sentences->count, vocab_size);

    /* The same seed and stream give both models the same weights; only the mask differs. */
    Transformer *causal =
        new_model(model_config(options, vocab_size, positions, 2, true), options->common.seed, 21);
    Transformer *unmasked =
        new_model(model_config(options, vocab_size, positions, 2, false), options->common.seed, 21);
    const Sentence *first = &sentences->items[0];
    size_t n = first->words.count;
    float *weights = malloc(n * n * sizeof *weights);
    float *features = malloc(n * (size_t)options->width * sizeof *features);
    check_allocated(weights && features ? weights : NULL, "the weights of a sentence");
    run_sentence(causal, first->ids, (int)n, features, weights, NULL);
    print_weights(first, weights);
    free(weights);
    free(features);

    MaskCounts with = {0}, without = {0};
    for (size_t i = 0; i < sentences->count; i++) {
        count_mask_effects(causal, &sentences->items[i], vocab_size, &with);
        count_mask_effects(unmasked, &sentences->items[i], vocab_size, &without);
    }
    printf("Weights above the diagonal that are exactly 0, every block and head: %zu of %zu\n",
           with.zero_above, with.above);
    printf("Each word changed in turn (%zu changes), final outputs compared bit for bit:\n",
           with.changes);
    printf("  with the mask:    every earlier output identical in %zu of %zu; the changed\n"
           "                    position's own output differs in %zu of %zu\n",
           with.earlier_identical, with.changes, with.own_changed, with.changes);
    printf("  without the mask: every earlier output identical in %zu of %zu (a change of a\n"
           "                    first word has no earlier outputs to compare)\n\n",
           without.earlier_identical, without.changes);
    transformer_free(causal);
    transformer_free(unmasked);
}

/* ------------------------------------------------------------------------- */
/* Section 3: residual sums and layer norms through 8 blocks                  */
/* ------------------------------------------------------------------------- */

#define DEPTH_BLOCKS 8
#define DEPTH_VOCAB 50
#define DEPTH_LENGTH 16
#define DEPTH_BATCH 8

/* The four combinations of residual sums and layer norms, the standard one first. */
static const struct {
    const char *label;
    bool residual;
    bool layer_norm;
} DEPTH_VARIANTS[] = {
    {"residual + norm", true, true},
    {"residual only", true, false},
    {"norm only", false, true},
    {"neither", false, false},
};
#define DEPTH_VARIANT_COUNT 4

/* What one variant measured at the embeddings (index 0) and after each block. */
typedef struct DepthProfile {
    double activation[DEPTH_BLOCKS + 1]; /* RMS of x */
    double gradient[DEPTH_BLOCKS + 1];   /* RMS of d(loss)/dx; index 0 at the position vectors */
} DepthProfile;

/* Returns the parameter named @p name; every model of this program has the embeddings. */
static Tensor *find_param(const ParamList *params, const char *name)
{
    for (size_t i = 0; i < params->count; i++)
        if (strcmp(params->names[i], name) == 0)
            return params->tensors[i];
    fprintf(stderr, "%s: the model has no parameter %s\n", PROGRAM, name);
    exit(1);
}

/* Returns the RMS of the vectors E[w_t] + P[t] that enter block 1, from the tables. */
static double embedding_rms(ParamList *params, const int *ids, int width)
{
    const Tensor *word = find_param(params, "word_embedding");
    const Tensor *position = find_param(params, "position_embedding");
    double squares = 0.0;
    for (int i = 0; i < DEPTH_BATCH * DEPTH_LENGTH; i++)
        for (int d = 0; d < width; d++) {
            double x = (double)word->data[ids[i] * width + d] +
                       position->data[(i % DEPTH_LENGTH) * width + d];
            squares += x * x;
        }
    return sqrt(squares / (DEPTH_BATCH * DEPTH_LENGTH * (double)width));
}

/*
 * Runs one variant on random sentences and measures the RMS of x and of its
 * gradient after each block. The loss reads the final vectors as logits of
 * D classes for random targets, so every block lies on its path. The
 * gradient at index 0 is the one reaching the position vectors: row t sums
 * the gradients of position t over the batch.
 */
static DepthProfile measure_depth(const Transformer *model, const int *ids, const int *targets,
                                  TransformerAdditions additions)
{
    ParamList *params = transformer_params((Transformer *)model);
    int width = transformer_config(model).width;
    Tensor *outputs[DEPTH_BLOCKS];
    Tape tape;
    tape_init(&tape);
    Tensor *features = transformer_features_with(&tape, model, ids, DEPTH_BATCH, DEPTH_LENGTH,
                                                 additions, outputs, NULL);
    Tensor *logits = op_reshape(&tape, features, shape2(DEPTH_BATCH * DEPTH_LENGTH, width));
    params_zero_grad(params);
    tape_backward(&tape, op_cross_entropy(&tape, logits, targets));

    DepthProfile profile;
    Tensor *position = find_param(params, "position_embedding");
    profile.activation[0] = embedding_rms(params, ids, width);
    profile.gradient[0] = rms(position->grad, (size_t)DEPTH_LENGTH * (size_t)width);
    for (int l = 0; l < DEPTH_BLOCKS; l++) {
        profile.activation[l + 1] = rms(outputs[l]->data, outputs[l]->size);
        profile.gradient[l + 1] = rms(outputs[l]->grad, outputs[l]->size);
    }
    tape_free(&tape);
    return profile;
}

/* Prints the activations or the gradients of the four variants, one row per block. */
static void print_depth_table(const DepthProfile *profiles, bool gradients)
{
    printf("  block");
    for (int v = 0; v < DEPTH_VARIANT_COUNT; v++)
        printf("  %16s", DEPTH_VARIANTS[v].label);
    printf("\n");
    for (int l = 0; l <= DEPTH_BLOCKS; l++) {
        printf("  %5d", l);
        for (int v = 0; v < DEPTH_VARIANT_COUNT; v++)
            printf("  %16.3g", gradients ? profiles[v].gradient[l] : profiles[v].activation[l]);
        printf("\n");
    }
    printf("\n");
}

/* Writes both tables to OUT/stage08_depth.csv and draws its figure. */
static void write_depth_figure(const Options *options, const DepthProfile *profiles)
{
    ResultCsv figure;
    CsvWriter *csv = open_figure_csv(options, &figure, "stage08_depth",
                                     "block,rms_residual_and_norm,rms_residual_only,"
                                     "rms_norm_only,rms_neither,grad_residual_and_norm,"
                                     "grad_residual_only,grad_norm_only,grad_neither");
    for (int l = 0; csv && l <= DEPTH_BLOCKS; l++)
        csv_row(csv, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g", l, profiles[0].activation[l],
                profiles[1].activation[l], profiles[2].activation[l], profiles[3].activation[l],
                profiles[0].gradient[l], profiles[1].gradient[l], profiles[2].gradient[l],
                profiles[3].gradient[l]);
    close_figure_csv(&figure, "stage08_depth");
}

static void section_depth(const Options *options)
{
    printf("== 3. Residual sums and layer norms keep 8 blocks trainable\n\n");
    TransformerConfig config = model_config(options, DEPTH_VOCAB, DEPTH_LENGTH, 2, false);
    config.layers = DEPTH_BLOCKS;
    Transformer *model = new_model(config, options->common.seed, 31);
    Rng rng;
    rng_seed(&rng, options->common.seed, 32);
    int ids[DEPTH_BATCH * DEPTH_LENGTH], targets[DEPTH_BATCH * DEPTH_LENGTH];
    for (int i = 0; i < DEPTH_BATCH * DEPTH_LENGTH; i++) {
        ids[i] = (int)rng_below(&rng, DEPTH_VOCAB);
        targets[i] = (int)rng_below(&rng, (uint32_t)options->width);
    }

    DepthProfile profiles[DEPTH_VARIANT_COUNT];
    for (int v = 0; v < DEPTH_VARIANT_COUNT; v++) {
        TransformerAdditions additions = {.residual = DEPTH_VARIANTS[v].residual,
                                          .layer_norm = DEPTH_VARIANTS[v].layer_norm};
        profiles[v] = measure_depth(model, ids, targets, additions);
    }
    transformer_free(model);

    printf("%d blocks (D = %d, H = %d), untrained, the same weights in all four variants, %d\n"
           "random sentences of %d words. RMS of x after each block (block 0: the embeddings,\n"
           "word and position vectors of standard deviation %g each):\n\n",
           DEPTH_BLOCKS, options->width, options->heads, DEPTH_BATCH, DEPTH_LENGTH,
           (double)TRANSFORMER_EMBEDDING_STD);
    print_depth_table(profiles, false);
    printf("RMS of the gradient of a loss that reads the final vectors as logits, at x after\n"
           "each block (block 0: at the position vectors):\n\n");
    print_depth_table(profiles, true);
    printf("Without residual sums the gradient passes through every sublayer on its way back\n"
           "and shrinks from %.3g after block 8 to %.3g at the embeddings (neither).\n"
           "The residual sums carry it back undiminished (%.3g after block 8, %.3g at the\n"
           "position vectors, which sum it over the %d sentences). Without layer norms the\n"
           "residual sums make x grow from block to block (%.3g to %.3g).\n\n",
           profiles[3].gradient[DEPTH_BLOCKS], profiles[3].gradient[0],
           profiles[0].gradient[DEPTH_BLOCKS], profiles[0].gradient[0], DEPTH_BATCH,
           profiles[1].activation[0], profiles[1].activation[DEPTH_BLOCKS]);
    write_depth_figure(options, profiles);
}

/* ------------------------------------------------------------------------- */
/* Section 4: the distance task                                               */
/* ------------------------------------------------------------------------- */

/* Layers of the CNN baseline; its receptive field is 2 * 3 + 1 = 7 words. */
#define CNN_LAYERS 3

/* Draws distance task sentences (TaskSampleFn). */
static void sample_distance_task(const void *task, Rng *rng, int batch, int *ids, int *labels)
{
    distance_task_sample(task, rng, batch, ids, labels);
}

/* Returns the shared training settings of sections 4 and 5. */
static TrainConfig training_config(const Options *options, const char *label)
{
    TrainConfig train = train_default_config();
    train.steps = options->steps;
    train.seed = options->common.seed;
    train.learning_rate = LEARNING_RATE;
    train.label = label;
    return train;
}

/* Builds the distance task of section 4; exits when memory runs out. */
static DistanceTask *new_distance_task(void)
{
    int receptive_field = cnn_receptive_field(CNN_LAYERS);
    DistanceTask *task = distance_task_new(receptive_field + 1, receptive_field, 0);
    check_allocated(task, "the distance task");
    return task;
}

/* Builds the transformer that section 4 trains on @p task, the one --save and --load hold. */
static Transformer *new_distance_model(const Options *options, const DistanceTask *task)
{
    return new_model(model_config(options, task->vocab->size, task->length, 2, false),
                     options->common.seed, 41);
}

/* Loads --load into a fresh section 4 transformer; exits with status 2 before any output. */
static void check_checkpoint(const Options *options)
{
    if (!options->common.load_path)
        return;
    DistanceTask *task = new_distance_task();
    Transformer *model = new_distance_model(options, task);
    program_load_checkpoint(PROGRAM, &options->common, transformer_params(model), MODEL_OPTIONS);
    transformer_free(model);
    distance_task_free(task);
}

/* Writes the final training loss with 4 decimals, or "-" for a model that was not trained. */
static const char *format_loss(const TrainResult *result, char *text, size_t size)
{
    if (isnan(result->final_loss))
        snprintf(text, size, "     -");
    else
        snprintf(text, size, "%.4f", (double)result->final_loss);
    return text;
}

/* Marks in queries [n] the subject and object words of @p task, or every word when there is none.
 */
static void mark_task_words(const DistanceTask *task, const int *ids, size_t n, bool *queries)
{
    bool any = false;
    for (size_t t = 0; t < n; t++) {
        queries[t] = false;
        for (int i = 0; i < DISTANCE_TASK_PAIRS; i++)
            queries[t] =
                queries[t] || ids[t] == task->subject_ids[i] || ids[t] == task->object_ids[i];
        any = any || queries[t];
    }
    for (size_t t = 0; !any && t < n; t++)
        queries[t] = true;
}

/*
 * Prints every block and head's weights [n, n] of one sentence: the whole
 * matrix for a short sentence, else the ranked rows of the subject and
 * object words, which decide the label. Adds them to @p csv when not NULL.
 */
static void print_sentence_attention(const TransformerConfig *config, const DistanceTask *task,
                                     size_t index, const Sentence *sentence, const int *ids,
                                     const float *weights, CsvWriter *csv)
{
    size_t n = sentence->words.count, matrix = n * n;
    bool full = n <= MAX_PRINTED_WORDS;
    bool *queries = malloc(n * sizeof *queries);
    check_allocated(queries, "the query marks");
    mark_task_words(task, ids, n, queries);

    printf("Sentence %zu, %zu word%s:\n", index + 1, n, cli_plural_suffix((long long)n));
    if (!full || !attention_view_words_fit(&sentence->words))
        attention_view_print_legend(&sentence->words);
    if (!full)
        printf("  (longer than %d words: each row lists its %d largest weights and the sum of\n"
               "  the others)\n",
               MAX_PRINTED_WORDS, ATTENTION_VIEW_TOP_KEYS);
    for (int l = 0; l < config->layers; l++) {
        for (int h = 0; h < config->heads; h++) {
            const float *head = weights + ((size_t)l * (size_t)config->heads + (size_t)h) * matrix;
            printf("  block %d, head %d:\n", l + 1, h + 1);
            if (full)
                attention_view_print_matrix(&sentence->words, head, n);
            else
                attention_view_print_ranked(&sentence->words, head, queries);
            for (size_t i = 0; csv && i < matrix; i++)
                csv_row(csv, "%zu,%d,%d,%zu,%zu,%.6f", index + 1, l + 1, h + 1, i / n + 1,
                        i % n + 1, (double)head[i]);
        }
    }
    printf("\n");
    free(queries);
}

/*
 * Prints the attention weights of section 4's transformer on every given
 * sentence and writes them to OUT/stage08_attention.csv with its heatmap.
 * Words outside the task's vocabulary are read as <unk>, with a note.
 */
static void show_attention(const Options *options, const Transformer *model,
                           const DistanceTask *task)
{
    const SentenceSet *sentences = &options->common.sentences;
    TransformerConfig config = transformer_config(model);
    printf("Attention weights of this transformer on the given sentences (row = query word,\n"
           "column = key word; each row sums to 1). Words outside the task's %d-word\n"
           "vocabulary are read as %s.\n\n",
           task->vocab->size, VOCAB_UNKNOWN_WORD);
    ResultCsv figure;
    CsvWriter *csv = open_figure_csv(options, &figure, "stage08_attention",
                                     "sentence,layer,head,query,key,weight");
    for (size_t s = 0; s < sentences->count; s++) {
        const Sentence *sentence = &sentences->items[s];
        size_t n = sentence->words.count;
        size_t size = (size_t)config.layers * (size_t)config.heads * n * n;
        int *ids = malloc(n * sizeof *ids);
        float *weights = malloc(size * sizeof *weights);
        check_allocated(ids && weights ? weights : NULL, "the attention weights");
        program_encode_sentence(PROGRAM, sentences, s, task->vocab, ids);
        if (!attention_view_weights(model, ids, (int)n, weights))
            check_allocated(NULL, "the attention weights");
        print_sentence_attention(&config, task, s, sentence, ids, weights, csv);
        free(ids);
        free(weights);
    }
    close_figure_csv(&figure, "stage08_attention");
}

static void section_distance(const Options *options)
{
    int receptive_field = cnn_receptive_field(CNN_LAYERS);
    int distance = receptive_field + 1, gap = receptive_field;
    printf("== 4. The distance task beyond a CNN's receptive field\n\n");
    if (options->steps == 0 && !options->common.load_path) {
        printf("  skipped: --steps 0\n\n");
        return;
    }
    DistanceTask *task = new_distance_task();
    printf("Each sentence holds two subject-object spans; the label says whether each object\n"
           "belongs to its own subject. Subject and object are %d words apart, beyond the\n"
           "receptive field of a %d-layer CNN (%d words), and every other pair that reveals the\n"
           "label is at least %d apart. %d words per sentence. Adam lr %g, %d steps of %d,\n"
           "accuracy on %d held-out batches; chance is 0.5.\n\n",
           distance, CNN_LAYERS, receptive_field, gap + 1, task->length, (double)LEARNING_RATE,
           options->steps, train_default_config().batch, train_default_config().eval_batches);

    ClassifierTask classifier_task = {
        .sample = sample_distance_task, .task = task, .length = task->length};
    Transformer *model = new_distance_model(options, task);
    TrainConfig transformer_config = training_config(options, "transformer");
    if (program_load_checkpoint(PROGRAM, &options->common, transformer_params(model),
                                MODEL_OPTIONS)) {
        transformer_config.steps = 0;
        printf("  the transformer is not trained: its parameters come from %s\n\n",
               options->common.load_path);
    }
    program_configure_checkpoint(&options->common, &transformer_config);
    TrainResult transformer =
        train_classifier(transformer_classify, model, transformer_params(model), classifier_task,
                         transformer_config);
    train_exit_on_failure(PROGRAM, &transformer);

    Rng rng;
    rng_seed(&rng, options->common.seed, 42);
    CnnConfig cnn_config = {.vocab_size = task->vocab->size,
                            .width = options->width,
                            .layers = CNN_LAYERS,
                            .classes = 2,
                            .padding = CONV_SAME};
    Cnn *cnn = cnn_new(cnn_config, &rng);
    check_allocated(cnn, "the CNN");
    TrainResult baseline = train_classifier(cnn_forward, cnn, cnn->params, classifier_task,
                                            training_config(options, "CNN"));
    train_exit_on_failure(PROGRAM, &baseline);

    char transformer_loss[32], baseline_loss[32];
    printf("  transformer (L = %d, H = %d, D = %d)   final loss %s   held-out accuracy %.3f\n",
           options->layers, options->heads, options->width,
           format_loss(&transformer, transformer_loss, sizeof transformer_loss),
           (double)transformer.accuracy);
    printf("  CNN (%d layers, D = %d)               final loss %s   held-out accuracy %.3f\n\n",
           CNN_LAYERS, options->width, format_loss(&baseline, baseline_loss, sizeof baseline_loss),
           (double)baseline.accuracy);
    fprintf(stderr, "%s: training took %.2f s (transformer) and %.2f s (CNN)\n", PROGRAM,
            transformer.seconds, baseline.seconds);
    if (options->sentences_given)
        show_attention(options, model, task);
    else
        printf(
            "--sentence shows this transformer's attention weights on a sentence of your own.\n\n");
    transformer_free(model);
    cnn_free(cnn);
    distance_task_free(task);
}

/* ------------------------------------------------------------------------- */
/* Section 5: next-word prediction on a tiny text                             */
/* ------------------------------------------------------------------------- */

/* The built-in text: short sentences whose words recur in fixed patterns. */
static const char NEXT_WORD_TEXT[] =
    "the cat sat on the mat . the dog sat on the rug . the cat saw the dog . "
    "the dog saw the bird . a bird sang in the tree . the cat ran up the tree . "
    "the dog ran to the gate . a bird flew over the gate . the cat slept on the mat . "
    "the dog slept on the rug . the bird slept in the tree . a cat and a dog met at the gate . "
    "the dog and the cat ran to the tree . the bird sang and the cat slept . ";

/* Words per training window (P of the model) and windows per batch. */
#define NEXT_WORD_LENGTH 16
#define NEXT_WORD_BATCH 16

/* Words the model writes after the prompt. */
#define NEXT_WORD_CONTINUATION 12

/* The text as word ids. */
typedef struct Text {
    Vocab *vocab;
    int *ids; /* [count] */
    size_t count;
} Text;

/* Tokenizes the built-in text and numbers its words; exits on failure. */
static Text load_text(void)
{
    TokenList tokens;
    token_list_init(&tokens);
    char error[256];
    if (!tokenize(NEXT_WORD_TEXT, strlen(NEXT_WORD_TEXT), &tokens, error, sizeof error)) {
        fprintf(stderr, "%s: the built-in text: %s\n", PROGRAM, error);
        exit(1);
    }
    Text text = {.vocab = vocab_build(&tokens, 1000), .count = tokens.count};
    text.ids = malloc(tokens.count * sizeof *text.ids);
    check_allocated(text.vocab && text.ids ? text.ids : NULL, "the built-in text");
    vocab_encode(text.vocab, &tokens, text.ids);
    token_list_free(&tokens);
    return text;
}

/* Returns the cross-entropy of predicting each word by its frequency in the text, in nats. */
static double unigram_loss(const Text *text)
{
    double *counts = calloc((size_t)text->vocab->size, sizeof *counts);
    check_allocated(counts, "word counts");
    for (size_t i = 0; i < text->count; i++)
        counts[text->ids[i]] += 1.0;
    double loss = 0.0;
    for (int v = 0; v < text->vocab->size; v++)
        if (counts[v] > 0.0)
            loss -= counts[v] / (double)text->count * log(counts[v] / (double)text->count);
    free(counts);
    return loss;
}

/* Fills ids and targets [batch * length] from random windows, targets one word later. */
static void sample_windows(const Text *text, Rng *rng, int *ids, int *targets)
{
    uint32_t offsets = (uint32_t)(text->count - NEXT_WORD_LENGTH);
    for (int b = 0; b < NEXT_WORD_BATCH; b++) {
        size_t start = rng_below(rng, offsets);
        for (int t = 0; t < NEXT_WORD_LENGTH; t++) {
            ids[b * NEXT_WORD_LENGTH + t] = text->ids[start + (size_t)t];
            targets[b * NEXT_WORD_LENGTH + t] = text->ids[start + (size_t)t + 1];
        }
    }
}

/* Writes the most likely word after each prefix, starting from the text's first 3 words. */
static void print_continuation(Transformer *model, const Text *text)
{
    int ids[NEXT_WORD_LENGTH];
    int n = 3;
    memcpy(ids, text->ids, (size_t)n * sizeof *ids);
    printf("  greedy continuation: \"");
    for (int i = 0; i < n; i++)
        printf("%s%s", i ? " " : "", vocab_word(text->vocab, ids[i]));
    printf(" |");
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    for (int step = 0; step < NEXT_WORD_CONTINUATION; step++) {
        /* Keep the last P words when the text grows past the model's positions. */
        int window = n < NEXT_WORD_LENGTH ? n : NEXT_WORD_LENGTH;
        tape_reset(&tape);
        Tensor *logits = transformer_next_word_logits(&tape, model, ids + n - window, 1, window);
        const float *last = logits->data + (size_t)(window - 1) * (size_t)text->vocab->size;
        int best = 0;
        for (int v = 1; v < text->vocab->size; v++)
            if (last[v] > last[best])
                best = v;
        printf(" %s", vocab_word(text->vocab, best));
        if (n == NEXT_WORD_LENGTH)
            memmove(ids, ids + 1, (size_t)(n - 1) * sizeof *ids);
        else
            n++;
        ids[n - 1] = best;
    }
    printf("\"\n\n");
    tape_free(&tape);
}

/* Trains the causal model on random windows; prints and records the loss as it falls. */
static void train_next_word(const Options *options, Transformer *model, const Text *text)
{
    ParamList *params = transformer_params(model);
    AdamOptions adam_options = adam_default_options();
    adam_options.lr = LEARNING_RATE;
    Adam *adam = adam_new(params, adam_options);
    check_allocated(adam, "the optimiser");
    Rng rng;
    rng_seed(&rng, options->common.seed, 52);
    int ids[NEXT_WORD_BATCH * NEXT_WORD_LENGTH], targets[NEXT_WORD_BATCH * NEXT_WORD_LENGTH];
    int report_every = options->steps >= 10 ? options->steps / 10 : 1;
    ResultCsv figure;
    CsvWriter *csv = open_figure_csv(options, &figure, "stage08_next_word", "step,loss");
    Progress progress;
    progress_start(&progress, "next word", (size_t)options->steps);
    Tape tape;
    tape_init(&tape);

    for (int step = 1; step <= options->steps; step++) {
        tape_reset(&tape);
        sample_windows(text, &rng, ids, targets);
        Tensor *logits =
            transformer_next_word_logits(&tape, model, ids, NEXT_WORD_BATCH, NEXT_WORD_LENGTH);
        Tensor *loss = op_cross_entropy(&tape, logits, targets);
        params_zero_grad(params);
        tape_backward(&tape, loss);
        params_clip_grad_norm(params, train_default_config().clip_norm);
        adam_step(adam);
        if (csv)
            csv_row(csv, "%d,%.6f", step, (double)loss->data[0]);
        if (step == 1 || step % report_every == 0)
            printf("  step %6d   loss %.4f\n", step, (double)loss->data[0]);
        progress_update(&progress, (size_t)step, loss->data[0]);
    }
    progress_finish(&progress);
    close_figure_csv(&figure, "stage08_next_word");
    tape_free(&tape);
    adam_free(adam);
}

static void section_next_word(const Options *options)
{
    printf("== 5. Next-word prediction on a tiny text\n\n");
    /* --load restores section 4's model only, so without steps there is nothing to show here. */
    if (options->steps == 0) {
        printf("  skipped: --steps 0\n\n");
        return;
    }
    Text text = load_text();
    printf("A causal model (L = %d, H = %d, D = %d) predicts every next word of random %d-word\n"
           "windows of a built-in text of %zu words (V = %d). Batches of %d windows, Adam lr %g,\n"
           "gradient norm clipped to %g. Loss in nats per word; guessing uniformly costs\n"
           "ln V = %.3f, predicting each word by its frequency %.3f.\n\n",
           options->layers, options->heads, options->width, NEXT_WORD_LENGTH, text.count,
           text.vocab->size, NEXT_WORD_BATCH, (double)LEARNING_RATE,
           (double)train_default_config().clip_norm, log((double)text.vocab->size),
           unigram_loss(&text));
    Transformer *model =
        new_model(model_config(options, text.vocab->size, NEXT_WORD_LENGTH, 2, true),
                  options->common.seed, 51);
    train_next_word(options, model, &text);
    printf("\n");
    print_continuation(model, &text);
    transformer_free(model);
    vocab_free(text.vocab);
    free(text.ids);
}

/* ------------------------------------------------------------------------- */
/* Section 6: cost                                                            */
/* ------------------------------------------------------------------------- */

static const int COST_LENGTHS[] = {8, 32, 128, 512};

static void section_cost(const Options *options)
{
    int V = 50, D = options->width;
    printf("== 6. Cost of one forward pass\n\n");
    printf("Multiply-adds per sentence of n words, classifier head (C = 2), V = %d, D = %d,\n"
           "H = %d, MLP %d D, L = %d:\n"
           "  transformer  L (5 n D^2 + 2 n D M + 2 n^2 D) + C D   (M = MLP width)\n"
           "  CNN          3 n (3 D^2) + C D                       (3 layers, window 3)\n\n",
           V, D, options->heads, MLP_FACTOR, options->layers);
    printf("      n   transformer           CNN   transformer params   CNN params\n");
    TransformerConfig config = model_config(options, V, COST_LENGTHS[3], 2, false);
    CnnConfig cnn = {
        .vocab_size = V, .width = D, .layers = CNN_LAYERS, .classes = 2, .padding = CONV_SAME};
    Rng rng;
    rng_seed(&rng, options->common.seed, 61);
    Cnn *cnn_model = cnn_new(cnn, &rng);
    check_allocated(cnn_model, "the CNN");
    size_t params = 0, cnn_params = params_count_elements(cnn_model->params);
    cnn_free(cnn_model);
    for (size_t i = 0; i < sizeof COST_LENGTHS / sizeof COST_LENGTHS[0]; i++) {
        int n = COST_LENGTHS[i];
        size_t transformer_count = 0, cnn_count = 0;
        config.positions = n;
        bool ok =
            transformer_multiply_adds(config, n, TRANSFORMER_CLASSIFIER, &transformer_count) &&
            cnn_multiply_adds(cnn, n, &cnn_count) &&
            transformer_parameter_count(config, TRANSFORMER_CLASSIFIER, &params);
        if (!ok) {
            printf("  %5d   overflows size_t\n", n);
            continue;
        }
        printf("  %5d  %12zu  %12zu  %19zu  %11zu\n", n, transformer_count, cnn_count, params,
               cnn_params);
    }
    printf("\nThe transformer's parameters grow with P (one position vector each, here P = n);\n"
           "its n^2 term, the scores and weighted sums, takes over once n exceeds 2.5 D + M.\n");
}

int main(int argc, char **argv)
{
    Options options;
    parse_options(argc, argv, &options);
    check_checkpoint(&options);

    char error[512];
    if (!sentence_set_encode(&options.common.sentences, error, sizeof error)) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
        return 1;
    }

    printf("Stage 08: the standard transformer block (seed %llu, L = %d, H = %d, D = %d, MLP "
           "%d)\n\n",
           (unsigned long long)options.common.seed, options.layers, options.heads, options.width,
           MLP_FACTOR * options.width);
    section_scaling(&options);
    section_causal(&options, &options.common.sentences);
    section_depth(&options);
    section_distance(&options);
    section_next_word(&options);
    section_cost(&options);

    program_options_free(&options.common);
    return result_exit_status();
}
