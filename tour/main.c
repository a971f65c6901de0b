/*
 * The tour: the same sentences through every stage from 01 to 08, with
 * seeded weights at one common size, in one table per sentence. With
 * --sweep it also measures how the cost of one forward pass grows with the
 * sentence length, fits the growth exponent and compares it with the
 * exponent of each stage's cost formula.
 *
 * Every number on stdout is computed by the code: multiply-adds by the
 * tape's counter, peak bytes by the tape's arena, exponents from those
 * counts. stdout is the same for the same options. Wall-clock times vary
 * from run to run, so they go to stderr and to the sweep's CSV file only.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "03_position_encoding/positions.h"
#include "cli.h"
#include "clock.h"
#include "csv.h"
#include "files.h"
#include "program.h"
#include "result_file.h"
#include "tensor.h"
#include "tour_stages.h"

#define PROGRAM "tour"

#define DEFAULT_SENTENCE "the fat cat"
#define DEFAULT_WIDTH 16
#define DEFAULT_OUT "results/tour"
#define MAX_WIDTH 256

/* Sizes every stage shares: L layers, H heads (stages 07 and 08), C outputs. */
#define TOUR_LAYERS 2
#define TOUR_HEADS 2
#define TOUR_CLASSES 2

/* Maximum words per sentence of the table, and the largest n of the sweep. */
#define MAX_WORDS 256

/*
 * Maximum sentences: each one gets a table of its own and several timed
 * forward passes of every stage, so a file of a million lines would run
 * for about a day.
 */
#define MAX_SENTENCES 100

/* Differences of outputs up to this fraction of the largest |output| (or 1) are float rounding. */
#define SWAP_TOLERANCE 1e-5

/* The sweep's exponent is fitted over this many of the largest lengths a stage ran. */
#define FIT_POINTS 3

/* Largest accepted |measured - formula| exponent difference. */
#define EXPONENT_TOLERANCE 0.15

/* A timed forward pass is repeated until this much wall-clock time has passed. */
#define TIMING_SECONDS 0.01

/* Sentence lengths of the sweep. */
static const int SWEEP_WORDS[] = {2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256};
#define SWEEP_COUNT ((int)(sizeof SWEEP_WORDS / sizeof SWEEP_WORDS[0]))

/* How each stage's cost grows with n, by the cost formula in its README. */
static const char *const GROWTH[TOUR_STAGE_COUNT] = {
    "n L D^2: linear",       "n^(2^L): n^4 for L = 2", "n^(2^L): n^4 for L = 2",
    "n^2 L D^2: quadratic",  "n^2 L D^2: quadratic",   "n D^2 + n^2 D: 1 to 2",
    "n D^2 + n^2 D: 1 to 2", "n D^2 + n^2 D: 1 to 2",
};

/* Everything the command line sets. */
typedef struct Options {
    int width;             /* D */
    bool sweep;            /* run the sweep after the table */
    ProgramOptions common; /* seed of every stage's weights, threads, out_dir (the sweep's
                              CSV and figure), sentences */
} Options;

/* What one forward pass of one model on one sentence measured. */
typedef struct Measurement {
    float output[TOUR_CLASSES];       /* the class scores */
    unsigned long long multiply_adds; /* the tape's counter after the pass */
    size_t peak_bytes;                /* the arena's peak, a fresh tape per pass */
    double seconds;                   /* wall-clock time of one pass, averaged */
} Measurement;

/* ------------------------------------------------------------------------- */
/* Options                                                                    */
/* ------------------------------------------------------------------------- */

static void print_usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Run the same sentences through every stage from 01 to 08, with seeded untrained\n"
           "weights at one common size (L = %d layers, width D, H = %d heads, C = %d outputs),\n"
           "and print one table per sentence: whether swapping its last two words changes\n"
           "the output, vectors per layer, receptive field, parameters, multiply-adds and\n"
           "peak bytes of one forward pass, and the outputs. Times go to stderr.\n"
           "\n"
           "  --sentence TEXT       sentence to run, repeatable; replaces \"%s\".\n"
           "                        At most %d words. The vocabulary is built from the\n"
           "                        sentences, so no word is unknown.\n"
           "  --sentence-file FILE  read sentences from FILE, one per line ('-' = stdin);\n"
           "                        at most %d sentences in all\n"
           "  --width N             vector width D of every stage, an even number from 2\n"
           "                        to %d (default %d); the sweep's time grows with D^2\n"
           "  --sweep               also measure n = 2 to %d words (the first sentence's\n"
           "                        words repeated), write tour_sweep.csv and .png, and\n"
           "                        print the growth exponent of every stage's cost\n"
           "  --out DIR             directory of the sweep's files (default %s)\n"
           "  --seed N              seed of the weights (default 1)\n"
           "  --threads N           threads for the heavy loops, 1..%d (default 1)\n"
           "  --help                print this help and exit\n",
           PROGRAM, TOUR_LAYERS, TOUR_HEADS, TOUR_CLASSES, DEFAULT_SENTENCE, MAX_WORDS,
           MAX_SENTENCES, MAX_WIDTH, DEFAULT_WIDTH, MAX_WORDS, DEFAULT_OUT, PROGRAM_MAX_THREADS);
}

/* Parses --width: an even number, so that H = 2 heads split it evenly. */
static int parse_width(const char *text)
{
    int width = cli_parse_int(PROGRAM, "--width", text, 2, MAX_WIDTH);
    if (width % TOUR_HEADS != 0)
        cli_usage_error(PROGRAM,
                        "invalid value '%s' for --width: it must be a multiple of %d, "
                        "the number of heads of stages 07 and 08",
                        text, TOUR_HEADS);
    return width;
}

enum { OPT_WIDTH = PROGRAM_OWN_OPTION, OPT_SWEEP };

/* Reads one of the options of this program (ProgramOptionFn). */
static void handle_option(int option, const char *value, void *context)
{
    Options *options = context;
    if (option == OPT_WIDTH)
        options->width = parse_width(value);
    else if (option == OPT_SWEEP)
        options->sweep = true;
}

/* Sets the defaults, then reads argv; exits on --help and on any invalid option. */
static void parse_options(int argc, char **argv, Options *options)
{
    static const struct option own_options[] = {
        {"width", required_argument, NULL, OPT_WIDTH},
        {"sweep", no_argument, NULL, OPT_SWEEP},
        {NULL, 0, NULL, 0},
    };
    static const char *const default_sentences[] = {DEFAULT_SENTENCE};
    *options = (Options){.width = DEFAULT_WIDTH};
    ProgramSpec spec = {.name = PROGRAM,
                        .print_usage = print_usage,
                        .own_options = own_options,
                        .handle_option = handle_option,
                        .context = options,
                        .takes_sentences = true,
                        .takes_out = true,
                        .default_out = DEFAULT_OUT,
                        .default_threads = 1,
                        PROGRAM_DEFAULT_SENTENCES(default_sentences),
                        .max_words = MAX_WORDS,
                        .max_words_reason = "the sweep's largest sentence length",
                        .max_sentences = MAX_SENTENCES};
    program_parse_options(&spec, argc, argv, &options->common);
}

/* ------------------------------------------------------------------------- */
/* Measuring one forward pass                                                 */
/* ------------------------------------------------------------------------- */

/* Exits with status 1 and a message naming @p description when @p pointer is NULL. */
static void check_allocated(const void *pointer, const char *description)
{
    if (!pointer) {
        fprintf(stderr, "%s: out of memory allocating %s\n", PROGRAM, description);
        exit(1);
    }
}

/* Builds a stage's model; a NULL model here is exhausted memory, the sizes being checked. */
static TourModel *new_model(TourStage stage, const TourConfig *config, uint64_t seed)
{
    TourModel *model = tour_model_new(stage, config, seed);
    check_allocated(model, tour_stage_name(stage));
    return model;
}

/*
 * Runs one inference pass on a fresh tape, so that the tape's counter and
 * the arena's peak belong to this pass alone. Then, when @p timed, repeats
 * the pass on the reset tape until TIMING_SECONDS have passed and stores the
 * mean time of one pass. Shapes: ids [length]. tour_model_check must accept
 * the length.
 */
static void measure_forward(const TourModel *model, const int *ids, int length, bool timed,
                            Measurement *measured)
{
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;

    Tensor *out = tour_model_forward(&tape, model, ids, length);
    for (int c = 0; c < TOUR_CLASSES; c++)
        measured->output[c] = out->data[c];
    measured->multiply_adds = tape.multiply_adds;
    measured->peak_bytes = tape.arena.peak_bytes;

    measured->seconds = 0.0;
    if (timed) {
        int passes = 0;
        double start = time_now_seconds(), elapsed = 0.0;
        do {
            tape_reset(&tape);
            tour_model_forward(&tape, model, ids, length);
            passes++;
            elapsed = time_now_seconds() - start;
        } while (elapsed < TIMING_SECONDS);
        measured->seconds = elapsed / passes;
    }
    tape_free(&tape);
}

/* Returns the largest |a[c] - b[c]| over the C outputs. */
static double output_difference(const Measurement *a, const Measurement *b)
{
    double largest = 0.0;
    for (int c = 0; c < TOUR_CLASSES; c++) {
        double diff = fabs((double)a->output[c] - (double)b->output[c]);
        largest = isnan(diff) ? INFINITY : fmax(largest, diff);
    }
    return largest;
}

/* Returns whether @p difference is more than float rounding of outputs the size of @p a's. */
static bool output_changed(const Measurement *a, double difference)
{
    double scale = 1.0;
    for (int c = 0; c < TOUR_CLASSES; c++)
        scale = fmax(scale, fabs((double)a->output[c]));
    return difference > SWAP_TOLERANCE * scale;
}

/* ------------------------------------------------------------------------- */
/* The table                                                                  */
/* ------------------------------------------------------------------------- */

/* Returns the common sizes; P covers at least @p positions words. */
static TourConfig tour_config(const Options *options, int positions)
{
    return (TourConfig){.vocab_size = options->common.sentences.vocab->size,
                        .positions = positions,
                        .width = options->width,
                        .layers = TOUR_LAYERS,
                        .heads = TOUR_HEADS,
                        .classes = TOUR_CLASSES};
}

/* Returns the position cutoff of the table: stage 03's default, or the longest sentence. */
static int table_positions(const SentenceSet *sentences)
{
    int longest = POSITIONS_DEFAULT;
    for (size_t i = 0; i < sentences->count; i++)
        if ((int)sentences->items[i].words.count > longest)
            longest = (int)sentences->items[i].words.count;
    return longest;
}

static void print_table_header(const Options *options, const TourConfig *config)
{
    printf("Tour of stages 01 to 08 (seed %llu): seeded untrained weights, L = %d layers,\n"
           "width D = %d, H = %d heads (07, 08), MLP width %dD (06-08), C = %d outputs,\n"
           "P = %d positions (03-08), V = %d words in the vocabulary of the sentences.\n",
           (unsigned long long)options->common.seed, config->layers, config->width, config->heads,
           TOUR_MLP_FACTOR, config->classes, config->positions, config->vocab_size);
    printf("\n"
           "swap: does swapping the last two words change the output (largest difference;\n"
           "      up to %.0e of the output's size is float rounding, shown as \"no\")\n"
           "vectors: vectors each layer creates; field: words one output can depend on\n"
           "mult-adds: multiply-adds of one forward pass, counted by the tape\n"
           "peak bytes: the tape arena's peak during that pass\n",
           SWAP_TOLERANCE);
}

/* Writes the swap column: "yes 1.2e-03", "no 1.5e-08", or "n/a" for a single word. */
static void format_swap(const Measurement *original, const Measurement *swapped, int length,
                        char *text, size_t text_size)
{
    if (length < 2) {
        snprintf(text, text_size, "n/a");
        return;
    }
    double difference = output_difference(original, swapped);
    snprintf(text, text_size, "%s %.1e", output_changed(original, difference) ? "yes" : "no",
             difference);
}

/* Writes the receptive field column: "5" for the CNN, "all 3" for the others. */
static void format_field(TourStage stage, const TourConfig *config, int length, char *text,
                         size_t text_size)
{
    int field = tour_receptive_field(stage, config, length);
    if (stage == TOUR_CNN)
        snprintf(text, text_size, "%d", field);
    else
        snprintf(text, text_size, "all %d", field);
}

/*
 * Prints one stage's row of the table and stores the time of one forward
 * pass in *seconds (0 when the stage rejects the sentence). A rejection's
 * reason is appended to @p notes.
 */
static void print_stage_row(TourStage stage, const TourConfig *config, const Options *options,
                            const Sentence *sentence, const int *swapped_ids, char *notes,
                            size_t notes_size, double *seconds)
{
    int length = (int)sentence->words.count;
    TourModel *model = new_model(stage, config, options->common.seed);
    char vectors[64], field[32], error[512];
    tour_format_vectors(stage, config, length, vectors, sizeof vectors);
    format_field(stage, config, length, field, sizeof field);
    *seconds = 0.0;

    if (!tour_model_check(model, length, error, sizeof error)) {
        printf("%-24s %-12s %-16s %-7s %10zu  rejected (see below)\n", tour_stage_name(stage), "-",
               vectors, field, tour_model_parameters(model));
        size_t used = strlen(notes);
        snprintf(notes + used, notes_size - used, "%s: %s\n", tour_stage_name(stage), error);
        tour_model_free(model);
        return;
    }

    Measurement original, swapped;
    char swap[32];
    measure_forward(model, sentence->ids, length, true, &original);
    measure_forward(model, swapped_ids, length, false, &swapped);
    format_swap(&original, &swapped, length, swap, sizeof swap);
    printf("%-24s %-12s %-16s %-7s %10zu %14llu %12zu  [%+.4f, %+.4f]\n", tour_stage_name(stage),
           swap, vectors, field, tour_model_parameters(model), original.multiply_adds,
           original.peak_bytes, (double)original.output[0], (double)original.output[1]);
    *seconds = original.seconds;
    tour_model_free(model);
}

/* Prints the wall-clock time of one forward pass per stage to stderr. */
static void print_times(const double *seconds)
{
    fprintf(stderr, "%s: time of one forward pass (wall clock, varies from run to run):\n",
            PROGRAM);
    for (int stage = 0; stage < TOUR_STAGE_COUNT; stage++)
        if (seconds[stage] > 0.0)
            fprintf(stderr, "  %-24s %10.3g s\n", tour_stage_name((TourStage)stage),
                    seconds[stage]);
}

/* Prints the table of one sentence, a row per stage, and the stages' times to stderr. */
static void print_sentence_table(const Options *options, const TourConfig *config, size_t index)
{
    const Sentence *sentence = &options->common.sentences.items[index];
    size_t length = sentence->words.count;
    int *swapped_ids = malloc(length * sizeof *swapped_ids);
    check_allocated(swapped_ids, "the swapped sentence");
    char *swapped_text = sentence_swap_words(sentence, length - 2, length - 1, swapped_ids);
    check_allocated(swapped_text, "the swapped sentence");

    printf("\n== Sentence %zu: \"%s\" (n = %zu word%s)", index + 1, sentence->text, length,
           length == 1 ? "" : "s");
    if (length >= 2)
        printf(", swapped: \"%s\"", swapped_text);
    printf("\n\n%-24s %-12s %-16s %-7s %10s %14s %12s  %s\n", "stage", "swap", "vectors", "field",
           "parameters", "mult-adds", "peak bytes", "output");

    char notes[4096] = "";
    double seconds[TOUR_STAGE_COUNT];
    for (int stage = 0; stage < TOUR_STAGE_COUNT; stage++)
        print_stage_row((TourStage)stage, config, options, sentence, swapped_ids, notes,
                        sizeof notes, &seconds[stage]);
    if (notes[0] != '\0')
        printf("\n%s", notes);
    files_flush_stdout();
    print_times(seconds);
    free(swapped_ids);
    free(swapped_text);
}

/* ------------------------------------------------------------------------- */
/* The sweep                                                                  */
/* ------------------------------------------------------------------------- */

/* Returns the least-squares slope of log(y) against log(x) over @p count points. */
static double fit_exponent(const double *x, const double *y, int count)
{
    double mean_x = 0.0, mean_y = 0.0;
    for (int i = 0; i < count; i++) {
        mean_x += log(x[i]) / count;
        mean_y += log(y[i]) / count;
    }
    double covariance = 0.0, variance = 0.0;
    for (int i = 0; i < count; i++) {
        covariance += (log(x[i]) - mean_x) * (log(y[i]) - mean_y);
        variance += (log(x[i]) - mean_x) * (log(x[i]) - mean_x);
    }
    return covariance / variance;
}

/* The lengths one stage ran in the sweep, and what they cost. */
typedef struct StageSweep {
    int count;                      /* lengths that ran */
    double words[SWEEP_COUNT];      /* n */
    double counted[SWEEP_COUNT];    /* multiply-adds counted by the tape */
    double formula[SWEEP_COUNT];    /* multiply-adds of the README's formula */
    size_t peak_bytes[SWEEP_COUNT]; /* the arena's peak */
    char stop_reason[512];          /* why the sweep stopped early, or "" */
    int stop_words;                 /* the first length rejected, or 0 */
} StageSweep;

/* Writes a sentence of @p length words, the first sentence's ids repeated. Shapes: ids [length]. */
static void repeat_sentence(const Sentence *sentence, int length, int *ids)
{
    for (int t = 0; t < length; t++)
        ids[t] = sentence->ids[(size_t)t % sentence->words.count];
}

/* Runs one stage over SWEEP_WORDS, writing a CSV row per length that runs. */
static void sweep_stage(TourStage stage, const TourConfig *config, const Options *options,
                        CsvWriter *csv, StageSweep *result)
{
    TourModel *model = new_model(stage, config, options->common.seed);
    int ids[MAX_WORDS];
    *result = (StageSweep){.count = 0};

    for (int i = 0; i < SWEEP_COUNT; i++) {
        int n = SWEEP_WORDS[i];
        if (!tour_model_check(model, n, result->stop_reason, sizeof result->stop_reason)) {
            result->stop_words = n;
            break;
        }
        repeat_sentence(&options->common.sentences.items[0], n, ids);
        Measurement measured;
        measure_forward(model, ids, n, true, &measured);
        csv_row(csv, "%s,%d,%d,%llu,%zu,%.6g", tour_stage_name(stage), n, config->layers,
                measured.multiply_adds, measured.peak_bytes, measured.seconds);
        fprintf(stderr, "%s: sweep %s n = %d: %.3g s per forward pass\n", PROGRAM,
                tour_stage_name(stage), n, measured.seconds);

        result->words[result->count] = n;
        result->counted[result->count] = (double)measured.multiply_adds;
        result->peak_bytes[result->count] = measured.peak_bytes;
        if (!tour_formula_multiply_adds(stage, config, n, &result->formula[result->count]))
            result->formula[result->count] = NAN;
        result->count++;
    }
    tour_model_free(model);
}

/* Prints one stage's row of the exponent table. */
static void print_exponents(TourStage stage, const StageSweep *sweep)
{
    int first = sweep->count - FIT_POINTS;
    if (first < 0) {
        printf("%-24s fewer than %d lengths ran: no fit\n", tour_stage_name(stage), FIT_POINTS);
        return;
    }
    double measured = fit_exponent(sweep->words + first, sweep->counted + first, FIT_POINTS);
    double formula = fit_exponent(sweep->words + first, sweep->formula + first, FIT_POINTS);
    double difference = fabs(measured - formula);

    int last = sweep->count - 1;
    char range[32], fit[32];
    snprintf(range, sizeof range, "%g-%g", sweep->words[0], sweep->words[last]);
    snprintf(fit, sizeof fit, "%g-%g", sweep->words[first], sweep->words[last]);
    printf("%-24s %-8s %14.0f %12zu %-8s %8.3f %8.3f %6.3f  %-6s %s\n", tour_stage_name(stage),
           range, sweep->counted[last], sweep->peak_bytes[last], fit, measured, formula, difference,
           difference <= EXPONENT_TOLERANCE ? "yes" : "no", GROWTH[stage]);
}

/* Runs every stage over the sweep's lengths, prints the exponents, writes the CSV and figure. */
static void run_sweep(const Options *options)
{
    TourConfig config = tour_config(options, MAX_WORDS);
    ResultCsv csv;
    result_csv_open(&csv, PROGRAM, options->common.out_dir, "tour_sweep",
                    "stage,n,layers,multiply_adds,peak_bytes,seconds");

    printf("\n== Sweep: one forward pass on n = %d to %d words (\"%s\" repeated), P = %d\n\n"
           "mult-adds, peak bytes: one forward pass at the largest n the stage ran\n"
           "exponent: least-squares slope of log(multiply-adds) against log(n) over the\n"
           "%d largest n a stage ran; measured from the tape's counts, formula from the\n"
           "stage README's cost formula at the same n. within: |difference| <= %.2f\n\n",
           SWEEP_WORDS[0], MAX_WORDS, options->common.sentences.items[0].text, config.positions,
           FIT_POINTS, EXPONENT_TOLERANCE);
    printf("%-24s %-8s %14s %12s %-8s %8s %8s %6s  %-6s %s\n", "stage", "n", "mult-adds",
           "peak bytes", "fit n", "measured", "formula", "diff", "within", "formula's growth");

    char notes[4096] = "";
    for (int stage = 0; stage < TOUR_STAGE_COUNT; stage++) {
        StageSweep sweep;
        sweep_stage((TourStage)stage, &config, options, csv.writer, &sweep);
        print_exponents((TourStage)stage, &sweep);
        size_t used = strlen(notes);
        if (sweep.stop_words > 0)
            snprintf(notes + used, sizeof notes - used, "%s stops before n = %d: %s\n",
                     tour_stage_name((TourStage)stage), sweep.stop_words, sweep.stop_reason);
    }
    if (notes[0] != '\0')
        printf("\n%s", notes);

    result_csv_close(&csv, "tour_sweep.gp");
}

int main(int argc, char **argv)
{
    Options options;
    parse_options(argc, argv, &options);

    char error[512];
    if (!sentence_set_encode(&options.common.sentences, error, sizeof error)) {
        fprintf(stderr, "%s: %s\n", PROGRAM, error);
        return 1;
    }

    TourConfig config = tour_config(&options, table_positions(&options.common.sentences));
    print_table_header(&options, &config);
    for (size_t i = 0; i < options.common.sentences.count; i++)
        print_sentence_table(&options, &config, i);

    if (options.sweep)
        run_sweep(&options);
    program_options_free(&options.common);
    return result_exit_status();
}
