/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-shutdown.c — the real quiesced stopped by SIGTERM while a loop-mounted
 * ext4 image of this test is frozen. When the thaw succeeds it exits 0 and
 * leaves no shutdown log. When the thaw fails (the LD_PRELOAD seam fails
 * FITHAW after thawing for real, so nothing stays frozen after the test)
 * it exits with status 1, appends the log lines it held while frozen to
 * <state dir>/shutdown-log instead of losing them, and says so on stderr;
 * the state file stays for a restarted agent.
 *
 * Root only (skips otherwise). The agent gets --confine=<test dir>, so no
 * request can reach a filesystem of the machine running the test.
 */
#include <glib/gstdio.h>
#include <sys/wait.h>

#include "fsfreeze/frozen-state.h"
#include "tests/support/loopfs.h"
#include "tests/support/agent-process.h"
#include "tests/support/test-run.h"


typedef struct {
    char *dir;
    char *state_dir;
    char *stderr_path;
    LoopFsGuard *guard;
    LoopFs *ext4; /* borrowed from guard */
    AgentProcess *agent;
} Fixture;

static const char *quiesced_binary;
static const char *seam_library;

static void fixture_set_up(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    /* /tmp may be tmpfs; loop images there are not host-visible. */
    f->dir = g_strdup("/var/tmp/quiesce-shutdown-XXXXXX");
    g_assert_nonnull(g_mkdtemp(f->dir));
    f->state_dir = g_build_filename(f->dir, "state", NULL);
    f->stderr_path = g_build_filename(f->dir, "agent.stderr", NULL);
    f->guard = loopfs_guard_new();
    f->ext4 = loopfs_create(f->dir, f->dir, "ext4", "ext4", 64, &error);
    g_assert_no_error(error);
    loopfs_guard_add(f->guard, f->ext4);
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
    agent_process_free(f->agent); /* SIGKILL if still running */
    loopfs_guard_thaw_all(f->guard);
    loopfs_guard_free(f->guard);
    loopfs_run((const char *[]){ "rm", "-rf", f->dir, NULL }, NULL);
    g_free(f->stderr_path);
    g_free(f->state_dir);
    g_free(f->dir);
}

static void start_agent(Fixture *f, const char *const *envp)
{
    g_autoptr(GError) error = NULL;
    AgentProcessOptions options = {
        .confine = f->dir,
        .state_dir = f->state_dir,
        .envp = envp,
        .stderr_path = f->stderr_path,
    };

    f->agent = agent_process_start_full("quiesced", quiesced_binary, &options, &error);
    g_assert_no_error(error);
}

static void freeze(Fixture *f)
{
    static const char request[] = "{\"execute\":\"guest-fsfreeze-freeze\"}";
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) got = agent_process_exchange_lines(
        agent_process_socket(f->agent), (const guint8 *)request, strlen(request), 1, 20000, &error);

    g_assert_no_error(error);
    g_byte_array_append(got, (const guint8 *)"", 1);
    g_assert_cmpstr((const char *)got->data, ==, "{\"return\": 1}\n");
    g_assert_cmpint(loopfs_guard_probe_frozen(f->guard, f->ext4), ==, 1);
}

/* SIGTERM; the exit status. */
static int terminate(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    int status = 0;

    g_assert_true(agent_process_terminate(f->agent, &status, &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* "" when missing (after a failed check): assertions are non-fatal here,
 * and a NULL would trap in the checks that follow, skipping the teardown
 * that unmounts the image. */
static char *read_text(const char *path)
{
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text ? text : g_strdup("");
}

static void test_thawed_exits_0(Fixture *f, gconstpointer data)
{
    g_autofree char *log = g_build_filename(f->state_dir, "shutdown-log", NULL);

    start_agent(f, NULL);
    freeze(f);
    g_assert_cmpint(terminate(f), ==, 0);
    g_assert_cmpint(loopfs_guard_probe_frozen(f->guard, f->ext4), ==, 0);
    g_assert_false(g_file_test(log, G_FILE_TEST_EXISTS));
}

static void test_failed_thaw_exits_1_and_saves_log(Fixture *f, gconstpointer data)
{
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s", seam_library);
    g_autofree char *fail = g_strdup_printf("QUIESCE_SEAM_FAIL_THAW_PATH=%s", f->ext4->mountpoint);
    const char *envp[] = { preload, fail, "QUIESCE_SEAM_FAIL_THAW_ERRNO=EIO",
                           /* thaw for real, then fail: nothing stays frozen */
                           "QUIESCE_SEAM_FAIL_THAW_AFTER=1",
                           /* the seam is not instrumented; ASan builds must accept it */
                           "ASAN_OPTIONS=verify_asan_link_order=0", NULL };
    g_autofree char *log_path = g_build_filename(f->state_dir, "shutdown-log", NULL);
    g_autofree char *state_file = NULL;
    g_autofree char *log = NULL;
    g_autofree char *err = NULL;
    g_autofree char *said = NULL;
    const char *first;

    start_agent(f, envp);
    freeze(f);
    g_assert_cmpint(terminate(f), ==, 1);

    /* The held lines are in the file, not lost: the failed thaw, then the
     * last attempt at exit (agent_free()). */
    log = read_text(log_path);
    err = read_text(f->stderr_path);
    g_test_message("shutdown-log:\n%s\nstderr:\n%s", log, err);
    g_assert_true(g_str_has_prefix(log, "--- quiesced["));
    g_assert_nonnull(strstr(log, "stopping with filesystems frozen"));
    first = strstr(log, "Z error: stopping: thaw of session ");
    g_assert_nonnull(first);
    if (first) {
        g_assert_nonnull(strstr(first, "failed to thaw"));
        g_assert_nonnull(strstr(first, f->ext4->mountpoint));
        g_assert_nonnull(strstr(first, "Input/output error"));
        g_assert_nonnull(strstr(first + 1, "Z error: stopping: thaw of session "));
    }
    /* ... and not on stderr, which may lead to the frozen disk. */
    g_assert_null(strstr(err, "thaw of session"));
    said = g_strdup_printf("the log held while frozen is in %s; they are still frozen\n",
                           log_path);
    g_assert_nonnull(strstr(err, "quiesced: stopping: a thaw failed with filesystems of "
                                 "snapshot session "));
    g_assert_true(g_str_has_suffix(err, said));
    /* The state file stays for a restarted agent. */
    state_file = g_build_filename(f->state_dir, FROZEN_STATE_FILENAME, NULL);
    g_assert_true(g_file_test(state_file, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpint(loopfs_guard_probe_frozen(f->guard, f->ext4), ==, 0);
}

int main(int argc, char **argv)
{
    const char *fstypes[] = { "ext4", NULL };
    g_autofree char *missing = loopfs_missing_requirement(fstypes);

    g_test_init(&argc, &argv, NULL);
    /* A failed check must still reach the teardown that unmounts and
     * detaches the loop device. */
    g_test_set_nonfatal_assertions();
    quiesced_binary = g_getenv("QUIESCED");
    seam_library = g_getenv("QUIESCE_SEAM_FIFREEZE_FAIL");
    if (missing) {
        return quiesce_test_exit_missing(missing);
    }
    g_assert_nonnull(quiesced_binary);
    g_assert_nonnull(seam_library);
#define ADD(path, fn) QUIESCE_TEST_ADD(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
    ADD("/shutdown/thawed-exits-0", test_thawed_exits_0);
    ADD("/shutdown/failed-thaw-exits-1-and-saves-log", test_failed_thaw_exits_1_and_saves_log);
    return quiesce_test_run();
}
