/*
 * The C side of the training-step benchmarks: the stage 08 transformer and a
 * causal CNN built from stage 01's layers, both predicting the next word,
 * trained with Adam on one fixed batch. bench/torch_step.py builds the same
 * two models in PyTorch.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#include "01_cnn_baseline/cnn.h"
#include "08_transformer_block/transformer.h"
#include "ops.h"
#include "optim.h"
#include "rng.h"

/* Seed of the weights and of the batch. */
#define MODEL_SEED 1

struct ModelStep {
    BenchModel model;
    BenchSizes sizes;
    Transformer *transformer; /* the model when BENCH_TRANSFORMER */
    Cnn *cnn;                 /* the model when BENCH_CNN */
    ParamList *params;        /* owned by the model */
    Adam *adam;
    Tape tape;
    int *ids;     /* [batch * length] word ids */
    int *targets; /* [batch * length] the word after each id */
};

BenchSizes bench_default_sizes(void)
{
    /*
     * 9 convolutions of width 64 give the CNN 240,168 parameters, near the
     * transformer's 238,824 (without its unused classifier head): both are
     * dominated by the embedding and output layers, 129,000 values.
     */
    return (BenchSizes){.batch = 32,
                        .length = 32,
                        .vocab = 1000,
                        .width = 64,
                        .heads = 4,
                        .mlp_width = 256,
                        .transformer_layers = 2,
                        .cnn_layers = 9};
}

const char *bench_model_name(BenchModel model)
{
    return model == BENCH_TRANSFORMER ? "08_transformer_block" : "01_cnn_baseline";
}

const char *bench_model_option(BenchModel model)
{
    return model == BENCH_TRANSFORMER ? "transformer" : "cnn";
}

int bench_model_layers(BenchModel model, BenchSizes sizes)
{
    return model == BENCH_TRANSFORMER ? sizes.transformer_layers : sizes.cnn_layers;
}

/* Builds the model of step->model and points step->params at its parameters. */
static bool build_model(ModelStep *step, Rng *rng)
{
    BenchSizes s = step->sizes;
    if (step->model == BENCH_TRANSFORMER) {
        /* classes 1: the classifier head is not used by next-word prediction. */
        TransformerConfig config = {.vocab_size = s.vocab,
                                    .positions = s.length,
                                    .width = s.width,
                                    .heads = s.heads,
                                    .mlp_width = s.mlp_width,
                                    .layers = s.transformer_layers,
                                    .classes = 1,
                                    .causal = true};
        step->transformer = transformer_new(config, rng);
        step->params = step->transformer ? transformer_params(step->transformer) : NULL;
    } else {
        /* The output layer of a classifier with V classes maps each position to the vocabulary. */
        CnnConfig config = {.vocab_size = s.vocab,
                            .width = s.width,
                            .layers = s.cnn_layers,
                            .classes = s.vocab,
                            .padding = CONV_CAUSAL};
        step->cnn = cnn_new(config, rng);
        step->params = step->cnn ? step->cnn->params : NULL;
    }
    return step->params != NULL;
}

/* Draws batch sentences of length + 1 words: the first length are the input, the last length the
 * targets. */
static void draw_batch(ModelStep *step, Rng *rng)
{
    BenchSizes s = step->sizes;
    for (int b = 0; b < s.batch; b++) {
        int previous = (int)rng_below(rng, (uint32_t)s.vocab);
        for (int t = 0; t < s.length; t++) {
            int next = (int)rng_below(rng, (uint32_t)s.vocab);
            step->ids[b * s.length + t] = previous;
            step->targets[b * s.length + t] = next;
            previous = next;
        }
    }
}

ModelStep *model_step_new(BenchModel model, BenchSizes sizes)
{
    ModelStep *step = calloc(1, sizeof *step);
    if (!step) {
        fprintf(stderr, "bench: out of memory for the %s model\n", bench_model_name(model));
        return NULL;
    }
    step->model = model;
    step->sizes = sizes;
    tape_init(&step->tape);

    Rng rng;
    rng_seed(&rng, MODEL_SEED, 0);
    size_t words = (size_t)sizes.batch * (size_t)sizes.length;
    step->ids = malloc(words * sizeof *step->ids);
    step->targets = malloc(words * sizeof *step->targets);
    if (!step->ids || !step->targets || !build_model(step, &rng) ||
        !(step->adam = adam_new(step->params, adam_default_options()))) {
        fprintf(stderr, "bench: cannot build the %s model: invalid sizes or out of memory\n",
                bench_model_name(model));
        model_step_free(step);
        return NULL;
    }
    draw_batch(step, &rng);
    return step;
}

/* Returns the next-word logits [batch * length, V] of the batch. */
static Tensor *forward(ModelStep *step)
{
    BenchSizes s = step->sizes;
    if (step->model == BENCH_TRANSFORMER)
        return transformer_next_word_logits(&step->tape, step->transformer, step->ids, s.batch,
                                            s.length);

    /* [B, n, D] features -> [B*n, D] -> [B*n, V], the CNN's output layer as a word predictor. */
    Tensor *features = cnn_features(&step->tape, step->cnn, step->ids, s.batch, s.length);
    Tensor *rows = op_reshape(&step->tape, features, shape2(s.batch * s.length, s.width));
    return op_linear(&step->tape, rows, step->cnn->out_weight, step->cnn->out_bias);
}

void model_step_run(ModelStep *step)
{
    tape_reset(&step->tape);
    params_zero_grad(step->params);

    Tensor *loss = op_cross_entropy(&step->tape, forward(step), step->targets);
    tape_backward(&step->tape, loss);
    adam_step(step->adam);
}

size_t model_step_parameters(const ModelStep *step) { return params_count_elements(step->params); }

void model_step_free(ModelStep *step)
{
    if (!step)
        return;
    adam_free(step->adam);
    transformer_free(step->transformer);
    cnn_free(step->cnn);
    tape_free(&step->tape);
    free(step->ids);
    free(step->targets);
    free(step);
}
