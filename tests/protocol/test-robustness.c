/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-robustness.c — the real daemon on a unix socket against hosts and
 * settings that misbehave: a client that sends nothing while others wait
 * (several clients served at once; the sessions that need a frozen
 * filesystem are in tests/integration/test-host-connections.c), socket-writer
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

static const char *quiesced(void)
{
    const char *path = g_getenv("QUIESCED");

    g_assert_nonnull(path);
    return path;
}

static AgentProcess *start_agent(const char *config, const char *stderr_path)
{
    g_autoptr(GError) error = NULL;
    AgentProcessOptions options = { .config = config, .stderr_path = stderr_path };
    AgentProcess *agent = agent_process_start_full("quiesced", quiesced(), &options, &error);

    g_assert_no_error(error);
    return agent;
}

static void stop_agent(AgentProcess *agent)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(agent_process_stop(agent, &error));
    g_assert_no_error(error);
    agent_process_free(agent);
}

/* Item 5: clients that send nothing, or a request a byte at a time, do
 * not keep another client from being served. */
static void test_idle_client_does_not_block(void)
{
    AgentProcess *agent = start_agent(NULL, NULL);
    const char *sock = agent_process_socket(agent);
    int idle = agent_process_connect(sock);
    int slow = agent_process_connect(sock);
    g_autofree char *reply = NULL;
    g_autofree char *slow_reply = NULL;
    const char *request = "{\"execute\":\"guest-ping\"}";

    agent_process_send(slow, "{\"exec");
    g_usleep(200 * 1000);
    reply = agent_process_ask(sock, "{\"execute\":\"guest-ping\"}", 2000);
    g_assert_cmpstr(reply, ==, "{\"return\": {}}\n");
    /* The slow one is still served when it finishes. */
    agent_process_send(slow, request + strlen("{\"exec"));
    slow_reply = agent_process_read_line(slow, 2000);
    g_assert_cmpstr(slow_reply, ==, "{\"return\": {}}\n");
    close(idle);
    close(slow);
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
    int fd = agent_process_connect(writers_sock);
    g_autofree char *welcome = NULL;
    gboolean found = FALSE;

    agent_process_send(fd, "hello 1 robust-db\n");
    welcome = agent_process_read_line(fd, 2000);
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
    g_autofree char *reply = agent_process_ask(sock, request, 5000);
    g_autofree char *bad = agent_process_ask(sock,
                               "{\"execute\":\"guest-snapshot-abort\",\"arguments\":"
                               "{\"session\":\"no-such-session\"}}",
                               2000);
    g_autofree char *unknown = agent_process_ask(sock,
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
    g_autofree char *plain = agent_process_ask(sock,
                                 "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":"
                                 "{\"mountpoints\":[\"/proc\"]}}",
                                 5000);
    g_autofree char *slash = agent_process_ask(sock,
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
    g_test_add_func("/robust/idle-client-does-not-block", test_idle_client_does_not_block);
    g_test_add_func("/robust/writer-lines-logged", test_writer_lines_logged);
    g_test_add_func("/robust/config-refused", test_config_refused);
    g_test_add_func("/robust/session-id-bounded", test_session_id_bounded);
    g_test_add_func("/robust/freeze-list-trailing-slash", test_freeze_list_trailing_slash);
    return g_test_run();
}
