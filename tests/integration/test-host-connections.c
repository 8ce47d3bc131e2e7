/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-host-connections.c — a snapshot session belongs to the host
 * connection that prepared it, on loop images the agent really freezes:
 *
 *   prepare-after-hangup  the host hangs up right after sending ping and
 *                         prepare; the prepare still runs and freezes, and
 *                         its session ends after the host-lost grace (1 s
 *                         here), not the 30 s window
 *   bound-to-connection   another client coming and going does not end the
 *                         session and cannot prepare a second one (one
 *                         freeze state); the preparing client leaving does,
 *                         after the grace
 */
#include <string.h>
#include <unistd.h>

#include "tests/integration/engine-fixture.h"

#define GRACE_CONFIG "[freeze]\nrunning-state-command=\nwindow=30\nhost-lost-grace=1\n"

/* guest-snapshot-status on a fresh connection, after seconds. */
static char *status_after(Fixture *f, guint seconds)
{
    g_usleep(seconds * G_USEC_PER_SEC);
    return ask(f->agent, "{\"execute\":\"guest-snapshot-status\"}");
}

static void test_prepare_after_hangup(Fixture *f, gconstpointer data)
{
    int fd;
    GPid blocked;
    g_autofree char *status = NULL;

    f->agent = start_agent(f, NULL, GRACE_CONFIG, NULL);
    fd = agent_process_connect(agent_process_socket(f->agent));
    agent_process_send(fd, "{\"execute\":\"guest-ping\"}{\"execute\":\"guest-snapshot-prepare\"}");
    close(fd);
    /* The prepare ran: a write to xfs blocks, then finishes once the grace
     * has thawed it — long before the window would have. Nothing may ask
     * the agent meanwhile (a new connection counts as the host coming
     * back), so the freeze is seen from the filesystem: writes are tried
     * until one blocks (a loaded machine may take a while to freeze). */
    for (gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;;) {
        blocked = loopfs_start_write(f->xfs);
        if (!loopfs_wait_write(blocked, 200)) {
            break;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, until);
    }
    g_assert_true(loopfs_wait_write(blocked, 10000));
    status = status_after(f, 1);
    g_assert_nonnull(strstr(status, "\"state\": \"idle\""));
    g_assert_nonnull(strstr(status, "\"end\": \"host-lost\""));
    assert_all_writable(f);
}

static void test_bound_to_connection(Fixture *f, gconstpointer data)
{
    int host;
    g_autofree char *prepared = NULL;
    g_autofree char *other = NULL;
    g_autofree char *second = NULL;
    g_autofree char *status = NULL;
    g_autofree char *lost = NULL;
    GPid blocked;

    f->agent = start_agent(f, NULL, GRACE_CONFIG, NULL);
    host = agent_process_connect(agent_process_socket(f->agent));
    agent_process_send(host, "{\"execute\":\"guest-snapshot-prepare\"}");
    prepared = agent_process_read_line(host, 10000);
    g_assert_nonnull(prepared);
    g_assert_nonnull(strstr(prepared, "\"method\": \"child-snapshot\""));
    blocked = loopfs_start_write(f->ext4);
    g_assert_false(loopfs_wait_write(blocked, 300));
    other = ask(f->agent, "{\"execute\":\"guest-ping\"}");
    g_assert_cmpstr(other, ==, "{\"return\": {}}\n");
    second = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_null(strstr(second, "\"method\": \"child-snapshot\""));
    status = status_after(f, 2);
    g_assert_nonnull(strstr(status, "\"state\": \"active\""));
    close(host);
    g_assert_true(loopfs_wait_write(blocked, 10000));
    lost = status_after(f, 1);
    g_assert_nonnull(strstr(lost, "\"end\": \"host-lost\""));
    assert_all_writable(f);
}

int main(int argc, char **argv)
{
    int missing = engine_fixture_init(&argc, &argv);

    if (missing) {
        return missing;
    }
    ENGINE_FIXTURE_ADD("/host-connections/prepare-after-hangup", test_prepare_after_hangup);
    ENGINE_FIXTURE_ADD("/host-connections/bound-to-connection", test_bound_to_connection);
    return quiesce_test_run();
}
