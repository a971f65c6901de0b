/* The outputs of a study: its CSV file, its loss curves and its tables (see study.h). */
#include "study.h"

#include <stdio.h>
#include <string.h>

/* Writes one run's row of distance.csv. */
static bool write_distance_row(CsvWriter *csv, const Study *study, size_t d, size_t m, size_t s)
{
    const ClassifierRun *run = study_run(study, d, m, s);
    double median = 0.0, min, max;
    if (run->skipped)
        return true;
    study_accuracy_summary(study, d, m, &median, &min, &max);
    char field[16] = "";
    int receptive_field = model_receptive_field(&run->spec);
    if (receptive_field > 0)
        snprintf(field, sizeof field, "%d", receptive_field);
    return csv_row(csv, "%s,%d,%d,%llu,%.4f,%zu,%s,%d,%d,%.4f,%.4f,%.2f",
                   model_kind_name(run->spec.kind), run->spec.layers, run->distance,
                   (unsigned long long)run->seed, (double)run->accuracy, run->params, field,
                   run->spec.width, run->spec.heads, median, (double)run->final_loss, run->seconds);
}

/* Writes one run's row of order.csv. */
static bool write_order_row(CsvWriter *csv, const Study *study, size_t m, size_t s)
{
    const ClassifierRun *run = study_run(study, 0, m, s);
    double median = 0.0, min, max;
    if (run->skipped)
        return true;
    study_accuracy_summary(study, 0, m, &median, &min, &max);
    return csv_row(csv, "%s,%llu,%.4f,%zu,%d,%d,%.4f,%.4f,%.2f", model_kind_name(run->spec.kind),
                   (unsigned long long)run->seed, (double)run->accuracy, run->params,
                   run->spec.layers, run->spec.width, median, (double)run->final_loss,
                   run->seconds);
}

bool study_write_csv(const Study *study, const char *directory, char *error, size_t error_size)
{
    bool distance = strcmp(study->task_name, "distance") == 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.csv", directory, study->task_name);
    const char *header =
        distance ? "model,layers,distance,seed,accuracy,params,receptive_field,width,heads,"
                   "median_accuracy,final_loss,seconds"
                 : "model,seed,accuracy,params,layers,width,median_accuracy,final_loss,seconds";
    CsvWriter *csv = csv_open(path, header, error, error_size);
    if (!csv)
        return false;

    /* Rows by model, then distance, then seed, so each model's line is drawn in order. */
    for (size_t m = 0; m < study->model_count; m++)
        for (size_t d = 0; d < study->distance_count; d++)
            for (size_t s = 0; s < (size_t)study->seed_count; s++)
                if (distance)
                    write_distance_row(csv, study, d, m, s);
                else
                    write_order_row(csv, study, m, s);
    return csv_close(csv, error, error_size);
}

bool study_write_curves(const Study *study, CsvWriter *writer)
{
    bool ok = true;
    for (size_t r = 0; r < study->run_count; r++) {
        const ClassifierRun *run = &study->runs[r];
        for (size_t p = 0; p < run->curve.count; p++) {
            const CurvePoint *point = &run->curve.points[p];
            char distance[16] = "";
            if (run->distance > 0)
                snprintf(distance, sizeof distance, "%d", run->distance);
            ok =
                csv_row(writer, "%s,%s,%llu,%d,%.3f,%.5f,%.5f,%s", run->task_name,
                        model_kind_name(run->spec.kind), (unsigned long long)run->seed, point->step,
                        point->seconds, point->train_loss, point->val_loss, distance) &&
                ok;
        }
    }
    return ok;
}

/* Prints the models' sizes: one Markdown row per model. */
static void print_models(const Study *study, FILE *out)
{
    fprintf(out, "| model | layers | width | heads | parameters | receptive field (words) |\n");
    fprintf(out, "|---|---|---|---|---|---|\n");
    for (size_t m = 0; m < study->model_count; m++) {
        const ModelSpec *spec = &study->specs[m];
        int field = model_receptive_field(spec);
        char field_text[24] = "all words";
        if (field > 0)
            snprintf(field_text, sizeof field_text, "%d", field);
        fprintf(out, "| %s | %d | %d | %d | %zu | %s |\n", model_kind_name(spec->kind),
                spec->layers, spec->width, spec->heads, study->params[m], field_text);
    }
    fprintf(out, "\n");
}

/* Explains the cells marked "not run", naming the models and the cost limit. */
static void print_skipped(const Study *study, FILE *out)
{
    bool any = false;
    for (size_t m = 0; m < study->model_count; m++) {
        int skipped = 0;
        for (size_t d = 0; d < study->distance_count; d++)
            skipped += study_run(study, d, m, 0)->skipped;
        if (skipped == 0)
            continue;
        if (!any)
            fprintf(out,
                    "Not run: runs whose estimated cost exceeds %.1e multiply-adds, to keep "
                    "the whole program within its time budget:",
                    study->max_run_cost);
        fprintf(out, "%s %s at %d distance(s)", any ? "," : "",
                model_kind_name(study->specs[m].kind), skipped);
        any = true;
    }
    if (any)
        fprintf(out, ". Stage 05 runs its two nets on every one of the n^2 word pairs, so its cost "
                     "grows with the square of the sentence length.\n\n");
}

void study_print_table(const Study *study, FILE *out)
{
    print_models(study, out);
    bool distance = strcmp(study->task_name, "distance") == 0;
    fprintf(out, "Held-out accuracy, median over %d seeds [lowest, highest]:\n\n",
            study->seed_count);

    /* Header: one column per model. */
    fprintf(out, "| %s |", distance ? "distance" : "task");
    for (size_t m = 0; m < study->model_count; m++)
        fprintf(out, " %s |", model_kind_name(study->specs[m].kind));
    fprintf(out, "\n|---|");
    for (size_t m = 0; m < study->model_count; m++)
        fprintf(out, "---|");
    fprintf(out, "\n");

    /* One row per distance. */
    for (size_t d = 0; d < study->distance_count; d++) {
        if (distance)
            fprintf(out, "| %d |", study->distances[d]);
        else
            fprintf(out, "| order |");
        for (size_t m = 0; m < study->model_count; m++) {
            double median, min, max;
            if (study_accuracy_summary(study, d, m, &median, &min, &max))
                fprintf(out, " %.2f [%.2f, %.2f] |", median, min, max);
            else
                fprintf(out, " not run |");
        }
        fprintf(out, "\n");
    }
    fprintf(out, "\n");
    print_skipped(study, out);
}

/* Returns the index of model @p kind in the study, or -1. */
static int find_model(const Study *study, ModelKind kind)
{
    for (size_t m = 0; m < study->model_count; m++)
        if (study->specs[m].kind == kind)
            return (int)m;
    return -1;
}

/* Returns the lowest (or highest) median accuracy of model m over distances d with lo <= d <= hi.
 */
static double extreme_median(const Study *study, size_t m, int lo, int hi, bool lowest, int *seen)
{
    double extreme = lowest ? 2.0 : -1.0;
    *seen = 0;
    for (size_t d = 0; d < study->distance_count; d++) {
        if (study->distances[d] < lo || study->distances[d] > hi)
            continue;
        double median, min, max;
        if (!study_accuracy_summary(study, d, m, &median, &min, &max))
            continue;
        if (lowest ? median < extreme : median > extreme)
            extreme = median;
        (*seen)++;
    }
    return extreme;
}

void study_print_findings(const Study *study, FILE *out)
{
    int cnn = find_model(study, MODEL_CNN), bag = find_model(study, MODEL_BAG_OF_WORDS);
    if (cnn < 0)
        return;
    int layers = study->specs[cnn].layers;
    int seen;
    fprintf(out, "Checks on the medians over seeds:\n\n");

    double inside = extreme_median(study, (size_t)cnn, 1, layers, true, &seen);
    fprintf(out,
            "- 01_cnn_baseline (L = %d) at every distance d <= L: lowest median %.2f, %s 0.90\n",
            layers, inside, inside >= 0.9 ? "at least" : "below");
    double beyond = extreme_median(study, (size_t)cnn, 2 * layers + 1, 1 << 30, false, &seen);
    if (seen > 0)
        fprintf(out,
                "- 01_cnn_baseline at every distance d > 2L = %d: highest median %.2f, %s 0.65\n",
                2 * layers, beyond, beyond <= 0.65 ? "at most" : "above");

    /* The attention stage whose worst distance is best. */
    int best = -1;
    double best_lowest = -1.0;
    for (size_t m = 0; m < study->model_count; m++) {
        ModelKind kind = study->specs[m].kind;
        if (kind < MODEL_SCORED_ATTENTION || kind > MODEL_TRANSFORMER)
            continue;
        double lowest = extreme_median(study, m, 0, 1 << 30, true, &seen);
        if (seen == (int)study->distance_count && lowest > best_lowest) {
            best_lowest = lowest;
            best = (int)m;
        }
    }
    if (best >= 0)
        fprintf(out,
                "- best attention stage, %s: lowest median over every distance %.2f, %s 0.90\n",
                model_kind_name(study->specs[best].kind), best_lowest,
                best_lowest >= 0.9 ? "at least" : "below");
    if (bag >= 0) {
        double highest = extreme_median(study, (size_t)bag, 0, 1 << 30, false, &seen);
        fprintf(out, "- control_bag_of_words: highest median %.2f, %s 0.65\n", highest,
                highest <= 0.65 ? "at most" : "above");
    }
    fprintf(out, "\n");
}
