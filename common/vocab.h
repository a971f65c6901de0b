/**
 * @file vocab.h
 * @brief The tokenizer and the vocabulary: text becomes a list of words, and
 *        each word a fixed integer id.
 *
 * Tokenization rules (tokenize):
 * - ASCII whitespace (space, tab, line feed, vertical tab, form feed and
 *   carriage return) separates tokens and is dropped.
 * - Each ASCII punctuation character is a token of its own: the 32
 *   printable ASCII characters that are neither letters, digits nor space,
 *   those for which ispunct() is true in the C locale. So "dog's." gives
 *   "dog", "'", "s", ".".
 * - Every other byte belongs to a word: ASCII letters (lowercased), digits,
 *   other control characters, and every byte of a non-ASCII character.
 *   Non-ASCII letters keep their case, and non-ASCII punctuation such as
 *   "—" stays part of the word it touches. Because only ASCII bytes split
 *   words, a multi-byte UTF-8 character is never cut.
 * - The text must be well-formed UTF-8 without NUL bytes (see utf8.h);
 *   anything else is rejected with the byte offset of the problem.
 * - Words have no length limit beyond memory.
 *
 * Vocabulary: id 0 is the reserved word "\<unk\>", which every unknown word
 * maps to. The tokenizer can never produce "\<unk\>" itself, because '<' and
 * '>' are punctuation. Other ids are assigned in insertion order; vocab_build
 * inserts words from most to least frequent.
 */
#ifndef VOCAB_H
#define VOCAB_H

#include <stdbool.h>
#include <stddef.h>

/** The id of "\<unk\>", which every word outside the vocabulary maps to. */
#define VOCAB_UNKNOWN_ID 0

/** The reserved word of id 0. */
#define VOCAB_UNKNOWN_WORD "<unk>"

/* ------------------------------------------------------------------------- */
/* Token lists                                                                */
/* ------------------------------------------------------------------------- */

/**
 * A growable list of tokens, stored one after another, each NUL-terminated,
 * in one character buffer. Read token i with token_list_get.
 */
typedef struct TokenList {
    char *text;           /**< [text_bytes] the tokens, each followed by a NUL */
    size_t text_bytes;    /**< bytes of text in use */
    size_t text_capacity; /**< bytes allocated for text */
    size_t *starts;       /**< [count] offset of each token in text */
    size_t count;         /**< tokens in the list */
    size_t capacity;      /**< slots allocated in starts */
} TokenList;

/** Prepares an empty token list; nothing is allocated until the first token. */
void token_list_init(TokenList *list);

/** Frees the list's memory and leaves it empty, ready for reuse. */
void token_list_free(TokenList *list);

/** Empties the list, keeping its memory for the next tokens. */
void token_list_clear(TokenList *list);

/**
 * Returns token @p index (0 .. count-1) as a NUL-terminated string, owned by
 * the list and valid until the list next changes.
 */
const char *token_list_get(const TokenList *list, size_t index);

/**
 * Splits @p text[0 .. length-1] into tokens by the rules in this file's
 * description and appends them to @p out. The text need not be
 * NUL-terminated.
 * @return true on success. On invalid UTF-8, a NUL byte or exhausted memory
 *         it returns false, leaves @p out as it was and writes a message
 *         naming the byte offset into @p error (when @p error_size > 0).
 */
bool tokenize(const char *text, size_t length, TokenList *out, char *error, size_t error_size);

/* ------------------------------------------------------------------------- */
/* Vocabulary                                                                 */
/* ------------------------------------------------------------------------- */

/** A bidirectional map between words and ids 0 .. size-1. */
typedef struct Vocab {
    char **words;      /**< [size] the word of each id; words[0] is "\<unk\>"; owned */
    int size;          /**< number of ids, V, including "\<unk\>" */
    int capacity;      /**< slots allocated in words */
    int *slots;        /**< [slot_count] hash table: id + 1 of a word, or 0 when empty */
    size_t slot_count; /**< size of the hash table, a power of two */
} Vocab;

/**
 * Creates a vocabulary that contains only "\<unk\>" (id 0).
 * @return a vocabulary the caller frees with vocab_free, or NULL when memory
 *         runs out.
 */
Vocab *vocab_new(void);

/**
 * Builds a vocabulary of at most @p max_size ids, "\<unk\>" included, from the
 * words of @p tokens: the max_size - 1 most frequent words get ids 1, 2, ...
 * in order of decreasing count, and words with equal counts are ordered by
 * the bytes of the word (strcmp order), so the result does not depend on
 * hash order or platform.
 * @return a vocabulary the caller frees with vocab_free, or NULL when
 *         @p max_size is below 1 or memory runs out.
 */
Vocab *vocab_build(const TokenList *tokens, int max_size);

/**
 * Adds @p word (copied) when it is not yet in @p vocab, for building fixed
 * vocabularies of generated tasks.
 * @return the word's id, new or existing ("\<unk\>" gives 0), or -1, leaving
 *         the vocabulary unchanged, when @p word is empty or memory runs out
 *         or the vocabulary already has INT_MAX ids.
 */
int vocab_add(Vocab *vocab, const char *word);

/** Returns the id of @p word, or VOCAB_UNKNOWN_ID (0) when it is not in the vocabulary. */
int vocab_id(const Vocab *vocab, const char *word);

/**
 * Returns the word of @p id, owned by the vocabulary, or NULL when @p id is
 * outside 0 .. size-1.
 */
const char *vocab_word(const Vocab *vocab, int id);

/**
 * Writes the id of every token of @p tokens into @p ids [tokens->count],
 * unknown words as VOCAB_UNKNOWN_ID.
 * @return the number of tokens that were unknown.
 */
size_t vocab_encode(const Vocab *vocab, const TokenList *tokens, int *ids);

/**
 * Checks that every one of @p ids [count] is a valid id of a vocabulary of
 * size @p V, that is in 0 .. V-1.
 * @return true when all are. Otherwise false, with a message naming the
 *         first bad id, its position and the valid range in @p error (when
 *         @p error_size > 0).
 */
bool vocab_check_ids(const int *ids, size_t count, int V, char *error, size_t error_size);

/** Frees the vocabulary and its words. NULL is ignored. */
void vocab_free(Vocab *vocab);

#endif /* VOCAB_H */
