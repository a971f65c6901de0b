/*
 * Stage 07 program: checks that one head reproduces stage 06 and that the
 * output width is the sum of the head widths. Then it trains 1, 2 and 4
 * heads of equal total width on the cue task over a few seeds.
 *
 * Run with no arguments for the walk-through; --help lists the options.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "02_pairwise_convolution/sentences.h"
#include "06_linear_projections/mlp.h"
#include "07_multi_head/multi_head.h"
#include "cli.h"
#include "csv.h"
#include "files.h"
#include "init.h"
#include "plot.h"
#include "tasks.h"
#include "train.h"

static const char *const PROGRAM = "stage07";

/* Sentences for the H = 1 check when no --sentence is given. */
static const char *const DEFAULT_SENTENCES[] = {
    "there was a tree on fire and it was roaring",
    "there was a lion on fire and it was roaring",
};

/* Maximum words per sentence, far above any example; keeps the n x n weights small. */
#define MAX_WORDS 1024

/* Maximum number of head counts in --heads. */
#define MAX_HEAD_COUNTS 8

/* The cue task trained on: 10 words per sentence, 4 subject-object pairs. */
enum { TASK_LENGTH = 10, TASK_PAIRS = 4 };

/*
 * Standard deviations of the learned word and position vectors at
 * initialisation. The task needs heads that score keys by where they are,
 * and larger position vectors make that easier. With 1.0 for both, every
 * head count trained more slowly in trial runs of this program.
 */
#define WORD_STD 1.0f
#define POSITION_STD 2.0f

/* Command-line settings. */
typedef struct Options {
    uint64_t seed;                       /* first seed; runs use seed, seed + 1, ... */
    int seeds;                           /* training runs per head count */
    int width;                           /* D, the total width shared by the heads */
    int head_counts[MAX_HEAD_COUNTS];    /* H of each training run, from --heads */
    int head_count_total;                /* entries in head_counts */
    int steps;                           /* training steps per run */
    int threads;                         /* threads of the heavy loops */
    bool output_projection;              /* follow the concatenation with W_O */
    const char *out_dir;                 /* where the CSV and figure go */
    SentenceSet sentences;               /* from --sentence and --sentence-file, in order */
} Options;

static void print_usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Stage 07: several attention heads side by side, outputs concatenated.\n"
           "Checks that one head is stage 06 and that the output width is the sum of the\n"
           "head widths, then trains each head count on the cue task at equal total width.\n\n"
           "  --seed N              first seed; runs use N, N+1, ... (default 1)\n"
           "  --seeds N             training runs per head count, 1..50 (default 4)\n"
           "  --sentence TEXT       a sentence for the H = 1 check (repeatable; replaces\n"
           "                        the built-in sentences)\n"
           "  --sentence-file F     read sentences from F, one per line ('-' = stdin)\n"
           "  --heads LIST          head counts to train, comma-separated, each dividing\n"
           "                        the width (default 1,2,4)\n"
           "  --width D             total width D, 2..512; each head gets D/H (default 16)\n"
           "  --steps N             training steps per run, 1..1000000 (default 1000)\n"
           "  --output-projection   follow the concatenated heads with W_O [D, D]\n"
           "  --out DIR             directory for stage07_heads.csv and .png\n"
           "                        (default results/stage07)\n"
           "  --threads N           threads for the heavy loops, 1..1024 (default 1)\n"
           "  --help                print this help and exit\n",
           PROGRAM);
}

/* Adds one sentence; exits through cli_usage_error when it is invalid or empty. */
static void add_sentence(SentenceSet *sentences, const char *text)
{
    char error[512];
    if (!sentence_set_add(sentences, text, error, sizeof error))
        cli_usage_error(PROGRAM, "invalid value '%s' for --sentence: %s", text, error);
}

/* Parses --heads "1,2,4" into options->head_counts; exits with status 2 on a bad list. */
static void parse_heads(const char *text, Options *options)
{
    options->head_count_total = 0;
    const char *item = text;
    for (;;) {
        /* Copy one comma-separated item, so that cli_try_parse_int parses it alone. */
        const char *comma = strchr(item, ',');
        size_t length = comma ? (size_t)(comma - item) : strlen(item);
        char copy[32];
        if (length >= sizeof copy || options->head_count_total == MAX_HEAD_COUNTS)
            cli_usage_error(PROGRAM, "invalid value '%s' for --heads: expected at most %d "
                                     "comma-separated head counts",
                            text, MAX_HEAD_COUNTS);
        memcpy(copy, item, length);
        copy[length] = '\0';

        char error[256];
        int heads;
        if (!cli_try_parse_int("--heads", copy, 1, 512, &heads, error, sizeof error))
            cli_usage_error(PROGRAM, "%s", error);
        options->head_counts[options->head_count_total++] = heads;
        if (!comma)
            return;
        item = comma + 1;
    }
}

static void parse_options(int argc, char **argv, Options *options)
{
    enum { OPT_SEED = 1, OPT_SEEDS, OPT_SENTENCE, OPT_SENTENCE_FILE, OPT_HEADS, OPT_WIDTH,
           OPT_STEPS, OPT_OUTPUT_PROJECTION, OPT_OUT, OPT_THREADS, OPT_HELP };
    static const struct option long_options[] = {
        {"seed", required_argument, NULL, OPT_SEED},
        {"seeds", required_argument, NULL, OPT_SEEDS},
        {"sentence", required_argument, NULL, OPT_SENTENCE},
        {"sentence-file", required_argument, NULL, OPT_SENTENCE_FILE},
        {"heads", required_argument, NULL, OPT_HEADS},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"steps", required_argument, NULL, OPT_STEPS},
        {"output-projection", no_argument, NULL, OPT_OUTPUT_PROJECTION},
        {"out", required_argument, NULL, OPT_OUT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    char error[512];

    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        switch (option) {
        case OPT_SEED:
            options->seed = cli_parse_u64(PROGRAM, "--seed", optarg, 0, UINT64_MAX - 64);
            break;
        case OPT_SEEDS:
            options->seeds = cli_parse_int(PROGRAM, "--seeds", optarg, 1, 50);
            break;
        case OPT_SENTENCE:
            add_sentence(&options->sentences, optarg);
            break;
        case OPT_SENTENCE_FILE:
            if (!sentence_set_add_file(&options->sentences, optarg, error, sizeof error))
                cli_usage_error(PROGRAM, "invalid value '%s' for --sentence-file: %s", optarg,
                                error);
            break;
        case OPT_HEADS:
            parse_heads(optarg, options);
            break;
        case OPT_WIDTH:
            options->width = cli_parse_int(PROGRAM, "--width", optarg, 2, 512);
            break;
        case OPT_STEPS:
            options->steps = cli_parse_int(PROGRAM, "--steps", optarg, 1, 1000000);
            break;
        case OPT_OUTPUT_PROJECTION:
            options->output_projection = true;
            break;
        case OPT_OUT:
            options->out_dir = optarg;
            break;
        case OPT_THREADS:
            options->threads = cli_parse_int(PROGRAM, "--threads", optarg, 1, 1024);
            break;
        case OPT_HELP:
            print_usage();
            exit(0);
        case ':':
            cli_usage_error(PROGRAM, "option '%s' requires a value", argv[optind - 1]);
        default:
            cli_usage_error(PROGRAM, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        cli_usage_error(PROGRAM, "unexpected argument '%s'", argv[optind]);

    /* Each head gets D/H, so every head count must divide the width. */
    for (int i = 0; i < options->head_count_total; i++)
        if (options->width % options->head_counts[i] != 0)
            cli_usage_error(PROGRAM, "invalid value '%d' in --heads: it does not divide the "
                                     "width %d (set with --width)",
                            options->head_counts[i], options->width);
}

/* ------------------------------------------------------------------------- */
/* Sentences                                                                  */
/* ------------------------------------------------------------------------- */

/* Gives the sentences their ids and checks their lengths; exits with status 2 on a sentence
 * longer than MAX_WORDS and 1 when memory runs out. */
static void encode_sentences(SentenceSet *sentences)
{
    char error[512];
    if (!sentence_set_encode(sentences, error, sizeof error)) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
        exit(1);
    }
    for (size_t i = 0; i < sentences->count; i++)
        if (sentences->items[i].words.count > MAX_WORDS)
            cli_usage_error(PROGRAM, "invalid sentence %zu: %zu words, more than the maximum of %d",
                            i + 1, sentences->items[i].words.count, MAX_WORDS);
}

/* Returns the number of words of sentence i. */
static int sentence_length(const SentenceSet *sentences, size_t i)
{
    return (int)sentences->items[i].words.count;
}

/* Returns sentence i as vectors [1, n, D]: rows of a random embedding table. */
static Tensor *sentence_vectors(Tape *tape, Tensor *table, const SentenceSet *sentences, size_t i)
{
    int n = sentence_length(sentences, i);
    Tensor *x = op_embedding(tape, table, sentences->items[i].ids, n);
    return op_reshape(tape, x, shape3(1, n, tensor_cols(table)));
}

/* ------------------------------------------------------------------------- */
/* The two claims                                                             */
/* ------------------------------------------------------------------------- */

/* Copies every weight of stage 06's layer into the one head of a multi-head layer. */
static void copy_head(LinearAttention *head, const LinearAttention *layer)
{
    tensor_copy_data(head->query, layer->query);
    tensor_copy_data(head->key, layer->key);
    tensor_copy_data(head->self, layer->self);
    tensor_copy_data(head->value, layer->value);
}

/* Prints the largest difference between stage 06's layer and one head with its weights. */
static void print_one_head(const Options *options, const SentenceSet *sentences, Tensor *table)
{
    Rng rng;
    rng_seed(&rng, options->seed, 10);
    int D = options->width;
    LinearAttention *layer =
        linear_attention_new(D, D, D, SCORE_BILINEAR, "attention", &rng, NULL);
    MultiHeadAttention *one =
        multi_head_new(D, 1, D, D, SCORE_BILINEAR, false, "multi", &rng, NULL);
    if (!layer || !one)
        core_fatal("could not create the attention layers of width %d", D);
    copy_head(one->head[0], layer);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    printf("1. H = 1 is stage 06: one head with the weights of a stage 06 layer\n"
           "   (D = Dk = Dv = %d, no output projection) gives the same outputs.\n\n", D);
    for (size_t i = 0; i < sentences->count; i++) {
        tape_reset(&tape);
        Tensor *x = sentence_vectors(&tape, table, sentences, i);
        Tensor *expected = linear_attention_forward(&tape, layer, x, NULL);
        Tensor *actual = multi_head_forward(&tape, one, x, NULL);
        double largest = 0.0;
        for (size_t j = 0; j < actual->size; j++)
            largest = fmax(largest, fabs((double)actual->data[j] - (double)expected->data[j]));
        printf("   sentence %zu: %d words; max |multi-head - stage 06| = %g\n", i + 1,
               sentence_length(sentences, i), largest);
    }
    printf("\n");

    tape_free(&tape);
    multi_head_free(one);
    linear_attention_free(layer);
}

/* Returns the output width of `heads` heads of width head_width on sentence 0, read off the
 * forward pass. */
static int measured_width(const SentenceSet *sentences, Tensor *table, int heads, int head_width,
                          bool projection, Rng *rng)
{
    int D = tensor_cols(table);
    MultiHeadAttention *layer = multi_head_new(D, heads, head_width, head_width, SCORE_BILINEAR,
                                               projection, "multi", rng, NULL);
    if (!layer)
        core_fatal("could not create %d heads of width %d", heads, head_width);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *y = multi_head_forward(&tape, layer, sentence_vectors(&tape, table, sentences, 0), NULL);
    int width = tensor_cols(y);
    tape_free(&tape);
    multi_head_free(layer);
    return width;
}

/* Prints one row of the width table. */
static void print_width_row(const SentenceSet *sentences, Tensor *table, int heads, int head_width,
                            Rng *rng)
{
    int n = sentence_length(sentences, 0);
    char plain[32], projected[32];
    snprintf(plain, sizeof plain, "[1, %d, %d]", n,
             measured_width(sentences, table, heads, head_width, false, rng));
    snprintf(projected, sizeof projected, "[1, %d, %d]", n,
             measured_width(sentences, table, heads, head_width, true, rng));
    printf("   %4d %10d %14d %16s %16s\n", heads, head_width, heads * head_width, plain, projected);
}

/* Prints the output width of several head counts, read off the forward pass's output. */
static void print_widths(const Options *options, const SentenceSet *sentences, Tensor *table)
{
    Rng rng;
    rng_seed(&rng, options->seed, 11);
    int D = options->width;

    printf("2. Output width = sum of head widths. The stage splits D = %d evenly, Dk = Dv = D/H,\n"
           "   so the concatenation is D wide whatever H. The last row has 3 heads of width 5.\n"
           "   The output projection W_O maps the concatenation back to D. Shapes are read\n"
           "   off the forward pass on sentence 1.\n\n", D);
    printf("   %4s %10s %14s %16s %16s\n", "H", "head width", "sum of widths", "output",
           "output with W_O");
    for (int heads = 1; heads <= D && heads <= 16; heads *= 2)
        if (D % heads == 0)
            print_width_row(sentences, table, heads, D / heads, &rng);
    print_width_row(sentences, table, 3, 5, &rng);
    printf("\n   With Dk = Dv = D/H the heads together cost what one head of width D costs:\n"
           "   projections n*D*4*D and pair work n^2*(Dk + Dv)*H = n^2*2D, for any H.\n\n");
}

/* ------------------------------------------------------------------------- */
/* Training on the cue task                                                   */
/* ------------------------------------------------------------------------- */

/* A classifier: word and position vectors, one multi-head layer, the MLP on every output,
 * the mean over positions and a linear layer to the two classes. */
typedef struct Classifier {
    Tensor *word_table;             /* [V, D] */
    Tensor *position_table;         /* [P, D], P = the task's sentence length */
    MultiHeadAttention *attention;  /* H heads of width D/H, concatenated: D -> D */
    Mlp *mlp;                       /* D -> 4D -> D, applied to each of the n outputs */
    Tensor *out_weight;             /* [2, D] */
    Tensor *out_bias;               /* [2] */
} Classifier;

/* Allocates a learned table [rows, D] drawn from a normal distribution and registers it. */
static Tensor *new_table(int rows, int width, float std, Rng *rng, ParamList *params,
                         const char *name)
{
    Tensor *table = tensor_new(shape2(rows, width), true);
    init_normal(table, rng, std);
    if (!params_add(params, table, name))
        core_fatal("could not register %s", name);
    return table;
}

static Classifier *classifier_new(const Options *options, const CueTask *task, int heads,
                                  Rng *rng, ParamList *params)
{
    int D = options->width;
    Classifier *model = calloc(1, sizeof *model);
    if (!model)
        core_fatal("out of memory allocating the classifier");
    model->word_table = new_table(task->vocab->size, D, WORD_STD, rng, params, "words");
    model->position_table = new_table(task->length, D, POSITION_STD, rng, params, "positions");
    model->attention = multi_head_new(D, heads, D / heads, D / heads, SCORE_BILINEAR,
                                      options->output_projection, "attention", rng, params);
    model->mlp = mlp_new(D, 4 * D, D, MLP_RELU, "mlp", rng, params);
    model->out_weight = tensor_new(shape2(2, D), true);
    model->out_bias = tensor_new(shape1(2), true);
    init_linear_default(model->out_weight, rng);
    init_uniform(model->out_bias, rng, 1.0f / sqrtf((float)D));
    if (!model->attention || !model->mlp || !params_add(params, model->out_weight, "out.weight") ||
        !params_add(params, model->out_bias, "out.bias"))
        core_fatal("could not create the classifier with %d heads of width %d", heads, D);
    return model;
}

static void classifier_free(Classifier *model)
{
    tensor_free(model->word_table);
    tensor_free(model->position_table);
    multi_head_free(model->attention);
    mlp_free(model->mlp);
    tensor_free(model->out_weight);
    tensor_free(model->out_bias);
    free(model);
}

/* ids [batch * length] -> logits [batch, 2]. */
static Tensor *classifier_forward(Tape *tape, void *context, const int *ids, int batch, int length)
{
    Classifier *model = context;
    int count = batch * length;
    int width = tensor_cols(model->word_table);

    /* 1. Word vector plus position vector: x [B, n, D]. */
    int *positions = arena_alloc(&tape->arena, (size_t)count * sizeof *positions);
    for (int i = 0; i < count; i++)
        positions[i] = i % length;
    Tensor *x = op_add(tape, op_embedding(tape, model->word_table, ids, count),
                       op_embedding(tape, model->position_table, positions, count));
    x = op_reshape(tape, x, shape3(batch, length, width));

    /* 2. The heads, concatenated, then the MLP on each of the n outputs. */
    Tensor *y = mlp_forward(tape, model->mlp, multi_head_forward(tape, model->attention, x, NULL));

    /* 3. The mean over positions, then the two class scores. */
    return op_linear(tape, op_mean_positions(tape, y), model->out_weight, model->out_bias);
}

/* Trains one classifier with `heads` heads; returns its held-out accuracy and stores its
 * number of parameters in *parameter_count. */
static float train_one(const Options *options, const CueTask *task, int heads, uint64_t seed,
                       size_t *parameter_count)
{
    Rng rng;
    rng_seed(&rng, seed, 20);
    ParamList *params = params_new();
    if (!params)
        core_fatal("out of memory allocating a parameter list");
    Classifier *model = classifier_new(options, task, heads, &rng, params);

    char label[64];
    snprintf(label, sizeof label, "%d heads, seed %llu", heads, (unsigned long long)seed);
    TrainConfig config = train_default_config();
    config.steps = options->steps;
    config.seed = seed;
    config.label = label;
    ClassifierTask classifier_task = {
        .sample = (TaskSampleFn)cue_task_sample, .task = task, .length = task->length};
    TrainResult result = train_classifier(classifier_forward, model, params, classifier_task,
                                          config);
    fprintf(stderr, "%s: %s: trained in %.1f s, final loss %.3f\n", PROGRAM, label,
            result.seconds, (double)result.final_loss);
    *parameter_count = params_count_elements(params);

    classifier_free(model);
    params_free(params);
    return result.accuracy;
}

/* Opens OUT/stage07_heads.csv, or returns NULL after a warning (the table is still printed). */
static CsvWriter *open_heads_csv(const Options *options, char *csv_path, size_t path_size)
{
    char error[512];
    if (!make_directories(options->out_dir, error, sizeof error)) {
        fprintf(stderr, "%s: %s; the heads figure is not written\n", PROGRAM, error);
        return NULL;
    }
    snprintf(csv_path, path_size, "%s/stage07_heads.csv", options->out_dir);
    CsvWriter *csv = csv_open(csv_path, "heads,head_width,seed,accuracy", error, sizeof error);
    if (!csv)
        fprintf(stderr, "%s: %s; the heads figure is not written\n", PROGRAM, error);
    return csv;
}

static void print_training(const Options *options)
{
    CueTask *task = cue_task_new(TASK_LENGTH, TASK_PAIRS);
    if (!task)
        core_fatal("could not create the cue task");
    char csv_path[4096], png_path[4096];
    CsvWriter *csv = open_heads_csv(options, csv_path, sizeof csv_path);

    printf("3. Training on the cue task (%d words, %d subject-object pairs; label: does the\n"
           "   subject left of \"owns\" own the object right of it; chance 0.5).\n"
           "   One layer: word + position vectors, H heads of width D/H concatenated%s,\n"
           "   MLP per vector, mean, linear. D = %d, %d steps of 32 sentences, Adam lr 3e-3.\n"
           "   Held-out accuracy:\n\n",
           task->length, task->pairs, options->output_projection ? ", W_O" : "",
           options->width, options->steps);
    printf("   %5s %10s", "heads", "head width");
    for (int s = 0; s < options->seeds; s++) {
        char heading[32];
        snprintf(heading, sizeof heading, "seed %llu", (unsigned long long)options->seed + (unsigned)s);
        printf(" %8s", heading);
    }
    printf(" %8s %11s\n", "mean", "parameters");

    for (int i = 0; i < options->head_count_total; i++) {
        int heads = options->head_counts[i];
        double total = 0.0;
        size_t parameter_count = 0;
        printf("   %5d %10d", heads, options->width / heads);
        fflush(stdout);
        for (int s = 0; s < options->seeds; s++) {
            uint64_t seed = options->seed + (uint64_t)s;
            float accuracy = train_one(options, task, heads, seed, &parameter_count);
            total += accuracy;
            printf(" %8.3f", (double)accuracy);
            fflush(stdout);
            if (csv)
                csv_row(csv, "%d,%d,%llu,%.4f", heads, options->width / heads,
                        (unsigned long long)seed, (double)accuracy);
        }
        printf(" %8.3f %11zu\n", total / options->seeds, parameter_count);
    }
    printf("\n");

    char error[512];
    snprintf(png_path, sizeof png_path, "%s/stage07_heads.png", options->out_dir);
    if (csv && csv_close(csv, error, sizeof error))
        plot_render("stage07_heads.gp", csv_path, png_path);
    else if (csv)
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
    cue_task_free(task);
}

int main(int argc, char **argv)
{
    /* One thread by default: the matrices here are small, and on a 2-core machine shared with
     * other processes 2 threads made the default run several times slower. The printed numbers
     * do not depend on the thread count. */
    Options options = {.seed = 1, .seeds = 4, .width = 16, .head_counts = {1, 2, 4},
                       .head_count_total = 3, .steps = 1000, .threads = 1,
                       .output_projection = false, .out_dir = "results/stage07"};
    sentence_set_init(&options.sentences);
    parse_options(argc, argv, &options);
    core_set_threads(options.threads);
    if (options.sentences.count == 0)
        for (size_t i = 0; i < sizeof DEFAULT_SENTENCES / sizeof DEFAULT_SENTENCES[0]; i++)
            add_sentence(&options.sentences, DEFAULT_SENTENCES[i]);

    encode_sentences(&options.sentences);
    for (size_t i = 0; i < options.sentences.count; i++)
        printf("sentence %zu: %s\n", i + 1, options.sentences.items[i].text);
    printf("\n");

    /* Random word vectors for the two checks; training learns its own. */
    Rng rng;
    rng_seed(&rng, options.seed, 9);
    Tensor *table = tensor_new(shape2(options.sentences.vocab->size, options.width), false);
    init_normal(table, &rng, WORD_STD);
    print_one_head(&options, &options.sentences, table);
    print_widths(&options, &options.sentences, table);
    tensor_free(table);

    print_training(&options);

    sentence_set_free(&options.sentences);
    return 0;
}
