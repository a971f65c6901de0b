/*
 * Stage 03 program: the position encoding, in six sections.
 *
 *   1. The input vectors [one-hot(word) ; one-hot(position)] of a sentence.
 *   2. Word order: stage 02 and stage 03 side by side on the same weights,
 *      each sentence against its last two words swapped.
 *   3. The identity: one-hot positions times a weight matrix are learned
 *      position vectors added to the words' vectors.
 *   4. The identity: stage 03 with its position weights set to zero is
 *      exactly stage 02 (last, because it overwrites those weights).
 *   5. A short training on the word order task, stage 02 against stage 03.
 *      --save writes that stage 03 model, and --load replaces its training.
 *   6. The vector count n^(2^L), unchanged from stage 02.
 *
 * A sentence longer than P words, or one the size guard rejects, stops the
 * program with exit status 2 before any model exists. stdout carries only
 * results, the same bytes for the same options; progress goes to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "02_pairwise_convolution/pairwise.h"
#include "03_position_encoding/positions.h"
#include "cli.h"
#include "program.h"
#include "tasks.h"
#include "train.h"

#define PROGRAM "stage03"

#define DEFAULT_SENTENCE "the fat cat"
#define DEFAULT_LAYERS 2
#define DEFAULT_WIDTH 8
#define DEFAULT_STEPS 300
#define MAX_POSITIONS 4096
#define MAX_WIDTH 4096
#define MAX_STEPS 1000000

/* The options that fix the shapes of the stage 03 model a checkpoint holds. */
#define MODEL_OPTIONS "--positions, --layers and --width"

/* The prediction has two outputs, one per class of the word order task. */
#define CLASSES 2

/* Input vectors are printed digit by digit only up to this width V + P. */
#define MAX_PRINTED_INPUT 48

/* Everything the command line sets. */
typedef struct Options {
    int layers;            /* L */
    int width;             /* D */
    int positions;         /* P */
    int steps;             /* training steps of section 5; 0 skips it */
    ProgramOptions common; /* seed, threads (0 keeps OpenMP's default), sentences */
} Options;

/* ------------------------------------------------------------------------- */
/* Options                                                                    */
/* ------------------------------------------------------------------------- */

static void print_usage(void)
{
    printf(
        "Usage: %s [OPTION]...\n"
        "Walk through the position encoding: each input vector becomes\n"
        "[one-hot(word) ; one-hot(position)], so the pairwise model of stage 02 tells\n"
        "\"the fat cat\" from \"the cat fat\", while its vector count still explodes.\n"
        "\n"
        "  --sentence TEXT       sentence for sections 1 to 4, repeatable; replaces\n"
        "                        \"%s\". The vocabulary is built from the sentences,\n"
        "                        so no word is unknown.\n"
        "  --sentence-file FILE  read sentences from FILE, one per line ('-' = stdin)\n"
        "  --positions N         number of positions P, 1..%d (default %d); a sentence\n"
        "                        of more than P words is rejected\n"
        "  --layers N            pairwise layers L, 1..%d (default %d)\n"
        "  --width N             width D of every pair net's output, 1..%d (default %d)\n"
        "  --steps N             training steps on the word order task, 0..%d\n"
        "                        (default %d; 0 skips the training)\n"
        "  --seed N              seed of the weights and the training (default 1)\n"
        "  --threads N           threads for the heavy loops, 1..%d (default: OpenMP's)\n" PROGRAM_CHECKPOINT_HELP
        "                        --save writes the stage 03 model that section 5 trains;\n"
        "                        --load skips its training and measures the loaded model\n"
        "                        on the held-out sentences of --seed, while stage 02\n"
        "                        still trains for --steps steps. Both need --positions %d\n"
        "                        or more.\n"
        "  --help                print this help and exit\n"
        "\n"
        "A sentence whose layers need more than %zu vectors or %zu bytes is\n"
        "rejected with exit status 2 before anything is allocated.\n",
        PROGRAM, DEFAULT_SENTENCE, MAX_POSITIONS, POSITIONS_DEFAULT, PAIRWISE_MAX_LAYERS,
        DEFAULT_LAYERS, MAX_WIDTH, DEFAULT_WIDTH, MAX_STEPS, DEFAULT_STEPS, PROGRAM_MAX_THREADS,
        ORDER_TASK_LENGTH, PAIRWISE_MAX_VECTORS, PAIRWISE_MAX_BYTES);
}

enum { OPT_POSITIONS = PROGRAM_OWN_OPTION, OPT_LAYERS, OPT_WIDTH, OPT_STEPS };

/* Reads one of the options of this program (ProgramOptionFn). */
static void handle_option(int option, const char *value, void *context)
{
    Options *options = context;
    switch (option) {
    case OPT_POSITIONS:
        options->positions = cli_parse_int(PROGRAM, "--positions", value, 1, MAX_POSITIONS);
        break;
    case OPT_LAYERS:
        options->layers = cli_parse_int(PROGRAM, "--layers", value, 1, PAIRWISE_MAX_LAYERS);
        break;
    case OPT_WIDTH:
        options->width = cli_parse_int(PROGRAM, "--width", value, 1, MAX_WIDTH);
        break;
    case OPT_STEPS:
        options->steps = cli_parse_int(PROGRAM, "--steps", value, 0, MAX_STEPS);
        break;
    }
}

/* Section 5 trains the model that --save writes and --load replaces, so both need it to run. */
static void check_checkpoint_options(const Options *options)
{
    const ProgramOptions *common = &options->common;
    const char *option = common->load_path ? "--load" : "--save";
    if ((common->save_path || common->load_path) && options->positions < ORDER_TASK_LENGTH)
        cli_usage_error(PROGRAM,
                        "invalid value '%d' for --positions: %s needs %d positions or more, "
                        "because the word order task of section 5 has %d-word sentences",
                        options->positions, option, ORDER_TASK_LENGTH, ORDER_TASK_LENGTH);
    if (common->save_path && !common->load_path && options->steps == 0)
        cli_usage_error(PROGRAM,
                        "invalid value '0' for --steps: --save writes the stage 03 model that "
                        "section 5 trains, so give --steps 1 or more (or --load a model to save)");
}

/* Sets the defaults, then reads argv; exits on --help and on any invalid option. */
static void parse_options(int argc, char **argv, Options *options)
{
    static const struct option own_options[] = {
        {"positions", required_argument, NULL, OPT_POSITIONS},
        {"layers", required_argument, NULL, OPT_LAYERS},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"steps", required_argument, NULL, OPT_STEPS},
        {NULL, 0, NULL, 0},
    };
    static const char *const default_sentences[] = {DEFAULT_SENTENCE};
    *options = (Options){.layers = DEFAULT_LAYERS,
                         .width = DEFAULT_WIDTH,
                         .positions = POSITIONS_DEFAULT,
                         .steps = DEFAULT_STEPS};

    /* No word limit here, because --positions may follow --sentence: check_sentences
     * applies P and the size guard once every option is read. */
    ProgramSpec spec = {.name = PROGRAM,
                        .print_usage = print_usage,
                        .own_options = own_options,
                        .handle_option = handle_option,
                        .context = options,
                        .takes_sentences = true,
                        .takes_checkpoint = true,
                        PROGRAM_DEFAULT_SENTENCES(default_sentences)};
    program_parse_options(&spec, argc, argv, &options->common);
    check_checkpoint_options(options);
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

/* Exits with an out-of-memory message naming @p description when @p pointer is NULL. */
static void check_allocated(const void *pointer, const char *description)
{
    if (!pointer) {
        fprintf(stderr, "%s: out of memory allocating %s\n", PROGRAM, description);
        exit(1);
    }
}

/*
 * Checks every sentence against the position cutoff and the size guard
 * before any model exists. The first sentence rejected stops the program
 * with its reason and exit status 2.
 */
static void check_sentences(const Options *options, int vocab_size)
{
    for (size_t i = 0; i < options->common.sentences.count; i++) {
        const Sentence *sentence = &options->common.sentences.items[i];
        size_t n = sentence->words.count;
        PairwiseRequest request = {.batch = 1,
                                   .words = n,
                                   .layers = options->layers,
                                   .input_width = vocab_size + options->positions,
                                   .width = options->width};
        if (n > MAX_POSITIONS)
            program_reject_sentence(PROGRAM, &options->common.sentences, i,
                                    "the sentence has %zu words, more than the %d positions that "
                                    "--positions allows at most; shorten the sentence to %d words",
                                    n, MAX_POSITIONS, MAX_POSITIONS);
        char error[1024];
        if (!positions_check_length(n, options->positions, error, sizeof error) ||
            !pairwise_check_size(&request, NULL, error, sizeof error))
            program_reject_sentence(PROGRAM, &options->common.sentences, i, "%s", error);
    }
}

/* The models of sections 2 to 4: stage 03, and stage 02 with its word weights. */
typedef struct Models {
    PositionModel *positions; /* stage 03 */
    PairwiseModel *words;     /* stage 02: the same weights without the position columns */
} Models;

/* Runs stage 03 on one sentence of ids [n] and copies its output [C] into out. */
static void position_output(PositionModel *model, const int *ids, int n, float *out)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *logits = position_model_forward(&tape, model, ids, 1, n);
    memcpy(out, logits->data, CLASSES * sizeof(float));
    tape_free(&tape);
}

/* Runs stage 02 on one sentence of ids [n] and copies its output [C] into out. */
static void word_output(const PairwiseModel *model, const int *ids, int n, float *out)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *x = pairwise_onehot_words(&tape, ids, 1, n, model->config.input_width);
    Tensor *logits = pairwise_model_forward(&tape, model, x);
    memcpy(out, logits->data, CLASSES * sizeof(float));
    tape_free(&tape);
}

/* A sentence and the same words with the last two swapped; ids and text are owned. */
typedef struct SentencePair {
    const Sentence *sentence;
    int *swapped_ids; /* [n] */
    char *swapped_text;
    int length; /* n */
} SentencePair;

/* Fills @p pair for @p sentence; returns false for a sentence of one word. */
static bool make_pair(const Sentence *sentence, SentencePair *pair)
{
    size_t n = sentence->words.count;
    pair->sentence = sentence;
    pair->length = (int)n;
    pair->swapped_ids = NULL;
    pair->swapped_text = NULL;
    if (n < 2)
        return false;
    pair->swapped_ids = malloc(n * sizeof *pair->swapped_ids);
    check_allocated(pair->swapped_ids, "a reordered sentence");
    pair->swapped_text = sentence_swap_words(sentence, n - 2, n - 1, pair->swapped_ids);
    check_allocated(pair->swapped_text, "a reordered sentence");
    return true;
}

/* Frees what make_pair allocated. */
static void free_pair(SentencePair *pair)
{
    free(pair->swapped_ids);
    free(pair->swapped_text);
}

/* ------------------------------------------------------------------------- */
/* Section 1: the input vectors                                               */
/* ------------------------------------------------------------------------- */

static void section_inputs(const Options *options, const SentenceSet *sentences)
{
    int vocab_size = sentences->vocab->size;
    printf("== 1. Input vectors: [one-hot(word) ; one-hot(position)], V = %d word columns and "
           "P = %d position columns\n\n",
           vocab_size, options->positions);
    const Sentence *sentence = &sentences->items[0];
    printf("sentence \"%s\"\n", sentence->text);
    for (size_t t = 0; t < sentence->words.count; t++) {
        printf("  %-12s word %3d, position %3zu", token_list_get(&sentence->words, t),
               sentence->ids[t], t);
        if (vocab_size + options->positions <= MAX_PRINTED_INPUT) {
            printf("  ");
            for (int c = 0; c < vocab_size; c++)
                printf("%d", c == sentence->ids[t]);
            printf(" | ");
            for (int c = 0; c < options->positions; c++)
                printf("%d", (size_t)c == t);
        }
        printf("\n");
    }
    printf("\n");
}

/* ------------------------------------------------------------------------- */
/* Sections 2 and 4: word order, and zero position weights                    */
/* ------------------------------------------------------------------------- */

/* Prints the outputs of both models on a sentence and its reordering. */
static void order_pair(const Models *models, const SentencePair *pair)
{
    float words_a[CLASSES], words_b[CLASSES], positions_a[CLASSES], positions_b[CLASSES];
    word_output(models->words, pair->sentence->ids, pair->length, words_a);
    word_output(models->words, pair->swapped_ids, pair->length, words_b);
    position_output(models->positions, pair->sentence->ids, pair->length, positions_a);
    position_output(models->positions, pair->swapped_ids, pair->length, positions_b);

    printf("  %-24s stage 02 ", pair->sentence->text);
    print_vector(words_a, CLASSES);
    printf("   stage 03 ");
    print_vector(positions_a, CLASSES);
    printf("\n  %-24s stage 02 ", pair->swapped_text);
    print_vector(words_b, CLASSES);
    printf("   stage 03 ");
    print_vector(positions_b, CLASSES);
    printf("\n  %-24s stage 02 %-26.3g stage 03 %.3g\n\n", "max difference",
           max_difference(words_a, words_b, CLASSES),
           max_difference(positions_a, positions_b, CLASSES));
}

static void section_order(const Models *models, const SentenceSet *sentences)
{
    printf("== 2. Word order: each sentence against its last two words swapped\n\n");
    printf("Both models share their weights: stage 02 has stage 03's first-layer weights with\n"
           "the position columns removed, and every other weight is the same.\n\n");
    for (size_t i = 0; i < sentences->count; i++) {
        SentencePair pair;
        if (make_pair(&sentences->items[i], &pair))
            order_pair(models, &pair);
        else
            printf("  \"%s\": one word, nothing to reorder\n\n", sentences->items[i].text);
        free_pair(&pair);
    }
}

/* Returns the largest output difference of the zeroed model and stage 02 on ids [n]. */
static double zeroed_difference(PositionModel *zeroed, const PairwiseModel *words, const int *ids,
                                int n)
{
    float with_positions[CLASSES], without[CLASSES];
    position_output(zeroed, ids, n, with_positions);
    word_output(words, ids, n, without);
    return max_difference(with_positions, without, CLASSES);
}

static void section_zero_identity(const Models *models, const SentenceSet *sentences)
{
    printf("== 4. Stage 03 with its position weights set to zero is stage 02\n\n");
    positions_zero_position_weights(models->positions);
    double largest = 0.0;
    for (size_t i = 0; i < sentences->count; i++) {
        SentencePair pair;
        bool reordered = make_pair(&sentences->items[i], &pair);
        double diff =
            zeroed_difference(models->positions, models->words, pair.sentence->ids, pair.length);
        printf("  %-24s max difference %g\n", pair.sentence->text, diff);
        largest = fmax(largest, diff);
        if (reordered) {
            diff =
                zeroed_difference(models->positions, models->words, pair.swapped_ids, pair.length);
            printf("  %-24s max difference %g\n", pair.swapped_text, diff);
            largest = fmax(largest, diff);
        }
        free_pair(&pair);
    }
    printf("  identity %s: the zeroed columns add exact zeros to every sum\n\n",
           largest == 0.0 ? "holds exactly" : "FAILS");
}

/* ------------------------------------------------------------------------- */
/* Section 3: one-hot positions are added position vectors                    */
/* ------------------------------------------------------------------------- */

/* Returns the query (offset 0) or key (offset V+P) block of layer 1's weight, [D, V+P]. */
static Tensor *weight_block(const PositionModel *model, int offset)
{
    const Tensor *weight = model->pairwise->nets[0]->weight;
    int rows = weight->shape.dim[0];
    int half = model->vocab_size + model->positions;
    Tensor *block = tensor_new(shape2(rows, half), false);
    for (int d = 0; d < rows; d++)
        memcpy(block->data + (size_t)d * (size_t)half,
               weight->data + (size_t)d * (size_t)(2 * half) + offset,
               (size_t)half * sizeof(float));
    return block;
}

/* Compares the one-hot form and the lookup form of one weight block on sentence ids [n]. */
static double position_vector_difference(const PositionModel *model, int offset, const int *ids,
                                         int n)
{
    Tensor *word_table, *position_table;
    positions_split_weight(model, offset, &word_table, &position_table);
    Tensor *block = weight_block(model, offset);
    int half = model->vocab_size + model->positions;

    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *x = positions_encode(&tape, ids, 1, n, model->vocab_size, model->positions);
    Tensor *onehot_form = op_linear(&tape, op_reshape(&tape, x, shape2(n, half)), block, NULL);
    Tensor *lookup_form = positions_embed(&tape, word_table, position_table, ids, n);
    double diff = max_difference(onehot_form->data, lookup_form->data, onehot_form->size);

    tape_free(&tape);
    tensor_free(block);
    tensor_free(word_table);
    tensor_free(position_table);
    return diff;
}

static void section_position_vectors(const PositionModel *model, const SentenceSet *sentences)
{
    printf("== 3. One-hot positions times a weight matrix = a position vector added to the "
           "word's vector\n\n");
    printf(
        "Layer 1 multiplies [word ; position] by a [D, V+P] block of its weight (one for the\n"
        "query, one for the key). Its first V columns are a word table, its last P columns a\n"
        "table of learned position vectors: W [one-hot(w) ; one-hot(p)] = word(w) + position(p).\n\n");
    int half = model->vocab_size + model->positions;
    for (size_t i = 0; i < sentences->count; i++) {
        const Sentence *sentence = &sentences->items[i];
        int n = (int)sentence->words.count;
        printf("  %-24s max difference: query block %g, key block %g\n", sentence->text,
               position_vector_difference(model, 0, sentence->ids, n),
               position_vector_difference(model, half, sentence->ids, n));
    }
    printf("\n");
}

/* ------------------------------------------------------------------------- */
/* Section 5: training on the word order task                                 */
/* ------------------------------------------------------------------------- */

/* The stage 02 classifier: one-hot words into the pairwise model (ClassifierForwardFn). */
static Tensor *word_model_forward(Tape *tape, void *model, const int *ids, int batch, int length)
{
    const PairwiseModel *words = model;
    Tensor *x = pairwise_onehot_words(tape, ids, batch, length, words->config.input_width);
    return pairwise_model_forward(tape, words, x);
}

/* Draws word order sentences (TaskSampleFn). */
static void sample_order_task(const void *task, Rng *rng, int batch, int *ids, int *labels)
{
    order_task_sample(task, rng, batch, ids, labels);
}

/* Section 5's stage 03 model: the one --save writes and --load reads. */
typedef struct OrderModel {
    OrderTask *task;      /* the word order task; NULL when section 5 does not run */
    PositionModel *model; /* stage 03 with input width V + P of the task's vocabulary */
    ParamList *params;    /* the model's tensors, in the order a checkpoint stores them */
    bool loaded;          /* the parameters come from --load, so training is skipped */
} OrderModel;

/* Returns whether section 5 runs: it needs the 3 positions of the task and steps or --load. */
static bool order_section_runs(const Options *options)
{
    return options->positions >= ORDER_TASK_LENGTH &&
           (options->steps > 0 || options->common.load_path != NULL);
}

/*
 * Builds the task and the stage 03 model of section 5, and reads --load into
 * it. Runs before any output, so a checkpoint that does not fit stops the
 * program with exit status 2 before anything is printed. Leaves @p order
 * empty when section 5 does not run.
 */
static void order_model_init(const Options *options, OrderModel *order)
{
    *order = (OrderModel){0};
    if (!order_section_runs(options))
        return;
    order->task = order_task_new();
    check_allocated(order->task, "the word order task");
    order->params = params_new();
    check_allocated(order->params, "a parameter list");

    Rng rng;
    rng_seed(&rng, options->common.seed, 4);
    PairwiseConfig config = {.input_width = order->task->vocab->size,
                             .width = options->width,
                             .layers = options->layers,
                             .classes = CLASSES};
    order->model = position_model_new(order->task->vocab->size, options->positions, &config, &rng,
                                      order->params);
    check_allocated(order->model, "the stage 03 model");
    order->loaded =
        program_load_checkpoint(PROGRAM, &options->common, order->params, MODEL_OPTIONS);
}

static void order_model_free(OrderModel *order)
{
    position_model_free(order->model);
    params_free(order->params);
    order_task_free(order->task);
}

/* Returns the training settings of section 5, the same for both models but the label. */
static TrainConfig order_train_config(const Options *options, const char *label)
{
    TrainConfig train = train_default_config();
    train.steps = options->steps;
    train.seed = options->common.seed;
    train.label = label;
    return train;
}

/* Returns the word order task in the form train_classifier reads. */
static ClassifierTask order_classifier_task(const OrderTask *task)
{
    return (ClassifierTask){.sample = sample_order_task, .task = task, .length = ORDER_TASK_LENGTH};
}

/* Trains a fresh stage 02 model on the task and returns its result. */
static TrainResult train_words(const Options *options, const OrderTask *task)
{
    Rng rng;
    rng_seed(&rng, options->common.seed, 4);
    ParamList *params = params_new();
    check_allocated(params, "a parameter list");
    PairwiseConfig config = {.input_width = task->vocab->size,
                             .width = options->width,
                             .layers = options->layers,
                             .classes = CLASSES};
    PairwiseModel *model = pairwise_model_new(&config, &rng, params);
    check_allocated(model, "the stage 02 model");

    TrainResult result =
        train_classifier(word_model_forward, model, params, order_classifier_task(task),
                         order_train_config(options, "stage 02"));
    train_exit_on_failure(PROGRAM, &result);
    pairwise_model_free(model);
    params_free(params);
    return result;
}

/*
 * Trains the stage 03 model, or with --load measures it without training,
 * and saves it for --save. Zero steps with --save write the loaded weights
 * unchanged, so saving a loaded model gives the same file.
 */
static TrainResult train_positions(const Options *options, OrderModel *order)
{
    TrainConfig train = order_train_config(options, "stage 03");
    if (order->loaded)
        train.steps = 0;
    program_configure_checkpoint(&options->common, &train);
    TrainResult result = train_classifier(position_model_forward, order->model, order->params,
                                          order_classifier_task(order->task), train);
    train_exit_on_failure(PROGRAM, &result);
    return result;
}

static void print_order_task(const Options *options, const OrderModel *order)
{
    TrainConfig train = train_default_config();
    printf("Sentences \"the ADJECTIVE NOUN\" (label 1) and \"the NOUN ADJECTIVE\" (label 0), from\n"
           "%d adjectives and %d nouns. Both labels use the same words, so only word order\n",
           ORDER_TASK_WORDS, ORDER_TASK_WORDS);
    if (!order->loaded) {
        printf("tells them apart. Adam, %d step%s of %d sentences, accuracy on %d held-out "
               "batches.\n\n",
               options->steps, cli_plural_suffix(options->steps), train.batch, train.eval_batches);
        return;
    }
    printf("tells them apart. No training of stage 03: its parameters are loaded from\n"
           "%s.",
           options->common.load_path);
    if (options->steps > 0)
        printf(" Stage 02 trains with Adam, %d step%s of %d sentences.\n", options->steps,
               cli_plural_suffix(options->steps), train.batch);
    else
        printf(" Stage 02 is not trained (--steps 0).\n");
    printf("Accuracy on %d held-out batches.\n\n", train.eval_batches);
}

static void section_training(const Options *options, OrderModel *order)
{
    printf("== 5. Training on the word order task\n\n");
    if (!order->task) {
        printf("  skipped: %s\n\n",
               options->steps == 0 ? "--steps 0" : "the task needs at least 3 positions");
        return;
    }
    print_order_task(options, order);

    TrainResult words = {.seconds = 0.0};
    if (options->steps > 0) {
        words = train_words(options, order->task);
        printf("  stage 02 (no positions)    final loss %.4f   held-out accuracy %.3f\n",
               (double)words.final_loss, (double)words.accuracy);
    } else {
        printf("  stage 02 (no positions)    not trained: --steps 0\n");
    }
    TrainResult positions = train_positions(options, order);
    if (order->loaded)
        printf("  stage 03 (with positions)  loaded, no training  held-out accuracy %.3f\n",
               (double)positions.accuracy);
    else
        printf("  stage 03 (with positions)  final loss %.4f   held-out accuracy %.3f\n",
               (double)positions.final_loss, (double)positions.accuracy);
    printf("  chance is 0.5: stage 02 gives both orders of the same words the same output\n\n");
    if (order->loaded && options->steps > 0)
        fprintf(stderr, "%s: training took %.2f s (stage 02)\n", PROGRAM, words.seconds);
    else if (!order->loaded)
        fprintf(stderr, "%s: training took %.2f s (stage 02) and %.2f s (stage 03)\n", PROGRAM,
                words.seconds, positions.seconds);
}

/* ------------------------------------------------------------------------- */
/* Section 6: the vector count is unchanged                                   */
/* ------------------------------------------------------------------------- */

/* Prints the vector count and the guard's verdict for n words and L = 1 .. layers. */
static void count_row(const Options *options, int input_width, size_t words)
{
    for (int layers = 1; layers <= options->layers + 1; layers++) {
        PairwiseRequest request = {.batch = 1,
                                   .words = words,
                                   .layers = layers,
                                   .input_width = input_width,
                                   .width = options->width};
        PairwiseSize size;
        size_t vectors;
        char vectors_text[32];
        if (pairwise_vector_count(words, layers, &vectors))
            snprintf(vectors_text, sizeof vectors_text, "%zu", vectors);
        else
            snprintf(vectors_text, sizeof vectors_text, "overflow");
        bool accepted = pairwise_check_size(&request, &size, NULL, 0);
        printf("  %5zu  %6d  %22s  %s\n", words, layers, vectors_text,
               accepted ? "accepted" : "rejected by the size guard");
    }
}

static void section_count(const Options *options, const SentenceSet *sentences)
{
    int input_width = sentences->vocab->size + options->positions;
    printf("== 6. The vector count still explodes: n^(2^L), as in stage 02\n\n");
    printf("Positions add P columns to each input vector, not vectors. Counts for the first\n"
           "sentence and for the longest sentence P allows:\n\n");
    printf("  words  layers  %22s  guard\n", "vectors n^(2^L)");
    count_row(options, input_width, sentences->items[0].words.count);
    if ((size_t)options->positions != sentences->items[0].words.count)
        count_row(options, input_width, (size_t)options->positions);
    printf("\n");
}

int main(int argc, char **argv)
{
    Options options;
    parse_options(argc, argv, &options);

    /* Ids, the length check and the size guard come before any model exists. */
    char error[512];
    if (!sentence_set_encode(&options.common.sentences, error, sizeof error)) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
        return 1;
    }
    int vocab_size = options.common.sentences.vocab->size;
    check_sentences(&options, vocab_size);
    OrderModel order;
    order_model_init(&options, &order);

    /* Stage 03 draws the weights; stage 02 gets a copy without the position columns. */
    Rng rng;
    rng_seed(&rng, options.common.seed, 2);
    PairwiseConfig config = {.input_width = vocab_size,
                             .width = options.width,
                             .layers = options.layers,
                             .classes = CLASSES};
    Models models = {
        .positions = position_model_new(vocab_size, options.positions, &config, &rng, NULL),
        .words = pairwise_model_new(&config, &rng, NULL),
    };
    check_allocated(models.positions, "the stage 03 model");
    check_allocated(models.words, "the stage 02 model");
    positions_copy_word_weights(models.positions, models.words);

    printf("Stage 03: position encoding (seed %llu, L = %d layer%s, width D = %d, vocabulary "
           "V = %d, positions P = %d)\n\n",
           (unsigned long long)options.common.seed, options.layers,
           cli_plural_suffix(options.layers), options.width, vocab_size, options.positions);
    section_inputs(&options, &options.common.sentences);
    section_order(&models, &options.common.sentences);
    section_position_vectors(models.positions, &options.common.sentences);
    section_zero_identity(&models, &options.common.sentences);
    section_training(&options, &order);
    section_count(&options, &options.common.sentences);

    position_model_free(models.positions);
    pairwise_model_free(models.words);
    order_model_free(&order);
    program_options_free(&options.common);
    return 0;
}
