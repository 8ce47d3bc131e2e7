/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-engine-session.c — what ends a snapshot session besides the host's
 * post, with the real quiesced on the loop images of engine-fixture.h: a
 * filesystem someone else thawed inside the window, a freeze whose rollback
 * failed, a window that writers used up, a new session after an expired
 * one, and a host that disconnects after prepare (gone for good, or back in
 * time).
 */
#include "tests/integration/engine-fixture.h"
#include "tests/support/test-run.h"

/* What another tool does behind the agent's back: an admin's fsfreeze -u
 * (loopfs_fsfreeze() checks the mount is one of this test's own). */
static void foreign_thaw(const LoopFs *fs)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(loopfs_fsfreeze(fs, FALSE, NULL, NULL, &error));
    g_assert_no_error(error);
}

/* A filesystem thawed inside the window may have changed after the freeze
 * point: post must fail. qemu-ga's thaw only counts it out. */
static void test_foreign_thaw(Fixture *f, gconstpointer data)
{
    g_autofree char *prepare = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post = NULL;
    g_autofree char *status = NULL;
    g_autofree char *freeze = NULL;
    g_autofree char *thaw = NULL;

    f->agent = start_agent(f, NULL, NULL, NULL);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    post_request = post_request_for(prepare);
    foreign_thaw(f->xfs);
    post = ask(f->agent, post_request);
    g_assert_nonnull(strstr(post, "\"error\""));
    g_assert_nonnull(strstr(post, "the snapshot is not consistent"));
    g_assert_nonnull(strstr(post, f->xfs->mountpoint));
    status = ask(f->agent, "{\"execute\":\"guest-fsfreeze-status\"}");
    g_assert_cmpstr(status, ==, "{\"return\": \"thawed\"}\n");
    assert_all_writable(f);

    freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    foreign_thaw(f->btrfs);
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 2}\n");
    assert_all_writable(f);
}

/* The mountpoint the agent freezes first (0) or last (2), from its check. */
static const LoopFs *freeze_position(Fixture *f, guint position)
{
    g_autoptr(AgentProcess) agent = start_agent(f, NULL, NULL, NULL);
    g_autofree char *check = ask(agent, "{\"execute\":\"guest-snapshot-check\"}");
    const char *order = strstr(check, "\"freeze-order\": [");
    const LoopFs *best = NULL;
    const char *best_at = NULL;

    g_assert_nonnull(order);
    for (int i = 0; i < 3; i++) {
        g_autofree char *quoted = g_strdup_printf("\"%s\"", all_fs(f, i)->mountpoint);
        const char *at = strstr(order, quoted);
        g_assert_nonnull(at);
        if (!best_at || (position == 0 ? at < best_at : at > best_at)) {
            best = all_fs(f, i);
            best_at = at;
        }
    }
    return best;
}

/* A freeze fails and so does thawing what it froze: the host hears
 * saved-state with the failed rollback and what stays frozen. */
static void test_rollback_failure_reported(Fixture *f, gconstpointer data)
{
    const LoopFs *first = freeze_position(f, 0);
    const LoopFs *last = freeze_position(f, 2);
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s", engine_fixture_seam);
    g_autofree char *fail_freeze =
        g_strdup_printf("QUIESCE_SEAM_FAIL_FREEZE_PATH=%s", last->mountpoint);
    g_autofree char *fail_thaw =
        g_strdup_printf("QUIESCE_SEAM_FAIL_THAW_PATH=%s", first->mountpoint);
    const char *envp[] = { preload, fail_freeze, fail_thaw, "QUIESCE_SEAM_FAIL_FREEZE_ERRNO=EIO",
                           "QUIESCE_SEAM_FAIL_THAW_ERRNO=EIO",
                           "ASAN_OPTIONS=verify_asan_link_order=0", NULL };
    g_autofree char *prepare = NULL;
    g_autofree char *status = NULL;
    g_autofree char *frozen = NULL;

    f->agent = start_agent(f, NULL, NULL, envp);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"saved-state\""));
    g_assert_nonnull(strstr(prepare, "\"code\": \"rollback-failed\""));
    frozen = g_strdup_printf("\"frozen\": [\"%s\"]", first->mountpoint);
    g_assert_nonnull(strstr(prepare, frozen));
    status = ask(f->agent, "{\"execute\":\"guest-fsfreeze-status\"}");
    g_assert_cmpstr(status, ==, "{\"return\": \"frozen\"}\n");
    /* The teardown kills the agent and thaws the first one. */
}

/* The window starts before the writers: a writer that takes 2 s of a 4 s
 * window leaves the filesystems 2 s, not 4. */
static void test_window_includes_writers(Fixture *f, gconstpointer data)
{
    g_autofree char *config = NULL;
    g_autofree char *prepare = NULL;
    g_autofree char *window = NULL;
    gint64 start;
    gint64 thawed_after;
    GPid blocked;

    config = writers_config(f, "[ \"$1\" = freeze ] && sleep 2; exit 0", 10);
    /* writers_config's text starts with its [freeze] group: add to it. */
    g_assert_true(g_str_has_prefix(config, "[freeze]\n"));
    window = g_strdup_printf("[freeze]\nwindow=4\n%s", config + strlen("[freeze]\n"));
    f->agent = start_agent(f, NULL, window, NULL);
    start = g_get_monotonic_time();
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    blocked = loopfs_start_write(f->ext4);
    g_assert_true(loopfs_wait_write(blocked, 8000));
    thawed_after = g_get_monotonic_time() - start;
    g_assert_cmpint(thawed_after, >=, 3800000);
    /* Armed for the whole window after the writers, it would be 6 s. */
    g_assert_cmpint(thawed_after, <, 5200000);
}

/* An expired session's news is for the host of that session: once a new
 * session starts, a later thaw must not fail with it. */
static void test_new_session_clears_expired(Fixture *f, gconstpointer data)
{
    g_autofree char *first = NULL;
    g_autofree char *second = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post = NULL;
    g_autofree char *thaw = NULL;
    GPid blocked;

    /* The second session must prepare and post well inside the window. */
    f->agent = start_agent(f, NULL, "[freeze]\nrunning-state-command=\nwindow=3\n", NULL);
    first = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(first, "\"method\": \"child-snapshot\""));
    blocked = loopfs_start_write(f->ext4);
    g_assert_true(loopfs_wait_write(blocked, 8000)); /* the watchdog thawed */
    second = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(second, "\"method\": \"child-snapshot\""));
    post_request = post_request_for(second);
    post = ask(f->agent, post_request);
    g_assert_nonnull(strstr(post, "\"thawed\": 3"));
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 0}\n");
}

/* Each ask() is its own connection, closed after the reply: the host that
 * prepared is gone once prepare returns. With a 1 s grace and a 30 s
 * window, the agent thaws about 1 s later, and a late post fails. */
static void test_host_lost_thaws(Fixture *f, gconstpointer data)
{
    g_autofree char *prepare = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post = NULL;
    g_autofree char *status = NULL;
    gint64 start;
    GPid blocked;

    f->agent = start_agent(f, NULL,
                           "[freeze]\nrunning-state-command=\nwindow=30\nhost-lost-grace=1\n",
                           NULL);
    start = g_get_monotonic_time();
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    post_request = post_request_for(prepare);
    blocked = loopfs_start_write(f->xfs);
    g_assert_false(loopfs_wait_write(blocked, 300));
    g_assert_true(loopfs_wait_write(blocked, 10000));
    g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
    assert_all_writable(f);
    status = ask(f->agent, "{\"execute\":\"guest-snapshot-status\"}");
    g_assert_nonnull(strstr(status, "\"end\": \"host-lost\""));
    post = ask(f->agent, post_request);
    g_assert_nonnull(strstr(post, "disconnected and did not come back within 1 s"));
}

/* A host that connects per command (Proxmox does) is back before the grace
 * ends: the session survives and post succeeds. */
static void test_host_back_in_time(Fixture *f, gconstpointer data)
{
    g_autofree char *prepare = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *status = NULL;
    g_autofree char *post = NULL;

    f->agent = start_agent(f, NULL,
                           "[freeze]\nrunning-state-command=\nwindow=30\nhost-lost-grace=5\n",
                           NULL);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    post_request = post_request_for(prepare);
    g_usleep(1000000);
    status = ask(f->agent, "{\"execute\":\"guest-snapshot-status\"}");
    g_assert_nonnull(strstr(status, "\"state\": \"active\""));
    /* Gone again after status, back again for post: well inside 5 s. */
    g_usleep(1000000);
    post = ask(f->agent, post_request);
    g_assert_nonnull(strstr(post, "\"thawed\": 3"));
    assert_all_writable(f);
}

int main(int argc, char **argv)
{
    int skip = engine_fixture_init(&argc, &argv);

    if (skip) {
        return skip;
    }
    ENGINE_FIXTURE_ADD("/engine/session/foreign-thaw", test_foreign_thaw);
    ENGINE_FIXTURE_ADD("/engine/session/rollback-failure-reported", test_rollback_failure_reported);
    ENGINE_FIXTURE_ADD("/engine/session/window-includes-writers", test_window_includes_writers);
    ENGINE_FIXTURE_ADD("/engine/session/new-session-clears-expired", test_new_session_clears_expired);
    ENGINE_FIXTURE_ADD("/engine/session/host-lost-thaws", test_host_lost_thaws);
    ENGINE_FIXTURE_ADD("/engine/session/host-back-in-time", test_host_back_in_time);
    return quiesce_test_run();
}
