/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-lexer.c — the JSON lexer as a state table, reproducing QEMU's
 * qobject/json-lexer.c (the behaviour; the code is our own).
 *
 * What qemu-ga accepts, and therefore we do:
 *   - RFC 8259 tokens, plus single-quoted strings and the \' escape; keywords
 *     are any [a-z]+ (the parser names the bad ones); whitespace is space,
 *     TAB, CR and LF;
 *   - inside strings any byte 0x20..0xFD; escapes and UTF-8 are checked later
 *     by the parser, so "\x" is a parser error but a raw TAB or 0xFF in a
 *     string is a lexer error;
 *   - "0" cannot take digits or an exponent: "01" is an error and "0e5" lexes
 *     as 0, e, 5.
 * An error token carries the token so far including the offending byte (so
 * "1.}" swallows the brace). The lexer then enters recovery and drops bytes
 * until a structural character, a control character other than TAB, or
 * 0xFE/0xFF, which it then lexes afresh: that is how a host resynchronises
 * by sending 0xFF (QEMU docs/interop/qmp-spec.rst).
 */
#include "protocol/json-lexer.h"

#include "protocol/proto-buffer.h"

enum {
    LEX_ERROR = 0, /* the table's default: any byte not listed is an error */
    LEX_RECOVERY,
    LEX_DQ_STRING,
    LEX_DQ_ESCAPE,
    LEX_SQ_STRING,
    LEX_SQ_ESCAPE,
    LEX_SIGN,      /* "-" */
    LEX_ZERO,      /* "0", "-0" */
    LEX_INTEGER,   /* [1-9][0-9]* */
    LEX_DOT,       /* integer part and "." */
    LEX_FRACTION,  /* ... and digits */
    LEX_EXP_MARK,  /* ... "e" or "E" */
    LEX_EXP_SIGN,  /* ... "+" or "-" */
    LEX_EXPONENT,  /* ... and digits */
    LEX_KEYWORD,
    LEX_START,
    LEX_STATE_COUNT,
};

/* A table entry is a next state, or LEX_EMIT(type) when the byte ends a token.
 * LEX_PEEK marks a byte that only ends the token and must be lexed again from
 * the start state (look-ahead). */
#define LEX_EMIT_FLAG 0x40
#define LEX_EMIT(type) (LEX_EMIT_FLAG | (type))
#define LEX_PEEK 0x80
#define LEX_ENDS_BEFORE_ANY(entry) [0x00 ... 0xFF] = (entry) | LEX_PEEK

_Static_assert(LEX_STATE_COUNT < LEX_EMIT_FLAG, "states collide with LEX_EMIT");
_Static_assert(JSON_TOKEN_END_OF_INPUT < LEX_EMIT_FLAG, "token types collide");

/* Later designators override earlier ranges on purpose, as in QEMU's table. */
#pragma GCC diagnostic push
#ifdef __clang__
#pragma GCC diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
static const uint8_t json_lexer_table[LEX_STATE_COUNT][256] = {
    [LEX_RECOVERY] = {
        [0x00 ... 0x1F] = LEX_START | LEX_PEEK,
        [0x20 ... 0xFD] = LEX_RECOVERY,
        [0xFE ... 0xFF] = LEX_START | LEX_PEEK,
        ['\t'] = LEX_RECOVERY,
        ['{'] = LEX_START | LEX_PEEK,
        ['}'] = LEX_START | LEX_PEEK,
        ['['] = LEX_START | LEX_PEEK,
        [']'] = LEX_START | LEX_PEEK,
        [':'] = LEX_START | LEX_PEEK,
        [','] = LEX_START | LEX_PEEK,
    },
    [LEX_DQ_STRING] = {
        [0x20 ... 0xFD] = LEX_DQ_STRING,
        ['\\'] = LEX_DQ_ESCAPE,
        ['"'] = LEX_EMIT(JSON_TOKEN_STRING),
    },
    [LEX_DQ_ESCAPE] = {
        [0x20 ... 0xFD] = LEX_DQ_STRING,
    },
    [LEX_SQ_STRING] = {
        [0x20 ... 0xFD] = LEX_SQ_STRING,
        ['\\'] = LEX_SQ_ESCAPE,
        ['\''] = LEX_EMIT(JSON_TOKEN_STRING),
    },
    [LEX_SQ_ESCAPE] = {
        [0x20 ... 0xFD] = LEX_SQ_STRING,
    },
    [LEX_SIGN] = {
        ['0'] = LEX_ZERO,
        ['1' ... '9'] = LEX_INTEGER,
    },
    [LEX_ZERO] = {
        LEX_ENDS_BEFORE_ANY(LEX_EMIT(JSON_TOKEN_INTEGER)),
        ['0' ... '9'] = LEX_ERROR,
        ['.'] = LEX_DOT,
    },
    [LEX_INTEGER] = {
        LEX_ENDS_BEFORE_ANY(LEX_EMIT(JSON_TOKEN_INTEGER)),
        ['0' ... '9'] = LEX_INTEGER,
        ['.'] = LEX_DOT,
        ['e'] = LEX_EXP_MARK,
        ['E'] = LEX_EXP_MARK,
    },
    [LEX_DOT] = {
        ['0' ... '9'] = LEX_FRACTION,
    },
    [LEX_FRACTION] = {
        LEX_ENDS_BEFORE_ANY(LEX_EMIT(JSON_TOKEN_FLOAT)),
        ['0' ... '9'] = LEX_FRACTION,
        ['e'] = LEX_EXP_MARK,
        ['E'] = LEX_EXP_MARK,
    },
    [LEX_EXP_MARK] = {
        ['+'] = LEX_EXP_SIGN,
        ['-'] = LEX_EXP_SIGN,
        ['0' ... '9'] = LEX_EXPONENT,
    },
    [LEX_EXP_SIGN] = {
        ['0' ... '9'] = LEX_EXPONENT,
    },
    [LEX_EXPONENT] = {
        LEX_ENDS_BEFORE_ANY(LEX_EMIT(JSON_TOKEN_FLOAT)),
        ['0' ... '9'] = LEX_EXPONENT,
    },
    [LEX_KEYWORD] = {
        LEX_ENDS_BEFORE_ANY(LEX_EMIT(JSON_TOKEN_KEYWORD)),
        ['a' ... 'z'] = LEX_KEYWORD,
    },
    [LEX_START] = {
        ['"'] = LEX_DQ_STRING,
        ['\''] = LEX_SQ_STRING,
        ['-'] = LEX_SIGN,
        ['0'] = LEX_ZERO,
        ['1' ... '9'] = LEX_INTEGER,
        ['a' ... 'z'] = LEX_KEYWORD,
        ['{'] = LEX_EMIT(JSON_TOKEN_LCURLY),
        ['}'] = LEX_EMIT(JSON_TOKEN_RCURLY),
        ['['] = LEX_EMIT(JSON_TOKEN_LSQUARE),
        [']'] = LEX_EMIT(JSON_TOKEN_RSQUARE),
        [':'] = LEX_EMIT(JSON_TOKEN_COLON),
        [','] = LEX_EMIT(JSON_TOKEN_COMMA),
        [' '] = LEX_START,
        ['\t'] = LEX_START,
        ['\r'] = LEX_START,
        ['\n'] = LEX_START,
    },
};
#pragma GCC diagnostic pop

void json_lexer_init(JsonLexer *lexer, size_t max_token_bytes, JsonLexerSink sink,
                     void *opaque)
{
    lexer->state = LEX_START;
    lexer->token = (ProtoBuffer)PROTO_BUFFER_INIT;
    lexer->max_token_bytes = max_token_bytes;
    lexer->sink = sink;
    lexer->opaque = opaque;
}

void json_lexer_destroy(JsonLexer *lexer)
{
    proto_buffer_release(&lexer->token);
}

void json_lexer_reset(JsonLexer *lexer)
{
    lexer->state = LEX_START;
    lexer->oversize = false;
    proto_buffer_truncate(&lexer->token, 0);
}

bool json_lexer_has_partial(const JsonLexer *lexer)
{
    return lexer->token.len > 0 || lexer->oversize;
}

static void json_lexer_emit(JsonLexer *lexer, JsonTokenType type)
{
    if (lexer->oversize) {
        /* The end of an over-long token, already reported as OVERSIZE. A
         * stray byte inside it (0xFF from a resynchronising host) is still
         * an error of its own. */
        lexer->oversize = false;
        if (type != JSON_TOKEN_ERROR) {
            proto_buffer_truncate(&lexer->token, 0);
            return;
        }
    }
    lexer->sink(lexer->opaque, type, lexer->token.data ? lexer->token.data : "",
                lexer->token.len);
    proto_buffer_truncate(&lexer->token, 0);
}

/* Takes a table entry (without LEX_PEEK). The new state is set before the
 * sink runs, so a sink that resets the lexer is not undone afterwards. */
static void json_lexer_step(JsonLexer *lexer, uint8_t next)
{
    if (next & LEX_EMIT_FLAG) {
        lexer->state = LEX_START;
        json_lexer_emit(lexer, (JsonTokenType)(next & ~LEX_EMIT_FLAG));
    } else if (next == LEX_ERROR) {
        lexer->state = LEX_RECOVERY;
        json_lexer_emit(lexer, JSON_TOKEN_ERROR);
    } else {
        if (next == LEX_START || next == LEX_RECOVERY) {
            proto_buffer_truncate(&lexer->token, 0); /* whitespace, skipped byte */
        }
        lexer->state = next;
    }
}

/*
 * One token may not grow without bound (QEMU: MAX_TOKEN_SIZE); the stream
 * turns an OVERSIZE token into "JSON token size limit exceeded". Unlike
 * QEMU, which cuts the token and lexes its remaining bytes as new input (the
 * rest of a long string then becomes a cascade of bogus errors and can even
 * form requests), we report OVERSIZE at once, then keep the lexer's state and
 * drop the token's bytes until the token really ends, so the stream can skip
 * the whole over-limit message and answer it with one error. Within the
 * limits nothing changes.
 */
static void json_lexer_check_size(JsonLexer *lexer)
{
    if (lexer->token.len > lexer->max_token_bytes) {
        proto_buffer_truncate(&lexer->token, 0);
        lexer->oversize = true; /* before the sink, which may reset us */
        lexer->sink(lexer->opaque, JSON_TOKEN_OVERSIZE, "", 0);
    }
}

static void json_lexer_feed_byte(JsonLexer *lexer, unsigned char byte)
{
    bool consumed = false;

    while (!consumed) {
        uint8_t next = json_lexer_table[lexer->state][byte];

        consumed = !(next & LEX_PEEK);
        /* Dropped inside an over-long token, except a stray byte: it is
         * the text of its own error. */
        if (consumed && (!lexer->oversize || (next & ~LEX_PEEK) == LEX_ERROR)) {
            proto_buffer_append_c(&lexer->token, (char)byte);
        }
        json_lexer_step(lexer, next & ~LEX_PEEK);
    }
    json_lexer_check_size(lexer);
}

/* How many bytes keep the lexer in its state: a string's body, digits, a
 * keyword, whitespace, skipped garbage. They are taken as one run. */
static size_t json_lexer_run_length(const JsonLexer *lexer, const char *bytes, size_t len)
{
    const uint8_t *row = json_lexer_table[lexer->state];
    size_t n = 0;

    while (n < len && row[(unsigned char)bytes[n]] == lexer->state) {
        n++;
    }
    return n;
}

void json_lexer_feed(JsonLexer *lexer, const char *bytes, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t run = json_lexer_run_length(lexer, bytes + i, len - i);
        size_t room;

        if (run == 0) {
            json_lexer_feed_byte(lexer, (unsigned char)bytes[i++]);
            continue;
        }
        if (lexer->state == LEX_START || lexer->state == LEX_RECOVERY) {
            i += run; /* whitespace or skipped bytes: nothing is kept */
            continue;
        }
        if (lexer->oversize) {
            i += run; /* the rest of an over-long token: dropped */
            continue;
        }
        /* Stop at the byte where the byte-wise size check would fire
         * (token.len <= max_token_bytes holds between bytes). */
        room = lexer->max_token_bytes - lexer->token.len;
        room += room < SIZE_MAX;
        run = run < room ? run : room;
        proto_buffer_append(&lexer->token, bytes + i, run);
        i += run;
        json_lexer_check_size(lexer);
    }
}

void json_lexer_flush(JsonLexer *lexer)
{
    /* As if a NUL followed that must not become part of any token: a number
     * or keyword ends, an unfinished string or number is an error. */
    while (lexer->state != LEX_START) {
        json_lexer_step(lexer, json_lexer_table[lexer->state][0] & ~LEX_PEEK);
    }
    lexer->sink(lexer->opaque, JSON_TOKEN_END_OF_INPUT, "", 0);
}
