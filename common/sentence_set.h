/**
 * @file sentence_set.h
 * @brief The sentences a program runs on: read from the command line or a
 *        file, split into words, and given ids from a vocabulary built from
 *        those same words.
 *
 * Programs that show identities on a few sentences give every distinct word
 * of the sentences an id (sentence_set_encode), so no word is unknown.
 * Programs with a trained vocabulary encode the words with it instead
 * (vocab_encode) and report the words it does not contain.
 */
#ifndef SENTENCE_SET_H
#define SENTENCE_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "vocab.h"

/** One sentence: its text, its words and their ids. */
typedef struct Sentence {
    char *text;      /**< the sentence as given; owned */
    TokenList words; /**< its words, in order (tokenize); at least one */
    int *ids;        /**< [words.count] vocabulary ids, or NULL before sentence_set_encode */
} Sentence;

/** A list of sentences and the vocabulary of all their words. */
typedef struct SentenceSet {
    Sentence *items; /**< [count] the sentences, in the order added */
    size_t count;    /**< sentences in the set */
    size_t capacity; /**< slots allocated in items */
    Vocab *vocab;    /**< every distinct word, or NULL before sentence_set_encode; owned */
} SentenceSet;

/** Prepares an empty set; nothing is allocated until the first sentence. */
void sentence_set_init(SentenceSet *set);

/** Frees every sentence and the vocabulary, and leaves the set empty. */
void sentence_set_free(SentenceSet *set);

/**
 * Splits @p text into words and appends it as a sentence.
 * @return true on success. On invalid UTF-8, a text without any word, or
 *         exhausted memory it returns false, leaves the set unchanged and
 *         writes the reason and what to do into @p error (when
 *         @p error_size > 0). The message does not repeat the text.
 */
bool sentence_set_add(SentenceSet *set, const char *text, char *error, size_t error_size);

/**
 * Appends every line of the file at @p path ("-" for standard input) as a
 * sentence (see cli_read_lines), so sentence count + i comes from line i + 1.
 * With @p max_count above 0 the set may hold at most that many sentences
 * afterwards; the file is read only up to the first line past the limit.
 * @return true on success. Otherwise false, with the set unchanged and a
 *         message naming the file and the line in @p error. An empty line,
 *         a line without words, a file without any line and a file that
 *         would bring the set above @p max_count are rejected.
 */
bool sentence_set_add_file(SentenceSet *set, const char *path, size_t max_count, char *error,
                           size_t error_size);

/**
 * Builds the vocabulary of every distinct word of the set (id 0 stays the
 * unused "\<unk\>") and fills each sentence's ids. Call it after the last
 * sentence was added.
 * @return true on success, or false with a message in @p error when memory
 *         runs out or the set is empty.
 */
bool sentence_set_encode(SentenceSet *set, char *error, size_t error_size);

/**
 * Returns the words of @p sentence with words @p first and @p second
 * swapped, separated by single spaces, and writes the ids in the same order
 * into @p ids [words.count] when it is not NULL. Indices outside
 * 0 .. words.count-1 leave the order unchanged.
 * @return a string the caller frees with free(), or NULL when memory runs
 *         out (nothing is written to @p ids then).
 */
char *sentence_swap_words(const Sentence *sentence, size_t first, size_t second, int *ids);

#endif /* SENTENCE_SET_H */
