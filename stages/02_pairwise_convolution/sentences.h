/**
 * @file sentences.h
 * @brief The former home of SentenceSet, which now lives in common/sentence_set.h.
 *
 * NOTE: this header only includes sentence_set.h, so that programs that
 * still include it keep building. New code includes "sentence_set.h", and
 * programs read their sentences through program.h. Remove this file once
 * nothing includes it.
 */
#ifndef PAIRWISE_SENTENCES_H
#define PAIRWISE_SENTENCES_H

#include "sentence_set.h"

#endif /* PAIRWISE_SENTENCES_H */
