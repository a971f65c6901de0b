/**
 * @file attention_view.h
 * @brief Stage 08: the attention weights of a transformer on one sentence,
 *        collected from every block and head and printed as text.
 *
 * A weight matrix [n, n] has one row per query word and one column per key
 * word. Each row is a softmax, so it sums to 1. The printers label rows and
 * columns with the words when every word is at most
 * ATTENTION_VIEW_LABEL_BYTES bytes long, and otherwise with positions
 * 1 .. n, after a legend that prints each word whole
 * (attention_view_print_legend). No word is ever cut, so the output stays
 * valid UTF-8.
 */
#ifndef ATTENTION_VIEW_H
#define ATTENTION_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "08_transformer_block/transformer.h"
#include "vocab.h"

/** The maximum length in bytes of a word used as a row or column label. */
#define ATTENTION_VIEW_LABEL_BYTES 6

/** Keys listed per query row by attention_view_print_ranked. */
#define ATTENTION_VIEW_TOP_KEYS 3

/**
 * Runs @p model without gradients on one sentence of @p ids [n] and copies
 * the weights of every block and head into @p weights [L * H * n * n].
 * Head h of block l starts at weights + (l * H + h) * n * n, row-major [n, n].
 * Ids and n must suit the model (transformer_features_with stops the
 * program otherwise).
 * @return false when memory runs out, leaving @p weights unchanged.
 */
bool attention_view_weights(const Transformer *model, const int *ids, int n, float *weights);

/** Returns whether every word of @p words is short enough to label a row and a column. */
bool attention_view_words_fit(const TokenList *words);

/** Prints "  words: 1 WORD  2 WORD ..." with every word whole, then a line break. */
void attention_view_print_legend(const TokenList *words);

/**
 * Prints the top-left @p shown x @p shown part of one weight matrix
 * @p weights [n, n] (n = words->count), one row per query, with three
 * decimals. Labels are the words when attention_view_words_fit, else the
 * positions 1 .. n (print the legend first).
 */
void attention_view_print_matrix(const TokenList *words, const float *weights, size_t shown);

/**
 * Prints the rows of @p weights [n, n] whose query is marked in
 * @p queries [n], one line per query: its ATTENTION_VIEW_TOP_KEYS largest
 * weights with their key positions, then the sum of the other weights, so
 * the printed numbers of a line sum to 1 within rounding. Positions are
 * 1-based, as in attention_view_print_legend; a query word that is short
 * enough follows its position. For sentences too long for a full matrix on
 * one screen.
 */
void attention_view_print_ranked(const TokenList *words, const float *weights, const bool *queries);

#endif /* ATTENTION_VIEW_H */
