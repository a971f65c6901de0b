/* The grid of classifier runs of one generated task (see study.h). */
#include "study.h"

#include <stdlib.h>
#include <string.h>

#include "01_cnn_baseline/cnn.h"

/* Widths tried when matching parameter counts. */
#define MAX_MATCH_WIDTH 1024

/* Number of classes of both generated tasks. */
#define TASK_CLASSES 2

/* The TaskSampleFn of each generated task. */
static void sample_distance(const void *task, Rng *rng, int batch, int *ids, int *labels)
{
    distance_task_sample(task, rng, batch, ids, labels);
}

static void sample_order(const void *task, Rng *rng, int batch, int *ids, int *labels)
{
    order_task_sample(task, rng, batch, ids, labels);
}

ClassifierRun *study_run(const Study *study, size_t d, size_t m, size_t s)
{
    return &study->runs[(d * study->model_count + m) * (size_t)study->seed_count + s];
}

/* Runs one grid cell (the Job callback); a classifier run always runs to its end. */
static bool run_job(void *argument, Display *display, int slot)
{
    classifier_run_execute(argument, display, slot);
    return true;
}

/*
 * Matches spec's width to @p target parameters and records it as model m.
 * Returns false with a message when no width comes within MODEL_MATCH_TOLERANCE.
 */
static bool add_matched_model(Study *study, ModelSpec spec, size_t target, char *error,
                              size_t error_size)
{
    size_t count = model_match_width(&spec, target, MAX_MATCH_WIDTH);
    double difference = count > target ? (double)(count - target) : (double)(target - count);
    if (count == 0 || difference > MODEL_MATCH_TOLERANCE * (double)target) {
        snprintf(error, error_size,
                 "cannot match %s to %zu parameters within %.0f%%: the closest width gives %zu",
                 model_kind_name(spec.kind), target, 100.0 * MODEL_MATCH_TOLERANCE, count);
        return false;
    }
    study->specs[study->model_count] = spec;
    study->params[study->model_count] = count;
    study->model_count++;
    return true;
}

/* Allocates the runs and jobs of the grid and fills in what each run trains. */
static bool study_make_grid(Study *study, char *error, size_t error_size)
{
    if (study->seed_count < 1 || study->seed_count > STUDY_MAX_SEEDS) {
        snprintf(error, error_size, "a study takes 1 to %d seeds, not %d", STUDY_MAX_SEEDS,
                 study->seed_count);
        return false;
    }
    study->run_count = study->distance_count * study->model_count * (size_t)study->seed_count;
    study->runs = calloc(study->run_count, sizeof *study->runs);
    study->jobs = calloc(study->run_count, sizeof *study->jobs);
    if (!study->runs || !study->jobs) {
        snprintf(error, error_size, "out of memory planning %zu runs", study->run_count);
        return false;
    }
    for (size_t d = 0; d < study->distance_count; d++)
        for (size_t m = 0; m < study->model_count; m++)
            for (size_t s = 0; s < (size_t)study->seed_count; s++) {
                ClassifierRun *run = study_run(study, d, m, s);
                run->task_name = study->task_name;
                run->task = study->tasks[d];
                run->spec = study->specs[m];
                run->distance = study->distances[d];
                run->seed = study->first_seed + s;
                run->recipe = study->recipe;
                if (study->distances[d] > 0)
                    snprintf(run->label, sizeof run->label, "%s d=%d seed %llu",
                             model_kind_name(run->spec.kind), run->distance,
                             (unsigned long long)run->seed);
                else
                    snprintf(run->label, sizeof run->label, "%s seed %llu",
                             model_kind_name(run->spec.kind), (unsigned long long)run->seed);
                double cost = classifier_run_cost(run);
                run->skipped = study->max_run_cost > 0.0 && cost > study->max_run_cost;
                if (!run->skipped)
                    study->jobs[study->job_count++] =
                        (Job){.run = run_job, .argument = run, .cost = cost};
            }
    return true;
}

/* Builds one distance task per distance, all with the same gap and margin. */
static bool make_distance_tasks(Study *study, const DistanceSetup *setup, int gap, char *error,
                                size_t error_size)
{
    study->distance_count = setup->distance_count;
    for (size_t d = 0; d < setup->distance_count; d++) {
        study->distances[d] = setup->distances[d];
        study->distance_tasks[d] = distance_task_new(setup->distances[d], gap, setup->margin);
        if (!study->distance_tasks[d]) {
            snprintf(error, error_size, "cannot build the distance task at distance %d",
                     setup->distances[d]);
            return false;
        }
        study->tasks[d] = (ClassifierTask){.sample = sample_distance,
                                           .task = study->distance_tasks[d],
                                           .length = study->distance_tasks[d]->length};
    }
    return true;
}

bool study_new_distance(Study *study, const DistanceSetup *setup, int seed_count,
                        uint64_t first_seed, Recipe recipe, char *error, size_t error_size)
{
    memset(study, 0, sizeof *study);
    study->task_name = "distance";
    study->max_run_cost = setup->max_run_cost;
    study->seed_count = seed_count;
    study->first_seed = first_seed;
    study->recipe = recipe;
    if (setup->distance_count < 1 || setup->distance_count > STUDY_MAX_DISTANCES) {
        snprintf(error, error_size, "a study takes 1 to %d distances", STUDY_MAX_DISTANCES);
        return false;
    }

    /* The gap keeps every pair that reveals the label but the tested one out of the CNN's reach. */
    int gap = cnn_receptive_field(setup->cnn_layers);
    if (!make_distance_tasks(study, setup, gap, error, error_size))
        return false;
    int vocab_size = study->distance_tasks[0]->vocab->size;
    int longest = study->distance_tasks[setup->distance_count - 1]->length;
    for (size_t d = 0; d < setup->distance_count; d++)
        if (study->distance_tasks[d]->length > longest)
            longest = study->distance_tasks[d]->length;

    /* The stage 01 CNN sets the parameter budget; the others match it. */
    ModelSpec base = {
        .vocab_size = vocab_size, .positions = longest, .classes = TASK_CLASSES, .heads = 1};
    ModelSpec cnn = base;
    cnn.kind = MODEL_CNN;
    cnn.layers = setup->cnn_layers;
    cnn.width = setup->cnn_width;
    size_t target = model_param_count(&cnn);
    study->specs[0] = cnn;
    study->params[0] = target;
    study->model_count = 1;

    static const ModelKind ATTENTION_KINDS[4] = {MODEL_SCORED_ATTENTION, MODEL_LINEAR_ATTENTION,
                                                 MODEL_MULTI_HEAD, MODEL_TRANSFORMER};
    for (int a = 0; a < 4; a++) {
        if (!setup->attention[a])
            continue;
        ModelSpec spec = base;
        spec.kind = ATTENTION_KINDS[a];
        spec.layers = setup->attention_layers;
        spec.heads =
            ATTENTION_KINDS[a] == MODEL_MULTI_HEAD || ATTENTION_KINDS[a] == MODEL_TRANSFORMER
                ? setup->heads
                : 1;
        if (!add_matched_model(study, spec, target, error, error_size))
            return false;
    }
    ModelSpec bag = base;
    bag.kind = MODEL_BAG_OF_WORDS;
    bag.layers = 1;
    ModelSpec deep = base;
    deep.kind = MODEL_DEEP_CNN;
    deep.layers = setup->deep_cnn_layers;
    if (!add_matched_model(study, bag, target, error, error_size) ||
        !add_matched_model(study, deep, target, error, error_size))
        return false;
    return study_make_grid(study, error, error_size);
}

bool study_new_order(Study *study, int layers, int width, int seed_count, uint64_t first_seed,
                     Recipe recipe, char *error, size_t error_size)
{
    memset(study, 0, sizeof *study);
    study->task_name = "order";
    study->seed_count = seed_count;
    study->first_seed = first_seed;
    study->recipe = recipe;
    study->order_task = order_task_new();
    if (!study->order_task) {
        snprintf(error, error_size, "out of memory building the word order task");
        return false;
    }
    study->distance_count = 1;
    study->tasks[0] = (ClassifierTask){
        .sample = sample_order, .task = study->order_task, .length = ORDER_TASK_LENGTH};

    /* Stage 02 sets the parameter budget; stage 03 reads positions too and matches it. */
    ModelSpec words = {.kind = MODEL_PAIRWISE,
                       .vocab_size = study->order_task->vocab->size,
                       .positions = ORDER_TASK_LENGTH,
                       .classes = TASK_CLASSES,
                       .layers = layers,
                       .heads = 1,
                       .width = width};
    size_t target = model_param_count(&words);
    study->specs[0] = words;
    study->params[0] = target;
    study->model_count = 1;
    ModelSpec positions = words;
    positions.kind = MODEL_POSITIONS;
    if (!add_matched_model(study, positions, target, error, error_size))
        return false;
    return study_make_grid(study, error, error_size);
}

void study_free(Study *study)
{
    for (size_t d = 0; d < study->distance_count; d++)
        distance_task_free(study->distance_tasks[d]);
    order_task_free(study->order_task);
    for (size_t r = 0; r < study->run_count && study->runs; r++)
        curve_free(&study->runs[r].curve);
    free(study->runs);
    free(study->jobs);
    memset(study, 0, sizeof *study);
}

double study_cost(const Study *study)
{
    double cost = 0.0;
    for (size_t j = 0; j < study->job_count; j++)
        cost += study->jobs[j].cost;
    return cost;
}

bool study_accuracy_summary(const Study *study, size_t d, size_t m, double *median, double *min,
                            double *max)
{
    double values[STUDY_MAX_SEEDS] = {0};
    size_t count = 0;
    for (size_t s = 0; s < (size_t)study->seed_count && count < STUDY_MAX_SEEDS; s++)
        if (!study_run(study, d, m, s)->skipped)
            values[count++] = study_run(study, d, m, s)->accuracy;
    if (count == 0)
        return false;
    *median = median_of(values, count);
    *min = *max = count ? values[0] : 0.0;
    for (size_t i = 1; i < count; i++) {
        if (values[i] < *min)
            *min = values[i];
        if (values[i] > *max)
            *max = values[i];
    }
    return true;
}
