/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backup.c — the steps both backup modes share (see the header).
 */
#include "host/backup.h"

#include <stdio.h>

#include "common/quiesce-error.h"

void backup_run_init(BackupRun *run, const BackupOptions *options, Report *report)
{
    GDateTime *now = g_date_time_new_now_utc();

    *run = (BackupRun){ .options = options, .report = report };
    run->started = g_get_monotonic_time();
    run->tag = g_date_time_format(now, "%Y%m%dT%H%M%S");
    g_date_time_unref(now);
}

void backup_run_clear(BackupRun *run)
{
    g_clear_pointer(&run->disks, disk_set_free);
    g_clear_pointer(&run->qmp, qmp_client_free);
    g_clear_pointer(&run->tag, g_free);
}

void backup_say(const BackupRun *run, const char *fmt, ...)
{
    g_autofree char *message = NULL;
    va_list ap;

    if (run->options->quiet) {
        return;
    }
    va_start(ap, fmt);
    message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("[%7.3f] %s\n", (double)(g_get_monotonic_time() - run->started) / 1e6, message);
    fflush(stdout);
}

gboolean backup_open_vm(BackupRun *run, GError **error)
{
    int timeout = run->options->command_timeout_ms;
    g_autoptr(JsonValue) status = NULL;
    g_autofree char *names = NULL;
    const char *state;

    run->qmp = qmp_client_connect(run->options->qmp_path, timeout, error);
    if (!run->qmp) {
        return FALSE;
    }
    status = qmp_client_execute(run->qmp, "query-status", NULL, timeout, error);
    if (!status) {
        return FALSE;
    }
    state = json_object_get_string(status, "status");
    report_set(run->report, "vm-state", "%s", state ? state : "?");
    run->disks = disk_set_query(run->qmp, timeout, error);
    if (!run->disks) {
        return FALSE;
    }
    names = disk_set_describe(run->disks);
    report_set(run->report, "disks", "%s", names);
    backup_say(run, "QMP: VM %s, disks %s", state ? state : "?", names);
    return TRUE;
}

gboolean backup_snapshot(BackupRun *run, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GString) images = g_string_new(NULL);

    if (!disk_set_snapshot(run->disks, run->qmp, run->options->overlay_dir, run->tag,
                           run->options->command_timeout_ms, error)) {
        return FALSE;
    }
    report_set_ms(run->report, "snapshot-ms", g_get_monotonic_time() - t0);
    for (guint i = 0; i < run->disks->disks->len; i++) {
        const Disk *disk = g_ptr_array_index(run->disks->disks, i);
        g_string_append_printf(images, "%s%s:%s", i ? " " : "", disk->device, disk->image);
    }
    report_set(run->report, "snapshot-set", "%s", images->str);
    backup_say(run, "snapshot: one transaction of %u blockdev-snapshot-sync in %s ms",
               run->disks->disks->len, report_get(run->report, "snapshot-ms"));
    return TRUE;
}

gboolean backup_saved_state(BackupRun *run, const char *reason, GError **error)
{
    int timeout = run->options->command_timeout_ms;
    g_autoptr(JsonValue) stopped = NULL;
    g_autoptr(JsonValue) resumed = NULL;
    g_autoptr(GError) snapshot_error = NULL;
    gint64 paused_at;
    gboolean snapshotted;

    report_set(run->report, "method", "saved-state");
    report_set(run->report, "fallback-reason", "%s", reason);
    backup_say(run, "fallback to saved state: %s", reason);
    stopped = qmp_client_execute(run->qmp, "stop", NULL, timeout, error);
    if (!stopped) {
        return FALSE;
    }
    paused_at = g_get_monotonic_time();
    backup_say(run, "VM paused (stop)");
    snapshotted = backup_snapshot(run, &snapshot_error);
    resumed = qmp_client_execute(run->qmp, "cont", NULL, timeout, error);
    report_set_ms(run->report, "pause-ms", g_get_monotonic_time() - paused_at);
    if (!resumed) {
        return FALSE;
    }
    backup_say(run, "VM resumed (cont) after %s ms paused", report_get(run->report, "pause-ms"));
    if (!snapshotted) {
        g_propagate_error(error, g_steal_pointer(&snapshot_error));
        return FALSE;
    }
    return TRUE;
}

void backup_hold_frozen(const BackupRun *run)
{
    if (run->options->hold_frozen_ms <= 0) {
        return;
    }
    backup_say(run, "holding the guest frozen %d ms before the thaw (--hold-frozen)",
               run->options->hold_frozen_ms);
    g_usleep((gulong)run->options->hold_frozen_ms * 1000);
}

gboolean backup_finish(BackupRun *run, GError **error)
{
    gint64 t0 = g_get_monotonic_time();

    if (run->options->backup_dir) {
        if (!disk_set_copy(run->disks, run->options->backup_dir, error)) {
            return FALSE;
        }
        report_set_ms(run->report, "copy-ms", g_get_monotonic_time() - t0);
        report_set(run->report, "backup-dir", "%s", run->options->backup_dir);
        backup_say(run, "copied the snapshot set to %s in %s ms", run->options->backup_dir,
                   report_get(run->report, "copy-ms"));
    }
    if (run->options->keep_overlays) {
        backup_say(run, "overlays kept; the snapshot images stay frozen under them");
        return TRUE;
    }
    t0 = g_get_monotonic_time();
    if (!disk_set_merge_back(run->disks, run->qmp, 60000, error)) {
        return FALSE;
    }
    report_set_ms(run->report, "merge-ms", g_get_monotonic_time() - t0);
    backup_say(run, "merged the overlays back (block-commit) in %s ms",
               report_get(run->report, "merge-ms"));
    return TRUE;
}

void backup_discard(BackupRun *run)
{
    g_autoptr(GError) error = NULL;

    if (!run->disks || !run->qmp) {
        return;
    }
    if (disk_set_merge_back(run->disks, run->qmp, 60000, &error)) {
        backup_say(run, "discarded the snapshot set (no partial backups)");
    } else {
        backup_say(run, "could not discard the snapshot set: %s", error->message);
    }
}

gboolean backup_unquiesced_run(const BackupOptions *options, Report *report, GError **error)
{
    BackupRun run;
    gboolean ok;

    backup_run_init(&run, options, report);
    report_set(report, "mode", "no-quiesce");
    report_set(report, "method", "no-quiesce");
    if (!backup_open_vm(&run, error)) {
        backup_run_clear(&run);
        return FALSE;
    }
    backup_say(&run, "no quiesce, as asked (--no-quiesce): the guest runs on, nothing frozen");
    ok = backup_snapshot(&run, error) && backup_finish(&run, error);
    if (!ok) {
        backup_discard(&run);
    }
    report_set(report, "result", ok ? "crash-consistent" : "failed");
    backup_run_clear(&run);
    return ok;
}
