/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-writer-sockets.c — socket writers for real: `quiesce-writer`
 * processes (the command-line helper) and the client library in a thread,
 * connected to the agent's socket in a temp dir, driven through writers.h.
 *
 * Covers: every phase delivered in order with the session id, scripts
 * before socket writers and the reverse on thaw; a failing socket writer
 * rolling back the others in reverse; a writer dying inside the window
 * (window_intact and thaw report it); a writer not answering within its
 * timeout (disconnected, and it releases by itself); the agent hanging up
 * on a frozen client-library writer (local freeze-fail); SO_PEERCRED
 * refusal of a uid that is not allowed and admission through the group;
 * the protocol's limits (long lines, bad hello, duplicate names, wrong
 * answers, silence before hello).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/quiesce-writer.h"
#include "common/quiesce-error.h"
#include "tests/integration/writers-fixture.h"
#include "tests/support/test-run.h"

/* A --on-* command that appends "NAME $QUIESCE_PHASE $QUIESCE_SESSION_ID". */
static char *log_command(Fixture *fixture, const char *name)
{
    return g_strdup_printf("echo \"%s $QUIESCE_PHASE $QUIESCE_SESSION_ID\" >> '%s'", name,
                           fixture->log_path);
}

static void test_phases_in_order(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-script", NULL));
    fixture_start(fixture);
    g_autofree char *cmd = log_command(fixture, "db");
    fixture_spawn_tool(fixture, "db", "--on-prepare", cmd, "--on-freeze", cmd, "--on-thaw",
                       cmd, "--on-post-snapshot", cmd, NULL);

    WriterContext context = { "session-1", NULL };
    g_autoptr(GError) error = NULL;
    g_assert_true(writers_check(fixture->writers, NULL, &error));
    g_assert_true(writers_prepare(fixture->writers, &context, NULL, &error));
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    g_assert_true(writers_window_intact(fixture->writers, &error));
    g_assert_true(writers_thaw(fixture->writers, &context, NULL, &error));
    writers_post_snapshot(fixture->writers, &context);
    g_assert_no_error(error);
    const char *expected[] = { "db prepare session-1", "10-script freeze", "db freeze session-1",
                               "db thaw session-1", "10-script thaw",
                               "db post-snapshot session-1", NULL };
    fixture_assert_log(fixture, expected);
    g_autofree char *held = fixture_flush_log(fixture);
    g_assert_nonnull(strstr(held, "socket writer db registered"));
    g_assert_nonnull(strstr(held, "writer socket writer db: freeze ok"));
}

static void test_failure_rolls_back(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-script", NULL));
    fixture_start(fixture);
    g_autofree char *a = log_command(fixture, "a");
    g_autofree char *b = log_command(fixture, "b");
    g_autofree char *b_fail = g_strdup_printf("%s; exit 7", b);
    fixture_spawn_tool(fixture, "a", "--on-freeze", a, "--on-freeze-fail", a, NULL);
    fixture_spawn_tool(fixture, "b", "--on-freeze", b_fail, "--on-freeze-fail", b, NULL);

    WriterContext context = { "s2", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(WriterFailure) failure = NULL;
    g_assert_false(writers_freeze(fixture->writers, &context, &failure, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    g_assert_cmpint(failure->kind, ==, WRITER_KIND_SOCKET);
    g_assert_cmpstr(failure->name, ==, "b");
    g_assert_cmpint(failure->outcome, ==, WRITER_OUTCOME_ANSWERED_FAIL);
    g_assert_cmpstr(failure->output_tail, ==, "freeze command exited with status 7");
    /* b failed its freeze: it is not sent freeze-fail; a and the script are. */
    const char *expected[] = { "10-script freeze", "a freeze s2", "b freeze s2",
                               "a freeze-fail s2", "10-script freeze-fail", NULL };
    fixture_assert_log(fixture, expected);
    g_assert_false(writers_is_frozen(fixture->writers));
}

static gboolean writer_gone(gpointer data)
{
    Fixture *fixture = data;
    return !fixture_has_socket_writer(fixture, "db");
}

static void test_dies_in_window(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-script", NULL));
    fixture_start(fixture);
    g_autofree char *cmd = log_command(fixture, "db");
    GPid pid = fixture_spawn_tool(fixture, "db", "--on-freeze", cmd, "--on-thaw", cmd, NULL);
    WriterContext context = { "s3", NULL };
    g_autoptr(GError) error = NULL;
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    g_assert_true(writers_window_intact(fixture->writers, &error));

    fixture_kill_child(fixture, pid); /* the database crashed inside the window */
    g_assert_true(fixture_iterate_until(writer_gone, fixture, 3000)); /* the loop noticed */
    g_assert_false(writers_window_intact(fixture->writers, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "db (hung up)"));
    g_clear_error(&error);

    g_autoptr(GPtrArray) failures = NULL;
    g_assert_false(writers_thaw(fixture->writers, &context, &failures, &error));
    g_assert_cmpuint(failures->len, ==, 1);
    const WriterFailure *failure = failures->pdata[0];
    g_assert_cmpstr(failure->name, ==, "db");
    g_assert_cmpint(failure->outcome, ==, WRITER_OUTCOME_DISCONNECTED);
    const char *expected[] = { "10-script freeze", "db freeze s3", "10-script thaw", NULL };
    fixture_assert_log(fixture, expected);
    g_autofree char *held = fixture_flush_log(fixture);
    g_assert_nonnull(strstr(held, "socket writer db disconnected while frozen: hung up"));
}

static void test_dies_detected_without_loop(Fixture *fixture, gconstpointer data)
{
    fixture_start(fixture);
    GPid pid = fixture_spawn_tool(fixture, "db", NULL);
    WriterContext context = { "s3b", NULL };
    g_autoptr(GError) error = NULL;
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    fixture_kill_child(fixture, pid);
    /* No main-loop iteration: the check itself must see the hang-up. */
    g_assert_false(writers_window_intact(fixture->writers, &error));
    g_assert_nonnull(strstr(error->message, "db"));
}

static void test_timeout(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-script", NULL));
    fixture->config.writer_timeout_ms = 500;
    fixture_start(fixture);
    g_autofree char *slow = g_strdup_printf("sleep 1.5; echo 'slow froze' >> '%s'",
                                            fixture->log_path);
    g_autofree char *release = g_strdup_printf("echo 'slow released' >> '%s'",
                                               fixture->log_path);
    fixture_spawn_tool(fixture, "slow", "--on-freeze", slow, "--on-thaw", release, NULL);

    gint64 start = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    g_autoptr(WriterFailure) failure = NULL;
    WriterContext context = { "s4", NULL };
    g_assert_false(writers_freeze(fixture->writers, &context, &failure, &error));
    gint64 elapsed_ms = (g_get_monotonic_time() - start) / 1000;
    g_assert_cmpint(elapsed_ms, >=, 450);
    g_assert_cmpint(elapsed_ms, <, 1400);
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT);
    g_assert_cmpstr(failure->name, ==, "slow");
    g_assert_cmpint(failure->outcome, ==, WRITER_OUTCOME_TIMED_OUT);
    g_assert_false(fixture_has_socket_writer(fixture, "slow")); /* disconnected */
    /* The writer finishes its freeze late, finds the agent gone, releases. */
    g_assert_true(file_wait_contains(fixture->log_path, "slow released", 5000));
    const char *expected[] = { "10-script freeze", "10-script freeze-fail", "slow froze",
                               "slow released", NULL };
    fixture_assert_log(fixture, expected);
}

typedef struct {
    Fixture *fixture;
    GAsyncQueue *events; /* char*: "PHASE" or "PHASE (local)" */
    int result;
} LibraryWriter;

static int library_handle(const QuiesceWriterEvent *event, char *reason, size_t size,
                          void *user_data)
{
    LibraryWriter *writer = user_data;
    g_async_queue_push(writer->events, g_strdup_printf("%s%s", event->phase,
                                                       event->local ? " (local)" : ""));
    return 0;
}

static gpointer library_thread(gpointer data)
{
    LibraryWriter *writer = data;
    char err[256];
    QuiesceWriter *client = quiesce_writer_connect(writer->fixture->socket_path, "lib", err,
                                                   sizeof err);
    if (!client) {
        g_async_queue_push(writer->events, g_strdup_printf("connect failed: %s", err));
        return NULL;
    }
    writer->result = quiesce_writer_run(client, library_handle, writer);
    quiesce_writer_close(client);
    g_async_queue_push(writer->events, g_strdup("ended"));
    return NULL;
}

static gboolean lib_registered(gpointer data)
{
    return fixture_has_socket_writer(data, "lib");
}

static void test_agent_hangup_releases(Fixture *fixture, gconstpointer data)
{
    fixture_start(fixture);
    LibraryWriter writer = { fixture, g_async_queue_new_full(g_free), -1 };
    GThread *thread = g_thread_new("library-writer", library_thread, &writer);
    g_assert_true(fixture_iterate_until(lib_registered, fixture, 5000));
    WriterContext context = { "s5", NULL };
    g_autoptr(GError) error = NULL;
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    g_autofree char *first = g_async_queue_timeout_pop(writer.events, G_USEC_PER_SEC);
    g_assert_cmpstr(first, ==, "freeze");
    /* The agent goes away while the writer is frozen. */
    g_clear_pointer(&fixture->writers, writers_free);
    g_autofree char *second = g_async_queue_timeout_pop(writer.events, 3 * G_USEC_PER_SEC);
    g_assert_cmpstr(second, ==, "freeze-fail (local)");
    g_autofree char *third = g_async_queue_timeout_pop(writer.events, 3 * G_USEC_PER_SEC);
    g_assert_cmpstr(third, ==, "ended");
    g_thread_join(thread);
    g_assert_cmpint(writer.result, ==, 0);
    g_async_queue_unref(writer.events);
}

static void drop_privileges(gpointer data)
{
    gid_t gid = GPOINTER_TO_UINT(data);
    if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(65534) < 0) {
        _exit(126);
    }
}

/* Runs the tool as uid 65534 (gid @gid) until it exits or is registered;
 * returns its pid (still running when registered) and stderr fd. */
static GPid spawn_tool_as_nobody(Fixture *fixture, gid_t gid, const char *name, int *err_fd)
{
    const char *argv[] = { g_getenv("QUIESCE_WRITER_TOOL"), "--socket", fixture->socket_path,
                           "--name", name, NULL };
    g_autoptr(GError) error = NULL;
    GPid pid = 0;
    g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                             drop_privileges, GUINT_TO_POINTER(gid), &pid, NULL, NULL, err_fd,
                             &error);
    g_assert_no_error(error);
    g_array_append_val(fixture->children, pid);
    return pid;
}

typedef struct {
    GPid pid;
    int status;
    gboolean exited;
} ChildWait;

static gboolean child_exited(gpointer data)
{
    ChildWait *wait = data;
    wait->exited = waitpid(wait->pid, &wait->status, WNOHANG) == wait->pid;
    return wait->exited;
}

typedef struct {
    Fixture *fixture;
    ChildWait wait;
} MemberWait;

static gboolean member_registered_or_exited(gpointer data)
{
    MemberWait *member = data;
    return fixture_has_socket_writer(member->fixture, "member") || child_exited(&member->wait);
}

static void test_peercred(Fixture *fixture, gconstpointer data)
{
    if (geteuid() != 0) {
        quiesce_test_skip_missing("root, to run a client as another uid");
        return;
    }
    fixture_start(fixture);
    /* Open the file permissions wide so the refusal is SO_PEERCRED's. */
    g_assert_cmpint(chmod(fixture->socket_path, 0666), ==, 0);
    int err_fd = -1;
    ChildWait wait = { spawn_tool_as_nobody(fixture, 65534, "intruder", &err_fd), 0, FALSE };
    g_assert_true(fixture_iterate_until(child_exited, &wait, 8000));
    g_array_remove_index(fixture->children, fixture->children->len - 1);
    char buf[512] = "";
    ssize_t n = read(err_fd, buf, sizeof buf - 1);
    close(err_fd);
    buf[MAX(n, 0)] = '\0';
    if (WIFEXITED(wait.status) && WEXITSTATUS(wait.status) == 126) {
        quiesce_test_skip_missing("a working setuid to uid 65534 for the tool");
        return;
    }
    g_test_message("refused client said: %s", buf);
    g_assert_true(WIFEXITED(wait.status) && WEXITSTATUS(wait.status) == 1);
    g_assert_nonnull(strstr(buf, "refused by the agent: not allowed: uid 65534 is not root"));
    g_assert_false(fixture_has_socket_writer(fixture, "intruder"));
    g_autofree char *held = fixture_flush_log(fixture);
    g_assert_nonnull(strstr(held, "(uid 65534) refused: not allowed"));

    /* The configured group lets the same uid in. */
    struct group *grp = getgrgid(65534);
    if (!grp) {
        return;
    }
    g_clear_pointer(&fixture->writers, writers_free);
    fixture->config.socket_group = g_strdup(grp->gr_name);
    fixture_start(fixture);
    struct stat st;
    g_assert_cmpint(stat(fixture->socket_path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0660);
    g_assert_cmpint(st.st_gid, ==, 65534);
    MemberWait member = { fixture, { spawn_tool_as_nobody(fixture, 65534, "member", &err_fd),
                                     0, FALSE } };
    fixture_iterate_until(member_registered_or_exited, &member, 5000);
    if (member.wait.exited) {
        g_array_remove_index(fixture->children, fixture->children->len - 1); /* reaped */
    }
    if (member.wait.exited && WIFEXITED(member.wait.status) &&
        WEXITSTATUS(member.wait.status) == 126) {
        quiesce_test_skip_missing("a working setuid to uid 65534 for the tool");
        close(err_fd);
        return;
    }
    gboolean registered = fixture_has_socket_writer(fixture, "member");
    if (!registered) {
        fcntl(err_fd, F_SETFL, O_NONBLOCK);
        n = read(err_fd, buf, sizeof buf - 1);
        buf[MAX(n, 0)] = '\0';
        g_autofree char *log = fixture_flush_log(fixture);
        g_test_message("member not registered; it said: %s; agent: %s", buf, log);
    }
    close(err_fd);
    g_assert_true(registered);
}

/* ---- raw protocol clients ---- */

static int raw_connect(Fixture *fixture)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_strlcpy(addr.sun_path, fixture->socket_path, sizeof addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof addr), ==, 0);
    return fd;
}

static void raw_send(int fd, const char *text)
{
    g_assert_cmpint(send(fd, text, strlen(text), MSG_NOSIGNAL), ==, (ssize_t)strlen(text));
}

/* Iterates the main loop until @fd has a line or EOF; returns the text
 * received ("" on EOF), or NULL on timeout. */
static char *raw_receive(int fd, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        while (g_main_context_iteration(NULL, FALSE)) {
        }
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 5) == 1) {
            char buf[1024];
            ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
            return g_strndup(buf, MAX(n, 0));
        }
    }
    return NULL;
}

static char *raw_hello(Fixture *fixture, const char *hello, int *out_fd)
{
    int fd = raw_connect(fixture);
    raw_send(fd, hello);
    char *answer = raw_receive(fd, 3000);
    if (out_fd) {
        *out_fd = fd;
    } else {
        close(fd);
    }
    return answer;
}

static void test_protocol_limits(Fixture *fixture, gconstpointer data)
{
    fixture_start(fixture);
    g_autofree char *bad_version = raw_hello(fixture, "hello 2 x\n", NULL);
    g_assert_cmpstr(bad_version, ==, "refused unsupported protocol version\n");
    g_autofree char *bad_name = raw_hello(fixture, "hello 1 ../etc\n", NULL);
    g_assert_cmpstr(bad_name, ==, "refused invalid name\n");
    g_autofree char *not_hello = raw_hello(fixture, "event freeze -\n", NULL);
    g_assert_cmpstr(not_hello, ==, "refused protocol violation: expected hello\n");
    g_autofree char *binary = raw_hello(fixture, "hello 1 \x01\x02\n", NULL);
    g_assert_cmpstr(binary, ==, ""); /* non-printable: closed without a word */

    g_autofree char *long_line = g_strnfill(QUIESCE_WRITER_LINE_MAX + 100, 'x');
    g_autofree char *too_long = raw_hello(fixture, long_line, NULL);
    g_assert_cmpstr(too_long, ==, "");

    int first = -1;
    g_autofree char *welcome = raw_hello(fixture, "hello 1 dup\n", &first);
    g_assert_cmpstr(welcome, ==, "welcome 1\n");
    g_autofree char *taken = raw_hello(fixture, "hello 1 dup\n", NULL);
    g_assert_cmpstr(taken, ==, "refused name in use\n");
    /* Unsolicited data from a registered writer: disconnected. */
    raw_send(first, "ok freeze\n");
    g_autofree char *closed = raw_receive(first, 3000);
    g_assert_cmpstr(closed, ==, "");
    close(first);
    g_assert_false(fixture_has_socket_writer(fixture, "dup"));
    /* The name is free again. */
    int again = -1;
    g_autofree char *welcome_again = raw_hello(fixture, "hello 1 dup\n", &again);
    g_assert_cmpstr(welcome_again, ==, "welcome 1\n");
    close(again);
}

static void test_hello_timeout(Fixture *fixture, gconstpointer data)
{
    fixture_start(fixture);
    int fd = raw_connect(fixture);
    gint64 start = g_get_monotonic_time();
    g_autofree char *closed = raw_receive(fd, QUIESCE_WRITER_HELLO_TIMEOUT_MS + 3000);
    gint64 elapsed_ms = (g_get_monotonic_time() - start) / 1000;
    close(fd);
    g_assert_cmpstr(closed, ==, "");
    g_assert_cmpint(elapsed_ms, >=, QUIESCE_WRITER_HELLO_TIMEOUT_MS - 100);
}

typedef struct {
    int fd;
    const char *answer;
} RawAnswer;

static gpointer raw_answer_thread(gpointer data)
{
    RawAnswer *raw = data;
    char buf[QUIESCE_WRITER_LINE_MAX];
    struct pollfd pfd = { .fd = raw->fd, .events = POLLIN };
    if (poll(&pfd, 1, 5000) == 1 && recv(raw->fd, buf, sizeof buf, 0) > 0) {
        send(raw->fd, raw->answer, strlen(raw->answer), MSG_NOSIGNAL);
    }
    return NULL;
}

static void check_bad_answer(Fixture *fixture, const char *answer, const char *expected)
{
    int fd = -1;
    g_autofree char *welcome = raw_hello(fixture, "hello 1 raw\n", &fd);
    g_assert_cmpstr(welcome, ==, "welcome 1\n");
    RawAnswer raw = { fd, answer };
    GThread *thread = g_thread_new("raw-answer", raw_answer_thread, &raw);
    WriterContext context = { "s6", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(WriterFailure) failure = NULL;
    g_assert_false(writers_freeze(fixture->writers, &context, &failure, &error));
    g_thread_join(thread);
    g_assert_cmpint(failure->outcome, ==, WRITER_OUTCOME_DISCONNECTED);
    g_test_message("%s", failure->message);
    g_assert_nonnull(strstr(failure->message, expected));
    g_assert_false(fixture_has_socket_writer(fixture, "raw"));
    close(fd);
}

static void test_bad_answers(Fixture *fixture, gconstpointer data)
{
    fixture_start(fixture);
    check_bad_answer(fixture, "ok thaw\n", "protocol violation: answered 'ok thaw' to freeze");
    g_autofree char *huge = g_strnfill(QUIESCE_WRITER_LINE_MAX * 2, 'y');
    check_bad_answer(fixture, huge, "line longer than 512 bytes");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_getenv("QUIESCE_WRITER_TOOL")) {
        return quiesce_test_exit_missing(
            "the quiesce-writer tool (QUIESCE_WRITER_TOOL not set: run through ctest)");
    }
#define ADD(path, func) QUIESCE_TEST_ADD(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/writers/sockets/phases-in-order", test_phases_in_order);
    ADD("/writers/sockets/failure-rolls-back", test_failure_rolls_back);
    ADD("/writers/sockets/dies-in-window", test_dies_in_window);
    ADD("/writers/sockets/dies-detected-without-loop", test_dies_detected_without_loop);
    ADD("/writers/sockets/timeout", test_timeout);
    ADD("/writers/sockets/agent-hangup-releases", test_agent_hangup_releases);
    ADD("/writers/sockets/peercred", test_peercred);
    ADD("/writers/sockets/protocol-limits", test_protocol_limits);
    ADD("/writers/sockets/hello-timeout", test_hello_timeout);
    ADD("/writers/sockets/bad-answers", test_bad_answers);
#undef ADD
    return quiesce_test_run();
}
