/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-daemon.c — the real quiesced on a unix socket, spoken to in raw bytes:
 * socket permissions, clean SIGTERM exit (even the moment it listens),
 * allow/block lists, a stale partial request from a vanished client, request
 * size and nesting limits, a burst of pipelined requests, bad command lines
 * (numbers out of range included), a second agent on the same state
 * directory, a running-state command that hangs, and an error reply checked
 * against the one docs/protocol.md shows.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/support/agent-process.h"

static const char *quiesced_binary;

static AgentProcess *start(const char *const *extra)
{
    g_autoptr(GError) error = NULL;
    AgentProcess *agent = agent_process_start("quiesced", quiesced_binary, extra, &error);

    g_assert_no_error(error);
    return agent;
}

/* Sends request and reads `lines` replies (a short wait when 0 are expected). */
static char *ask(AgentProcess *agent, const char *request, guint lines)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) got = agent_process_exchange_lines(
        agent_process_socket(agent), (const guint8 *)request, strlen(request), MAX(lines, 1),
        lines ? 5000 : 500, &error);

    g_assert_no_error(error);
    g_byte_array_append(got, (const guint8 *)"", 1);
    return g_strdup((const char *)got->data);
}

static void stop(AgentProcess *agent)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(agent_process_stop(agent, &error));
    g_assert_no_error(error);
}

static void test_socket_mode(void)
{
    g_autoptr(AgentProcess) agent = start(NULL);
    struct stat st;

    g_assert_cmpint(stat(agent_process_socket(agent), &st), ==, 0);
    g_assert_true(S_ISSOCK(st.st_mode));
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    stop(agent);
    g_assert_false(g_file_test(agent_process_socket(agent), G_FILE_TEST_EXISTS));
}

/* SIGTERM the moment the socket exists: handled (exit 0), not the default
 * action that killed an agent which had not yet installed its handler. */
static void test_sigterm_right_after_listen(void)
{
    for (int i = 0; i < 20; i++) {
        AgentProcessOptions options = { .no_wait = TRUE };
        g_autoptr(GError) error = NULL;
        g_autoptr(AgentProcess) agent =
            agent_process_start_full("quiesced", quiesced_binary, &options, &error);
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

        g_assert_no_error(error);
        while (!g_file_test(agent_process_socket(agent), G_FILE_TEST_EXISTS)) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_usleep(100);
        }
        g_assert_true(agent_process_stop(agent, &error));
        g_assert_no_error(error);
    }
}

static void test_block_rpcs(void)
{
    /* guest-exec: qemu-ga has it, quiesced not; a name neither has is refused at start */
    const char *extra[] = { "--block-rpcs=guest-ping,guest-exec", NULL };
    g_autoptr(AgentProcess) agent = start(extra);
    g_autofree char *ping = ask(agent, "{\"execute\":\"guest-ping\"}", 1);
    g_autofree char *info = ask(agent, "{\"execute\":\"guest-info\"}", 1);

    g_assert_cmpstr(ping, ==,
                    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command guest-ping "
                    "has been disabled\"}}\n");
    g_assert_nonnull(strstr(info, "{\"enabled\": false, \"name\": \"guest-ping\""));
    g_assert_nonnull(strstr(info, "{\"enabled\": true, \"name\": \"guest-sync\""));
    stop(agent);
}

static void test_allow_rpcs(void)
{
    const char *extra[] = { "--allow-rpcs=guest-sync", NULL };
    g_autoptr(AgentProcess) agent = start(extra);
    g_autofree char *ping = ask(agent, "{\"execute\":\"guest-ping\"}", 1);
    g_autofree char *sync = ask(agent, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":3}}", 1);

    g_assert_cmpstr(ping, ==,
                    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command guest-ping "
                    "has been disabled\"}}\n");
    g_assert_cmpstr(sync, ==, "{\"return\": 3}\n");
    stop(agent);
}

/* qemu-ga keeps a vanished client's partial request and swallows the next
 * host's requests into it (docs/qga-reference.md §4); we start clean. */
static void test_partial_request_does_not_leak(void)
{
    g_autoptr(AgentProcess) agent = start(NULL);
    g_autofree char *partial = ask(agent, "{\"execute\":\"guest-ping\"", 0);
    g_autofree char *next = ask(agent, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":8}}", 1);

    g_assert_cmpstr(partial, ==, "");
    g_assert_cmpstr(next, ==, "{\"return\": 8}\n");
    stop(agent);
}

static void test_request_size_limit(void)
{
    const char *extra[] = { "--max-request-bytes=256", NULL };
    g_autoptr(AgentProcess) agent = start(extra);
    g_autoptr(GString) big = g_string_new("{\"execute\":\"guest-ping\",\"id\":\"");
    g_autofree char *reply = NULL;

    for (int i = 0; i < 400; i++) {
        g_string_append_c(big, 'x');
    }
    g_string_append(big, "\"}{\"execute\":\"guest-sync\",\"arguments\":{\"id\":4}}");
    reply = ask(agent, big->str, 2);
    g_assert_true(g_str_has_prefix(reply, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                          "\"JSON token size limit exceeded\"}}\n"));
    g_assert_true(g_str_has_suffix(reply, "{\"return\": 4}\n"));
    stop(agent);
}

static void test_nesting_limit(void)
{
    const char *extra[] = { "--max-depth=8", NULL };
    g_autoptr(AgentProcess) agent = start(extra);
    g_autofree char *reply =
        ask(agent, "{\"execute\":\"guest-ping\",\"id\":[[[[[[[[[[1]]]]]]]]]]}"
                   "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":6}}",
            2);

    g_assert_true(g_str_has_prefix(reply, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                          "\"JSON nesting depth limit exceeded\"}}\n"));
    g_assert_true(g_str_has_suffix(reply, "{\"return\": 6}\n"));
    stop(agent);
}

static void test_pipelined_burst(void)
{
    g_autoptr(AgentProcess) agent = start(NULL);
    g_autoptr(GString) burst = g_string_new(NULL);
    g_autoptr(GString) expected = g_string_new(NULL);
    g_autofree char *reply = NULL;

    for (int i = 0; i < 2000; i++) {
        g_string_append_printf(burst, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":%d}}", i);
        g_string_append_printf(expected, "{\"return\": %d}\n", i);
    }
    reply = ask(agent, burst->str, 2000);
    g_assert_cmpstr(reply, ==, expected->str);
    stop(agent);
}

/* A bad channel is a command-line error (exit 2) found before the agent
 * touches anything: its state directory is not even created. */
static void test_bad_command_line(void)
{
    g_autofree char *dir = g_dir_make_tmp("quiesce-bad-cmdline-XXXXXX", NULL);
    g_autofree char *state = g_build_filename(dir, "state", NULL);
    g_autofree char *state_arg = g_strdup_printf("--state-dir=%s", state);
    const char *argv_bad_kind[] = { quiesced_binary, "--channel=carrier-pigeon:x", state_arg,
                                    NULL };
    const char *argv_no_addr[] = { quiesced_binary, "--channel=unix-listen", state_arg, NULL };
    const char *const *cases[] = { argv_bad_kind, argv_no_addr };

    g_assert_nonnull(dir);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *err = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        g_assert_true(g_spawn_sync(NULL, (char **)cases[i], NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                   NULL, NULL, &err, &status, &error));
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 2);
        g_assert_nonnull(strstr(err, i == 0 ? "unknown channel kind" : "needs an address"));
        g_assert_false(g_file_test(state, G_FILE_TEST_EXISTS));
    }
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* A second agent with the same state directory (a unit started twice, an
 * admin's manual start) must refuse to run: it would thaw what the first
 * froze and take over its socket. */
static void test_second_agent_refused(void)
{
    g_autoptr(AgentProcess) first = start(NULL);
    g_autofree char *state = g_build_filename(agent_process_dir(first), "state", NULL);
    g_autofree char *channel = g_strdup_printf("--channel=unix-listen:%s",
                                               agent_process_socket(first));
    g_autofree char *state_arg = g_strdup_printf("--state-dir=%s", state);
    g_autofree char *confine = g_strdup_printf("--confine=%s", agent_process_dir(first));
    const char *argv[] = { "timeout", "10", quiesced_binary, channel, state_arg, confine, NULL };
    g_autofree char *err = NULL;
    g_autofree char *ping = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               &err, &status, &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_nonnull(strstr(err, "another quiesced is running with this state directory"));
    ping = ask(first, "{\"execute\":\"guest-ping\"}", 1);
    g_assert_cmpstr(ping, ==, "{\"return\": {}}\n");
    stop(first);
}

/* A running-state command that never answers (a stuck D-Bus) and leaves a
 * child holding its stdout: the check still answers, after the 5 s limit,
 * with the state unknown, and nothing of the command is left running. */
static void test_running_state_command_hangs(void)
{
    /* 61.25: a duration no other process on the machine sleeps for */
    AgentProcessOptions options = {
        .config = "[freeze]\nrunning-state-command=sh -c 'sleep 61.25 & sleep 61.25'\n",
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(AgentProcess) agent =
        agent_process_start_full("quiesced", quiesced_binary, &options, &error);
    const char *pgrep[] = { "pgrep", "-f", "sleep 61.25", NULL };
    const char *request = "{\"execute\":\"guest-snapshot-check\"}";
    g_autoptr(GByteArray) reply = NULL;
    const char *check;
    gint64 start;
    gint64 took;
    int status = 0;

    g_assert_no_error(error);
    start = g_get_monotonic_time();
    reply = agent_process_exchange_lines(agent_process_socket(agent), (const guint8 *)request,
                                         strlen(request), 1, 20000, &error);
    took = g_get_monotonic_time() - start;
    g_assert_no_error(error);
    g_byte_array_append(reply, (const guint8 *)"", 1);
    check = (const char *)reply->data;
    g_assert_nonnull(strstr(check, "\"code\": \"not-running\""));
    g_assert_nonnull(strstr(check, "the system is unknown"));
    g_assert_cmpint(took, >=, 4 * G_USEC_PER_SEC);
    g_assert_cmpint(took, <, 15 * G_USEC_PER_SEC);
    /* Killed with their group at the deadline; SIGKILL is delivered at
     * once but the processes may take a moment to go, so allow 3 s. */
    for (int tries = 0; tries < 30; tries++) {
        g_assert_true(g_spawn_sync(NULL, (char **)pgrep, NULL,
                                   G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                   NULL, NULL, &status, &error));
        g_assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 1) {
            break;
        }
        g_usleep(100000);
    }
    g_assert_cmpint(WEXITSTATUS(status), ==, 1); /* none left */
    stop(agent);
}

/* Numeric options out of range: a clear error naming the option and the
 * range, exit status 2 (a negative --max-request-bytes used to become a huge
 * limit, 0 the default, and --freeze-window=0 an unbounded freeze). */
static void test_bad_numbers(void)
{
    const struct {
        const char *arg;
        const char *message;
    } cases[] = {
        { "--max-request-bytes=-5",
          "--max-request-bytes: must be a whole number from 64 to 67108864, not '-5'" },
        { "--max-request-bytes=0", "--max-request-bytes: must be a whole number" },
        { "--max-depth=0", "--max-depth: must be a whole number from 2 to 1024, not '0'" },
        { "--max-depth=-1", "--max-depth: must be a whole number" },
        { "--freeze-window=0", "--freeze-window: must be a whole number from 1 to 600, not '0'" },
        { "--freeze-window=-1", "--freeze-window: must be a whole number" },
        { "--freeze-window=601", "--freeze-window: must be a whole number" },
        { "--freeze-window=soon", "--freeze-window: must be a whole number" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *argv[] = { quiesced_binary, "--channel=unix-listen:/nonexistent/q.sock",
                               "--confine=/nonexistent", "--state-dir=/nonexistent",
                               "--config=/dev/null", cases[i].arg, NULL };
        g_autofree char *err = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                   NULL, NULL, &err, &status, &error));
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 2);
        g_assert_nonnull(strstr(err, cases[i].message));
    }
}

static void test_help_gives_ranges(void)
{
    const char *argv[] = { quiesced_binary, "--help", NULL };
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               &out, NULL, &status, &error));
    g_assert_nonnull(strstr(out, "seconds frozen (1 to 600, default 60)"));
    g_assert_nonnull(strstr(out, "(64 to 67108864, default 1 MiB)"));
}

/* The exchange docs/protocol.md shows for a request containing fragment:
 * the "> " line's request and the "< " line after it (with its newline). */
static void documented_exchange(const char *fragment, char **request, char **reply)
{
    g_autofree char *path =
        g_build_filename(g_getenv("QUIESCE_SOURCE_DIR"), "docs", "protocol.md", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (gsize i = 0; lines[i] && lines[i + 1]; i++) {
        if (g_str_has_prefix(lines[i], "> ") && strstr(lines[i], fragment) &&
            g_str_has_prefix(lines[i + 1], "< ")) {
            *request = g_strdup(lines[i] + 2);
            *reply = g_strdup_printf("%s\n", lines[i + 1] + 2);
            return;
        }
    }
    g_error("docs/protocol.md shows no exchange for %s", fragment);
}

/* What an unknown session id gets from abort is exactly what the docs say. */
static void test_abort_unknown_session_as_documented(void)
{
    g_autoptr(AgentProcess) agent = start(NULL);
    g_autofree char *request = NULL;
    g_autofree char *documented = NULL;
    g_autofree char *reply = NULL;

    documented_exchange("\"guest-snapshot-abort\",\"arguments\":{\"session\":\"0f5e2c4a-",
                        &request, &documented);
    reply = ask(agent, request, 1);
    g_assert_cmpstr(reply, ==, documented);
    stop(agent);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    quiesced_binary = g_getenv("QUIESCED");
    g_assert_nonnull(quiesced_binary);
    g_test_add_func("/daemon/socket-mode", test_socket_mode);
    g_test_add_func("/daemon/sigterm-right-after-listen", test_sigterm_right_after_listen);
    g_test_add_func("/daemon/block-rpcs", test_block_rpcs);
    g_test_add_func("/daemon/allow-rpcs", test_allow_rpcs);
    g_test_add_func("/daemon/partial-request-does-not-leak", test_partial_request_does_not_leak);
    g_test_add_func("/daemon/request-size-limit", test_request_size_limit);
    g_test_add_func("/daemon/nesting-limit", test_nesting_limit);
    g_test_add_func("/daemon/pipelined-burst", test_pipelined_burst);
    g_test_add_func("/daemon/bad-command-line", test_bad_command_line);
    g_test_add_func("/daemon/bad-numbers", test_bad_numbers);
    g_test_add_func("/daemon/second-agent-refused", test_second_agent_refused);
    g_test_add_func("/daemon/running-state-command-hangs", test_running_state_command_hangs);
    g_test_add_func("/daemon/help-gives-ranges", test_help_gives_ranges);
    g_test_add_func("/daemon/abort-unknown-session-as-documented",
                    test_abort_unknown_session_as_documented);
    return g_test_run();
}
