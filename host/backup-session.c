/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backup-session.c — the Hyper-V-style backup over the agent's
 * snapshot-session extension (docs/design.md §1, §3):
 *
 *   sync (0xFF + guest-sync-delimited, with backoff)
 *   guest-snapshot-check      capability query, reported only
 *   guest-snapshot-prepare    PrepareForSnapshot: writers quiesce, fs freeze
 *     "child-snapshot" ->     QMP transaction over every disk, then
 *   guest-snapshot-post       PostSnapshot: thaw; an error means the window
 *                             expired and the set is discarded
 *     "saved-state", an error, or no answer in time -> stop, snapshot, cont
 *
 * A prepare that timed out may still freeze the guest later; the driver sends
 * guest-snapshot-abort after the fallback, and the agent's window bounds it
 * anyway.
 */
#include <string.h>

#include "common/quiesce-error.h"
#include "host/agent-client.h"
#include "host/backup.h"

static void session_check(BackupRun *run, AgentClient *agent)
{
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(JsonValue) check = agent_client_execute(agent, "guest-snapshot-check", NULL, TRUE,
                                                      run->options->command_timeout_ms, &error);
    g_autofree char *reasons = NULL;
    const char *method;

    report_set_ms(run->report, "check-ms", g_get_monotonic_time() - t0);
    if (!check) {
        backup_say(run, "check: %s", error->message);
        return;
    }
    method = json_object_get_string(check, "method");
    reasons = agent_reply_reasons(check);
    report_set(run->report, "check-method", "%s", method ? method : "?");
    backup_say(run, "check: %s%s%s (%s ms)", method ? method : "?", *reasons ? ": " : "",
               reasons, report_get(run->report, "check-ms"));
}

/* After prepare said child-snapshot: snapshot, post. FALSE: no backup. */
static gboolean session_child(BackupRun *run, AgentClient *agent, const JsonValue *prepared,
                              gint64 prepare_sent, gint64 prepare_answered, GError **error)
{
    const char *session = json_object_get_string(prepared, "session");
    g_autoptr(JsonValue) post_args = json_object_new();
    g_autoptr(JsonValue) posted = NULL;
    g_autoptr(JsonValue) abort_args = NULL;
    g_autoptr(GError) abort_error = NULL;
    int64_t frozen_ms = -1;

    if (!backup_snapshot(run, error)) {
        /* Nothing was taken (a transaction is atomic): thaw and give up. */
        abort_args = json_object_new();
        json_object_set_string(abort_args, "session", session ? session : "");
        json_value_free(agent_client_execute(agent, "guest-snapshot-abort",
                                             g_steal_pointer(&abort_args), TRUE,
                                             run->options->command_timeout_ms, &abort_error));
        backup_say(run, "snapshot failed; sent guest-snapshot-abort%s%s",
                   abort_error ? ": " : "", abort_error ? abort_error->message : "");
        return FALSE;
    }
    backup_hold_frozen(run);
    json_object_set_string(post_args, "session", session ? session : "");
    gint64 t0 = g_get_monotonic_time();
    /* From prepare's answer to post's request: the guest is frozen for all
     * of it (the vm tests' workload stall must cover at least this). */
    report_set_ms(run->report, "window-inner-ms", t0 - prepare_answered);
    posted = agent_client_execute(agent, "guest-snapshot-post", g_steal_pointer(&post_args), TRUE,
                                  run->options->command_timeout_ms, error);
    gint64 t1 = g_get_monotonic_time();
    report_set_ms(run->report, "post-ms", t1 - t0);
    if (!posted) {
        g_prefix_error(error, "post failed, the snapshot set is not consistent: ");
        backup_discard(run);
        return FALSE;
    }
    report_set_ms(run->report, "window-host-ms", t1 - prepare_sent);
    json_value_get_int(json_object_get(posted, "frozen-ms"), &frozen_ms);
    report_set(run->report, "window-guest-ms", "%" G_GINT64_FORMAT, (gint64)frozen_ms);
    backup_say(run, "post: thawed (%s ms); guest frozen %" G_GINT64_FORMAT
               " ms by the agent's count, at most %s ms seen from the host",
               report_get(run->report, "post-ms"), (gint64)frozen_ms,
               report_get(run->report, "window-host-ms"));
    return TRUE;
}

/* Connects and syncs; NULL with the reason to fall back in *reason. */
static AgentClient *session_agent(BackupRun *run, char **reason)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AgentClient) agent = NULL;
    gint64 t0 = g_get_monotonic_time();
    guint attempts = 0;

    agent = agent_client_connect(run->options->agent_path, JSON_CHANNEL_STREAM,
                                 run->options->command_timeout_ms, &error);
    if (agent && agent_client_sync(agent, run->options->agent_timeout_ms, &attempts, &error)) {
        report_set_ms(run->report, "sync-ms", g_get_monotonic_time() - t0);
        backup_say(run, "agent answered guest-sync-delimited (%u attempt(s), %s ms)", attempts,
                   report_get(run->report, "sync-ms"));
        return g_steal_pointer(&agent);
    }
    *reason = g_strdup_printf("agent-unavailable: %s", error->message);
    return NULL;
}

/* Tests: a host that dies after prepare (optionally after hanging first). */
static void session_vanish(BackupRun *run)
{
    if (run->options->linger_ms > 0) {
        backup_say(run, "staying connected and silent for %d ms (--linger)",
                   run->options->linger_ms);
        g_usleep((gulong)run->options->linger_ms * 1000);
    }
    backup_say(run, "vanishing without post, as asked (--vanish-after-prepare)");
    report_set(run->report, "result", "vanished");
}

/* PrepareForSnapshot. Returns the reply when the guest froze
 * (child-snapshot); else NULL with why to fall back in *reason, and
 * *answered FALSE when the agent gave no answer at all. */
static JsonValue *session_prepare(BackupRun *run, AgentClient *agent, gint64 *sent,
                                  gint64 *returned, gboolean *answered, char **reason)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonValue) prepared = NULL;
    g_autofree char *frozen = NULL;
    g_autofree char *excluded = NULL;
    g_autofree char *reasons = NULL;
    const char *method;

    *sent = g_get_monotonic_time();
    prepared = agent_client_execute(agent, "guest-snapshot-prepare", NULL, TRUE,
                                    run->options->prepare_timeout_ms, &error);
    *returned = g_get_monotonic_time();
    report_set_ms(run->report, "prepare-ms", *returned - *sent);
    *answered = prepared || !g_error_matches(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT);
    if (!prepared) {
        *reason = g_strdup_printf("prepare: %s", error->message);
        backup_say(run, "prepare gave no usable answer: %s", error->message);
        return NULL;
    }
    method = json_object_get_string(prepared, "method");
    frozen = agent_reply_mountpoints(json_object_get(prepared, "frozen"));
    excluded = agent_reply_mountpoints(json_object_get(prepared, "excluded"));
    report_set(run->report, "prepare-method", "%s", method ? method : "?");
    if (method && strcmp(method, "child-snapshot") == 0) {
        report_set(run->report, "method", "child-snapshot");
        report_set(run->report, "session", "%s", json_object_get_string(prepared, "session"));
        report_set(run->report, "frozen", "%s", frozen);
        report_set(run->report, "excluded", "%s", excluded);
        backup_say(run, "prepare: child-snapshot, session %s, frozen [%s]%s%s (%s ms)",
                   report_get(run->report, "session"), frozen, *excluded ? ", excluded " : "",
                   excluded, report_get(run->report, "prepare-ms"));
        return g_steal_pointer(&prepared);
    }
    reasons = agent_reply_reasons(prepared);
    report_set(run->report, "reasons", "%s", reasons);
    *reason = g_strdup_printf("guest: %s", reasons);
    backup_say(run, "prepare: %s (%s ms), frozen [%s]", method ? method : "?",
               report_get(run->report, "prepare-ms"), frozen);
    return NULL;
}

gboolean backup_session_run(const BackupOptions *options, Report *report, GError **error)
{
    BackupRun run;
    g_autoptr(AgentClient) agent = NULL;
    g_autoptr(JsonValue) prepared = NULL;
    g_autofree char *reason = NULL;
    gboolean answered = TRUE;
    gboolean ok;
    gint64 sent = 0;
    gint64 returned = 0;

    backup_run_init(&run, options, report);
    report_set(report, "mode", "session");
    if (!backup_open_vm(&run, error)) {
        backup_run_clear(&run);
        return FALSE;
    }
    agent = session_agent(&run, &reason);
    if (agent) {
        session_check(&run, agent);
        prepared = session_prepare(&run, agent, &sent, &returned, &answered, &reason);
    }
    if (prepared && options->vanish_after_prepare) {
        session_vanish(&run);
        backup_run_clear(&run);
        return TRUE;
    }
    if (prepared) {
        ok = session_child(&run, agent, prepared, sent, returned, error) &&
             backup_finish(&run, error);
    } else {
        ok = backup_saved_state(&run, reason, error) && backup_finish(&run, error);
    }
    if (!ok) {
        backup_discard(&run);
    }
    if (!answered) {
        /* A prepare that timed out may still freeze: call it off. The
         * agent's window bounds it in any case. */
        g_autoptr(GError) abort_error = NULL;
        agent_client_send(agent, "guest-snapshot-abort", NULL, &abort_error);
        backup_say(&run, "sent guest-snapshot-abort for the unanswered prepare");
    }
    report_set(report, "result", !ok ? "failed" : prepared ? "consistent" : "crash-consistent");
    backup_run_clear(&run);
    return ok;
}
