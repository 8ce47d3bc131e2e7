/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-dispatcher.c — the command table and dispatcher over a fake
 * transport: a ProtoSession whose reply callback collects the bytes a host
 * would read. Portable (check.h), so it also runs under wine.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol/command-table.h"
#include "protocol/dispatcher.h"
#include "protocol/proto-session.h"
#include "tests/unit/check.h"

typedef struct {
    bool frozen;
    int echo_calls;
    char out[8192];
    size_t out_len;
} Fake;

static bool cmd_echo(void *context, const JsonValue *args, JsonValue **result,
                     ProtoError **error)
{
    Fake *fake = context;
    fake->echo_calls++;
    *result = json_value_copy(json_object_get(args, "value"));
    return true;
}

static bool cmd_fail(void *context, const JsonValue *args, JsonValue **result,
                     ProtoError **error)
{
    proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "failed to freeze %s: %s", "/x",
                    "Operation not permitted");
    return false;
}

static bool cmd_quiet(void *context, const JsonValue *args, JsonValue **result,
                      ProtoError **error)
{
    return true;
}

static bool cmd_frozen_ok(void *context, const JsonValue *args, JsonValue **result,
                          ProtoError **error)
{
    *result = json_string_new("thawed");
    return true;
}

static const CommandArg echo_args[] = {
    { "value", COMMAND_ARG_STRING_LIST, false },
    { "flag", COMMAND_ARG_BOOL, true },
    { NULL, 0, false },
};

static const CommandSpec specs[] = {
    { "test-echo", cmd_echo, echo_args, 0 },
    { "test-fail", cmd_fail, NULL, 0 },
    { "test-quiet", cmd_quiet, NULL, COMMAND_FLAG_NO_SUCCESS_RESPONSE },
    { "test-status", cmd_frozen_ok, NULL, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "test-delimited", cmd_frozen_ok, NULL, COMMAND_FLAG_SENTINEL_REPLY },
    { "test-busy-ok", cmd_frozen_ok, NULL, COMMAND_FLAG_ANSWERED_WHILE_BUSY },
};

static bool fake_frozen(void *context)
{
    return ((Fake *)context)->frozen;
}

static void fake_write(void *opaque, const char *bytes, size_t len)
{
    Fake *fake = opaque;
    CHECK(fake->out_len + len < sizeof(fake->out));
    if (fake->out_len + len < sizeof(fake->out)) {
        memcpy(fake->out + fake->out_len, bytes, len);
        fake->out_len += len;
        fake->out[fake->out_len] = '\0';
    }
}

/* Feeds one input and returns everything replied (into fake->out). */
static const char *roundtrip(Fake *fake, Dispatcher *d, const char *input)
{
    ProtoSession *session = proto_session_new(d, NULL, fake_write, fake);
    fake->out_len = 0;
    fake->out[0] = '\0';
    proto_session_feed(session, input, strlen(input));
    proto_session_free(session);
    return fake->out;
}

static Dispatcher *make(Fake *fake)
{
    Dispatcher *d = dispatcher_new(fake, fake_frozen);
    dispatcher_add_commands(d, specs, sizeof(specs) / sizeof(specs[0]));
    return d;
}

/* One request and the bytes replied to it. */
typedef struct {
    const char *input;
    const char *reply;
} Exchange;

/* Feeds each input in turn and checks what was replied to it. */
static void check_exchanges(Fake *fake, Dispatcher *d, const Exchange *exchanges, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *reply = roundtrip(fake, d, exchanges[i].input);

        if (strcmp(reply, exchanges[i].reply) != 0) {
            fprintf(stderr, "  input:    %s\n", exchanges[i].input);
        }
        CHECK_STR_EQ(reply, exchanges[i].reply);
    }
}

/* A session with a dispatcher of its own, not frozen: the exchanges in
 * order, and how often the test-echo handler must have run. */
typedef struct {
    const char *name;
    Exchange exchanges[4];
    int echo_calls;
} Session;

static const Session sessions[] = {
    { "test_success_and_id",
      {
          { "{\"execute\":\"test-echo\",\"arguments\":{\"value\":[\"a\"]},\"id\":9}",
            "{\"return\": [\"a\"], \"id\": 9}\n" },
      },
      1 },
    { "test_argument_errors_never_reach_handler",
      {
          { "{\"execute\":\"test-echo\"}",
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'value' is "
            "missing\"}}\n" },
          { "{\"execute\":\"test-echo\",\"arguments\":{\"value\":[1]}}",
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type "
            "for 'value[0]', expected: string\"}}\n" },
          { "{\"execute\":\"test-echo\",\"arguments\":{\"value\":[],\"flag\":1}}",
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type "
            "for 'flag', expected: boolean\"}}\n" },
          { "{\"execute\":\"test-echo\",\"arguments\":{\"value\":[],\"zz\":1}}",
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'zz' is "
            "unexpected\"}}\n" },
      },
      0 },
    { "test_handler_error_and_no_success_response",
      {
          { "{\"execute\":\"test-fail\",\"id\":\"f\"}",
            "{\"id\": \"f\", \"error\": {\"class\": \"GenericError\", \"desc\": \"failed "
            "to freeze /x: Operation not permitted\"}}\n" },
          { "{\"execute\":\"test-quiet\"}{\"execute\":\"test-status\"}",
            "{\"return\": \"thawed\"}\n" },
      },
      0 },
    { "test_sentinel",
      {
          { "{\"execute\":\"test-delimited\"}", "\xff{\"return\": \"thawed\"}\n" },
      },
      0 },
    { "test_keeps_serving_after_garbage",
      {
          { "{\"execute\":\x01 {\"execute\":\"test-status\"}",
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
            "stray '\\u0001'\"}}\n{\"return\": \"thawed\"}\n" },
      },
      0 },
};

static void run_session(const Session *session)
{
    Fake fake = { 0 };
    Dispatcher *d = make(&fake);
    size_t n = 0;

    while (n < CHECK_N_ELEMENTS(session->exchanges) && session->exchanges[n].input) {
        n++;
    }
    check_exchanges(&fake, d, session->exchanges, n);
    CHECK(fake.echo_calls == session->echo_calls);
    dispatcher_free(d);
}

static void test_frozen_gate(void)
{
    static const Exchange exchanges[] = {
        { "{\"execute\":\"test-echo\",\"arguments\":{\"value\":[]}}",
          "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command test-echo "
          "has been disabled: the agent is in frozen state\"}}\n" },
        { "{\"execute\":\"test-status\"}", "{\"return\": \"thawed\"}\n" },
    };
    Fake fake = { .frozen = true };
    Dispatcher *d = make(&fake);

    check_exchanges(&fake, d, exchanges, CHECK_N_ELEMENTS(exchanges));
    CHECK(fake.echo_calls == 0);
    CHECK(!dispatcher_is_enabled(d, dispatcher_lookup(d, "test-echo")));
    CHECK(dispatcher_is_enabled(d, dispatcher_lookup(d, "test-status")));
    dispatcher_free(d);
}

/* The gate of proto-session.h: while it is closed only the commands that
 * answer while busy pass; a request that waits holds back everything after
 * it (a busy-ok one and a parse error too), and resume serves them in
 * order. The negative control: without the gate, the same input is
 * answered at once, echo included. */
typedef struct {
    Fake *fake;
    Dispatcher *d;
    bool busy;
} GateFake;

static GateFake *gate_fake;

static bool fake_gate(void *opaque, const JsonValue *request)
{
    return !gate_fake->busy || dispatcher_answers_while_busy(gate_fake->d, request);
}

static void test_busy_gate(void)
{
    static const char input[] =
        "{\"execute\":\"test-busy-ok\"}"
        "{\"execute\":\"test-echo\",\"arguments\":{\"value\":[\"a\"]}}"
        "{\"execute\":\"test-busy-ok\",\"id\":1}"
        "{\"execute\":\"test-nope\"}";
    Fake fake = { .frozen = false };
    Dispatcher *d = make(&fake);
    GateFake gate = { .fake = &fake, .d = d, .busy = true };
    ProtoSession *session = proto_session_new(d, NULL, fake_write, &fake);

    gate_fake = &gate;
    CHECK(dispatcher_answers_while_busy(d, NULL));
    proto_session_set_gate(session, fake_gate);
    proto_session_feed(session, input, strlen(input));
    CHECK_STR_EQ(fake.out, "{\"return\": \"thawed\"}\n");
    CHECK(fake.echo_calls == 0);
    CHECK(proto_session_is_waiting(session));
    proto_session_resume(session); /* still busy: nothing moves */
    CHECK(fake.echo_calls == 0);
    gate.busy = false;
    proto_session_resume(session);
    CHECK(!proto_session_is_waiting(session));
    CHECK(fake.echo_calls == 1);
    CHECK_STR_EQ(fake.out,
                 "{\"return\": \"thawed\"}\n"
                 "{\"return\": [\"a\"]}\n"
                 "{\"return\": \"thawed\", \"id\": 1}\n"
                 "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command test-nope "
                 "has not been found\"}}\n");
    /* A reset drops what waits, unanswered. */
    gate.busy = true;
    fake.out_len = 0;
    fake.out[0] = '\0';
    proto_session_feed(session, input, strlen(input));
    proto_session_reset(session);
    gate.busy = false;
    proto_session_resume(session);
    CHECK_STR_EQ(fake.out, "{\"return\": \"thawed\"}\n");
    proto_session_free(session);

    /* Control: no gate, no waiting. */
    fake.echo_calls = 0;
    roundtrip(&fake, d, input);
    CHECK(fake.echo_calls == 1);
    dispatcher_free(d);
    gate_fake = NULL;
}

static void test_allow_and_block_lists(void)
{
    static const Exchange exchanges[] = {
        { "{\"execute\":\"test-fail\"}",
          "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command test-fail "
          "has been disabled\"}}\n" },
        { "{\"execute\":\"test-echo\",\"arguments\":{\"value\":[]}}",
          "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command test-echo "
          "has been disabled\"}}\n" },
        { "{\"execute\":\"test-status\"}", "{\"return\": \"thawed\"}\n" },
    };
    Fake fake = { 0 };
    Dispatcher *d = make(&fake);
    const char *allow[] = { "test-status", "test-fail", "no-such", NULL };
    const char *block[] = { "test-fail", NULL };
    char *unknown = NULL;

    dispatcher_set_allowed(d, allow, &unknown);
    CHECK_STR_EQ(unknown, "no-such");
    free(unknown);
    dispatcher_set_blocked(d, block, &unknown);
    CHECK(unknown == NULL);
    check_exchanges(&fake, d, exchanges, CHECK_N_ELEMENTS(exchanges));
    dispatcher_free(d);
}

static int devices_calls;

static bool cmd_devices(void *context, const JsonValue *args, JsonValue **result,
                        ProtoError **error)
{
    devices_calls++;
    *result = json_array_new();
    return true;
}

/* qemu-ga 7.2 registers guest-get-devices on Linux and blocks it from the
 * start: disabled, whatever the allow-list says; frozen, the freeze's
 * wording wins, as in qemu-ga (its frozen gate replaces the reason). */
static void test_blocked_by_default(void)
{
    static const CommandSpec blocked_specs[] = {
        { "test-devices", cmd_devices, NULL, COMMAND_FLAG_BLOCKED_BY_DEFAULT },
        { "test-open", cmd_frozen_ok, NULL, 0 },
    };
    static const Exchange thawed[] = {
        { "{\"execute\":\"test-devices\",\"id\":1}",
          "{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
          "test-devices has been disabled\"}}\n" },
        { "{\"execute\":\"test-devices\",\"arguments\":{\"x\":1}}",
          "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
          "test-devices has been disabled\"}}\n" },
        { "{\"execute\":\"test-open\"}", "{\"return\": \"thawed\"}\n" },
    };
    static const Exchange frozen[] = {
        { "{\"execute\":\"test-devices\"}",
          "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
          "test-devices has been disabled: the agent is in frozen state\"}}\n" },
    };
    const char *allow[] = { "test-devices", "test-open", NULL };
    Fake fake = { 0 };
    Dispatcher *d = dispatcher_new(&fake, fake_frozen);
    char *unknown = NULL;

    dispatcher_add_commands(d, blocked_specs, CHECK_N_ELEMENTS(blocked_specs));
    CHECK(!dispatcher_is_enabled(d, dispatcher_lookup(d, "test-devices")));
    CHECK(dispatcher_is_enabled(d, dispatcher_lookup(d, "test-open")));
    check_exchanges(&fake, d, thawed, CHECK_N_ELEMENTS(thawed));
    dispatcher_set_allowed(d, allow, &unknown);
    CHECK(unknown == NULL);
    CHECK(!dispatcher_is_enabled(d, dispatcher_lookup(d, "test-devices")));
    check_exchanges(&fake, d, thawed, CHECK_N_ELEMENTS(thawed));
    fake.frozen = true;
    check_exchanges(&fake, d, frozen, CHECK_N_ELEMENTS(frozen));
    CHECK(devices_calls == 0);
    dispatcher_free(d);
}

int main(void)
{
    for (size_t i = 0; i < CHECK_N_ELEMENTS(sessions); i++) {
        RUN_NAMED(sessions[i].name, run_session(&sessions[i]));
    }
    RUN(test_frozen_gate);
    RUN(test_busy_gate);
    RUN(test_allow_and_block_lists);
    RUN(test_blocked_by_default);
    return check_exit_status();
}
