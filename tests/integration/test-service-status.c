/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-service-status.c — the STATUS= line systemd shows (Type=notify)
 * follows the guest's state: "frozen" when the real quiesced freezes a
 * loop-mounted ext4 image of this test, "thawed" after the thaw; and the
 * watchdog's pings keep coming while frozen, since a frozen agent waiting
 * for the host is not hung.
 *
 * Root only (skips otherwise). The agent is confined to the test's dir.
 */
#include "tests/support/agent-process.h"
#include "tests/support/fake-notify.h"
#include "tests/support/loopfs.h"
#include "tests/support/test-run.h"

/* window 10 s + writers 3 × 1 s + 1 s: the pings come every 7 s, so one
 * comes inside the window. */
#define LIMITS "[freeze]\nrunning-state-command=\nwindow=10\n" \
               "[writers]\ntimeout=1\ntotal-timeout=1\ncompat-directories=\nsocket=\n"

static char *ask(AgentProcess *agent, const char *request)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) got = agent_process_exchange_lines(
        agent_process_socket(agent), (const guint8 *)request, strlen(request), 1, 20000, &error);

    g_assert_no_error(error);
    return got ? g_strndup((const char *)got->data, got->len) : g_strdup("");
}

static void test_status_follows_freeze(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_strdup("/var/tmp/quiesce-notify-XXXXXX"); /* not tmpfs */
    g_autoptr(LoopFsGuard) guard = loopfs_guard_new();
    g_autoptr(FakeNotify) notify = NULL;
    g_auto(GStrv) env = NULL;
    g_autofree char *config = NULL;
    g_autofree char *state_dir = NULL;
    g_autoptr(AgentProcess) agent = NULL;
    LoopFs *ext4;
    gint64 frozen_at = 0;
    gint64 ping_at = 0;
    AgentProcessOptions options = { 0 };

    g_assert_nonnull(g_mkdtemp(dir));
    ext4 = loopfs_create(dir, dir, "ext4", "ext4", 64, &error);
    g_assert_no_error(error);
    loopfs_guard_add(guard, ext4);
    notify = fake_notify_new(dir, &error);
    g_assert_no_error(error);
    env = fake_notify_environ(notify, 1000000);
    config = g_strdup_printf(LIMITS "directories=%s/none\n", dir);
    state_dir = g_build_filename(dir, "state", NULL);
    options = (AgentProcessOptions){ .envp = (const char *const *)env, .config = config,
                                     .confine = dir, .state_dir = state_dir };
    agent = agent_process_start_full("quiesced", g_getenv("QUIESCED"), &options, &error);
    g_assert_no_error(error);
    g_free(fake_notify_wait_for(notify, "READY=1", 5000, NULL));

    {
        g_autofree char *reply = ask(agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
        g_autofree char *frozen = fake_notify_wait_for(notify, "STATUS=frozen", 5000, &frozen_at);
        g_autofree char *ping = NULL;

        g_assert_cmpstr(reply, ==, "{\"return\": 1}\n");
        g_assert_nonnull(frozen);
        g_assert_cmpint(loopfs_guard_probe_frozen(guard, ext4), ==, 1);
        ping = fake_notify_wait_for(notify, "WATCHDOG=1", 8000, &ping_at);
        g_assert_nonnull(ping);
        g_test_message("ping %" G_GINT64_FORMAT " ms after the freeze",
                       (ping_at - frozen_at) / 1000);
        g_assert_cmpint(loopfs_guard_probe_frozen(guard, ext4), ==, 1); /* pinged while frozen */
    }
    {
        g_autofree char *reply = ask(agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
        g_autofree char *thawed = fake_notify_wait_for(notify, "STATUS=thawed", 5000, NULL);

        g_assert_cmpstr(reply, ==, "{\"return\": 1}\n");
        g_assert_nonnull(thawed);
        g_assert_cmpint(loopfs_guard_probe_frozen(guard, ext4), ==, 0);
    }
    g_assert_true(agent_process_stop(agent, &error));
    g_clear_pointer(&agent, agent_process_free);
    loopfs_guard_thaw_all(guard);
    g_clear_pointer(&guard, loopfs_guard_free);
    loopfs_run((const char *[]){ "rm", "-rf", dir, NULL }, NULL);
}

int main(int argc, char **argv)
{
    const char *fstypes[] = { "ext4", NULL };
    g_autofree char *missing = loopfs_missing_requirement(fstypes);

    g_test_init(&argc, &argv, NULL);
    /* A failed check must still reach the end, which unmounts the image. */
    g_test_set_nonfatal_assertions();
    if (missing) {
        return quiesce_test_exit_missing(missing);
    }
    g_assert_nonnull(g_getenv("QUIESCED"));
    quiesce_test_add_func("/service-status/follows-freeze", test_status_follows_freeze);
    return quiesce_test_run();
}
