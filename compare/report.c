/* REPORT.md and the configuration block (see report.h). */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "01_cnn_baseline/cnn.h"
#include "attention.h"
#include "files.h"
#include "runner.h"

/* ------------------------------------------------------------------------- */
/* The configuration                                                          */
/* ------------------------------------------------------------------------- */

/* Prints "Adam, learning rate ..., batch ..., steps ..." for a recipe. */
static void print_recipe(const Recipe *r, FILE *out)
{
    fprintf(out,
            "Adam with learning rate %g, %d steps of %d sentences, gradient norm clipped to "
            "%g; accuracy on %d held-out sentences; a loss curve point every %d steps.\n",
            (double)r->learning_rate, r->steps, r->batch, (double)r->clip_norm,
            r->eval_batches * r->batch, r->curve_every);
}

static void print_distance_configuration(const Comparison *c, FILE *out)
{
    const Study *study = &c->distance;
    const DistanceSetup *setup = &c->settings.distance;
    int field = cnn_receptive_field(setup->cnn_layers);
    fprintf(out,
            "Task 1, distance: each sentence contains two spans, a subject word and, d "
            "words later, an object word. The label is whether each object belongs to its "
            "own subject or the two objects are swapped, so both classes contain the same "
            "words. The spans are %d words apart (the receptive field of the %d-layer CNN), "
            "so no other pair of words that reveals the label is within the CNN's reach. %d extra "
            "filler words are split at random between the start and the end. Vocabulary: %d "
            "words.\n\n",
            field, setup->cnn_layers, setup->margin, study->distance_tasks[0]->vocab->size);
    fprintf(out, "Distances:");
    for (size_t d = 0; d < study->distance_count; d++)
        fprintf(out, "%s %d", d ? "," : "", study->distances[d]);
    fprintf(out, ". Seeds: %llu to %llu. ", (unsigned long long)study->first_seed,
            (unsigned long long)(study->first_seed + (uint64_t)study->seed_count - 1));
    print_recipe(&study->recipe, out);
    fprintf(out,
            "Every model's width is chosen so that its parameter count is within %.0f%% of "
            "the stage 01 CNN's. The attention stages read learned position vectors drawn "
            "with standard deviation %g. Attention stages in this run:",
            100.0 * MODEL_MATCH_TOLERANCE, (double)ATTENTION_POSITION_STD);
    static const char *const STAGES[4] = {"05", "06", "07", "08"};
    for (int a = 0, listed = 0; a < 4; a++)
        if (setup->attention[a])
            fprintf(out, "%s %s", listed++ ? "," : "", STAGES[a]);
    bool all_stages =
        setup->attention[0] && setup->attention[1] && setup->attention[2] && setup->attention[3];
    fprintf(out, "%s\n\n", all_stages ? "." : " (the recipe leaves out the others to save time).");
}

static void print_order_configuration(const Comparison *c, FILE *out)
{
    const Study *study = &c->order;
    fprintf(out,
            "Task 2, order: \"the ADJECTIVE NOUN\" (label 1) against \"the NOUN ADJECTIVE\" "
            "(label 0), %d adjectives and %d nouns; stage 02 (one-hot words) against stage "
            "03 (one-hot words and positions), %d pairwise layer(s). Seeds: %llu to %llu. ",
            ORDER_TASK_WORDS, ORDER_TASK_WORDS, c->settings.order_layers,
            (unsigned long long)study->first_seed,
            (unsigned long long)(study->first_seed + (uint64_t)study->seed_count - 1));
    print_recipe(&study->recipe, out);
    fprintf(out, "\n");
}

static void print_text_configuration(const Comparison *c, FILE *out)
{
    const TextConfig *t = &c->text_runs[0].config;
    const Corpus *corpus = &c->corpus;
    fprintf(out,
            "Task 3, text: corpus %s, %zu words: the first %zu for training, the last %zu "
            "for validation. Vocabulary: the %d most frequent words and <unk>. Windows of "
            "%d words; Adam with learning rate %g, %d steps of %d windows (%zu training "
            "tokens for each model), gradient norm clipped to %g; seed %llu. The causal CNN "
            "has %d layer(s), so it reads the last %d words (its receptive field). Validation "
            "targets that are <unk> are left out.\n\n",
            c->options.corpus, corpus->count, corpus->train_count,
            corpus->count - corpus->train_count, corpus->vocab->size - 1, t->context,
            (double)t->learning_rate, t->steps, t->batch,
            (size_t)t->steps * (size_t)t->batch * (size_t)t->context, (double)t->clip_norm,
            (unsigned long long)t->seed, c->text_runs[0].spec.layers, t->receptive_field);
    fprintf(out, "| model | layers | width | heads | parameters |\n|---|---|---|---|---|\n");
    for (int r = 0; r < TEXT_MODELS; r++) {
        const TextRun *run = &c->text_runs[r];
        fprintf(out, "| %s | %d | %d | %d | %zu |\n", model_kind_name(run->spec.kind),
                run->spec.layers, run->spec.width, run->spec.heads, model_param_count(&run->spec));
    }
    fprintf(out, "\n");
}

void report_print_configuration(const Comparison *c, FILE *out)
{
    fprintf(out, "# CNN against attention\n\n## Configuration\n\nRecipe: %s.\n\n",
            c->options.quick ? "--quick" : "full");
    if (c->options.run_distance)
        print_distance_configuration(c, out);
    if (c->options.run_order)
        print_order_configuration(c, out);
    if (c->options.run_text)
        print_text_configuration(c, out);
}

/* ------------------------------------------------------------------------- */
/* REPORT.md                                                                  */
/* ------------------------------------------------------------------------- */

/* Writes the CPU model from /proc/cpuinfo (Linux), or "unknown processor". */
static void print_processor(FILE *out)
{
    FILE *info = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (info && fgets(line, sizeof line, info)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            line[strcspn(line, "\n")] = '\0';
            fprintf(out, "%s", colon + 2);
            fclose(info);
            return;
        }
    }
    if (info)
        fclose(info);
    fprintf(out, "unknown processor");
}

/* Writes what was run, where, when and how long it took. */
static void print_run_facts(const Comparison *c, FILE *out)
{
    time_t now = time(NULL);
    char date[64] = "unknown date";
    struct tm utc;
    if (gmtime_r(&now, &utc))
        strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &utc);
    struct utsname system;
    bool have_system = uname(&system) == 0;
    long processors = sysconf(_SC_NPROCESSORS_ONLN);

    fprintf(out, "Command: `%s`, run on %s. Machine: %s %s %s, ", c->options.command, date,
            have_system ? system.sysname : "?", have_system ? system.release : "?",
            have_system ? system.machine : "?");
    print_processor(out);
    fprintf(out,
            ", %ld processor(s); %d training run(s) at once, each on one thread (results do "
            "not depend on that number).\n\n",
            processors, c->options.threads);
    fprintf(out, "| task | status | wall time (s) |\n|---|---|---|\n");
    const char *names[3] = {"1, distance", "2, order", "3, text"};
    bool selected[3] = {c->options.run_distance, c->options.run_order, c->options.run_text};
    bool done[3] = {c->distance_done, c->order_done, c->text_done};
    double seconds[3] = {c->distance_seconds, c->order_seconds, c->text_seconds};
    for (int t = 0; t < 3; t++) {
        if (!selected[t])
            continue;
        const char *status = "not started";
        if (done[t] && c->csv_failed[t])
            status = "trained, CSV file not written";
        else if (done[t])
            status = "complete";
        else if (seconds[t] > 0.0)
            status = "interrupted";
        fprintf(out, "| %s | %s | %.2f |\n", names[t], status, seconds[t]);
    }
    fprintf(out, "| all | | %.2f |\n\n", c->total_seconds);
}

/* Links a figure when gnuplot drew it, or states why it is missing. */
static void print_figure(const Comparison *c, Figure figure, const char *caption, FILE *out)
{
    if (c->csv_failed[figure])
        fprintf(out, "Figure %s.png was not drawn because %s could not be written.\n\n",
                figure_name(figure), figure_csv(figure));
    else if (c->figure_failed[figure])
        fprintf(out,
                "Figure %s could not be written (see the messages on stderr); the data is in "
                "%s.\n\n",
                figure_name(figure), figure_csv(figure));
    else if (c->figure_drawn[figure])
        fprintf(out, "![%s](%s.png)\n\n(also %s.svg; data in %s)\n\n", caption, figure_name(figure),
                figure_name(figure), figure_csv(figure));
    else
        fprintf(out, "Figure %s.png was not drawn (is gnuplot installed?); the data is in %s.\n\n",
                figure_name(figure), figure_csv(figure));
}

/* Names the files of the finished tasks, or states that none finished. */
static void print_files(const Comparison *c, FILE *out)
{
    const char *names[3] = {"distance.csv", "order.csv", "text.csv"};
    bool written[3] = {c->distance_done && !c->csv_failed[FIGURE_DISTANCE],
                       c->order_done && !c->csv_failed[FIGURE_ORDER],
                       c->text_done && !c->csv_failed[FIGURE_TEXT]};
    if (!c->distance_done && !c->order_done && !c->text_done) {
        fprintf(out, "No task finished, so this run wrote no CSV file.\n");
        return;
    }
    if (!written[0] && !written[1] && !written[2]) {
        fprintf(out, "No task's CSV file could be written.");
    } else {
        fprintf(out, "Every run of every seed is in");
        bool first = true;
        for (int t = 0; t < 3; t++) {
            if (!written[t])
                continue;
            fprintf(out, "%s %s", first ? "" : ",", names[t]);
            first = false;
        }
        fprintf(out, ".");
    }
    fprintf(out, c->csv_failed[FIGURE_CURVES]
                     ? " curves.csv, the loss curves, could not be written.\n"
                     : " The loss curves of those runs are in curves.csv.\n");
}

/* Writes the report's body: the facts, the configuration and every finished task. */
static void print_report(const Comparison *c, FILE *out)
{
    report_print_configuration(c, out);
    fprintf(out, "## The run\n\n");
    if (runner_stop_requested() && comparison_all_done(c))
        fprintf(out, "Ctrl-C arrived during the last runs, which finished, so every task is "
                     "complete.\n\n");
    else if (runner_stop_requested())
        fprintf(out, "Interrupted with Ctrl-C: only the tasks marked complete below wrote their "
                     "files.\n\n");
    print_run_facts(c, out);

    if (c->distance_done) {
        fprintf(out, "## Task 1: distance\n\n");
        study_print_table(&c->distance, out);
        study_print_findings(&c->distance, out);
        print_figure(c, FIGURE_DISTANCE, "accuracy against distance", out);
    }
    if (c->order_done) {
        fprintf(out, "## Task 2: order\n\n");
        study_print_table(&c->order, out);
        print_figure(c, FIGURE_ORDER, "accuracy on the word order task", out);
    }
    if (c->text_done) {
        fprintf(out, "## Task 3: text\n\nValidation loss per bucket (by how far back the target "
                     "word last appeared in the window):\n\n");
        text_print_table(c->text_runs, TEXT_MODELS, out);
        print_figure(c, FIGURE_TEXT, "validation loss per bucket", out);
        print_figure(c, FIGURE_CURVES, "loss curves against steps and seconds", out);
        text_print_samples(c->text_runs, TEXT_MODELS, out);
    }
    print_files(c, out);
}

bool report_write(const Comparison *c, char *error, size_t error_size)
{
    char path[4096], temporary[4200];
    snprintf(path, sizeof path, "%s/REPORT.md", c->options.out);
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    FILE *out = create_new_file(temporary);
    if (!out) {
        snprintf(error, error_size, "cannot create %s: %s", temporary, strerror(errno));
        return false;
    }
    print_report(c, out);

    /* Flush to disk, then rename: the report appears whole or not at all. */
    bool ok = fflush(out) == 0 && !ferror(out) && fsync(fileno(out)) == 0;
    ok = fclose(out) == 0 && ok;
    if (!ok || rename(temporary, path) != 0) {
        snprintf(error, error_size, "cannot write %s: %s", path, strerror(errno));
        remove(temporary);
        return false;
    }
    return true;
}
