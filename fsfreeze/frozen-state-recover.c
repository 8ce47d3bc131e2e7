/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * frozen-state-recover.c — what a start does with what a previous run left:
 * the state file read without trusting it, a sweep of everything that could
 * have been frozen when the file is damaged, the thaw from the end, the
 * broken record for the host's late post, and the retries of what could not
 * be thawed yet (frozen-state.h).
 */
#include "fsfreeze/frozen-state-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/quiesce-error.h"

/* What a start finds, read without trusting it. */
typedef struct {
    gboolean file;              /* something exists at the state file's path */
    char *damaged;              /* why the file is not trusted, or NULL */
    char *session_id;           /* NULL when unknown */
    GPtrArray *targets;         /* every section that parses */
    FrozenStateBroken *earlier; /* the record of an earlier start, or NULL */
} Findings;

static void findings_clear(Findings *findings)
{
    g_free(findings->damaged);
    g_free(findings->session_id);
    g_clear_pointer(&findings->targets, g_ptr_array_unref);
    frozen_state_broken_free(findings->earlier);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Findings, findings_clear)

static void findings_inspect(const char *state_dir, Findings *findings)
{
    g_autofree char *path = frozen_state_path(state_dir);
    g_autoptr(GKeyFile) keyfile = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(GString) damaged = g_string_new(NULL);
    struct stat st;

    findings->file = lstat(path, &st) == 0;
    findings->targets = freeze_target_array_new();
    if (!frozen_state_load_keyfile(state_dir, &keyfile, &local)) {
        findings->damaged = g_strdup(local->message);
        return;
    }
    if (!keyfile) {
        return;
    }
    findings->session_id = g_key_file_get_string(keyfile, GROUP_SESSION, "id", NULL);
    if (!findings->session_id || !*findings->session_id) {
        g_string_append(damaged, "; [session] id is missing");
        g_clear_pointer(&findings->session_id, g_free);
    }
    g_autoptr(GPtrArray) targets = frozen_state_targets_from_groups(keyfile, damaged);
    g_ptr_array_extend_and_steal(findings->targets, g_steal_pointer(&targets));
    g_clear_error(&local);
    int count = g_key_file_get_integer(keyfile, GROUP_SESSION, "mounts", &local);
    if (local || count < 0) {
        g_string_append(damaged, "; [session] mounts is missing or invalid");
    } else if ((guint)count != findings->targets->len) {
        g_string_append_printf(damaged, "; [session] mounts=%d but %u [mount N] section(s) can "
                               "be read", count, findings->targets->len);
    }
    if (frozen_state_keyfile_is_broken(keyfile)) {
        findings->earlier = frozen_state_broken_from_keyfile(keyfile);
    }
    if (damaged->len > 0) {
        findings->damaged = g_strdup_printf("%s: %s", path, damaged->str + 2);
    }
}

static gboolean target_listed(GPtrArray *targets, const FreezeTarget *target)
{
    for (guint i = 0; i < targets->len; i++) {
        const FreezeTarget *other = g_ptr_array_index(targets, i);
        if (other->dev == target->dev) {
            return TRUE;
        }
    }
    return FALSE;
}

/* The listed targets the sweep does not cover, then the sweep: thawed from
 * the end, so the sweep goes first, in the reverse of its freeze order. */
static GPtrArray *recovery_plan(GPtrArray *listed, GPtrArray *sweep)
{
    GPtrArray *plan = freeze_target_array_new();
    for (guint i = 0; i < listed->len; i++) {
        const FreezeTarget *target = g_ptr_array_index(listed, i);
        if (!sweep || !target_listed(sweep, target)) {
            g_ptr_array_add(plan, freeze_target_copy(target));
        }
    }
    for (guint i = 0; sweep && i < sweep->len; i++) {
        g_ptr_array_add(plan, freeze_target_copy(g_ptr_array_index(sweep, i)));
    }
    return plan;
}

static void notes_add(FrozenStateBroken *broken, char *note /* transfer full */)
{
    guint n = broken->notes ? g_strv_length(broken->notes) : 0;
    broken->notes = g_renew(char *, broken->notes, n + 2);
    broken->notes[n] = note;
    broken->notes[n + 1] = NULL;
}

/* Thaws @plan from the end. Pending ones go to broken->pending (freeze
 * order kept); a refusal is appended to @failures. @quiet: targets whose
 * "not frozen" is no news (the sweep's). Returns how many were thawed. */
static guint recovery_thaw(FrozenStateBroken *broken, GPtrArray *plan, GPtrArray *quiet,
                           const FsFreezeOptions *options, GString *failures)
{
    guint thawed = 0;
    for (guint i = plan->len; i-- > 0;) {
        const FreezeTarget *target = g_ptr_array_index(plan, i);
        g_autofree char *message = NULL;
        switch (fs_freezer_thaw_target(target, options, &message)) {
        case FS_THAW_THAWED:
            thawed++;
            break;
        case FS_THAW_NOT_FROZEN:
            if (!quiet || !target_listed(quiet, target)) {
                notes_add(broken, g_steal_pointer(&message));
            }
            break;
        case FS_THAW_GONE:
            notes_add(broken, g_steal_pointer(&message));
            break;
        case FS_THAW_COVERED:
        case FS_THAW_FAILED:
            g_ptr_array_insert(broken->pending, 0, freeze_target_copy(target));
            g_string_append_printf(failures, "%s%s", failures->len > 0 ? "; " : "", message);
            notes_add(broken, g_steal_pointer(&message));
            break;
        case FS_THAW_REFUSED:
            g_string_append_printf(failures, "%s%s", failures->len > 0 ? "; " : "", message);
            notes_add(broken, g_steal_pointer(&message));
            break;
        }
    }
    return thawed;
}

static gboolean write_broken(const char *state_dir, const FrozenStateBroken *broken,
                             GError **error)
{
    FrozenState state = {
        .session_id = broken->session_id,
        .targets = broken->pending,
        .created_real_us = broken->broken_real_us,
        .pid = getpid(),
    };
    g_autoptr(GKeyFile) keyfile = frozen_state_to_keyfile(&state);
    frozen_state_keyfile_set_broken(keyfile, broken);
    if (broken->damaged) {
        g_key_file_set_string(keyfile, GROUP_SESSION, "damaged", broken->damaged);
    }
    if (!frozen_state_save_keyfile(state_dir, keyfile, error)) {
        return FALSE;
    }
    return broken->pending->len > 0 ? frozen_state_marker_set(state_dir, error) : frozen_state_marker_clear(state_dir, error);
}

/* Moves a damaged state file (or whatever is in its place) aside, for the
 * operator, so the record and later sessions can be written. */
static gboolean set_aside(const char *state_dir, GError **error)
{
    g_autofree char *path = frozen_state_path(state_dir);
    g_autofree char *aside = g_build_filename(state_dir, FROZEN_STATE_DAMAGED, NULL);
    if (rename(path, aside) != 0 && errno != ENOENT) {
        /* An older one in the way (a file, or an empty directory). */
        if (unlink(aside) != 0) {
            rmdir(aside);
        }
        if (rename(path, aside) != 0 && errno != ENOENT) {
            int saved = errno;
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "failed to move the damaged %s aside: %s", path, g_strerror(saved));
            return FALSE;
        }
    }
    return TRUE;
}

gboolean frozen_state_recover(const char *state_dir, const FsFreezeOptions *thaw_options,
                              GPtrArray *sweep_targets, FrozenStateBroken **out_broken,
                              GError **error)
{
    g_return_val_if_fail(state_dir != NULL && thaw_options != NULL, FALSE);
    *out_broken = NULL;
    gboolean marker = frozen_state_marker_exists(state_dir);
    g_auto(Findings) findings = { 0 };
    findings_inspect(state_dir, &findings);
    if (!findings.file && !marker) {
        return TRUE;
    }
    if (!findings.file) {
        findings.damaged = g_strdup("the state file is missing but its marker is there");
    }
    /* A broken record that lists nothing and left no marker is a finished
     * recovery waiting for the host's post: nothing to thaw. */
    if (findings.earlier && !findings.damaged && !marker && findings.targets->len == 0) {
        *out_broken = g_steal_pointer(&findings.earlier);
        return TRUE;
    }
    gboolean sweep = findings.damaged || (marker && findings.earlier);
    g_autoptr(GPtrArray) plan = recovery_plan(findings.targets, sweep ? sweep_targets : NULL);
    g_autoptr(FrozenStateBroken) broken = g_steal_pointer(&findings.earlier);
    if (!broken) {
        broken = g_new0(FrozenStateBroken, 1);
        broken->session_id = g_strdup(findings.session_id ? findings.session_id : "");
        broken->reason = g_strdup(FROZEN_STATE_REASON_RESTARTED);
        broken->broken_real_us = g_get_real_time();
        broken->notes = g_new0(char *, 1);
    }
    g_clear_pointer(&broken->pending, g_ptr_array_unref);
    broken->pending = freeze_target_array_new();
    g_autoptr(GString) failures = g_string_new(NULL);
    guint thawed = recovery_thaw(broken, plan, sweep ? sweep_targets : NULL, thaw_options,
                                 failures);
    broken->thawed += thawed;
    if (findings.damaged && !set_aside(state_dir, error)) {
        return FALSE;
    }
    if (broken->thawed == 0 && broken->pending->len == 0) {
        /* Nothing of it was frozen at restart: the session had ended (a
         * post whose file removal failed) or never froze. No record. */
        if (!frozen_state_remove(state_dir, error)) {
            return FALSE;
        }
        if (findings.damaged || failures->len > 0) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "%s%s%s; nothing was frozen", findings.damaged ? findings.damaged : "",
                        findings.damaged && failures->len > 0 ? "; " : "", failures->str);
            return FALSE;
        }
        return TRUE;
    }
    if (findings.damaged && !broken->damaged) {
        broken->damaged = g_strdup(findings.damaged);
        g_free(broken->reason);
        broken->reason = g_strdup_printf("%s, and its state file could not be trusted (%s), so "
                                         "it thawed every filesystem it could have frozen",
                                         FROZEN_STATE_REASON_RESTARTED, findings.damaged);
    }
    gboolean written = write_broken(state_dir, broken, error);
    *out_broken = g_steal_pointer(&broken);
    if (!written) {
        return FALSE;
    }
    if (failures->len > 0) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, failures->str);
        return FALSE;
    }
    return TRUE;
}

gboolean frozen_state_retry(const char *state_dir, const FsFreezeOptions *thaw_options,
                            FrozenStateBroken *broken, GError **error)
{
    g_autoptr(GPtrArray) plan = g_steal_pointer(&broken->pending);
    g_autoptr(GString) failures = g_string_new(NULL);
    guint notes = broken->notes ? g_strv_length(broken->notes) : 0;

    broken->pending = freeze_target_array_new();
    broken->thawed += recovery_thaw(broken, plan, NULL, thaw_options, failures);
    if (broken->pending->len == plan->len) {
        /* Nothing changed: keep the notes from growing every second. */
        for (guint i = notes; broken->notes && broken->notes[i]; i++) {
            g_clear_pointer(&broken->notes[i], g_free);
        }
        return TRUE;
    }
    return write_broken(state_dir, broken, error);
}
