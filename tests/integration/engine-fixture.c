/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine-fixture.c — see engine-fixture.h.
 */
#include "tests/integration/engine-fixture.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>

const char *engine_fixture_quiesced;
const char *engine_fixture_seam;

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
void fixture_set_up(Fixture *f, gconstpointer data)
{
    g_autofree char *subvol = NULL;

    /* /tmp may be tmpfs; loop images there are not host-visible. */
    f->dir = g_strdup("/var/tmp/quiesce-engine-XXXXXX");
    g_assert_nonnull(g_mkdtemp(f->dir));
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

void fixture_tear_down(Fixture *f, gconstpointer data)
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

AgentProcess *start_agent(Fixture *f, const char *state_dir, const char *config,
                                 const char *const *envp)
{
    g_autoptr(GError) error = NULL;
    AgentProcessOptions options = {
        .confine = f->dir, .state_dir = state_dir, .config = config, .envp = envp,
    };
    AgentProcess *agent = agent_process_start_full("quiesced", engine_fixture_quiesced, &options, &error);

    g_assert_no_error(error);
    return agent;
}

char *ask(AgentProcess *agent, const char *request)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) got = agent_process_exchange(
        agent_process_socket(agent), (const guint8 *)request, strlen(request), 1, 20000, &error);

    g_assert_no_error(error);
    g_byte_array_append(got, (const guint8 *)"", 1);
    return g_strdup((const char *)got->data);
}

gboolean write_completes(const LoopFs *fs)
{
    GPid pid = loopfs_start_write(fs);
    gboolean done = loopfs_wait_write(pid, 5000);

    if (!done) {
        kill(pid, SIGKILL); /* left blocked: the test fails, teardown thaws */
    }
    return done;
}

const LoopFs *all_fs(const Fixture *f, int i)
{
    return i == 0 ? f->ext4 : i == 1 ? f->xfs : f->btrfs;
}

void assert_all_writable(const Fixture *f)
{
    for (int i = 0; i < 3; i++) {
        g_assert_true(write_completes(all_fs(f, i)));
    }
}

/* Extracts the string value of "key" from a reply (test helper, not a parser). */
char *reply_string(const char *reply, const char *key)
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

/* A writer script that logs its phase and, in freeze and thaw, writes and
 * syncs a file on the ext4 mount: it would hang (and time out) if the
 * filesystem were already frozen at its freeze or still frozen at its thaw. */
char *writers_config(Fixture *f, const char *body, guint timeout_s)
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

char *post_request_for(const char *prepare)
{
    g_autofree char *session = reply_string(prepare, "session");

    return g_strdup_printf(
        "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}", session);
}

int engine_fixture_init(int *argc, char ***argv)
{
    const char *fstypes[] = { "ext4", "xfs", "btrfs", "vfat", NULL };
    g_autofree char *missing = loopfs_missing_requirement(fstypes);

    g_test_init(argc, argv, NULL);
    /* A failed check must still reach the teardown that unmounts and
     * detaches the loop devices. */
    g_test_set_nonfatal_assertions();
    engine_fixture_quiesced = g_getenv("QUIESCED");
    engine_fixture_seam = g_getenv("QUIESCE_SEAM_FIFREEZE_FAIL");
    if (missing) {
        return quiesce_test_exit_missing(missing);
    }
    g_assert_nonnull(engine_fixture_quiesced);
    g_assert_nonnull(engine_fixture_seam);
    return 0;
}
