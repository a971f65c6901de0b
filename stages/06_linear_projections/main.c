/*
 * Stage 06 program: prints the two identities behind the linear attention
 * layer, counts its multiply-adds against stage 05's design, and trains it
 * with both scorers on the distance task. With --load it measures a saved
 * model instead of training and prints its attention weights on the
 * sentences.
 *
 * Run with no arguments for the walk-through; --help lists the options.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "06_linear_projections/attention_view.h"
#include "06_linear_projections/linear_attention.h"
#include "06_linear_projections/mlp.h"
#include "cli.h"
#include "csv.h"
#include "files.h"
#include "init.h"
#include "program.h"
#include "result_file.h"
#include "tasks.h"
#include "train.h"

static const char *const PROGRAM = "stage06";

/* The sentences of the stage 05 example, used when no --sentence is given. */
static const char *const DEFAULT_SENTENCES[] = {
    "there was a tree on fire and it was roaring",
    "there was a lion on fire and it was roaring",
};

/*
 * Sentences of the distance task, used with --load when no --sentence is
 * given: "dog" 3 words before "tail" and "bird" 3 words before "wing", laid
 * out as the task lays out its 14 words. In the first each object belongs
 * to the subject before it (label 1); the second swaps the objects (label 0).
 */
static const char *const LOADED_SENTENCES[] = {
    "the dog was so tail and then it was bird a fast wing again",
    "the dog was so wing and then it was bird a fast tail again",
};

/* Maximum words per sentence, because the long-way check builds n*n pair vectors of width D. */
#define MAX_WORDS 256

/* Sentence lengths of the cost table. */
static const int COST_WORDS[] = {4, 16, 64, 256};

/* The distance task trained on: subject and object 3 words apart, 4 filler words between
 * the two spans, 2 more shared out at the ends (14 words per sentence). */
enum { TASK_DISTANCE = 3, TASK_GAP = 4, TASK_MARGIN = 2 };
enum { TASK_LENGTH = 2 * (TASK_DISTANCE + 1) + TASK_GAP + TASK_MARGIN };

/* Training runs per scorer, with seeds seed, seed + 1, ... */
#define TRAIN_SEEDS 3

/* The options that fix the shapes and names of the parameters a checkpoint holds. */
#define MODEL_OPTIONS "--width, --scorer and --activation"

/* Standard deviation of the learned word and position vectors at initialisation. */
#define EMBEDDING_STD 1.0f

/* Option limits and defaults. */
#define MIN_WIDTH 2
#define MAX_WIDTH 512
#define DEFAULT_WIDTH 32
#define MAX_STEPS 1000000
#define DEFAULT_STEPS 600
#define DEFAULT_OUT "results/stage06"

/* One thread by default: the matrices here are small, and on a 2-core machine shared with
 * other processes 2 threads made the default run several times slower. The printed numbers
 * do not depend on the thread count. */
#define DEFAULT_THREADS 1

/* Command-line settings. */
typedef struct Options {
    int width;                /* D, also Dk and Dv; the MLP's hidden width is 4*D */
    int steps;                /* training steps per scorer */
    bool train_bilinear;      /* train the bilinear scorer */
    bool train_net;           /* train the net scorer */
    MlpActivation activation; /* the MLP's non-linearity */
    ProgramOptions common;    /* seed (weights, data and training), threads, out_dir,
                                 sentences, save_path, load_path, checkpoint_every */
} Options;

static void print_usage(void)
{
    printf(
        "Usage: %s [OPTION]...\n"
        "Stage 06: linear pair representations, bilinear scores and a per-vector MLP.\n"
        "Prints both identities of the stage, the multiply-add counts against stage 05,\n"
        "and the accuracy of both scorers on the distance task.\n\n"
        "  --seed N              seed of weights, data and training (default 1)\n"
        "  --sentence TEXT       a sentence for the identity checks (repeatable; replaces\n"
        "                        the built-in sentences), at most %d words. The vocabulary\n"
        "                        is built from the sentences, so no word is unknown.\n"
        "                        With --load the loaded model's attention weights on each\n"
        "                        sentence are printed too: at most %d words, the length of\n"
        "                        the distance task's sentences, and a word outside the\n"
        "                        task's vocabulary is read as %s, with a note on stderr\n"
        "  --sentence-file F     read sentences from F, one per line ('-' = stdin)\n"
        "  --width D             vector width D = Dk = Dv, %d..%d (default %d)\n"
        "  --steps N             training steps per scorer, 1..%d (default %d)\n"
        "  --scorer KIND         bilinear, net or both (default both)\n"
        "  --activation NAME     the MLP's non-linearity, relu or gelu (default relu)\n"
        "  --out DIR             directory for stage06_cost.csv and .png, and with --load\n"
        "                        stage06_attention.csv and .png (default %s)\n" PROGRAM_CHECKPOINT_HELP
        "                        --save writes the run of --scorer (bilinear for both)\n"
        "                        with seed SEED. --load reads such a file into that\n"
        "                        scorer's model (same --width, --scorer, --activation),\n"
        "                        skips training, measures the model on the held-out\n"
        "                        sentences of seed SEED and prints its weights on the\n"
        "                        sentences\n"
        "  --threads N           threads for the heavy loops, 1..%d (default %d)\n"
        "  --help                print this help and exit\n",
        PROGRAM, MAX_WORDS, (int)TASK_LENGTH, VOCAB_UNKNOWN_WORD, MIN_WIDTH, MAX_WIDTH,
        DEFAULT_WIDTH, MAX_STEPS, DEFAULT_STEPS, DEFAULT_OUT, PROGRAM_MAX_THREADS, DEFAULT_THREADS);
}

/* Sets which scorers to train from --scorer; exits with status 2 on an unknown value. */
static void parse_scorer(const char *value, Options *options)
{
    options->train_bilinear = strcmp(value, "bilinear") == 0 || strcmp(value, "both") == 0;
    options->train_net = strcmp(value, "net") == 0 || strcmp(value, "both") == 0;
    char shown[CLI_ABBREVIATION_SIZE];
    if (!options->train_bilinear && !options->train_net)
        cli_usage_error(PROGRAM, "invalid value '%s' for --scorer: expected bilinear, net or both",
                        cli_abbreviate(value, strlen(value), shown, sizeof shown));
}

enum { OPT_WIDTH = PROGRAM_OWN_OPTION, OPT_STEPS, OPT_SCORER, OPT_ACTIVATION };

/* Reads one of the options of this program (ProgramOptionFn). */
static void handle_option(int option, const char *value, void *context)
{
    Options *options = context;
    char shown[CLI_ABBREVIATION_SIZE];
    switch (option) {
    case OPT_WIDTH:
        options->width = cli_parse_int(PROGRAM, "--width", value, MIN_WIDTH, MAX_WIDTH);
        break;
    case OPT_STEPS:
        options->steps = cli_parse_int(PROGRAM, "--steps", value, 1, MAX_STEPS);
        break;
    case OPT_SCORER:
        parse_scorer(value, options);
        break;
    case OPT_ACTIVATION:
        if (!mlp_activation_from_name(value, &options->activation))
            cli_usage_error(PROGRAM,
                            "invalid value '%s' for --activation: expected relu or "
                            "gelu",
                            cli_abbreviate(value, strlen(value), shown, sizeof shown));
        break;
    }
}

/* Sets the defaults, then reads argv; exits on --help and on any invalid option. */
static void parse_options(int argc, char **argv, Options *options)
{
    static const struct option own_options[] = {
        {"width", required_argument, NULL, OPT_WIDTH},
        {"steps", required_argument, NULL, OPT_STEPS},
        {"scorer", required_argument, NULL, OPT_SCORER},
        {"activation", required_argument, NULL, OPT_ACTIVATION},
        {NULL, 0, NULL, 0},
    };
    *options = (Options){.width = DEFAULT_WIDTH,
                         .steps = DEFAULT_STEPS,
                         .train_bilinear = true,
                         .train_net = true,
                         .activation = MLP_RELU};
    ProgramSpec spec = {.name = PROGRAM,
                        .print_usage = print_usage,
                        .own_options = own_options,
                        .handle_option = handle_option,
                        .context = options,
                        .takes_sentences = true,
                        .takes_out = true,
                        .takes_checkpoint = true,
                        .default_out = DEFAULT_OUT,
                        .default_threads = DEFAULT_THREADS,
                        .max_words = MAX_WORDS,
                        .max_words_reason = "the identity check builds n*n pair vectors"};
    program_parse_options(&spec, argc, argv, &options->common);

    /* The built-in sentences depend on --load, so they are added after every option is read. */
    SentenceSet *sentences = &options->common.sentences;
    if (sentences->count == 0 && options->common.load_path)
        attention_view_add_sentences(PROGRAM, sentences, LOADED_SENTENCES,
                                     sizeof LOADED_SENTENCES / sizeof LOADED_SENTENCES[0]);
    else if (sentences->count == 0)
        attention_view_add_sentences(PROGRAM, sentences, DEFAULT_SENTENCES,
                                     sizeof DEFAULT_SENTENCES / sizeof DEFAULT_SENTENCES[0]);
}

/* Returns the scorer whose run --save writes and whose model --load fills. */
static ScoreKind checkpoint_scorer(const Options *options)
{
    return options->train_bilinear ? SCORE_BILINEAR : SCORE_NET;
}

/* Returns the name of a scorer as --scorer spells it. */
static const char *scorer_name(ScoreKind kind)
{
    return kind == SCORE_BILINEAR ? "bilinear" : "net";
}

/* ------------------------------------------------------------------------- */
/* Sentences                                                                  */
/* ------------------------------------------------------------------------- */

/* Gives the sentences their ids; exits with status 1 when memory runs out. */
static void encode_sentences(SentenceSet *sentences)
{
    char error[512];
    if (!sentence_set_encode(sentences, error, sizeof error)) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
        exit(1);
    }
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
    rng_seed(&rng, options->common.seed, 10);
    int D = options->width;
    Tensor *table = tensor_new(shape2(sentences->vocab->size, D), false);
    init_normal(table, &rng, EMBEDDING_STD);
    LinearAttention *layer = linear_attention_new(D, D, D, SCORE_BILINEAR, "attention", &rng, NULL);
    if (!layer)
        core_fatal("could not create the attention layer of width %d", D);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    printf("1. Linear representation: the query's own term comes out of the sum\n"
           "   r_qk = A x_q + B x_k, weights a_qk summing to 1 over k, so\n"
           "   sum_k a_qk (A x_q + B x_k) = A x_q + sum_k a_qk B x_k.\n"
           "   Left: all n*n pair vectors combined as in stage 05. Right: n values only.\n"
           "   Random word vectors and weights, D = Dk = Dv = %d.\n\n",
           D);
    for (size_t i = 0; i < sentences->count; i++) {
        tape_reset(&tape);
        Tensor *x = sentence_vectors(&tape, table, sentences, i);
        double diff = max_difference(linear_attention_forward_pairs(&tape, layer, x),
                                     linear_attention_forward(&tape, layer, x, NULL));
        int n = sentence_length(sentences, i);
        printf("   sentence %zu: %d word%s, %d pair vector%s vs %d value%s; max |left - right| = "
               "%.2e\n",
               i + 1, n, cli_plural_suffix(n), n * n, cli_plural_suffix(n * n), n,
               cli_plural_suffix(n), diff);
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
    ResultCsv csv;
    if (!result_csv_open(&csv, PROGRAM, options->common.out_dir, "stage06_cost",
                         "words,pair_nets,linear_net_scorer,linear_bilinear"))
        return;

    /* n = 2, 3, 4, 6, 8, 12, ... 256: powers of 2 and 1.5 times them. */
    for (uint64_t n = 2; n <= 256; n = (n & (n - 1)) == 0 ? n + n / 2 : n / 3 * 4) {
        csv_row(csv.writer, "%llu,%llu,%llu,%llu", (unsigned long long)n,
                (unsigned long long)cost_of(0, n, widths).total,
                (unsigned long long)cost_of(1, n, widths).total,
                (unsigned long long)cost_of(2, n, widths).total);
    }
    result_csv_close(&csv, "stage06_cost.gp");
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
    Mlp *mlp = mlp_new(widths.value_width, widths.hidden_width, widths.value_width, MLP_RELU, "mlp",
                       &rng, NULL);
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
               (unsigned long long)bilinear.total,
               counted_cost((int)n, widths, options->common.seed),
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

    /* The MLP's parameter names carry its activation ("mlp_relu.hidden_weight"). A checkpoint
     * stores names and shapes but no settings, so this is what keeps --load from reading a
     * ReLU model's weights into a GELU model. */
    char mlp_name[16];
    snprintf(mlp_name, sizeof mlp_name, "mlp_%s", mlp_activation_name(activation));
    model->mlp = mlp_new(width, 4 * width, width, activation, mlp_name, rng, params);
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

/*
 * ids [batch * length] -> logits [batch, 2]. When @p weights_out is not NULL
 * it receives the attention weights [batch, length, length] (owned by the tape).
 */
static Tensor *classifier_run(Tape *tape, const Classifier *model, const int *ids, int batch,
                              int length, Tensor **weights_out)
{
    /* 1. Word vector plus position vector: x [B, n, D]. */
    Tensor *x = classifier_inputs(tape, model, ids, batch, length);

    /* 2. Attention, then the MLP on each of the n outputs. */
    Tensor *y = mlp_forward(tape, model->mlp,
                            linear_attention_forward(tape, model->attention, x, weights_out));

    /* 3. The mean over positions, then the two class scores. */
    return op_linear(tape, op_mean_positions(tape, y), model->out_weight, model->out_bias);
}

/* classifier_run without the weights, with the signature of train.h's ClassifierForwardFn. */
static Tensor *classifier_forward(Tape *tape, void *context, const int *ids, int batch, int length)
{
    return classifier_run(tape, context, ids, batch, length, NULL);
}

/*
 * Returns how far apart the untrained model's scores of one query are: the
 * standard deviation of each query's n scores, averaged over the queries of
 * one batch. Softmax of scores spread over a fraction of a unit gives
 * almost uniform weights.
 */
static double initial_score_spread(const Classifier *model, const DistanceTask *task, uint64_t seed)
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

/* Builds the classifier that a run with this scorer and seed starts from. Its parameters go
 * into the new list *params, which the caller frees with params_free. */
static Classifier *new_run_model(const Options *options, const DistanceTask *task, ScoreKind kind,
                                 uint64_t seed, ParamList **params)
{
    Rng rng;
    rng_seed(&rng, seed, 20);
    *params = params_new();
    if (!*params)
        core_fatal("out of memory allocating a parameter list");
    return classifier_new(task->vocab->size, task->length, options->width, kind,
                          options->activation, &rng, *params);
}

/* Returns the training settings of the run with this scorer and seed. With --save, the run
 * of checkpoint_scorer with seed --seed writes the checkpoint. */
static TrainConfig run_config(const Options *options, ScoreKind kind, uint64_t seed)
{
    TrainConfig config = train_default_config();
    config.steps = options->steps;
    config.seed = seed;
    config.label = kind == SCORE_BILINEAR ? "bilinear scorer" : "net scorer";
    if (kind == checkpoint_scorer(options) && seed == options->common.seed)
        program_configure_checkpoint(&options->common, &config);
    return config;
}

/* Returns the distance task as train.h's ClassifierTask. */
static ClassifierTask classifier_task(const DistanceTask *task)
{
    return (ClassifierTask){
        .sample = (TaskSampleFn)distance_task_sample, .task = task, .length = task->length};
}

/* Trains one classifier with the given scorer and seed; returns its held-out accuracy. */
static float train_one(const Options *options, const DistanceTask *task, ScoreKind kind,
                       uint64_t seed, size_t *parameter_count, double *score_spread)
{
    ParamList *params;
    Classifier *model = new_run_model(options, task, kind, seed, &params);
    *score_spread = initial_score_spread(model, task, seed);

    TrainConfig config = run_config(options, kind, seed);
    TrainResult result =
        train_classifier(classifier_forward, model, params, classifier_task(task), config);
    train_exit_on_failure(PROGRAM, &result);
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
    files_flush_stdout();
    for (int i = 0; i < TRAIN_SEEDS; i++) {
        float accuracy = train_one(options, task, kind, options->common.seed + (uint64_t)i,
                                   &parameter_count, &spread);
        if (i == 0)
            first_spread = spread;
        printf(" %8.3f", (double)accuracy);
        files_flush_stdout();
        total += accuracy;
    }
    printf(" %8.3f %11zu %13.2f\n", total / TRAIN_SEEDS, parameter_count, first_spread);
}

/* Builds the distance task trained on; stops the program when memory runs out. */
static DistanceTask *new_task(void)
{
    DistanceTask *task = distance_task_new(TASK_DISTANCE, TASK_GAP, TASK_MARGIN);
    if (!task)
        core_fatal("could not create the distance task");
    return task;
}

static void print_training(const Options *options)
{
    DistanceTask *task = new_task();

    printf("4. Training on the distance task (%d words; each subject %d words before its object;\n"
           "   label: do the objects belong to their subjects or are they swapped; chance 0.5)\n"
           "   One layer: word + position vectors, attention, MLP (%s) per vector, mean, linear.\n"
           "   D = %d, %d step%s of 32 sentences, Adam lr 3e-3. Held-out accuracy per seed;\n"
           "   score spread: std of one query's scores before training (first seed).\n\n",
           task->length, TASK_DISTANCE, mlp_activation_name(options->activation), options->width,
           options->steps, cli_plural_suffix(options->steps));
    printf("   %-16s", "scorer");
    for (int i = 0; i < TRAIN_SEEDS; i++) {
        char heading[32];
        snprintf(heading, sizeof heading, "seed %llu",
                 (unsigned long long)(options->common.seed + (uint64_t)i));
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

/* ------------------------------------------------------------------------- */
/* A loaded model                                                             */
/* ------------------------------------------------------------------------- */

/* The model --load read, the task it was trained on, and the sentences in its vocabulary. */
typedef struct LoadedModel {
    DistanceTask *task;
    ScoreKind kind;    /* checkpoint_scorer */
    ParamList *params; /* the model's parameters; owned */
    Classifier *model;
    int **ids; /* [sentence count] each sentence's ids in the task's vocabulary; owned */
    size_t sentence_count;
} LoadedModel;

/*
 * Reads --load into the model of checkpoint_scorer and encodes the
 * sentences with the task's vocabulary. Exits with status 2 before any
 * output when a sentence is longer than the model's positions or the file
 * does not fit the model.
 */
static LoadedModel load_model(const Options *options, const SentenceSet *sentences)
{
    LoadedModel loaded = {.task = new_task(), .kind = checkpoint_scorer(options)};
    attention_view_check_lengths(PROGRAM, sentences, loaded.task->length, "the distance task");
    loaded.model =
        new_run_model(options, loaded.task, loaded.kind, options->common.seed, &loaded.params);
    program_load_checkpoint(PROGRAM, &options->common, loaded.params, MODEL_OPTIONS);

    loaded.sentence_count = sentences->count;
    loaded.ids = attention_view_encode_all(PROGRAM, sentences, loaded.task->vocab);
    return loaded;
}

static void loaded_model_free(LoadedModel *loaded)
{
    attention_view_free_ids(loaded->ids, loaded->sentence_count);
    if (loaded->model)
        classifier_free(loaded->model);
    params_free(loaded->params);
    distance_task_free(loaded->task);
}

/* Prints the held-out accuracy of the loaded model; with --save, writes it again unchanged. */
static void print_loaded_accuracy(const Options *options, const LoadedModel *loaded)
{
    TrainConfig config = run_config(options, loaded->kind, options->common.seed);
    config.steps = 0;
    TrainResult result = train_classifier(classifier_forward, loaded->model, loaded->params,
                                          classifier_task(loaded->task), config);
    train_exit_on_failure(PROGRAM, &result);

    printf("4. The loaded model on the distance task (%d words; each subject %d words before its\n"
           "   object; label: do the objects belong to their subjects or are they swapped;\n"
           "   chance 0.5). No training ran: the parameters come from %s.\n"
           "   One layer: word + position vectors, attention (%s scorer), MLP (%s) per vector,\n"
           "   mean, linear. D = %d. Held-out accuracy on the %d sentences that the run with\n"
           "   seed %llu is measured on:\n\n",
           loaded->task->length, TASK_DISTANCE, options->common.load_path,
           scorer_name(loaded->kind), mlp_activation_name(options->activation), options->width,
           config.eval_batches * config.batch, (unsigned long long)options->common.seed);
    char heading[32];
    snprintf(heading, sizeof heading, "seed %llu", (unsigned long long)options->common.seed);
    printf("   %-16s %8s %11s\n", "scorer", heading, "parameters");
    printf("   %-16s %8.3f %11zu\n\n", scorer_name(loaded->kind), (double)result.accuracy,
           params_count_elements(loaded->params));
}

/* classifier_run on one sentence, with the signature of attention_view.h's AttentionRunFn. */
static Tensor *classifier_run_sentence(Tape *tape, const void *model, const int *ids, int length,
                                       Tensor **weights)
{
    return classifier_run(tape, model, ids, 1, length, weights);
}

/* Prints the loaded model's accuracy and its weights on every sentence; writes the figure. */
static void print_loaded(const Options *options, const LoadedModel *loaded,
                         const SentenceSet *sentences)
{
    print_loaded_accuracy(options, loaded);
    printf("5. Attention weights of the loaded model from %s (no training ran).\n"
           "   Row: a query word; columns: its weights over the key words, summing to 1.\n"
           "   The model knows these %d words; any other word is read as %s:\n",
           options->common.load_path, loaded->task->vocab->size - 1, VOCAB_UNKNOWN_WORD);
    attention_view_print_vocabulary(loaded->task->vocab);

    AttentionModel view = {.run = classifier_run_sentence,
                           .model = loaded->model,
                           .heads = 1,
                           .label_meaning = "each object belongs to the subject before it"};
    attention_view_show_sentences(PROGRAM, options->common.out_dir, "stage06_attention", sentences,
                                  loaded->ids, &view);
}

int main(int argc, char **argv)
{
    Options options;
    parse_options(argc, argv, &options);
    SentenceSet *sentences = &options.common.sentences;

    LoadedModel loaded = {0};
    if (options.common.load_path)
        loaded = load_model(&options, sentences);
    encode_sentences(sentences);
    for (size_t i = 0; i < sentences->count; i++)
        printf("sentence %zu: %s\n", i + 1, sentences->items[i].text);
    printf("\n");

    print_identities(&options, sentences);
    print_cost(&options);
    if (options.common.load_path)
        print_loaded(&options, &loaded, sentences);
    else
        print_training(&options);

    loaded_model_free(&loaded);
    program_options_free(&options.common);
    return result_exit_status();
}
