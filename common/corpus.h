/**
 * @file corpus.h
 * @brief Reads a UTF-8 text file into word ids for next-word prediction,
 *        with a held-out validation split.
 */
#ifndef CORPUS_H
#define CORPUS_H

#include <stdbool.h>
#include <stddef.h>

#include "vocab.h"

/** A tokenized text: ids of every word in order, split into training and validation. */
typedef struct Corpus {
    Vocab *vocab;       /**< the most frequent words plus \<unk\>; owned */
    int *ids;           /**< [count] word ids of the whole text, in order; owned */
    size_t count;       /**< words in the text */
    size_t train_count; /**< ids[0 .. train_count-1] train; the rest is validation */
} Corpus;

/** Largest corpus file corpus_load reads, in bytes (256 MiB). */
#define CORPUS_MAX_BYTES ((size_t)256 << 20)

/**
 * Reads, tokenizes (vocab.h rules) and encodes the file at @p path, keeping
 * the @p max_vocab - 1 most frequent words (the rest map to \<unk\>) and
 * holding out the last @p validation_fraction of the words for validation.
 * @return true and a filled @p corpus (free it with corpus_free); or false,
 *         with @p corpus untouched and a message in @p error that names the
 *         path and what is wrong: missing, unreadable, a directory, empty,
 *         larger than CORPUS_MAX_BYTES, not UTF-8 text (with the byte
 *         offset), or too short to split (fewer than @p min_words words in
 *         either part).
 */
bool corpus_load(const char *path, int max_vocab, double validation_fraction, size_t min_words,
                 Corpus *corpus, char *error, size_t error_size);

/**
 * Tokenizes and encodes text already in memory, with the same rules and
 * errors as corpus_load (the messages name @p source instead of a path).
 */
bool corpus_load_buffer(const char *text, size_t length, const char *source, int max_vocab,
                        double validation_fraction, size_t min_words, Corpus *corpus, char *error,
                        size_t error_size);

/** Frees a corpus filled by corpus_load and empties it; a zeroed corpus is fine. */
void corpus_free(Corpus *corpus);

#endif /* CORPUS_H */
