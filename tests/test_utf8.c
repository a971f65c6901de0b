/*
 * Tests of common/utf8.c against the well-formed byte sequences of Table 3-7
 * of the Unicode Standard (the same rules as RFC 3629): the boundary code
 * points of each length, and each kind of ill-formed sequence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "utf8.h"

/* Returns utf8_sequence_length of a string literal's bytes. */
static size_t sequence_length(const char *bytes)
{
    return utf8_sequence_length((const unsigned char *)bytes, strlen(bytes));
}

static void test_utf8_sequence_length_valid_boundaries(void **state)
{
    (void)state;
    assert_int_equal(sequence_length("A"), 1);
    assert_int_equal(sequence_length("\x7F"), 1);
    assert_int_equal(sequence_length("\xC2\x80"), 2);         /* U+0080 */
    assert_int_equal(sequence_length("\xDF\xBF"), 2);         /* U+07FF */
    assert_int_equal(sequence_length("\xE0\xA0\x80"), 3);     /* U+0800 */
    assert_int_equal(sequence_length("\xED\x9F\xBF"), 3);     /* U+D7FF, below the surrogates */
    assert_int_equal(sequence_length("\xEE\x80\x80"), 3);     /* U+E000, above the surrogates */
    assert_int_equal(sequence_length("\xEF\xBF\xBF"), 3);     /* U+FFFF */
    assert_int_equal(sequence_length("\xF0\x90\x80\x80"), 4); /* U+10000 */
    assert_int_equal(sequence_length("\xF4\x8F\xBF\xBF"), 4); /* U+10FFFF */
}

static void test_utf8_sequence_length_common_characters(void **state)
{
    (void)state;
    assert_int_equal(sequence_length("\xC3\xA9"), 2);         /* é U+00E9 */
    assert_int_equal(sequence_length("\xE6\x97\xA5"), 3);     /* 日 U+65E5 */
    assert_int_equal(sequence_length("\xF0\x9F\x98\x80"), 4); /* 😀 U+1F600 */
}

static void test_utf8_sequence_length_rejects_ill_formed(void **state)
{
    (void)state;
    assert_int_equal(sequence_length("\x80"), 0); /* lone continuation byte */
    assert_int_equal(sequence_length("\xBF"), 0);
    assert_int_equal(sequence_length("\xC0\x80"), 0);         /* overlong U+0000 */
    assert_int_equal(sequence_length("\xC1\xBF"), 0);         /* overlong U+007F */
    assert_int_equal(sequence_length("\xE0\x80\x80"), 0);     /* overlong U+0000 */
    assert_int_equal(sequence_length("\xE0\x9F\xBF"), 0);     /* overlong U+07FF */
    assert_int_equal(sequence_length("\xF0\x80\x80\x80"), 0); /* overlong U+0000 */
    assert_int_equal(sequence_length("\xF0\x8F\xBF\xBF"), 0); /* overlong U+FFFF */
    assert_int_equal(sequence_length("\xED\xA0\x80"), 0);     /* surrogate U+D800 */
    assert_int_equal(sequence_length("\xED\xBF\xBF"), 0);     /* surrogate U+DFFF */
    assert_int_equal(sequence_length("\xF4\x90\x80\x80"), 0); /* U+110000 */
    assert_int_equal(sequence_length("\xF5\x80\x80\x80"), 0);
    assert_int_equal(sequence_length("\xFF"), 0);
    assert_int_equal(sequence_length("\xE6\x41\xA5"), 0); /* ASCII inside a character */
    assert_int_equal(sequence_length("\xE6\x97\x41"), 0);
}

static void test_utf8_sequence_length_rejects_cut_character(void **state)
{
    (void)state;
    const unsigned char bytes[] = {0xE6, 0x97, 0xA5};
    assert_int_equal(utf8_sequence_length(bytes, 2), 0);
    assert_int_equal(utf8_sequence_length(bytes, 1), 0);
    assert_int_equal(utf8_sequence_length(bytes, 3), 3);
}

static void test_utf8_validate_accepts_mixed_text(void **state)
{
    (void)state;
    const char *text = "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80!";
    size_t offset = 12345;
    assert_true(utf8_validate(text, strlen(text), &offset));
    assert_int_equal(offset, 12345);
    assert_true(utf8_validate("", 0, NULL));
}

static void test_utf8_validate_reports_offset(void **state)
{
    (void)state;
    size_t offset = 0;
    assert_false(utf8_validate("ab\xC3\xA9\xC3", 5, &offset));
    assert_int_equal(offset, 4);

    assert_false(utf8_validate("\xE6\x97\xA5x\xED\xA0\x80", 7, &offset));
    assert_int_equal(offset, 4);
}

static void test_utf8_validate_rejects_nul(void **state)
{
    (void)state;
    size_t offset = 0;
    assert_false(utf8_validate("ab\0cd", 5, &offset));
    assert_int_equal(offset, 2);
    assert_false(utf8_validate("ab\0cd", 5, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_sequence_length_valid_boundaries),
        cmocka_unit_test(test_utf8_sequence_length_common_characters),
        cmocka_unit_test(test_utf8_sequence_length_rejects_ill_formed),
        cmocka_unit_test(test_utf8_sequence_length_rejects_cut_character),
        cmocka_unit_test(test_utf8_validate_accepts_mixed_text),
        cmocka_unit_test(test_utf8_validate_reports_offset),
        cmocka_unit_test(test_utf8_validate_rejects_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
