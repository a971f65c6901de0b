/**
 * @file tasks.h
 * @brief Generated classification tasks shared by the stage programs and the
 *        CNN-vs-attention comparison: the distance task, the word order
 *        task, the roaring task and the cue task.
 *
 * The distance task. A sentence contains two subject words and two object words;
 * each subject belongs to exactly one object ("dog" and "tail", "bird" and
 * "wing"). The sentence has two spans, each a subject followed @c distance
 * words later by an object:
 *
 *   filler.. S1 filler.. O1 filler (gap) .. S2 filler.. O2 filler..
 *            |<-distance->|                 |<-distance->|
 *
 * Label 1 (matched): O1 belongs to S1 and O2 to S2. Label 0 (crossed): the
 * same two objects swapped, so O1 belongs to S2 and O2 to S1. Both classes
 * contain the same four words, so a bag-of-words model cannot beat chance.
 * The only word pairs that reveal the label are the two test pairs (at
 * @c distance) and pairs that straddle the gap, which are at least @c gap + 1
 * words apart. Choosing gap at least the CNN's receptive field keeps a CNN
 * from reading the label off a nearer pair once the test pairs are out of
 * its reach.
 */
#ifndef TASKS_H
#define TASKS_H

#include <stdint.h>

#include "rng.h"
#include "vocab.h"

/** Subject and object pairs of the distance task. */
#define DISTANCE_TASK_PAIRS 8

/** Settings of a distance task. */
typedef struct DistanceTask {
    int distance; /**< words from each subject to its object, >= 1 */
    int gap;      /**< filler words between the two spans, >= 0 */
    int margin;   /**< extra filler words shared out before and after, >= 0 */
    int length;   /**< words per sentence: 2 * (distance + 1) + gap + margin */
    Vocab *vocab; /**< fixed vocabulary: \<unk\>, fillers, subjects, objects; owned */
    int subject_ids[DISTANCE_TASK_PAIRS]; /**< vocabulary id of each subject */
    int object_ids[DISTANCE_TASK_PAIRS];  /**< id of the object belonging to subject i */
} DistanceTask;

/**
 * Builds a distance task and its vocabulary.
 * @return a task the caller frees with distance_task_free, or NULL when an
 *         argument is out of range or memory runs out.
 */
DistanceTask *distance_task_new(int distance, int gap, int margin);

/** Frees a task from distance_task_new; NULL is ignored. */
void distance_task_free(DistanceTask *task);

/**
 * Draws @p batch sentences with balanced random labels.
 * Shapes: ids [batch * task->length] word ids, row-major by sentence;
 * labels [batch], 1 matched, 0 crossed.
 */
void distance_task_sample(const DistanceTask *task, Rng *rng, int batch, int *ids, int *labels);

/* ------------------------------------------------------------------------- */
/* The word order task                                                        */
/* ------------------------------------------------------------------------- */

/** Adjectives and nouns of the word order task (each list has this many words). */
#define ORDER_TASK_WORDS 6

/** Words per sentence of the word order task: "the", an adjective and a noun. */
#define ORDER_TASK_LENGTH 3

/**
 * The word order task. A sentence is "the", one adjective and one noun:
 * label 1 for "the ADJECTIVE NOUN" ("the fat cat"), label 0 for
 * "the NOUN ADJECTIVE" ("the cat fat"). Both orders of the same three words
 * are equally likely, so the label depends only on word order, and a model
 * that cannot see order is right on exactly half of them on average.
 */
typedef struct OrderTask {
    Vocab *vocab;                        /**< \<unk\>, "the", adjectives, nouns; owned */
    int the_id;                          /**< vocabulary id of "the" */
    int adjective_ids[ORDER_TASK_WORDS]; /**< vocabulary ids of the adjectives */
    int noun_ids[ORDER_TASK_WORDS];      /**< vocabulary ids of the nouns */
} OrderTask;

/**
 * Builds the word order task and its vocabulary.
 * @return a task the caller frees with order_task_free, or NULL when memory
 *         runs out.
 */
OrderTask *order_task_new(void);

/** Frees a task from order_task_new; NULL is ignored. */
void order_task_free(OrderTask *task);

/**
 * Draws @p batch sentences with balanced random labels: the adjective, the
 * noun and the label are drawn independently and uniformly.
 * Shapes: ids [batch * ORDER_TASK_LENGTH] word ids, row-major by sentence;
 * labels [batch], 1 for adjective before noun, 0 for noun before adjective.
 */
void order_task_sample(const OrderTask *task, Rng *rng, int batch, int *ids, int *labels);

/* ------------------------------------------------------------------------- */
/* The roaring task                                                           */
/* ------------------------------------------------------------------------- */

/*
 * The roaring task. Every sentence follows one pattern,
 *
 *   there was a [..] NOUN [..] on|in [..] FIRE [..] and [..] it was roaring [..]
 *
 * NOUN is either an animal that roars ("lion", "tiger", ...) or a thing that
 * burns ("tree", "house", ...), and FIRE is "fire", "flames" or "blaze", after
 * "on" or "in" drawn independently (so some sentences are poor English). The
 * length - 10 extra words are shared out at random between the six slots
 * [..], which hold adjectives, place words, fire adjectives, adverbs and
 * closing words. So every word moves from sentence to sentence, and no word
 * sits at a fixed distance from the noun or the fire word.
 *
 * The label is the identity of the word that does the roaring: the animal
 * when the noun is an animal, the fire word when the noun is a thing. A
 * one-layer model sees each word only in pairs, so it can name the word
 * only by looking at that word. The fire word is in every sentence, so
 * whether the pair ("roaring", fire word) matters depends on the noun.
 */

/** Animals in the roaring task; each one roars. */
#define ROAR_TASK_ANIMALS 6
/** Things in the roaring task; each one burns but does not roar. */
#define ROAR_TASK_THINGS 6
/** Fire words in the roaring task; each one roars when a thing burns. */
#define ROAR_TASK_FIRES 3
/** Classes: the animals (0 .. 5), then the fire words (6 .. 8). */
#define ROAR_TASK_CLASSES (ROAR_TASK_ANIMALS + ROAR_TASK_FIRES)
/** Words of the pattern without extra words: the shortest sentence. */
#define ROAR_TASK_MIN_LENGTH 10

/** Settings and vocabulary of a roaring task. */
typedef struct RoarTask {
    int length;     /**< words per sentence, at least ROAR_TASK_MIN_LENGTH */
    Vocab *vocab;   /**< fixed vocabulary: \<unk\>, pattern words, extra words, nouns; owned */
    int roaring_id; /**< id of "roaring", the word whose attention is studied */
    int class_ids[ROAR_TASK_CLASSES]; /**< id of the word of each class: animals, then fire words */
    int thing_ids[ROAR_TASK_THINGS];  /**< ids of the things */
} RoarTask;

/**
 * Builds a roaring task and its vocabulary.
 * @return a task the caller frees with roar_task_free, or NULL when
 *         @p length is below ROAR_TASK_MIN_LENGTH or above 4096, or memory
 *         runs out.
 */
RoarTask *roar_task_new(int length);

/** Frees a task from roar_task_new; NULL is ignored. */
void roar_task_free(RoarTask *task);

/**
 * Draws @p batch sentences, each with an animal or a thing with equal
 * probability.
 * Shapes: ids [batch * task->length] word ids, row-major by sentence;
 * labels [batch], the class (0 .. ROAR_TASK_CLASSES-1) of the word that roars.
 */
void roar_task_sample(const RoarTask *task, Rng *rng, int batch, int *ids, int *labels);

/**
 * Finds the first "roaring" in a sentence of @p length word ids.
 * @return its position, or -1 when there is none.
 */
int roar_task_find_roaring(const RoarTask *task, const int *ids, int length);

/**
 * Finds the word that does the roaring in any sentence of @p length word
 * ids, by the task's rule: the last animal before the first "roaring", or
 * else the last fire word before it.
 * @return its position, or -1 when the sentence has no "roaring" or neither
 *         an animal nor a fire word comes before it.
 */
int roar_task_find_roarer(const RoarTask *task, const int *ids, int length);

/** Returns the class of word @p id (0 .. ROAR_TASK_CLASSES-1), or -1 when it has none. */
int roar_task_class_of(const RoarTask *task, int id);

/* ------------------------------------------------------------------------- */
/* The cue task                                                               */
/* ------------------------------------------------------------------------- */

/**
 * The cue task: the label depends on two words, one on each side of a cue
 * word at a random position. Each sentence contains the cue "owns", two
 * different subjects S_i, S_j and their two objects O_i, O_j (the pairs of
 * the distance task: "dog" owns "tail"), and filler words elsewhere. Left of
 * the cue sit one subject and one object, right of it the other two, each
 * at a random position on its side:
 *
 *   filler.. S_i filler.. O_j owns filler.. O_i S_j filler..
 *
 * Label 1 when the subject left of the cue owns the object right of it (as
 * above), 0 when the two objects are swapped. Both classes contain the same
 * four words, so the words alone say nothing about the label: a model must
 * know which side of the cue each one is on.
 *
 * Why one attention head finds this hard: a head's score for a key is a sum
 * of a part that depends on the key's word and a part that depends on its
 * position, so one head cannot rank both "subject on the left" and "object
 * on the right" above both "object on the left" and "subject on the right".
 * Seen from the cue, two heads can each fetch one of the two words. One
 * head can still learn slower routes (from a subject or object, comparing
 * positions), so the difference is in accuracy after a fixed budget, not
 * all or nothing.
 */
typedef struct CueTask {
    int length;   /**< words per sentence, 5 .. 4096 */
    int pairs;    /**< subject-object pairs in use, 2 .. DISTANCE_TASK_PAIRS */
    Vocab *vocab; /**< fixed vocabulary: \<unk\>, fillers, cue, subjects, objects; owned */
    int cue_id;   /**< vocabulary id of the cue "owns" */
    int subject_ids[DISTANCE_TASK_PAIRS]; /**< ids of the subjects; the first @c pairs are used */
    int object_ids[DISTANCE_TASK_PAIRS];  /**< id of the object owned by subject i */
} CueTask;

/**
 * Builds a cue task and its vocabulary, using the first @p pairs
 * subject-object pairs of the distance task.
 * @return a task the caller frees with cue_task_free, or NULL when
 *         @p length is outside 5 .. 4096, @p pairs is outside
 *         2 .. DISTANCE_TASK_PAIRS, or memory runs out.
 */
CueTask *cue_task_new(int length, int pairs);

/** Frees a task from cue_task_new; NULL is ignored. */
void cue_task_free(CueTask *task);

/**
 * Draws @p batch sentences with balanced random labels.
 * Shapes: ids [batch * task->length] word ids, row-major by sentence;
 * labels [batch], 1 when the subject left of the cue owns the object right
 * of it, else 0.
 */
void cue_task_sample(const CueTask *task, Rng *rng, int batch, int *ids, int *labels);

#endif /* TASKS_H */
