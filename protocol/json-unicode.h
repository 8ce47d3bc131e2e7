/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-unicode.h — QEMU's "modified UTF-8" rules (private to the core).
 *
 * qemu-ga stores strings in modified UTF-8 (U+0000 as "\xC0\x80") and judges
 * them with util/unicode.c: the parser rejects what mod_utf8_codepoint()
 * rejects, and the writer turns every rejected sequence into one U+FFFD. The
 * parser and the writer must agree byte for byte, so both use these.
 */
#ifndef QUIESCE_JSON_UNICODE_H
#define QUIESCE_JSON_UNICODE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Decodes the sequence at s, reading at most n bytes (and never past a NUL).
 * Returns the code point, or -1 when the sequence is invalid: a NUL or n == 0
 * (*consumed = 0), 0xFE/0xFF or a stray continuation byte (*consumed = 1), a
 * truncated sequence (*consumed = the lead byte plus the continuation bytes
 * present), or a well-formed one that is overlong (except "\xC0\x80"), a
 * surrogate, a noncharacter or beyond U+10FFFF (*consumed = its length).
 */
int json_utf8_decode(const char *s, size_t n, size_t *consumed);

/* True for code points a string may hold: not a surrogate, not one of the 66
 * noncharacters, within 0..U+10FFFF. */
bool json_unicode_is_valid(int codepoint);

/* Writes a valid code point in modified UTF-8 (U+0000 as two bytes); returns
 * the length, 1..4, or 0 when the code point is not valid. */
size_t json_utf8_encode(char buf[4], int codepoint);

#endif
