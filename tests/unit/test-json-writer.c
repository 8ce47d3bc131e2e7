/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-json-writer.c — the wire form must be byte-identical to qemu-ga's
 * (qobject/json-writer.c, qnum.c, qdict.c order); expected strings come from
 * Debian's qemu-ga 7.2 where noted. Also the pretty form.
 *
 * C hex escapes swallow following hex digits, so "\x01" "a" is split.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json-writer.h"
#include "tests/unit/check.h"

/* Writes v (which it frees), checks the bytes and the reported length. */
static int check_wire(JsonValue *v, const char *expected)
{
    size_t len = 0;
    char *wire = json_value_to_wire(v, &len);
    int ok = strcmp(wire, expected) == 0 && len == strlen(expected);

    if (!ok) {
        fprintf(stderr, "  got:      %s\n  expected: %s\n", wire, expected);
    }
    free(wire);
    json_value_free(v);
    return ok;
}

static int check_string(const char *s, const char *expected)
{
    return check_wire(json_string_new(s), expected);
}

static void test_writer_reply_shapes(void)
{
    JsonValue *reply = json_object_new();
    JsonValue *error = json_object_new();

    json_object_set(reply, "return", json_object_new());
    json_object_set_string(reply, "id", "abc");
    CHECK(check_wire(reply, "{\"return\": {}, \"id\": \"abc\"}"));

    /* qemu-ga: {"id": I, "error": {"class": C, "desc": D}} */
    reply = json_object_new();
    json_object_set_string(error, "class", "GenericError");
    json_object_set_string(error, "desc", "JSON parse error, stray '\xff'");
    json_object_set(reply, "error", error);
    json_object_set_int(reply, "id", 1);
    CHECK(check_wire(reply, "{\"id\": 1, \"error\": {\"class\": \"GenericError\", "
                            "\"desc\": \"JSON parse error, stray '\\uFFFD'\"}}"));
    CHECK(check_wire(json_array_new(), "[]"));
    CHECK(check_wire(json_object_new(), "{}"));
}

static void test_writer_qdict_order(void)
{
    /* Echoed by qemu-ga 7.2 as a guest-ping "id": buckets 57 (""), 147
     * (aaa/aab/aac, newest first), 151, 171, 211, 233, 340, 509. */
    JsonValue *o = json_object_new();
    JsonValue *list = json_array_new();

    json_object_set_int(o, "zeta", 1);
    json_object_set_int(o, "alpha", 2);
    json_object_set_int(o, "mid", 3);
    json_object_set_int(o, "b", 4);
    json_object_set_int(o, "a", 5);
    json_object_set_int(o, "", 6);
    json_object_set_int(o, "\xc3\xa9t\xc3\xa9", 7);
    json_object_set_int(o, "aab", 8);
    json_object_set_int(o, "aaa", 9);
    json_array_append(list, json_bool_new(true));
    json_array_append(list, json_bool_new(false));
    json_array_append(list, json_null_new());
    json_array_append(list, json_array_new());
    json_array_append(list, json_object_new());
    json_object_set(o, "aac", list);
    /* Replacing a value keeps the key's place, as in a QDict. */
    json_object_set_int(o, "aab", 8);
    CHECK(check_wire(o, "{\"\": 6, \"aac\": [true, false, null, [], {}], \"aaa\": 9, "
                        "\"aab\": 8, \"mid\": 3, \"zeta\": 1, \"\\u00E9t\\u00E9\": 7, "
                        "\"a\": 5, \"b\": 4, \"alpha\": 2}"));
}

static void test_writer_escapes(void)
{
    CHECK(check_string("\"\\/\b\f\n\r\t", "\"\\\"\\\\/\\b\\f\\n\\r\\t\""));
    CHECK(check_string("\x01\x1f\x20\x7e\x7f", "\"\\u0001\\u001F ~\\u007F\""));
    CHECK(check_string("\xc2\x80\xc3\xbf\xe0\xa0\x80\xef\xbf\xbd",
                       "\"\\u0080\\u00FF\\u0800\\uFFFD\""));
    CHECK(check_string("\xf0\x9f\x98\x80\xf4\x8f\xbf\xbd", "\"\\uD83D\\uDE00\\uDBFF\\uDFFD\""));
    CHECK(check_string("\xc0\x80", "\"\\u0000\""));
    CHECK(check_string("", "\"\""));
    /* Keys are escaped the same way. */
    {
        JsonValue *o = json_object_new();

        json_object_set_int(o, "a\"\n", 1);
        CHECK(check_wire(o, "{\"a\\\"\\n\": 1}"));
    }
}

static void test_writer_invalid_utf8(void)
{
    /* Each as qemu-ga wrote it inside a stray-error description: one U+FFFD
     * per sequence that mod_utf8_codepoint() rejects, whose length the lead
     * byte decides. */
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "\x80\x01", "\"\\uFFFD\\u0001\"" },
        { "\xe2\x82\x01", "\"\\uFFFD\\u0001\"" },
        { "\xe2\x82(\x01", "\"\\uFFFD(\\u0001\"" },
        { "\xf8\x88\x80\x80\x80z", "\"\\uFFFDz\"" },
        { "\xc0\x80\xc1\x81\xe0\x80\x80", "\"\\u0000\\uFFFD\\uFFFD\"" },
        { "\xed\xa0\x80\xef\xbf\xbe\xf4\x90\x80\x80", "\"\\uFFFD\\uFFFD\\uFFFD\"" },
        { "\xfc\x84\x80\x80\x80\x80\xf0\x9f\x98\x80\x7f",
          "\"\\uFFFD\\uD83D\\uDE00\\u007F\"" },
        { "\xc3\x01", "\"\\uFFFD\\u0001\"" },
        { "\xe0\xa0\x01", "\"\\uFFFD\\u0001\"" },
        { "\xdf\xbf\xf7\xbf\xbf\xbf", "\"\\u07FF\\uFFFD\"" },
        { "\xfd\xbf\xbf\xbf\xbf\xbf\xfd", "\"\\uFFFD\\uFFFD\"" },
        { "\xef\xb7\x90\xef\xb7\xaf\xef\xb7\xb0", "\"\\uFFFD\\uFFFD\\uFDF0\"" },
        { "\xff\xfe", "\"\\uFFFD\\uFFFD\"" },
        { "\xc3", "\"\\uFFFD\"" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(check_string(cases[i].in, cases[i].out));
    }
}

static void test_writer_integers(void)
{
    CHECK(check_wire(json_int_new(0), "0"));
    CHECK(check_wire(json_int_new(-1), "-1"));
    CHECK(check_wire(json_int_new(INT64_MAX), "9223372036854775807"));
    CHECK(check_wire(json_int_new(INT64_MIN), "-9223372036854775808"));
    CHECK(check_wire(json_uint_new(UINT64_MAX), "18446744073709551615"));
    CHECK(check_wire(json_uint_new(9223372036854775808u), "9223372036854775808"));
}

static void test_writer_doubles(void)
{
    /* "%.17g" as glibc prints it, on every platform. */
    CHECK(check_wire(json_double_new(0.1), "0.10000000000000001"));
    CHECK(check_wire(json_double_new(100.0), "100"));
    CHECK(check_wire(json_double_new(1.5), "1.5"));
    CHECK(check_wire(json_double_new(-0.0), "-0"));
    CHECK(check_wire(json_double_new(0.0015), "0.0015"));
    CHECK(check_wire(json_double_new(1e21), "1e+21"));
    CHECK(check_wire(json_double_new(1e-7), "9.9999999999999995e-08"));
    CHECK(check_wire(json_double_new(18446744073709551616.0), "1.8446744073709552e+19"));
    CHECK(check_wire(json_double_new(5e-324), "4.9406564584124654e-324"));
    CHECK(check_wire(json_double_new(DBL_MAX), "1.7976931348623157e+308"));
    CHECK(check_wire(json_double_new(INFINITY), "inf"));
    CHECK(check_wire(json_double_new(-INFINITY), "-inf"));
    CHECK(check_wire(json_double_new(NAN), "nan"));
    CHECK(check_wire(json_double_new(-NAN), "-nan"));
}

static void test_writer_nested(void)
{
    JsonValue *o = json_object_new();
    JsonValue *inner = json_array_new();
    JsonValue *deep = json_object_new();

    json_object_set_string(deep, "x", "y");
    json_array_append(inner, json_int_new(1));
    json_array_append(inner, deep);
    json_object_set(o, "b", inner);
    json_object_set(o, "a", json_null_new());
    CHECK(check_wire(o, "{\"a\": null, \"b\": [1, {\"x\": \"y\"}]}"));
}

static void test_writer_pretty(void)
{
    JsonValue *o = json_object_new();
    JsonValue *list = json_array_new();
    size_t len = 0;
    char *text;

    json_object_set_string(o, "zeta", "\xc3\xa9\n");
    json_array_append(list, json_int_new(1));
    json_array_append(list, json_array_new());
    json_array_append(list, json_object_new());
    json_object_set(o, "list", list);
    json_object_set(o, "empty", json_object_new());
    text = json_value_to_pretty(o, &len);
    /* Insertion order, two-space indent, empty containers on one line. */
    CHECK_STR_EQ(text, "{\n"
                       "  \"zeta\": \"\\u00E9\\n\",\n"
                       "  \"list\": [\n"
                       "    1,\n"
                       "    [],\n"
                       "    {}\n"
                       "  ],\n"
                       "  \"empty\": {}\n"
                       "}");
    CHECK(len == strlen(text));
    free(text);
    json_value_free(o);
    o = json_string_new("s");
    text = json_value_to_pretty(o, NULL);
    CHECK_STR_EQ(text, "\"s\"");
    free(text);
    json_value_free(o);
}

int main(void)
{
    RUN(test_writer_reply_shapes);
    RUN(test_writer_qdict_order);
    RUN(test_writer_escapes);
    RUN(test_writer_invalid_utf8);
    RUN(test_writer_integers);
    RUN(test_writer_doubles);
    RUN(test_writer_nested);
    RUN(test_writer_pretty);
    return check_exit_status();
}
