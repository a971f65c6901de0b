/* Next-word prediction on real text (see text.h). */
#include "text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ops.h"
#include "rng.h"
#include "runner.h"

/* Random streams: training windows, and the samples (one stream per prompt from here on). */
#define WINDOW_STREAM 3
#define SAMPLE_STREAM 20
#define INIT_STREAM 11

/* Validation windows per forward pass. */
#define EVAL_BATCH 32

const char *const TEXT_PROMPTS[TEXT_SAMPLE_COUNT] = {
    "in the beginning",
    "and the lord said unto moses",
    "blessed are the",
};

static const char *const BUCKET_NAMES[BUCKET_COUNT] = {"all", "absent", "within_rf", "beyond_rf"};

const char *text_bucket_name(TextBucket bucket)
{
    return (int)bucket >= 0 && bucket < BUCKET_COUNT ? BUCKET_NAMES[bucket] : "unknown";
}

TextBucket text_bucket(const int *ids, int t, int receptive_field)
{
    int target = ids[t + 1];
    for (int p = t; p >= 0; p--) {
        if (ids[p] != target)
            continue;
        /* The target sits at t + 1, so this occurrence is t + 1 - p words before it. */
        return t + 1 - p <= receptive_field ? BUCKET_WITHIN_RF : BUCKET_BEYOND_RF;
    }
    return BUCKET_ABSENT;
}

/* Copies @p batch random training windows of context + 1 words into windows [batch, context + 1].
 */
static void sample_windows(const Corpus *corpus, Rng *rng, int batch, int context, int *windows)
{
    uint32_t starts = (uint32_t)(corpus->train_count - (size_t)context);
    for (int b = 0; b < batch; b++) {
        size_t start = rng_below(rng, starts);
        memcpy(windows + (size_t)b * (size_t)(context + 1), corpus->ids + start,
               (size_t)(context + 1) * sizeof(int));
    }
}

/* Splits windows [batch, context + 1] into inputs [batch * context] and targets [batch * context].
 */
static void split_windows(const int *windows, int batch, int context, int *inputs, int *targets)
{
    for (int b = 0; b < batch; b++) {
        const int *window = windows + (size_t)b * (size_t)(context + 1);
        memcpy(inputs + (size_t)b * (size_t)context, window, (size_t)context * sizeof(int));
        memcpy(targets + (size_t)b * (size_t)context, window + 1, (size_t)context * sizeof(int));
    }
}

/* Returns -log softmax(row)[target], computed in double with the row maximum subtracted. */
static double row_cross_entropy(const float *row, int classes, int target)
{
    float max = row[0];
    for (int c = 1; c < classes; c++)
        if (row[c] > max)
            max = row[c];
    double sum = 0.0;
    for (int c = 0; c < classes; c++)
        sum += exp((double)row[c] - (double)max);
    return log(sum) - ((double)row[target] - (double)max);
}

/* Sums of the validation loss and target counts per bucket. */
typedef struct BucketSums {
    double loss[BUCKET_COUNT];
    long tokens[BUCKET_COUNT];
} BucketSums;

/* Adds the losses of a batch of validation windows [count, context + 1] to @p sums. */
static void add_window_losses(const Model *model, const int *windows, int count, int context,
                              int receptive_field, Tape *tape, int *inputs, BucketSums *sums)
{
    int *unused_targets = inputs + (size_t)count * (size_t)context;
    split_windows(windows, count, context, inputs, unused_targets);
    tape_reset(tape);
    Tensor *logits = model->forward(tape, model->impl, inputs, count, context);
    int classes = tensor_cols(logits);

    for (int w = 0; w < count; w++) {
        const int *window = windows + (size_t)w * (size_t)(context + 1);
        for (int t = 0; t < context; t++) {
            if (window[t + 1] == VOCAB_UNKNOWN_ID)
                continue;
            size_t row = (size_t)w * (size_t)context + (size_t)t;
            double loss =
                row_cross_entropy(logits->data + row * (size_t)classes, classes, window[t + 1]);
            TextBucket bucket = text_bucket(window, t, receptive_field);
            sums->loss[BUCKET_ALL] += loss;
            sums->tokens[BUCKET_ALL]++;
            sums->loss[bucket] += loss;
            sums->tokens[bucket]++;
        }
    }
}

/*
 * Measures the validation loss per bucket over the first @p max_windows
 * non-overlapping validation windows (all of them when max_windows <= 0).
 * Returns the loss of BUCKET_ALL.
 */
static double evaluate(const Model *model, const Corpus *corpus, int context, int receptive_field,
                       int max_windows, BucketSums *sums)
{
    size_t validation = corpus->count - corpus->train_count;
    size_t available = (validation - 1) / (size_t)context;
    if (max_windows > 0 && (size_t)max_windows < available)
        available = (size_t)max_windows;

    int *windows = malloc((size_t)EVAL_BATCH * (size_t)(context + 1) * sizeof *windows);
    int *buffers = malloc(2 * (size_t)EVAL_BATCH * (size_t)context * sizeof *buffers);
    if (!windows || !buffers)
        core_fatal("out of memory allocating validation windows of %d words", context);
    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    memset(sums, 0, sizeof *sums);

    /* Window w starts at word w * context of the validation part and has context + 1 words. */
    for (size_t first = 0; first < available; first += EVAL_BATCH) {
        int count = (int)(available - first < EVAL_BATCH ? available - first : EVAL_BATCH);
        for (int w = 0; w < count; w++)
            memcpy(windows + (size_t)w * (size_t)(context + 1),
                   corpus->ids + corpus->train_count + (first + (size_t)w) * (size_t)context,
                   (size_t)(context + 1) * sizeof *windows);
        add_window_losses(model, windows, count, context, receptive_field, &tape, buffers, sums);
    }

    tape_free(&tape);
    free(windows);
    free(buffers);
    return sums->tokens[BUCKET_ALL] ? sums->loss[BUCKET_ALL] / (double)sums->tokens[BUCKET_ALL]
                                    : NAN;
}

/* Draws an index from softmax(row / temperature), never VOCAB_UNKNOWN_ID. */
static int sample_row(const float *row, int classes, float temperature, Rng *rng)
{
    float max = row[1];
    for (int c = 2; c < classes; c++)
        if (row[c] > max)
            max = row[c];
    double total = 0.0;
    for (int c = 1; c < classes; c++)
        total += exp(((double)row[c] - (double)max) / (double)temperature);

    double pick = (double)rng_uniform(rng) * total;
    for (int c = 1; c < classes; c++) {
        pick -= exp(((double)row[c] - (double)max) / (double)temperature);
        if (pick <= 0.0)
            return c;
    }
    return classes - 1;
}

/* Appends " word" (or "word" at the start) to out when it fits. */
static void append_word(char *out, size_t out_size, const char *word)
{
    size_t used = strlen(out);
    if (used + strlen(word) + 2 <= out_size)
        snprintf(out + used, out_size - used, "%s%s", used > 0 ? " " : "", word);
}

/*
 * Writes @p prompt's words and @p words sampled words into @p out. The model
 * reads at most the last `context` words. Unknown prompt words enter as <unk>.
 */
static void sample_text(const Model *model, const Corpus *corpus, const TextConfig *config,
                        const char *prompt, Rng *rng, char *out, size_t out_size)
{
    out[0] = '\0';
    TokenList tokens;
    token_list_init(&tokens);
    char reason[128];
    if (!tokenize(prompt, strlen(prompt), &tokens, reason, sizeof reason) || tokens.count == 0)
        core_fatal("cannot tokenize the sample prompt \"%s\"", prompt);

    /* ids contains the prompt, then the sampled words. */
    size_t count = tokens.count;
    int *ids = malloc((count + (size_t)config->sample_words) * sizeof *ids);
    if (!ids)
        core_fatal("out of memory sampling %d words", config->sample_words);
    vocab_encode(corpus->vocab, &tokens, ids);
    for (size_t i = 0; i < count; i++)
        append_word(out, out_size, token_list_get(&tokens, i));
    token_list_free(&tokens);

    Tape tape;
    tape_init(&tape);
    tape.grad_enabled = false;
    for (int w = 0; w < config->sample_words; w++) {
        size_t length = count < (size_t)config->context ? count : (size_t)config->context;
        tape_reset(&tape);
        Tensor *logits = model->forward(&tape, model->impl, ids + count - length, 1, (int)length);
        int classes = tensor_cols(logits);
        int next = sample_row(logits->data + (length - 1) * (size_t)classes, classes,
                              config->temperature, rng);
        ids[count++] = next;
        append_word(out, out_size, vocab_word(corpus->vocab, next));
    }
    tape_free(&tape);
    free(ids);
}

/* The buffers and optimiser of one text run's training loop. */
typedef struct TextTrainer {
    int *windows; /* [batch, context + 1] */
    int *inputs;  /* [batch * context] */
    int *targets; /* [batch * context] */
    Adam *adam;
    Tape tape;
    Rng rng; /* draws the training windows */
} TextTrainer;

/* Adds a curve point: mean training loss since the last one and a validation loss. */
static void add_curve_point(TextRun *run, const Model *model, int step, double train_seconds,
                            double train_loss)
{
    BucketSums sums;
    double val_loss = evaluate(model, run->corpus, run->config.context, run->config.receptive_field,
                               run->config.eval_windows, &sums);
    CurvePoint point = {
        .step = step, .seconds = train_seconds, .train_loss = train_loss, .val_loss = val_loss};
    if (!curve_append(&run->curve, point))
        core_fatal("out of memory recording the loss curve of %s", run->label);
}

/* Runs one optimiser step on a fresh batch of windows and returns its loss. */
static double train_step(TextTrainer *trainer, const Model *model, const TextRun *run, int step)
{
    const TextConfig *c = &run->config;
    tape_reset(&trainer->tape);
    sample_windows(run->corpus, &trainer->rng, c->batch, c->context, trainer->windows);
    split_windows(trainer->windows, c->batch, c->context, trainer->inputs, trainer->targets);
    Tensor *logits =
        model->forward(&trainer->tape, model->impl, trainer->inputs, c->batch, c->context);
    Tensor *loss = op_cross_entropy(&trainer->tape, logits, trainer->targets);

    params_zero_grad(model->params);
    tape_backward(&trainer->tape, loss);
    params_clip_grad_norm(model->params, c->clip_norm);
    const char *bad = params_all_finite(model->params);
    if (bad || !isfinite(loss->data[0]))
        core_fatal("%s diverged at step %d: %s is not finite; lower the learning rate", run->label,
                   step, bad ? bad : "the loss");
    adam_step(trainer->adam);
    return loss->data[0];
}

/*
 * Trains the model, recording the loss curve; the clock stops while validation
 * runs. Returns false when it stopped early after a stop request.
 */
static bool train_text_model(TextRun *run, const Model *model, Display *display, int slot)
{
    const TextConfig *c = &run->config;
    size_t tokens = (size_t)c->batch * (size_t)c->context;
    TextTrainer trainer = {0};
    trainer.windows = malloc((size_t)c->batch * (size_t)(c->context + 1) * sizeof(int));
    trainer.inputs = malloc(tokens * sizeof(int));
    trainer.targets = malloc(tokens * sizeof(int));
    AdamOptions options = adam_default_options();
    options.lr = c->learning_rate;
    trainer.adam = adam_new(model->params, options);
    if (!trainer.windows || !trainer.inputs || !trainer.targets || !trainer.adam)
        core_fatal("out of memory setting up the training of %s", run->label);
    tape_init(&trainer.tape);
    rng_seed(&trainer.rng, runner_seed(c->seed, "text"), WINDOW_STREAM);

    double loss_sum = 0.0, train_seconds = 0.0;
    int loss_steps = 0;
    int step = 1;
    for (; step <= c->steps && !runner_stop_requested(); step++) {
        double before = time_now_seconds();
        loss_sum += train_step(&trainer, model, run, step);
        loss_steps++;
        train_seconds += time_now_seconds() - before;
        display_step(display, slot, step, loss_sum / loss_steps);
        if (step % c->eval_every == 0 || step == c->steps) {
            add_curve_point(run, model, step, train_seconds, loss_sum / loss_steps);
            loss_sum = 0.0;
            loss_steps = 0;
        }
    }
    run->seconds = train_seconds;

    tape_free(&trainer.tape);
    adam_free(trainer.adam);
    free(trainer.windows);
    free(trainer.inputs);
    free(trainer.targets);
    return step > c->steps;
}

bool text_run_execute(TextRun *run, Display *display, int slot)
{
    char init_name[96];
    snprintf(init_name, sizeof init_name, "text/%s", model_kind_name(run->spec.kind));
    Rng rng;
    rng_seed(&rng, runner_seed(run->config.seed, init_name), INIT_STREAM);
    Model *model = model_new(&run->spec, &rng);
    if (!model)
        core_fatal("could not build %s with width %d", run->label, run->spec.width);
    run->params = model->param_count;

    display_begin(display, slot, run->label, run->config.steps, text_run_cost(run));
    if (!train_text_model(run, model, display, slot)) {
        display_end(display, slot, "stopped early: interrupted");
        model_free(model);
        return false;
    }

    /* The final loss over every validation window, per bucket. */
    BucketSums sums;
    evaluate(model, run->corpus, run->config.context, run->config.receptive_field, 0, &sums);
    for (int b = 0; b < BUCKET_COUNT; b++) {
        run->tokens[b] = sums.tokens[b];
        run->loss[b] = sums.tokens[b] ? sums.loss[b] / (double)sums.tokens[b] : NAN;
    }

    /* Samples: the same prompts and sampling seeds for both models. */
    for (int p = 0; p < TEXT_SAMPLE_COUNT; p++) {
        Rng sample_rng;
        rng_seed(&sample_rng, runner_seed(run->config.seed, "text/samples"),
                 SAMPLE_STREAM + (uint64_t)p);
        sample_text(model, run->corpus, &run->config, TEXT_PROMPTS[p], &sample_rng, run->samples[p],
                    TEXT_SAMPLE_BYTES);
    }

    run->finished = true;
    char summary[96];
    snprintf(summary, sizeof summary, "validation loss %.3f, %.1f s", run->loss[BUCKET_ALL],
             run->seconds);
    display_end(display, slot, summary);
    model_free(model);
    return true;
}

double text_run_cost(const TextRun *run)
{
    const TextConfig *c = &run->config;
    double per_window = model_cost_per_sentence(&run->spec, c->context);
    double validation_windows =
        (double)(run->corpus->count - run->corpus->train_count) / (double)c->context;
    int curve_points = c->steps / c->eval_every + 1;
    return 3.0 * per_window * c->batch * c->steps +
           per_window * (curve_points * c->eval_windows + validation_windows);
}
