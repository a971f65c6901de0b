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

#include "06_linear_projections/linear_attention.h"
#include "06_linear_projections/mlp.h"
#include "cli.h"
#include "csv.h"
#include "files.h"
#include "init.h"
#include "plot.h"
#include "tasks.h"
#include "train.h"
#include "vocab.h"

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
    int threads;                 /* 0 keeps the OpenMP default */
    bool train_bilinear;         /* train the bilinear scorer */
    bool train_net;              /* train the net scorer */
    MlpActivation activation;    /* the MLP's non-linearity */
    const char *out_dir;         /* where the CSV and figure go */
    LineList sentences;          /* from --sentence and --sentence-file, in order */
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
           "  --threads N         threads for the heavy loops, 1..1024 (default: OpenMP's)\n"
           "  --help              print this help and exit\n",
           PROGRAM);
}

/* Appends a sentence given on the command line; exits when memory runs out. */
static void add_sentence(LineList *sentences, const char *text)
{
    char *copy = strdup(text);
    size_t capacity = sentences->count + 1;
    char **lines = realloc(sentences->lines, capacity * sizeof *lines);
    size_t *lengths = lines ? realloc(sentences->lengths, capacity * sizeof *lengths) : NULL;
    if (lines)
        sentences->lines = lines;
    if (!copy || !lines || !lengths) {
        fprintf(stderr, "%s: out of memory reading --sentence\n", PROGRAM);
        exit(1);
    }
    sentences->lengths = lengths;
    sentences->capacity = capacity;
    sentences->lines[sentences->count] = copy;
    sentences->lengths[sentences->count] = strlen(copy);
    sentences->count++;
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
            if (!cli_read_lines(optarg, &options->sentences, error, sizeof error))
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

/* The sentences as word ids of one vocabulary built from them. */
typedef struct Corpus {
    Vocab *vocab;         /* every word of every sentence */
    int **ids;            /* [count][lengths[i]] word ids */
    int *lengths;         /* [count] words per sentence */
    size_t count;         /* number of sentences */
} Corpus;

static void corpus_free(Corpus *corpus)
{
    for (size_t i = 0; i < corpus->count; i++)
        free(corpus->ids[i]);
    free(corpus->ids);
    free(corpus->lengths);
    vocab_free(corpus->vocab);
}

/* Tokenizes sentence `index`, adds its words to the vocabulary and stores its ids; exits with
 * status 2 on an empty or too long sentence. */
static void corpus_add(Corpus *corpus, const LineList *sentences, size_t index, TokenList *tokens)
{
    char error[256];
    token_list_clear(tokens);
    if (!tokenize(sentences->lines[index], sentences->lengths[index], tokens, error, sizeof error))
        cli_usage_error(PROGRAM, "invalid sentence %zu: %s", index + 1, error);
    if (tokens->count == 0)
        cli_usage_error(PROGRAM, "invalid sentence %zu: it is empty", index + 1);
    if (tokens->count > MAX_WORDS)
        cli_usage_error(PROGRAM, "invalid sentence %zu: %zu words, more than the maximum of %d",
                        index + 1, tokens->count, MAX_WORDS);

    int *ids = malloc(tokens->count * sizeof *ids);
    if (!ids) {
        fprintf(stderr, "%s: out of memory storing sentence %zu\n", PROGRAM, index + 1);
        exit(1);
    }
    for (size_t t = 0; t < tokens->count; t++) {
        ids[t] = vocab_add(corpus->vocab, token_list_get(tokens, t));
        if (ids[t] < 0) {
            fprintf(stderr, "%s: out of memory building the vocabulary\n", PROGRAM);
            exit(1);
        }
    }
    corpus->ids[index] = ids;
    corpus->lengths[index] = (int)tokens->count;
}

/* Builds the corpus of all sentences; exits on invalid input (2) or exhausted memory (1). */
static void corpus_build(Corpus *corpus, const LineList *sentences)
{
    corpus->vocab = vocab_new();
    corpus->ids = calloc(sentences->count, sizeof *corpus->ids);
    corpus->lengths = calloc(sentences->count, sizeof *corpus->lengths);
    corpus->count = sentences->count;
    if (!corpus->vocab || !corpus->ids || !corpus->lengths) {
        fprintf(stderr, "%s: out of memory reading the sentences\n", PROGRAM);
        exit(1);
    }

    TokenList tokens;
    token_list_init(&tokens);
    for (size_t i = 0; i < sentences->count; i++)
        corpus_add(corpus, sentences, i, &tokens);
    token_list_free(&tokens);
}

/* Returns sentence i as vectors [1, n, D]: rows of a random embedding table. */
static Tensor *sentence_vectors(Tape *tape, Tensor *table, const Corpus *corpus, size_t i)
{
    int n = corpus->lengths[i];
    Tensor *x = op_embedding(tape, table, corpus->ids[i], n);
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
static void print_identities(const Options *options, const Corpus *corpus)
{
    Rng rng;
    rng_seed(&rng, options->seed, 10);
    int D = options->width;
    Tensor *table = tensor_new(shape2(corpus->vocab->size, D), false);
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
    for (size_t i = 0; i < corpus->count; i++) {
        tape_reset(&tape);
        Tensor *x = sentence_vectors(&tape, table, corpus, i);
        double diff = max_difference(linear_attention_forward_pairs(&tape, layer, x),
                                     linear_attention_forward(&tape, layer, x, NULL));
        int n = corpus->lengths[i];
        printf("   sentence %zu: %d words, %d pair vectors vs %d values; max |left - right| = "
               "%.2e\n", i + 1, n, n * n, n, diff);
    }

    printf("\n2. Bilinear score: x_q^T (W_Q^T W_K) x_k = (W_Q x_q) . (W_K x_k)\n"
           "   Left: the D x D matrix W = W_Q^T W_K applied to every pair. Right: each word\n"
           "   projected once to W_Q x and W_K x (Dk = %d numbers each), then one dot product\n"
           "   per pair. W has rank at most Dk.\n\n",
           D);
    for (size_t i = 0; i < corpus->count; i++) {
        tape_reset(&tape);
        Tensor *x = sentence_vectors(&tape, table, corpus, i);
        double diff = max_difference(linear_attention_scores_full(&tape, layer, x),
                                     linear_attention_scores(&tape, layer, x));
        printf("   sentence %zu: %d x %d scores; max |x^T W x - (W_Q x).(W_K x)| = %.2e\n", i + 1,
               corpus->lengths[i], corpus->lengths[i], diff);
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
    printf("   %5s %16s %16s %16s %10s\n", "n", "stage 05", "06 net scorer", "06 bilinear",
           "05 / 06");
    for (size_t i = 0; i < sizeof COST_WORDS / sizeof COST_WORDS[0]; i++) {
        uint64_t n = (uint64_t)COST_WORDS[i];
        AttentionCost pair = cost_of(0, n, widths);
        AttentionCost net = cost_of(1, n, widths);
        AttentionCost bilinear = cost_of(2, n, widths);
        printf("   %5llu %16llu %16llu %16llu %9.1fx\n", (unsigned long long)n,
               (unsigned long long)pair.total, (unsigned long long)net.total,
               (unsigned long long)bilinear.total, (double)pair.total / (double)bilinear.total);
    }
    printf("\n   The big net now runs n times, not n^2 times. What stays quadratic in n is\n"
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

    /* 2. Attention, then the MLP on each of the n outputs. */
    Tensor *y = mlp_forward(tape, model->mlp, linear_attention_forward(tape, model->attention, x,
                                                                         NULL));

    /* 3. The mean over positions, then the two class scores. */
    return op_linear(tape, op_mean_positions(tape, y), model->out_weight, model->out_bias);
}

/* Trains one classifier with the given scorer and seed; returns its held-out accuracy. */
static float train_one(const Options *options, const DistanceTask *task, ScoreKind kind,
                       uint64_t seed, size_t *parameter_count)
{
    Rng rng;
    rng_seed(&rng, seed, 20);
    ParamList *params = params_new();
    if (!params)
        core_fatal("out of memory allocating a parameter list");
    Classifier *model = classifier_new(task->vocab->size, task->length, options->width, kind,
                                       options->activation, &rng, params);

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
    double total = 0.0;
    printf("   %-16s", kind == SCORE_BILINEAR ? "bilinear" : "net");
    fflush(stdout);
    for (int i = 0; i < TRAIN_SEEDS; i++) {
        float accuracy = train_one(options, task, kind, options->seed + (uint64_t)i,
                                   &parameter_count);
        printf(" %8.3f", (double)accuracy);
        fflush(stdout);
        total += accuracy;
    }
    printf(" %8.3f %11zu\n", total / TRAIN_SEEDS, parameter_count);
}

static void print_training(const Options *options)
{
    DistanceTask *task = distance_task_new(TASK_DISTANCE, TASK_GAP, TASK_MARGIN);
    if (!task)
        core_fatal("could not create the distance task");

    printf("4. Training on the distance task (%d words; each subject %d words before its object;\n"
           "   label: do the objects belong to their subjects or are they swapped; chance 0.5)\n"
           "   One layer: word + position vectors, attention, MLP (%s) per vector, mean, linear.\n"
           "   D = %d, %d steps of 32 sentences, Adam lr 3e-3. Held-out accuracy per seed:\n\n",
           task->length, TASK_DISTANCE, mlp_activation_name(options->activation), options->width,
           options->steps);
    printf("   %-16s", "scorer");
    for (int i = 0; i < TRAIN_SEEDS; i++) {
        char heading[32];
        snprintf(heading, sizeof heading, "seed %llu", (unsigned long long)(options->seed + (uint64_t)i));
        printf(" %8s", heading);
    }
    printf(" %8s %11s\n", "mean", "parameters");
    if (options->train_net)
        train_scorer(options, task, SCORE_NET);
    if (options->train_bilinear)
        train_scorer(options, task, SCORE_BILINEAR);
    printf("\n");
    distance_task_free(task);
}

int main(int argc, char **argv)
{
    Options options = {.seed = 1, .width = 32, .steps = 600, .threads = 0,
                       .train_bilinear = true, .train_net = true, .activation = MLP_RELU,
                       .out_dir = "results/stage06"};
    line_list_init(&options.sentences);
    parse_options(argc, argv, &options);
    if (options.threads > 0)
        core_set_threads(options.threads);
    if (options.sentences.count == 0)
        for (size_t i = 0; i < sizeof DEFAULT_SENTENCES / sizeof DEFAULT_SENTENCES[0]; i++)
            add_sentence(&options.sentences, DEFAULT_SENTENCES[i]);

    Corpus corpus;
    corpus_build(&corpus, &options.sentences);
    for (size_t i = 0; i < corpus.count; i++)
        printf("sentence %zu: %s\n", i + 1, options.sentences.lines[i]);
    printf("\n");

    print_identities(&options, &corpus);
    print_cost(&options);
    print_training(&options);

    corpus_free(&corpus);
    line_list_free(&options.sentences);
    return 0;
}
