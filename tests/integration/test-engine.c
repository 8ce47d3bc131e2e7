/*
 * test-engine.c — the real quiesced, confined to loop-mounted images this
 * test creates under /var/tmp, driven over its unix socket: freeze/thaw of
 * ext4 + xfs + btrfs (with a subvolume and a bind mount, frozen once), the
 * snapshot session, an ineligible set answered saved-state with nothing
 * frozen, a failure injected mid-set (LD_PRELOAD seam) rolled back, a
 * SIGKILLed agent's successor thawing, the watchdog, and SIGTERM while frozen;
 * a filesystem someone else thawed inside the window, a failed rollback, a
 * window that writers used up, a new session after an expired one, and a
 * host that disconnects after prepare (gone for good, or back in time).
 *
 * Root only (skips otherwise). Every agent gets --confine=<test dir>, so no
 * request can reach a filesystem of the machine running the test.
 */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/loopfs.h"
#include "tests/protocol/agent-process.h"

#define SKIP_EXIT 77

typedef struct {
    char *dir;
    LoopFsGuard *guard;
    LoopFs *ext4; /* borrowed from guard */
    LoopFs *xfs;
    LoopFs *btrfs;
    char *subvol_mount;
    char *bind_mount;
    AgentProcess *agent;
} Fixture;

static const char *quiesced_binary;
static const char *seam_library;

static void run_or_fail(const char *const *argv)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(loopfs_run(argv, &error));
    g_assert_no_error(error);
}

/* Sparse images: mkfs.xfs wants at least 300 MB, mkfs.btrfs 114 MB. */
static guint fs_size_mib(const char *type)
{
    return g_str_equal(type, "xfs") ? 320 : g_str_equal(type, "btrfs") ? 128 : 64;
}

static LoopFs *add_fs(Fixture *f, const char *name, const char *type)
{
    g_autoptr(GError) error = NULL;
    LoopFs *fs = loopfs_create(f->dir, f->dir, name, type, fs_size_mib(type), &error);

    g_assert_no_error(error);
    loopfs_guard_add(f->guard, fs);
    return fs;
}

/* ext4, xfs, and btrfs with a subvolume mounted beside it; a bind mount of ext4. */
static void fixture_set_up(Fixture *f, gconstpointer data)
{
    g_autofree char *subvol = NULL;

    f->dir = g_dir_make_tmp("quiesce-engine-XXXXXX", NULL);
    /* /tmp may be tmpfs; loop images there are not host-visible. */
    g_autofree char *name = g_path_get_basename(f->dir);
    g_autofree char *base = g_build_filename("/var/tmp", name, NULL);
    g_rmdir(f->dir);
    g_free(f->dir);
    f->dir = g_steal_pointer(&base);
    g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
    f->guard = loopfs_guard_new();
    f->ext4 = add_fs(f, "ext4", "ext4");
    f->xfs = add_fs(f, "xfs", "xfs");
    f->btrfs = add_fs(f, "btrfs", "btrfs");
    subvol = g_build_filename(f->btrfs->mountpoint, "sub", NULL);
    run_or_fail((const char *[]){ "btrfs", "-q", "subvolume", "create", subvol, NULL });
    f->subvol_mount = g_build_filename(f->dir, "subvol", NULL);
    f->bind_mount = g_build_filename(f->dir, "bind", NULL);
    g_mkdir(f->subvol_mount, 0755);
    g_mkdir(f->bind_mount, 0755);
    run_or_fail((const char *[]){ "mount", "-o", "subvol=sub", f->btrfs->loopdev,
                                  f->subvol_mount, NULL });
    run_or_fail((const char *[]){ "mount", "--bind", f->ext4->mountpoint, f->bind_mount, NULL });
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    if (f->agent) {
        agent_process_free(f->agent); /* SIGKILL if still running */
    }
    loopfs_guard_thaw_all(f->guard);
    loopfs_run((const char *[]){ "umount", f->bind_mount, NULL }, NULL);
    loopfs_run((const char *[]){ "umount", f->subvol_mount, NULL }, NULL);
    g_rmdir(f->bind_mount);
    g_rmdir(f->subvol_mount);
    loopfs_guard_free(f->guard);
    loopfs_run((const char *[]){ "rm", "-rf", f->dir, NULL }, &error);
    g_free(f->subvol_mount);
    g_free(f->bind_mount);
    g_free(f->dir);
}

static AgentProcess *start_agent(Fixture *f, const char *state_dir, const char *config,
                                 const char *const *envp)
{
    g_autoptr(GError) error = NULL;
    AgentProcessOptions options = {
        .confine = f->dir, .state_dir = state_dir, .config = config, .envp = envp,
    };
    AgentProcess *agent = agent_process_start_full("quiesced", quiesced_binary, &options, &error);

    g_assert_no_error(error);
    return agent;
}

static char *ask(AgentProcess *agent, const char *request)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) got = agent_process_exchange(
        agent_process_socket(agent), (const guint8 *)request, strlen(request), 1, 20000, &error);

    g_assert_no_error(error);
    g_byte_array_append(got, (const guint8 *)"", 1);
    return g_strdup((const char *)got->data);
}

/* Starts a writer (dd with fsync) on fs; returns its pid. */
static GPid start_write(const LoopFs *fs)
{
    g_autofree char *of = g_strdup_printf("of=%s/probe-%d", fs->mountpoint, g_random_int());
    const char *argv[] = { "dd", "if=/dev/zero", of, "bs=4096", "count=4", "conv=fsync",
                           "status=none", NULL };
    GPid pid = 0;

    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                NULL));
    return pid;
}

/* Waits up to timeout_ms for the writer; TRUE when it finished. */
static gboolean wait_write(GPid pid, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return TRUE;
        }
        g_usleep(20000);
    }
    return FALSE;
}

static gboolean write_completes(const LoopFs *fs)
{
    GPid pid = start_write(fs);
    gboolean done = wait_write(pid, 5000);

    if (!done) {
        kill(pid, SIGKILL); /* left blocked: the test fails, teardown thaws */
    }
    return done;
}

static const LoopFs *all_fs(const Fixture *f, int i)
{
    return i == 0 ? f->ext4 : i == 1 ? f->xfs : f->btrfs;
}

static void assert_all_writable(const Fixture *f)
{
    for (int i = 0; i < 3; i++) {
        g_assert_true(write_completes(all_fs(f, i)));
    }
}

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
    blocked = start_write(f->ext4);
    g_assert_false(wait_write(blocked, 400));
    fsinfo = ask(f->agent, "{\"execute\":\"guest-get-fsinfo\"}");
    g_assert_cmpstr(fsinfo, ==,
                    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
                    "guest-get-fsinfo has been disabled: the agent is in frozen state\"}}\n");
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 3}\n");
    g_assert_true(wait_write(blocked, 5000));
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
    blocked = start_write(f->ext4);
    g_assert_false(wait_write(blocked, 300));
    g_assert_true(write_completes(f->xfs)); /* only the one asked for is frozen */
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 1}\n");
    g_assert_true(wait_write(blocked, 5000));
    assert_all_writable(f);
}

/* Extracts the string value of "key" from a reply (test helper, not a parser). */
static char *reply_string(const char *reply, const char *key)
{
    g_autofree char *pattern = g_strdup_printf("\"%s\": \"", key);
    const char *start = strstr(reply, pattern);
    const char *end;

    g_assert_nonnull(start);
    if (!start) {
        return g_strdup("");
    }
    start += strlen(pattern);
    end = strchr(start, '"');
    return g_strndup(start, (gsize)(end - start));
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
    blocked = start_write(f->xfs);
    g_assert_false(wait_write(blocked, 300));
    wrong = ask(f->agent, "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"x\"}}");
    g_assert_nonnull(strstr(wrong, "no snapshot session x is active"));
    post_request = g_strdup_printf(
        "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}", session);
    post = ask(f->agent, post_request);
    g_assert_nonnull(strstr(post, "\"thawed\": 3"));
    g_assert_true(wait_write(blocked, 5000));
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
        g_test_skip("this kernel cannot mount vfat");
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
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s", seam_library);
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
    blocked = start_write(f->btrfs);
    g_assert_false(wait_write(blocked, 300));
    successor = start_agent(f, state, NULL, NULL);
    g_assert_true(wait_write(blocked, 5000));
    assert_all_writable(f);
    thaw = ask(successor, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_nonnull(strstr(thaw, "agent restarted while frozen"));
    again = ask(successor, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(again, ==, "{\"return\": 0}\n");
}

static void test_watchdog_thaws_at_deadline(Fixture *f, gconstpointer data)
{
    g_autofree char *prepare = NULL;
    g_autofree char *session = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post = NULL;
    gint64 start;
    GPid blocked;

    f->agent = start_agent(f, NULL, "[freeze]\nrunning-state-command=\nwindow=2\n", NULL);
    start = g_get_monotonic_time();
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    session = reply_string(prepare, "session");
    blocked = start_write(f->ext4);
    g_assert_true(wait_write(blocked, 6000));
    /* Not before the deadline: the window is 2 s. */
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 1900000);
    post_request = g_strdup_printf(
        "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}", session);
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
    blocked = start_write(f->xfs);
    g_assert_false(wait_write(blocked, 300));
    g_assert_true(agent_process_stop(f->agent, &error));
    g_assert_no_error(error);
    g_assert_true(wait_write(blocked, 5000));
    assert_all_writable(f);
}

/* A writer script that logs its phase and, in freeze and thaw, writes and
 * syncs a file on the ext4 mount: it would hang (and time out) if the
 * filesystem were already frozen at its freeze or still frozen at its thaw. */
static char *writers_config(Fixture *f, const char *body, guint timeout_s)
{
    g_autofree char *dir = g_build_filename(f->dir, "writers.d", NULL);
    g_autofree char *script = g_build_filename(dir, "10-app", NULL);
    g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);

    g_mkdir(dir, 0755);
    g_assert_true(g_file_set_contents(script, text, -1, NULL));
    g_chmod(script, 0700);
    return g_strdup_printf("[freeze]\nrunning-state-command=\n[writers]\ndirectories=%s\n"
                           "compat-directories=\nsocket=%s/writers.sock\ntimeout=%u\n",
                           dir, f->dir, timeout_s);
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
    post_request = g_strdup_printf(
        "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}", session);
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

/* What another tool (an admin's fsfreeze -u) does: FITHAW behind the agent's
 * back, on one of this test's own loop filesystems. */
static void foreign_thaw(const LoopFs *fs)
{
    int fd = open(fs->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ioctl(fd, FITHAW, 0), ==, 0);
    close(fd);
}

static char *post_request_for(const char *prepare)
{
    g_autofree char *session = reply_string(prepare, "session");

    return g_strdup_printf(
        "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}", session);
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
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s", seam_library);
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
    blocked = start_write(f->ext4);
    g_assert_true(wait_write(blocked, 8000));
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
    blocked = start_write(f->ext4);
    g_assert_true(wait_write(blocked, 8000)); /* the watchdog thawed */
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
    blocked = start_write(f->xfs);
    g_assert_false(wait_write(blocked, 300));
    g_assert_true(wait_write(blocked, 10000));
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
    const char *fstypes[] = { "ext4", "xfs", "btrfs", "vfat", NULL };
    g_autofree char *missing = loopfs_missing_requirement(fstypes);

    g_test_init(&argc, &argv, NULL);
    /* A failed check must still reach the teardown that unmounts and
     * detaches the loop devices. */
    g_test_set_nonfatal_assertions();
    quiesced_binary = g_getenv("QUIESCED");
    seam_library = g_getenv("QUIESCE_SEAM_FIFREEZE_FAIL");
    if (missing) {
        g_print("SKIP: %s\n", missing);
        return SKIP_EXIT;
    }
    g_assert_nonnull(quiesced_binary);
    g_assert_nonnull(seam_library);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
    ADD("/engine/fsfreeze-cycle", test_fsfreeze_cycle);
    ADD("/engine/freeze-list-and-bad-path", test_freeze_list_and_bad_path);
    ADD("/engine/prepare-post", test_prepare_post);
    ADD("/engine/strict-saved-state", test_strict_saved_state);
    ADD("/engine/not-running-saved-state", test_not_running_saved_state);
    ADD("/engine/unsupported-fs-saved-state", test_unsupported_fs_saved_state);
    ADD("/engine/failure-mid-set-rolls-back", test_failure_mid_set_rolls_back);
    ADD("/engine/sigkill-successor-thaws", test_sigkill_successor_thaws);
    ADD("/engine/watchdog-thaws-at-deadline", test_watchdog_thaws_at_deadline);
    ADD("/engine/sigterm-thaws", test_sigterm_thaws);
    ADD("/engine/writers-around-freeze", test_writers_around_freeze);
    ADD("/engine/writers-around-qga-freeze", test_writers_around_qga_freeze);
    ADD("/engine/hung-writer-saved-state", test_hung_writer_saved_state);
    ADD("/engine/untrusted-writer-saved-state", test_untrusted_writer_saved_state);
    ADD("/engine/foreign-thaw", test_foreign_thaw);
    ADD("/engine/rollback-failure-reported", test_rollback_failure_reported);
    ADD("/engine/window-includes-writers", test_window_includes_writers);
    ADD("/engine/new-session-clears-expired", test_new_session_clears_expired);
    ADD("/engine/host-lost-thaws", test_host_lost_thaws);
    ADD("/engine/host-back-in-time", test_host_back_in_time);
    return g_test_run();
}
