/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-stream.c — splits the token stream into messages and enforces the
 * limits, reproducing QEMU's qobject/json-streamer.c; see json-stream.h.
 *
 * Tokens are queued while braces or brackets are open. When both counts are
 * back to zero, or either goes negative (a stray closer), the queue is parsed
 * and the result or error is emitted. Every emission, lexer errors and limit
 * errors included, first drops the queue and zeroes the counts, so a bad
 * message costs one error and the next one starts clean. The limits are
 * checked before a token is queued, with QEMU's arithmetic: a token is refused
 * when the queued bytes plus its length plus one exceed max_message_bytes, or
 * when the open braces plus brackets, counting this token, exceed max_depth.
 *
 * Past a limit we part from qemu-ga on purpose: qemu-ga lexes the rest of an
 * over-limit message as new input, so one oversized request yields a cascade
 * of errors (and its tail may even parse as a request). We keep counting
 * braces and brackets and drop the message's remaining tokens until it
 * closes: one error per over-limit message, and the next request is served.
 * A lexer error (0xFF from a resynchronising host) ends the skipping.
 */
#include "protocol/json-stream.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "protocol/json-lexer.h"
#include "protocol/json-parser.h"
#include "protocol/proto-alloc.h"
#include "protocol/proto-buffer.h"

struct JsonStream {
    JsonStreamLimits limits;
    JsonStreamEmit emit;
    void *opaque;
    JsonLexer lexer;
    JsonToken *tokens; /* the message so far */
    size_t token_count;
    size_t token_cap;
    ProtoBuffer texts;  /* token texts, each followed by a NUL */
    size_t token_bytes; /* sum of token lengths, QEMU's token_size */
    int64_t brace_count;
    int64_t bracket_count;
    bool skipping; /* dropping the rest of an over-limit message */
};

static void json_stream_drop_message(JsonStream *stream)
{
    stream->skipping = false;
    stream->token_count = 0;
    stream->token_bytes = 0;
    stream->brace_count = 0;
    stream->bracket_count = 0;
    proto_buffer_truncate(&stream->texts, 0);
}

/* Resets, then hands over: emit may feed nothing but may reset the stream. */
static void json_stream_emit(JsonStream *stream, JsonValue *value, ProtoError *error)
{
    json_stream_drop_message(stream);
    stream->emit(stream->opaque, value, error);
}

static void json_stream_emit_error(JsonStream *stream, const char *desc)
{
    ProtoError *error = NULL;

    proto_error_set_literal(&error, PROTO_ERROR_CLASS_GENERIC_ERROR, desc);
    json_stream_emit(stream, NULL, error);
}

/* One error for an over-limit message; its remaining tokens are skipped
 * until its braces and brackets close. */
static void json_stream_emit_limit(JsonStream *stream, const char *desc)
{
    int64_t braces = stream->brace_count;
    int64_t brackets = stream->bracket_count;
    ProtoError *error = NULL;

    json_stream_drop_message(stream);
    if (braces > 0 || brackets > 0) {
        stream->brace_count = braces;
        stream->bracket_count = brackets;
        stream->skipping = true;
    }
    proto_error_set_literal(&error, PROTO_ERROR_CLASS_GENERIC_ERROR, desc);
    stream->emit(stream->opaque, NULL, error);
}

/* While skipping: FALSE once the over-limit message has closed. */
static bool json_stream_still_skipping(const JsonStream *stream)
{
    return (stream->brace_count > 0 || stream->bracket_count > 0) &&
           stream->brace_count >= 0 && stream->bracket_count >= 0;
}

static void json_stream_emit_stray(JsonStream *stream, const char *text)
{
    ProtoBuffer desc = PROTO_BUFFER_INIT;

    /* The raw bytes, cut at a NUL like QEMU's "%s": a NUL byte gives
     * "stray ''", invalid UTF-8 is left for the writer to replace. */
    proto_buffer_append_str(&desc, "JSON parse error, stray '");
    proto_buffer_append_str(&desc, text);
    proto_buffer_append_c(&desc, '\'');
    json_stream_emit_error(stream, desc.data);
    proto_buffer_release(&desc);
}

static void json_stream_parse_message(JsonStream *stream)
{
    ProtoError *error = NULL;
    JsonValue *value = json_parser_parse(stream->tokens, stream->token_count,
                                         stream->texts.data, &error);

    json_stream_emit(stream, value, error);
}

/* The limit a token would break, or NULL. */
static const char *json_stream_check_limits(const JsonStream *stream, size_t len)
{
    int64_t depth = stream->brace_count + stream->bracket_count;

    if (len >= stream->limits.max_message_bytes - stream->token_bytes) {
        return "JSON token size limit exceeded";
    }
    if (stream->token_count >= stream->limits.max_tokens) {
        return "JSON token count limit exceeded";
    }
    if (depth > 0 && (uint64_t)depth > stream->limits.max_depth) {
        return "JSON nesting depth limit exceeded";
    }
    return NULL;
}

static void json_stream_queue(JsonStream *stream, JsonTokenType type, const char *text,
                              size_t len)
{
    JsonToken *token;

    if (stream->token_count == stream->token_cap) {
        stream->token_cap = proto_grow_capacity(stream->token_cap, stream->token_count + 1, 64);
        stream->tokens = proto_xreallocarray(stream->tokens, stream->token_cap,
                                             sizeof(*stream->tokens));
    }
    token = &stream->tokens[stream->token_count++];
    token->type = type;
    token->offset = stream->texts.len;
    token->len = len;
    proto_buffer_append(&stream->texts, text, len);
    proto_buffer_append_c(&stream->texts, '\0');
    stream->token_bytes += len;
}

static void json_stream_on_token(void *opaque, JsonTokenType type, const char *text,
                                 size_t len)
{
    JsonStream *stream = opaque;
    const char *limit;

    switch (type) {
    case JSON_TOKEN_LCURLY:
        stream->brace_count++;
        break;
    case JSON_TOKEN_RCURLY:
        stream->brace_count--;
        break;
    case JSON_TOKEN_LSQUARE:
        stream->bracket_count++;
        break;
    case JSON_TOKEN_RSQUARE:
        stream->bracket_count--;
        break;
    case JSON_TOKEN_ERROR:
        json_stream_emit_stray(stream, text);
        return;
    case JSON_TOKEN_OVERSIZE:
        /* Reported when the token outgrows the limit; the lexer drops the
         * rest of it. */
        if (!stream->skipping) {
            json_stream_emit_limit(stream, "JSON token size limit exceeded");
        }
        return;
    case JSON_TOKEN_END_OF_INPUT:
        if (stream->token_count > 0) {
            json_stream_parse_message(stream);
        }
        return;
    case JSON_TOKEN_COLON:
    case JSON_TOKEN_COMMA:
    case JSON_TOKEN_INTEGER:
    case JSON_TOKEN_FLOAT:
    case JSON_TOKEN_KEYWORD:
    case JSON_TOKEN_STRING:
        break;
    }
    if (stream->skipping) {
        stream->skipping = json_stream_still_skipping(stream);
        if (!stream->skipping) {
            json_stream_drop_message(stream);
        }
        return;
    }
    limit = json_stream_check_limits(stream, len);
    if (limit) {
        json_stream_emit_limit(stream, limit);
        return;
    }
    json_stream_queue(stream, type, text, len);
    if ((stream->brace_count > 0 || stream->bracket_count > 0) &&
        stream->brace_count >= 0 && stream->bracket_count >= 0) {
        return; /* the message goes on */
    }
    json_stream_parse_message(stream);
}

JsonStream *json_stream_new(const JsonStreamLimits *limits, JsonStreamEmit emit,
                            void *opaque)
{
    JsonStream *stream = proto_xcalloc(1, sizeof(*stream));

    assert(emit);
    stream->limits.max_message_bytes = JSON_STREAM_DEFAULT_MAX_MESSAGE_BYTES;
    stream->limits.max_tokens = JSON_STREAM_DEFAULT_MAX_TOKENS;
    stream->limits.max_depth = JSON_STREAM_DEFAULT_MAX_DEPTH;
    if (limits && limits->max_message_bytes) {
        stream->limits.max_message_bytes = limits->max_message_bytes;
    }
    if (limits && limits->max_tokens) {
        stream->limits.max_tokens = limits->max_tokens;
    }
    if (limits && limits->max_depth) {
        stream->limits.max_depth = limits->max_depth;
    }
    stream->emit = emit;
    stream->opaque = opaque;
    stream->texts = (ProtoBuffer)PROTO_BUFFER_INIT;
    json_lexer_init(&stream->lexer, stream->limits.max_message_bytes,
                    json_stream_on_token, stream);
    return stream;
}

void json_stream_free(JsonStream *stream)
{
    if (!stream) {
        return;
    }
    json_lexer_destroy(&stream->lexer);
    proto_buffer_release(&stream->texts);
    free(stream->tokens);
    free(stream);
}

void json_stream_feed(JsonStream *stream, const char *bytes, size_t len)
{
    json_lexer_feed(&stream->lexer, bytes, len);
}

void json_stream_reset(JsonStream *stream)
{
    json_lexer_reset(&stream->lexer);
    json_stream_drop_message(stream);
}

int json_stream_has_partial(const JsonStream *stream)
{
    return stream->token_count > 0 || json_lexer_has_partial(&stream->lexer);
}

/* json_parse_string() collects the stream's output like QEMU's
 * qobject_from_json() (qobject/qjson.c consume_json()). */
typedef struct {
    JsonValue *value;
    ProtoError *error;
} JsonParseOne;

static void json_parse_one_emit(void *opaque, JsonValue *value, ProtoError *error)
{
    JsonParseOne *one = opaque;

    if (one->value) {
        json_value_free(one->value);
        one->value = NULL;
        proto_error_set_literal(&one->error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                                "Expecting at most one JSON value");
    }
    if (one->error) {
        json_value_free(value);
        proto_error_free(error);
        return;
    }
    one->value = value;
    one->error = error;
}

JsonValue *json_parse_string(const char *text, size_t len, ProtoError **error)
{
    JsonParseOne one = { NULL, NULL };
    JsonStream *stream = json_stream_new(NULL, json_parse_one_emit, &one);

    json_stream_feed(stream, text, len);
    json_lexer_flush(&stream->lexer);
    json_stream_free(stream);
    if (!one.value && !one.error) {
        proto_error_set_literal(&one.error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                                "Expecting a JSON value");
    }
    if (one.error) {
        if (error) {
            assert(*error == NULL);
            *error = one.error;
        } else {
            proto_error_free(one.error);
        }
        return NULL;
    }
    return one.value;
}
