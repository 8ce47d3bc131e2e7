/*
 * test-robustness.c — the real daemon on a unix socket against hosts and
 * settings that misbehave: a prepare sent by a host that hung up at once
 * (bound to that lost host: the host-lost grace, not the window), a client
 * that sends nothing while others wait (several clients served at once,
 * the session bound to the connection that prepared it), socket-writer
 * lines logged without any QGA traffic, bad settings refused at start,
 * oversized and malformed session ids, freeze-list paths with a trailing
 * slash. The agent is confined to its own temp dir, which holds no
 * filesystem: prepares freeze nothing.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/support/agent-process.h"

#define GRACE_CONFIG "[freeze]\nrunning-state-command=\nhost-lost-grace=1\n"

static const char *quiesced(void)
{
    const char *path = g_getenv("QUIESCED");

    g_assert_nonnull(path);
    return path;
}

static int connect_to(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    return fd;
}

static void send_all(int fd, const char *text)
{
    gsize len = strlen(text);

    while (len > 0) {
        ssize_t n = write(fd, text, len);
        g_assert_cmpint(n, >, 0);
        text += n;
        len -= (gsize)n;
    }
}

/* One request on a fresh connection; the reply line, or NULL when none came
 * within timeout_ms. (transfer full) */
static char *ask(const char *socket_path, const char *request, int timeout_ms)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) reply = agent_process_exchange_lines(
        socket_path, (const guint8 *)request, strlen(request), 1, timeout_ms, &error);

    g_assert_no_error(error);
    if (!reply->len) {
        return NULL;
    }
    return g_strndup((const char *)reply->data, reply->len);
}

/* Reads one reply line from fd within timeout_ms. (transfer full) */
static char *read_line(int fd, int timeout_ms)
{
    g_autoptr(GString) line = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

    while (!strchr(line->str, '\n')) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        char buf[4096];
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            return NULL;
        }
        n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(line, buf, n);
    }
    return g_string_free(g_steal_pointer(&line), FALSE);
}

static AgentProcess *start_agent(const char *config, const char *stderr_path)
{
    g_autoptr(GError) error = NULL;
    AgentProcessOptions options = { .config = config, .stderr_path = stderr_path };
    AgentProcess *agent = agent_process_start_full("quiesced", quiesced(), &options, &error);

    g_assert_no_error(error);
    return agent;
}

/* guest-snapshot-status on a fresh connection, after seconds. (transfer full) */
static char *status_after(const char *sock, guint seconds)
{
    char *status;

    g_usleep(seconds * G_USEC_PER_SEC);
    status = ask(sock, "{\"execute\":\"guest-snapshot-status\"}", 2000);
    g_assert_nonnull(status);
    g_test_message("status: %s", status);
    return status;
}

static void stop_agent(AgentProcess *agent)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(agent_process_stop(agent, &error));
    g_assert_no_error(error);
    agent_process_free(agent);
}

/* Item 2: the host hangs up right after sending ping and prepare; the
 * prepare still runs, and its session ends after the host-lost grace
 * (1 s here), not the 60 s window. */
static void test_prepare_after_hangup(void)
{
    AgentProcess *agent = start_agent(GRACE_CONFIG, NULL);
    const char *sock = agent_process_socket(agent);
    int fd = connect_to(sock);
    g_autofree char *status = NULL;

    send_all(fd, "{\"execute\":\"guest-ping\"}{\"execute\":\"guest-snapshot-prepare\"}");
    close(fd);
    status = status_after(sock, 3);
    g_assert_nonnull(strstr(status, "\"state\": \"idle\""));
    g_assert_nonnull(strstr(status, "\"end\": \"host-lost\""));
    stop_agent(agent);
}

/* Item 5: clients that send nothing, or a request a byte at a time, do
 * not keep another client from being served. */
static void test_idle_client_does_not_block(void)
{
    AgentProcess *agent = start_agent(NULL, NULL);
    const char *sock = agent_process_socket(agent);
    int idle = connect_to(sock);
    int slow = connect_to(sock);
    g_autofree char *reply = NULL;
    g_autofree char *slow_reply = NULL;
    const char *request = "{\"execute\":\"guest-ping\"}";

    send_all(slow, "{\"exec");
    g_usleep(200 * 1000);
    reply = ask(sock, "{\"execute\":\"guest-ping\"}", 2000);
    g_assert_cmpstr(reply, ==, "{\"return\": {}}\n");
    /* The slow one is still served when it finishes. */
    send_all(slow, request + strlen("{\"exec"));
    slow_reply = read_line(slow, 2000);
    g_assert_cmpstr(slow_reply, ==, "{\"return\": {}}\n");
    close(idle);
    close(slow);
    stop_agent(agent);
}

/* Item 5: a session is bound to the connection that prepared it: another
 * client coming and going does not end it; the preparing one leaving does,
 * after the grace; the freeze state is one whichever client asks. */
static void test_session_bound_to_connection(void)
{
    AgentProcess *agent = start_agent(GRACE_CONFIG, NULL);
    const char *sock = agent_process_socket(agent);
    int host = connect_to(sock);
    g_autofree char *prepared = NULL;
    g_autofree char *other = NULL;
    g_autofree char *status = NULL;
    g_autofree char *lost = NULL;
    g_autofree char *second = NULL;

    send_all(host, "{\"execute\":\"guest-snapshot-prepare\"}");
    prepared = read_line(host, 5000);
    g_assert_nonnull(prepared);
    g_assert_nonnull(strstr(prepared, "\"method\": \"child-snapshot\""));
    other = ask(sock, "{\"execute\":\"guest-ping\"}", 2000);
    g_assert_cmpstr(other, ==, "{\"return\": {}}\n");
    /* One freeze state: a second prepare from another client is refused. */
    second = ask(sock, "{\"execute\":\"guest-snapshot-prepare\"}", 5000);
    g_assert_nonnull(second);
    g_assert_null(strstr(second, "\"method\": \"child-snapshot\""));
    status = status_after(sock, 2);
    g_assert_nonnull(strstr(status, "\"state\": \"active\""));
    close(host);
    lost = status_after(sock, 3);
    g_assert_nonnull(strstr(lost, "\"end\": \"host-lost\""));
    stop_agent(agent);
}

/* Item 7: a socket writer's registration reaches the log with no QGA
 * traffic at all. */
static void test_writer_lines_logged(void)
{
    g_autofree char *dir = g_dir_make_tmp("quiesce-robust-XXXXXX", NULL);
    g_autofree char *log_path = g_build_filename(dir, "stderr", NULL);
    AgentProcess *agent = start_agent(NULL, log_path);
    g_autofree char *writers_sock =
        g_build_filename(agent_process_dir(agent), "writers.sock", NULL);
    int fd = connect_to(writers_sock);
    g_autofree char *welcome = NULL;
    gboolean found = FALSE;

    send_all(fd, "hello 1 robust-db\n");
    welcome = read_line(fd, 2000);
    g_assert_nonnull(welcome);
    for (int i = 0; i < 30 && !found; i++) {
        g_autofree char *text = NULL;
        g_usleep(100 * 1000);
        found = g_file_get_contents(log_path, &text, NULL, NULL) &&
                strstr(text, "socket writer robust-db registered");
    }
    g_assert_true(found);
    close(fd);
    stop_agent(agent);
    g_unlink(log_path);
    g_rmdir(dir);
}

/* Item 8: a bad setting stops the agent at start, exit 2, with a message
 * naming it. --check, so that before the fix nothing keeps running. */
static void check_config_refused(const char *config, const char *needle)
{
    g_autofree char *dir = g_dir_make_tmp("quiesce-robust-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "quiesced.conf", NULL);
    g_autofree char *text = g_strdup_printf("[freeze]\nrunning-state-command=\n%s", config);
    g_autofree char *config_arg = g_strdup_printf("--config=%s", path);
    g_autofree char *confine_arg = g_strdup_printf("--confine=%s", dir);
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    const char *argv[] = { quiesced(), config_arg, confine_arg, "--check", NULL };
    int status = 0;

    /* The config's [freeze] group is already open: append keys of other
     * groups after their own header. */
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_assert_true(g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &error));
    g_assert_no_error(error);
    g_test_message("%s -> %s", config, err);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 2);
    g_assert_nonnull(strstr(err, needle));
    g_unlink(path);
    g_rmdir(dir);
}

static void test_config_refused(void)
{
    check_config_refused("[agent]\nchannels=\n", "no channel");
    check_config_refused("[agent]\nchannels=unix-listen:/tmp/q.sock;unix-listen:/tmp/q.sock\n",
                         "twice");
    check_config_refused("state-dir=relative/dir\n", "must be an absolute path");
    check_config_refused("state-dir=\n", "must be an absolute path");
    check_config_refused("[writers]\ntimeout=30\ntotal-timeout=10\n", "total-timeout");
}

/* Item 8: a 100 KB session id gets a short, clear error; so does one that
 * is not a UUID. */
static void test_session_id_bounded(void)
{
    AgentProcess *agent = start_agent(NULL, NULL);
    const char *sock = agent_process_socket(agent);
    g_autofree char *huge = g_strnfill(100 * 1024, 'a');
    g_autofree char *request = g_strdup_printf(
        "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}", huge);
    g_autofree char *reply = ask(sock, request, 5000);
    g_autofree char *bad = ask(sock,
                               "{\"execute\":\"guest-snapshot-abort\",\"arguments\":"
                               "{\"session\":\"no-such-session\"}}",
                               2000);
    g_autofree char *unknown = ask(sock,
                                   "{\"execute\":\"guest-snapshot-abort\",\"arguments\":"
                                   "{\"session\":\"2e7394da-1f3f-4eb8-9971-aff2458073a9\"}}",
                                   2000);

    g_assert_nonnull(reply);
    g_test_message("reply: %.300s", reply);
    g_assert_cmpuint(strlen(reply), <, 512);
    g_assert_nonnull(strstr(reply, "not a session id"));
    g_assert_nonnull(strstr(bad, "not a session id"));
    g_assert_nonnull(strstr(unknown, "no snapshot session 2e7394da"));
    stop_agent(agent);
}

/* Item 8: "/proc/" names the same mount as "/proc" (which the confined
 * agent refuses either way: nothing is frozen). */
static void test_freeze_list_trailing_slash(void)
{
    AgentProcess *agent = start_agent(NULL, NULL);
    const char *sock = agent_process_socket(agent);
    g_autofree char *plain = ask(sock,
                                 "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":"
                                 "{\"mountpoints\":[\"/proc\"]}}",
                                 5000);
    g_autofree char *slash = ask(sock,
                                 "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":"
                                 "{\"mountpoints\":[\"/proc/\"]}}",
                                 5000);

    g_test_message("/proc: %s/proc/: %s", plain, slash);
    g_assert_nonnull(strstr(plain, "\"error\""));
    g_assert_cmpstr(slash, ==, plain);
    stop_agent(agent);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/robust/prepare-after-hangup", test_prepare_after_hangup);
    g_test_add_func("/robust/idle-client-does-not-block", test_idle_client_does_not_block);
    g_test_add_func("/robust/session-bound-to-connection", test_session_bound_to_connection);
    g_test_add_func("/robust/writer-lines-logged", test_writer_lines_logged);
    g_test_add_func("/robust/config-refused", test_config_refused);
    g_test_add_func("/robust/session-id-bounded", test_session_id_bounded);
    g_test_add_func("/robust/freeze-list-trailing-slash", test_freeze_list_trailing_slash);
    return g_test_run();
}
