/*
 * Stage 05 program: scored attention, in three sections.
 *
 *   1. The worked example: raw importances normalised by their sum, why
 *      that fails once a scorer can output negative numbers, and how exp
 *      (with the row maximum subtracted) fixes it.
 *   2. The layer's cost: both nets run on all n^2 pairs.
 *   3. Training on the roaring task: the model must name the word that
 *      roars, which is the fire word when a thing burns and the animal when
 *      an animal burns. The weights of "roaring" are printed per sentence
 *      and drawn from OUT/stage05_attention.csv as a heatmap. The program
 *      also measures how often the largest weight lands on the right word
 *      in held-out sentences. --save writes the trained model; --load
 *      replaces the training, so the weights shown are the loaded model's.
 *
 * stdout carries only results, the same bytes for the same options;
 * progress, notes about unknown words and file notices go to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "05_scored_attention/scored_attention.h"
#include "05_scored_attention/scored_model.h"
#include "cli.h"
#include "csv.h"
#include "program.h"
#include "result_file.h"
#include "tasks.h"
#include "train.h"
#include "vocab.h"

#define PROGRAM "stage05"

/* The two sentences of the worked example; "roaring" is their last word. */
#define TREE_SENTENCE "there was a tree on fire and it was roaring"
#define LION_SENTENCE "there was a lion on fire and it was roaring"

/* Sentences shown after training unless --sentence or --sentence-file replaces them. */
static const char *const DEFAULT_SENTENCES[] = {
    TREE_SENTENCE,
    LION_SENTENCE,
    "there was a big tiger nearby in flames and it was roaring",
    "there was a house on raging blaze and then it was roaring loudly",
    "there was a dark bear on hot fire and suddenly it was roaring",
    "there was a tall barn in flames still and it was roaring again",
};

/* Model and training sizes. */
#define TRAIN_LENGTH 12
#define POSITIONS 16
#define WIDTH 32
#define SCORE_WIDTH 16
#define DEFAULT_STEPS 1500
#define EVAL_SENTENCES 1024
#define DEFAULT_OUT "results/stage05"

/*
 * One thread by default: the model's products are small, and OpenMP's
 * waiting threads cost more than they save. On a 2-core machine shared with
 * other processes, the default run took 5 to 7 s with 1 thread and 16 to
 * 34 s with 2 (gcc 12, libgomp). --threads 2 turns the threads back on.
 */
#define DEFAULT_THREADS 1
#define MAX_STEPS 10000000

/* No option changes the model's sizes, so a checkpoint that does not fit comes from elsewhere. */
#define MODEL_OPTIONS "model sizes, which no option of stage05 changes"

/* Everything the command line sets. */
typedef struct Options {
    int steps;             /* training steps */
    ProgramOptions common; /* seed, threads, out_dir, sentences */
} Options;

/* A sentence encoded with the task's vocabulary. */
typedef struct Encoded {
    const TokenList *words; /* the words as written; owned by the sentence set */
    int *ids;               /* [words->count] ids, unknown words as VOCAB_UNKNOWN_ID */
    int length;             /* words->count */
} Encoded;

/* ------------------------------------------------------------------------- */
/* Options                                                                    */
/* ------------------------------------------------------------------------- */

static void print_usage(void)
{
    printf(
        "Usage: %s [OPTION]...\n"
        "Walk through scored attention: the worked example of normalised importances,\n"
        "why exp is used, the cost of two nets on n^2 pairs, and a model trained so that\n"
        "\"roaring\" attends to the word that roars.\n"
        "\n"
        "  --sentence TEXT       sentence whose weights are shown after training or\n"
        "                        --load, repeatable; replaces the built-in sentences. At\n"
        "                        most %d words; a word the model was not trained on\n"
        "                        becomes %s, with a note on stderr.\n"
        "  --sentence-file FILE  read sentences from FILE, one per line ('-' = stdin)\n"
        "  --steps N             training steps, 1..%d (default %d)\n"
        "  --seed N              seed of the weights and the training data (default 1)\n"
        "  --out DIR             folder for stage05_attention.csv and .png (default %s)\n" PROGRAM_CHECKPOINT_HELP
        "                        --save writes the model that section 3 trains; --load\n"
        "                        skips the training (and --steps), then shows the loaded\n"
        "                        model's attention on the sentences, in the table, the\n"
        "                        CSV and the figure\n"
        "  --threads N           threads for the heavy loops, 1..%d (default %d)\n"
        "  --help                print this help and exit\n",
        PROGRAM, POSITIONS, VOCAB_UNKNOWN_WORD, MAX_STEPS, DEFAULT_STEPS, DEFAULT_OUT,
        PROGRAM_MAX_THREADS, DEFAULT_THREADS);
}

enum { OPT_STEPS = PROGRAM_OWN_OPTION };

/* Reads the one option of this program (ProgramOptionFn). */
static void handle_option(int option, const char *value, void *context)
{
    Options *options = context;
    if (option == OPT_STEPS)
        options->steps = cli_parse_int(PROGRAM, "--steps", value, 1, MAX_STEPS);
}

/* Sets the defaults, then reads argv; exits on --help and on any invalid option. */
static void parse_options(int argc, char **argv, Options *options)
{
    static const struct option own_options[] = {
        {"steps", required_argument, NULL, OPT_STEPS},
        {NULL, 0, NULL, 0},
    };
    *options = (Options){.steps = DEFAULT_STEPS};
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
                        PROGRAM_DEFAULT_SENTENCES(DEFAULT_SENTENCES),
                        .max_words = POSITIONS,
                        .max_words_reason = "the model has that many positions"};
    program_parse_options(&spec, argc, argv, &options->common);
}

/* ------------------------------------------------------------------------- */
/* Sentences                                                                  */
/* ------------------------------------------------------------------------- */

/*
 * Encodes sentence @p index of @p sentences with the task's vocabulary;
 * unknown words become <unk> with a note on stderr. Exits with status 1
 * when memory runs out.
 */
static void encode_sentence(const SentenceSet *sentences, size_t index, const Vocab *vocab,
                            Encoded *out)
{
    out->words = &sentences->items[index].words;
    out->length = (int)out->words->count;
    out->ids = malloc(out->words->count * sizeof *out->ids);
    if (!out->ids) {
        fprintf(stderr, "%s: out of memory encoding the sentences\n", PROGRAM);
        exit(1);
    }
    program_encode_sentence(PROGRAM, sentences, index, vocab, out->ids);
}

static void free_encoded(Encoded *sentences, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(sentences[i].ids);
    free(sentences);
}

/* Returns the column width of word @p t: its length, but at least 7 so that 0.000 fits. */
static int column_width(const TokenList *words, size_t t)
{
    int length = (int)strlen(token_list_get(words, t));
    return length < 7 ? 7 : length;
}

/* Prints the words of a sentence as a header row for print_value_row. */
static void print_word_row(const TokenList *words)
{
    printf("  %-12s", "word");
    for (size_t t = 0; t < words->count; t++)
        printf(" %*s", column_width(words, t), token_list_get(words, t));
    printf("\n");
}

/*
 * Prints one value per word, aligned under print_word_row's words: three
 * decimals, or none from 100 on so that scores such as -1000 fit the column.
 */
static void print_value_row(const TokenList *words, const float *values, const char *label)
{
    printf("  %-12s", label);
    for (size_t t = 0; t < words->count; t++) {
        double value = values[t];
        printf(" %*.*f", column_width(words, t), fabs(value) >= 100.0 ? 0 : 3, value);
    }
    printf("\n");
}

/* ------------------------------------------------------------------------- */
/* Section 1: the worked example                                              */
/* ------------------------------------------------------------------------- */

/* The words of one example sentence and the position of each word the example scores. */
typedef struct Example {
    const char *name;
    TokenList words;
    int fire_at;
    int lion_at; /* -1 when the sentence has no lion */
    int roaring_at;
} Example;

/* Returns the position of @p word in @p words, or -1. */
static int find_word(const TokenList *words, const char *word)
{
    for (size_t t = 0; t < words->count; t++)
        if (strcmp(token_list_get(words, t), word) == 0)
            return (int)t;
    return -1;
}

static void load_example(Example *example, const char *name, const char *text)
{
    example->name = name;
    token_list_init(&example->words);
    if (!tokenize(text, strlen(text), &example->words, NULL, 0)) {
        fprintf(stderr, "%s: out of memory splitting the example into words\n", PROGRAM);
        exit(1);
    }
    example->fire_at = find_word(&example->words, "fire");
    example->lion_at = find_word(&example->words, "lion");
    example->roaring_at = find_word(&example->words, "roaring");
}

/* Fills row [n] with @p other, then fire's and (when present) lion's values. */
static void fill_row(const Example *example, float *row, float other, float fire, float lion)
{
    for (size_t t = 0; t < example->words.count; t++)
        row[t] = other;
    row[example->fire_at] = fire;
    if (example->lion_at >= 0)
        row[example->lion_at] = lion;
}

/* Prints the plain normalisation of @p importances [n], or why it does not exist. */
static void print_plain(const Example *example, const float *importances)
{
    int n = (int)example->words.count;
    float weights[POSITIONS];
    double sum = 0.0;
    for (int t = 0; t < n; t++)
        sum += importances[t];
    printf("%s sentence, sum of importances %g:\n", example->name, sum);
    print_word_row(&example->words);
    print_value_row(&example->words, importances, "importance");
    if (attention_normalise_plain(importances, n, weights))
        print_value_row(&example->words, weights, "weight");
    else
        printf("  %-12s none: dividing by a sum of %g is undefined or flips the signs\n", "weight",
               sum);
}

/*
 * Runs attention_weights on an [n, n] score matrix whose row for "roaring"
 * is @p scores [n] (other rows 0) and prints that row's weights.
 */
static void print_exp(const Example *example, const float *scores, const char *label)
{
    int n = (int)example->words.count;
    Tensor *matrix = tensor_new(shape2(n, n), false);
    memcpy(matrix->data + (size_t)example->roaring_at * n, scores, (size_t)n * sizeof *scores);
    Tape tape;
    tape_init(&tape);

    Tensor *weights = attention_weights(&tape, matrix);
    printf("%s sentence, %s:\n", example->name, label);
    print_word_row(&example->words);
    print_value_row(&example->words, scores, "score");
    print_value_row(&example->words, weights->data + (size_t)example->roaring_at * n, "weight");

    tape_free(&tape);
    tensor_free(matrix);
}

/* Computes weight @p index as exp(s) / sum exp(s') in float without subtracting the maximum. */
static float naive_softmax_weight(const float *scores, int n, int index)
{
    float sum = 0.0f;
    for (int t = 0; t < n; t++)
        sum += expf(scores[t]);
    return expf(scores[index]) / sum;
}

/* Prints the largest weight change when @p shift is added to every score of the row. */
static void print_shift(const Example *example, const float *scores, float shift)
{
    int n = (int)example->words.count;
    float shifted[POSITIONS];
    for (int t = 0; t < n; t++)
        shifted[t] = scores[t] + shift;

    Tensor *a = tensor_new(shape2(1, n), false), *b = tensor_new(shape2(1, n), false);
    memcpy(a->data, scores, (size_t)n * sizeof *scores);
    memcpy(b->data, shifted, (size_t)n * sizeof *shifted);
    Tape tape;
    tape_init(&tape);
    Tensor *wa = op_softmax(&tape, a), *wb = op_softmax(&tape, b);
    double max_difference = 0.0;
    for (int t = 0; t < n; t++)
        max_difference = fmax(max_difference, fabs((double)wa->data[t] - wb->data[t]));

    printf("adding %g to every score of the row changes no weight: max |difference| = %g\n", shift,
           max_difference);
    tape_free(&tape);
    tensor_free(a);
    tensor_free(b);
}

static void section_worked_example(void)
{
    Example tree, lion;
    load_example(&tree, "tree", TREE_SENTENCE);
    load_example(&lion, "lion", LION_SENTENCE);
    float row[POSITIONS];

    printf("== 1. Relative importance: the worked example ==\n");
    printf("The query is \"roaring\". Raw importance of the pair (\"roaring\", \"fire\") is 10,\n"
           "of (\"roaring\", \"lion\") 90, and of every other pair 0. Plain normalisation\n"
           "divides each importance by the sum of the query's importances:\n\n");
    fill_row(&tree, row, 0.0f, 10.0f, 0.0f);
    print_plain(&tree, row);
    fill_row(&lion, row, 0.0f, 10.0f, 90.0f);
    print_plain(&lion, row);
    printf("The same pair (\"roaring\", \"fire\") gets weight 1 in the tree sentence, where it\n"
           "is the only important pair, and 0.1 in the lion sentence, where the lion takes 0.9.\n");

    printf("\nWhy exp: a scorer is a neural net, and its outputs can be negative.\n");
    fill_row(&lion, row, 0.0f, 2.0f, -2.0f);
    print_plain(&lion, row);
    fill_row(&lion, row, 0.0f, 3.0f, -1.0f);
    print_plain(&lion, row);
    printf(
        "The first sum is zero, and the second gives fire a weight above 1 and the lion a\n"
        "negative one. exp makes every term positive: a_qk = exp(s_qk) / sum_k' exp(s_qk').\n\n");

    fill_row(&tree, row, -INFINITY, logf(10.0f), 0.0f);
    print_exp(&tree, row, "scores ln 10 for fire and -infinity elsewhere");
    fill_row(&lion, row, -INFINITY, logf(10.0f), logf(90.0f));
    print_exp(&lion, row, "scores ln 10 for fire, ln 90 for lion, -infinity elsewhere");
    printf("These are the weights of plain normalisation, 1 and then 0.1 and 0.9.\n\n");

    fill_row(&lion, row, 0.0f, 2.0f, -2.0f);
    print_exp(&lion, row, "the scores whose sum was zero");
    fill_row(&lion, row, -1000.0f, 1000.0f, 999.0f);
    print_exp(&lion, row, "scores of +-1000");

    float naive = naive_softmax_weight(row, (int)lion.words.count, lion.fire_at);
    printf("Without subtracting the row maximum, exp(1000) overflows float to infinity,\n"
           "and fire's weight is infinity / infinity = %s. Subtracting the maximum\n"
           "(1000) first gives exp(0) = 1 and exp(-1) = 0.368, so the weights above are\n"
           "1 / 1.368 = 0.731 and 0.368 / 1.368 = 0.269.\n",
           isnan(naive) ? "not a number" : "a number (unexpected)");
    print_shift(&lion, row, 7.0f);

    token_list_free(&tree.words);
    token_list_free(&lion.words);
}

/* ------------------------------------------------------------------------- */
/* Section 2: the cost                                                        */
/* ------------------------------------------------------------------------- */

static void section_cost(const ScoredModel *model)
{
    static const size_t WORDS[] = {10, 12, 64, 256, 1024};
    const ScoredAttention *layer = model->layer;

    printf("\n== 2. The layer and its cost ==\n");
    printf("For every ordered pair (q, k) the representation net gives r_qk = relu(R [x_q ; x_k]\n"
           "+ b) of width Dout, and the scoring net gives s_qk = w . relu(S [x_q ; x_k] + c)\n"
           "through Hs hidden units. Row q of the scores becomes weights a_qk, and\n"
           "y_q = sum_k a_qk r_qk. Multiply-adds of one layer on one sentence:\n"
           "n^2 (2 Din (Dout + Hs) + Hs + Dout), plus n^2 exp for the weights.\n"
           "With Din = Dout = %d and Hs = %d, as trained below:\n",
           layer->in_width, layer->score_width);
    printf("%8s  %16s\n", "n", "multiply-adds");
    for (size_t i = 0; i < sizeof WORDS / sizeof WORDS[0]; i++) {
        size_t count;
        if (scored_attention_multiply_adds(WORDS[i], layer, &count))
            printf("%8zu  %16zu\n", WORDS[i], count);
    }
    printf("Both nets run n^2 times, so doubling the sentence quadruples the work.\n");
}

/* ------------------------------------------------------------------------- */
/* Section 3: training on the roaring task                                    */
/* ------------------------------------------------------------------------- */

/* roar_task_sample with the signature of train.h's TaskSampleFn. */
static void sample_roar(const void *task, Rng *rng, int batch, int *ids, int *labels)
{
    roar_task_sample(task, rng, batch, ids, labels);
}

/* Returns the index of the largest of values [count], the first one on ties. */
static int argmax(const float *values, int count)
{
    int best = 0;
    for (int i = 1; i < count; i++)
        if (values[i] > values[best])
            best = i;
    return best;
}

/* How the weights of "roaring" fall on held-out sentences, per kind of noun. */
typedef struct AttentionScore {
    int sentences[2];       /* [0] things, [1] animals */
    int largest_right[2];   /* sentences whose largest weight is on the roaring word */
    double weight_right[2]; /* sum of the weight on the roaring word */
} AttentionScore;

/* Runs the model on EVAL_SENTENCES held-out sentences and scores where "roaring" attends. */
static AttentionScore score_attention(const ScoredModel *model, const RoarTask *task, Rng *rng)
{
    int n = task->length;
    int *ids = malloc((size_t)EVAL_SENTENCES * (size_t)n * sizeof *ids);
    int *labels = malloc((size_t)EVAL_SENTENCES * sizeof *labels);
    int *queries = malloc((size_t)EVAL_SENTENCES * sizeof *queries);
    if (!ids || !labels || !queries) {
        fprintf(stderr, "%s: out of memory drawing the held-out sentences\n", PROGRAM);
        exit(1);
    }
    roar_task_sample(task, rng, EVAL_SENTENCES, ids, labels);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *weights;
    scored_model_run(&tape, model, ids, EVAL_SENTENCES, n, &weights, queries);

    AttentionScore score = {{0, 0}, {0, 0}, {0.0, 0.0}};
    for (int b = 0; b < EVAL_SENTENCES; b++) {
        const float *row = weights->data + ((size_t)b * n + queries[b]) * n;
        int right = roar_task_find_roarer(task, ids + (size_t)b * n, n);
        int animal = labels[b] < ROAR_TASK_ANIMALS;
        score.sentences[animal]++;
        score.largest_right[animal] += argmax(row, n) == right;
        score.weight_right[animal] += row[right];
    }
    tape_free(&tape);
    free(ids);
    free(labels);
    free(queries);
    return score;
}

static void print_attention_score(const AttentionScore *score)
{
    static const char *const KINDS[2] = {"a thing burns (fire word roars)",
                                         "an animal burns (animal roars)"};
    printf("\nWhere \"roaring\" attends in %d held-out sentences:\n", EVAL_SENTENCES);
    printf("  %-34s %9s  %22s  %21s\n", "sentences where", "sentences", "largest weight right",
           "mean weight on right");
    for (int kind = 0; kind < 2; kind++)
        printf("  %-34s %9d  %22.3f  %21.3f\n", KINDS[kind], score->sentences[kind],
               (double)score->largest_right[kind] / score->sentences[kind],
               score->weight_right[kind] / score->sentences[kind]);
    int total = score->sentences[0] + score->sentences[1];
    printf("  %-34s %9d  %22.3f  %21.3f\n", "all", total,
           (double)(score->largest_right[0] + score->largest_right[1]) / total,
           (score->weight_right[0] + score->weight_right[1]) / total);
}

/* The weights of one shown sentence, kept for the CSV. */
typedef struct Shown {
    float weights[POSITIONS]; /* [length] the query word's weights */
    int query;                /* the query word's position */
    int roarer;               /* the roaring word by the task's rule, or -1 */
} Shown;

/* Runs the model on one sentence and prints the query word's weights and the prediction. */
static Shown show_sentence(const ScoredModel *model, const RoarTask *task, const Encoded *sentence,
                           size_t index)
{
    Shown shown;
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    Tensor *weights;
    Tensor *logits =
        scored_model_run(&tape, model, sentence->ids, 1, sentence->length, &weights, &shown.query);
    int n = sentence->length;
    memcpy(shown.weights, weights->data + (size_t)shown.query * n, (size_t)n * sizeof(float));
    shown.roarer = roar_task_find_roarer(task, sentence->ids, n);
    int answer = argmax(logits->data, ROAR_TASK_CLASSES);
    tape_free(&tape);

    if (sentence->ids[shown.query] != task->roaring_id)
        fprintf(stderr, "%s: note: sentence %zu has no \"roaring\"; its last word is the query\n",
                PROGRAM, index + 1);
    printf("\nsentence %zu, weights of \"%s\":\n", index + 1,
           token_list_get(sentence->words, (size_t)shown.query));
    print_word_row(sentence->words);
    print_value_row(sentence->words, shown.weights, "weight");
    int largest = argmax(shown.weights, n);
    printf("  largest weight on \"%s\"", token_list_get(sentence->words, (size_t)largest));
    if (shown.roarer >= 0)
        printf(" (the word that roars is \"%s\": %s)",
               token_list_get(sentence->words, (size_t)shown.roarer),
               largest == shown.roarer ? "right" : "wrong");
    printf("; the model predicts \"%s\"\n", vocab_word(task->vocab, task->class_ids[answer]));
    return shown;
}

/* Writes OUT/stage05_attention.csv and draws the heatmap OUT/stage05_attention.png. */
static void write_attention_figure(const char *out_dir, const Encoded *sentences,
                                   const Shown *shown, size_t count)
{
    ResultCsv csv;
    if (!result_csv_open(&csv, PROGRAM, out_dir, "stage05_attention",
                         "sentence,position,word,weight,query,roarer"))
        return;
    for (size_t s = 0; s < count; s++)
        for (int t = 0; t < sentences[s].length; t++) {
            char *word = csv_quote(token_list_get(sentences[s].words, (size_t)t));
            if (!word) {
                csv_abort(csv.writer);
                result_file_failed(PROGRAM, "out of memory writing %s; it is not written",
                                   csv.csv_path);
                return;
            }
            csv_row(csv.writer, "%zu,%d,%s,%.6f,%d,%d", s + 1, t, word, (double)shown[s].weights[t],
                    t == shown[s].query, t == shown[s].roarer);
            free(word);
        }
    result_csv_close(&csv, "stage05_attention.gp");
}

/* Prints the task and the model that section 3 trains or loads. */
static void print_task(const ScoredModel *model, const RoarTask *task)
{
    printf("\n== 3. Training: where does \"roaring\" attend? ==\n");
    printf("Generated sentences of %d words, such as \"there was a big lion nearby on fire and\n"
           "it was roaring\". The model predicts, at the word \"roaring\", which word roars:\n"
           "the animal when an animal burns, the fire word (fire, flames, blaze) when a thing\n"
           "burns. The prediction is read from y at \"roaring\", so the rest of the sentence\n"
           "reaches it only through the pair vectors that the weights of \"roaring\" combine.\n",
           task->length);
    printf("model: word and position vectors D = %d (%d positions), one scored attention layer\n"
           "(Hs = %d), a linear readout to %d classes; %zu parameters.\n",
           WIDTH, POSITIONS, SCORE_WIDTH, ROAR_TASK_CLASSES, params_count_elements(model->params));
}

/*
 * Trains the model, or with --load only measures it, and saves it for
 * --save. Zero steps with --save write the loaded weights unchanged, so
 * saving a loaded model gives the same file.
 */
static void train_or_measure(const Options *options, ScoredModel *model, const RoarTask *task,
                             bool loaded)
{
    TrainConfig config = train_default_config();
    config.steps = loaded ? 0 : options->steps;
    config.seed = options->common.seed;
    config.label = PROGRAM;
    program_configure_checkpoint(&options->common, &config);
    if (loaded)
        printf("no training ran: the parameters are loaded from %s, so the attention\n"
               "weights below are the loaded model's\n",
               options->common.load_path);
    else
        printf("training: Adam, %d step%s of %d sentences, learning rate %g, seed %llu\n",
               config.steps, cli_plural_suffix(config.steps), config.batch,
               (double)config.learning_rate, (unsigned long long)config.seed);

    ClassifierTask classifier_task = {sample_roar, task, task->length};
    TrainResult result =
        train_classifier(scored_model_forward, model, model->params, classifier_task, config);
    train_exit_on_failure(PROGRAM, &result);
    if (loaded) {
        printf("held-out accuracy %.3f (seed %llu)\n", (double)result.accuracy,
               (unsigned long long)config.seed);
        return;
    }
    fprintf(stderr, "%s: trained in %.1f s\n", PROGRAM, result.seconds);
    printf("final training loss %.4f; held-out accuracy %.3f\n", (double)result.final_loss,
           (double)result.accuracy);
}

/*
 * Prints where "roaring" attends in held-out sentences and in each shown
 * sentence, then writes the CSV and the figure: the same for a trained and
 * a loaded model.
 */
static void show_attention(const Options *options, const ScoredModel *model, const RoarTask *task,
                           const Encoded *sentences, size_t count)
{
    Rng eval_rng;
    rng_seed(&eval_rng, options->common.seed, 3);
    AttentionScore score = score_attention(model, task, &eval_rng);
    print_attention_score(&score);

    Shown *shown = calloc(count, sizeof *shown);
    if (!shown) {
        fprintf(stderr, "%s: out of memory showing the sentences\n", PROGRAM);
        exit(1);
    }
    for (size_t s = 0; s < count; s++)
        shown[s] = show_sentence(model, task, &sentences[s], s);
    write_attention_figure(options->common.out_dir, sentences, shown, count);
    free(shown);
}

int main(int argc, char **argv)
{
    Options options;
    parse_options(argc, argv, &options);
    const SentenceSet *given = &options.common.sentences;

    RoarTask *task = roar_task_new(TRAIN_LENGTH);
    Rng rng;
    rng_seed(&rng, options.common.seed, 0);
    ScoredModelConfig config = {.vocab_size = task ? task->vocab->size : 1,
                                .positions = POSITIONS,
                                .width = WIDTH,
                                .score_width = SCORE_WIDTH,
                                .classes = ROAR_TASK_CLASSES,
                                .query_id = task ? task->roaring_id : 0};
    ScoredModel *model = task ? scored_model_new(config, &rng) : NULL;
    Encoded *sentences = calloc(given->count, sizeof *sentences);
    if (!task || !model || !sentences) {
        fprintf(stderr, "%s: out of memory creating the task and the model\n", PROGRAM);
        return 1;
    }

    /* A checkpoint that does not fit and the unknown words are reported before any output. */
    bool loaded = program_load_checkpoint(PROGRAM, &options.common, model->params, MODEL_OPTIONS);
    for (size_t s = 0; s < given->count; s++)
        encode_sentence(given, s, task->vocab, &sentences[s]);

    section_worked_example();
    section_cost(model);
    print_task(model, task);
    train_or_measure(&options, model, task, loaded);
    show_attention(&options, model, task, sentences, given->count);

    free_encoded(sentences, given->count);
    scored_model_free(model);
    roar_task_free(task);
    program_options_free(&options.common);
    return result_exit_status();
}
