/*
 * Tests of common/sentence_set.c, the sentences every stage program reads.
 * Expected vocabularies and swapped texts are worked out by hand in each
 * test's comment; files are written to a temporary folder first.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentence_set.h"

/* A temporary file for one test, removed by remove_file. */
typedef struct TestFile {
    char path[64];
} TestFile;

/* Writes bytes [length] to a new temporary file. */
static TestFile write_file(const char *bytes, size_t length)
{
    TestFile file;
    snprintf(file.path, sizeof file.path, "/tmp/test_sentence_set_XXXXXX");
    int descriptor = mkstemp(file.path);
    assert_true(descriptor >= 0);
    assert_int_equal(write(descriptor, bytes, length), (ssize_t)length);
    close(descriptor);
    return file;
}

static void remove_file(const TestFile *file) { unlink(file->path); }

/*
 * "the fat cat" and "the cat" share a vocabulary of <unk> and 3 words, and
 * swapping the last two words gives "the cat fat" with the ids swapped.
 */
static void test_sentence_set_encode_and_swap(void **state)
{
    (void)state;
    SentenceSet set;
    sentence_set_init(&set);
    char error[256] = "";
    assert_true(sentence_set_add(&set, "the fat cat", error, sizeof error));
    assert_true(sentence_set_add(&set, "The cat", error, sizeof error));
    assert_true(sentence_set_encode(&set, error, sizeof error));
    assert_int_equal(set.vocab->size, 4);

    const Sentence *first = &set.items[0];
    assert_int_equal(first->ids[1], vocab_id(set.vocab, "fat"));
    assert_int_equal(set.items[1].ids[0], vocab_id(set.vocab, "the"));

    int ids[3];
    char *text = sentence_swap_words(first, 1, 2, ids);
    assert_non_null(text);
    assert_string_equal(text, "the cat fat");
    assert_int_equal(ids[0], first->ids[0]);
    assert_int_equal(ids[1], first->ids[2]);
    assert_int_equal(ids[2], first->ids[1]);
    free(text);
    sentence_set_free(&set);
}

/* A text without words is rejected with a message, and the set stays empty. */
static void test_sentence_set_empty_rejected(void **state)
{
    (void)state;
    SentenceSet set;
    sentence_set_init(&set);
    char error[256] = "";
    assert_false(sentence_set_add(&set, "   ", error, sizeof error));
    assert_int_equal(set.count, 0);
    assert_non_null(strstr(error, "no words"));
    assert_false(sentence_set_encode(&set, error, sizeof error));
    sentence_set_free(&set);
}

/* Invalid UTF-8 (a lone 0xFF byte at offset 4) is rejected with its offset. */
static void test_sentence_set_invalid_utf8_rejected(void **state)
{
    (void)state;
    SentenceSet set;
    sentence_set_init(&set);
    char error[256] = "";
    assert_false(sentence_set_add(&set, "the \xff cat", error, sizeof error));
    assert_int_equal(set.count, 0);
    assert_non_null(strstr(error, "invalid UTF-8"));
    assert_non_null(strstr(error, "offset 4"));
    sentence_set_free(&set);
}

/*
 * A word of 10,000 letters survives the swap whole: "a W" becomes "W a",
 * 10,002 bytes, where a fixed buffer would have cut it.
 */
static void test_sentence_swap_long_word_kept(void **state)
{
    (void)state;
    enum { LETTERS = 10000 };
    char *text = malloc(LETTERS + 3);
    assert_non_null(text);
    text[0] = 'a';
    text[1] = ' ';
    memset(text + 2, 'w', LETTERS);
    text[LETTERS + 2] = '\0';

    SentenceSet set;
    sentence_set_init(&set);
    char error[256] = "";
    assert_true(sentence_set_add(&set, text, error, sizeof error));
    assert_true(sentence_set_encode(&set, error, sizeof error));
    char *swapped = sentence_swap_words(&set.items[0], 0, 1, NULL);
    assert_non_null(swapped);
    assert_int_equal(strlen(swapped), LETTERS + 2);
    assert_int_equal(strspn(swapped, "w"), LETTERS);
    assert_string_equal(swapped + LETTERS, " a");
    free(swapped);
    free(text);
    sentence_set_free(&set);
}

/* Three lines give three sentences, in order, with the line break removed. */
static void test_sentence_set_file_lines(void **state)
{
    (void)state;
    static const char content[] = "the cat\r\na dog ran\nend";
    TestFile file = write_file(content, sizeof content - 1);
    SentenceSet set;
    sentence_set_init(&set);
    char error[256] = "";
    assert_true(sentence_set_add_file(&set, file.path, 0, error, sizeof error));
    assert_int_equal(set.count, 3);
    assert_string_equal(set.items[0].text, "the cat");
    assert_int_equal(set.items[1].words.count, 3);
    assert_string_equal(set.items[2].text, "end");
    sentence_set_free(&set);
    remove_file(&file);
}

/* A blank second line is rejected by its number, and the first line is removed again. */
static void test_sentence_set_file_blank_line_rejected(void **state)
{
    (void)state;
    static const char content[] = "the cat\n  \t \nend\n";
    TestFile file = write_file(content, sizeof content - 1);
    SentenceSet set;
    sentence_set_init(&set);
    char error[256] = "";
    assert_false(sentence_set_add_file(&set, file.path, 0, error, sizeof error));
    assert_int_equal(set.count, 0);
    assert_non_null(strstr(error, "line 2"));
    assert_non_null(strstr(error, "no words"));
    sentence_set_free(&set);
    remove_file(&file);
}

/* A file without any line contains no sentence, which is an error. */
static void test_sentence_set_file_empty_rejected(void **state)
{
    (void)state;
    TestFile file = write_file("", 0);
    SentenceSet set;
    sentence_set_init(&set);
    char error[256] = "";
    assert_false(sentence_set_add_file(&set, file.path, 0, error, sizeof error));
    assert_int_equal(set.count, 0);
    assert_non_null(strstr(error, "no lines"));
    sentence_set_free(&set);
    remove_file(&file);
}

/* A NUL byte in line 1 at offset 4 is rejected by line and offset. */
static void test_sentence_set_file_nul_rejected(void **state)
{
    (void)state;
    static const char content[] = "the \0cat\n";
    TestFile file = write_file(content, sizeof content - 1);
    SentenceSet set;
    sentence_set_init(&set);
    char error[256] = "";
    assert_false(sentence_set_add_file(&set, file.path, 0, error, sizeof error));
    assert_non_null(strstr(error, "line 1"));
    assert_non_null(strstr(error, "NUL byte"));
    assert_non_null(strstr(error, "offset 4"));
    sentence_set_free(&set);
    remove_file(&file);
}

/* A folder is not a file of sentences; reading it fails with the reason. */
static void test_sentence_set_file_directory_rejected(void **state)
{
    (void)state;
    SentenceSet set;
    sentence_set_init(&set);
    char error[256] = "";
    assert_false(sentence_set_add_file(&set, "/tmp", 0, error, sizeof error));
    assert_int_equal(set.count, 0);
    assert_non_null(strstr(error, "/tmp"));
    assert_non_null(strstr(error, "directory"));
    sentence_set_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentence_set_encode_and_swap),
        cmocka_unit_test(test_sentence_set_empty_rejected),
        cmocka_unit_test(test_sentence_set_invalid_utf8_rejected),
        cmocka_unit_test(test_sentence_swap_long_word_kept),
        cmocka_unit_test(test_sentence_set_file_lines),
        cmocka_unit_test(test_sentence_set_file_blank_line_rejected),
        cmocka_unit_test(test_sentence_set_file_empty_rejected),
        cmocka_unit_test(test_sentence_set_file_nul_rejected),
        cmocka_unit_test(test_sentence_set_file_directory_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
