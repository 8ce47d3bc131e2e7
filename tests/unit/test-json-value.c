/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-json-value.c — the JsonValue model: constructors, number kinds as in
 * QEMU's QNum, strings, arrays, objects (insertion order, replacement in
 * place, lookups in large objects), copy and equality.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json-value.h"
#include "tests/unit/check.h"

static void test_value_scalars(void)
{
    json_autoptr *null = json_null_new();
    json_autoptr *yes = json_bool_new(true);
    json_autoptr *no = json_bool_new(false);
    json_autoptr *d = json_double_new(0.5);

    CHECK(json_value_type(null) == JSON_TYPE_NULL);
    CHECK(json_value_type(yes) == JSON_TYPE_BOOL && json_bool_get(yes));
    CHECK(json_value_type(no) == JSON_TYPE_BOOL && !json_bool_get(no));
    CHECK(json_value_type(d) == JSON_TYPE_DOUBLE);
    json_value_free(NULL);
}

static void test_value_type_names(void)
{
    CHECK_STR_EQ(json_type_name(JSON_TYPE_NULL), "null");
    CHECK_STR_EQ(json_type_name(JSON_TYPE_BOOL), "boolean");
    CHECK_STR_EQ(json_type_name(JSON_TYPE_INT), "integer");
    CHECK_STR_EQ(json_type_name(JSON_TYPE_UINT), "integer");
    CHECK_STR_EQ(json_type_name(JSON_TYPE_DOUBLE), "number");
    CHECK_STR_EQ(json_type_name(JSON_TYPE_STRING), "string");
    CHECK_STR_EQ(json_type_name(JSON_TYPE_ARRAY), "array");
    CHECK_STR_EQ(json_type_name(JSON_TYPE_OBJECT), "object");
}

static void test_value_integers(void)
{
    json_autoptr *min = json_int_new(INT64_MIN);
    json_autoptr *neg = json_int_new(-5);
    json_autoptr *small_uint = json_uint_new(7);
    json_autoptr *edge_uint = json_uint_new((uint64_t)INT64_MAX);
    json_autoptr *big_uint = json_uint_new(UINT64_MAX);
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;

    CHECK(json_value_get_int(min, &i) && i == INT64_MIN);
    CHECK(!json_value_get_uint(neg, &u));
    CHECK(json_value_get_double(neg, &d) && d == -5.0);
    /* As QEMU's qnum_from_uint(): only values above INT64_MAX stay unsigned. */
    CHECK(json_value_type(small_uint) == JSON_TYPE_INT);
    CHECK(json_value_type(edge_uint) == JSON_TYPE_INT);
    CHECK(json_value_get_int(edge_uint, &i) && i == INT64_MAX);
    CHECK(json_value_type(big_uint) == JSON_TYPE_UINT);
    CHECK(!json_value_get_int(big_uint, &i));
    CHECK(json_value_get_uint(big_uint, &u) && u == UINT64_MAX);
    CHECK(json_value_get_uint(small_uint, &u) && u == 7);
    CHECK(json_value_get_double(big_uint, &d) && d == 18446744073709551616.0);
}

static void test_value_number_getters_reject(void)
{
    json_autoptr *d = json_double_new(3.0);
    json_autoptr *s = json_string_new("3");
    json_autoptr *b = json_bool_new(true);
    int64_t i = 42;
    uint64_t u = 42;
    double x = 42;

    /* A double is not an integer even when integral (QEMU: "expected: integer"). */
    CHECK(!json_value_get_int(d, &i) && i == 42);
    CHECK(!json_value_get_uint(d, &u) && u == 42);
    CHECK(json_value_get_double(d, &x) && x == 3.0);
    CHECK(!json_value_get_int(s, &i) && !json_value_get_double(s, &x));
    CHECK(!json_value_get_int(b, &i) && !json_value_get_double(b, &x));
    CHECK(!json_value_get_int(NULL, &i));
}

static void test_value_strings(void)
{
    json_autoptr *s = json_string_new("h\xc3\xa9llo");
    json_autoptr *nul = json_string_new_len("a\xc0\x80" "b", 4);
    json_autoptr *part = json_string_new_len("abcdef", 3);
    json_autoptr *fmt = json_string_new_printf("%s-%d-%zu-%lld", "x", -1, (size_t)18446744073u,
                                               -9223372036854775807LL);

    CHECK_STR_EQ(json_string_get(s), "h\xc3\xa9llo");
    CHECK(memcmp(json_string_get(nul), "a\xc0\x80" "b", 5) == 0);
    CHECK_STR_EQ(json_string_get(part), "abc");
    CHECK_STR_EQ(json_string_get(fmt), "x--1-18446744073--9223372036854775807");
}

static void test_value_arrays(void)
{
    json_autoptr *a = json_array_new();

    CHECK(json_array_length(a) == 0);
    CHECK(json_array_get(a, 0) == NULL);
    for (int i = 0; i < 100; i++) {
        json_array_append(a, json_int_new(i));
    }
    CHECK(json_array_length(a) == 100);
    for (int i = 0; i < 100; i++) {
        int64_t v = -1;

        CHECK(json_value_get_int(json_array_get(a, (size_t)i), &v) && v == i);
    }
    CHECK(json_array_get(a, 100) == NULL);
}

static void test_value_object_order_and_replace(void)
{
    json_autoptr *o = json_object_new();
    int64_t v = 0;

    json_object_set_int(o, "z", 1);
    json_object_set_string(o, "a", "x");
    json_object_set_bool(o, "m", true);
    CHECK(json_object_size(o) == 3);
    CHECK_STR_EQ(json_object_key_at(o, 0), "z");
    CHECK_STR_EQ(json_object_key_at(o, 1), "a");
    CHECK_STR_EQ(json_object_key_at(o, 2), "m");
    /* Replacing keeps the position (as QDict keeps its entry). */
    json_object_set(o, "z", json_int_new(2));
    CHECK(json_object_size(o) == 3);
    CHECK_STR_EQ(json_object_key_at(o, 0), "z");
    CHECK(json_value_get_int(json_object_value_at(o, 0), &v) && v == 2);
    /* Setting the same value again is not a use-after-free. */
    json_object_set(o, "z", json_object_value_at(o, 0));
    CHECK(json_value_get_int(json_object_get(o, "z"), &v) && v == 2);
    CHECK(json_object_has(o, "a") && !json_object_has(o, "b"));
    CHECK(json_object_get(o, "b") == NULL);
    CHECK_STR_EQ(json_object_get_string(o, "a"), "x");
    CHECK(json_object_get_string(o, "z") == NULL); /* wrong type */
    CHECK(json_object_get_string(o, "nope") == NULL);
}

static void test_value_object_large(void)
{
    json_autoptr *o = json_object_new();
    char key[32];

    /* Well past the linear-scan size, so the hash index is exercised. */
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        json_object_set_int(o, key, i);
    }
    json_object_set_int(o, "key17", -17);
    CHECK(json_object_size(o) == 5000);
    for (int i = 0; i < 5000; i++) {
        int64_t v = 0;

        snprintf(key, sizeof(key), "key%d", i);
        CHECK(json_value_get_int(json_object_get(o, key), &v) && v == (i == 17 ? -17 : i));
        CHECK_STR_EQ(json_object_key_at(o, (size_t)i), key);
    }
    CHECK(!json_object_has(o, "key5000") && !json_object_has(o, ""));
    json_object_set_int(o, "", 0);
    CHECK(json_object_has(o, ""));
}

static JsonValue *build_sample(int variant)
{
    JsonValue *o = json_object_new();
    JsonValue *a = json_array_new();

    json_array_append(a, json_null_new());
    json_array_append(a, json_double_new(1.5));
    json_array_append(a, json_uint_new(UINT64_MAX));
    if (variant) {
        json_object_set_string(o, "s", "t");
        json_object_set(o, "a", a);
    } else {
        json_object_set(o, "a", a);
        json_object_set_string(o, "s", "t");
    }
    return o;
}

static void test_value_copy_equal(void)
{
    json_autoptr *x = build_sample(0);
    json_autoptr *y = build_sample(1);
    json_autoptr *copy = json_value_copy(x);
    json_autoptr *nan1 = json_double_new(NAN);
    json_autoptr *zero = json_double_new(0.0);
    json_autoptr *negzero = json_double_new(-0.0);
    json_autoptr *one_int = json_int_new(1);
    json_autoptr *one_double = json_double_new(1.0);

    CHECK(json_value_equal(x, y)); /* member order does not matter */
    CHECK(json_value_equal(x, copy));
    CHECK(copy != x && json_object_get(copy, "a") != json_object_get(x, "a"));
    json_object_set_string(copy, "s", "u");
    CHECK(!json_value_equal(x, copy));
    CHECK_STR_EQ(json_object_get_string(x, "s"), "t");
    json_array_append(json_object_get(y, "a"), json_null_new());
    CHECK(!json_value_equal(x, y));
    CHECK(!json_value_equal(nan1, nan1));
    CHECK(json_value_equal(zero, negzero));
    CHECK(!json_value_equal(one_int, one_double)); /* different kinds */
    CHECK(!json_value_equal(x, NULL) && json_value_equal(NULL, NULL));
}

int main(void)
{
    RUN(test_value_scalars);
    RUN(test_value_type_names);
    RUN(test_value_integers);
    RUN(test_value_number_getters_reject);
    RUN(test_value_strings);
    RUN(test_value_arrays);
    RUN(test_value_object_order_and_replace);
    RUN(test_value_object_large);
    RUN(test_value_copy_equal);
    return check_exit_status();
}
