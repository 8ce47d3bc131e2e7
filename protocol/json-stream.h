/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-stream.h — qemu-ga's streaming JSON input: lexer, message splitter and
 * parser in one object (QEMU qobject/json-lexer.c, json-streamer.c,
 * json-parser.c are the reference; the behaviour, not the code, is copied).
 *
 * Bytes are fed in arbitrary pieces. Every complete top-level value, and every
 * error, is delivered through the callback, in input order:
 *   - whitespace (space, TAB, CR, LF) separates tokens; newlines mean nothing;
 *   - a value is complete when its braces/brackets balance; a top-level scalar
 *     is complete when the byte after it arrives (look-ahead, as in QEMU);
 *   - QEMU's extensions: single-quoted strings and the \' escape;
 *   - a byte illegal where it stands (0xFE/0xFF anywhere, a control character
 *     other than TAB/CR/LF, bad token) yields ONE error
 *     "JSON parse error, stray '<token so far>'", drops all partial input, and
 *     the lexer skips to the next structural character, control character or
 *     0xFE/0xFF (recovery); this is how a host resynchronises with 0xFF;
 *   - parser errors read "JSON parse error, <what>" with QEMU's wording
 *     ("expecting value", "duplicate key", "invalid keyword 'x'", ...);
 *   - limits, each answered with one error and a reset of the partial input:
 *     a token or message over max_message_bytes ("JSON token size limit
 *     exceeded"), more than max_tokens tokens ("JSON token count limit
 *     exceeded"), nesting deeper than max_depth ("JSON nesting depth limit
 *     exceeded").
 */
#ifndef QUIESCE_JSON_STREAM_H
#define QUIESCE_JSON_STREAM_H

#include <stddef.h>

#include "json-value.h"
#include "proto-error.h"

/* qemu-ga's limits (qobject/json-streamer.c): 64 MiB, 2 Mi tokens, depth 1024. */
#define JSON_STREAM_DEFAULT_MAX_MESSAGE_BYTES (64u * 1024 * 1024)
#define JSON_STREAM_DEFAULT_MAX_TOKENS (2u * 1024 * 1024)
#define JSON_STREAM_DEFAULT_MAX_DEPTH 1024u

/* A zero field means qemu-ga's default for that limit. */
typedef struct {
    size_t max_message_bytes;
    size_t max_tokens;
    size_t max_depth;
} JsonStreamLimits;

/*
 * Called once per complete value (value != NULL, error == NULL) or per error
 * (value == NULL, error != NULL). Both are transfer full: the callee frees.
 * Errors are GenericError. The stream has already dropped the message when
 * this runs; the callback may call json_stream_reset() (the rest of the fed
 * bytes are then lexed from a clean state) but must not feed or free it.
 */
typedef void (*JsonStreamEmit)(void *opaque, JsonValue *value, ProtoError *error);

typedef struct JsonStream JsonStream;

/* limits may be NULL for qemu-ga's defaults. */
JsonStream *json_stream_new(const JsonStreamLimits *limits, JsonStreamEmit emit,
                            void *opaque);
void json_stream_free(JsonStream *stream);
/* Feeds bytes; may call emit any number of times before returning. */
void json_stream_feed(JsonStream *stream, const char *bytes, size_t len);
/* Forgets all partial input (a host reconnected); emits nothing. */
void json_stream_reset(JsonStream *stream);
/* True when partial input is buffered (a value has started but not ended). */
int json_stream_has_partial(const JsonStream *stream);

/* Parses exactly one JSON value from a complete string (config, tests).
 * Trailing whitespace is allowed, anything else after the value is an error.
 * Messages as QEMU's qobject_from_json(): the first parse error, else
 * "Expecting at most one JSON value" or "Expecting a JSON value". */
JsonValue *json_parse_string(const char *text, size_t len, ProtoError **error);

#endif
