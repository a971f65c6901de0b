/*
 * Stage 06 program: prints the two identities behind the linear attention
 * layer, counts its multiply-adds against stage 05's design, and trains it
 * with both scorers on the distance task.
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
#include "06_linear_projections/linear_attention.h"
#include "06_linear_projections/mlp.h"
#include "cli.h"
#include "csv.h"
#include "files.h"
#include "init.h"
#include "plot.h"
#include "tasks.h"
#include "train.h"

static const char *const PROGRAM = "stage06";

/* The sentences of the stage 05 example, used when no --sentence is given. */
static const char *const DEFAULT_SENTENCES[] = {
    "there was a tree on fire and it was roaring",
    "there was a lion on fire and it was roaring",
};

/* Maximum words per sentence, because the long-way check builds n*n pair vectors of width D. */
#define MAX_WORDS 256

/* Sentence lengths of the cost table. */
static const int COST_WORDS[] = {4, 16, 64, 256};

/* The distance task trained on: subject and object 3 words apart, 4 filler words between
 * the two spans, 2 more shared out at the ends (14 words per sentence). */
enum { TASK_DISTANCE = 3, TASK_GAP = 4, TASK_MARGIN = 2 };

/* Training runs per scorer, with seeds seed, seed + 1, ... */
#define TRAIN_SEEDS 3

/* Standard deviation of the learned word and position vectors at initialisation. */
#define EMBEDDING_STD 1.0f

/* Command-line settings. */
typedef struct Options {
    uint64_t seed;               /* seeds weights, data and training */
    int width;                   /* D, also Dk and Dv; the MLP's hidden width is 4*D */
    int steps;                   /* training steps per scorer */
    int threads;                 /* threads of the heavy loops */
    bool train_bilinear;         /* train the bilinear scorer */
    bool train_net;              /* train the net scorer */
    MlpActivation activation;    /* the MLP's non-linearity */
    const char *out_dir;         /* where the CSV and figure go */
    SentenceSet sentences;               /* from --sentence and --sentence-file, in order */
} Options;

static void print_usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Stage 06: linear pair representations, bilinear scores and a per-vector MLP.\n"
           "Prints both identities of the stage, the multiply-add counts against stage 05,\n"
           "and the accuracy of both scorers on the distance task.\n\n"
           "  --seed N            seed of weights, data and training (default 1)\n"
           "  --sentence TEXT     a sentence for the identity checks (repeatable; replaces\n"
           "                      the built-in sentences)\n"
           "  --sentence-file F   read sentences from F, one per line ('-' = stdin)\n"
           "  --width D           vector width D = Dk = Dv, 2..512 (default 32)\n"
           "  --steps N           training steps per scorer, 1..1000000 (default 600)\n"
           "  --scorer KIND       bilinear, net or both (default both)\n"
           "  --activation NAME   the MLP's non-linearity, relu or gelu (default relu)\n"
           "  --out DIR           directory for stage06_cost.csv and .png\n"
           "                      (default results/stage06)\n"
           "  --threads N         threads for the heavy loops, 1..1024 (default 1)\n"
           "  --help              print this help and exit\n",
           PROGRAM);
}

/* Adds one sentence; exits through cli_usage_error when it is invalid or empty. */
static void add_sentence(SentenceSet *sentences, const char *text)
{
    char error[512];
    if (!sentence_set_add(sentences, text, error, sizeof error))
        cli_usage_error(PROGRAM, "invalid value '%s' for --sentence: %s", text, error);
}

/* Sets which scorers to train from --scorer; exits with status 2 on an unknown value. */
static void parse_scorer(const char *value, Options *options)
{
    options->train_bilinear = strcmp(value, "bilinear") == 0 || strcmp(value, "both") == 0;
    options->train_net = strcmp(value, "net") == 0 || strcmp(value, "both") == 0;
    if (!options->train_bilinear && !options->train_net)
        cli_usage_error(PROGRAM, "invalid value '%s' for --scorer: expected bilinear, net or both",
                        value);
}

static void parse_options(int argc, char **argv, Options *options)
{
    enum { OPT_SEED = 1, OPT_SENTENCE, OPT_SENTENCE_FILE, OPT_WIDTH, OPT_STEPS, OPT_SCORER,
           OPT_ACTIVATION, OPT_OUT, OPT_THREADS, OPT_HELP };
    static const struct option long_options[] = {
        {"seed", required_argument, NULL, OPT_SEED},
        {"sentence", required_argument, NULL, OPT_SENTENCE},
        {"sentence-file", required_argument, NULL, OPT_SENTENCE_FILE},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"steps", required_argument, NULL, OPT_STEPS},
        {"scorer", required_argument, NULL, OPT_SCORER},
        {"activation", required_argument, NULL, OPT_ACTIVATION},
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
            options->seed = cli_parse_u64(PROGRAM, "--seed", optarg, 0, UINT64_MAX);
            break;
        case OPT_SENTENCE:
            add_sentence(&options->sentences, optarg);
            break;
        case OPT_SENTENCE_FILE:
            if (!sentence_set_add_file(&options->sentences, optarg, error, sizeof error))
                cli_usage_error(PROGRAM, "invalid value '%s' for --sentence-file: %s", optarg,
                                error);
            break;
        case OPT_WIDTH:
            options->width = cli_parse_int(PROGRAM, "--width", optarg, 2, 512);
            break;
        case OPT_STEPS:
            options->steps = cli_parse_int(PROGRAM, "--steps", optarg, 1, 1000000);
            break;
        case OPT_SCORER:
            parse_scorer(optarg, options);
            break;
        case OPT_ACTIVATION:
            if (!mlp_activation_from_name(optarg, &options->activation))
                cli_usage_error(PROGRAM, "invalid value '%s' for --activation: expected relu or "
                                         "gelu", optarg);
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

/* Returns the largest |a[i] - b[i]|. */
static double max_difference(const Tensor *a, const Tensor *b)
{
    double largest = 0.0;
    for (size_t i = 0; i < a->size; i++)
        largest = fmax(largest, fabs((double)a->data[i] - (double)b->data[i]));
    return largest;
}

/* ------------------------------------------------------------------------- */
/* The identities                                                             */
/* ------------------------------------------------------------------------- */

/* Prints, per sentence, the largest difference between the two sides of each identity. */
static void print_identities(const Options *options, const SentenceSet *sentences)
{
    Rng rng;
    rng_seed(&rng, options->seed, 10);
    int D = options->width;
    Tensor *table = tensor_new(shape2(sentences->vocab->size, D), false);
    init_normal(table, &rng, EMBEDDING_STD);
    LinearAttention *layer =
        linear_attention_new(D, D, D, SCORE_BILINEAR, "attention", &rng, NULL);
    if (!layer)
        core_fatal("could not create the attention layer of width %d", D);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    printf("1. Linear representation: the query's own term comes out of the sum\n"
           "   r_qk = A x_q + B x_k, weights a_qk summing to 1 over k, so\n"
           "   sum_k a_qk (A x_q + B x_k) = A x_q + sum_k a_qk B x_k.\n"
           "   Left: all n*n pair vectors combined as in stage 05. Right: n values only.\n"
           "   Random word vectors and weights, D = Dk = Dv = %d.\n\n", D);
    for (size_t i = 0; i < sentences->count; i++) {
        tape_reset(&tape);
        Tensor *x = sentence_vectors(&tape, table, sentences, i);
        double diff = max_difference(linear_attention_forward_pairs(&tape, layer, x),
                                     linear_attention_forward(&tape, layer, x, NULL));
        int n = sentence_length(sentences, i);
        printf("   sentence %zu: %d words, %d pair vectors vs %d values; max |left - right| = "
               "%.2e\n", i + 1, n, n * n, n, diff);
    }

    printf("\n2. Bilinear score: x_q^T (W_Q^T W_K) x_k = (W_Q x_q) . (W_K x_k)\n"
           "   Left: the D x D matrix W = W_Q^T W_K applied to every pair. Right: each word\n"
           "   projected once to W_Q x and W_K x (Dk = %d numbers each), then one dot product\n"
           "   per pair. W has rank at most Dk.\n\n",
           D);
    for (size_t i = 0; i < sentences->count; i++) {
        tape_reset(&tape);
        Tensor *x = sentence_vectors(&tape, table, sentences, i);
        double diff = max_difference(linear_attention_scores_full(&tape, layer, x),
                                     linear_attention_scores(&tape, layer, x));
        printf("   sentence %zu: %d x %d scores; max |x^T W x - (W_Q x).(W_K x)| = %.2e\n", i + 1,
               sentence_length(sentences, i), sentence_length(sentences, i), diff);
    }
    printf("\n");

    tape_free(&tape);
    linear_attention_free(layer);
    tensor_free(table);
}

/* ------------------------------------------------------------------------- */
/* The cost                                                                   */
/* ------------------------------------------------------------------------- */

/* Returns the cost of one design on n words, stopping the program on an overflow (a bug,
 * because the table's sizes are fixed). */
static AttentionCost cost_of(int design, uint64_t n, AttentionWidths widths)
{
    AttentionCost cost;
    bool ok = design == 0   ? pair_nets_cost(n, widths, &cost)
              : design == 1 ? linear_attention_cost(n, widths, SCORE_NET, &cost)
                            : linear_attention_cost(n, widths, SCORE_BILINEAR, &cost);
    if (!ok)
        core_fatal("multiply-add count overflows for n = %llu", (unsigned long long)n);
    return cost;
}

/* Writes the cost table to OUT/stage06_cost.csv and draws stage06_cost.png. */
static void write_cost_figure(const Options *options, AttentionWidths widths)
{
    char error[512], csv_path[4096], png_path[4096];
    if (!make_directories(options->out_dir, error, sizeof error)) {
        fprintf(stderr, "%s: %s; the cost figure is not written\n", PROGRAM, error);
        return;
    }
    snprintf(csv_path, sizeof csv_path, "%s/stage06_cost.csv", options->out_dir);
    snprintf(png_path, sizeof png_path, "%s/stage06_cost.png", options->out_dir);
    CsvWriter *csv = csv_open(csv_path, "words,pair_nets,linear_net_scorer,linear_bilinear",
                              error, sizeof error);
    if (!csv) {
        fprintf(stderr, "%s: %s; the cost figure is not written\n", PROGRAM, error);
        return;
    }

    /* n = 2, 3, 4, 6, 8, 12, ... 256: powers of 2 and 1.5 times them. */
    for (uint64_t n = 2; n <= 256; n = (n & (n - 1)) == 0 ? n + n / 2 : n / 3 * 4) {
        csv_row(csv, "%llu,%llu,%llu,%llu", (unsigned long long)n,
                (unsigned long long)cost_of(0, n, widths).total,
                (unsigned long long)cost_of(1, n, widths).total,
                (unsigned long long)cost_of(2, n, widths).total);
    }
    if (!csv_close(csv, error, sizeof error)) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
        return;
    }
    plot_render("stage06_cost.gp", csv_path, png_path);
}

/*
 * Runs the bilinear layer and the MLP on one sentence of n random vectors
 * and returns the multiply-adds the tape counted (tape->multiply_adds), an
 * independent check of linear_attention_cost.
 */
static unsigned long long counted_cost(int n, AttentionWidths widths, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 40);
    int D = widths.width;
    LinearAttention *layer = linear_attention_new(D, widths.key_width, widths.value_width,
                                                  SCORE_BILINEAR, "attention", &rng, NULL);
    Mlp *mlp = mlp_new(widths.value_width, widths.hidden_width, widths.value_width, MLP_RELU,
                       "mlp", &rng, NULL);
    if (!layer || !mlp)
        core_fatal("could not create the layer of width %d", D);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    Tensor *x = tape_tensor(&tape, shape3(1, n, D), false);
    init_normal(x, &rng, EMBEDDING_STD);
    mlp_forward(&tape, mlp, linear_attention_forward(&tape, layer, x, NULL));
    unsigned long long count = tape.multiply_adds;

    tape_free(&tape);
    mlp_free(mlp);
    linear_attention_free(layer);
    return count;
}

static void print_cost(const Options *options)
{
    int D = options->width;
    AttentionWidths widths = {.width = D, .key_width = D, .value_width = D, .hidden_width = 4 * D};

    printf("3. Multiply-adds of one layer on one sentence, D = Dk = Dv = %d, big net hidden "
           "width Dh = %d\n"
           "   stage 05, nets on every pair: n^2 * (2D*Dh + Dh*Dv)   representation net\n"
           "                                + n^2 * (2D*Dk + Dk)     scoring net\n"
           "                                + n^2 * Dv               weighted sum\n"
           "   stage 06, bilinear scorer:    n * D * (2*Dk + 2*Dv)   W_Q, W_K, A, B per word\n"
           "                                + n^2 * Dk               scores\n"
           "                                + n^2 * Dv               weighted sum\n"
           "                                + n * 2 * Dv * Dh        MLP per output vector\n"
           "   stage 06, net scorer: the same, with A and B only per word and the scoring net\n"
           "   n^2 * (2D*Dk + Dk) in place of n^2 * Dk.\n\n",
           D, 4 * D);
    printf("   %5s %14s %14s %14s %14s %9s\n", "n", "stage 05", "06 net scorer", "06 bilinear",
           "tape counted", "05 / 06");
    for (size_t i = 0; i < sizeof COST_WORDS / sizeof COST_WORDS[0]; i++) {
        uint64_t n = (uint64_t)COST_WORDS[i];
        AttentionCost pair = cost_of(0, n, widths);
        AttentionCost net = cost_of(1, n, widths);
        AttentionCost bilinear = cost_of(2, n, widths);
        printf("   %5llu %14llu %14llu %14llu %14llu %8.1fx\n", (unsigned long long)n,
               (unsigned long long)pair.total, (unsigned long long)net.total,
               (unsigned long long)bilinear.total, counted_cost((int)n, widths, options->seed),
               (double)pair.total / (double)bilinear.total);
    }
    printf("\n   tape counted: the matrix products of one forward pass of the bilinear layer and\n"
           "   its MLP, counted by the tape as they run.\n"
           "   The big net now runs n times, not n^2 times. What stays quadratic in n is\n"
           "   n^2 * (Dk + Dv): one dot product and one weighted vector per pair.\n\n");

    write_cost_figure(options, widths);
}

/* ------------------------------------------------------------------------- */
/* Training                                                                   */
/* ------------------------------------------------------------------------- */

/* A classifier: word and position vectors, one attention layer, the MLP on every output,
 * the mean over positions and a linear layer to the two classes. */
typedef struct Classifier {
    Tensor *word_table;         /* [V, D] */
    Tensor *position_table;     /* [P, D], P = the task's sentence length */
    LinearAttention *attention; /* D -> D */
    Mlp *mlp;                   /* D -> 4D -> D, applied to each of the n outputs */
    Tensor *out_weight;         /* [2, D] */
    Tensor *out_bias;           /* [2] */
} Classifier;

/* Allocates a learned table [rows, D] drawn from a normal distribution and registers it. */
static Tensor *new_table(int rows, int width, Rng *rng, ParamList *params, const char *name)
{
    Tensor *table = tensor_new(shape2(rows, width), true);
    init_normal(table, rng, EMBEDDING_STD);
    if (!params_add(params, table, name))
        core_fatal("could not register %s", name);
    return table;
}

static Classifier *classifier_new(int vocab_size, int length, int width, ScoreKind kind,
                                  MlpActivation activation, Rng *rng, ParamList *params)
{
    Classifier *model = calloc(1, sizeof *model);
    if (!model)
        core_fatal("out of memory allocating the classifier");
    model->word_table = new_table(vocab_size, width, rng, params, "words");
    model->position_table = new_table(length, width, rng, params, "positions");
    model->attention = linear_attention_new(width, width, width, kind, "attention", rng, params);
    model->mlp = mlp_new(width, 4 * width, width, activation, "mlp", rng, params);
    model->out_weight = tensor_new(shape2(2, width), true);
    model->out_bias = tensor_new(shape1(2), true);
    init_linear_default(model->out_weight, rng);
    init_uniform(model->out_bias, rng, 1.0f / sqrtf((float)width));
    if (!model->attention || !model->mlp || !params_add(params, model->out_weight, "out.weight") ||
        !params_add(params, model->out_bias, "out.bias"))
        core_fatal("could not create the classifier of width %d", width);
    return model;
}

static void classifier_free(Classifier *model)
{
    tensor_free(model->word_table);
    tensor_free(model->position_table);
    linear_attention_free(model->attention);
    mlp_free(model->mlp);
    tensor_free(model->out_weight);
    tensor_free(model->out_bias);
    free(model);
}

/* ids [batch * length] -> x [batch, length, D]: word vector plus position vector. */
static Tensor *classifier_inputs(Tape *tape, const Classifier *model, const int *ids, int batch,
                                 int length)
{
    int count = batch * length;
    int *positions = arena_alloc(&tape->arena, (size_t)count * sizeof *positions);
    for (int i = 0; i < count; i++)
        positions[i] = i % length;
    Tensor *x = op_add(tape, op_embedding(tape, model->word_table, ids, count),
                       op_embedding(tape, model->position_table, positions, count));
    return op_reshape(tape, x, shape3(batch, length, tensor_cols(model->word_table)));
}

/* ids [batch * length] -> logits [batch, 2]. */
static Tensor *classifier_forward(Tape *tape, void *context, const int *ids, int batch, int length)
{
    Classifier *model = context;

    /* 1. Word vector plus position vector: x [B, n, D]. */
    Tensor *x = classifier_inputs(tape, model, ids, batch, length);

    /* 2. Attention, then the MLP on each of the n outputs. */
    Tensor *y = mlp_forward(tape, model->mlp, linear_attention_forward(tape, model->attention, x,
                                                                         NULL));

    /* 3. The mean over positions, then the two class scores. */
    return op_linear(tape, op_mean_positions(tape, y), model->out_weight, model->out_bias);
}

/*
 * Returns how far apart the untrained model's scores of one query are: the
 * standard deviation of each query's n scores, averaged over the queries of
 * one batch. Softmax of scores spread over a fraction of a unit gives
 * almost uniform weights.
 */
static double initial_score_spread(const Classifier *model, const DistanceTask *task,
                                   uint64_t seed)
{
    enum { BATCH = 32 };
    int n = task->length;
    int ids[BATCH * 64], labels[BATCH];
    if (n > 64)
        core_fatal("initial_score_spread: sentences of %d words exceed its buffer of 64", n);
    Rng rng;
    rng_seed(&rng, seed, 30);
    distance_task_sample(task, &rng, BATCH, ids, labels);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    Tensor *scores = linear_attention_scores(&tape, model->attention,
                                             classifier_inputs(&tape, model, ids, BATCH, n));
    double total = 0.0;
    for (int row = 0; row < BATCH * n; row++) {
        const float *s = scores->data + (size_t)row * (size_t)n;
        double mean = 0.0, variance = 0.0;
        for (int k = 0; k < n; k++)
            mean += s[k] / (double)n;
        for (int k = 0; k < n; k++)
            variance += (s[k] - mean) * (s[k] - mean) / (double)n;
        total += sqrt(variance);
    }
    tape_free(&tape);
    return total / (BATCH * n);
}

/* Trains one classifier with the given scorer and seed; returns its held-out accuracy. */
static float train_one(const Options *options, const DistanceTask *task, ScoreKind kind,
                       uint64_t seed, size_t *parameter_count, double *score_spread)
{
    Rng rng;
    rng_seed(&rng, seed, 20);
    ParamList *params = params_new();
    if (!params)
        core_fatal("out of memory allocating a parameter list");
    Classifier *model = classifier_new(task->vocab->size, task->length, options->width, kind,
                                       options->activation, &rng, params);
    *score_spread = initial_score_spread(model, task, seed);

    TrainConfig config = train_default_config();
    config.steps = options->steps;
    config.seed = seed;
    config.label = kind == SCORE_BILINEAR ? "bilinear scorer" : "net scorer";
    ClassifierTask classifier_task = {
        .sample = (TaskSampleFn)distance_task_sample, .task = task, .length = task->length};
    TrainResult result = train_classifier(classifier_forward, model, params, classifier_task,
                                          config);
    fprintf(stderr, "%s: %s, seed %llu: trained in %.1f s, final loss %.3f\n", PROGRAM,
            config.label, (unsigned long long)seed, result.seconds, (double)result.final_loss);

    *parameter_count = params_count_elements(params);
    classifier_free(model);
    params_free(params);
    return result.accuracy;
}

/* Trains one scorer on TRAIN_SEEDS seeds and prints its row of the result table. */
static void train_scorer(const Options *options, const DistanceTask *task, ScoreKind kind)
{
    size_t parameter_count = 0;
    double total = 0.0, spread = 0.0, first_spread = 0.0;
    printf("   %-16s", kind == SCORE_BILINEAR ? "bilinear" : "net");
    fflush(stdout);
    for (int i = 0; i < TRAIN_SEEDS; i++) {
        float accuracy = train_one(options, task, kind, options->seed + (uint64_t)i,
                                   &parameter_count, &spread);
        if (i == 0)
            first_spread = spread;
        printf(" %8.3f", (double)accuracy);
        fflush(stdout);
        total += accuracy;
    }
    printf(" %8.3f %11zu %13.2f\n", total / TRAIN_SEEDS, parameter_count, first_spread);
}

static void print_training(const Options *options)
{
    DistanceTask *task = distance_task_new(TASK_DISTANCE, TASK_GAP, TASK_MARGIN);
    if (!task)
        core_fatal("could not create the distance task");

    printf("4. Training on the distance task (%d words; each subject %d words before its object;\n"
           "   label: do the objects belong to their subjects or are they swapped; chance 0.5)\n"
           "   One layer: word + position vectors, attention, MLP (%s) per vector, mean, linear.\n"
           "   D = %d, %d steps of 32 sentences, Adam lr 3e-3. Held-out accuracy per seed;\n"
           "   score spread: std of one query's scores before training (first seed).\n\n",
           task->length, TASK_DISTANCE, mlp_activation_name(options->activation), options->width,
           options->steps);
    printf("   %-16s", "scorer");
    for (int i = 0; i < TRAIN_SEEDS; i++) {
        char heading[32];
        snprintf(heading, sizeof heading, "seed %llu", (unsigned long long)(options->seed + (uint64_t)i));
        printf(" %8s", heading);
    }
    printf(" %8s %11s %13s\n", "mean", "parameters", "score spread");
    if (options->train_net)
        train_scorer(options, task, SCORE_NET);
    if (options->train_bilinear)
        train_scorer(options, task, SCORE_BILINEAR);
    printf("\n");
    distance_task_free(task);
}

int main(int argc, char **argv)
{
    /* One thread by default: the matrices here are small, and on a 2-core machine shared with
     * other processes 2 threads made the default run several times slower. The printed numbers
     * do not depend on the thread count. */
    Options options = {.seed = 1, .width = 32, .steps = 600, .threads = 1,
                       .train_bilinear = true, .train_net = true, .activation = MLP_RELU,
                       .out_dir = "results/stage06"};
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

    print_identities(&options, &options.sentences);
    print_cost(&options);
    print_training(&options);

    sentence_set_free(&options.sentences);
    return 0;
}
