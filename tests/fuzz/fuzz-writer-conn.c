/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-writer-conn.c — libFuzzer target for the socket writers' line
 * protocol (client/quiesce-writer.h) as the agent reads it: the real
 * listener (agent/writers/writer-server.c: admission, the hello) and one
 * connection's framing and event/answer exchange
 * (agent/writers/writer-conn.c), over a real unix socket in the fuzzer's
 * temp dir. Nothing is frozen or spawned.
 *
 * Input: byte 0 picks the phase; the rest, up to the first NUL, is what the
 * writer sends on connecting (its hello); after the NUL, what it answers
 * to the event (then it stops sending).
 *
 * Checks: a connection is registered only by a first line "hello 1 NAME"
 * with a valid NAME, and then under that name; a well-formed hello alone
 * always registers; an exchange ends OK only on the first answer line
 * "ok PHASE" and always does then (when the writer sent nothing unasked
 * before it), ANSWERED_FAIL only on "fail PHASE[ ...]"
 * with a reason; any other outcome is DISCONNECTED with the connection
 * closed; nothing blocks past the deadline.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/writers/writer-server.h"
#include "client/quiesce-writer.h"
#include "tests/fuzz/fuzz-support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    int fd;
    const char *answer;
    size_t answer_len;
} FuzzWriter;

static void fuzz_fail(const char *why, const char *line)
{
    fprintf(stderr, "fuzz-writer-conn: %s: '%.200s'\n", why, line ? line : "(none)");
    abort();
}

/* The writer's side of one event: waits for the "event" line, answers, and
 * stops sending. Ends early when the agent side is shut. */
static gpointer fuzz_writer_thread(gpointer user_data)
{
    FuzzWriter *writer = user_data;
    g_autoptr(GString) got = g_string_new(NULL);
    char buf[1024];

    while (!strstr(got->str, "event ")) {
        ssize_t n = recv(writer->fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(got, buf, n);
    }
    while (!strchr(strstr(got->str, "event "), '\n')) {
        ssize_t n = recv(writer->fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(got, buf, n);
    }
    if (writer->answer_len > 0) {
        send(writer->fd, writer->answer, writer->answer_len, MSG_NOSIGNAL);
    }
    shutdown(writer->fd, SHUT_WR);
    return NULL;
}

/* The first line of bytes if it is a complete, well-framed line, else NULL. */
static char *fuzz_first_line(const char *bytes, size_t len)
{
    const char *nl = memchr(bytes, '\n', len);
    size_t n;

    if (!nl || (size_t)(nl - bytes) + 1 > QUIESCE_WRITER_LINE_MAX) {
        return NULL;
    }
    n = (size_t)(nl - bytes);
    for (size_t i = 0; i < n; i++) {
        if (bytes[i] < 0x20 || bytes[i] > 0x7e) {
            return NULL;
        }
    }
    return g_strndup(bytes, n);
}

static gboolean fuzz_name_valid(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > QUIESCE_WRITER_NAME_MAX) {
        return FALSE;
    }
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isalnum(name[i]) && !strchr("._-", name[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

/* clean: the writer sent nothing but its hello before the event. */
static void fuzz_check_exchange(WriterConn *conn, WriterPhase phase, const char *answer,
                                size_t answer_len, gboolean clean)
{
    const char *phase_name = writer_phase_to_string(phase);
    g_autofree char *line = fuzz_first_line(answer, answer_len);
    g_autofree char *ok = g_strdup_printf("ok %s", phase_name);
    g_autofree char *fail = g_strdup_printf("fail %s", phase_name);
    g_autoptr(WriterRun) run =
        writer_conn_exchange(conn, phase, "fuzz-session", g_get_monotonic_time() + 2000000);
    switch (run->outcome) {
    case WRITER_OUTCOME_OK:
        if (!line || strcmp(line, ok) != 0) {
            fuzz_fail("OK without 'ok PHASE'", line);
        }
        break;
    case WRITER_OUTCOME_ANSWERED_FAIL:
        if (!line || !g_str_has_prefix(line, fail) ||
            (line[strlen(fail)] != '\0' && line[strlen(fail)] != ' ') || !run->detail ||
            !*run->detail) {
            fuzz_fail("ANSWERED_FAIL without 'fail PHASE'", line);
        }
        break;
    case WRITER_OUTCOME_DISCONNECTED:
        if (writer_conn_is_open(conn)) {
            fuzz_fail("DISCONNECTED with the connection open", line);
        }
        if (clean && line && strcmp(line, ok) == 0) {
            fuzz_fail("'ok PHASE' not taken", line);
        }
        break;
    case WRITER_OUTCOME_TIMED_OUT:
        fuzz_fail("timed out although the writer stopped sending", line);
        break;
    case WRITER_OUTCOME_EXITED:
    case WRITER_OUTCOME_SIGNALED:
    case WRITER_OUTCOME_REFUSED:
        fuzz_fail("a script outcome from a socket writer", line);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const WriterPhase phases[] = { WRITER_PHASE_PREPARE, WRITER_PHASE_FREEZE,
                                          WRITER_PHASE_FREEZE_FAIL, WRITER_PHASE_THAW,
                                          WRITER_PHASE_POST_SNAPSHOT };
    g_autoptr(MemLog) log = memlog_new(64 * 1024);
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    g_autofree char *hello_line = NULL;
    g_autoptr(GPtrArray) writers = NULL;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    WriterServer *server;
    const char *hello;
    const char *answer;
    size_t hello_len, answer_len;
    const char *nul;
    gboolean hello_valid;
    WriterPhase phase;
    int client;

    if (size == 0) {
        return 0;
    }
    fuzz_support_init();
    phase = phases[data[0] % G_N_ELEMENTS(phases)];
    hello = (const char *)data + 1;
    nul = memchr(hello, '\0', size - 1);
    hello_len = nul ? (size_t)(nul - hello) : size - 1;
    answer = nul ? nul + 1 : hello + hello_len;
    answer_len = size - 1 - hello_len - (nul ? 1 : 0);

    path = g_build_filename(fuzz_support_dir(), "writers.sock", NULL);
    server = writer_server_new(path, NULL, g_main_context_default(), log, &error);
    if (!server) {
        fprintf(stderr, "fuzz-writer-conn: %s\n", error->message);
        abort();
    }
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client < 0 || connect(client, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        abort();
    }
    if (hello_len > 0) {
        send(client, hello, hello_len, MSG_NOSIGNAL);
    }
    fuzz_main_context_drain();

    hello_line = fuzz_first_line(hello, hello_len);
    hello_valid = FALSE;
    if (hello_line && g_str_has_prefix(hello_line, "hello 1 ")) {
        hello_valid = fuzz_name_valid(hello_line + strlen("hello 1 "));
    }
    writers = writer_server_dup_writers(server);
    if (writers->len > 1 || (writers->len == 1 && !hello_valid)) {
        fuzz_fail("registered without a valid hello", hello_line);
    }
    if (writers->len == 1 &&
        strcmp(writer_conn_get_name(writers->pdata[0]), hello_line + strlen("hello 1 ")) != 0) {
        fuzz_fail("registered under another name", hello_line);
    }
    if (hello_valid && hello_len == strlen(hello_line) + 1 && writers->len != 1) {
        fuzz_fail("a valid hello alone did not register", hello_line);
    }
    if (writers->len == 1 && writer_conn_is_open(writers->pdata[0])) {
        FuzzWriter writer = { .fd = client, .answer = answer, .answer_len = answer_len };
        GThread *thread = g_thread_new("fuzz-writer", fuzz_writer_thread, &writer);

        fuzz_check_exchange(writers->pdata[0], phase, answer, answer_len,
                            hello_len == strlen(hello_line) + 1);
        shutdown(client, SHUT_RDWR); /* wakes the writer if it never saw an event */
        g_thread_join(thread);
    }
    g_clear_pointer(&writers, g_ptr_array_unref);
    close(client);
    fuzz_main_context_drain();
    writer_server_free(server);
    fuzz_main_context_drain();
    return 0;
}
