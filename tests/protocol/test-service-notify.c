/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-service-notify.c — the real daemon under a fake systemd: the
 * notification socket it names in NOTIFY_SOCKET (Type=notify). READY=1
 * comes only once the channel listens; WATCHDOG=1 comes from the main loop
 * at half of WATCHDOG_USEC, raised first to what the configuration's time
 * limits need; STOPPING=1 at SIGTERM. Nothing is frozen here
 * (integration/service-status has the STATUS= lines of a freeze).
 */
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/support/agent-process.h"
#include "tests/support/fake-notify.h"
#include "tests/support/test-run.h"

/* writers 3 × 1 s + window 1 s + a writer's 1 s: the longest busy loop. */
#define SHORT_LIMITS "[freeze]\nrunning-state-command=\nwindow=1\n" \
                     "[writers]\ntimeout=1\ntotal-timeout=1\ncompat-directories=\n"
#define SHORT_LIMITS_BUSY_USEC 5000000

static gboolean socket_accepts(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    gboolean ok;

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(fd);
    return ok;
}

static void test_ready_watchdog_stopping(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("quiesce-notify-XXXXXX", &error);
    g_autoptr(FakeNotify) notify = fake_notify_new(dir, &error);
    /* Asked for 2 s: shorter than a prepare may take with these limits. */
    g_auto(GStrv) env = fake_notify_environ(notify, 2000000);
    g_autofree char *config = g_strdup_printf(SHORT_LIMITS "directories=%s/none\n", dir);
    AgentProcessOptions options = { .envp = (const char *const *)env, .config = config,
                                    .no_wait = TRUE };
    g_autoptr(AgentProcess) agent = NULL;
    g_autofree char *raised = NULL;
    g_autofree char *ready = NULL;
    g_autofree char *stopping = NULL;
    gint64 pings[4];
    int status = 0;

    g_assert_no_error(error);
    agent = agent_process_start_full("quiesced", g_getenv("QUIESCED"), &options, &error);
    g_assert_no_error(error);

    raised = fake_notify_wait_for(notify, "WATCHDOG_USEC=5000000", 5000, NULL);
    g_assert_nonnull(raised);
    ready = fake_notify_wait_for(notify, "READY=1", 5000, NULL);
    g_assert_nonnull(ready);
    g_assert_nonnull(strstr(ready, "STATUS=thawed"));
    /* READY=1 means the host can connect now. */
    g_assert_true(socket_accepts(agent_process_socket(agent)));

    /* The pings: half the (raised) interval apart, give or take. */
    for (guint i = 0; i < G_N_ELEMENTS(pings); i++) {
        g_autofree char *ping = fake_notify_wait_for(notify, "WATCHDOG=1", 5000, &pings[i]);
        g_assert_nonnull(ping);
    }
    for (guint i = 1; i < G_N_ELEMENTS(pings); i++) {
        gint64 gap = pings[i] - pings[i - 1];
        g_test_message("ping gap %" G_GINT64_FORMAT " ms", gap / 1000);
        g_assert_cmpint(gap, >=, SHORT_LIMITS_BUSY_USEC / 2 - 200000);
        g_assert_cmpint(gap, <=, SHORT_LIMITS_BUSY_USEC / 2 + 500000);
    }

    g_assert_true(agent_process_terminate(agent, &status, &error));
    stopping = fake_notify_wait_for(notify, "STOPPING=1", 5000, NULL);
    g_assert_nonnull(stopping);
    g_assert_cmpint(status, ==, 0);
    g_rmdir(dir);
}

/* No watchdog asked for, no pings; no NOTIFY_SOCKET, the agent runs the same. */
static void test_no_watchdog_no_pings(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("quiesce-notify-XXXXXX", &error);
    g_autoptr(FakeNotify) notify = fake_notify_new(dir, &error);
    g_auto(GStrv) env = fake_notify_environ(notify, 0);
    AgentProcessOptions options = { .envp = (const char *const *)env };
    g_autoptr(AgentProcess) agent = NULL;
    g_autoptr(AgentProcess) plain = NULL;
    g_autofree char *ready = NULL;
    g_autofree char *ping = NULL;

    agent = agent_process_start_full("quiesced", g_getenv("QUIESCED"), &options, &error);
    g_assert_no_error(error);
    ready = fake_notify_wait_for(notify, "READY=1", 5000, NULL);
    g_assert_nonnull(ready);
    ping = fake_notify_wait_for(notify, "WATCHDOG=1", 1500, NULL);
    g_assert_null(ping);
    g_assert_true(agent_process_stop(agent, &error));
    g_assert_no_error(error);

    g_unsetenv("NOTIFY_SOCKET");
    plain = agent_process_start("quiesced", g_getenv("QUIESCED"), NULL, &error);
    g_assert_no_error(error);
    g_assert_true(agent_process_stop(plain, &error));
    g_assert_no_error(error);
    g_rmdir(dir);
}

static const QuiesceTestFunc tests[] = {
    { "/service-notify/ready-watchdog-stopping", test_ready_watchdog_stopping },
    { "/service-notify/no-watchdog-no-pings", test_no_watchdog_no_pings },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_nonnull(g_getenv("QUIESCED"));
    for (gsize i = 0; i < G_N_ELEMENTS(tests); i++) {
        quiesce_test_add_func(tests[i].path, tests[i].func);
    }
    return quiesce_test_run();
}
