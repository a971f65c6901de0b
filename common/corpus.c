/* Reads a text file into word ids (see corpus.h). */
#define _POSIX_C_SOURCE 200809L
#include "corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Reads the whole regular file at path; on failure writes why into error.
 * It reads until end of file instead of trusting the size from stat,
 * because some files (those under /proc, or one that grows while it is
 * read) report a size other than what read returns.
 */
static char *read_text_file(const char *path, size_t *length, char *error, size_t error_size)
{
    struct stat info;
    if (stat(path, &info) != 0) {
        snprintf(error, error_size, "cannot read corpus '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(info.st_mode)) {
        snprintf(error, error_size, "corpus '%s' is a directory; give a UTF-8 text file", path);
        return NULL;
    }
    if (!S_ISREG(info.st_mode)) {
        snprintf(error, error_size, "corpus '%s' is not a regular file; give a UTF-8 text file",
                 path);
        return NULL;
    }
    if ((unsigned long long)info.st_size > CORPUS_MAX_BYTES) {
        snprintf(error, error_size,
                 "corpus '%s' has %lld bytes, more than the limit of %zu; use a smaller file", path,
                 (long long)info.st_size, CORPUS_MAX_BYTES);
        return NULL;
    }

    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(error, error_size, "cannot open corpus '%s': %s", path, strerror(errno));
        return NULL;
    }

    /*
     * Start with room for the size stat reported, plus one byte to see the
     * end of the file and one for the NUL; double while more bytes arrive.
     */
    size_t capacity = (size_t)info.st_size < CORPUS_MAX_BYTES ? (size_t)info.st_size + 2 : 2;
    size_t size = 0;
    char *text = malloc(capacity);
    for (;;) {
        if (text && capacity - size < 2) {
            size_t grown = capacity < CORPUS_MAX_BYTES / 2 ? 2 * capacity : CORPUS_MAX_BYTES + 2;
            char *bigger = realloc(text, grown);
            if (!bigger)
                free(text);
            text = bigger;
            capacity = grown;
        }
        if (!text) {
            fclose(file);
            snprintf(error, error_size, "out of memory reading corpus '%s' (%zu bytes)", path,
                     capacity);
            return NULL;
        }

        size_t requested = capacity - 1 - size;
        size_t got = fread(text + size, 1, requested, file);
        size += got;
        if (size > CORPUS_MAX_BYTES) {
            free(text);
            fclose(file);
            snprintf(error, error_size,
                     "corpus '%s' has more than %zu bytes, the limit; use a smaller file", path,
                     CORPUS_MAX_BYTES);
            return NULL;
        }
        if (got < requested) {
            /* fread stops short only at the end of the file or on an error. */
            if (ferror(file)) {
                int reason = errno;
                free(text);
                fclose(file);
                snprintf(error, error_size, "cannot read corpus '%s': %s", path, strerror(reason));
                return NULL;
            }
            break;
        }
    }
    fclose(file);
    text[size] = '\0';
    *length = size;
    return text;
}

bool corpus_load(const char *path, int max_vocab, double validation_fraction, size_t min_words,
                 Corpus *corpus, char *error, size_t error_size)
{
    size_t length = 0;
    char *text = read_text_file(path, &length, error, error_size);
    if (!text)
        return false;

    bool ok = corpus_load_buffer(text, length, path, max_vocab, validation_fraction, min_words,
                                 corpus, error, error_size);
    free(text);
    return ok;
}

bool corpus_load_buffer(const char *text, size_t length, const char *source, int max_vocab,
                        double validation_fraction, size_t min_words, Corpus *corpus, char *error,
                        size_t error_size)
{
    if (length == 0) {
        snprintf(error, error_size, "corpus '%s' is empty; give a UTF-8 text file with words in it",
                 source);
        return false;
    }
    if (!(validation_fraction > 0.0 && validation_fraction < 1.0) || max_vocab < 2) {
        snprintf(error, error_size,
                 "corpus '%s': invalid settings (validation fraction %g, vocabulary %d)", source,
                 validation_fraction, max_vocab);
        return false;
    }

    /* 1. Words, with the tokenizer's UTF-8 and NUL checks. */
    TokenList tokens;
    token_list_init(&tokens);
    char reason[256];
    if (!tokenize(text, length, &tokens, reason, sizeof reason)) {
        snprintf(error, error_size, "corpus '%s' is not UTF-8 text: %s", source, reason);
        token_list_free(&tokens);
        return false;
    }

    /* 2. Enough words for both parts. */
    size_t validation_count = (size_t)((double)tokens.count * validation_fraction);
    size_t train_count = tokens.count - validation_count;
    if (train_count < min_words || validation_count < min_words) {
        snprintf(error, error_size,
                 "corpus '%s' has %zu words, too few: training and validation need %zu words each",
                 source, tokens.count, min_words);
        token_list_free(&tokens);
        return false;
    }

    /* 3. The vocabulary comes from the training part only, so validation words can be unknown. */
    TokenList train_tokens = tokens;
    train_tokens.count = train_count;
    Vocab *vocab = vocab_build(&train_tokens, max_vocab);
    int *ids = malloc(tokens.count * sizeof *ids);
    if (!vocab || !ids) {
        snprintf(error, error_size, "out of memory encoding corpus '%s' (%zu words)", source,
                 tokens.count);
        vocab_free(vocab);
        free(ids);
        token_list_free(&tokens);
        return false;
    }
    vocab_encode(vocab, &tokens, ids);
    token_list_free(&tokens);

    corpus->vocab = vocab;
    corpus->ids = ids;
    corpus->count = train_count + validation_count;
    corpus->train_count = train_count;
    return true;
}

void corpus_free(Corpus *corpus)
{
    vocab_free(corpus->vocab);
    free(corpus->ids);
    memset(corpus, 0, sizeof *corpus);
}
