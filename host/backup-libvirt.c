/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backup-libvirt.c — exactly what libvirt sends for `virsh snapshot-create
 * --disk-only --quiesce` (src/qemu/qemu_snapshot.c, qemu_agent.c; summarised
 * in docs/qga-reference.md §7), byte for byte on the agent channel and with
 * libvirt's line framing for replies:
 *
 *   {"execute":"guest-sync", "arguments":{"id":<ms>}}   5 s, other ids skipped
 *   {"execute":"guest-fsfreeze-freeze"}                  must return an int
 *   QMP transaction of blockdev-snapshot-sync            (libvirt: -blockdev's
 *                                                         blockdev-snapshot)
 *   {"execute":"guest-fsfreeze-thaw"}                    only if freeze > 0
 *
 * libvirt sends no second sync before the thaw (the connection is in sync)
 * and no thaw at all when the freeze failed or froze nothing.
 */
#include <string.h>

#include "common/quiesce-error.h"
#include "host/agent-client.h"
#include "host/backup.h"

#define LIBVIRT_SYNC_TIMEOUT_MS 5000 /* QEMU_AGENT_WAIT_TIME */

static gboolean libvirt_count(const char *command, const JsonValue *result, gint64 *count,
                              GError **error)
{
    int64_t value;

    if (!json_value_get_int(result, &value)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "%s: malformed return value (libvirt wants an integer)", command);
        return FALSE;
    }
    *count = value;
    return TRUE;
}

static gboolean libvirt_freeze(BackupRun *run, AgentClient *agent, gint64 *frozen, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    gint64 sync_id = 0;
    g_autoptr(JsonValue) result = NULL;

    if (!agent_client_sync_libvirt(agent, MIN(LIBVIRT_SYNC_TIMEOUT_MS,
                                              run->options->agent_timeout_ms),
                                   &sync_id, error)) {
        g_prefix_error(error, "Guest agent not available for now: ");
        return FALSE;
    }
    backup_say(run, "libvirt: guest-sync id %" G_GINT64_FORMAT " answered", sync_id);
    result = agent_client_execute_text(agent, "guest-fsfreeze-freeze",
                                       "{\"execute\":\"guest-fsfreeze-freeze\"}\n",
                                       run->options->prepare_timeout_ms, error);
    report_set_ms(run->report, "prepare-ms", g_get_monotonic_time() - t0);
    if (!result || !libvirt_count("guest-fsfreeze-freeze", result, frozen, error)) {
        return FALSE;
    }
    report_set(run->report, "frozen-count", "%" G_GINT64_FORMAT, *frozen);
    backup_say(run, "libvirt: guest-fsfreeze-freeze returned %" G_GINT64_FORMAT " (%s ms)",
               *frozen, report_get(run->report, "prepare-ms"));
    return TRUE;
}

static gboolean libvirt_thaw(BackupRun *run, AgentClient *agent, gint64 froze, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(JsonValue) result = NULL;
    gint64 thawed = 0;

    /* From the freeze's answer to the thaw's request: the guest is frozen
     * for all of it (the vm tests' workload stall must cover at least this). */
    report_set_ms(run->report, "window-inner-ms", t0 - froze);

    result = agent_client_execute_text(agent, "guest-fsfreeze-thaw",
                                       "{\"execute\":\"guest-fsfreeze-thaw\"}\n",
                                       run->options->command_timeout_ms, error);
    report_set_ms(run->report, "post-ms", g_get_monotonic_time() - t0);
    if (!result || !libvirt_count("guest-fsfreeze-thaw", result, &thawed, error)) {
        return FALSE;
    }
    report_set(run->report, "thawed-count", "%" G_GINT64_FORMAT, thawed);
    backup_say(run, "libvirt: guest-fsfreeze-thaw returned %" G_GINT64_FORMAT " (%s ms)", thawed,
               report_get(run->report, "post-ms"));
    return TRUE;
}

gboolean backup_libvirt_run(const BackupOptions *options, Report *report, GError **error)
{
    BackupRun run;
    g_autoptr(AgentClient) agent = NULL;
    g_autoptr(GError) thaw_error = NULL;
    gint64 frozen = 0;
    gint64 t0;
    gint64 froze;
    gboolean snapshotted;
    gboolean ok;

    backup_run_init(&run, options, report);
    report_set(report, "mode", "libvirt");
    report_set(report, "method", "libvirt-quiesce");
    if (!backup_open_vm(&run, error)) {
        backup_run_clear(&run);
        return FALSE;
    }
    agent = agent_client_connect(options->agent_path, JSON_CHANNEL_LINES,
                                 options->command_timeout_ms, error);
    t0 = g_get_monotonic_time();
    if (!agent || !libvirt_freeze(&run, agent, &frozen, error)) {
        /* libvirt fails the snapshot and sends no thaw. */
        report_set(report, "result", "failed");
        backup_run_clear(&run);
        return FALSE;
    }
    froze = g_get_monotonic_time();
    snapshotted = backup_snapshot(&run, error);
    /* libvirt: thaw only if the freeze returned > 0, and even when the
     * snapshot failed; a thaw error fails the call only if the snapshot
     * itself succeeded. */
    if (frozen > 0) {
        if (snapshotted) {
            backup_hold_frozen(&run);
        }
        ok = libvirt_thaw(&run, agent, froze, &thaw_error);
        report_set_ms(report, "window-host-ms", g_get_monotonic_time() - t0);
        if (!ok && snapshotted) {
            g_propagate_error(error, g_steal_pointer(&thaw_error));
            snapshotted = FALSE;
        }
    } else {
        backup_say(&run, "libvirt: freeze returned 0, so no thaw is sent");
    }
    ok = snapshotted && backup_finish(&run, error);
    if (!ok) {
        backup_discard(&run);
    }
    report_set(report, "result", ok ? (frozen > 0 ? "consistent" : "crash-consistent") : "failed");
    backup_run_clear(&run);
    return ok;
}
