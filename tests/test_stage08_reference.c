/*
 * Checks the stage 08 transformer and a causal CNN language model built
 * from stage 01's layers against PyTorch, an independent framework.
 *
 * Expected values: tests/reference/transformer_reference.py draws the
 * weights and one batch (2 sentences of 5 words) with a seeded generator,
 * builds the same models from PyTorch's own ops, and writes the weights and
 * its results to tests/reference/data/ (the file format is described in
 * the script). This test loads the weights by parameter name into the C
 * models and compares the logits, the loss, the gradient of every parameter
 * and the losses of 10 Adam steps (lr 1e-2) with PyTorch's. No Python runs
 * at test time.
 *
 * Tolerance: for each tensor, the largest absolute difference must be at
 * most 1e-4 times the largest magnitude of PyTorch's values. A failure
 * names the tensor, the worst index and both values. The last test adds
 * 1e-2 to the first value of each parameter tensor in turn and asserts that
 * the comparison then fails, so that every parameter is shown to matter to
 * the check.
 */
#include "op_checks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "01_cnn_baseline/cnn.h"
#include "08_transformer_block/transformer.h"
#include "train.h"

#define DATA_DIR PROJECT_ROOT "/tests/reference/data/"

/* Largest difference allowed, relative to the tensor's largest expected magnitude. */
#define RELATIVE_TOLERANCE 1e-4

/* Adam steps and learning rate of the reference script. */
#define ADAM_STEPS 10
#define ADAM_LR 1e-2

/* Added to the first value of one parameter by the test that the check can fail. */
#define PERTURBATION 1e-2f

/* ------------------------------------------------------------------------- */
/* Reading the reference files                                               */
/* ------------------------------------------------------------------------- */

/* One tensor of a reference file. */
typedef struct NamedArray {
    char name[128];
    int ndim;
    int dim[TENSOR_MAX_DIMS];
    size_t count;  /* product of dim */
    float *values; /* [count], owned */
} NamedArray;

/* Every tensor of one reference file. */
typedef struct DataFile {
    NamedArray *arrays; /* [count], owned */
    size_t count;
} DataFile;

static void data_file_free(DataFile *file)
{
    for (size_t i = 0; i < file->count; i++)
        free(file->arrays[i].values);
    free(file->arrays);
    file->arrays = NULL;
    file->count = 0;
}

/* Reads one tensor line "NAME NDIM DIM... VALUE..."; false on any format error. */
static bool read_array(FILE *in, NamedArray *array)
{
    if (fscanf(in, "%127s %d", array->name, &array->ndim) != 2 || array->ndim < 1 ||
        array->ndim > TENSOR_MAX_DIMS)
        return false;
    array->count = 1;
    for (int d = 0; d < array->ndim; d++) {
        if (fscanf(in, "%d", &array->dim[d]) != 1 || array->dim[d] < 1)
            return false;
        array->count *= (size_t)array->dim[d];
    }
    array->values = malloc(array->count * sizeof *array->values);
    if (!array->values)
        return false;
    for (size_t i = 0; i < array->count; i++)
        if (fscanf(in, "%f", &array->values[i]) != 1)
            return false;
    return true;
}

/* Skips '#' comment lines and white space; returns the next character (EOF at the end). */
static int skip_comments(FILE *in)
{
    int c;
    while ((c = fgetc(in)) != EOF) {
        if (c == '#') {
            while ((c = fgetc(in)) != EOF && c != '\n')
                continue;
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            ungetc(c, in);
            return c;
        }
    }
    return EOF;
}

/* Loads DATA_DIR/name; fails the test with the file name on any error. */
static DataFile data_file_load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", DATA_DIR, name);
    FILE *in = fopen(path, "r");
    if (!in)
        fail_msg("cannot open %s; run tests/reference/transformer_reference.py", path);

    DataFile file = {0};
    size_t capacity = 0;
    while (skip_comments(in) != EOF) {
        if (file.count == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            NamedArray *grown = realloc(file.arrays, capacity * sizeof *grown);
            assert_non_null(grown);
            file.arrays = grown;
        }
        NamedArray *array = &file.arrays[file.count];
        *array = (NamedArray){0};
        file.count++;
        if (!read_array(in, array))
            fail_msg("%s: tensor %zu (\"%s\") is not NAME NDIM DIMS VALUES", path, file.count,
                     array->name);
    }
    fclose(in);
    return file;
}

/* Returns the tensor named @p name; fails the test when it is missing. */
static const NamedArray *data_find(const DataFile *file, const char *name)
{
    for (size_t i = 0; i < file->count; i++)
        if (strcmp(file->arrays[i].name, name) == 0)
            return &file->arrays[i];
    fail_msg("reference tensor \"%s\" is missing", name);
    return NULL;
}

/* Copies integer values (ids, targets, labels) of a tensor into a new array the caller frees. */
static int *data_ints(const DataFile *file, const char *name, size_t *count)
{
    const NamedArray *array = data_find(file, name);
    int *values = malloc(array->count * sizeof *values);
    assert_non_null(values);
    for (size_t i = 0; i < array->count; i++)
        values[i] = (int)array->values[i];
    *count = array->count;
    return values;
}

/* ------------------------------------------------------------------------- */
/* Comparing                                                                  */
/* ------------------------------------------------------------------------- */

/* Formats flat index @p index of an array as "[i, j, ...]". */
static void format_index(const NamedArray *array, size_t index, char *text, size_t size)
{
    size_t coords[TENSOR_MAX_DIMS];
    for (int d = array->ndim - 1; d >= 0; d--) {
        coords[d] = index % (size_t)array->dim[d];
        index /= (size_t)array->dim[d];
    }
    size_t used = (size_t)snprintf(text, size, "[");
    for (int d = 0; d < array->ndim && used < size; d++)
        used += (size_t)snprintf(text + used, size - used, "%s%zu", d ? ", " : "", coords[d]);
    if (used < size)
        snprintf(text + used, size - used, "]");
}

/*
 * Compares @p actual [count] with the reference tensor: the largest
 * absolute difference must be at most RELATIVE_TOLERANCE times the largest
 * expected magnitude. With @p verbose, a failure prints the label, the
 * worst index, both values and the tolerance.
 */
static bool compare_values(const char *label, const float *actual, size_t count,
                           const NamedArray *expected, bool verbose)
{
    if (count != expected->count) {
        if (verbose)
            fprintf(stderr, "%s: %zu values, the reference has %zu\n", label, count,
                    expected->count);
        return false;
    }
    double largest = 0.0, worst = 0.0;
    size_t worst_index = 0;
    for (size_t i = 0; i < count; i++) {
        largest = fmax(largest, fabs((double)expected->values[i]));
        double diff = fabs((double)actual[i] - (double)expected->values[i]);
        if (isnan(diff) || diff > worst) {
            worst = isnan(diff) ? INFINITY : diff;
            worst_index = i;
        }
    }
    double tolerance = RELATIVE_TOLERANCE * largest;
    if (worst <= tolerance)
        return true;
    if (verbose) {
        char index[64];
        format_index(expected, worst_index, index, sizeof index);
        fprintf(stderr,
                "%s: worst index %s is %.9g, PyTorch %.9g; difference %.3g exceeds "
                "%g x largest magnitude %.3g = %.3g\n",
                label, index, (double)actual[worst_index], (double)expected->values[worst_index],
                worst, RELATIVE_TOLERANCE, largest, tolerance);
    }
    return false;
}

/* ------------------------------------------------------------------------- */
/* Running a model against a results file                                     */
/* ------------------------------------------------------------------------- */

/* A model under test: its forward pass, its parameters and the batch. */
typedef struct ModelCase {
    ClassifierForwardFn forward; /* logits [batch * length, V] or [batch, C] */
    void *model;
    ParamList *params;
    const int *ids;     /* [batch * length] */
    const int *targets; /* [rows of the logits] */
    int batch;
    int length;
} ModelCase;

/* Copies every parameter's values from the weights file, matched by name and shape. */
static void load_weights(const ParamList *params, const DataFile *weights)
{
    for (size_t i = 0; i < params->count; i++) {
        Tensor *t = params->tensors[i];
        const NamedArray *array = data_find(weights, params->names[i]);
        bool same_shape = array->ndim == t->shape.ndim;
        for (int d = 0; same_shape && d < array->ndim; d++)
            same_shape = array->dim[d] == t->shape.dim[d];
        if (!same_shape) {
            char shape[64];
            shape_format(t->shape, shape, sizeof shape);
            fail_msg("parameter %s has shape %s, the reference tensor a different one",
                     params->names[i], shape);
        }
        memcpy(t->data, array->values, t->size * sizeof(float));
    }
}

/* Runs the forward pass and the cross-entropy loss on the case's batch. */
static Tensor *case_loss(Tape *tape, const ModelCase *c, Tensor **logits)
{
    *logits = c->forward(tape, c->model, c->ids, c->batch, c->length);
    return op_cross_entropy(tape, *logits, c->targets);
}

/* Compares logits, loss and every gradient; returns the number of tensors that differ. */
static int check_gradients(const ModelCase *c, const DataFile *expected, bool verbose)
{
    Tape tape;
    tape_init(&tape);
    params_zero_grad(c->params);
    Tensor *logits;
    Tensor *loss = case_loss(&tape, c, &logits);
    tape_backward(&tape, loss);

    int failures = !compare_values("logits", logits->data, logits->size,
                                   data_find(expected, "logits"), verbose);
    failures += !compare_values("loss", loss->data, 1, data_find(expected, "loss"), verbose);
    for (size_t i = 0; i < c->params->count; i++) {
        char name[160];
        snprintf(name, sizeof name, "grad.%s", c->params->names[i]);
        const Tensor *t = c->params->tensors[i];
        failures += !compare_values(name, t->grad, t->size, data_find(expected, name), verbose);
    }
    tape_free(&tape);
    return failures;
}

/* Copies every parameter's values into @p saved (in list order), or back when !to_saved. */
static void copy_params(const ParamList *params, float *saved, bool to_saved)
{
    size_t offset = 0;
    for (size_t i = 0; i < params->count; i++) {
        Tensor *t = params->tensors[i];
        if (to_saved)
            memcpy(saved + offset, t->data, t->size * sizeof(float));
        else
            memcpy(t->data, saved + offset, t->size * sizeof(float));
        offset += t->size;
    }
}

/* Runs 10 Adam steps on the same batch and compares the losses; restores the weights after. */
static int check_adam(const ModelCase *c, const DataFile *expected, bool verbose)
{
    size_t total = params_count_elements(c->params);
    float *saved = malloc(total * sizeof *saved);
    assert_non_null(saved);
    copy_params(c->params, saved, true);

    AdamOptions options = adam_default_options();
    options.lr = ADAM_LR;
    Adam *adam = adam_new(c->params, options);
    assert_non_null(adam);
    float losses[ADAM_STEPS];
    Tape tape;
    tape_init(&tape);
    for (int step = 0; step < ADAM_STEPS; step++) {
        tape_reset(&tape);
        params_zero_grad(c->params);
        Tensor *logits;
        Tensor *loss = case_loss(&tape, c, &logits);
        tape_backward(&tape, loss);
        losses[step] = loss->data[0];
        adam_step(adam);
    }
    tape_free(&tape);
    adam_free(adam);

    copy_params(c->params, saved, false);
    free(saved);
    return !compare_values("adam_losses", losses, ADAM_STEPS, data_find(expected, "adam_losses"),
                           verbose);
}

/* Runs both checks; returns the number of tensors that differ from the reference. */
static int check_case(const ModelCase *c, const DataFile *expected, bool verbose)
{
    return check_gradients(c, expected, verbose) + check_adam(c, expected, verbose);
}

/* Counts the grad.* tensors of a results file, to show that none is left unchecked. */
static size_t count_gradients(const DataFile *file)
{
    size_t count = 0;
    for (size_t i = 0; i < file->count; i++)
        count += strncmp(file->arrays[i].name, "grad.", 5) == 0;
    return count;
}

/* ------------------------------------------------------------------------- */
/* The models                                                                 */
/* ------------------------------------------------------------------------- */

/* Everything one reference comparison needs; free with fixture_free. */
typedef struct Fixture {
    DataFile weights;
    int *ids;
    int *targets;
    int *labels;
    int batch;
    int length;
    Transformer *next_word;  /* causal, for next-word prediction */
    Transformer *classifier; /* without mask, for classification */
    Cnn *cnn;                /* causal, with V outputs used as the next-word head */
} Fixture;

/* Reads the batch (ids [B, n], targets [B*n], labels [B]) from a weights file. */
static void load_batch(Fixture *f)
{
    size_t count;
    f->ids = data_ints(&f->weights, "ids", &count);
    const NamedArray *ids = data_find(&f->weights, "ids");
    assert_int_equal(ids->ndim, 2);
    f->batch = ids->dim[0];
    f->length = ids->dim[1];
    f->targets = data_ints(&f->weights, "targets", &count);
    assert_int_equal(count, (size_t)f->batch * (size_t)f->length);
    f->labels = data_ints(&f->weights, "labels", &count);
    assert_int_equal(count, (size_t)f->batch);
}

/* Builds a transformer from the weights file's config: V, P, D, H, MLP width, L, C. */
static Transformer *new_reference_transformer(const DataFile *weights, bool causal)
{
    const NamedArray *sizes = data_find(weights, "config");
    assert_int_equal(sizes->count, 7);
    const float *s = sizes->values;
    TransformerConfig config = {.vocab_size = (int)s[0],
                                .positions = (int)s[1],
                                .width = (int)s[2],
                                .heads = (int)s[3],
                                .mlp_width = (int)s[4],
                                .layers = (int)s[5],
                                .classes = (int)s[6],
                                .causal = causal};
    Rng rng;
    rng_seed(&rng, 1, 0);
    Transformer *model = transformer_new(config, &rng);
    assert_non_null(model);
    load_weights(transformer_params(model), weights);
    return model;
}

static Fixture transformer_fixture(void)
{
    Fixture f = {.weights = data_file_load("transformer_weights.txt")};
    load_batch(&f);
    f.next_word = new_reference_transformer(&f.weights, true);
    f.classifier = new_reference_transformer(&f.weights, false);
    return f;
}

/*
 * The causal CNN language model: stage 01's features (CONV_CAUSAL), then its
 * final linear layer, built with C = V outputs, applied at every position.
 * Shapes: ids [batch * length], out [batch * length, V].
 */
static Tensor *cnn_next_word_logits(Tape *tape, void *model, const int *ids, int batch, int length)
{
    const Cnn *cnn = model;
    Tensor *features = cnn_features(tape, cnn, ids, batch, length);
    Tensor *rows = op_reshape(tape, features, shape2(batch * length, cnn->config.width));
    return op_linear(tape, rows, cnn->out_weight, cnn->out_bias);
}

static Fixture cnn_fixture(void)
{
    Fixture f = {.weights = data_file_load("cnn_weights.txt")};
    load_batch(&f);
    const NamedArray *sizes = data_find(&f.weights, "config");
    assert_int_equal(sizes->count, 3);
    CnnConfig config = {.vocab_size = (int)sizes->values[0],
                        .width = (int)sizes->values[1],
                        .layers = (int)sizes->values[2],
                        .classes = (int)sizes->values[0],
                        .padding = CONV_CAUSAL};
    Rng rng;
    rng_seed(&rng, 1, 0);
    f.cnn = cnn_new(config, &rng);
    assert_non_null(f.cnn);
    load_weights(f.cnn->params, &f.weights);
    return f;
}

static void fixture_free(Fixture *f)
{
    data_file_free(&f->weights);
    free(f->ids);
    free(f->targets);
    free(f->labels);
    transformer_free(f->next_word);
    transformer_free(f->classifier);
    cnn_free(f->cnn);
}

static ModelCase next_word_case(const Fixture *f)
{
    return (ModelCase){.forward = transformer_next_word_logits,
                       .model = f->next_word,
                       .params = transformer_params(f->next_word),
                       .ids = f->ids,
                       .targets = f->targets,
                       .batch = f->batch,
                       .length = f->length};
}

static ModelCase classifier_case(const Fixture *f)
{
    return (ModelCase){.forward = transformer_classify,
                       .model = f->classifier,
                       .params = transformer_params(f->classifier),
                       .ids = f->ids,
                       .targets = f->labels,
                       .batch = f->batch,
                       .length = f->length};
}

static ModelCase cnn_case(const Fixture *f)
{
    return (ModelCase){.forward = cnn_next_word_logits,
                       .model = f->cnn,
                       .params = f->cnn->params,
                       .ids = f->ids,
                       .targets = f->targets,
                       .batch = f->batch,
                       .length = f->length};
}

/* ------------------------------------------------------------------------- */
/* Tests                                                                      */
/* ------------------------------------------------------------------------- */

static void test_transformer_next_word_matches_pytorch(void **state)
{
    (void)state;
    Fixture f = transformer_fixture();
    DataFile expected = data_file_load("transformer_next_word.txt");
    ModelCase c = next_word_case(&f);

    /* Every parameter has a reference gradient, and the file has no other. */
    assert_int_equal(count_gradients(&expected), c.params->count);
    assert_int_equal(check_gradients(&c, &expected, true), 0);
    assert_int_equal(check_adam(&c, &expected, true), 0);

    data_file_free(&expected);
    fixture_free(&f);
}

static void test_transformer_classifier_matches_pytorch(void **state)
{
    (void)state;
    Fixture f = transformer_fixture();
    DataFile expected = data_file_load("transformer_classify.txt");
    ModelCase c = classifier_case(&f);

    assert_int_equal(count_gradients(&expected), c.params->count);
    assert_int_equal(check_gradients(&c, &expected, true), 0);
    assert_int_equal(check_adam(&c, &expected, true), 0);

    data_file_free(&expected);
    fixture_free(&f);
}

static void test_cnn_next_word_matches_pytorch(void **state)
{
    (void)state;
    Fixture f = cnn_fixture();
    DataFile expected = data_file_load("cnn_next_word.txt");
    ModelCase c = cnn_case(&f);

    assert_int_equal(count_gradients(&expected), c.params->count);
    assert_int_equal(check_gradients(&c, &expected, true), 0);
    assert_int_equal(check_adam(&c, &expected, true), 0);

    data_file_free(&expected);
    fixture_free(&f);
}

/*
 * Adds PERTURBATION to the first value of parameter @p index of @p params
 * and runs the quiet checks; returns the number of differing tensors.
 */
static int perturbed_failures(ParamList *params, size_t index, const ModelCase *cases,
                              const DataFile *expected, int case_count)
{
    float original = params->tensors[index]->data[0];
    params->tensors[index]->data[0] = original + PERTURBATION;
    int failures = 0;
    for (int i = 0; i < case_count; i++)
        failures += check_case(&cases[i], &expected[i], false);
    params->tensors[index]->data[0] = original;
    return failures;
}

/*
 * A check with teeth: changing any single parameter tensor by 1e-2 in its
 * first value makes the comparison fail. The transformer's two runs share
 * their weights (the same values are loaded into both models), so a
 * parameter that only the classifier uses is still caught.
 */
static void test_reference_check_fails_on_perturbed_weights(void **state)
{
    (void)state;
    Fixture f = transformer_fixture();
    DataFile expected[2] = {data_file_load("transformer_next_word.txt"),
                            data_file_load("transformer_classify.txt")};
    ModelCase cases[2] = {next_word_case(&f), classifier_case(&f)};
    ParamList *next_word = transformer_params(f.next_word);
    ParamList *classifier = transformer_params(f.classifier);
    assert_int_equal(next_word->count, classifier->count);

    for (size_t i = 0; i < next_word->count; i++) {
        /* The same tensor name in both models gets the same change. */
        next_word->tensors[i]->data[0] += PERTURBATION;
        int failures = perturbed_failures(classifier, i, cases, expected, 2);
        next_word->tensors[i]->data[0] -= PERTURBATION;
        load_weights(next_word, &f.weights);
        if (failures == 0)
            fail_msg("adding %g to %s[0] left every transformer tensor within tolerance",
                     (double)PERTURBATION, next_word->names[i]);
    }
    data_file_free(&expected[0]);
    data_file_free(&expected[1]);
    fixture_free(&f);

    Fixture g = cnn_fixture();
    DataFile cnn_expected = data_file_load("cnn_next_word.txt");
    ModelCase cnn = cnn_case(&g);
    for (size_t i = 0; i < g.cnn->params->count; i++) {
        if (perturbed_failures(g.cnn->params, i, &cnn, &cnn_expected, 1) == 0)
            fail_msg("adding %g to %s[0] left every CNN tensor within tolerance",
                     (double)PERTURBATION, g.cnn->params->names[i]);
    }
    data_file_free(&cnn_expected);
    fixture_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transformer_next_word_matches_pytorch),
        cmocka_unit_test(test_transformer_classifier_matches_pytorch),
        cmocka_unit_test(test_cnn_next_word_matches_pytorch),
        cmocka_unit_test(test_reference_check_fails_on_perturbed_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
