/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-value.h — the value model of the protocol core (portable C, no GLib).
 *
 * A JsonValue is a tree owned by its root: containers own their children, and
 * every *_take / *_set function takes ownership of the value passed in
 * (transfer full). Objects keep members in insertion order; the wire writer
 * (json-writer.h) reorders them the way qemu-ga's QDict does so replies are
 * byte-identical to qemu-ga's.
 *
 * Numbers keep the three kinds QEMU's QNum has: a signed 64-bit integer, an
 * unsigned 64-bit integer (only for values above INT64_MAX), and a double.
 */
#ifndef QUIESCE_JSON_VALUE_H
#define QUIESCE_JSON_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto-compiler.h"

typedef enum {
    JSON_TYPE_NULL,
    JSON_TYPE_BOOL,
    JSON_TYPE_INT,    /* int64_t */
    JSON_TYPE_UINT,   /* uint64_t above INT64_MAX */
    JSON_TYPE_DOUBLE,
    JSON_TYPE_STRING, /* NUL-terminated UTF-8 (may hold U+0000 as "\xC0\x80") */
    JSON_TYPE_ARRAY,
    JSON_TYPE_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;

JsonValue *json_null_new(void);
JsonValue *json_bool_new(bool b);
JsonValue *json_int_new(int64_t i);
JsonValue *json_uint_new(uint64_t u); /* stored as INT when u <= INT64_MAX */
JsonValue *json_double_new(double d);
JsonValue *json_string_new(const char *s);            /* copies s */
JsonValue *json_string_new_len(const char *s, size_t len);
JsonValue *json_string_new_printf(const char *fmt, ...)
    PROTO_FORMAT_PRINTF(1, 2);
JsonValue *json_array_new(void);
JsonValue *json_object_new(void);

void json_value_free(JsonValue *v); /* NULL is fine */
JsonValue *json_value_copy(const JsonValue *v); /* deep copy */
bool json_value_equal(const JsonValue *a, const JsonValue *b);

JsonType json_value_type(const JsonValue *v);
/* The JSON name of a type for error messages: "null", "boolean", "integer",
 * "number", "string", "array", "object". */
const char *json_type_name(JsonType type);

bool json_bool_get(const JsonValue *v);            /* type must be BOOL */
/* Integer value if v is INT (or UINT that fits): true and *out set. */
bool json_value_get_int(const JsonValue *v, int64_t *out);
/* Unsigned value if v is a non-negative INT or a UINT. */
bool json_value_get_uint(const JsonValue *v, uint64_t *out);
/* Any number (INT, UINT, DOUBLE) as a double. */
bool json_value_get_double(const JsonValue *v, double *out);
const char *json_string_get(const JsonValue *v);   /* type must be STRING */

/* Arrays. */
size_t json_array_length(const JsonValue *array);
JsonValue *json_array_get(const JsonValue *array, size_t index); /* borrowed */
void json_array_append(JsonValue *array, JsonValue *value /* transfer full */);

/* Objects. Keys are unique; setting an existing key replaces its value in place. */
size_t json_object_size(const JsonValue *object);
const char *json_object_key_at(const JsonValue *object, size_t index);
JsonValue *json_object_value_at(const JsonValue *object, size_t index);
JsonValue *json_object_get(const JsonValue *object, const char *key); /* borrowed or NULL */
bool json_object_has(const JsonValue *object, const char *key);
void json_object_set(JsonValue *object, const char *key,
                     JsonValue *value /* transfer full */);
/* Convenience setters. */
void json_object_set_string(JsonValue *object, const char *key, const char *s);
void json_object_set_int(JsonValue *object, const char *key, int64_t i);
void json_object_set_bool(JsonValue *object, const char *key, bool b);
/* Borrowed getters that return NULL / false when absent or of another type. */
const char *json_object_get_string(const JsonValue *object, const char *key);

static inline void json_value_freep(JsonValue **v)
{
    json_value_free(*v);
}
#define json_autoptr __attribute__((cleanup(json_value_freep))) JsonValue

#endif
