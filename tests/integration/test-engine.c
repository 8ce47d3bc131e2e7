/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-engine.c — the real quiesced, confined to loop-mounted images this
 * test creates under /var/tmp, driven over its unix socket: freeze/thaw of
 * ext4 + xfs + btrfs (with a subvolume and a bind mount, frozen once), the
 * snapshot session, an ineligible set answered saved-state with nothing
 * frozen, a failure injected mid-set (LD_PRELOAD seam) rolled back, a
 * SIGKILLed agent's successor thawing, the watchdog, SIGTERM while frozen,
 * and writers around both kinds of freeze. What else ends a session is in
 * test-engine-session.c; the shared set-up in engine-fixture.h.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>

#include "tests/integration/engine-fixture.h"
#include "tests/support/test-run.h"

static void test_fsfreeze_cycle(Fixture *f, gconstpointer data)
{
    g_autofree char *freeze = NULL;
    g_autofree char *status = NULL;
    g_autofree char *fsinfo = NULL;
    g_autofree char *thaw = NULL;
    GPid blocked;

    f->agent = start_agent(f, NULL, NULL, NULL);
    freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    /* ext4 + its bind mount, xfs, btrfs + its subvolume: three superblocks. */
    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    status = ask(f->agent, "{\"execute\":\"guest-fsfreeze-status\"}");
    g_assert_cmpstr(status, ==, "{\"return\": \"frozen\"}\n");
    blocked = loopfs_start_write(f->ext4);
    g_assert_false(loopfs_wait_write(blocked, 400));
    fsinfo = ask(f->agent, "{\"execute\":\"guest-get-fsinfo\"}");
    g_assert_cmpstr(fsinfo, ==,
                    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
                    "guest-get-fsinfo has been disabled: the agent is in frozen state\"}}\n");
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 3}\n");
    g_assert_true(loopfs_wait_write(blocked, 5000));
    assert_all_writable(f);
    g_free(thaw);
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 0}\n");
}

static void test_freeze_list_and_bad_path(Fixture *f, gconstpointer data)
{
    g_autofree char *request = g_strdup_printf(
        "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":{\"mountpoints\":[\"%s\"]}}",
        f->bind_mount);
    g_autofree char *bad = g_strdup_printf(
        "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":{\"mountpoints\":[\"%s/nope\"]}}",
        f->dir);
    g_autofree char *one = NULL;
    g_autofree char *err = NULL;
    g_autofree char *thaw = NULL;
    GPid blocked;

    f->agent = start_agent(f, NULL, NULL, NULL);
    err = ask(f->agent, bad);
    g_assert_true(g_str_has_prefix(err, "{\"error\": {\"class\": \"GenericError\", \"desc\": \""));
    g_assert_nonnull(strstr(err, "is not a mounted filesystem that can be frozen"));
    assert_all_writable(f);
    /* A bind mount's path names its superblock (qemu-ga matches nothing). */
    one = ask(f->agent, request);
    g_assert_cmpstr(one, ==, "{\"return\": 1}\n");
    blocked = loopfs_start_write(f->ext4);
    g_assert_false(loopfs_wait_write(blocked, 300));
    g_assert_true(write_completes(f->xfs)); /* only the one asked for is frozen */
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 1}\n");
    g_assert_true(loopfs_wait_write(blocked, 5000));
    assert_all_writable(f);
}

static void test_prepare_post(Fixture *f, gconstpointer data)
{
    g_autofree char *prepare = NULL;
    g_autofree char *session = NULL;
    g_autofree char *wrong = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post = NULL;
    GPid blocked;

    f->agent = start_agent(f, NULL, NULL, NULL);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    session = reply_string(prepare, "session");
    g_assert_cmpuint(strlen(session), ==, 36);
    blocked = loopfs_start_write(f->xfs);
    g_assert_false(loopfs_wait_write(blocked, 300));
    wrong = ask(f->agent, "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":"
                          "\"0f5e2c4a-7d1b-4c8e-9a63-5b2d8e1f4c70\"}}");
    g_assert_nonnull(strstr(wrong, "no snapshot session 0f5e2c4a-7d1b-4c8e-9a63-5b2d8e1f4c70 is"));
    post_request = post_request_for(prepare);
    post = ask(f->agent, post_request);
    g_assert_nonnull(strstr(post, "\"thawed\": 3"));
    g_assert_true(loopfs_wait_write(blocked, 5000));
    assert_all_writable(f);
}

static void assert_saved_state_nothing_frozen(Fixture *f, const char *code, const char *what)
{
    g_autofree char *prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_autofree char *status = ask(f->agent, "{\"execute\":\"guest-fsfreeze-status\"}");
    g_autofree char *code_field = g_strdup_printf("\"code\": \"%s\"", code);

    g_assert_nonnull(strstr(prepare, "\"method\": \"saved-state\""));
    g_assert_nonnull(strstr(prepare, code_field));
    g_assert_nonnull(strstr(prepare, what));
    g_assert_nonnull(strstr(prepare, "\"frozen\": []"));
    g_assert_cmpstr(status, ==, "{\"return\": \"thawed\"}\n");
    assert_all_writable(f);
}

/* Hyper-V's rule: loop images are not basic disks. */
static void test_strict_saved_state(Fixture *f, gconstpointer data)
{
    f->agent = start_agent(f, NULL, "[freeze]\nrunning-state-command=\n[eligibility]\nstrict=true\n",
                           NULL);
    assert_saved_state_nothing_frozen(f, "not-basic-disk", f->xfs->mountpoint);
}

static void test_not_running_saved_state(Fixture *f, gconstpointer data)
{
    f->agent = start_agent(f, NULL, "[freeze]\nrunning-state-command=echo starting\n", NULL);
    assert_saved_state_nothing_frozen(f, "not-running", "starting");
}

/* A writable vfat cannot be frozen: saved-state, unless excluded. */
static void test_unsupported_fs_saved_state(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *filesystems = NULL;
    LoopFs *vfat;

    g_file_get_contents("/proc/filesystems", &filesystems, NULL, NULL);
    if (!filesystems || !strstr(filesystems, "vfat")) {
        loopfs_run((const char *[]){ "modprobe", "vfat", NULL }, NULL);
        g_free(filesystems);
        g_file_get_contents("/proc/filesystems", &filesystems, NULL, NULL);
    }
    if (!filesystems || !strstr(filesystems, "vfat")) {
        /* Not required in CI: the machines CI runs on boot kernels without
         * vfat (no module tree). vm/ineligible covers a written vfat disk in
         * the guest, whose kernel has it. */
        quiesce_test_skip("vfat: this kernel cannot mount it (vm/ineligible covers it)");
        return;
    }
    vfat = loopfs_create(f->dir, f->dir, "vfat", "vfat", 64, &error);
    g_assert_no_error(error);
    if (!vfat) {
        return;
    }
    loopfs_guard_add(f->guard, vfat);
    f->agent = start_agent(f, NULL, NULL, NULL);
    assert_saved_state_nothing_frozen(f, "unsupported-filesystem", vfat->mountpoint);
}

static void test_failure_mid_set_rolls_back(Fixture *f, gconstpointer data)
{
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s", engine_fixture_seam);
    g_autofree char *fail = g_strdup_printf("QUIESCE_SEAM_FAIL_FREEZE_PATH=%s", f->xfs->mountpoint);
    const char *envp[] = { preload, fail, "QUIESCE_SEAM_FAIL_FREEZE_ERRNO=EIO",
                           /* the seam is not instrumented; ASan builds must accept it */
                           "ASAN_OPTIONS=verify_asan_link_order=0", NULL };
    g_autofree char *prepare = NULL;
    g_autofree char *freeze = NULL;

    f->agent = start_agent(f, NULL, NULL, envp);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"saved-state\""));
    g_assert_nonnull(strstr(prepare, "\"code\": \"freeze-failed\""));
    g_assert_nonnull(strstr(prepare, "Input/output error"));
    assert_all_writable(f);
    freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_assert_nonnull(strstr(freeze, "failed to freeze"));
    assert_all_writable(f);
}

static void test_sigkill_successor_thaws(Fixture *f, gconstpointer data)
{
    g_autofree char *state = g_build_filename(f->dir, "state", NULL);
    g_autofree char *freeze = NULL;
    g_autofree char *thaw = NULL;
    g_autofree char *again = NULL;
    g_autoptr(AgentProcess) successor = NULL;
    GPid blocked;

    f->agent = start_agent(f, state, NULL, NULL);
    freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    kill(agent_process_pid(f->agent), SIGKILL);
    blocked = loopfs_start_write(f->btrfs);
    g_assert_false(loopfs_wait_write(blocked, 300));
    successor = start_agent(f, state, NULL, NULL);
    g_assert_true(loopfs_wait_write(blocked, 5000));
    assert_all_writable(f);
    thaw = ask(successor, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_nonnull(strstr(thaw, "agent restarted while frozen"));
    again = ask(successor, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(again, ==, "{\"return\": 0}\n");
}

static void test_watchdog_thaws_at_deadline(Fixture *f, gconstpointer data)
{
    g_autofree char *prepare = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post = NULL;
    gint64 start;
    GPid blocked;

    f->agent = start_agent(f, NULL, "[freeze]\nrunning-state-command=\nwindow=2\n", NULL);
    start = g_get_monotonic_time();
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    blocked = loopfs_start_write(f->ext4);
    g_assert_true(loopfs_wait_write(blocked, 6000));
    /* Not before the deadline: the window is 2 s. */
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 1900000);
    post_request = post_request_for(prepare);
    post = ask(f->agent, post_request);
    g_assert_nonnull(strstr(post, "the freeze window of 2 s expired"));
    assert_all_writable(f);
}

static void test_sigterm_thaws(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *freeze = NULL;
    GPid blocked;

    f->agent = start_agent(f, NULL, NULL, NULL);
    freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    blocked = loopfs_start_write(f->xfs);
    g_assert_false(loopfs_wait_write(blocked, 300));
    g_assert_true(agent_process_stop(f->agent, &error));
    g_assert_no_error(error);
    g_assert_true(loopfs_wait_write(blocked, 5000));
    assert_all_writable(f);
}

static void test_writers_around_freeze(Fixture *f, gconstpointer data)
{
    g_autofree char *body = g_strdup_printf(
        "echo \"$1 $QUIESCE_SESSION_ID\" >> %s/writer.log\n"
        "case $1 in freeze|thaw) echo $1 > %s/by-writer-$1 && sync -f %s/by-writer-$1;; esac",
        f->dir, f->ext4->mountpoint, f->ext4->mountpoint);
    g_autofree char *config = writers_config(f, body, 5);
    g_autofree char *log_path = g_build_filename(f->dir, "writer.log", NULL);
    g_autofree char *prepare = NULL;
    g_autofree char *session = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post = NULL;
    g_autofree char *log = NULL;
    g_autofree char *expected = NULL;

    f->agent = start_agent(f, NULL, config, NULL);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    session = reply_string(prepare, "session");
    post_request = post_request_for(prepare);
    post = ask(f->agent, post_request);
    g_assert_nonnull(strstr(post, "\"thawed\": 3"));
    g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
    expected = g_strdup_printf("freeze %s\nthaw %s\n", session, session);
    g_assert_cmpstr(log, ==, expected);
    assert_all_writable(f);
}

/* qemu-ga's fsfreeze hook, done by the same writers: guest-fsfreeze-freeze
 * runs them before the filesystems, guest-fsfreeze-thaw after. */
static void test_writers_around_qga_freeze(Fixture *f, gconstpointer data)
{
    g_autofree char *body = g_strdup_printf(
        "echo \"$1\" >> %s/writer.log\n"
        "case $1 in freeze|thaw) echo $1 > %s/by-writer-$1 && sync -f %s/by-writer-$1;; esac",
        f->dir, f->xfs->mountpoint, f->xfs->mountpoint);
    g_autofree char *config = writers_config(f, body, 5);
    g_autofree char *log_path = g_build_filename(f->dir, "writer.log", NULL);
    g_autofree char *freeze = NULL;
    g_autofree char *thaw = NULL;
    g_autofree char *log = NULL;

    f->agent = start_agent(f, NULL, config, NULL);
    freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 3}\n");
    g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
    g_assert_cmpstr(log, ==, "freeze\nthaw\n");
    assert_all_writable(f);
}

static void test_hung_writer_saved_state(Fixture *f, gconstpointer data)
{
    g_autofree char *body = g_strdup_printf("[ \"$1\" = freeze ] && sleep 600\n"
                                            "echo $1 >> %s/writer.log", f->dir);
    g_autofree char *config = writers_config(f, body, 1);
    g_autofree char *log_path = g_build_filename(f->dir, "writer.log", NULL);
    g_autofree char *prepare = NULL;
    g_autofree char *log = NULL;
    gint64 start = g_get_monotonic_time();

    f->agent = start_agent(f, NULL, config, NULL);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    g_assert_nonnull(strstr(prepare, "\"method\": \"saved-state\""));
    g_assert_nonnull(strstr(prepare, "\"code\": \"writer-failed\""));
    g_assert_nonnull(strstr(prepare, "10-app"));
    g_assert_nonnull(strstr(prepare, "\"frozen\": []"));
    assert_all_writable(f);
    /* The hung writer was killed; the one that timed out gets no freeze-fail
     * (it never froze), so nothing ran after it. */
    g_assert_false(g_file_get_contents(log_path, &log, NULL, NULL) && strstr(log, "thaw"));
}

static void test_untrusted_writer_saved_state(Fixture *f, gconstpointer data)
{
    g_autofree char *config = writers_config(f, "exit 0", 5);
    g_autofree char *script = g_build_filename(f->dir, "writers.d", "10-app", NULL);

    g_chmod(script, 0777);
    f->agent = start_agent(f, NULL, config, NULL);
    assert_saved_state_nothing_frozen(f, "untrusted-writer", "10-app");
}

int main(int argc, char **argv)
{
    int skip = engine_fixture_init(&argc, &argv);

    if (skip) {
        return skip;
    }
    ENGINE_FIXTURE_ADD("/engine/fsfreeze-cycle", test_fsfreeze_cycle);
    ENGINE_FIXTURE_ADD("/engine/freeze-list-and-bad-path", test_freeze_list_and_bad_path);
    ENGINE_FIXTURE_ADD("/engine/prepare-post", test_prepare_post);
    ENGINE_FIXTURE_ADD("/engine/strict-saved-state", test_strict_saved_state);
    ENGINE_FIXTURE_ADD("/engine/not-running-saved-state", test_not_running_saved_state);
    ENGINE_FIXTURE_ADD("/engine/unsupported-fs-saved-state", test_unsupported_fs_saved_state);
    ENGINE_FIXTURE_ADD("/engine/failure-mid-set-rolls-back", test_failure_mid_set_rolls_back);
    ENGINE_FIXTURE_ADD("/engine/sigkill-successor-thaws", test_sigkill_successor_thaws);
    ENGINE_FIXTURE_ADD("/engine/watchdog-thaws-at-deadline", test_watchdog_thaws_at_deadline);
    ENGINE_FIXTURE_ADD("/engine/sigterm-thaws", test_sigterm_thaws);
    ENGINE_FIXTURE_ADD("/engine/writers-around-freeze", test_writers_around_freeze);
    ENGINE_FIXTURE_ADD("/engine/writers-around-qga-freeze", test_writers_around_qga_freeze);
    ENGINE_FIXTURE_ADD("/engine/hung-writer-saved-state", test_hung_writer_saved_state);
    ENGINE_FIXTURE_ADD("/engine/untrusted-writer-saved-state", test_untrusted_writer_saved_state);
    return quiesce_test_run();
}
