/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * frozen-state.c — the persisted frozen set: the file's format, reading it
 * without trusting it, writing it atomically, the marker. What a start does
 * with what it finds is frozen-state-recover.c; frozen-state.h tells the
 * life of the file.
 *
 * Format (GKeyFile, so an operator can read it with cat):
 *   [session]  id, pid, created, deadline (ISO 8601 UTC; deadline optional),
 *              mounts (count); after recovery also broken=true,
 *              broken-reason, broken-at, thawed, notes (string list)
 *   [mount N]  path (or path-escaped, g_strescape()d, when not UTF-8),
 *              dev (major:minor), fstype — N = 0.. in freeze order; in a
 *              broken record, the targets still pending
 *   after recovery of a damaged file also damaged (why)
 *
 * The file is read and written with our own open() calls (O_CLOEXEC, a
 * size cap) and replaced atomically: a crash mid-write leaves the old file
 * or the new one, never a torn one that recovery could not parse.
 */
#include "fsfreeze/frozen-state-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/quiesce-error.h"


FrozenState *frozen_state_new(const char *session_id, GPtrArray *targets,
                              gint64 deadline_real_us)
{
    FrozenState *state = g_new0(FrozenState, 1);
    state->session_id = g_strdup(session_id);
    state->targets = freeze_target_array_new();
    for (guint i = 0; i < targets->len; i++) {
        g_ptr_array_add(state->targets, freeze_target_copy(g_ptr_array_index(targets, i)));
    }
    state->created_real_us = g_get_real_time();
    state->deadline_real_us = deadline_real_us;
    state->pid = getpid();
    return state;
}

void frozen_state_free(FrozenState *state)
{
    if (!state) {
        return;
    }
    g_free(state->session_id);
    g_ptr_array_unref(state->targets);
    g_free(state);
}

void frozen_state_broken_free(FrozenStateBroken *broken)
{
    if (!broken) {
        return;
    }
    g_free(broken->session_id);
    g_free(broken->reason);
    g_strfreev(broken->notes);
    if (broken->pending) {
        g_ptr_array_unref(broken->pending);
    }
    g_free(broken->damaged);
    g_free(broken);
}

/* ---- File I/O. ---- */

char *frozen_state_path(const char *state_dir)
{
    return g_build_filename(state_dir, FROZEN_STATE_FILENAME, NULL);
}

static gboolean write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* fsync() of the directory makes the rename itself durable. */
static gboolean sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (fd < 0) {
        return FALSE;
    }
    gboolean ok = fsync(fd) == 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return ok;
}

static gboolean write_atomically(const char *state_dir, const char *data, gsize len,
                                 GError **error)
{
    g_autofree char *path = frozen_state_path(state_dir);
    g_autofree char *tmp = g_strconcat(path, ".XXXXXX", NULL);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to create %s: %s",
                    tmp, g_strerror(saved));
        return FALSE;
    }
    gboolean ok = write_all(fd, data, len) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = FALSE;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = FALSE;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to write %s: %s",
                    path, g_strerror(saved));
        return FALSE;
    }
    if (!sync_dir(state_dir)) {
        saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to sync %s: %s",
                    state_dir, g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}

/* Reads the state file; *out_keyfile = NULL when there is none. */
gboolean frozen_state_load_keyfile(const char *state_dir, GKeyFile **out_keyfile, GError **error)
{
    g_autofree char *path = frozen_state_path(state_dir);
    *out_keyfile = NULL;
    /* Not trusted: a symlink, a FIFO (whose open would block) or a
     * directory in its place is an error, not something to follow. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd < 0 && errno == ENOENT) {
        return TRUE;
    }
    if (fd < 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to open %s: %s",
                    path, g_strerror(saved));
        return FALSE;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s is not a regular file",
                    path);
        return FALSE;
    }
    g_autofree char *data = g_malloc(STATE_MAX_BYTES + 1);
    gsize len = 0;
    int read_errno = 0;
    for (;;) {
        ssize_t n = read(fd, data + len, STATE_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            read_errno = n < 0 ? errno : 0;
            break;
        }
        len += (gsize)n;
        if (len > STATE_MAX_BYTES) {
            break;
        }
    }
    close(fd);
    if (read_errno != 0 || len > STATE_MAX_BYTES) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to read %s: %s",
                    path, read_errno != 0 ? g_strerror(read_errno) : "larger than 1 MiB");
        return FALSE;
    }
    g_autoptr(GKeyFile) keyfile = g_key_file_new();
    g_autoptr(GError) local = NULL;
    if (!g_key_file_load_from_data(keyfile, data, len, G_KEY_FILE_KEEP_COMMENTS, &local)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to parse %s: %s",
                    path, local->message);
        return FALSE;
    }
    *out_keyfile = g_steal_pointer(&keyfile);
    return TRUE;
}

gboolean frozen_state_save_keyfile(const char *state_dir, GKeyFile *keyfile, GError **error)
{
    gsize len = 0;
    g_autofree char *data = g_key_file_to_data(keyfile, &len, NULL);
    return write_atomically(state_dir, data, len, error);
}

/* ---- Key file <-> structs. ---- */

static char *format_time(gint64 real_us)
{
    g_autoptr(GDateTime) seconds = g_date_time_new_from_unix_utc(real_us / G_USEC_PER_SEC);
    g_autoptr(GDateTime) exact = g_date_time_add(seconds, real_us % G_USEC_PER_SEC);
    return g_date_time_format_iso8601(exact);
}

/* A missing or unreadable time reads as 0: the times are for humans. */
static gint64 get_time(GKeyFile *keyfile, const char *key)
{
    g_autofree char *text = g_key_file_get_string(keyfile, GROUP_SESSION, key, NULL);
    g_autoptr(GDateTime) when = text ? g_date_time_new_from_iso8601(text, NULL) : NULL;
    if (!when) {
        return 0;
    }
    return g_date_time_to_unix(when) * G_USEC_PER_SEC + g_date_time_get_microsecond(when);
}

static void set_time(GKeyFile *keyfile, const char *key, gint64 real_us)
{
    g_autofree char *text = format_time(real_us);
    g_key_file_set_string(keyfile, GROUP_SESSION, key, text);
}

GKeyFile *frozen_state_to_keyfile(const FrozenState *state)
{
    g_autoptr(GKeyFile) keyfile = g_key_file_new();
    g_key_file_set_string(keyfile, GROUP_SESSION, "id", state->session_id);
    g_key_file_set_int64(keyfile, GROUP_SESSION, "pid", state->pid);
    set_time(keyfile, "created", state->created_real_us);
    if (state->deadline_real_us != 0) {
        set_time(keyfile, "deadline", state->deadline_real_us);
    }
    g_key_file_set_integer(keyfile, GROUP_SESSION, "mounts", (int)state->targets->len);
    g_key_file_set_comment(keyfile, NULL, NULL,
                           " Written by quiesced before freezing, removed after the last "
                           "thaw.\n A restarted quiesced thaws the mounts listed here.",
                           NULL);
    for (guint i = 0; i < state->targets->len; i++) {
        const FreezeTarget *target = g_ptr_array_index(state->targets, i);
        g_autofree char *group = g_strdup_printf("mount %u", i);
        g_autofree char *dev = g_strdup_printf("%u:%u", major(target->dev), minor(target->dev));
        /* GKeyFile values must be UTF-8 or the file will not load again;
         * a mount path need not be. Such a path is stored C-escaped. */
        if (g_utf8_validate(target->mountpoint, -1, NULL)) {
            g_key_file_set_string(keyfile, group, "path", target->mountpoint);
        } else {
            g_autofree char *escaped = g_strescape(target->mountpoint, NULL);
            g_key_file_set_string(keyfile, group, "path-escaped", escaped);
        }
        g_key_file_set_string(keyfile, group, "dev", dev);
        g_key_file_set_string(keyfile, group, "fstype", target->fstype ? target->fstype : "");
    }
    return g_steal_pointer(&keyfile);
}

static gboolean parse_dev(const char *text, dev_t *out_dev)
{
    g_auto(GStrv) parts = text ? g_strsplit(text, ":", 3) : NULL;
    guint64 maj, min;
    if (!parts || g_strv_length(parts) != 2 ||
        !g_ascii_string_to_unsigned(parts[0], 10, 0, G_MAXUINT32, &maj, NULL) ||
        !g_ascii_string_to_unsigned(parts[1], 10, 0, G_MAXUINT32, &min, NULL)) {
        return FALSE;
    }
    *out_dev = makedev((unsigned)maj, (unsigned)min);
    return TRUE;
}

static FreezeTarget *target_from_keyfile(GKeyFile *keyfile, guint index, GError **error)
{
    g_autofree char *group = g_strdup_printf("mount %u", index);
    g_autofree char *escaped = g_key_file_get_string(keyfile, group, "path-escaped", NULL);
    g_autofree char *path = escaped ? g_strcompress(escaped)
                                    : g_key_file_get_string(keyfile, group, "path", error);
    if (!path) {
        return NULL;
    }
    g_autofree char *dev_text = g_key_file_get_string(keyfile, group, "dev", error);
    dev_t dev = 0;
    if (!dev_text) {
        return NULL;
    }
    if (!parse_dev(dev_text, &dev)) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "[%s] dev is not major:minor: %s", group, dev_text);
        return NULL;
    }
    g_autofree char *fstype = g_key_file_get_string(keyfile, group, "fstype", NULL);
    return freeze_target_new(path, dev, fstype);
}

/* Errors come back in G_KEY_FILE_ERROR; the caller wraps them. */
static FrozenState *state_from_keyfile(GKeyFile *keyfile, GError **error)
{
    g_autoptr(FrozenState) state = g_new0(FrozenState, 1);
    state->targets = freeze_target_array_new();
    state->session_id = g_key_file_get_string(keyfile, GROUP_SESSION, "id", error);
    if (!state->session_id) {
        return NULL;
    }
    state->pid = (pid_t)g_key_file_get_int64(keyfile, GROUP_SESSION, "pid", NULL);
    state->created_real_us = get_time(keyfile, "created");
    state->deadline_real_us = get_time(keyfile, "deadline");
    g_autoptr(GError) local = NULL;
    int count = g_key_file_get_integer(keyfile, GROUP_SESSION, "mounts", &local);
    if (local || count < 0) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "[session] mounts is missing or invalid");
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        FreezeTarget *target = target_from_keyfile(keyfile, (guint)i, error);
        if (!target) {
            return NULL;
        }
        g_ptr_array_add(state->targets, target);
    }
    return g_steal_pointer(&state);
}

gboolean frozen_state_keyfile_is_broken(GKeyFile *keyfile)
{
    return g_key_file_get_boolean(keyfile, GROUP_SESSION, "broken", NULL);
}

void frozen_state_keyfile_set_broken(GKeyFile *keyfile, const FrozenStateBroken *broken)
{
    g_key_file_set_boolean(keyfile, GROUP_SESSION, "broken", TRUE);
    g_key_file_set_string(keyfile, GROUP_SESSION, "broken-reason", broken->reason);
    set_time(keyfile, "broken-at", broken->broken_real_us);
    g_key_file_set_integer(keyfile, GROUP_SESSION, "thawed", (int)broken->thawed);
    g_key_file_set_string_list(keyfile, GROUP_SESSION, "notes",
                               (const char *const *)broken->notes,
                               g_strv_length(broken->notes));
}

FrozenStateBroken *frozen_state_broken_from_keyfile(GKeyFile *keyfile)
{
    FrozenStateBroken *broken = g_new0(FrozenStateBroken, 1);
    broken->session_id = g_key_file_get_string(keyfile, GROUP_SESSION, "id", NULL);
    broken->reason = g_key_file_get_string(keyfile, GROUP_SESSION, "broken-reason", NULL);
    broken->broken_real_us = get_time(keyfile, "broken-at");
    broken->thawed = (guint)MAX(0, g_key_file_get_integer(keyfile, GROUP_SESSION, "thawed",
                                                          NULL));
    broken->notes = g_key_file_get_string_list(keyfile, GROUP_SESSION, "notes", NULL, NULL);
    if (!broken->session_id) {
        broken->session_id = g_strdup("");
    }
    if (!broken->reason) {
        broken->reason = g_strdup(FROZEN_STATE_REASON_RESTARTED);
    }
    if (!broken->notes) {
        broken->notes = g_new0(char *, 1);
    }
    g_autoptr(GString) ignored = g_string_new(NULL);
    broken->pending = frozen_state_targets_from_groups(keyfile, ignored);
    broken->damaged = g_key_file_get_string(keyfile, GROUP_SESSION, "damaged", NULL);
    return broken;
}

static gint compare_guint(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;
    return x < y ? -1 : x > y;
}

/* Every [mount N] section that parses, in N order, whatever [session]
 * mounts says; why the others do not is appended to @damaged. */
GPtrArray *frozen_state_targets_from_groups(GKeyFile *keyfile, GString *damaged)
{
    GPtrArray *targets = freeze_target_array_new();
    g_auto(GStrv) groups = g_key_file_get_groups(keyfile, NULL);
    g_autoptr(GArray) indexes = g_array_new(FALSE, FALSE, sizeof(guint));

    for (char **group = groups; *group; group++) {
        guint64 n;
        if (g_str_has_prefix(*group, "mount ") &&
            g_ascii_string_to_unsigned(*group + strlen("mount "), 10, 0, G_MAXUINT32, &n,
                                       NULL)) {
            guint index = (guint)n;
            g_array_append_val(indexes, index);
        }
    }
    g_array_sort(indexes, compare_guint);
    for (guint i = 0; i < indexes->len; i++) {
        g_autoptr(GError) local = NULL;
        FreezeTarget *target =
            target_from_keyfile(keyfile, g_array_index(indexes, guint, i), &local);
        if (target) {
            g_ptr_array_add(targets, target);
        } else {
            g_string_append_printf(damaged, "; [mount %u]: %s",
                                   g_array_index(indexes, guint, i), local->message);
        }
    }
    return targets;
}

/* state_from_keyfile() with the error in QUIESCE_ERROR, naming the file. */
static FrozenState *parse_state(GKeyFile *keyfile, const char *state_dir, GError **error)
{
    g_autoptr(GError) local = NULL;
    FrozenState *state = state_from_keyfile(keyfile, &local);
    if (!state) {
        g_autofree char *path = frozen_state_path(state_dir);
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "state file %s: %s", path,
                    local->message);
    }
    return state;
}

/* ---- The marker: a second witness that the agent froze, in case the
 * file itself is removed. ---- */

static char *marker_path(const char *state_dir)
{
    return g_build_filename(state_dir, FROZEN_STATE_MARKER, NULL);
}

gboolean frozen_state_marker_exists(const char *state_dir)
{
    g_autofree char *path = marker_path(state_dir);
    struct stat st;
    return lstat(path, &st) == 0;
}

gboolean frozen_state_marker_set(const char *state_dir, GError **error)
{
    g_autofree char *path = marker_path(state_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to create %s: %s",
                    path, g_strerror(saved));
        return FALSE;
    }
    close(fd);
    return TRUE; /* made durable by the state file's sync of the dir */
}

gboolean frozen_state_marker_clear(const char *state_dir, GError **error)
{
    g_autofree char *path = marker_path(state_dir);
    if (unlink(path) != 0 && errno != ENOENT) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to remove %s: %s",
                    path, g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}

/* ---- Public operations. ---- */

gboolean frozen_state_write(const char *state_dir, const FrozenState *state, GError **error)
{
    g_return_val_if_fail(state_dir != NULL && state != NULL, FALSE);

    if (g_mkdir_with_parents(state_dir, 0700) != 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to create %s: %s",
                    state_dir, g_strerror(saved));
        return FALSE;
    }
    /* A state file on a frozen filesystem could be neither removed after
     * the thaw nor rewritten by recovery without hanging. */
    struct stat st;
    if (stat(state_dir, &st) != 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to stat %s: %s",
                    state_dir, g_strerror(saved));
        return FALSE;
    }
    for (guint i = 0; i < state->targets->len; i++) {
        const FreezeTarget *target = g_ptr_array_index(state->targets, i);
        if (target->dev == st.st_dev) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "state directory %s lies on %s, which is to be frozen; "
                        "use a directory on tmpfs such as " FROZEN_STATE_DEFAULT_DIR,
                        state_dir, target->mountpoint);
            return FALSE;
        }
    }
    if (!frozen_state_marker_set(state_dir, error)) {
        return FALSE;
    }
    g_autoptr(GKeyFile) keyfile = frozen_state_to_keyfile(state);
    return frozen_state_save_keyfile(state_dir, keyfile, error);
}

gboolean frozen_state_read(const char *state_dir, FrozenState **out_state, GError **error)
{
    g_autoptr(GKeyFile) keyfile = NULL;
    *out_state = NULL;
    if (!frozen_state_load_keyfile(state_dir, &keyfile, error)) {
        return FALSE;
    }
    if (!keyfile || frozen_state_keyfile_is_broken(keyfile)) {
        return TRUE;
    }
    *out_state = parse_state(keyfile, state_dir, error);
    return *out_state != NULL;
}

gboolean frozen_state_remove(const char *state_dir, GError **error)
{
    g_autofree char *path = frozen_state_path(state_dir);
    if (unlink(path) != 0 && errno != ENOENT) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to remove %s: %s",
                    path, g_strerror(saved));
        return FALSE;
    }
    /* Not durable on purpose: a stale file after a crash only costs EINVAL notes. */
    return frozen_state_marker_clear(state_dir, error);
}

gboolean frozen_state_read_broken(const char *state_dir, FrozenStateBroken **out_broken,
                                  GError **error)
{
    g_autoptr(GKeyFile) keyfile = NULL;
    *out_broken = NULL;
    if (!frozen_state_load_keyfile(state_dir, &keyfile, error)) {
        return FALSE;
    }
    if (keyfile && frozen_state_keyfile_is_broken(keyfile)) {
        *out_broken = frozen_state_broken_from_keyfile(keyfile);
    }
    return TRUE;
}

gboolean frozen_state_clear_broken(const char *state_dir, GError **error)
{
    g_autoptr(GKeyFile) keyfile = NULL;
    if (!frozen_state_load_keyfile(state_dir, &keyfile, error)) {
        return FALSE;
    }
    if (!keyfile) {
        return TRUE;
    }
    if (!frozen_state_keyfile_is_broken(keyfile)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                    "the state file in %s describes a live frozen session, not a broken one",
                    state_dir);
        return FALSE;
    }
    g_autoptr(FrozenStateBroken) broken = frozen_state_broken_from_keyfile(keyfile);
    if (broken->pending->len > 0) {
        return TRUE; /* still to be thawed: the record stays for the retries */
    }
    return frozen_state_remove(state_dir, error);
}

gboolean frozen_state_exists(const char *state_dir)
{
    g_autofree char *path = frozen_state_path(state_dir);
    struct stat st;
    return lstat(path, &st) == 0 || frozen_state_marker_exists(state_dir);
}
