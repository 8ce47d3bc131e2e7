/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-value.c — the JsonValue tree; see the header.
 *
 * Objects keep their members in an array in insertion order (what the pretty
 * writer and qdict-order.c need). Key lookup is a linear scan while an object
 * is small, and an open-addressing hash index beyond that: a peer can send
 * hundreds of thousands of members in one 64 MiB request, and the parser
 * checks each new key for a duplicate.
 */
#include "protocol/json-value.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto-alloc.h"
#include "protocol/proto-buffer.h"

#define JSON_OBJECT_LINEAR_MAX 8 /* members scanned without an index */

typedef struct {
    char *key;
    JsonValue *value;
} JsonMember;

struct JsonValue {
    JsonType type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        struct {
            char *data;
            size_t len;
        } string;
        struct {
            JsonValue **items;
            size_t len;
            size_t cap;
        } array;
        struct {
            JsonMember *members;
            size_t len;
            size_t cap;
            size_t *index;    /* member position + 1, 0 = empty slot */
            size_t index_cap; /* 0 or a power of two > 2 * len */
        } object;
    } u;
};

static JsonValue *json_value_new(JsonType type)
{
    JsonValue *v = proto_xcalloc(1, sizeof(*v));

    v->type = type;
    return v;
}

JsonValue *json_null_new(void)
{
    return json_value_new(JSON_TYPE_NULL);
}

JsonValue *json_bool_new(bool b)
{
    JsonValue *v = json_value_new(JSON_TYPE_BOOL);

    v->u.b = b;
    return v;
}

JsonValue *json_int_new(int64_t i)
{
    JsonValue *v = json_value_new(JSON_TYPE_INT);

    v->u.i = i;
    return v;
}

JsonValue *json_uint_new(uint64_t u)
{
    JsonValue *v;

    if (u <= (uint64_t)INT64_MAX) {
        return json_int_new((int64_t)u);
    }
    v = json_value_new(JSON_TYPE_UINT);
    v->u.u = u;
    return v;
}

JsonValue *json_double_new(double d)
{
    JsonValue *v = json_value_new(JSON_TYPE_DOUBLE);

    v->u.d = d;
    return v;
}

JsonValue *json_string_new_len(const char *s, size_t len)
{
    JsonValue *v = json_value_new(JSON_TYPE_STRING);

    v->u.string.data = proto_xstrndup(s, len);
    v->u.string.len = len;
    return v;
}

JsonValue *json_string_new(const char *s)
{
    return json_string_new_len(s, strlen(s));
}

JsonValue *json_string_new_printf(const char *fmt, ...)
{
    JsonValue *v = json_value_new(JSON_TYPE_STRING);
    va_list ap;

    va_start(ap, fmt);
    v->u.string.data = proto_strdup_vprintf(fmt, ap);
    va_end(ap);
    v->u.string.len = strlen(v->u.string.data);
    return v;
}

JsonValue *json_array_new(void)
{
    return json_value_new(JSON_TYPE_ARRAY);
}

JsonValue *json_object_new(void)
{
    return json_value_new(JSON_TYPE_OBJECT);
}

void json_value_free(JsonValue *v)
{
    if (!v) {
        return;
    }
    switch (v->type) {
    case JSON_TYPE_STRING:
        free(v->u.string.data);
        break;
    case JSON_TYPE_ARRAY:
        for (size_t i = 0; i < v->u.array.len; i++) {
            json_value_free(v->u.array.items[i]);
        }
        free(v->u.array.items);
        break;
    case JSON_TYPE_OBJECT:
        for (size_t i = 0; i < v->u.object.len; i++) {
            free(v->u.object.members[i].key);
            json_value_free(v->u.object.members[i].value);
        }
        free(v->u.object.members);
        free(v->u.object.index);
        break;
    case JSON_TYPE_NULL:
    case JSON_TYPE_BOOL:
    case JSON_TYPE_INT:
    case JSON_TYPE_UINT:
    case JSON_TYPE_DOUBLE:
        break;
    }
    free(v);
}

JsonValue *json_value_copy(const JsonValue *v)
{
    JsonValue *copy;

    switch (v->type) {
    case JSON_TYPE_STRING:
        return json_string_new_len(v->u.string.data, v->u.string.len);
    case JSON_TYPE_ARRAY:
        copy = json_array_new();
        for (size_t i = 0; i < v->u.array.len; i++) {
            json_array_append(copy, json_value_copy(v->u.array.items[i]));
        }
        return copy;
    case JSON_TYPE_OBJECT:
        copy = json_object_new();
        for (size_t i = 0; i < v->u.object.len; i++) {
            json_object_set(copy, v->u.object.members[i].key,
                            json_value_copy(v->u.object.members[i].value));
        }
        return copy;
    case JSON_TYPE_NULL:
    case JSON_TYPE_BOOL:
    case JSON_TYPE_INT:
    case JSON_TYPE_UINT:
    case JSON_TYPE_DOUBLE:
        break;
    }
    copy = json_value_new(v->type);
    copy->u = v->u;
    return copy;
}

static bool json_object_equal(const JsonValue *a, const JsonValue *b)
{
    if (a->u.object.len != b->u.object.len) {
        return false;
    }
    for (size_t i = 0; i < a->u.object.len; i++) {
        const JsonMember *m = &a->u.object.members[i];

        if (!json_value_equal(m->value, json_object_get(b, m->key))) {
            return false;
        }
    }
    return true;
}

/* Same type and value; objects compare regardless of member order, doubles
 * with == (so NaN differs from itself and 0.0 equals -0.0). */
bool json_value_equal(const JsonValue *a, const JsonValue *b)
{
    if (!a || !b || a->type != b->type) {
        return a == b;
    }
    switch (a->type) {
    case JSON_TYPE_NULL:
        return true;
    case JSON_TYPE_BOOL:
        return a->u.b == b->u.b;
    case JSON_TYPE_INT:
        return a->u.i == b->u.i;
    case JSON_TYPE_UINT:
        return a->u.u == b->u.u;
    case JSON_TYPE_DOUBLE:
        return a->u.d == b->u.d;
    case JSON_TYPE_STRING:
        return a->u.string.len == b->u.string.len &&
               memcmp(a->u.string.data, b->u.string.data, a->u.string.len) == 0;
    case JSON_TYPE_ARRAY:
        if (a->u.array.len != b->u.array.len) {
            return false;
        }
        for (size_t i = 0; i < a->u.array.len; i++) {
            if (!json_value_equal(a->u.array.items[i], b->u.array.items[i])) {
                return false;
            }
        }
        return true;
    case JSON_TYPE_OBJECT:
        return json_object_equal(a, b);
    }
    return false;
}

JsonType json_value_type(const JsonValue *v)
{
    assert(v);
    return v->type;
}

const char *json_type_name(JsonType type)
{
    switch (type) {
    case JSON_TYPE_NULL:
        return "null";
    case JSON_TYPE_BOOL:
        return "boolean";
    case JSON_TYPE_INT:
    case JSON_TYPE_UINT:
        return "integer";
    case JSON_TYPE_DOUBLE:
        return "number";
    case JSON_TYPE_STRING:
        return "string";
    case JSON_TYPE_ARRAY:
        return "array";
    case JSON_TYPE_OBJECT:
        return "object";
    }
    assert(!"unknown JsonType");
    return "unknown";
}

bool json_bool_get(const JsonValue *v)
{
    assert(v && v->type == JSON_TYPE_BOOL);
    return v->u.b;
}

bool json_value_get_int(const JsonValue *v, int64_t *out)
{
    if (v && v->type == JSON_TYPE_INT) {
        *out = v->u.i;
        return true;
    }
    if (v && v->type == JSON_TYPE_UINT && v->u.u <= (uint64_t)INT64_MAX) {
        *out = (int64_t)v->u.u;
        return true;
    }
    return false;
}

bool json_value_get_uint(const JsonValue *v, uint64_t *out)
{
    if (v && v->type == JSON_TYPE_INT && v->u.i >= 0) {
        *out = (uint64_t)v->u.i;
        return true;
    }
    if (v && v->type == JSON_TYPE_UINT) {
        *out = v->u.u;
        return true;
    }
    return false;
}

bool json_value_get_double(const JsonValue *v, double *out)
{
    if (!v) {
        return false;
    }
    switch (v->type) {
    case JSON_TYPE_INT:
        *out = (double)v->u.i;
        return true;
    case JSON_TYPE_UINT:
        *out = (double)v->u.u;
        return true;
    case JSON_TYPE_DOUBLE:
        *out = v->u.d;
        return true;
    case JSON_TYPE_NULL:
    case JSON_TYPE_BOOL:
    case JSON_TYPE_STRING:
    case JSON_TYPE_ARRAY:
    case JSON_TYPE_OBJECT:
        break;
    }
    return false;
}

const char *json_string_get(const JsonValue *v)
{
    assert(v && v->type == JSON_TYPE_STRING);
    return v->u.string.data;
}

size_t json_array_length(const JsonValue *array)
{
    assert(array && array->type == JSON_TYPE_ARRAY);
    return array->u.array.len;
}

JsonValue *json_array_get(const JsonValue *array, size_t index)
{
    assert(array && array->type == JSON_TYPE_ARRAY);
    return index < array->u.array.len ? array->u.array.items[index] : NULL;
}

void json_array_append(JsonValue *array, JsonValue *value)
{
    assert(array && array->type == JSON_TYPE_ARRAY && value);
    if (array->u.array.len == array->u.array.cap) {
        array->u.array.cap = proto_grow_capacity(array->u.array.cap, array->u.array.len + 1, 4);
        array->u.array.items = proto_xreallocarray(array->u.array.items, array->u.array.cap,
                                                   sizeof(*array->u.array.items));
    }
    array->u.array.items[array->u.array.len++] = value;
}

/* FNV-1a: keys come from the peer, but the index only needs an even spread,
 * and the table grows with the object so chains stay short on average. */
static size_t json_key_hash(const char *key)
{
    uint64_t hash = 0xCBF29CE484222325u;

    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        hash = (hash ^ *p) * 0x100000001B3u;
    }
    return (size_t)(hash ^ (hash >> 32));
}

static void json_object_index_insert(JsonValue *object, size_t position)
{
    size_t mask = object->u.object.index_cap - 1;
    size_t slot = json_key_hash(object->u.object.members[position].key) & mask;

    while (object->u.object.index[slot]) {
        slot = (slot + 1) & mask;
    }
    object->u.object.index[slot] = position + 1;
}

/* Keeps the index at most half full once the object outgrows linear scans. */
static void json_object_index_grow(JsonValue *object, size_t len)
{
    size_t cap;

    if (len <= JSON_OBJECT_LINEAR_MAX || len * 2 < object->u.object.index_cap) {
        return;
    }
    cap = proto_grow_capacity(object->u.object.index_cap, len * 2 + 1, 32);
    free(object->u.object.index);
    object->u.object.index = proto_xcalloc(cap, sizeof(*object->u.object.index));
    object->u.object.index_cap = cap;
    for (size_t i = 0; i < object->u.object.len; i++) {
        json_object_index_insert(object, i);
    }
}

/* Position of key in the members array, or SIZE_MAX. */
static size_t json_object_find(const JsonValue *object, const char *key)
{
    size_t mask, slot;

    assert(object && object->type == JSON_TYPE_OBJECT);
    if (!object->u.object.index) {
        for (size_t i = 0; i < object->u.object.len; i++) {
            if (strcmp(object->u.object.members[i].key, key) == 0) {
                return i;
            }
        }
        return SIZE_MAX;
    }
    mask = object->u.object.index_cap - 1;
    for (slot = json_key_hash(key) & mask; object->u.object.index[slot];
         slot = (slot + 1) & mask) {
        size_t i = object->u.object.index[slot] - 1;

        if (strcmp(object->u.object.members[i].key, key) == 0) {
            return i;
        }
    }
    return SIZE_MAX;
}

size_t json_object_size(const JsonValue *object)
{
    assert(object && object->type == JSON_TYPE_OBJECT);
    return object->u.object.len;
}

const char *json_object_key_at(const JsonValue *object, size_t index)
{
    assert(index < json_object_size(object));
    return object->u.object.members[index].key;
}

JsonValue *json_object_value_at(const JsonValue *object, size_t index)
{
    assert(index < json_object_size(object));
    return object->u.object.members[index].value;
}

JsonValue *json_object_get(const JsonValue *object, const char *key)
{
    size_t i = json_object_find(object, key);

    return i == SIZE_MAX ? NULL : object->u.object.members[i].value;
}

bool json_object_has(const JsonValue *object, const char *key)
{
    return json_object_find(object, key) != SIZE_MAX;
}

void json_object_set(JsonValue *object, const char *key, JsonValue *value)
{
    size_t i = json_object_find(object, key);
    JsonMember *member;

    assert(value);
    if (i != SIZE_MAX) {
        /* Replaced in place, as QDict does: the key keeps its position. */
        if (object->u.object.members[i].value != value) {
            json_value_free(object->u.object.members[i].value);
            object->u.object.members[i].value = value;
        }
        return;
    }
    if (object->u.object.len == object->u.object.cap) {
        object->u.object.cap = proto_grow_capacity(object->u.object.cap,
                                                   object->u.object.len + 1, 4);
        object->u.object.members = proto_xreallocarray(
            object->u.object.members, object->u.object.cap, sizeof(*member));
    }
    member = &object->u.object.members[object->u.object.len++];
    member->key = proto_xstrdup(key);
    member->value = value;
    if (object->u.object.index && object->u.object.len * 2 < object->u.object.index_cap) {
        json_object_index_insert(object, object->u.object.len - 1);
    } else {
        json_object_index_grow(object, object->u.object.len);
    }
}

void json_object_set_string(JsonValue *object, const char *key, const char *s)
{
    json_object_set(object, key, json_string_new(s));
}

void json_object_set_int(JsonValue *object, const char *key, int64_t i)
{
    json_object_set(object, key, json_int_new(i));
}

void json_object_set_bool(JsonValue *object, const char *key, bool b)
{
    json_object_set(object, key, json_bool_new(b));
}

const char *json_object_get_string(const JsonValue *object, const char *key)
{
    const JsonValue *v = json_object_get(object, key);

    return v && v->type == JSON_TYPE_STRING ? v->u.string.data : NULL;
}
