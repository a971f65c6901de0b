/* What task 3 writes: text.csv, its loss curves, its table and samples (see text.h). */
#include "text.h"

#include <math.h>

bool text_write_csv(const TextRun *runs, int count, const char *directory, char *error,
                    size_t error_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/text.csv", directory);
    CsvWriter *csv = csv_open(
        path, "model,bucket,tokens,loss,perplexity,params,receptive_field,seed", error, error_size);
    if (!csv)
        return false;
    for (int r = 0; r < count; r++) {
        const TextRun *run = &runs[r];
        char field[16] = "";
        int receptive_field = model_receptive_field(&run->spec);
        if (receptive_field > 0)
            snprintf(field, sizeof field, "%d", receptive_field);
        for (int b = 0; b < BUCKET_COUNT; b++)
            csv_row(csv, "%s,%s,%ld,%.5f,%.3f,%zu,%s,%llu", model_kind_name(run->spec.kind),
                    text_bucket_name((TextBucket)b), run->tokens[b], run->loss[b],
                    exp(run->loss[b]), run->params, field, (unsigned long long)run->config.seed);
    }
    return csv_close(csv, error, error_size);
}

bool text_write_curves(const TextRun *runs, int count, CsvWriter *writer)
{
    bool ok = true;
    for (int r = 0; r < count; r++)
        for (size_t p = 0; p < runs[r].curve.count; p++) {
            const CurvePoint *point = &runs[r].curve.points[p];
            ok =
                csv_row(writer, "text,%s,%llu,%d,%.3f,%.5f,%.5f,",
                        model_kind_name(runs[r].spec.kind), (unsigned long long)runs[r].config.seed,
                        point->step, point->seconds, point->train_loss, point->val_loss) &&
                ok;
        }
    return ok;
}

void text_print_table(const TextRun *runs, int count, FILE *out)
{
    fprintf(out, "| model | parameters | bucket | targets | loss (nats) | perplexity |\n");
    fprintf(out, "|---|---|---|---|---|---|\n");
    for (int r = 0; r < count; r++)
        for (int b = 0; b < BUCKET_COUNT; b++)
            fprintf(out, "| %s | %zu | %s | %ld | %.3f | %.1f |\n",
                    model_kind_name(runs[r].spec.kind), runs[r].params,
                    text_bucket_name((TextBucket)b), runs[r].tokens[b], runs[r].loss[b],
                    exp(runs[r].loss[b]));
    fprintf(out, "\n");
}

void text_print_samples(const TextRun *runs, int count, FILE *out)
{
    if (count < 1)
        return;
    fprintf(out,
            "Samples: %d words after each prompt, temperature %.2f, sampling seed derived from "
            "seed %llu (the same for both models); <unk> is never sampled.\n\n",
            runs[0].config.sample_words, (double)runs[0].config.temperature,
            (unsigned long long)runs[0].config.seed);
    for (int r = 0; r < count; r++) {
        fprintf(out, "%s:\n\n", model_kind_name(runs[r].spec.kind));
        for (int p = 0; p < TEXT_SAMPLE_COUNT; p++)
            fprintf(out, "    %s\n", runs[r].samples[p]);
        fprintf(out, "\n");
    }
}
