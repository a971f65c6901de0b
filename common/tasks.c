/* The generated distance, word order, roaring and cue tasks (see tasks.h). */
#include "tasks.h"

#include <stdbool.h>
#include <stdlib.h>

/*
 * Word lists. Subject i owns object i. Filler words are common words that
 * carry no information about the label.
 */
static const char *const SUBJECTS[DISTANCE_TASK_PAIRS] = {
    "dog", "bird", "fish", "bull", "bee", "cat", "frog", "horse",
};
static const char *const OBJECTS[DISTANCE_TASK_PAIRS] = {
    "tail", "wing", "fin", "horn", "sting", "whisker", "tongue", "mane",
};
static const char *const FILLERS[] = {
    "the",  "a",      "so",   "that", "it",    "was",  "very", "and",
    "then", "around", "fast", "on",   "there", "some", "just", "again",
};
#define FILLER_COUNT ((int)(sizeof FILLERS / sizeof FILLERS[0]))

/* Largest sentence a task may ask for; far above any distance worth training on. */
#define DISTANCE_TASK_MAX_LENGTH 4096

DistanceTask *distance_task_new(int distance, int gap, int margin)
{
    if (distance < 1 || gap < 0 || margin < 0)
        return NULL;
    long length = 2L * (distance + 1) + gap + margin;
    if (length > DISTANCE_TASK_MAX_LENGTH)
        return NULL;

    DistanceTask *task = calloc(1, sizeof *task);
    Vocab *vocab = vocab_new();
    if (!task || !vocab) {
        free(task);
        vocab_free(vocab);
        return NULL;
    }

    /* Fixed vocabulary: <unk> (id 0, from vocab_new), fillers, subjects, objects. */
    for (int i = 0; i < FILLER_COUNT; i++)
        vocab_add(vocab, FILLERS[i]);
    for (int i = 0; i < DISTANCE_TASK_PAIRS; i++) {
        task->subject_ids[i] = vocab_add(vocab, SUBJECTS[i]);
        task->object_ids[i] = vocab_add(vocab, OBJECTS[i]);
    }

    task->distance = distance;
    task->gap = gap;
    task->margin = margin;
    task->length = (int)length;
    task->vocab = vocab;
    return task;
}

void distance_task_free(DistanceTask *task)
{
    if (!task)
        return;
    vocab_free(task->vocab);
    free(task);
}

/* Writes one sentence of task->length ids and returns its label. */
static int distance_task_sentence(const DistanceTask *task, Rng *rng, int *ids)
{
    /* Every position starts as a random filler word (filler ids are 1..FILLER_COUNT). */
    for (int t = 0; t < task->length; t++)
        ids[t] = 1 + (int)rng_below(rng, FILLER_COUNT);

    /* Two different subjects. */
    int first = (int)rng_below(rng, DISTANCE_TASK_PAIRS);
    int second = (int)rng_below(rng, DISTANCE_TASK_PAIRS - 1);
    if (second >= first)
        second++;

    /* Span positions: the margin is split at random between the two ends. */
    int start1 = (int)rng_below(rng, (uint32_t)task->margin + 1);
    int start2 = start1 + task->distance + 1 + task->gap;
    int label = (int)rng_below(rng, 2);

    /* Matched sentences pair each subject with its own object; crossed ones swap the objects. */
    ids[start1] = task->subject_ids[first];
    ids[start1 + task->distance] = task->object_ids[label ? first : second];
    ids[start2] = task->subject_ids[second];
    ids[start2 + task->distance] = task->object_ids[label ? second : first];
    return label;
}

void distance_task_sample(const DistanceTask *task, Rng *rng, int batch, int *ids, int *labels)
{
    for (int b = 0; b < batch; b++)
        labels[b] = distance_task_sentence(task, rng, ids + (size_t)b * (size_t)task->length);
}

/* ------------------------------------------------------------------------- */
/* The word order task                                                        */
/* ------------------------------------------------------------------------- */

static const char *const ADJECTIVES[ORDER_TASK_WORDS] = {
    "fat", "big", "small", "old", "red", "lazy",
};
static const char *const NOUNS[ORDER_TASK_WORDS] = {
    "cat", "dog", "fox", "cow", "hen", "pig",
};

OrderTask *order_task_new(void)
{
    OrderTask *task = calloc(1, sizeof *task);
    Vocab *vocab = vocab_new();
    if (!task || !vocab) {
        free(task);
        vocab_free(vocab);
        return NULL;
    }

    /* Fixed vocabulary: <unk> (id 0), "the", the adjectives, the nouns. */
    bool ok = (task->the_id = vocab_add(vocab, "the")) > 0;
    for (int i = 0; i < ORDER_TASK_WORDS && ok; i++) {
        task->adjective_ids[i] = vocab_add(vocab, ADJECTIVES[i]);
        task->noun_ids[i] = vocab_add(vocab, NOUNS[i]);
        ok = task->adjective_ids[i] > 0 && task->noun_ids[i] > 0;
    }
    if (!ok) {
        free(task);
        vocab_free(vocab);
        return NULL;
    }
    task->vocab = vocab;
    return task;
}

void order_task_free(OrderTask *task)
{
    if (!task)
        return;
    vocab_free(task->vocab);
    free(task);
}

void order_task_sample(const OrderTask *task, Rng *rng, int batch, int *ids, int *labels)
{
    for (int b = 0; b < batch; b++) {
        int *sentence = ids + (size_t)b * ORDER_TASK_LENGTH;
        int adjective = task->adjective_ids[rng_below(rng, ORDER_TASK_WORDS)];
        int noun = task->noun_ids[rng_below(rng, ORDER_TASK_WORDS)];
        labels[b] = (int)rng_below(rng, 2);
        sentence[0] = task->the_id;
        sentence[1] = labels[b] ? adjective : noun;
        sentence[2] = labels[b] ? noun : adjective;
    }
}

/* ------------------------------------------------------------------------- */
/* The roaring task                                                           */
/* ------------------------------------------------------------------------- */

/* Nouns: animals roar, things burn. Every word starts with a consonant, so "a" fits. */
static const char *const ROAR_ANIMALS[ROAR_TASK_ANIMALS] = {
    "lion", "tiger", "bear", "leopard", "jaguar", "panther",
};
static const char *const ROAR_THINGS[ROAR_TASK_THINGS] = {
    "tree", "house", "barn", "car", "boat", "tent",
};
static const char *const ROAR_FIRES[ROAR_TASK_FIRES] = {"fire", "flames", "blaze"};
static const char *const ROAR_PREPOSITIONS[] = {"on", "in"};

/* Extra words, one list per slot of the pattern (see tasks.h). */
static const char *const ROAR_ADJECTIVES[] = {"big", "huge", "small", "tall", "wild", "dark"};
static const char *const ROAR_PLACES[] = {"nearby", "here", "still", "outside"};
static const char *const ROAR_FIRE_ADJECTIVES[] = {"bright", "hot", "raging", "open"};
static const char *const ROAR_ADVERBS[] = {"then", "soon", "suddenly", "now"};
static const char *const ROAR_TAILS[] = {"loudly", "again", "all", "day"};
#define ROAR_COUNT(list) ((int)(sizeof list / sizeof list[0]))

/* Slots for extra words: after "a", after the noun, before and after the fire word, */
/* before "it", and at the end. */
#define ROAR_SLOTS 6

/* Largest sentence a roaring task may ask for. */
#define ROAR_TASK_MAX_LENGTH 4096

/* Adds every word of @p words [count] to @p vocab, storing ids when @p ids is not NULL. */
static bool roar_add_words(Vocab *vocab, const char *const *words, int count, int *ids)
{
    for (int i = 0; i < count; i++) {
        int id = vocab_add(vocab, words[i]);
        if (id < 0)
            return false;
        if (ids)
            ids[i] = id;
    }
    return true;
}

/* Adds every word of the task to its vocabulary, storing the ids the task needs. */
static bool roar_add_vocabulary(RoarTask *task)
{
    static const char *const PATTERN[] = {"there", "was", "a", "and", "it"};
    Vocab *vocab = task->vocab;
    task->roaring_id = vocab_add(vocab, "roaring");
    return task->roaring_id > 0 && roar_add_words(vocab, PATTERN, ROAR_COUNT(PATTERN), NULL) &&
           roar_add_words(vocab, ROAR_PREPOSITIONS, ROAR_COUNT(ROAR_PREPOSITIONS), NULL) &&
           roar_add_words(vocab, ROAR_ADJECTIVES, ROAR_COUNT(ROAR_ADJECTIVES), NULL) &&
           roar_add_words(vocab, ROAR_PLACES, ROAR_COUNT(ROAR_PLACES), NULL) &&
           roar_add_words(vocab, ROAR_FIRE_ADJECTIVES, ROAR_COUNT(ROAR_FIRE_ADJECTIVES), NULL) &&
           roar_add_words(vocab, ROAR_ADVERBS, ROAR_COUNT(ROAR_ADVERBS), NULL) &&
           roar_add_words(vocab, ROAR_TAILS, ROAR_COUNT(ROAR_TAILS), NULL) &&
           roar_add_words(vocab, ROAR_ANIMALS, ROAR_TASK_ANIMALS, task->class_ids) &&
           roar_add_words(vocab, ROAR_FIRES, ROAR_TASK_FIRES,
                          task->class_ids + ROAR_TASK_ANIMALS) &&
           roar_add_words(vocab, ROAR_THINGS, ROAR_TASK_THINGS, task->thing_ids);
}

RoarTask *roar_task_new(int length)
{
    if (length < ROAR_TASK_MIN_LENGTH || length > ROAR_TASK_MAX_LENGTH)
        return NULL;
    RoarTask *task = calloc(1, sizeof *task);
    if (!task)
        return NULL;
    task->length = length;
    task->vocab = vocab_new();

    if (!task->vocab || !roar_add_vocabulary(task)) {
        roar_task_free(task);
        return NULL;
    }
    return task;
}

void roar_task_free(RoarTask *task)
{
    if (!task)
        return;
    vocab_free(task->vocab);
    free(task);
}

/* A sentence being written: the ids, the next position and the random stream. */
typedef struct RoarWriter {
    const Vocab *vocab;
    int *ids;
    int at;
    Rng *rng;
} RoarWriter;

/* Writes the id of @p word and returns its position. */
static int roar_put(RoarWriter *w, const char *word)
{
    w->ids[w->at] = vocab_id(w->vocab, word);
    return w->at++;
}

/* Writes one word drawn from @p list [count] and returns its position. */
static int roar_put_any(RoarWriter *w, const char *const *list, int count)
{
    return roar_put(w, list[rng_below(w->rng, (uint32_t)count)]);
}

/* Writes @p count words drawn from @p list [list_count]. */
static void roar_put_extra(RoarWriter *w, const char *const *list, int list_count, int count)
{
    for (int i = 0; i < count; i++)
        roar_put_any(w, list, list_count);
}

/* Shares @p extra words out between the ROAR_SLOTS slots, in a random order of slots. */
static void roar_share_slots(Rng *rng, int extra, int *slots)
{
    int order[ROAR_SLOTS];
    for (int i = 0; i < ROAR_SLOTS; i++)
        order[i] = i;
    rng_shuffle_ints(rng, order, ROAR_SLOTS);

    int left = extra;
    for (int i = 0; i < ROAR_SLOTS - 1; i++) {
        slots[order[i]] = (int)rng_below(rng, (uint32_t)left + 1);
        left -= slots[order[i]];
    }
    slots[order[ROAR_SLOTS - 1]] = left;
}

/* Writes one sentence of task->length ids and returns the class of the word that roars. */
static int roar_task_sentence(const RoarTask *task, Rng *rng, int *ids)
{
    /* 1. The extra words per slot, the noun (animal or thing) and the fire word. */
    int slots[ROAR_SLOTS];
    roar_share_slots(rng, task->length - ROAR_TASK_MIN_LENGTH, slots);
    bool animal = rng_below(rng, 2) == 1;
    int animal_class = (int)rng_below(rng, ROAR_TASK_ANIMALS);
    int fire_class = ROAR_TASK_ANIMALS + (int)rng_below(rng, ROAR_TASK_FIRES);
    const char *noun =
        animal ? ROAR_ANIMALS[animal_class] : ROAR_THINGS[rng_below(rng, ROAR_TASK_THINGS)];

    /* 2. there was a [..] NOUN [..] on|in [..] FIRE [..] and [..] it was roaring [..] */
    RoarWriter w = {task->vocab, ids, 0, rng};
    roar_put(&w, "there");
    roar_put(&w, "was");
    roar_put(&w, "a");
    roar_put_extra(&w, ROAR_ADJECTIVES, ROAR_COUNT(ROAR_ADJECTIVES), slots[0]);
    roar_put(&w, noun);
    roar_put_extra(&w, ROAR_PLACES, ROAR_COUNT(ROAR_PLACES), slots[1]);
    roar_put_any(&w, ROAR_PREPOSITIONS, ROAR_COUNT(ROAR_PREPOSITIONS));
    roar_put_extra(&w, ROAR_FIRE_ADJECTIVES, ROAR_COUNT(ROAR_FIRE_ADJECTIVES), slots[2]);
    roar_put(&w, ROAR_FIRES[fire_class - ROAR_TASK_ANIMALS]);
    roar_put_extra(&w, ROAR_PLACES, ROAR_COUNT(ROAR_PLACES), slots[3]);
    roar_put(&w, "and");
    roar_put_extra(&w, ROAR_ADVERBS, ROAR_COUNT(ROAR_ADVERBS), slots[4]);
    roar_put(&w, "it");
    roar_put(&w, "was");
    roar_put(&w, "roaring");
    roar_put_extra(&w, ROAR_TAILS, ROAR_COUNT(ROAR_TAILS), slots[5]);

    return animal ? animal_class : fire_class;
}

void roar_task_sample(const RoarTask *task, Rng *rng, int batch, int *ids, int *labels)
{
    for (int b = 0; b < batch; b++)
        labels[b] = roar_task_sentence(task, rng, ids + (size_t)b * (size_t)task->length);
}

int roar_task_find_roaring(const RoarTask *task, const int *ids, int length)
{
    for (int t = 0; t < length; t++)
        if (ids[t] == task->roaring_id)
            return t;
    return -1;
}

int roar_task_class_of(const RoarTask *task, int id)
{
    for (int c = 0; c < ROAR_TASK_CLASSES; c++)
        if (task->class_ids[c] == id)
            return c;
    return -1;
}

int roar_task_find_roarer(const RoarTask *task, const int *ids, int length)
{
    int roaring = roar_task_find_roaring(task, ids, length);
    int animal_at = -1, fire_at = -1;
    for (int t = 0; t < roaring; t++) {
        int c = roar_task_class_of(task, ids[t]);
        if (c >= ROAR_TASK_ANIMALS)
            fire_at = t;
        else if (c >= 0)
            animal_at = t;
    }
    return animal_at >= 0 ? animal_at : fire_at;
}

/* ------------------------------------------------------------------------- */
/* The cue task                                                               */
/* ------------------------------------------------------------------------- */

/* Shortest cue-task sentence: two words, the cue, two words. */
#define CUE_TASK_MIN_LENGTH 5

CueTask *cue_task_new(int length, int pairs)
{
    if (length < CUE_TASK_MIN_LENGTH || length > DISTANCE_TASK_MAX_LENGTH)
        return NULL;
    if (pairs < 2 || pairs > DISTANCE_TASK_PAIRS)
        return NULL;
    CueTask *task = calloc(1, sizeof *task);
    Vocab *vocab = vocab_new();
    if (!task || !vocab) {
        free(task);
        vocab_free(vocab);
        return NULL;
    }

    /* Fixed vocabulary: <unk> (id 0), fillers (ids 1..FILLER_COUNT), the cue, subjects, objects. */
    bool ok = true;
    for (int i = 0; i < FILLER_COUNT; i++)
        ok = ok && vocab_add(vocab, FILLERS[i]) > 0;
    task->cue_id = vocab_add(vocab, "owns");
    ok = ok && task->cue_id > 0;
    for (int i = 0; i < pairs; i++) {
        task->subject_ids[i] = vocab_add(vocab, SUBJECTS[i]);
        task->object_ids[i] = vocab_add(vocab, OBJECTS[i]);
        ok = ok && task->subject_ids[i] > 0 && task->object_ids[i] > 0;
    }
    if (!ok) {
        vocab_free(vocab);
        free(task);
        return NULL;
    }

    task->length = length;
    task->pairs = pairs;
    task->vocab = vocab;
    return task;
}

void cue_task_free(CueTask *task)
{
    if (!task)
        return;
    vocab_free(task->vocab);
    free(task);
}

/* Draws two different positions from first .. last (at least two positions). */
static void draw_two_positions(Rng *rng, int first, int last, int *a, int *b)
{
    uint32_t span = (uint32_t)(last - first + 1);
    *a = first + (int)rng_below(rng, span);
    *b = first + (int)rng_below(rng, span - 1);
    if (*b >= *a)
        (*b)++;
}

/* Writes one sentence of task->length ids and returns its label. */
static int cue_task_sentence(const CueTask *task, Rng *rng, int *ids)
{
    int n = task->length;
    for (int t = 0; t < n; t++)
        ids[t] = 1 + (int)rng_below(rng, FILLER_COUNT);

    /* The cue leaves at least two positions on each side: cue in 2 .. n-3. */
    int cue = 2 + (int)rng_below(rng, (uint32_t)n - 4);
    int left_subject, left_object, right_subject, right_object;
    draw_two_positions(rng, 0, cue - 1, &left_subject, &left_object);
    draw_two_positions(rng, cue + 1, n - 1, &right_subject, &right_object);

    /* Two different pairs i and j; the label decides which object goes right of the cue. */
    int i = (int)rng_below(rng, (uint32_t)task->pairs);
    int j = (int)rng_below(rng, (uint32_t)task->pairs - 1);
    if (j >= i)
        j++;
    int label = (int)rng_below(rng, 2);

    ids[cue] = task->cue_id;
    ids[left_subject] = task->subject_ids[i];
    ids[right_subject] = task->subject_ids[j];
    ids[right_object] = task->object_ids[label ? i : j];
    ids[left_object] = task->object_ids[label ? j : i];
    return label;
}

void cue_task_sample(const CueTask *task, Rng *rng, int batch, int *ids, int *labels)
{
    for (int b = 0; b < batch; b++)
        labels[b] = cue_task_sentence(task, rng, ids + (size_t)b * (size_t)task->length);
}
