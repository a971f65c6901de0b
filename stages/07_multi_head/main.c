/*
 * Stage 07 program: checks that one head reproduces stage 06 and that the
 * output width is the sum of the head widths. Then it trains 1, 2 and 4
 * heads of equal total width on the cue task over a few seeds. With --load it
 * measures a saved model instead of training and prints each head's
 * attention weights on the sentences.
 *
 * Run with no arguments for the walk-through; --help lists the options.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "06_linear_projections/attention_view.h"
#include "06_linear_projections/mlp.h"
#include "07_multi_head/multi_head.h"
#include "cli.h"
#include "csv.h"
#include "files.h"
#include "init.h"
#include "program.h"
#include "result_file.h"
#include "tasks.h"
#include "train.h"

static const char *const PROGRAM = "stage07";

/* Sentences for the H = 1 check when no --sentence is given. */
static const char *const DEFAULT_SENTENCES[] = {
    "there was a tree on fire and it was roaring",
    "there was a lion on fire and it was roaring",
};

/*
 * Sentences of the cue task, used with --load when no --sentence is given:
 * "dog" and "wing" left of the cue "owns", "tail" and "bird" right of it,
 * 10 words as in the task. In the first the subject left of the cue owns
 * the object right of it (label 1); the second swaps the objects (label 0).
 */
static const char *const LOADED_SENTENCES[] = {
    "the dog so wing owns a tail bird then it",
    "the dog so tail owns a wing bird then it",
};

/* Maximum words per sentence, far above any example; keeps the n x n weights small. */
#define MAX_WORDS 1024

/* Maximum number of head counts in --heads. */
#define MAX_HEAD_COUNTS 8

/* The cue task trained on: 10 words per sentence, 4 subject-object pairs. */
enum { TASK_LENGTH = 10, TASK_PAIRS = 4 };

/* The options that fix the shapes and names of the parameters a checkpoint holds. */
#define MODEL_OPTIONS "--width, --heads and --output-projection"

/*
 * Standard deviations of the learned word and position vectors at
 * initialisation. The task needs heads that score keys by where they are,
 * and larger position vectors make that easier. With 1.0 for both, every
 * head count trained more slowly in trial runs of this program.
 */
#define WORD_STD 1.0f
#define POSITION_STD 2.0f

/* Option limits and defaults. */
#define MAX_SEEDS 50
#define DEFAULT_SEEDS 4
#define MIN_WIDTH 2
#define MAX_WIDTH 512
#define DEFAULT_WIDTH 16
#define MAX_STEPS 1000000
#define DEFAULT_STEPS 1000
#define DEFAULT_OUT "results/stage07"

/* Runs use seeds N, N+1, ..., so --seed leaves room for this many after it. */
#define EXTRA_SEEDS 64

/* One thread by default: the matrices here are small, and on a 2-core machine shared with
 * other processes 2 threads made the default run several times slower. The printed numbers
 * do not depend on the thread count. */
#define DEFAULT_THREADS 1

/* Command-line settings. */
typedef struct Options {
    int seeds;                        /* training runs per head count */
    int width;                        /* D, the total width shared by the heads */
    int head_counts[MAX_HEAD_COUNTS]; /* H of each training run, from --heads */
    int head_count_total;             /* entries in head_counts */
    bool heads_given;                 /* --heads was given */
    int steps;                        /* training steps per run */
    bool output_projection;           /* follow the concatenation with W_O */
    ProgramOptions common;            /* seed (runs use seed, seed + 1, ...), threads,
                                         out_dir, sentences, save_path, load_path,
                                         checkpoint_every */
} Options;

static void print_usage(void)
{
    printf(
        "Usage: %s [OPTION]...\n"
        "Stage 07: several attention heads side by side, outputs concatenated.\n"
        "Checks that one head is stage 06 and that the output width is the sum of the\n"
        "head widths, then trains each head count on the cue task at equal total width.\n\n"
        "  --seed N              first seed; runs use N, N+1, ... (default 1)\n"
        "  --seeds N             training runs per head count, 1..%d (default %d)\n"
        "  --sentence TEXT       a sentence for the H = 1 check (repeatable; replaces\n"
        "                        the built-in sentences), at most %d words. The\n"
        "                        vocabulary is built from the sentences,\n"
        "                        so no word is unknown.\n"
        "                        With --load each head's attention weights on each\n"
        "                        sentence are printed too: at most %d words, the length\n"
        "                        of the cue task's sentences, and a word outside the\n"
        "                        task's vocabulary is read as %s, with a note on stderr\n"
        "  --sentence-file F     read sentences from F, one per line ('-' = stdin)\n"
        "  --heads LIST          head counts to train, comma-separated, each dividing\n"
        "                        the width (default 1,2,4)\n"
        "  --width D             total width D, %d..%d; each head gets D/H (default %d)\n"
        "  --steps N             training steps per run, 1..%d (default %d)\n"
        "  --output-projection   follow the concatenated heads with W_O [D, D]\n"
        "  --out DIR             directory for stage07_heads.csv and .png, and with --load\n"
        "                        stage07_attention.csv and .png (default %s)\n" PROGRAM_CHECKPOINT_HELP
        "                        --save writes the run of the first --heads value with\n"
        "                        seed SEED. --load needs one --heads value, the saved\n"
        "                        model's (and its --width and --output-projection);\n"
        "                        it skips training (--seeds and --steps do not apply),\n"
        "                        measures the model on the held-out sentences of seed\n"
        "                        SEED and prints each head's weights on the sentences\n"
        "  --threads N           threads for the heavy loops, 1..%d (default %d)\n"
        "  --help                print this help and exit\n",
        PROGRAM, MAX_SEEDS, DEFAULT_SEEDS, MAX_WORDS, (int)TASK_LENGTH, VOCAB_UNKNOWN_WORD,
        MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH, MAX_STEPS, DEFAULT_STEPS, DEFAULT_OUT,
        PROGRAM_MAX_THREADS, DEFAULT_THREADS);
}

/* Parses --heads "1,2,4" into options->head_counts; exits with status 2 on a bad list. */
static void parse_heads(const char *text, Options *options)
{
    char shown[CLI_ABBREVIATION_SIZE];
    cli_abbreviate(text, strlen(text), shown, sizeof shown);
    options->head_count_total = 0;
    const char *item = text;
    for (;;) {
        /* Copy one comma-separated item, so that cli_try_parse_int parses it alone. */
        const char *comma = strchr(item, ',');
        size_t length = comma ? (size_t)(comma - item) : strlen(item);
        char copy[32];
        if (length >= sizeof copy || options->head_count_total == MAX_HEAD_COUNTS)
            cli_usage_error(PROGRAM,
                            "invalid value '%s' for --heads: expected at most %d "
                            "comma-separated head counts from 1 to %d",
                            shown, MAX_HEAD_COUNTS, MAX_WIDTH);
        memcpy(copy, item, length);
        copy[length] = '\0';

        char error[512];
        int heads;
        if (!cli_try_parse_int("--heads", copy, 1, MAX_WIDTH, &heads, error, sizeof error))
            cli_usage_error(PROGRAM, "%s (in the list '%s')", error, shown);
        options->head_counts[options->head_count_total++] = heads;
        if (!comma)
            return;
        item = comma + 1;
    }
}

enum { OPT_SEEDS = PROGRAM_OWN_OPTION, OPT_HEADS, OPT_WIDTH, OPT_STEPS, OPT_OUTPUT_PROJECTION };

/* Reads one of the options of this program (ProgramOptionFn). */
static void handle_option(int option, const char *value, void *context)
{
    Options *options = context;
    switch (option) {
    case OPT_SEEDS:
        options->seeds = cli_parse_int(PROGRAM, "--seeds", value, 1, MAX_SEEDS);
        break;
    case OPT_HEADS:
        parse_heads(value, options);
        options->heads_given = true;
        break;
    case OPT_WIDTH:
        options->width = cli_parse_int(PROGRAM, "--width", value, MIN_WIDTH, MAX_WIDTH);
        break;
    case OPT_STEPS:
        options->steps = cli_parse_int(PROGRAM, "--steps", value, 1, MAX_STEPS);
        break;
    case OPT_OUTPUT_PROJECTION:
        options->output_projection = true;
        break;
    }
}

/* Sets the defaults, then reads argv; exits on --help and on any invalid option. */
static void parse_options(int argc, char **argv, Options *options)
{
    static const struct option own_options[] = {
        {"seeds", required_argument, NULL, OPT_SEEDS},
        {"heads", required_argument, NULL, OPT_HEADS},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"steps", required_argument, NULL, OPT_STEPS},
        {"output-projection", no_argument, NULL, OPT_OUTPUT_PROJECTION},
        {NULL, 0, NULL, 0},
    };
    *options = (Options){.seeds = DEFAULT_SEEDS,
                         .width = DEFAULT_WIDTH,
                         .head_counts = {1, 2, 4},
                         .head_count_total = 3,
                         .steps = DEFAULT_STEPS};
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
                        .extra_seeds = EXTRA_SEEDS,
                        .max_words = MAX_WORDS,
                        .max_words_reason = "the check keeps n x n attention weights"};
    program_parse_options(&spec, argc, argv, &options->common);

    /* Each head gets D/H, so every head count must divide the width. */
    for (int i = 0; i < options->head_count_total; i++)
        if (options->width % options->head_counts[i] != 0)
            cli_usage_error(PROGRAM,
                            "head count %d (from --heads, default 1,2,4) does not divide the "
                            "width %d (from --width); choose head counts that divide the width",
                            options->head_counts[i], options->width);

    /* --load fills one model, so it needs the one head count of the saved model. */
    if (options->common.load_path && options->head_count_total > 1)
        cli_usage_error(PROGRAM,
                        "--load reads one model, but --heads lists %d head counts%s; give the "
                        "saved model's head count as one --heads value, such as --heads 2",
                        options->head_count_total,
                        options->heads_given ? "" : " (the default 1,2,4)");

    /* The built-in sentences depend on --load, so they are added after every option is read. */
    SentenceSet *sentences = &options->common.sentences;
    if (sentences->count == 0 && options->common.load_path)
        attention_view_add_sentences(PROGRAM, sentences, LOADED_SENTENCES,
                                     sizeof LOADED_SENTENCES / sizeof LOADED_SENTENCES[0]);
    else if (sentences->count == 0)
        attention_view_add_sentences(PROGRAM, sentences, DEFAULT_SENTENCES,
                                     sizeof DEFAULT_SENTENCES / sizeof DEFAULT_SENTENCES[0]);
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
    rng_seed(&rng, options->common.seed, 10);
    int D = options->width;
    LinearAttention *layer = linear_attention_new(D, D, D, SCORE_BILINEAR, "attention", &rng, NULL);
    MultiHeadAttention *one =
        multi_head_new(D, 1, D, D, SCORE_BILINEAR, false, "multi", &rng, NULL);
    if (!layer || !one)
        core_fatal("could not create the attention layers of width %d", D);
    copy_head(one->head[0], layer);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    printf("1. H = 1 is stage 06: one head with the weights of a stage 06 layer\n"
           "   (D = Dk = Dv = %d, no output projection) gives the same outputs.\n\n",
           D);
    for (size_t i = 0; i < sentences->count; i++) {
        tape_reset(&tape);
        Tensor *x = sentence_vectors(&tape, table, sentences, i);
        Tensor *expected = linear_attention_forward(&tape, layer, x, NULL);
        Tensor *actual = multi_head_forward(&tape, one, x, NULL);
        double largest = 0.0;
        for (size_t j = 0; j < actual->size; j++)
            largest = fmax(largest, fabs((double)actual->data[j] - (double)expected->data[j]));
        int n = sentence_length(sentences, i);
        printf("   sentence %zu: %d word%s; max |multi-head - stage 06| = %g\n", i + 1, n,
               cli_plural_suffix(n), largest);
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
    Tensor *y =
        multi_head_forward(&tape, layer, sentence_vectors(&tape, table, sentences, 0), NULL);
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
    rng_seed(&rng, options->common.seed, 11);
    int D = options->width;

    printf("2. Output width = sum of head widths. The stage splits D = %d evenly, Dk = Dv = D/H,\n"
           "   so the concatenation is D wide whatever H. The last row has 3 heads of width 5.\n"
           "   The output projection W_O maps the concatenation back to D. Shapes are read\n"
           "   off the forward pass on sentence 1.\n\n",
           D);
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
    Tensor *word_table;            /* [V, D] */
    Tensor *position_table;        /* [P, D], P = the task's sentence length */
    MultiHeadAttention *attention; /* H heads of width D/H, concatenated: D -> D */
    Mlp *mlp;                      /* D -> 4D -> D, applied to each of the n outputs */
    Tensor *out_weight;            /* [2, D] */
    Tensor *out_bias;              /* [2] */
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

static Classifier *classifier_new(const Options *options, const CueTask *task, int heads, Rng *rng,
                                  ParamList *params)
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

/*
 * ids [batch * length] -> logits [batch, 2]. When @p weights_out is not NULL,
 * weights_out[h] receives head h's weights [batch, length, length], owned by
 * the tape, so it must have room for one pointer per head.
 */
static Tensor *classifier_run(Tape *tape, const Classifier *model, const int *ids, int batch,
                              int length, Tensor **weights_out)
{
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
    Tensor *y =
        mlp_forward(tape, model->mlp, multi_head_forward(tape, model->attention, x, weights_out));

    /* 3. The mean over positions, then the two class scores. */
    return op_linear(tape, op_mean_positions(tape, y), model->out_weight, model->out_bias);
}

/* classifier_run without the weights, with the signature of train.h's ClassifierForwardFn. */
static Tensor *classifier_forward(Tape *tape, void *context, const int *ids, int batch, int length)
{
    return classifier_run(tape, context, ids, batch, length, NULL);
}

/* Builds the classifier that a run with `heads` heads and this seed starts from. Its
 * parameters go into the new list *params, which the caller frees with params_free. */
static Classifier *new_run_model(const Options *options, const CueTask *task, int heads,
                                 uint64_t seed, ParamList **params)
{
    Rng rng;
    rng_seed(&rng, seed, 20);
    *params = params_new();
    if (!*params)
        core_fatal("out of memory allocating a parameter list");
    return classifier_new(options, task, heads, &rng, *params);
}

/* Returns the training settings of the run with `heads` heads and this seed. With --save,
 * the run of the first head count with seed --seed writes the checkpoint. */
static TrainConfig run_config(const Options *options, int heads, uint64_t seed, const char *label)
{
    TrainConfig config = train_default_config();
    config.steps = options->steps;
    config.seed = seed;
    config.label = label;
    if (heads == options->head_counts[0] && seed == options->common.seed)
        program_configure_checkpoint(&options->common, &config);
    return config;
}

/* Returns the cue task as train.h's ClassifierTask. */
static ClassifierTask classifier_task(const CueTask *task)
{
    return (ClassifierTask){
        .sample = (TaskSampleFn)cue_task_sample, .task = task, .length = task->length};
}

/* Trains one classifier with `heads` heads; returns its held-out accuracy and stores its
 * number of parameters in *parameter_count. */
static float train_one(const Options *options, const CueTask *task, int heads, uint64_t seed,
                       size_t *parameter_count)
{
    ParamList *params;
    Classifier *model = new_run_model(options, task, heads, seed, &params);

    char label[64];
    snprintf(label, sizeof label, "%d head%s, seed %llu", heads, cli_plural_suffix(heads),
             (unsigned long long)seed);
    TrainConfig config = run_config(options, heads, seed, label);
    TrainResult result =
        train_classifier(classifier_forward, model, params, classifier_task(task), config);
    train_exit_on_failure(PROGRAM, &result);
    fprintf(stderr, "%s: %s: trained in %.1f s, final loss %.3f\n", PROGRAM, label, result.seconds,
            (double)result.final_loss);
    *parameter_count = params_count_elements(params);

    classifier_free(model);
    params_free(params);
    return result.accuracy;
}

/* Builds the cue task trained on; stops the program when memory runs out. */
static CueTask *new_task(void)
{
    CueTask *task = cue_task_new(TASK_LENGTH, TASK_PAIRS);
    if (!task)
        core_fatal("could not create the cue task");
    return task;
}

static void print_training(const Options *options)
{
    CueTask *task = new_task();
    ResultCsv csv;
    result_csv_open(&csv, PROGRAM, options->common.out_dir, "stage07_heads",
                    "heads,head_width,seed,accuracy");

    printf("3. Training on the cue task (%d words, %d subject-object pairs; label: does the\n"
           "   subject left of \"owns\" own the object right of it; chance 0.5).\n"
           "   One layer: word + position vectors, H heads of width D/H concatenated%s,\n"
           "   MLP per vector, mean, linear. D = %d, %d step%s of 32 sentences, Adam lr 3e-3.\n"
           "   Held-out accuracy:\n\n",
           task->length, task->pairs, options->output_projection ? ", W_O" : "", options->width,
           options->steps, cli_plural_suffix(options->steps));
    printf("   %5s %10s", "heads", "head width");
    for (int s = 0; s < options->seeds; s++) {
        char heading[32];
        snprintf(heading, sizeof heading, "seed %llu",
                 (unsigned long long)options->common.seed + (unsigned)s);
        printf(" %8s", heading);
    }
    printf(" %8s %11s\n", "mean", "parameters");

    for (int i = 0; i < options->head_count_total; i++) {
        int heads = options->head_counts[i];
        double total = 0.0;
        size_t parameter_count = 0;
        printf("   %5d %10d", heads, options->width / heads);
        files_flush_stdout();
        for (int s = 0; s < options->seeds; s++) {
            uint64_t seed = options->common.seed + (uint64_t)s;
            float accuracy = train_one(options, task, heads, seed, &parameter_count);
            total += accuracy;
            printf(" %8.3f", (double)accuracy);
            files_flush_stdout();
            if (csv.writer)
                csv_row(csv.writer, "%d,%d,%llu,%.4f", heads, options->width / heads,
                        (unsigned long long)seed, (double)accuracy);
        }
        printf(" %8.3f %11zu\n", total / options->seeds, parameter_count);
    }
    printf("\n");

    result_csv_close(&csv, "stage07_heads.gp");
    cue_task_free(task);
}

/* ------------------------------------------------------------------------- */
/* A loaded model                                                             */
/* ------------------------------------------------------------------------- */

/* The model --load read, the task it was trained on, and the sentences in its vocabulary. */
typedef struct LoadedModel {
    CueTask *task;
    int heads;         /* the one --heads value */
    ParamList *params; /* the model's parameters; owned */
    Classifier *model;
    int **ids; /* [sentence count] each sentence's ids in the task's vocabulary; owned */
    size_t sentence_count;
} LoadedModel;

/*
 * Reads --load into a model with the one --heads value and encodes the
 * sentences with the task's vocabulary. Exits with status 2 before any
 * output when a sentence is longer than the model's positions or the file
 * does not fit the model.
 */
static LoadedModel load_model(const Options *options, const SentenceSet *sentences)
{
    LoadedModel loaded = {.task = new_task(), .heads = options->head_counts[0]};
    attention_view_check_lengths(PROGRAM, sentences, loaded.task->length, "the cue task");
    loaded.model =
        new_run_model(options, loaded.task, loaded.heads, options->common.seed, &loaded.params);
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
    cue_task_free(loaded->task);
}

/* Prints the held-out accuracy of the loaded model; with --save, writes it again unchanged. */
static void print_loaded_accuracy(const Options *options, const LoadedModel *loaded)
{
    char label[64];
    snprintf(label, sizeof label, "%d heads, loaded", loaded->heads);
    TrainConfig config = run_config(options, loaded->heads, options->common.seed, label);
    config.steps = 0;
    TrainResult result = train_classifier(classifier_forward, loaded->model, loaded->params,
                                          classifier_task(loaded->task), config);
    train_exit_on_failure(PROGRAM, &result);

    printf("3. The loaded model on the cue task (%d words, %d subject-object pairs; label: does\n"
           "   the subject left of \"owns\" own the object right of it; chance 0.5).\n"
           "   No training ran: the parameters come from %s.\n"
           "   One layer: word + position vectors, H heads of width D/H concatenated%s,\n"
           "   MLP per vector, mean, linear. D = %d. Held-out accuracy on the %d sentences\n"
           "   that the run with seed %llu is measured on:\n\n",
           loaded->task->length, loaded->task->pairs, options->common.load_path,
           options->output_projection ? ", W_O" : "", options->width,
           config.eval_batches * config.batch, (unsigned long long)options->common.seed);
    char heading[32];
    snprintf(heading, sizeof heading, "seed %llu", (unsigned long long)options->common.seed);
    printf("   %5s %10s %8s %11s\n", "heads", "head width", heading, "parameters");
    printf("   %5d %10d %8.3f %11zu\n\n", loaded->heads, options->width / loaded->heads,
           (double)result.accuracy, params_count_elements(loaded->params));
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
    printf("4. Attention weights of the loaded model from %s (no training ran).\n"
           "   Per head, row: a query word; columns: its weights over the key words, summing\n"
           "   to 1. The model knows these %d words; any other word is read as %s:\n",
           options->common.load_path, loaded->task->vocab->size - 1, VOCAB_UNKNOWN_WORD);
    attention_view_print_vocabulary(loaded->task->vocab);

    AttentionModel view = {.run = classifier_run_sentence,
                           .model = loaded->model,
                           .heads = loaded->heads,
                           .label_meaning =
                               "the subject left of \"owns\" owns the object right of it"};
    attention_view_show_sentences(PROGRAM, options->common.out_dir, "stage07_attention", sentences,
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

    /* Random word vectors for the two checks; training learns its own. */
    Rng rng;
    rng_seed(&rng, options.common.seed, 9);
    Tensor *table = tensor_new(shape2(sentences->vocab->size, options.width), false);
    init_normal(table, &rng, WORD_STD);
    print_one_head(&options, sentences, table);
    print_widths(&options, sentences, table);
    tensor_free(table);

    if (options.common.load_path)
        print_loaded(&options, &loaded, sentences);
    else
        print_training(&options);

    loaded_model_free(&loaded);
    program_options_free(&options.common);
    return result_exit_status();
}
