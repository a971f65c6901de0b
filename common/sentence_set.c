/*
 * The sentences of the programs (see sentence_set.h).
 */
#include "sentence_set.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void sentence_set_init(SentenceSet *set)
{
    set->items = NULL;
    set->count = 0;
    set->capacity = 0;
    set->vocab = NULL;
}

/* Frees the memory of one sentence. */
static void sentence_free(Sentence *sentence)
{
    free(sentence->text);
    token_list_free(&sentence->words);
    free(sentence->ids);
}

void sentence_set_free(SentenceSet *set)
{
    for (size_t i = 0; i < set->count; i++)
        sentence_free(&set->items[i]);
    free(set->items);
    vocab_free(set->vocab);
    sentence_set_init(set);
}

/* Makes room for one more sentence; returns false when memory runs out. */
static bool sentence_set_grow(SentenceSet *set)
{
    if (set->count < set->capacity)
        return true;
    size_t capacity = set->capacity ? 2 * set->capacity : 8;
    if (capacity > SIZE_MAX / sizeof(Sentence))
        return false;
    Sentence *items = realloc(set->items, capacity * sizeof *items);
    if (!items)
        return false;
    set->items = items;
    set->capacity = capacity;
    return true;
}

bool sentence_set_add(SentenceSet *set, const char *text, char *error, size_t error_size)
{
    Sentence sentence = {.text = NULL, .ids = NULL};
    token_list_init(&sentence.words);
    size_t length = strlen(text);

    /* Split first, so that nothing is added for an invalid or empty sentence. */
    char reason[256];
    if (!tokenize(text, length, &sentence.words, reason, sizeof reason)) {
        snprintf(error, error_size, "%s; give UTF-8 text", reason);
        return false;
    }
    if (sentence.words.count == 0) {
        snprintf(error, error_size, "the sentence has no words; give at least one word");
        token_list_free(&sentence.words);
        return false;
    }

    sentence.text = malloc(length + 1);
    if (!sentence.text || !sentence_set_grow(set)) {
        snprintf(error, error_size, "out of memory storing a sentence of %zu bytes", length);
        sentence_free(&sentence);
        return false;
    }
    memcpy(sentence.text, text, length + 1);
    set->items[set->count++] = sentence;
    return true;
}

bool sentence_set_add_file(SentenceSet *set, const char *path, size_t max_count, char *error,
                           size_t error_size)
{
    const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
    if (max_count > 0 && set->count >= max_count) {
        snprintf(error, error_size,
                 "the options before it already give %zu sentences, at most %zu are allowed in "
                 "all; split them over several runs",
                 set->count, max_count);
        return false;
    }

    /* Read one line past the room left, to tell a full file from one with too many lines. */
    size_t room = max_count > 0 ? max_count - set->count : 0;
    LineList lines;
    line_list_init(&lines);
    if (!cli_read_lines(path, &lines, room, error, error_size))
        return false;
    if (lines.count == 0) {
        snprintf(error, error_size, "%s has no lines; write one sentence per line", name);
        return false;
    }
    if (room > 0 && lines.count > room) {
        snprintf(error, error_size,
                 "%s has more than %zu lines, and at most %zu sentences are allowed in all; "
                 "split them over several runs",
                 name, room, max_count);
        line_list_free(&lines);
        return false;
    }

    /* On a bad line, remove the sentences of the earlier lines again. */
    size_t count_before = set->count;
    bool ok = true;
    for (size_t i = 0; i < lines.count && ok; i++) {
        char reason[512];
        ok = sentence_set_add(set, lines.lines[i], reason, sizeof reason);
        if (!ok)
            snprintf(error, error_size, "%s line %zu: %s", name, i + 1, reason);
    }
    while (!ok && set->count > count_before)
        sentence_free(&set->items[--set->count]);
    line_list_free(&lines);
    return ok;
}

/* Appends the words of every sentence to @p all. */
static bool collect_words(const SentenceSet *set, TokenList *all)
{
    for (size_t i = 0; i < set->count; i++)
        if (!tokenize(set->items[i].text, strlen(set->items[i].text), all, NULL, 0))
            return false;
    return true;
}

bool sentence_set_encode(SentenceSet *set, char *error, size_t error_size)
{
    if (set->count == 0) {
        snprintf(error, error_size, "no sentences to encode");
        return false;
    }

    /* Every distinct word gets an id, so no sentence has an unknown word. */
    TokenList all;
    token_list_init(&all);
    Vocab *vocab = collect_words(set, &all) ? vocab_build(&all, INT_MAX) : NULL;
    token_list_free(&all);
    bool ok = vocab != NULL;
    for (size_t i = 0; i < set->count && ok; i++) {
        Sentence *sentence = &set->items[i];
        free(sentence->ids);
        sentence->ids = malloc(sentence->words.count * sizeof *sentence->ids);
        ok = sentence->ids != NULL;
        if (ok)
            vocab_encode(vocab, &sentence->words, sentence->ids);
    }
    if (!ok) {
        snprintf(error, error_size, "out of memory building the vocabulary");
        vocab_free(vocab);
        return false;
    }
    vocab_free(set->vocab);
    set->vocab = vocab;
    return true;
}

char *sentence_swap_words(const Sentence *sentence, size_t first, size_t second, int *ids)
{
    size_t count = sentence->words.count;
    bool swap = first < count && second < count;

    /* The words and one separator each (the last one becomes the NUL) fit in
     * the token buffer's size, which stores each word and its NUL. */
    char *text = malloc(sentence->words.text_bytes > 0 ? sentence->words.text_bytes : 1);
    if (!text)
        return NULL;
    text[0] = '\0';

    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        size_t source = i;
        if (swap && i == first)
            source = second;
        else if (swap && i == second)
            source = first;
        if (ids)
            ids[i] = sentence->ids[source];

        const char *word = token_list_get(&sentence->words, source);
        size_t length = strlen(word);
        if (i > 0)
            text[used++] = ' ';
        memcpy(text + used, word, length + 1);
        used += length;
    }
    return text;
}
