/*
 * UTF-8 validation (see utf8.h for the rules and their source).
 */
#include "utf8.h"

/* Returns true when byte is a continuation byte, 10xxxxxx. */
static bool is_continuation(unsigned char byte) { return byte >= 0x80 && byte <= 0xBF; }

size_t utf8_sequence_length(const unsigned char *bytes, size_t available)
{
    unsigned char lead = bytes[0];
    if (lead < 0x80)
        return 1;

    /* The lead byte fixes the length and the allowed range of the second
     * byte; the narrower ranges exclude overlongs (E0, F0), surrogates (ED)
     * and values above U+10FFFF (F4). C0, C1 and F5..FF never occur in
     * well-formed UTF-8. */
    size_t length;
    unsigned char second_min = 0x80, second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0)
            second_min = 0xA0;
        if (lead == 0xED)
            second_max = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0)
            second_min = 0x90;
        if (lead == 0xF4)
            second_max = 0x8F;
    } else {
        return 0;
    }

    if (available < length)
        return 0;
    if (bytes[1] < second_min || bytes[1] > second_max)
        return 0;
    for (size_t i = 2; i < length; i++) {
        if (!is_continuation(bytes[i]))
            return 0;
    }
    return length;
}

bool utf8_validate(const char *text, size_t length, size_t *error_offset)
{
    const unsigned char *bytes = (const unsigned char *)text;
    size_t offset = 0;
    while (offset < length) {
        size_t character_length = utf8_sequence_length(bytes + offset, length - offset);
        if (character_length == 0 || bytes[offset] == 0) {
            if (error_offset)
                *error_offset = offset;
            return false;
        }
        offset += character_length;
    }
    return true;
}
