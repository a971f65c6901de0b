/**
 * @file tasks.h
 * @brief Generated classification tasks shared by the stage programs and the
 *        CNN-vs-attention comparison.
 *
 * The distance task. A sentence holds two subject words and two object words;
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
    int distance;        /**< words from each subject to its object, >= 1 */
    int gap;             /**< filler words between the two spans, >= 0 */
    int margin;          /**< extra filler words shared out before and after, >= 0 */
    int length;          /**< words per sentence: 2 * (distance + 1) + gap + margin */
    Vocab *vocab;        /**< fixed vocabulary: \<unk\>, fillers, subjects, objects; owned */
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

#endif /* TASKS_H */
