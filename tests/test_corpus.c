/*
 * Tests of the corpus reader: each bad file gets an error naming the path
 * and the problem, and a good file splits as computed by hand.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "corpus.h"

/* Writes bytes to a fresh temporary file and returns its path (static buffer). */
static const char *write_temp(const char *bytes, size_t length)
{
    static char path[64];
    strcpy(path, "/tmp/corpus_test_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, length), (ssize_t)length);
    close(fd);
    return path;
}

/* Loads path expecting failure; asserts the error contains both fragments and the corpus stays
 * zeroed.
 */
static void expect_error(const char *path, const char *fragment1, const char *fragment2)
{
    Corpus corpus = {0};
    char error[512] = "";
    assert_false(corpus_load(path, 100, 0.5, 1, &corpus, error, sizeof error));
    if (!strstr(error, fragment1) || !strstr(error, fragment2))
        fail_msg("error '%s' lacks '%s' or '%s'", error, fragment1, fragment2);
    assert_null(corpus.ids);
    assert_null(corpus.vocab);
}

static void test_corpus_missing_file(void **state)
{
    (void)state;
    expect_error("/tmp/no/such/corpus.txt", "/tmp/no/such/corpus.txt", "No such file");
}

static void test_corpus_directory(void **state)
{
    (void)state;
    expect_error("/tmp", "'/tmp'", "directory");
}

static void test_corpus_empty_file(void **state)
{
    (void)state;
    const char *path = write_temp("", 0);
    expect_error(path, path, "empty");
    unlink(path);
}

/* A NUL byte at offset 3 marks a binary file. */
static void test_corpus_binary_file(void **state)
{
    (void)state;
    const char bytes[] = {'a', 'b', ' ', '\0', 'c', 'd'};
    const char *path = write_temp(bytes, sizeof bytes);
    expect_error(path, "not UTF-8 text", "offset 3");
    unlink(path);
}

/* 0xC3 must be followed by a continuation byte; at offset 5 ("word " is 0..4) a space follows it.
 */
static void test_corpus_invalid_utf8(void **state)
{
    (void)state;
    const char *path = write_temp("word \xC3 more", 11);
    expect_error(path, "not UTF-8 text", "offset 5");
    unlink(path);
}

/* Two words cannot give 5 training and 5 validation words. */
static void test_corpus_too_short(void **state)
{
    (void)state;
    const char *path = write_temp("two words", 9);
    Corpus corpus = {0};
    char error[512] = "";
    assert_false(corpus_load(path, 100, 0.5, 5, &corpus, error, sizeof error));
    assert_non_null(strstr(error, "too few"));
    unlink(path);
}

/*
 * "a b a c , d a b" has 8 tokens (the comma is one). With validation
 * fraction 0.25, 2 words are held out (8 * 0.25) and 6 train. The
 * vocabulary comes from "a b a c , d" only: a (2) first, then b , c d
 * (1 each, in byte order: ',' < 'b' < 'c' < 'd'), so the held-out "a b"
 * encodes to the ids of a and b and a word absent from training would be 0.
 */
static void test_corpus_split_and_ids(void **state)
{
    (void)state;
    const char *text = "a b a c , d a b";
    const char *path = write_temp(text, strlen(text));
    Corpus corpus = {0};
    char error[512] = "";
    assert_true(corpus_load(path, 100, 0.25, 1, &corpus, error, sizeof error));
    assert_int_equal(corpus.count, 8);
    assert_int_equal(corpus.train_count, 6);

    assert_int_equal(vocab_id(corpus.vocab, "a"), 1);
    assert_int_equal(vocab_id(corpus.vocab, ","), 2);
    assert_int_equal(vocab_id(corpus.vocab, "b"), 3);
    assert_int_equal(corpus.ids[0], 1);
    assert_int_equal(corpus.ids[4], 2);
    assert_int_equal(corpus.ids[6], 1);
    assert_int_equal(corpus.ids[7], 3);

    corpus_free(&corpus);
    unlink(path);
}

/* A vocabulary of 2 keeps <unk> and "a": every other word becomes 0. */
static void test_corpus_vocabulary_cap(void **state)
{
    (void)state;
    const char *text = "a b a c a d";
    Corpus corpus = {0};
    char error[512] = "";
    assert_true(
        corpus_load_buffer(text, strlen(text), "memory", 2, 0.5, 1, &corpus, error, sizeof error));
    assert_int_equal(corpus.ids[0], 1);
    assert_int_equal(corpus.ids[1], 0);
    assert_int_equal(corpus.ids[3], 0);
    corpus_free(&corpus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_missing_file),  cmocka_unit_test(test_corpus_directory),
        cmocka_unit_test(test_corpus_empty_file),    cmocka_unit_test(test_corpus_binary_file),
        cmocka_unit_test(test_corpus_invalid_utf8),  cmocka_unit_test(test_corpus_too_short),
        cmocka_unit_test(test_corpus_split_and_ids), cmocka_unit_test(test_corpus_vocabulary_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
