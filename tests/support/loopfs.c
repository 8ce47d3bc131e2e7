/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loopfs.c — loop-mounted test images and the guard every real freeze in
 * the tests passes; see loopfs.h.
 *
 * The tools (losetup, mount, mkfs.*, util-linux fsfreeze) are run as
 * programs rather than reimplemented with LOOP_CTL_GET_FREE / mount(2):
 * they are what an operator would use to check the same thing by hand.
 */
#include "tests/support/loopfs.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/quiesce-error.h"

static gboolean run_capture(const char *const *argv, char **envp, char **out_stdout,
                            char **out_stderr, GError **error)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, envp, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, error)) {
        return FALSE;
    }
    if (out_stderr) {
        *out_stderr = g_strdup(err);
    }
    g_autoptr(GError) local = NULL;
    if (!g_spawn_check_wait_status(status, &local)) {
        g_autofree char *command = g_strjoinv(" ", (char **)argv);
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s: %s", command,
                    local->message, err ? g_strstrip(err) : "");
        return FALSE;
    }
    if (out_stdout) {
        *out_stdout = g_steal_pointer(&out);
    }
    return TRUE;
}

gboolean loopfs_run(const char *const *argv, GError **error)
{
    return run_capture(argv, NULL, NULL, NULL, error);
}

static gboolean have_program(const char *name)
{
    g_autofree char *path = g_find_program_in_path(name);
    if (!path) {
        /* sbin may be missing from a CI user's PATH even as root. */
        g_autofree char *sbin = g_build_filename("/usr/sbin", name, NULL);
        return g_file_test(sbin, G_FILE_TEST_IS_EXECUTABLE);
    }
    return TRUE;
}

char *loopfs_missing_requirement(const char *const *fstypes)
{
    if (geteuid() != 0) {
        return g_strdup("needs root (loop devices, mount, FIFREEZE)");
    }
    if (!g_file_test("/dev/loop-control", G_FILE_TEST_EXISTS)) {
        return g_strdup("no /dev/loop-control (loop module or container without loop devices)");
    }
    const char *tools[] = { "losetup", "mount", "umount", "fsfreeze" };
    for (size_t i = 0; i < G_N_ELEMENTS(tools); i++) {
        if (!have_program(tools[i])) {
            return g_strdup_printf("%s is not installed", tools[i]);
        }
    }
    for (guint i = 0; fstypes && fstypes[i]; i++) {
        g_autofree char *mkfs = g_strconcat("mkfs.", fstypes[i], NULL);
        if (!have_program(mkfs)) {
            return g_strdup_printf("%s is not installed", mkfs);
        }
    }
    return NULL;
}

static gboolean make_image(const char *path, guint size_mib, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)size_mib * 1024 * 1024) != 0) {
        int saved = errno;
        if (fd >= 0) {
            close(fd);
        }
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    close(fd);
    return TRUE;
}

static gboolean make_filesystem(const char *fstype, const char *image, GError **error)
{
    g_autofree char *mkfs = g_strconcat("mkfs.", fstype, NULL);
    /* -F / -f: the image is ours and fresh; no prompts, no probing refusals.
     * mkfs.vfat has neither -q nor a force flag (its -f counts FATs). */
    const char *force = g_str_equal(fstype, "ext4") ? "-F" : "-f";
    const char *argv[] = { mkfs, "-q", force, image, NULL };
    const char *vfat_argv[] = { mkfs, image, NULL };
    return loopfs_run(g_str_equal(fstype, "vfat") ? vfat_argv : argv, error);
}

static gboolean attach_and_mount(LoopFs *fs, GError **error)
{
    const char *losetup[] = { "losetup", "--find", "--show", fs->image, NULL };
    g_autofree char *out = NULL;
    if (!run_capture(losetup, NULL, &out, NULL, error)) {
        return FALSE;
    }
    fs->loopdev = g_strdup(g_strstrip(out));
    if (g_mkdir(fs->mountpoint, 0755) != 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "mkdir %s: %s",
                    fs->mountpoint, g_strerror(saved));
        return FALSE;
    }
    const char *mount[] = { "mount", "-t", fs->fstype, fs->loopdev, fs->mountpoint, NULL };
    if (!loopfs_run(mount, error)) {
        return FALSE;
    }
    fs->mounted = TRUE;
    struct stat st;
    if (stat(fs->mountpoint, &st) != 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "stat %s: %s",
                    fs->mountpoint, g_strerror(saved));
        return FALSE;
    }
    fs->dev = st.st_dev;
    return TRUE;
}

LoopFs *loopfs_create(const char *test_dir, const char *image_dir, const char *name,
                      const char *fstype, guint size_mib, GError **error)
{
    g_autoptr(LoopFs) fs = g_new0(LoopFs, 1);
    fs->test_dir = realpath(test_dir, NULL);
    if (!fs->test_dir) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s", test_dir,
                    g_strerror(saved));
        return NULL;
    }
    g_autofree char *image_name = g_strconcat(name, ".img", NULL);
    fs->image = g_build_filename(image_dir, image_name, NULL);
    fs->mountpoint = g_build_filename(fs->test_dir, name, NULL);
    fs->fstype = g_strdup(fstype);
    if (!make_image(fs->image, size_mib, error) ||
        !make_filesystem(fstype, fs->image, error) || !attach_and_mount(fs, error) ||
        !loopfs_check_ours(fs, error)) {
        return NULL; /* g_autoptr undoes what was done */
    }
    return g_steal_pointer(&fs);
}

void loopfs_destroy(LoopFs *fs)
{
    if (!fs) {
        return;
    }
    if (fs->mounted) {
        /* A failed test may have left it frozen; umount would then hang. */
        loopfs_fsfreeze(fs, FALSE, NULL, NULL, NULL);
        const char *umount[] = { "umount", fs->mountpoint, NULL };
        if (!loopfs_run(umount, NULL)) {
            const char *lazy[] = { "umount", "-l", fs->mountpoint, NULL };
            loopfs_run(lazy, NULL);
        }
    }
    if (fs->loopdev) {
        const char *detach[] = { "losetup", "-d", fs->loopdev, NULL };
        loopfs_run(detach, NULL);
    }
    if (fs->image) {
        g_unlink(fs->image);
    }
    if (fs->mountpoint) {
        g_rmdir(fs->mountpoint);
    }
    g_free(fs->test_dir);
    g_free(fs->image);
    g_free(fs->mountpoint);
    g_free(fs->loopdev);
    g_free(fs->fstype);
    g_free(fs);
}

FreezeTarget *loopfs_target(const LoopFs *fs)
{
    return freeze_target_new(fs->mountpoint, fs->dev, fs->fstype);
}

/* The source of the topmost mount on @mountpoint, from /proc/self/mountinfo. */
static char *mount_source(const char *mountpoint)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL)) {
        return NULL;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    char *source = NULL;
    for (guint i = 0; lines[i]; i++) {
        /* id parent maj:min root mountpoint options [optional...] - type source super */
        g_auto(GStrv) fields = g_strsplit(lines[i], " ", -1);
        guint n = g_strv_length(fields);
        if (n < 10 || !g_str_equal(fields[4], mountpoint)) {
            continue;
        }
        for (guint j = 6; j + 2 < n; j++) {
            if (g_str_equal(fields[j], "-")) {
                g_free(source);
                source = g_strdup(fields[j + 2]);
                break;
            }
        }
    }
    return source;
}

static gboolean refuse(GError **error, const LoopFs *fs, const char *why)
{
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                "test guard: %s is not a test loop mount: %s", fs->mountpoint, why);
    return FALSE;
}

gboolean loopfs_check_ours(const LoopFs *fs, GError **error)
{
    struct stat here, root, dir;
    if (!fs->mounted || !fs->loopdev) {
        return refuse(error, fs, "not mounted");
    }
    size_t len = strlen(fs->test_dir);
    if (strncmp(fs->mountpoint, fs->test_dir, len) != 0 || fs->mountpoint[len] != '/' ||
        strstr(fs->mountpoint + len, "/..")) {
        return refuse(error, fs, "outside the test dir");
    }
    if (stat(fs->mountpoint, &here) != 0 || stat("/", &root) != 0 ||
        stat(fs->test_dir, &dir) != 0) {
        return refuse(error, fs, "cannot stat");
    }
    if (here.st_dev != fs->dev || here.st_dev == root.st_dev || here.st_dev == dir.st_dev) {
        return refuse(error, fs, "device mismatch or the host's filesystem");
    }
    g_autofree char *source = mount_source(fs->mountpoint);
    if (!source || !g_str_equal(source, fs->loopdev)) {
        return refuse(error, fs, "mountinfo does not show it mounted from its loop device");
    }
    return TRUE;
}

/* Reads @fd to EOF and closes it. */
static char *read_all(int fd)
{
    GString *text = g_string_new(NULL);
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) {
            g_string_append_len(text, buffer, n);
        }
    }
    close(fd);
    return g_string_free(text, FALSE);
}

gboolean loopfs_fsfreeze(const LoopFs *fs, gboolean freeze, char **envp, char **out_stderr,
                         GError **error)
{
    if (!loopfs_check_ours(fs, error)) {
        return FALSE;
    }
    /* fsfreeze gets the checked directory as fd 3 and opens /proc/self/fd/3,
     * which is that filesystem even if the mount table changed after the
     * check: a path could by then name the host's directory underneath. */
    int fd = open(fs->mountpoint, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != fs->dev) {
        if (fd >= 0) {
            close(fd);
        }
        return refuse(error, fs, "changed after the check");
    }
    const char *argv[] = { "fsfreeze", freeze ? "-f" : "-u", "/proc/self/fd/3", NULL };
    int source_fds[] = { fd };
    int target_fds[] = { 3 };
    GPid pid = 0;
    int stderr_fd = -1;
    gboolean spawned = g_spawn_async_with_pipes_and_fds(
        NULL, argv, (const char *const *)envp,
        G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
        NULL, -1, -1, -1, source_fds, target_fds, 1, &pid, NULL, NULL, &stderr_fd, error);
    close(fd);
    if (!spawned) {
        return FALSE;
    }
    g_autofree char *err = read_all(stderr_fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_spawn_close_pid(pid);
    if (out_stderr) {
        *out_stderr = g_strdup(err);
    }
    g_autoptr(GError) local = NULL;
    if (!g_spawn_check_wait_status(status, &local)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "fsfreeze %s %s: %s: %s",
                    freeze ? "-f" : "-u", fs->mountpoint, local->message, g_strstrip(err));
        return FALSE;
    }
    return TRUE;
}

/* ---- LoopFsGuard. ---- */

static const char *errno_name(int err)
{
    switch (err) {
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case EIO: return "EIO";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EPERM: return "EPERM";
    default: return "other";
    }
}

/* The guard's LoopFs that @fd is the root of, or NULL. */
static const LoopFs *guard_find(LoopFsGuard *guard, int fd)
{
    struct stat st;
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
    g_autofree char *path = g_file_read_link(link, NULL);
    if (fstat(fd, &st) != 0 || !path) {
        return NULL;
    }
    const LoopFs *found = NULL;
    g_mutex_lock(&guard->lock);
    for (guint i = 0; i < guard->filesystems->len && !found; i++) {
        const LoopFs *fs = g_ptr_array_index(guard->filesystems, i);
        if (fs->dev == st.st_dev && g_str_equal(fs->mountpoint, path)) {
            found = fs;
        }
    }
    g_mutex_unlock(&guard->lock);
    return found && loopfs_check_ours(found, NULL) ? found : NULL;
}

static void guard_event(LoopFsGuard *guard, char kind, const LoopFs *fs, int err)
{
    g_autofree char *name = g_path_get_basename(fs->mountpoint);
    const char *mark = guard->mark_thread && guard->mark_thread == g_thread_self() ? "*" : "";
    g_mutex_lock(&guard->lock);
    g_ptr_array_add(guard->events,
                    err == 0 ? g_strdup_printf("%c:%s%s", kind, name, mark)
                             : g_strdup_printf("%c:%s=%s%s", kind, name, errno_name(err), mark));
    g_mutex_unlock(&guard->lock);
}

static int guard_refuse(LoopFsGuard *guard)
{
    g_mutex_lock(&guard->lock);
    guard->violations++;
    g_mutex_unlock(&guard->lock);
    return EPERM;
}

static int guard_freeze(int fd, gpointer user_data)
{
    LoopFsGuard *guard = user_data;
    const LoopFs *fs = guard_find(guard, fd);
    if (!fs) {
        return guard_refuse(guard);
    }
    int err = fs == guard->fail_freeze ? guard->fail_freeze_errno
                                       : fs_freeze_ops_default()->freeze(fd, NULL);
    guard_event(guard, 'F', fs, err);
    if (err == 0 && guard->sleep_after_freeze_us > 0) {
        g_usleep(guard->sleep_after_freeze_us);
    }
    return err;
}

static int guard_thaw(int fd, gpointer user_data)
{
    LoopFsGuard *guard = user_data;
    const LoopFs *fs = guard_find(guard, fd);
    if (!fs) {
        return guard_refuse(guard);
    }
    int err = fs == guard->fail_thaw ? guard->fail_thaw_errno
                                     : fs_freeze_ops_default()->thaw(fd, NULL);
    guard_event(guard, 'T', fs, err);
    return err;
}

LoopFsGuard *loopfs_guard_new(void)
{
    LoopFsGuard *guard = g_new0(LoopFsGuard, 1);
    guard->ops = (FsFreezeOps){ .freeze = guard_freeze, .thaw = guard_thaw, .user_data = guard };
    g_mutex_init(&guard->lock);
    guard->filesystems = g_ptr_array_new();
    guard->events = g_ptr_array_new_with_free_func(g_free);
    return guard;
}

void loopfs_guard_free(LoopFsGuard *guard)
{
    if (!guard) {
        return;
    }
    /* Thaw all first: an outer fs cannot unmount cleanly under a frozen inner one. */
    for (guint i = guard->filesystems->len; i-- > 0;) {
        LoopFs *fs = g_ptr_array_index(guard->filesystems, i);
        if (fs->mounted) {
            loopfs_fsfreeze(fs, FALSE, NULL, NULL, NULL);
        }
    }
    for (guint i = guard->filesystems->len; i-- > 0;) {
        loopfs_destroy(g_ptr_array_index(guard->filesystems, i));
    }
    g_ptr_array_unref(guard->filesystems);
    g_ptr_array_unref(guard->events);
    g_mutex_clear(&guard->lock);
    g_free(guard);
}

void loopfs_guard_add(LoopFsGuard *guard, LoopFs *fs)
{
    g_mutex_lock(&guard->lock);
    g_ptr_array_add(guard->filesystems, fs);
    g_mutex_unlock(&guard->lock);
}

char *loopfs_guard_take_events(LoopFsGuard *guard)
{
    g_mutex_lock(&guard->lock);
    g_ptr_array_add(guard->events, NULL);
    char *joined = g_strjoinv(" ", (char **)guard->events->pdata);
    g_ptr_array_set_size(guard->events, 0);
    g_mutex_unlock(&guard->lock);
    return joined;
}

int loopfs_guard_get_violations(LoopFsGuard *guard)
{
    g_mutex_lock(&guard->lock);
    int violations = guard->violations;
    g_mutex_unlock(&guard->lock);
    return violations;
}

int loopfs_guard_probe_frozen(LoopFsGuard *guard, const LoopFs *fs)
{
    int fd = open(fs->mountpoint, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (fd < 0) {
        return -1;
    }
    int result = -1;
    if (guard_find(guard, fd) == fs) {
        int err = fs_freeze_ops_default()->freeze(fd, NULL);
        if (err == 0) {
            result = fs_freeze_ops_default()->thaw(fd, NULL) == 0 ? 0 : -1;
        } else {
            result = err == EBUSY ? 1 : -1;
        }
    } else {
        guard_refuse(guard);
    }
    close(fd);
    return result;
}

void loopfs_guard_thaw_all(LoopFsGuard *guard)
{
    g_mutex_lock(&guard->lock);
    for (guint i = 0; i < guard->filesystems->len; i++) {
        const LoopFs *fs = g_ptr_array_index(guard->filesystems, i);
        int fd = loopfs_check_ours(fs, NULL)
                     ? open(fs->mountpoint, O_RDONLY | O_CLOEXEC | O_DIRECTORY) : -1;
        while (fd >= 0 && fs_freeze_ops_default()->thaw(fd, NULL) == 0) {
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    g_mutex_unlock(&guard->lock);
}

GPid loopfs_start_write(const LoopFs *fs)
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

gboolean loopfs_wait_write(GPid pid, int timeout_ms)
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
