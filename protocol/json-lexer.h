/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-lexer.h — splits bytes into JSON tokens the way QEMU's
 * qobject/json-lexer.c does (private to the core; json-stream.c drives it).
 *
 * Tokens go to a sink callback as soon as they end. Numbers and keywords end
 * only when the byte after them arrives (look-ahead). A byte that cannot
 * continue or start a token is reported as JSON_TOKEN_ERROR, its text being
 * the token so far including that byte; the lexer then skips input until a
 * resynchronisation point (see json-lexer.c).
 */
#ifndef QUIESCE_JSON_LEXER_H
#define QUIESCE_JSON_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto-buffer.h"

typedef enum {
    JSON_TOKEN_ERROR,
    JSON_TOKEN_LCURLY,
    JSON_TOKEN_RCURLY,
    JSON_TOKEN_LSQUARE,
    JSON_TOKEN_RSQUARE,
    JSON_TOKEN_COLON,
    JSON_TOKEN_COMMA,
    JSON_TOKEN_INTEGER,
    JSON_TOKEN_FLOAT,
    JSON_TOKEN_KEYWORD, /* [a-z]+; the parser rejects all but true/false/null */
    JSON_TOKEN_STRING,  /* with its quotes and escapes, decoded by the parser */
    JSON_TOKEN_OVERSIZE,     /* a token grew beyond max_token_bytes */
    JSON_TOKEN_END_OF_INPUT, /* from json_lexer_flush() */
} JsonTokenType;

/* text is NUL-terminated (len excludes the NUL) and only valid during the
 * call. The sink may call json_lexer_reset(). */
typedef void (*JsonLexerSink)(void *opaque, JsonTokenType type, const char *text,
                              size_t len);

typedef struct {
    uint8_t state;
    bool oversize; /* the current token passed max_token_bytes (reported as
                    * JSON_TOKEN_OVERSIZE): its bytes are dropped until it ends */
    ProtoBuffer token;
    size_t max_token_bytes;
    JsonLexerSink sink;
    void *opaque;
} JsonLexer;

void json_lexer_init(JsonLexer *lexer, size_t max_token_bytes, JsonLexerSink sink,
                     void *opaque);
void json_lexer_destroy(JsonLexer *lexer);
void json_lexer_feed(JsonLexer *lexer, const char *bytes, size_t len);
/* End of input: finishes or rejects the pending token, then sends
 * JSON_TOKEN_END_OF_INPUT. */
void json_lexer_flush(JsonLexer *lexer);
/* Back to the start state with no pending token (memory is kept). */
void json_lexer_reset(JsonLexer *lexer);
/* True while a token has started but not ended. */
bool json_lexer_has_partial(const JsonLexer *lexer);

#endif
