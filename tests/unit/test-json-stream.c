/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-json-stream.c — the streaming JSON input against qemu-ga's behaviour.
 *
 * Expected results were taken from Debian's qemu-ga 7.2 (QEMU's
 * qobject/json-lexer.c, json-streamer.c, json-parser.c): each case lists what
 * the stream emits, values in wire form ("V:...") and error descriptions
 * ("E:...") with their raw bytes, one per line. Where qemu-ga itself was
 * asked, the comment shows its reply. Every case is also fed split at each
 * byte boundary and byte by byte, which must not change the result.
 *
 * C hex escapes swallow following hex digits, so "\x01" "a" is split.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json-stream.h"
#include "protocol/json-writer.h"
#include "tests/unit/check.h"

typedef struct {
    char *log; /* "V:<wire>\n" / "E:<desc>\n" per emission */
    size_t len;
    JsonStream *stream;
    int reset_on_error; /* test of a callback that resets the stream */
} Collector;

static void collector_append(Collector *c, const char *prefix, const char *text)
{
    size_t add = strlen(prefix) + strlen(text) + 1;

    c->log = realloc(c->log, c->len + add + 1);
    if (!c->log) {
        abort();
    }
    c->len += (size_t)sprintf(c->log + c->len, "%s%s\n", prefix, text);
}

static void collector_emit(void *opaque, JsonValue *value, ProtoError *error)
{
    Collector *c = opaque;

    CHECK(!value != !error);
    if (value) {
        char *wire = json_value_to_wire(value, NULL);

        collector_append(c, "V:", wire);
        free(wire);
        json_value_free(value);
    } else {
        CHECK(error->error_class == PROTO_ERROR_CLASS_GENERIC_ERROR);
        collector_append(c, "E:", error->desc);
        proto_error_free(error);
        if (c->reset_on_error) {
            json_stream_reset(c->stream);
        }
    }
}

/* Feeds input in pieces of `chunk` bytes (0: all at once, or split once at
 * `split` when chunk is SIZE_MAX) and returns the log (caller frees). */
static char *run_stream(const char *input, size_t len, const JsonStreamLimits *limits,
                        size_t chunk, size_t split)
{
    Collector c = { NULL, 0, NULL, 0 };

    c.stream = json_stream_new(limits, collector_emit, &c);
    collector_append(&c, "", ""); /* non-NULL log even when nothing is emitted */
    c.len = 0;
    c.log[0] = '\0';
    if (chunk == 0) {
        json_stream_feed(c.stream, input, len);
    } else if (chunk == SIZE_MAX) {
        json_stream_feed(c.stream, input, split);
        json_stream_feed(c.stream, input + split, len - split);
    } else {
        for (size_t off = 0; off < len; off += chunk) {
            json_stream_feed(c.stream, input + off, len - off < chunk ? len - off : chunk);
        }
    }
    json_stream_free(c.stream);
    return c.log;
}

/* Checks the one-shot result, and that every split gives the same. */
static int check_stream_len(const char *input, size_t len, const JsonStreamLimits *limits,
                            const char *expected)
{
    char *log = run_stream(input, len, limits, 0, 0);
    int ok = strcmp(log, expected) == 0;

    if (!ok) {
        fprintf(stderr, "  input:    %s\n  got:      %s  expected: %s", input, log, expected);
    }
    free(log);
    log = run_stream(input, len, limits, 1, 0);
    if (strcmp(log, expected) != 0) {
        fprintf(stderr, "  byte-by-byte differs: %s", log);
        ok = 0;
    }
    free(log);
    for (size_t split = 1; ok && split < len; split++) {
        log = run_stream(input, len, limits, SIZE_MAX, split);
        if (strcmp(log, expected) != 0) {
            fprintf(stderr, "  split at %zu differs: %s", split, log);
            ok = 0;
        }
        free(log);
    }
    return ok;
}

#define CHECK_STREAM(input, expected) CHECK(check_stream_len((input), strlen(input), NULL, (expected)))
#define CHECK_STREAM_LIMITS(input, limits, expected)                                              \
    CHECK(check_stream_len((input), strlen(input), (limits), (expected)))
/* For inputs holding NUL bytes: the literal's size. */
#define CHECK_STREAM_BIN(literal, expected)                                                       \
    CHECK(check_stream_len((literal), sizeof(literal) - 1, NULL, (expected)))

#define PING "{\"execute\":\"guest-ping\",\"id\":"
#define PING_WIRE "{\"execute\": \"guest-ping\", \"id\": "

static void test_stream_brief_transcripts(void)
{
    /* qemu-ga: {"return": {}, "id": "a\u00E9\uD83D\uDE00b\u00E9"} */
    CHECK_STREAM(PING "\"a\\u00e9\\ud83d\\ude00b\xc3\xa9\"}",
                 "V:" PING_WIRE "\"a\\u00E9\\uD83D\\uDE00b\\u00E9\"}\n");
    /* qemu-ga: stray '\"\u0001', then expecting value (from the '}'). */
    CHECK_STREAM(PING "\"\x01\"}",
                 "E:JSON parse error, stray '\"\x01'\n"
                 "E:JSON parse error, expecting value\n");
    /* The 0xFF resynchronisation that precedes guest-sync-delimited. */
    CHECK_STREAM("\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":43}}",
                 "E:JSON parse error, stray '\xff'\n"
                 "V:{\"execute\": \"guest-sync-delimited\", \"arguments\": {\"id\": 43}}\n");
    CHECK_STREAM(PING "18446744073709551616}", "V:" PING_WIRE "1.8446744073709552e+19}\n");
    CHECK_STREAM(PING "1e400}", "V:" PING_WIRE "inf}\n");
    CHECK_STREAM(PING "-0}", "V:" PING_WIRE "0}\n");
    CHECK_STREAM(PING "0.1}", "V:" PING_WIRE "0.10000000000000001}\n");
    CHECK_STREAM("{\"execute\":\"guest-ping\" \"id\":1}",
                 "E:JSON parse error, expected separator in dict\n");
    CHECK_STREAM(PING "1,\"id\":2}", "E:JSON parse error, duplicate key\n");
    CHECK_STREAM(PING "\"\\x\"}", "E:JSON parse error, invalid escape sequence in string\n");
    CHECK_STREAM("}", "E:JSON parse error, expecting value\n");
}

/* A guest-ping "id" and the part of what the stream emits for it that
 * depends on the id. */
typedef struct {
    const char *id;
    const char *emitted;
} PingCase;

/* Each case's id fed as the "id" of a guest-ping must emit prefix,
 * the case's text, suffix. */
static void check_ping_ids(const PingCase *cases, size_t n, const char *prefix,
                           const char *suffix)
{
    for (size_t i = 0; i < n; i++) {
        char input[128], expected[128];

        snprintf(input, sizeof(input), PING "%s}", cases[i].id);
        snprintf(expected, sizeof(expected), "%s%s%s", prefix, cases[i].emitted, suffix);
        CHECK_STREAM(input, expected);
    }
}

static void test_stream_numbers(void)
{
    /* All echoed by qemu-ga 7.2 as the "id" of guest-ping. */
    static const PingCase cases[] = {
        { "-1e400", "-inf" },
        { "-0.0", "-0" },
        { "9223372036854775807", "9223372036854775807" },
        { "9223372036854775808", "9223372036854775808" },
        { "-9223372036854775808", "-9223372036854775808" },
        { "-9223372036854775809", "-9.2233720368547758e+18" },
        { "18446744073709551615", "18446744073709551615" },
        { "1E5", "100000" },
        { "1.5e-3", "0.0015" },
        { "123456789012345678901234567890", "1.2345678901234568e+29" },
        { "-123456789012345678901234567890", "-1.2345678901234568e+29" },
        { "1e-400", "0" },
        { "5e-324", "4.9406564584124654e-324" },
        { "2.5E+2", "250" },
    };

    check_ping_ids(cases, CHECK_N_ELEMENTS(cases), "V:" PING_WIRE, "}\n");
}

static void test_stream_number_types(void)
{
    static const struct {
        const char *text;
        JsonType type;
    } cases[] = {
        { "0", JSON_TYPE_INT },
        { "-0", JSON_TYPE_INT },
        { "9223372036854775807", JSON_TYPE_INT },
        { "9223372036854775808", JSON_TYPE_UINT },
        { "18446744073709551615", JSON_TYPE_UINT },
        { "18446744073709551616", JSON_TYPE_DOUBLE },
        { "-9223372036854775808", JSON_TYPE_INT },
        { "-9223372036854775809", JSON_TYPE_DOUBLE },
        { "1.0", JSON_TYPE_DOUBLE },
        { "1e2", JSON_TYPE_DOUBLE },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_autoptr *v = json_parse_string(cases[i].text, strlen(cases[i].text), NULL);

        CHECK(v && json_value_type(v) == cases[i].type);
    }
}

static void test_stream_string_errors(void)
{
    /* Each is the "id" of guest-ping; qemu-ga's desc after "JSON parse error, ". */
    static const PingCase cases[] = {
        { "\"\\u12\"", "\\u12\" is not a valid Unicode character" },
        { "\"\\u\"", "\\u\" is not a valid Unicode character" },
        { "\"\\uZZZZ\"", "\\uZZZZ is not a valid Unicode character" },
        { "\"\\uD83D\"", "\\uD83D is not a valid Unicode character" },
        { "\"\\uDE00\"", "\\uDE00 is not a valid Unicode character" },
        { "\"\\uD83D\\u0041\"", "\\uD83D is not a valid Unicode character" },
        { "\"\\uD83Dx\"", "\\uD83D is not a valid Unicode character" },
        { "\"\\uD83D\\uZZ\"", "\\uD83D is not a valid Unicode character" },
        { "\"\\uFFFF\"", "\\uFFFF is not a valid Unicode character" },
        { "\"\\uFDD0\"", "\\uFDD0 is not a valid Unicode character" },
        { "\"\\x\"", "invalid escape sequence in string" },
        { "\"a\x80" "b\"", "invalid UTF-8 sequence in string" },
        { "\"a\xef\xbf\xbf" "b\"", "invalid UTF-8 sequence in string" },
        { "\"a\xed\xa0\x80" "b\"", "invalid UTF-8 sequence in string" },
        { "\"a\xc3(\"", "invalid UTF-8 sequence in string" },
        { "\"\xf4\x90\x80\x80\"", "invalid UTF-8 sequence in string" },
    };

    check_ping_ids(cases, CHECK_N_ELEMENTS(cases), "E:JSON parse error, ", "\n");
}

static void test_stream_strings(void)
{
    CHECK_STREAM(PING "\"\\u0000\"}", "V:" PING_WIRE "\"\\u0000\"}\n");
    CHECK_STREAM(PING "\"a\xc0\x80" "b\"}", "V:" PING_WIRE "\"a\\u0000b\"}\n");
    CHECK_STREAM(PING "\"a\x7f" "b\"}", "V:" PING_WIRE "\"a\\u007Fb\"}\n");
    CHECK_STREAM(PING "\"\xf0\x9f\x98\x80\"}", "V:" PING_WIRE "\"\\uD83D\\uDE00\"}\n");
    CHECK_STREAM(PING "\"a\\/b\\'c\\b\\f\\n\\r\\t\"}",
                 "V:" PING_WIRE "\"a/b'c\\b\\f\\n\\r\\t\"}\n");
    CHECK_STREAM(PING "\"\\u0001\\u001f\\u007f\\u0080\\u00ff\\u0800\\uffFD\\ud800\\udc00\"}",
                 "V:" PING_WIRE "\"\\u0001\\u001F\\u007F\\u0080\\u00FF\\u0800\\uFFFD"
                 "\\uD800\\uDC00\"}\n");
    /* QEMU's single-quoted strings and the \' escape. */
    CHECK_STREAM("{'execute':'guest-ping','id':'sq'}", "V:" PING_WIRE "\"sq\"}\n");
    CHECK_STREAM(PING "'a\\'b\"c'}", "V:" PING_WIRE "\"a'b\\\"c\"}\n");
    CHECK_STREAM(PING "\"a\\'b\"}", "V:" PING_WIRE "\"a'b\"}\n");
    CHECK_STREAM("''", "V:\"\"\n");
}

static void test_stream_lexer_errors(void)
{
    CHECK_STREAM(PING "1.}", "E:JSON parse error, stray '1.}'\n");
    CHECK_STREAM(PING "1e}", "E:JSON parse error, stray '1e}'\n");
    CHECK_STREAM(PING "01}",
                 "E:JSON parse error, stray '01'\nE:JSON parse error, expecting value\n");
    CHECK_STREAM(PING "-a}",
                 "E:JSON parse error, stray '-a'\nE:JSON parse error, expecting value\n");
    CHECK_STREAM(PING ".5}",
                 "E:JSON parse error, stray '.'\nE:JSON parse error, expecting value\n");
    CHECK_STREAM(PING "+1}",
                 "E:JSON parse error, stray '+'\nE:JSON parse error, expecting value\n");
    CHECK_STREAM(PING "True}",
                 "E:JSON parse error, stray 'T'\nE:JSON parse error, expecting value\n");
    CHECK_STREAM("nul@l\n",
                 "E:JSON parse error, invalid keyword 'nul'\nE:JSON parse error, stray '@'\n");
    /* 0x7F and 0xFE/0xFF cannot start a token; 0x7F is fine inside a string. */
    CHECK_STREAM("\x7f\n", "E:JSON parse error, stray '\x7f'\n");
    CHECK_STREAM("\xfe\n", "E:JSON parse error, stray '\xfe'\n");
    /* "0" takes no exponent: 0, then the keyword "e", then 5. */
    CHECK_STREAM("0e5 ", "V:0\nE:JSON parse error, invalid keyword 'e'\nV:5\n");
}

static void test_stream_control_characters(void)
{
    /* Each control character other than TAB/CR/LF is a stray byte; the
     * recovery stops at the next one, so each gets its own error. */
    CHECK_STREAM("\x0b\x0c\x1f\n", "E:JSON parse error, stray '\x0b'\n"
                                   "E:JSON parse error, stray '\x0c'\n"
                                   "E:JSON parse error, stray '\x1f'\n");
    CHECK_STREAM("\x1b", "E:JSON parse error, stray '\x1b'\n");
    CHECK_STREAM("\r\n\t{\"execute\":\"guest-ping\"}",
                 "V:{\"execute\": \"guest-ping\"}\n");
    /* A NUL byte ends the text like QEMU's "%s": stray ''. */
    CHECK_STREAM_BIN("\0{\"execute\":\"guest-ping\"}",
                     "E:JSON parse error, stray ''\nV:{\"execute\": \"guest-ping\"}\n");
    CHECK_STREAM_BIN(PING "\"ab\0cd\"}",
                     "E:JSON parse error, stray '\"ab'\nE:JSON parse error, expecting value\n");
    /* A raw TAB is whitespace outside strings but illegal inside them. */
    CHECK_STREAM(PING "\"a\tb\"}",
                 "E:JSON parse error, stray '\"a\t'\nE:JSON parse error, expecting value\n");
}

static void test_stream_recovery(void)
{
    /* Recovery skips to a structural character, here the '{'. */
    CHECK_STREAM("\x01" "abc{\"execute\":\"guest-ping\"}",
                 "E:JSON parse error, stray '\x01'\nV:{\"execute\": \"guest-ping\"}\n");
    /* 0xFF inside a string: the partial message is dropped, the rest of the
     * string skipped up to the '}', which is then a stray closer. */
    CHECK_STREAM("{\"a\":\"x\xffy\"}",
                 "E:JSON parse error, stray '\"x\xff'\nE:JSON parse error, expecting value\n");
    /* Recovery stops at 0xFF too, which starts a new error. */
    CHECK_STREAM("\xff\xff\n", "E:JSON parse error, stray '\xff'\n"
                               "E:JSON parse error, stray '\xff'\n");
    /* In recovery a TAB is skipped but CR/LF resynchronise. */
    CHECK_STREAM("\x01" "a\t1 2\n3 ", "E:JSON parse error, stray '\x01'\nV:3\n");
    CHECK_STREAM("\x01" "a:1 ", "E:JSON parse error, stray '\x01'\n"
                                "E:JSON parse error, expecting value\nV:1\n");
}

static void test_stream_parser_errors(void)
{
    CHECK_STREAM("{\"a\" 1}", "E:JSON parse error, missing : in object pair\n");
    CHECK_STREAM("{1:2}", "E:JSON parse error, key is not a string in object\n");
    CHECK_STREAM("{[]:2}", "E:JSON parse error, key is not a string in object\n");
    CHECK_STREAM("{\"a\":}", "E:JSON parse error, expecting value\n");
    CHECK_STREAM("[1 2]", "E:JSON parse error, expected separator in list\n");
    CHECK_STREAM("{,}", "E:JSON parse error, expecting value\n");
    CHECK_STREAM("[1,]", "E:JSON parse error, expecting value\n");
    CHECK_STREAM("{\"a\":1,}", "E:JSON parse error, expecting value\n");
    CHECK_STREAM("[,]", "E:JSON parse error, expecting value\n");
    CHECK_STREAM("{\"a\":1]", "E:JSON parse error, expected separator in dict\n");
    /* The value's own error wins over the duplicate key. */
    CHECK_STREAM("{\"a\":1,\"a\":x}", "E:JSON parse error, invalid keyword 'x'\n");
    /* A closer of the other kind parses at once: two errors for "[}]". */
    CHECK_STREAM("[}]", "E:JSON parse error, expecting value\n"
                        "E:JSON parse error, expecting value\n");
    CHECK_STREAM("[{]}", "E:JSON parse error, expecting value\n");
    CHECK_STREAM("[]", "V:[]\n");
    CHECK_STREAM("{}", "V:{}\n");
}

static void test_stream_lookahead(void)
{
    Collector c = { NULL, 0, NULL, 0 };

    c.stream = json_stream_new(NULL, collector_emit, &c);
    /* A keyword, like a number, ends only when the next byte arrives. */
    json_stream_feed(c.stream, "garbage", 7);
    CHECK(c.len == 0);
    CHECK(json_stream_has_partial(c.stream));
    json_stream_feed(c.stream, " ", 1);
    CHECK_STR_EQ(c.log, "E:JSON parse error, invalid keyword 'garbage'\n");
    CHECK(!json_stream_has_partial(c.stream));
    c.len = 0;
    json_stream_feed(c.stream, "42", 2);
    CHECK(c.len == 0);
    json_stream_feed(c.stream, "\n", 1);
    CHECK_STR_EQ(c.log, "V:42\n");
    /* A string ends at its quote, without look-ahead. */
    c.len = 0;
    json_stream_feed(c.stream, "\"str\"", 5);
    CHECK_STR_EQ(c.log, "V:\"str\"\n");
    CHECK(!json_stream_has_partial(c.stream));
    json_stream_free(c.stream);
    free(c.log);
}

static void test_stream_several_values(void)
{
    CHECK_STREAM("{\"a\":1}{\"b\":2}[3] \"x\" 4 true",
                 "V:{\"a\": 1}\nV:{\"b\": 2}\nV:[3]\nV:\"x\"\nV:4\n");
    CHECK_STREAM("{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":1}}\n"
                 "{\"execute\":\"guest-info\",\"arguments\":{}}\n",
                 "V:{\"execute\": \"guest-sync-delimited\", \"arguments\": {\"id\": 1}}\n"
                 "V:{\"execute\": \"guest-info\", \"arguments\": {}}\n");
}

static void test_stream_depth_limit(void)
{
    static const JsonStreamLimits depth4 = { 0, 0, 4 };
    char input[4096];
    size_t n = 0;

    CHECK_STREAM_LIMITS("[[[[1]]]]", &depth4, "V:[[[[1]]]]\n");
    /* The fifth '[' is refused with one error and the rest of that message
     * is skipped until it closes (qemu-ga lexes the rest as new input: 1,
     * then "expecting value" per closer); then the stream works again. */
    CHECK_STREAM_LIMITS("[[[[[1]]]]]{\"ok\":1}", &depth4,
                        "E:JSON nesting depth limit exceeded\nV:{\"ok\": 1}\n");
    CHECK_STREAM_LIMITS("{\"a\":[{\"b\":[[]]}]}", &depth4,
                        "E:JSON nesting depth limit exceeded\n");
    /* qemu-ga's default: 1024 levels pass, the 1025th '[' is one error. The
     * message never closes, so what follows is skipped like the inside of a
     * partial request, until the host resynchronises with 0xFF. */
    for (int i = 0; i < 1025; i++) {
        input[n++] = '[';
    }
    strcpy(input + n, "{\"execute\":\"guest-ping\"}\xff{\"execute\":\"guest-ping\"}");
    CHECK_STREAM_LIMITS(input, NULL, "E:JSON nesting depth limit exceeded\n"
                                     "E:JSON parse error, stray '\xff'\n"
                                     "V:{\"execute\": \"guest-ping\"}\n");
    n = 0;
    for (int i = 0; i < 1024; i++) {
        input[n++] = '[';
    }
    for (int i = 0; i < 1024; i++) {
        input[n++] = ']';
    }
    input[n] = '\0';
    {
        char *log = run_stream(input, n, NULL, 0, 0);

        CHECK(strncmp(log, "V:[[[[", 6) == 0 && strstr(log, "E:") == NULL);
        free(log);
    }
}

static void test_stream_size_limit(void)
{
    static const JsonStreamLimits bytes16 = { 16, 0, 0 };
    static const JsonStreamLimits bytes32 = { 32, 0, 0 };

    /* Queued 1+4+1 bytes; the 12-byte string would make 6+12+1 > 16. The
     * rest of the message is skipped (qemu-ga: "expecting value" for '}'). */
    CHECK_STREAM_LIMITS("{\"id\":\"0123456789\"}{\"b\":1}", &bytes16,
                        "E:JSON token size limit exceeded\nV:{\"b\": 1}\n");
    /* The boundary: 14 bytes queued, the '}' makes 14+1+1 = 16, which fits;
     * one more byte and the '}' is refused. */
    CHECK_STREAM_LIMITS("{\"id\":\"012345\"}", &bytes16, "V:{\"id\": \"012345\"}\n");
    CHECK_STREAM_LIMITS("{\"id\":\"0123456\"}", &bytes16,
                        "E:JSON token size limit exceeded\n");
    /* A token outgrowing the limit is dropped to its real end, and the
     * message skipped to its close: one error (qemu-ga, fed 64 MiB + 5 bytes
     * of "a", cuts the token and answers: size limit, invalid keyword
     * 'aaaaa', stray '"}\uFFFD', then the ping). */
    CHECK_STREAM_LIMITS("{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n"
                        "{\"execute\":\"guest-ping\"}",
                        &bytes32,
                        "E:JSON token size limit exceeded\n"
                        "V:{\"execute\": \"guest-ping\"}\n");
    /* A resync byte inside the dropped token still resynchronises. */
    CHECK_STREAM_LIMITS("{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xff"
                        "{\"execute\":\"guest-ping\"}",
                        &bytes32,
                        "E:JSON token size limit exceeded\n"
                        "E:JSON parse error, stray '\xff'\n"
                        "V:{\"execute\": \"guest-ping\"}\n");
}

static void test_stream_token_limit(void)
{
    static const JsonStreamLimits tokens5 = { 0, 5, 0 };

    CHECK_STREAM_LIMITS("[1,2]", &tokens5, "V:[1, 2]\n");
    /* The sixth token is refused, the rest of its message skipped. */
    CHECK_STREAM_LIMITS("[1,2,3][4]", &tokens5,
                        "E:JSON token count limit exceeded\nV:[4]\n");
}

static void test_stream_reset(void)
{
    Collector c = { NULL, 0, NULL, 0 };

    c.stream = json_stream_new(NULL, collector_emit, &c);
    CHECK(!json_stream_has_partial(c.stream));
    json_stream_feed(c.stream, "{\"execute\":\"guest-ping\"", 23);
    CHECK(json_stream_has_partial(c.stream));
    json_stream_reset(c.stream);
    CHECK(!json_stream_has_partial(c.stream));
    json_stream_feed(c.stream, "{\"b\":1}", 7);
    CHECK_STR_EQ(c.log, "V:{\"b\": 1}\n");
    /* Inside a string. */
    c.len = 0;
    json_stream_feed(c.stream, "[\"ab", 4);
    json_stream_reset(c.stream);
    json_stream_feed(c.stream, "\"c\"", 3);
    CHECK_STR_EQ(c.log, "V:\"c\"\n");
    /* In recovery: without the reset "1 " would be skipped. */
    c.len = 0;
    json_stream_feed(c.stream, "\x01" "ab", 3);
    json_stream_reset(c.stream);
    json_stream_feed(c.stream, "1 ", 2);
    CHECK_STR_EQ(c.log, "E:JSON parse error, stray '\x01'\nV:1\n");
    json_stream_free(c.stream);
    free(c.log);
}

static void test_stream_reset_from_callback(void)
{
    Collector c = { NULL, 0, NULL, 1 };

    c.stream = json_stream_new(NULL, collector_emit, &c);
    /* The callback resets on the error, so "ab" is not skipped: the reset
     * overrides the recovery state. */
    json_stream_feed(c.stream, "\x01" "1 [2]", 6);
    CHECK_STR_EQ(c.log, "E:JSON parse error, stray '\x01'\nV:1\nV:[2]\n");
    json_stream_free(c.stream);
    free(c.log);
}

static void test_parse_string(void)
{
    static const struct {
        const char *text;
        const char *error; /* NULL: parses */
    } cases[] = {
        { "  {\"a\":[1,2,{\"b\":null}]}\n", NULL },
        { "[1] ", NULL },
        { "42", NULL },
        { "true", NULL },
        { "\"s\"", NULL },
        { "", "Expecting a JSON value" },
        { " \n\t", "Expecting a JSON value" },
        { "{\"a\":1} x", "Expecting at most one JSON value" },
        { "1 2", "Expecting at most one JSON value" },
        { "{\"a\":1}}", "Expecting at most one JSON value" },
        { "{\"a\":1", "JSON parse error, premature EOI" },
        { "[", "JSON parse error, premature EOI" },
        { "{\"a\"", "JSON parse error, premature EOI" },
        { "\"abc", "JSON parse error, stray '\"abc'" },
        { "-", "JSON parse error, stray '-'" },
        { "1.", "JSON parse error, stray '1.'" },
        { "nul", "JSON parse error, invalid keyword 'nul'" },
        { "x 1", "JSON parse error, invalid keyword 'x'" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ProtoError *error = NULL;
        JsonValue *v = json_parse_string(cases[i].text, strlen(cases[i].text), &error);

        if (cases[i].error) {
            CHECK(!v && error);
            CHECK_STR_EQ(error ? error->desc : NULL, cases[i].error);
        } else {
            CHECK(v && !error);
        }
        json_value_free(v);
        proto_error_free(error);
    }
}

static void test_parse_string_content(void)
{
    static const char text[] = "{\"b\":[1,-2.5,\"x\"],\"a\":{},\"c\":null}";
    json_autoptr *v = json_parse_string(text, strlen(text), NULL);
    char *wire;

    CHECK(v && json_value_type(v) == JSON_TYPE_OBJECT);
    CHECK(v && json_object_size(v) == 3);
    CHECK_STR_EQ(v ? json_object_key_at(v, 0) : NULL, "b"); /* parse order kept */
    CHECK_STR_EQ(v ? json_object_key_at(v, 2) : NULL, "c");
    wire = v ? json_value_to_wire(v, NULL) : NULL;
    CHECK_STR_EQ(wire, "{\"a\": {}, \"b\": [1, -2.5, \"x\"], \"c\": null}");
    free(wire);
    /* Bytes after a NUL are input too (len counts). */
    CHECK(!json_parse_string("1\0", 2, NULL));
    /* error may be NULL. */
    CHECK(!json_parse_string("[", 1, NULL));
}

int main(void)
{
    RUN(test_stream_brief_transcripts);
    RUN(test_stream_numbers);
    RUN(test_stream_number_types);
    RUN(test_stream_string_errors);
    RUN(test_stream_strings);
    RUN(test_stream_lexer_errors);
    RUN(test_stream_control_characters);
    RUN(test_stream_recovery);
    RUN(test_stream_parser_errors);
    RUN(test_stream_lookahead);
    RUN(test_stream_several_values);
    RUN(test_stream_depth_limit);
    RUN(test_stream_size_limit);
    RUN(test_stream_token_limit);
    RUN(test_stream_reset);
    RUN(test_stream_reset_from_callback);
    RUN(test_parse_string);
    RUN(test_parse_string_content);
    return check_exit_status();
}
