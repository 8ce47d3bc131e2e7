/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-writer.c — JsonValue to text; see the header. The wire form
 * reproduces QEMU's qobject/json-writer.c and qobject/qnum.c output.
 *
 * Strings are walked with QEMU's modified-UTF-8 decoder (json-unicode.c), so
 * an invalid sequence becomes exactly as many U+FFFD as qemu-ga prints, and
 * "\xC0\x80" prints as \u0000. Doubles use "%.17g" like qnum_to_string(), but
 * qemu-ga's glibc spelling of the non-finite values ("inf", "-inf", "nan",
 * "-nan") and of the exponent (at least two digits) is produced here rather
 * than left to the C library, which on Windows may print "1.#INF" or
 * "1e+019"; a locale's decimal comma is turned back into '.'.
 */
#include "protocol/json-writer.h"

#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json-unicode.h"
#include "protocol/proto-alloc.h"
#include "protocol/proto-buffer.h"
#include "protocol/qdict-order.h"

typedef struct {
    ProtoBuffer out;
    bool pretty;
} JsonWriter;

static void json_write_value(JsonWriter *w, const JsonValue *v, unsigned depth);

static void json_write_hex_escape(ProtoBuffer *out, unsigned unit)
{
    static const char hex[] = "0123456789ABCDEF";
    char buf[6] = { '\\', 'u', hex[(unit >> 12) & 0xF], hex[(unit >> 8) & 0xF],
                    hex[(unit >> 4) & 0xF], hex[unit & 0xF] };

    proto_buffer_append(out, buf, sizeof(buf));
}

/* One decoded code point (or -1 for an invalid sequence) in JSON. */
static void json_write_codepoint(ProtoBuffer *out, int cp)
{
    static const char short_escapes[] = "\"\"\\\\\bb\ff\nn\rr\tt";

    for (size_t i = 0; short_escapes[i]; i += 2) {
        if (cp == (unsigned char)short_escapes[i]) {
            proto_buffer_append_c(out, '\\');
            proto_buffer_append_c(out, short_escapes[i + 1]);
            return;
        }
    }
    if (cp < 0) {
        cp = 0xFFFD;
    }
    if (cp > 0xFFFF) {
        json_write_hex_escape(out, 0xD800 + ((unsigned)(cp - 0x10000) >> 10));
        json_write_hex_escape(out, 0xDC00 + ((unsigned)(cp - 0x10000) & 0x3FF));
    } else if (cp < 0x20 || cp >= 0x7F) {
        json_write_hex_escape(out, (unsigned)cp);
    } else {
        proto_buffer_append_c(out, (char)cp);
    }
}

static void json_write_string(ProtoBuffer *out, const char *s)
{
    proto_buffer_append_c(out, '"');
    while (*s) {
        const char *plain = s;
        size_t used;
        int cp;

        /* Printable ASCII other than '"' and '\\' is written as is. */
        while (*plain >= 0x20 && *plain < 0x7F && *plain != '"' && *plain != '\\') {
            plain++;
        }
        if (plain > s) {
            proto_buffer_append(out, s, (size_t)(plain - s));
            s = plain;
            continue;
        }
        cp = json_utf8_decode(s, 6, &used);
        json_write_codepoint(out, cp);
        s += used;
    }
    proto_buffer_append_c(out, '"');
}

static void json_write_uint(ProtoBuffer *out, uint64_t magnitude, bool negative)
{
    char buf[21];
    size_t pos = sizeof(buf);

    do {
        buf[--pos] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (negative) {
        buf[--pos] = '-';
    }
    proto_buffer_append(out, buf + pos, sizeof(buf) - pos);
}

static void json_write_int(ProtoBuffer *out, int64_t i)
{
    /* -(i + 1) + 1 avoids negating INT64_MIN. */
    json_write_uint(out, i < 0 ? (uint64_t)(-(i + 1)) + 1 : (uint64_t)i, i < 0);
}

/* Rewrites snprintf's "%.17g" into glibc's C-locale spelling, in place:
 * '.' for the locale's decimal point, and an exponent of at least two digits
 * (msvcrt prints three). */
static void json_normalize_double(char *text)
{
    const char *point = localeconv()->decimal_point;
    char *exp;

    if (point[0] && strcmp(point, ".") != 0) {
        char *found = strstr(text, point);
        size_t skip = strlen(point);

        if (found) {
            *found = '.';
            memmove(found + 1, found + skip, strlen(found + skip) + 1);
        }
    }
    exp = strchr(text, 'e');
    if (exp && (exp[1] == '+' || exp[1] == '-')) {
        char *digits = exp + 2;

        while (digits[0] == '0' && strlen(digits) > 2) {
            memmove(digits, digits + 1, strlen(digits));
        }
    }
}

static void json_write_double(ProtoBuffer *out, double d)
{
    char text[64];

    if (isnan(d)) {
        proto_buffer_append_str(out, signbit(d) ? "-nan" : "nan");
        return;
    }
    if (isinf(d)) {
        proto_buffer_append_str(out, d < 0 ? "-inf" : "inf");
        return;
    }
    snprintf(text, sizeof(text), "%.17g", d);
    json_normalize_double(text);
    proto_buffer_append_str(out, text);
}

static void json_write_newline(JsonWriter *w, unsigned depth)
{
    proto_buffer_append_c(&w->out, '\n');
    for (unsigned i = 0; i < depth; i++) {
        proto_buffer_append_str(&w->out, "  ");
    }
}

/* Before element k of a container: QEMU's ", " or the pretty line break. */
static void json_write_separator(JsonWriter *w, size_t k, unsigned depth)
{
    if (k > 0) {
        proto_buffer_append_c(&w->out, ',');
    }
    if (w->pretty) {
        json_write_newline(w, depth + 1);
    } else if (k > 0) {
        proto_buffer_append_c(&w->out, ' ');
    }
}

static void json_write_array(JsonWriter *w, const JsonValue *v, unsigned depth)
{
    size_t n = json_array_length(v);

    proto_buffer_append_c(&w->out, '[');
    for (size_t k = 0; k < n; k++) {
        json_write_separator(w, k, depth);
        json_write_value(w, json_array_get(v, k), depth + 1);
    }
    if (w->pretty && n > 0) {
        json_write_newline(w, depth);
    }
    proto_buffer_append_c(&w->out, ']');
}

static void json_write_object(JsonWriter *w, const JsonValue *v, unsigned depth)
{
    size_t n = json_object_size(v);
    size_t *order = w->pretty || n == 0 ? NULL : qdict_order_new(v);

    proto_buffer_append_c(&w->out, '{');
    for (size_t k = 0; k < n; k++) {
        size_t i = order ? order[k] : k;

        json_write_separator(w, k, depth);
        json_write_string(&w->out, json_object_key_at(v, i));
        proto_buffer_append_str(&w->out, ": ");
        json_write_value(w, json_object_value_at(v, i), depth + 1);
    }
    if (w->pretty && n > 0) {
        json_write_newline(w, depth);
    }
    proto_buffer_append_c(&w->out, '}');
    free(order);
}

static void json_write_value(JsonWriter *w, const JsonValue *v, unsigned depth)
{
    int64_t i;
    uint64_t u;
    double d;

    switch (json_value_type(v)) {
    case JSON_TYPE_NULL:
        proto_buffer_append_str(&w->out, "null");
        return;
    case JSON_TYPE_BOOL:
        proto_buffer_append_str(&w->out, json_bool_get(v) ? "true" : "false");
        return;
    case JSON_TYPE_INT:
        json_value_get_int(v, &i);
        json_write_int(&w->out, i);
        return;
    case JSON_TYPE_UINT:
        json_value_get_uint(v, &u);
        json_write_uint(&w->out, u, false);
        return;
    case JSON_TYPE_DOUBLE:
        json_value_get_double(v, &d);
        json_write_double(&w->out, d);
        return;
    case JSON_TYPE_STRING:
        json_write_string(&w->out, json_string_get(v));
        return;
    case JSON_TYPE_ARRAY:
        json_write_array(w, v, depth);
        return;
    case JSON_TYPE_OBJECT:
        json_write_object(w, v, depth);
        return;
    }
}

static char *json_writer_run(const JsonValue *v, bool pretty, size_t *out_len)
{
    JsonWriter w = { PROTO_BUFFER_INIT, pretty };

    json_write_value(&w, v, 0);
    return proto_buffer_steal(&w.out, out_len);
}

char *json_value_to_wire(const JsonValue *v, size_t *out_len)
{
    return json_writer_run(v, false, out_len);
}

char *json_value_to_pretty(const JsonValue *v, size_t *out_len)
{
    return json_writer_run(v, true, out_len);
}
