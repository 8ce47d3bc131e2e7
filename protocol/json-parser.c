/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-parser.c — recursive descent over one message's tokens, reproducing
 * QEMU's qobject/json-parser.c (behaviour and messages; the code is ours).
 *
 * QEMU quirks kept on purpose, because hosts see them in error replies:
 *   - the first error wins and later ones are dropped, so e.g. a bad value
 *     inside an object reports the value's error, never "Missing value";
 *   - a duplicate key is noticed only after its value parsed;
 *   - a bad \u escape is quoted from the backslash, six bytes long but cut at
 *     the token's end ("\u12\"" for "\u12"), and a lone or mismatched
 *     surrogate is quoted as its own first escape;
 *   - integers become int64, else uint64 when positive, else a double;
 *     "-0" is the integer 0; floats go through strtod (overflow gives inf).
 * Recursion is bounded by the stream's nesting limit, checked before parsing.
 */
#include "protocol/json-parser.h"

#include <assert.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json-unicode.h"
#include "protocol/proto-buffer.h"

typedef struct {
    const JsonToken *tokens;
    size_t count;
    size_t next;
    const char *texts;
    ProtoError *error;
} JsonParser;

static JsonValue *parse_value(JsonParser *p);

static JsonValue *json_steal(JsonValue **value)
{
    JsonValue *stolen = *value;

    *value = NULL;
    return stolen;
}

PROTO_FORMAT_PRINTF(2, 3)
static void parser_error(JsonParser *p, const char *fmt, ...)
{
    ProtoBuffer desc = PROTO_BUFFER_INIT;
    va_list ap;

    if (p->error) {
        return;
    }
    proto_buffer_append_str(&desc, "JSON parse error, ");
    va_start(ap, fmt);
    proto_buffer_append_vprintf(&desc, fmt, ap);
    va_end(ap);
    proto_error_set_literal(&p->error, PROTO_ERROR_CLASS_GENERIC_ERROR, desc.data);
    proto_buffer_release(&desc);
}

static const JsonToken *parser_peek(const JsonParser *p)
{
    return p->next < p->count ? &p->tokens[p->next] : NULL;
}

static const JsonToken *parser_pop(JsonParser *p)
{
    const JsonToken *token = parser_peek(p);

    if (token) {
        p->next++;
    }
    return token;
}

static const char *token_text(const JsonParser *p, const JsonToken *token)
{
    return p->texts + token->offset;
}

/* Four hex digits at s, or -1 from the first non-digit on; stopping there
 * means a NUL ends the scan, so this never reads past the token. */
static int parse_hex4(const char *s)
{
    int value = 0;

    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int digit;

        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            digit = c - 'A' + 10;
        } else {
            return -1;
        }
        value = value << 4 | digit;
    }
    return value;
}

/* \uXXXX, or a surrogate pair of them, starting at the backslash text[*pos]. */
static bool parse_unicode_escape(JsonParser *p, const char *text, size_t len, size_t *pos,
                                 ProtoBuffer *out)
{
    size_t begin = *pos;
    size_t end = begin + 6;
    int cp = parse_hex4(text + begin + 2);
    char utf8[4];
    size_t n;

    /* cp >= 0 means four digits were there, so text[end] is inside the token
     * (at worst its closing quote) and text[end + 1] is readable after '\'. */
    if (cp >= 0xD800 && cp <= 0xDBFF && text[end] == '\\' && text[end + 1] == 'u') {
        int trailing = parse_hex4(text + end + 2);

        if (trailing >= 0xDC00 && trailing <= 0xDFFF) {
            cp = (0x10000 + ((cp & 0x3FF) << 10)) | (trailing & 0x3FF);
            end += 6;
        } else {
            cp = -1;
        }
    }
    n = json_utf8_encode(utf8, cp);
    if (n == 0) {
        size_t shown = end - begin < len - begin ? end - begin : len - begin;

        parser_error(p, "%.*s is not a valid Unicode character", (int)shown,
                     text + begin);
        return false;
    }
    proto_buffer_append(out, utf8, n);
    *pos = end;
    return true;
}

/* One escape sequence starting at the backslash text[*pos]. The lexer put at
 * least one byte after it before the closing quote. */
static bool parse_escape(JsonParser *p, const char *text, size_t len, size_t *pos,
                         ProtoBuffer *out)
{
    /* Pairs: the letter after the backslash, the byte it stands for. */
    static const char simple[] = "\"\"''\\\\//b\bf\fn\nr\rt\t";
    char c = text[*pos + 1];

    if (c == 'u') {
        return parse_unicode_escape(p, text, len, pos, out);
    }
    for (size_t i = 0; c && simple[i]; i += 2) {
        if (simple[i] == c) {
            proto_buffer_append_c(out, simple[i + 1]);
            *pos += 2;
            return true;
        }
    }
    parser_error(p, "invalid escape sequence in string");
    return false;
}

/* One character other than an escape, checked as QEMU does (modified
 * UTF-8). The decoder stops at the closing quote, never past the token. */
static bool parse_utf8_char(JsonParser *p, const char *text, size_t *pos, ProtoBuffer *out)
{
    size_t used;
    int cp = json_utf8_decode(text + *pos, 6, &used);
    char utf8[4];

    if (cp < 0) {
        parser_error(p, "invalid UTF-8 sequence in string");
        return false;
    }
    proto_buffer_append(out, utf8, json_utf8_encode(utf8, cp));
    *pos += used;
    return true;
}

/* Printable ASCII other than the quote and backslash needs no checks. */
static size_t plain_run_length(const char *s, char quote)
{
    size_t n = 0;

    while (s[n] >= 0x20 && s[n] < 0x7F && s[n] != quote && s[n] != '\\') {
        n++;
    }
    return n;
}

static JsonValue *parse_string(JsonParser *p, const JsonToken *token)
{
    const char *text = token_text(p, token);
    char quote = text[0];
    size_t pos = 1;
    ProtoBuffer out = PROTO_BUFFER_INIT;
    JsonValue *value;

    while (text[pos] != quote) {
        size_t plain = plain_run_length(text + pos, quote);
        bool ok = true;

        if (plain) {
            proto_buffer_append(&out, text + pos, plain);
            pos += plain;
        } else if (text[pos] == '\\') {
            ok = parse_escape(p, text, token->len, &pos, &out);
        } else {
            ok = parse_utf8_char(p, text, &pos, &out);
        }
        if (!ok) {
            proto_buffer_release(&out);
            return NULL;
        }
    }
    value = json_string_new_len(out.data ? out.data : "", out.len);
    proto_buffer_release(&out);
    return value;
}

/* INT if it fits int64, else UINT if positive and fits uint64, else NULL. */
static JsonValue *parse_integer(const char *text)
{
    bool negative = text[0] == '-';
    uint64_t magnitude = 0;

    for (const char *s = text + negative; *s; s++) {
        unsigned digit = (unsigned)(*s - '0');

        if (magnitude > (UINT64_MAX - digit) / 10) {
            return NULL;
        }
        magnitude = magnitude * 10 + digit;
    }
    if (!negative) {
        return json_uint_new(magnitude);
    }
    if (magnitude <= (uint64_t)INT64_MAX) {
        return json_int_new(-(int64_t)magnitude);
    }
    return magnitude == (uint64_t)INT64_MAX + 1 ? json_int_new(INT64_MIN) : NULL;
}

/* strtod() reads the locale's decimal point, JSON always has '.'; QEMU has
 * this as a FIXME, we retry with the locale's point if the '.' stopped it. */
static double parse_double(const char *text)
{
    char *end;
    double d = strtod(text, &end);

    if (*end == '.') {
        ProtoBuffer copy = PROTO_BUFFER_INIT;

        proto_buffer_append(&copy, text, (size_t)(end - text));
        proto_buffer_append_str(&copy, localeconv()->decimal_point);
        proto_buffer_append_str(&copy, end + 1);
        d = strtod(copy.data, NULL);
        proto_buffer_release(&copy);
    }
    return d;
}

static JsonValue *parse_number(JsonParser *p, const JsonToken *token)
{
    const char *text = token_text(p, token);

    if (token->type == JSON_TOKEN_INTEGER) {
        JsonValue *value = parse_integer(text);

        if (value) {
            return value;
        }
    }
    return json_double_new(parse_double(text));
}

static JsonValue *parse_keyword(JsonParser *p, const JsonToken *token)
{
    const char *text = token_text(p, token);

    if (strcmp(text, "true") == 0) {
        return json_bool_new(true);
    }
    if (strcmp(text, "false") == 0) {
        return json_bool_new(false);
    }
    if (strcmp(text, "null") == 0) {
        return json_null_new();
    }
    parser_error(p, "invalid keyword '%s'", text);
    return NULL;
}

static bool parse_pair(JsonParser *p, JsonValue *object)
{
    json_autoptr *key = NULL;
    const JsonToken *token;
    JsonValue *value;

    if (!parser_peek(p)) {
        parser_error(p, "premature EOI");
        return false;
    }
    key = parse_value(p);
    if (!key || json_value_type(key) != JSON_TYPE_STRING) {
        parser_error(p, "key is not a string in object");
        return false;
    }
    token = parser_pop(p);
    if (!token) {
        parser_error(p, "premature EOI");
        return false;
    }
    if (token->type != JSON_TOKEN_COLON) {
        parser_error(p, "missing : in object pair");
        return false;
    }
    value = parse_value(p);
    if (!value) {
        return false; /* parse_value() reported it; QEMU's "Missing value" is dead */
    }
    if (json_object_has(object, json_string_get(key))) {
        json_value_free(value);
        parser_error(p, "duplicate key");
        return false;
    }
    json_object_set(object, json_string_get(key), value);
    return true;
}

static JsonValue *parse_object(JsonParser *p)
{
    json_autoptr *object = json_object_new();
    const JsonToken *token;

    parser_pop(p); /* '{' */
    token = parser_peek(p);
    if (!token) {
        parser_error(p, "premature EOI");
        return NULL;
    }
    if (token->type == JSON_TOKEN_RCURLY) {
        parser_pop(p);
        return json_steal(&object);
    }
    for (;;) {
        if (!parse_pair(p, object)) {
            return NULL;
        }
        token = parser_pop(p);
        if (!token) {
            parser_error(p, "premature EOI");
            return NULL;
        }
        if (token->type == JSON_TOKEN_RCURLY) {
            return json_steal(&object);
        }
        if (token->type != JSON_TOKEN_COMMA) {
            parser_error(p, "expected separator in dict");
            return NULL;
        }
    }
}

static JsonValue *parse_array(JsonParser *p)
{
    json_autoptr *array = json_array_new();
    const JsonToken *token;

    parser_pop(p); /* '[' */
    token = parser_peek(p);
    if (!token) {
        parser_error(p, "premature EOI");
        return NULL;
    }
    if (token->type == JSON_TOKEN_RSQUARE) {
        parser_pop(p);
        return json_steal(&array);
    }
    for (;;) {
        JsonValue *element = parse_value(p);

        if (!element) {
            return NULL; /* reported as "expecting value" or the element's error */
        }
        json_array_append(array, element);
        token = parser_pop(p);
        if (!token) {
            parser_error(p, "premature EOI");
            return NULL;
        }
        if (token->type == JSON_TOKEN_RSQUARE) {
            return json_steal(&array);
        }
        if (token->type != JSON_TOKEN_COMMA) {
            parser_error(p, "expected separator in list");
            return NULL;
        }
    }
}

static JsonValue *parse_value(JsonParser *p)
{
    const JsonToken *token = parser_peek(p);

    if (!token) {
        parser_error(p, "premature EOI");
        return NULL;
    }
    switch (token->type) {
    case JSON_TOKEN_LCURLY:
        return parse_object(p);
    case JSON_TOKEN_LSQUARE:
        return parse_array(p);
    case JSON_TOKEN_INTEGER:
    case JSON_TOKEN_FLOAT:
        return parse_number(p, parser_pop(p));
    case JSON_TOKEN_STRING:
        return parse_string(p, parser_pop(p));
    case JSON_TOKEN_KEYWORD:
        return parse_keyword(p, parser_pop(p));
    case JSON_TOKEN_RCURLY:
    case JSON_TOKEN_RSQUARE:
    case JSON_TOKEN_COLON:
    case JSON_TOKEN_COMMA:
    case JSON_TOKEN_ERROR:
    case JSON_TOKEN_OVERSIZE:
    case JSON_TOKEN_END_OF_INPUT:
        break;
    }
    parser_error(p, "expecting value");
    return NULL;
}

JsonValue *json_parser_parse(const JsonToken *tokens, size_t count, const char *texts,
                             ProtoError **error)
{
    JsonParser p = { tokens, count, 0, texts, NULL };
    JsonValue *value = parse_value(&p);

    /* The stream hands over exactly one value's tokens (see the header). */
    assert(p.error || p.next == p.count);
    if (p.error) {
        json_value_free(value);
        if (error) {
            assert(*error == NULL);
            *error = p.error;
        } else {
            proto_error_free(p.error);
        }
        return NULL;
    }
    return value;
}
