/*
 * libFuzzer target: tokenize arbitrary bytes, build vocabularies from the
 * tokens and encode them. Besides the sanitizers' memory and undefined
 * behaviour checks, it aborts when a result breaks a rule of vocab.h:
 * - tokenize accepts exactly the inputs that are well-formed UTF-8 without
 *   NUL bytes, and leaves the list empty when it rejects one;
 * - the tokens, joined, are the input without ASCII whitespace and with
 *   ASCII letters lowercased, and a token with ASCII punctuation is that one
 *   character;
 * - every encoded id is valid, names its token or is VOCAB_UNKNOWN_ID, and a
 *   vocabulary built without a size limit contains every token.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "vocab.h"

/* Stops the run with a message, so that libFuzzer saves the input. */
static void require(bool condition, const char *rule)
{
    if (!condition) {
        fprintf(stderr, "fuzz_tokenize: broken rule: %s\n", rule);
        abort();
    }
}

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The C locale's ispunct for ASCII: printable, not a letter, digit or space. */
static bool is_ascii_punctuation(unsigned char c)
{
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    return c > ' ' && c < 0x7F && !letter && !digit;
}

/* Checks the tokens against the input they were made from. */
static void check_tokens(const TokenList *tokens, const uint8_t *data, size_t size)
{
    size_t input_offset = 0;
    for (size_t i = 0; i < tokens->count; i++) {
        const unsigned char *token = (const unsigned char *)token_list_get(tokens, i);
        size_t length = strlen((const char *)token);
        require(length > 0, "tokens are not empty");

        for (size_t k = 0; k < length; k++) {
            require(!is_ascii_space(token[k]), "tokens contain no ASCII whitespace");
            require(!(token[k] >= 'A' && token[k] <= 'Z'), "ASCII letters are lowercased");
            require(!is_ascii_punctuation(token[k]) || length == 1,
                    "ASCII punctuation is a token of its own");

            while (input_offset < size && is_ascii_space(data[input_offset]))
                input_offset++;
            require(input_offset < size, "tokens come from the input");
            unsigned char expected = data[input_offset++];
            if (expected >= 'A' && expected <= 'Z')
                expected = (unsigned char)(expected - 'A' + 'a');
            require(token[k] == expected, "tokens are the input in order");
        }
    }
    while (input_offset < size && is_ascii_space(data[input_offset]))
        input_offset++;
    require(input_offset == size, "every byte but whitespace is in a token");
}

/* Encodes the tokens with vocab and checks the ids; returns the unknown count. */
static size_t check_encoding(const Vocab *vocab, const TokenList *tokens)
{
    int *ids = malloc((tokens->count > 0 ? tokens->count : 1) * sizeof *ids);
    require(ids != NULL, "memory for the ids");
    size_t unknown = vocab_encode(vocab, tokens, ids);
    require(vocab_check_ids(ids, tokens->count, vocab->size, NULL, 0), "ids are in range");

    size_t counted_unknown = 0;
    for (size_t i = 0; i < tokens->count; i++) {
        if (ids[i] == VOCAB_UNKNOWN_ID)
            counted_unknown++;
        else
            require(strcmp(vocab_word(vocab, ids[i]), token_list_get(tokens, i)) == 0,
                    "an id names its token");
    }
    require(counted_unknown == unknown, "vocab_encode counts the unknown tokens");
    free(ids);
    return unknown;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    TokenList tokens;
    token_list_init(&tokens);
    char error[256] = "";
    bool ok = tokenize((const char *)data, size, &tokens, error, sizeof error);
    require(ok == utf8_validate((const char *)data, size, NULL),
            "tokenize accepts exactly well-formed UTF-8 without NUL");
    if (!ok) {
        require(tokens.count == 0 && error[0] != '\0', "a rejected text leaves the list empty");
        token_list_free(&tokens);
        return 0;
    }
    check_tokens(&tokens, data, size);

    /* A small vocabulary leaves some words unknown; an unlimited one none. */
    int max_size = 1 + (size > 0 ? data[0] % 8 : 0);
    Vocab *small = vocab_build(&tokens, max_size);
    Vocab *full = vocab_build(&tokens, INT_MAX);
    require(small != NULL && full != NULL, "vocab_build succeeds");
    require(small->size <= max_size, "vocab_build keeps to max_size");
    check_encoding(small, &tokens);
    require(check_encoding(full, &tokens) == 0, "an unlimited vocabulary contains every token");

    vocab_free(small);
    vocab_free(full);
    token_list_free(&tokens);
    return 0;
}
