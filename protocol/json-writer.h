/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-writer.h — serialising JsonValue.
 *
 * The wire form is byte-identical to qemu-ga's (qobject/json-writer.c):
 *   - compact, with ": " after a key and ", " between members/elements;
 *   - object members in QDict iteration order: bucket tdb_hash(key) % 512
 *     ascending, and within a bucket the most recently inserted key first;
 *   - strings escaped as \" \\ \b \f \n \r \t, other code points below 0x20 or
 *     from 0x7F up as \uXXXX (upper-case hex, surrogate pairs beyond the BMP),
 *     invalid UTF-8 as \uFFFD;
 *   - integers in decimal, doubles as printf("%.17g").
 * The pretty form (for people: quiesced --check --json) keeps insertion order
 * and indents by two spaces.
 */
#ifndef QUIESCE_JSON_WRITER_H
#define QUIESCE_JSON_WRITER_H

#include <stddef.h>

#include "json-value.h"

/* Returns a malloc'ed NUL-terminated string (transfer full); *out_len, if
 * non-NULL, receives its length. Never fails (aborts on out-of-memory). */
char *json_value_to_wire(const JsonValue *v, size_t *out_len);
char *json_value_to_pretty(const JsonValue *v, size_t *out_len);

#endif
