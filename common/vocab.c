/*
 * The tokenizer and the vocabulary (see vocab.h for the rules).
 */
#include "vocab.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* ------------------------------------------------------------------------- */
/* Token lists                                                                */
/* ------------------------------------------------------------------------- */

void token_list_init(TokenList *list) { memset(list, 0, sizeof *list); }

void token_list_free(TokenList *list)
{
    free(list->text);
    free(list->starts);
    token_list_init(list);
}

void token_list_clear(TokenList *list)
{
    list->text_bytes = 0;
    list->count = 0;
}

const char *token_list_get(const TokenList *list, size_t index)
{
    return list->text + list->starts[index];
}

/* Grows a buffer of *capacity elements of element_size bytes to hold at
 * least needed elements, doubling. Returns false, with the buffer unchanged,
 * when memory runs out or the size overflows. */
static bool grow_buffer(void **buffer, size_t *capacity, size_t needed, size_t element_size)
{
    if (needed <= *capacity)
        return true;

    size_t new_capacity = *capacity > 0 ? *capacity : 64;
    while (new_capacity < needed) {
        if (new_capacity > SIZE_MAX / 2)
            return false;
        new_capacity *= 2;
    }
    if (new_capacity > SIZE_MAX / element_size)
        return false;

    void *grown = realloc(*buffer, new_capacity * element_size);
    if (!grown)
        return false;
    *buffer = grown;
    *capacity = new_capacity;
    return true;
}

/* Appends one token of the given bytes, lowercasing ASCII letters. */
static bool token_list_append(TokenList *list, const char *bytes, size_t length)
{
    if (length > SIZE_MAX - 1 - list->text_bytes)
        return false;
    void *text = list->text;
    void *starts = list->starts;
    bool grown = grow_buffer(&text, &list->text_capacity, list->text_bytes + length + 1, 1) &&
                 grow_buffer(&starts, &list->capacity, list->count + 1, sizeof(size_t));
    list->text = text;
    list->starts = starts;
    if (!grown)
        return false;

    char *destination = list->text + list->text_bytes;
    for (size_t i = 0; i < length; i++) {
        char c = bytes[i];
        destination[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    destination[length] = '\0';

    list->starts[list->count++] = list->text_bytes;
    list->text_bytes += length + 1;
    return true;
}

/* ------------------------------------------------------------------------- */
/* Tokenizer                                                                  */
/* ------------------------------------------------------------------------- */

/* Returns true for the ASCII whitespace bytes: space, \t, \n, \v, \f, \r. */
static bool is_ascii_space(unsigned char byte)
{
    return byte == ' ' || (byte >= '\t' && byte <= '\r');
}

/* Returns true for the 32 ASCII punctuation bytes (ispunct in the C locale). */
static bool is_ascii_punctuation(unsigned char byte)
{
    return (byte >= '!' && byte <= '/') || (byte >= ':' && byte <= '@') ||
           (byte >= '[' && byte <= '`') || (byte >= '{' && byte <= '~');
}

/* Writes a formatted message into error, when there is room for one. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void
write_error(char *error, size_t error_size, const char *format, ...)
{
    if (!error || error_size == 0)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(error, error_size, format, args);
    va_end(args);
}

/* Splits already validated text into tokens appended to out. */
static bool split_tokens(const char *text, size_t length, TokenList *out)
{
    const unsigned char *bytes = (const unsigned char *)text;
    size_t i = 0;
    while (i < length) {
        if (is_ascii_space(bytes[i])) {
            i++;
            continue;
        }

        /* A punctuation byte is one token, and a word runs to the next space or
         * punctuation byte. */
        size_t start = i++;
        if (!is_ascii_punctuation(bytes[start])) {
            while (i < length && !is_ascii_space(bytes[i]) && !is_ascii_punctuation(bytes[i]))
                i++;
        }
        if (!token_list_append(out, text + start, i - start))
            return false;
    }
    return true;
}

bool tokenize(const char *text, size_t length, TokenList *out, char *error, size_t error_size)
{
    /* Validate everything first, so that a bad byte late in the text leaves
     * no tokens behind. */
    size_t bad_offset = 0;
    if (!utf8_validate(text, length, &bad_offset)) {
        unsigned char bad = (unsigned char)text[bad_offset];
        if (bad == 0)
            write_error(error, error_size, "NUL byte at byte offset %zu", bad_offset);
        else
            write_error(error, error_size, "invalid UTF-8 at byte offset %zu (byte 0x%02X)",
                        bad_offset, bad);
        return false;
    }

    size_t old_count = out->count, old_bytes = out->text_bytes;
    if (!split_tokens(text, length, out)) {
        out->count = old_count;
        out->text_bytes = old_bytes;
        write_error(error, error_size, "out of memory while tokenizing %zu bytes", length);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------- */
/* Vocabulary                                                                 */
/* ------------------------------------------------------------------------- */

/* Slots of a new vocabulary's hash table, a power of two. */
#define VOCAB_INITIAL_SLOTS 64

/* 64-bit FNV-1a hash of a NUL-terminated string (Fowler, Noll and Vo). */
static uint64_t hash_word(const char *word)
{
    uint64_t hash = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)word; *p; p++) {
        hash ^= *p;
        hash *= UINT64_C(1099511628211);
    }
    return hash;
}

/* Returns the slot that contains word, or the empty slot where it would go.
 * The table is never full (at most half the slots are used), so the linear
 * probe ends. */
static size_t find_slot(const Vocab *vocab, const char *word)
{
    size_t mask = vocab->slot_count - 1;
    size_t slot = (size_t)hash_word(word) & mask;
    while (vocab->slots[slot] != 0) {
        int id = vocab->slots[slot] - 1;
        if (strcmp(vocab->words[id], word) == 0)
            return slot;
        slot = (slot + 1) & mask;
    }
    return slot;
}

/* Doubles the hash table and reinserts every word. Returns false, with the
 * vocabulary unchanged, when memory runs out. */
static bool grow_slots(Vocab *vocab)
{
    if (vocab->slot_count > SIZE_MAX / 2 / sizeof(int))
        return false;
    size_t slot_count = vocab->slot_count * 2;
    int *slots = calloc(slot_count, sizeof *slots);
    if (!slots)
        return false;

    free(vocab->slots);
    vocab->slots = slots;
    vocab->slot_count = slot_count;
    for (int id = 0; id < vocab->size; id++)
        vocab->slots[find_slot(vocab, vocab->words[id])] = id + 1;
    return true;
}

/* Makes room for one more word in words[] and in the hash table. */
static bool reserve_word(Vocab *vocab)
{
    if (vocab->size == INT_MAX)
        return false;
    if ((size_t)vocab->size + 1 > vocab->slot_count / 2 && !grow_slots(vocab))
        return false;
    if (vocab->size < vocab->capacity)
        return true;

    int capacity = vocab->capacity > INT_MAX / 2 ? INT_MAX : vocab->capacity * 2;
    char **words = realloc(vocab->words, (size_t)capacity * sizeof *words);
    if (!words)
        return false;
    vocab->words = words;
    vocab->capacity = capacity;
    return true;
}

Vocab *vocab_new(void)
{
    Vocab *vocab = calloc(1, sizeof *vocab);
    if (!vocab)
        return NULL;
    vocab->words = calloc(VOCAB_INITIAL_SLOTS / 2, sizeof *vocab->words);
    vocab->slots = calloc(VOCAB_INITIAL_SLOTS, sizeof *vocab->slots);
    vocab->capacity = VOCAB_INITIAL_SLOTS / 2;
    vocab->slot_count = VOCAB_INITIAL_SLOTS;
    if (!vocab->words || !vocab->slots || vocab_add(vocab, VOCAB_UNKNOWN_WORD) != 0) {
        vocab_free(vocab);
        return NULL;
    }
    return vocab;
}

int vocab_add(Vocab *vocab, const char *word)
{
    if (!word || word[0] == '\0')
        return -1;
    size_t slot = find_slot(vocab, word);
    if (vocab->slots[slot] != 0)
        return vocab->slots[slot] - 1;

    size_t bytes = strlen(word) + 1;
    char *copy = malloc(bytes);
    if (!copy)
        return -1;
    memcpy(copy, word, bytes);
    if (!reserve_word(vocab)) {
        free(copy);
        return -1;
    }

    /* The table may have grown, which moves the word's slot. */
    int id = vocab->size++;
    vocab->words[id] = copy;
    vocab->slots[find_slot(vocab, copy)] = id + 1;
    return id;
}

int vocab_id(const Vocab *vocab, const char *word)
{
    size_t slot = find_slot(vocab, word);
    return vocab->slots[slot] != 0 ? vocab->slots[slot] - 1 : VOCAB_UNKNOWN_ID;
}

const char *vocab_word(const Vocab *vocab, int id)
{
    if (id < 0 || id >= vocab->size)
        return NULL;
    return vocab->words[id];
}

size_t vocab_encode(const Vocab *vocab, const TokenList *tokens, int *ids)
{
    size_t unknown = 0;
    for (size_t i = 0; i < tokens->count; i++) {
        ids[i] = vocab_id(vocab, token_list_get(tokens, i));
        unknown += ids[i] == VOCAB_UNKNOWN_ID;
    }
    return unknown;
}

bool vocab_check_ids(const int *ids, size_t count, int V, char *error, size_t error_size)
{
    for (size_t i = 0; i < count; i++) {
        if (ids[i] < 0 || ids[i] >= V) {
            write_error(error, error_size,
                        "word id %d at position %zu is out of range: valid ids are 0 to %d "
                        "(vocabulary size %d)",
                        ids[i], i, V - 1, V);
            return false;
        }
    }
    return true;
}

void vocab_free(Vocab *vocab)
{
    if (!vocab)
        return;
    for (int id = 0; id < vocab->size; id++)
        free(vocab->words[id]);
    free(vocab->words);
    free(vocab->slots);
    free(vocab);
}

/* ------------------------------------------------------------------------- */
/* Building a vocabulary from word counts                                     */
/* ------------------------------------------------------------------------- */

/* A distinct word of the corpus and how often it occurs. */
typedef struct WordCount {
    const char *word; /* points into the vocabulary of all words; not owned */
    size_t count;
} WordCount;

/* Orders by decreasing count, then by the bytes of the word. */
static int compare_word_counts(const void *a, const void *b)
{
    const WordCount *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->word, y->word);
}

/* Counts the distinct words of tokens. Returns counts [all_words->size],
 * indexed by id in *all_words, where id 0 ("<unk>") counts only tokens that
 * are literally "<unk>". Returns NULL when memory runs out. */
static size_t *count_words(const TokenList *tokens, Vocab **all_words)
{
    Vocab *words = vocab_new();
    size_t capacity = 1;
    size_t *counts = calloc(capacity, sizeof *counts);
    if (!words || !counts)
        goto fail;

    for (size_t i = 0; i < tokens->count; i++) {
        int size_before = words->size;
        int id = vocab_add(words, token_list_get(tokens, i));
        if (id < 0)
            goto fail;

        /* A new word gets a counter, starting at 0. */
        if (words->size > size_before) {
            void *grown = counts;
            if (!grow_buffer(&grown, &capacity, (size_t)words->size, sizeof *counts))
                goto fail;
            counts = grown;
            counts[id] = 0;
        }
        counts[id]++;
    }
    *all_words = words;
    return counts;

fail:
    free(counts);
    vocab_free(words);
    return NULL;
}

/* Adds the max_size - 1 most frequent of the distinct words to vocab. */
static bool add_most_frequent(Vocab *vocab, const Vocab *all_words, const size_t *counts,
                              int max_size)
{
    size_t distinct = (size_t)all_words->size - 1;
    WordCount *ranked = malloc((distinct > 0 ? distinct : 1) * sizeof *ranked);
    if (!ranked)
        return false;
    for (size_t i = 0; i < distinct; i++)
        ranked[i] = (WordCount){all_words->words[i + 1], counts[i + 1]};
    qsort(ranked, distinct, sizeof *ranked, compare_word_counts);

    size_t keep = distinct < (size_t)max_size - 1 ? distinct : (size_t)max_size - 1;
    bool added = true;
    for (size_t i = 0; i < keep && added; i++)
        added = vocab_add(vocab, ranked[i].word) >= 0;
    free(ranked);
    return added;
}

Vocab *vocab_build(const TokenList *tokens, int max_size)
{
    if (max_size < 1)
        return NULL;

    Vocab *all_words = NULL;
    size_t *counts = count_words(tokens, &all_words);
    if (!counts)
        return NULL;

    Vocab *vocab = vocab_new();
    if (vocab && !add_most_frequent(vocab, all_words, counts, max_size)) {
        vocab_free(vocab);
        vocab = NULL;
    }
    free(counts);
    vocab_free(all_words);
    return vocab;
}
