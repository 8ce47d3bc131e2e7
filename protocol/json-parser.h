/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-parser.h — turns one message's tokens into a JsonValue, with QEMU's
 * qobject/json-parser.c error messages (private; json-stream.c drives it).
 */
#ifndef QUIESCE_JSON_PARSER_H
#define QUIESCE_JSON_PARSER_H

#include <stddef.h>

#include "json-lexer.h"
#include "json-value.h"
#include "proto-error.h"

typedef struct {
    JsonTokenType type;
    size_t offset; /* of the NUL-terminated text in the texts buffer */
    size_t len;
} JsonToken;

/*
 * Parses tokens[0..count) as one value (transfer full), or returns NULL and
 * sets *error to "JSON parse error, <what>". Tokens left over after the value
 * are an error only in that the caller never produces them: QEMU's streamer
 * hands over exactly one balanced value (or fewer tokens, on a stray closer).
 */
JsonValue *json_parser_parse(const JsonToken *tokens, size_t count, const char *texts,
                             ProtoError **error);

#endif
