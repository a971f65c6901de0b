/* The comparison's plan and phases (see compare.h). */
#define _POSIX_C_SOURCE 200809L
#include "compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "files.h"
#include "plot.h"
#include "report.h"
#include "result_file.h"
#include "runner.h"

/* Widths tried when matching the transformer of task 3 to the causal CNN. */
#define MAX_TEXT_WIDTH 1024

/* The smallest corpus part (training or validation) task 3 accepts, in windows. */
#define MIN_CORPUS_WINDOWS 8

static const char *const FIGURE_NAMES[FIGURE_COUNT] = {"compare_distance", "compare_order",
                                                       "compare_text", "compare_curves"};
static const char *const FIGURE_CSVS[FIGURE_COUNT] = {"distance.csv", "order.csv", "text.csv",
                                                      "curves.csv"};

const char *figure_name(Figure figure) { return FIGURE_NAMES[figure]; }

const char *figure_csv(Figure figure) { return FIGURE_CSVS[figure]; }

/* ------------------------------------------------------------------------- */
/* Planning                                                                   */
/* ------------------------------------------------------------------------- */

/* Loads the corpus; a missing or unreadable file names both ways to get one. */
static bool load_corpus(Comparison *c, char *error, size_t error_size)
{
    const TextSettings *t = &c->settings.text;
    char reason[768];
    size_t min_words = (size_t)MIN_CORPUS_WINDOWS * (size_t)(t->context + 1);
    if (corpus_load(c->options.corpus, t->vocab_size, t->validation_fraction, min_words, &c->corpus,
                    reason, sizeof reason))
        return true;
    snprintf(error, error_size,
             "task 3 (text) needs a corpus: %s. Run `make data` to extract the default corpus "
             "(the King James Bible of Debian's bible-kjv package) into data/kjv.txt, or pass "
             "another UTF-8 text file with --corpus FILE (or leave out task 3 with --tasks "
             "distance,order).",
             reason);
    c->corpus_rejected = true;
    return false;
}

/* Runs one text run (the Job callback). */
static bool run_text_job(void *argument, Display *display, int slot)
{
    return text_run_execute(argument, display, slot);
}

/* Plans task 3: the causal CNN sets the parameter budget and stage 08 matches it. */
static bool plan_text(Comparison *c, char *error, size_t error_size)
{
    const TextSettings *t = &c->settings.text;
    int vocab_size = c->corpus.vocab->size;
    ModelSpec cnn = {.kind = MODEL_CNN,
                     .vocab_size = vocab_size,
                     .classes = 1,
                     .layers = t->cnn_layers,
                     .heads = 1,
                     .width = t->cnn_width,
                     .language_model = true};
    size_t target = model_param_count(&cnn);
    ModelSpec transformer = {.kind = MODEL_TRANSFORMER,
                             .vocab_size = vocab_size,
                             .positions = t->context,
                             .classes = 1,
                             .layers = t->transformer_layers,
                             .heads = t->transformer_heads,
                             .language_model = true};
    size_t count = model_match_width(&transformer, target, MAX_TEXT_WIDTH);
    double difference = count > target ? (double)(count - target) : (double)(target - count);
    if (target == 0 || count == 0 || difference > MODEL_MATCH_TOLERANCE * (double)target) {
        snprintf(error, error_size,
                 "cannot match 08_transformer_block to the causal CNN's %zu "
                 "parameters within 15%%: the closest width gives %zu",
                 target, count);
        return false;
    }

    TextConfig config = {.context = t->context,
                         .batch = t->batch,
                         .steps = t->steps,
                         .learning_rate = t->learning_rate,
                         .clip_norm = 1.0f,
                         .eval_every = t->eval_every,
                         .eval_windows = t->eval_windows,
                         .seed = c->options.seed,
                         .receptive_field = model_receptive_field(&cnn),
                         .temperature = t->temperature,
                         .sample_words = t->sample_words};
    ModelSpec specs[TEXT_MODELS] = {cnn, transformer};
    for (int r = 0; r < TEXT_MODELS; r++) {
        TextRun *run = &c->text_runs[r];
        run->spec = specs[r];
        run->corpus = &c->corpus;
        run->config = config;
        snprintf(run->label, sizeof run->label, "text %s", model_kind_name(specs[r].kind));
        c->text_jobs[r] = (Job){.run = run_text_job, .argument = run, .cost = text_run_cost(run)};
    }
    return true;
}

bool comparison_prepare(Comparison *c, const Options *options, char *error, size_t error_size)
{
    memset(c, 0, sizeof *c);
    c->options = *options;
    settings_init(&c->settings, options->quick);
    Settings *s = &c->settings;

    /* The corpus first, so that a missing file stops the program before anything else. */
    if (options->run_text && !load_corpus(c, error, error_size))
        return false;
    if (options->run_distance &&
        !study_new_distance(&c->distance, &s->distance, s->seed_count, options->seed,
                            s->distance_recipe, error, error_size))
        return false;
    if (options->run_order &&
        !study_new_order(&c->order, s->order_layers, s->order_width, s->seed_count, options->seed,
                         s->order_recipe, error, error_size))
        return false;
    return !options->run_text || plan_text(c, error, error_size);
}

void comparison_free(Comparison *c)
{
    study_free(&c->distance);
    study_free(&c->order);
    for (int r = 0; r < TEXT_MODELS; r++)
        curve_free(&c->text_runs[r].curve);
    corpus_free(&c->corpus);
}

/* ------------------------------------------------------------------------- */
/* Figures and curves                                                         */
/* ------------------------------------------------------------------------- */

/*
 * Draws one figure as NAME.png and NAME.svg from its CSV in the output
 * directory. plot_render lets gnuplot write a temporary file and renames it,
 * so an interrupted gnuplot never leaves a half-written figure. It never
 * writes through a link, FIFO or folder at the figure's name, and such a
 * figure is reported as a result file that could not be written. gnuplot
 * runs in a process group of its own, so a Ctrl-C in the terminal does not
 * stop the figure of a task that finished.
 */
static bool draw_figure(Comparison *c, Figure figure)
{
    static const char *const EXTENSIONS[] = {"png", "svg"};
    char script[96], csv[4096], path[4200], error[8600];
    snprintf(script, sizeof script, "%s.gp", figure_name(figure));
    snprintf(csv, sizeof csv, "%s/%s", c->options.out, figure_csv(figure));
    bool drawn = true;
    for (int e = 0; e < 2; e++) {
        snprintf(path, sizeof path, "%s/%s.%s", c->options.out, figure_name(figure), EXTENSIONS[e]);
        PlotResult result = plot_render(script, csv, path, error, sizeof error);
        if (result == PLOT_WRITE_FAILED) {
            result_file_failed(COMPARE_PROGRAM, "%s", error);
            c->figure_failed[figure] = true;
        }
        drawn = drawn && result == PLOT_DRAWN;
    }
    c->figure_drawn[figure] = drawn;
    return drawn;
}

/* Writes curves.csv with the loss curves of every finished task. */
static void write_curves(Comparison *c)
{
    char path[4096], error[1024];
    snprintf(path, sizeof path, "%s/curves.csv", c->options.out);
    CsvWriter *csv = csv_open(path, CURVES_CSV_HEADER, error, sizeof error);
    if (csv) {
        if (c->distance_done)
            study_write_curves(&c->distance, csv);
        if (c->order_done)
            study_write_curves(&c->order, csv);
        if (c->text_done)
            text_write_curves(c->text_runs, TEXT_MODELS, csv);
    }
    if (!csv || !csv_close(csv, error, sizeof error)) {
        result_file_failed(COMPARE_PROGRAM, "%s", error);
        c->csv_failed[FIGURE_CURVES] = true;
    }
}

/* Draws the figure of a task's CSV file, or reports the error of writing that file. */
static void finish_task_csv(Comparison *c, Figure figure, bool written, const char *error)
{
    if (written) {
        draw_figure(c, figure);
        return;
    }
    result_file_failed(COMPARE_PROGRAM, "%s; the task's tables are still printed", error);
    c->csv_failed[figure] = true;
}

/* ------------------------------------------------------------------------- */
/* The phases                                                                 */
/* ------------------------------------------------------------------------- */

/* Runs the jobs of one task; returns whether all of them finished. */
static bool run_jobs(Comparison *c, Job *jobs, size_t count, Display *display, double *seconds)
{
    double start = time_now_seconds();
    size_t finished = runner_execute(jobs, count, c->options.threads, display);
    *seconds = time_now_seconds() - start;
    c->total_seconds += *seconds;
    return finished == count;
}

/* Task 1 or 2: train the grid, then write its CSV and figure and print its table. */
static void run_study(Comparison *c, Study *study, Figure figure, bool *done, double *seconds,
                      Display *display)
{
    if (!run_jobs(c, study->jobs, study->job_count, display, seconds))
        return;
    char error[1024];
    finish_task_csv(c, figure, study_write_csv(study, c->options.out, error, sizeof error), error);
    *done = true;

    printf("## Task %d: %s\n\n", figure == FIGURE_DISTANCE ? 1 : 2, study->task_name);
    study_print_table(study, stdout);
    if (figure == FIGURE_DISTANCE)
        study_print_findings(study, stdout);
    files_flush_stdout();
}

/* Task 3: train both models, then write text.csv and its figure and print the tables. */
static void run_text(Comparison *c, Display *display)
{
    if (!run_jobs(c, c->text_jobs, TEXT_MODELS, display, &c->text_seconds))
        return;
    char error[1024];
    finish_task_csv(c, FIGURE_TEXT,
                    text_write_csv(c->text_runs, TEXT_MODELS, c->options.out, error, sizeof error),
                    error);
    c->text_done = true;

    printf("## Task 3: text\n\n");
    text_print_table(c->text_runs, TEXT_MODELS, stdout);
    text_print_samples(c->text_runs, TEXT_MODELS, stdout);
    files_flush_stdout();
}

/* Returns the number of runs and their total cost over the selected tasks. */
static size_t count_runs(const Comparison *c, double *cost)
{
    size_t runs = 0;
    *cost = 0.0;
    if (c->options.run_distance) {
        runs += c->distance.job_count;
        *cost += study_cost(&c->distance);
    }
    if (c->options.run_order) {
        runs += c->order.job_count;
        *cost += study_cost(&c->order);
    }
    if (c->options.run_text)
        for (int r = 0; r < TEXT_MODELS; r++) {
            runs++;
            *cost += c->text_jobs[r].cost;
        }
    return runs;
}

bool comparison_run(Comparison *c, char *error, size_t error_size)
{
    double cost;
    size_t runs = count_runs(c, &cost);
    Display *display = display_new(c->options.threads, runs, cost);
    if (!display) {
        snprintf(error, error_size, "out of memory starting the progress display");
        return false;
    }
    report_print_configuration(c, stdout);
    files_flush_stdout();

    if (c->options.run_distance && !runner_stop_requested())
        run_study(c, &c->distance, FIGURE_DISTANCE, &c->distance_done, &c->distance_seconds,
                  display);
    if (c->options.run_order && !runner_stop_requested())
        run_study(c, &c->order, FIGURE_ORDER, &c->order_done, &c->order_seconds, display);
    if (c->options.run_text && !runner_stop_requested())
        run_text(c, display);
    display_free(display);

    /* The curves of every finished task, then the report. */
    if (c->distance_done || c->order_done || c->text_done)
        write_curves(c);
    if (c->text_done && !c->csv_failed[FIGURE_CURVES])
        draw_figure(c, FIGURE_CURVES);
    char report_error[1024];
    if (!report_write(c, report_error, sizeof report_error))
        result_file_failed(COMPARE_PROGRAM, "%s", report_error);
    return true;
}

bool comparison_all_done(const Comparison *c)
{
    return (!c->options.run_distance || c->distance_done) &&
           (!c->options.run_order || c->order_done) && (!c->options.run_text || c->text_done);
}
