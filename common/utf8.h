/**
 * @file utf8.h
 * @brief Validation of UTF-8 text, shared by the tokenizer and the line reader.
 *
 * Well-formed UTF-8 is defined in RFC 3629 and in Table 3-7 of the Unicode
 * Standard: a character is 1 to 4 bytes, the shortest form only (no
 * overlong encodings such as C0 80), no UTF-16 surrogates (U+D800 to
 * U+DFFF, encoded as ED A0 80 to ED BF BF) and nothing above U+10FFFF.
 * Because every byte of a multi-byte character is 0x80 or above, splitting
 * valid UTF-8 at ASCII bytes never cuts a character.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Measures the UTF-8 character that starts at @p bytes, of which
 * @p available bytes (at least 1) may be read.
 * @return its length, 1 to 4, or 0 when the bytes there do not start a
 *         well-formed character (a stray continuation byte, an overlong
 *         form, a surrogate, a value above U+10FFFF, or a character cut off
 *         by the end of the buffer). A NUL byte is a valid 1-byte character.
 */
size_t utf8_sequence_length(const unsigned char *bytes, size_t available);

/**
 * Checks that @p text[0 .. length-1] is well-formed UTF-8 without NUL bytes.
 * @return true when it is. Otherwise false, with *error_offset (when
 *         error_offset is not NULL) set to the offset of the NUL byte or of
 *         the first byte of the first ill-formed character.
 */
bool utf8_validate(const char *text, size_t length, size_t *error_offset);

#endif /* UTF8_H */
