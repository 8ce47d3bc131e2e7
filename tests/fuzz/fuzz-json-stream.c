/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-json-stream.c — libFuzzer target for the streaming JSON input.
 *
 * Besides memory errors (build with ASan/UBSan), it checks what a host
 * relies on: the same bytes give the same replies however the transport
 * splits them; every emitted value survives a deep copy; and the wire form of
 * a value parses back to an equal value (numbers compared as numbers, since
 * 100.0 prints as "100"; non-finite doubles are skipped, qemu-ga prints them
 * as the non-JSON "inf"/"nan"). The first input byte picks small limits now
 * and then, so the limit paths are reached with short inputs.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json-stream.h"
#include "protocol/json-writer.h"
#include "tests/fuzz/fuzz-nonfinite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    char *log;
    size_t len;
} FuzzLog;

static void fuzz_log_append(FuzzLog *log, const char *text, size_t len)
{
    log->log = realloc(log->log, log->len + len + 2);
    if (!log->log) {
        abort();
    }
    memcpy(log->log + log->len, text, len);
    log->len += len;
    log->log[log->len++] = '\n';
}

/* Like json_value_equal(), but an integer equals a double of its value. */
static bool fuzz_equal(const JsonValue *a, const JsonValue *b)
{
    double x, y;

    if (json_value_get_double(a, &x) && json_value_get_double(b, &y)) {
        return x == y;
    }
    if (json_value_type(a) != json_value_type(b)) {
        return false;
    }
    if (json_value_type(a) == JSON_TYPE_ARRAY) {
        if (json_array_length(a) != json_array_length(b)) {
            return false;
        }
        for (size_t i = 0; i < json_array_length(a); i++) {
            if (!fuzz_equal(json_array_get(a, i), json_array_get(b, i))) {
                return false;
            }
        }
        return true;
    }
    if (json_value_type(a) == JSON_TYPE_OBJECT) {
        if (json_object_size(a) != json_object_size(b)) {
            return false;
        }
        for (size_t i = 0; i < json_object_size(a); i++) {
            const JsonValue *other = json_object_get(b, json_object_key_at(a, i));

            if (!other || !fuzz_equal(json_object_value_at(a, i), other)) {
                return false;
            }
        }
        return true;
    }
    return json_value_equal(a, b);
}

static void fuzz_check_value(const JsonValue *v, const char *wire, size_t wire_len)
{
    JsonValue *copy = json_value_copy(v);
    char *pretty = json_value_to_pretty(v, NULL);

    if (!fuzz_has_nonfinite(v)) {
        JsonValue *again = json_parse_string(wire, wire_len, NULL);
        JsonValue *from_pretty = json_parse_string(pretty, strlen(pretty), NULL);

        if (!again || !fuzz_equal(v, again) || !from_pretty || !fuzz_equal(v, from_pretty)) {
            abort();
        }
        json_value_free(again);
        json_value_free(from_pretty);
        if (!json_value_equal(v, copy)) {
            abort();
        }
    }
    free(pretty);
    json_value_free(copy);
}

static void fuzz_emit(void *opaque, JsonValue *value, ProtoError *error)
{
    FuzzLog *log = opaque;

    if (!value == !error) {
        abort();
    }
    if (value) {
        size_t len;
        char *wire = json_value_to_wire(value, &len);

        fuzz_check_value(value, wire, len);
        fuzz_log_append(log, wire, len);
        free(wire);
        json_value_free(value);
    } else {
        fuzz_log_append(log, error->desc, strlen(error->desc));
        proto_error_free(error);
    }
}

static FuzzLog fuzz_run(const JsonStreamLimits *limits, const uint8_t *data, size_t size,
                        size_t step)
{
    FuzzLog log = { NULL, 0 };
    JsonStream *stream = json_stream_new(limits, fuzz_emit, &log);

    for (size_t off = 0; off < size; off += step) {
        json_stream_feed(stream, (const char *)data + off, size - off < step ? size - off : step);
    }
    json_stream_free(stream);
    return log;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    JsonStreamLimits limits = { 0, 0, 0 };
    FuzzLog whole, pieces;

    if (size == 0) {
        return 0;
    }
    if (data[0] & 1) {
        limits.max_message_bytes = 16 + (data[0] >> 1);
        limits.max_tokens = 4 + (data[0] >> 3);
        limits.max_depth = 1 + (data[0] >> 5);
    }
    whole = fuzz_run(&limits, data + 1, size - 1, size);
    pieces = fuzz_run(&limits, data + 1, size - 1, 1 + data[0] % 7);
    if (whole.len != pieces.len || (whole.len && memcmp(whole.log, pieces.log, whole.len) != 0)) {
        abort();
    }
    free(whole.log);
    free(pieces.log);
    json_value_free(json_parse_string((const char *)data + 1, size - 1, NULL));
    return 0;
}
