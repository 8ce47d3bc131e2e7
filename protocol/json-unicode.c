/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-unicode.c — modified UTF-8 as QEMU's util/unicode.c defines it
 * (mod_utf8_codepoint(), mod_utf8_encode()); see the header.
 *
 * The lead byte alone decides how many continuation bytes are expected, up to
 * the obsolete 5- and 6-byte forms (0xF8..0xFD), which are consumed whole and
 * then rejected as beyond U+10FFFF. That length decides how many bytes one
 * U+FFFD replaces in the writer, so it is reproduced exactly.
 */
#include "protocol/json-unicode.h"

bool json_unicode_is_valid(int codepoint)
{
    if (codepoint < 0 || codepoint > 0x10FFFF) {
        return false;
    }
    if ((codepoint >= 0xFDD0 && codepoint <= 0xFDEF) || (codepoint & 0xFFFE) == 0xFFFE) {
        return false; /* noncharacter */
    }
    return codepoint < 0xD800 || codepoint > 0xDFFF;
}

/* The smallest code point that needs a sequence of `len` bytes (2..6). */
static int json_utf8_min_for_length(unsigned len)
{
    static const int minimum[] = { 0x80, 0x800, 0x10000, 0x200000, 0x4000000 };

    return minimum[len - 2];
}

int json_utf8_decode(const char *s, size_t n, size_t *consumed)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned lead, len, i;
    long cp;

    if (n == 0 || p[0] == 0) {
        *consumed = 0;
        return -1;
    }
    lead = p[0];
    *consumed = 1;
    if (lead < 0x80) {
        return (int)lead;
    }
    if (lead >= 0xFE || (lead & 0x40) == 0) {
        return -1; /* impossible byte, or a continuation byte out of place */
    }
    for (len = 0; lead & (0x80u >> len); len++) {
    }
    cp = lead & (0x7Fu >> len);
    for (i = 1; i < len; i++) {
        unsigned byte = i < n ? p[i] : 0;

        if ((byte & 0xC0) != 0x80) {
            return -1; /* truncated: *consumed covers what was there */
        }
        cp = (cp << 6) | (byte & 0x3F);
        *consumed = i + 1;
    }
    if (cp > 0x10FFFF || !json_unicode_is_valid((int)cp)) {
        return -1;
    }
    if (cp < json_utf8_min_for_length(len) && !(cp == 0 && len == 2)) {
        return -1; /* overlong, other than QEMU's "\xC0\x80" for U+0000 */
    }
    return (int)cp;
}

size_t json_utf8_encode(char buf[4], int codepoint)
{
    unsigned cp = (unsigned)codepoint;

    if (!json_unicode_is_valid(codepoint)) {
        return 0;
    }
    if (cp > 0 && cp <= 0x7F) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp <= 0x7FF) { /* includes U+0000, encoded as C0 80 */
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp <= 0xFFFF) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
