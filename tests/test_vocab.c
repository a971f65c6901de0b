/*
 * Tests of common/vocab.c: the tokenizer rules stated in vocab.h, and
 * building, querying and checking a vocabulary. Expected token lists and ids
 * are worked out by hand from those rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "vocab.h"

/* Returns true when list contains exactly the count tokens of expected.
 * Otherwise prints both lists to stderr. */
static bool tokens_equal(const TokenList *list, const char *const *expected, size_t count)
{
    bool equal = list->count == count;
    for (size_t i = 0; equal && i < count; i++)
        equal = strcmp(token_list_get(list, i), expected[i]) == 0;
    if (!equal) {
        fprintf(stderr, "tokens:");
        for (size_t i = 0; i < list->count; i++)
            fprintf(stderr, " [%s]", token_list_get(list, i));
        fprintf(stderr, "\nexpected:");
        for (size_t i = 0; i < count; i++)
            fprintf(stderr, " [%s]", expected[i]);
        fprintf(stderr, "\n");
    }
    return equal;
}

/* Tokenizes a NUL-terminated string into a fresh list. */
static TokenList tokenize_string(const char *text)
{
    TokenList list;
    token_list_init(&list);
    char error[128] = "";
    bool ok = tokenize(text, strlen(text), &list, error, sizeof error);
    if (!ok)
        fprintf(stderr, "tokenize failed: %s\n", error);
    assert_true(ok);
    return list;
}

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

/* ------------------------------------------------------------------------- */
/* Tokenizer                                                                  */
/* ------------------------------------------------------------------------- */

static void test_tokenize_splits_punctuation(void **state)
{
    (void)state;
    TokenList list = tokenize_string("The dog's tail, wagged!(twice)");
    const char *expected[] = {"the",    "dog", "'", "s",     "tail", ",",
                              "wagged", "!",   "(", "twice", ")"};
    assert_true(tokens_equal(&list, expected, COUNT_OF(expected)));
    token_list_free(&list);
}

static void test_tokenize_every_ascii_punctuation_alone(void **state)
{
    (void)state;
    const char *punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    TokenList list = tokenize_string(punctuation);
    assert_int_equal(list.count, 32);
    for (size_t i = 0; i < list.count; i++) {
        const char one[2] = {punctuation[i], '\0'};
        assert_string_equal(token_list_get(&list, i), one);
    }
    token_list_free(&list);
}

static void test_tokenize_lowercases_ascii_only(void **state)
{
    (void)state;
    /* "ÉCOLE Über" -> É and Ü keep their case, the ASCII letters do not. */
    TokenList list = tokenize_string("\xC3\x89"
                                     "COLE \xC3\x9C"
                                     "BER x1Y2");
    const char *expected[] = {"\xC3\x89"
                              "cole",
                              "\xC3\x9C"
                              "ber",
                              "x1y2"};
    assert_true(tokens_equal(&list, expected, COUNT_OF(expected)));
    token_list_free(&list);
}

static void test_tokenize_keeps_multibyte_characters(void **state)
{
    (void)state;
    /* "café 日本。😀,😀" : the ideographic full stop U+3002 is not ASCII
     * punctuation, so it stays in the word. */
    TokenList list = tokenize_string("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC\xE3\x80\x82"
                                     "\xF0\x9F\x98\x80,\xF0\x9F\x98\x80");
    const char *expected[] = {"caf\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC\xE3\x80\x82\xF0\x9F\x98\x80",
                              ",", "\xF0\x9F\x98\x80"};
    assert_true(tokens_equal(&list, expected, COUNT_OF(expected)));
    for (size_t i = 0; i < list.count; i++) {
        const char *token = token_list_get(&list, i);
        assert_true(utf8_validate(token, strlen(token), NULL));
    }
    token_list_free(&list);
}

static void test_tokenize_all_whitespace_kinds_separate(void **state)
{
    (void)state;
    TokenList list = tokenize_string("a b\tc\nd\ve\ff\rg");
    const char *expected[] = {"a", "b", "c", "d", "e", "f", "g"};
    assert_true(tokens_equal(&list, expected, COUNT_OF(expected)));
    token_list_free(&list);
}

static void test_tokenize_empty_gives_no_tokens(void **state)
{
    (void)state;
    TokenList list;
    token_list_init(&list);
    assert_true(tokenize("", 0, &list, NULL, 0));
    assert_int_equal(list.count, 0);
    assert_true(tokenize(" \t\n\r\v\f  ", 8, &list, NULL, 0));
    assert_int_equal(list.count, 0);
    token_list_free(&list);
}

/* Only length bytes are read: the text need not be NUL-terminated. */
static void test_tokenize_reads_only_length_bytes(void **state)
{
    (void)state;
    const char buffer[] = {'h', 'i', ' ', 'y', 'o', 'u'};
    TokenList list;
    token_list_init(&list);
    assert_true(tokenize(buffer, 4, &list, NULL, 0));
    const char *expected[] = {"hi", "y"};
    assert_true(tokens_equal(&list, expected, COUNT_OF(expected)));
    token_list_free(&list);
}

static void test_tokenize_appends_to_list(void **state)
{
    (void)state;
    TokenList list = tokenize_string("one two");
    assert_true(tokenize("three", 5, &list, NULL, 0));
    const char *expected[] = {"one", "two", "three"};
    assert_true(tokens_equal(&list, expected, COUNT_OF(expected)));

    token_list_clear(&list);
    assert_int_equal(list.count, 0);
    assert_true(tokenize("four", 4, &list, NULL, 0));
    const char *after_clear[] = {"four"};
    assert_true(tokens_equal(&list, after_clear, 1));
    token_list_free(&list);
}

static void test_tokenize_long_ascii_word(void **state)
{
    (void)state;
    enum { LENGTH = 10000 };
    char *text = malloc(LENGTH + 3);
    assert_non_null(text);
    memset(text, 'W', LENGTH);
    memcpy(text + LENGTH, " .", 3);

    TokenList list = tokenize_string(text);
    assert_int_equal(list.count, 2);
    const char *word = token_list_get(&list, 0);
    assert_int_equal(strlen(word), LENGTH);
    assert_int_equal(strspn(word, "w"), LENGTH);
    assert_string_equal(token_list_get(&list, 1), ".");
    token_list_free(&list);
    free(text);
}

/* 10,000 copies of é (2 bytes each) form one word of 10,000 characters. */
static void test_tokenize_long_multibyte_word(void **state)
{
    (void)state;
    enum { CHARACTERS = 10000 };
    char *text = malloc(2 * CHARACTERS + 1);
    assert_non_null(text);
    for (int i = 0; i < CHARACTERS; i++)
        memcpy(text + 2 * i, "\xC3\xA9", 2);
    text[2 * CHARACTERS] = '\0';

    TokenList list = tokenize_string(text);
    assert_int_equal(list.count, 1);
    assert_memory_equal(token_list_get(&list, 0), text, 2 * CHARACTERS + 1);
    token_list_free(&list);
    free(text);
}

static void test_tokenize_invalid_utf8_names_offset(void **state)
{
    (void)state;
    TokenList list = tokenize_string("kept");
    char error[128] = "";
    assert_false(tokenize("ok \xC3\x28 more", 10, &list, error, sizeof error));
    assert_string_equal(error, "invalid UTF-8 at byte offset 3 (byte 0xC3)");
    assert_int_equal(list.count, 1);
    assert_string_equal(token_list_get(&list, 0), "kept");
    token_list_free(&list);
}

static void test_tokenize_overlong_rejected(void **state)
{
    (void)state;
    TokenList list;
    token_list_init(&list);
    char error[128] = "";
    assert_false(tokenize("a/\xC0\xAF", 4, &list, error, sizeof error));
    assert_string_equal(error, "invalid UTF-8 at byte offset 2 (byte 0xC0)");
    assert_int_equal(list.count, 0);
    token_list_free(&list);
}

static void test_tokenize_surrogate_rejected(void **state)
{
    (void)state;
    TokenList list;
    token_list_init(&list);
    char error[128] = "";
    assert_false(tokenize("\xED\xA0\x80", 3, &list, error, sizeof error));
    assert_string_equal(error, "invalid UTF-8 at byte offset 0 (byte 0xED)");
    token_list_free(&list);
}

static void test_tokenize_nul_rejected(void **state)
{
    (void)state;
    TokenList list;
    token_list_init(&list);
    char error[128] = "";
    assert_false(tokenize("ab\0cd", 5, &list, error, sizeof error));
    assert_string_equal(error, "NUL byte at byte offset 2");
    assert_int_equal(list.count, 0);
    token_list_free(&list);
}

static void test_tokenize_error_fits_small_buffer(void **state)
{
    (void)state;
    TokenList list;
    token_list_init(&list);
    char error[8];
    memset(error, 'x', sizeof error);
    assert_false(tokenize("\xFF", 1, &list, error, sizeof error));
    assert_string_equal(error, "invalid");
    assert_false(tokenize("\xFF", 1, &list, NULL, 0));
    token_list_free(&list);
}

/* ------------------------------------------------------------------------- */
/* Vocabulary                                                                 */
/* ------------------------------------------------------------------------- */

/* "b a c a b a d": a 3 times, b 2, c and d once each. */
static const char *const COUNTED_TEXT = "b a c a b a d";

static void test_vocab_build_orders_by_frequency(void **state)
{
    (void)state;
    TokenList tokens = tokenize_string(COUNTED_TEXT);
    Vocab *vocab = vocab_build(&tokens, 100);
    assert_non_null(vocab);
    assert_int_equal(vocab->size, 5);
    assert_string_equal(vocab_word(vocab, 0), "<unk>");
    assert_string_equal(vocab_word(vocab, 1), "a");
    assert_string_equal(vocab_word(vocab, 2), "b");
    assert_string_equal(vocab_word(vocab, 3), "c");
    assert_string_equal(vocab_word(vocab, 4), "d");
    vocab_free(vocab);
    token_list_free(&tokens);
}

/* max_size 4 = "<unk>" + 3 words: c and d tie at 1, and c wins by byte order. */
static void test_vocab_build_cap_breaks_ties_by_bytes(void **state)
{
    (void)state;
    TokenList tokens = tokenize_string(COUNTED_TEXT);
    Vocab *vocab = vocab_build(&tokens, 4);
    assert_int_equal(vocab->size, 4);
    assert_int_equal(vocab_id(vocab, "c"), 3);
    assert_int_equal(vocab_id(vocab, "d"), VOCAB_UNKNOWN_ID);
    vocab_free(vocab);
    token_list_free(&tokens);
}

/* Byte order, not character order: "z" (0x7A) sorts before "é" (0xC3 0xA9),
 * and "ab" before "b". */
static void test_vocab_build_tie_order_is_byte_order(void **state)
{
    (void)state;
    TokenList tokens = tokenize_string("\xC3\xA9 z b ab");
    Vocab *vocab = vocab_build(&tokens, 10);
    assert_string_equal(vocab_word(vocab, 1), "ab");
    assert_string_equal(vocab_word(vocab, 2), "b");
    assert_string_equal(vocab_word(vocab, 3), "z");
    assert_string_equal(vocab_word(vocab, 4), "\xC3\xA9");
    vocab_free(vocab);
    token_list_free(&tokens);
}

/* The same words in another order give the same ids. */
static void test_vocab_build_ignores_token_order(void **state)
{
    (void)state;
    TokenList forward = tokenize_string("x y z y z z w v");
    TokenList backward = tokenize_string("v w z z y z y x");
    Vocab *a = vocab_build(&forward, 4);
    Vocab *b = vocab_build(&backward, 4);
    assert_int_equal(a->size, b->size);
    for (int id = 0; id < a->size; id++)
        assert_string_equal(vocab_word(a, id), vocab_word(b, id));
    vocab_free(a);
    vocab_free(b);
    token_list_free(&forward);
    token_list_free(&backward);
}

static void test_vocab_build_size_limits(void **state)
{
    (void)state;
    TokenList tokens = tokenize_string(COUNTED_TEXT);
    Vocab *only_unknown = vocab_build(&tokens, 1);
    assert_int_equal(only_unknown->size, 1);
    assert_int_equal(vocab_id(only_unknown, "a"), VOCAB_UNKNOWN_ID);
    assert_null(vocab_build(&tokens, 0));
    assert_null(vocab_build(&tokens, -5));

    TokenList empty;
    token_list_init(&empty);
    Vocab *from_empty = vocab_build(&empty, 10);
    assert_int_equal(from_empty->size, 1);
    vocab_free(only_unknown);
    vocab_free(from_empty);
    token_list_free(&tokens);
}

static void test_vocab_id_unknown_is_zero(void **state)
{
    (void)state;
    TokenList tokens = tokenize_string(COUNTED_TEXT);
    Vocab *vocab = vocab_build(&tokens, 100);
    assert_int_equal(vocab_id(vocab, "zebra"), VOCAB_UNKNOWN_ID);
    assert_int_equal(vocab_id(vocab, ""), VOCAB_UNKNOWN_ID);
    assert_int_equal(vocab_id(vocab, "<unk>"), VOCAB_UNKNOWN_ID);
    assert_int_equal(vocab_id(vocab, "b"), 2);
    vocab_free(vocab);
    token_list_free(&tokens);
}

static void test_vocab_word_out_of_range_null(void **state)
{
    (void)state;
    Vocab *vocab = vocab_new();
    assert_int_equal(vocab_add(vocab, "one"), 1);
    assert_null(vocab_word(vocab, -1));
    assert_null(vocab_word(vocab, 2));
    assert_string_equal(vocab_word(vocab, 1), "one");
    vocab_free(vocab);
}

static void test_vocab_encode_maps_unknown_to_zero(void **state)
{
    (void)state;
    TokenList corpus = tokenize_string(COUNTED_TEXT);
    Vocab *vocab = vocab_build(&corpus, 3);
    TokenList sentence = tokenize_string("a c b zebra");
    int ids[4] = {-1, -1, -1, -1};

    assert_int_equal(vocab_encode(vocab, &sentence, ids), 2);
    const int expected[] = {1, 0, 2, 0};
    assert_memory_equal(ids, expected, sizeof expected);
    vocab_free(vocab);
    token_list_free(&corpus);
    token_list_free(&sentence);
}

static void test_vocab_add_assigns_ids_in_order(void **state)
{
    (void)state;
    Vocab *vocab = vocab_new();
    assert_int_equal(vocab->size, 1);
    assert_int_equal(vocab_add(vocab, "dog"), 1);
    assert_int_equal(vocab_add(vocab, "tail"), 2);
    assert_int_equal(vocab_add(vocab, "dog"), 1);
    assert_int_equal(vocab_add(vocab, "<unk>"), 0);
    assert_int_equal(vocab_add(vocab, ""), -1);
    assert_int_equal(vocab->size, 3);
    vocab_free(vocab);
}

/* 5000 words: far more than the initial hash table, so it grows many times. */
static void test_vocab_add_many_words_round_trip(void **state)
{
    (void)state;
    enum { WORDS = 5000 };
    Vocab *vocab = vocab_new();
    char word[32];
    for (int i = 0; i < WORDS; i++) {
        snprintf(word, sizeof word, "word%d", i);
        assert_int_equal(vocab_add(vocab, word), i + 1);
    }
    for (int i = 0; i < WORDS; i++) {
        snprintf(word, sizeof word, "word%d", i);
        assert_int_equal(vocab_id(vocab, word), i + 1);
        assert_string_equal(vocab_word(vocab, i + 1), word);
    }
    assert_int_equal(vocab->size, WORDS + 1);
    vocab_free(vocab);
}

static void test_vocab_check_ids_accepts_valid(void **state)
{
    (void)state;
    const int ids[] = {0, 4, 2, 9};
    assert_true(vocab_check_ids(ids, 4, 10, NULL, 0));
    assert_true(vocab_check_ids(NULL, 0, 10, NULL, 0));
}

static void test_vocab_check_ids_rejects_out_of_range(void **state)
{
    (void)state;
    const int too_large[] = {0, 4, 10, 2};
    char error[160] = "";
    assert_false(vocab_check_ids(too_large, 4, 10, error, sizeof error));
    assert_string_equal(error, "word id 10 at position 2 is out of range: valid ids are 0 to 9 "
                               "(vocabulary size 10)");

    const int negative[] = {-1};
    assert_false(vocab_check_ids(negative, 1, 10, error, sizeof error));
    assert_non_null(strstr(error, "word id -1 at position 0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenize_splits_punctuation),
        cmocka_unit_test(test_tokenize_every_ascii_punctuation_alone),
        cmocka_unit_test(test_tokenize_lowercases_ascii_only),
        cmocka_unit_test(test_tokenize_keeps_multibyte_characters),
        cmocka_unit_test(test_tokenize_all_whitespace_kinds_separate),
        cmocka_unit_test(test_tokenize_empty_gives_no_tokens),
        cmocka_unit_test(test_tokenize_reads_only_length_bytes),
        cmocka_unit_test(test_tokenize_appends_to_list),
        cmocka_unit_test(test_tokenize_long_ascii_word),
        cmocka_unit_test(test_tokenize_long_multibyte_word),
        cmocka_unit_test(test_tokenize_invalid_utf8_names_offset),
        cmocka_unit_test(test_tokenize_overlong_rejected),
        cmocka_unit_test(test_tokenize_surrogate_rejected),
        cmocka_unit_test(test_tokenize_nul_rejected),
        cmocka_unit_test(test_tokenize_error_fits_small_buffer),
        cmocka_unit_test(test_vocab_build_orders_by_frequency),
        cmocka_unit_test(test_vocab_build_cap_breaks_ties_by_bytes),
        cmocka_unit_test(test_vocab_build_tie_order_is_byte_order),
        cmocka_unit_test(test_vocab_build_ignores_token_order),
        cmocka_unit_test(test_vocab_build_size_limits),
        cmocka_unit_test(test_vocab_id_unknown_is_zero),
        cmocka_unit_test(test_vocab_word_out_of_range_null),
        cmocka_unit_test(test_vocab_encode_maps_unknown_to_zero),
        cmocka_unit_test(test_vocab_add_assigns_ids_in_order),
        cmocka_unit_test(test_vocab_add_many_words_round_trip),
        cmocka_unit_test(test_vocab_check_ids_accepts_valid),
        cmocka_unit_test(test_vocab_check_ids_rejects_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
