/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-backup.c — one libvirt domain's backup (the flow is in the header):
 *
 *   guest-snapshot-check      capability query, reported only
 *   guest-snapshot-prepare    "child-snapshot" -> virDomainBackupBegin while
 *                             frozen, guest-snapshot-post, wait for the copy
 *     "saved-state", no agent, no answer, or a failed post ->
 *                             suspend, memory save, virDomainBackupBegin,
 *                             resume, wait for the copy
 *
 * Why a push-mode backup job and not an atomic disk-only snapshot with the
 * overlays committed back afterwards: the job's point in time is its start
 * (QEMU's copy-before-write filter, one transaction over every disk), so
 * the guest is thawed as soon as the job has begun and the copy runs after
 * post; nothing is left on the domain to merge back; and the copy is written
 * by libvirtd on its own host, so a remote URI works the same.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "common/quiesce-error.h"
#include "host/agent-client.h"
#include "host/virt-backup.h"
#include "host/virt-domain.h"

typedef struct {
    const VirtOptions *options;
    const char *name;
    VirtOutput *out;
    Report *report;
    VirtDomain *domain;
    gint64 started;
    GPtrArray *files;     /* char *: the files this run asked libvirtd to write */
    char *reason;         /* why the saved-state fallback is taken */
} VirtRun;

static void virt_run_progress(guint64 done, guint64 total, gpointer data)
{
    VirtRun *run = data;

    virt_output_progress(run->out, run->name, done, total);
}

/* An agent error as the reason to fall back. */
static char *virt_agent_reason(const char *command, const GError *error)
{
    if (g_error_matches(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND)) {
        return g_strdup_printf("agent-unavailable: %s", error->message);
    }
    return g_strdup_printf("agent-error: %s: %s", command, error->message);
}

/* A copy that must not be kept: cancel the job, delete what it wrote (only
 * possible when libvirtd runs here; otherwise the report names the files). */
static void virt_discard(VirtRun *run)
{
    g_autoptr(GString) left = g_string_new(NULL);

    virt_domain_backup_abort(run->domain);
    for (guint i = 0; i < run->files->len; i++) {
        const char *path = g_ptr_array_index(run->files, i);
        if (!virt_domain_is_local(run->domain) || (g_unlink(path) < 0 && errno != ENOENT)) {
            g_string_append_printf(left, "%s%s", left->len ? " " : "", path);
        }
    }
    if (left->len) {
        report_set(run->report, "discarded-left", "%s", left->str);
        virt_output_say(run->out, run->name, "discarded copy left on libvirtd's host: %s",
                        left->str);
    } else {
        virt_output_say(run->out, run->name, "discarded the copy");
    }
    g_ptr_array_set_size(run->files, 0);
}

static gboolean virt_wait_copy(VirtRun *run, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    guint64 bytes = 0;

    if (!virt_domain_backup_wait(run->domain, virt_run_progress, run, &bytes, error)) {
        return FALSE;
    }
    report_set_ms(run->report, "copy-ms", g_get_monotonic_time() - t0);
    report_set(run->report, "bytes", "%" G_GUINT64_FORMAT, bytes);
    virt_output_say(run->out, run->name, "copied %" G_GUINT64_FORMAT " bytes in %s ms after the "
                    "point in time", bytes, report_get(run->report, "copy-ms"));
    return TRUE;
}

static void virt_files_report(VirtRun *run)
{
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < run->files->len; i++) {
        g_string_append_printf(text, "%s%s", i ? " " : "",
                               (const char *)g_ptr_array_index(run->files, i));
    }
    report_set(run->report, "files", "%s", text->str);
}

/* After prepare froze the guest. TRUE: the copy is good (job started while
 * frozen, post succeeded); FALSE with run->reason set: fall back;
 * FALSE without: no backup (error set). */
static gboolean virt_child(VirtRun *run, const JsonValue *prepared, gint64 answered,
                           GError **error)
{
    const char *session = json_object_get_string(prepared, "session");
    g_autoptr(JsonValue) post_args = json_object_new();
    g_autoptr(JsonValue) posted = NULL;
    g_autoptr(GError) begin_error = NULL;
    g_autoptr(GError) post_error = NULL;
    int64_t frozen_ms = -1;
    gint64 t0 = g_get_monotonic_time();
    gint64 t1;

    if (!virt_domain_backup_begin(run->domain, run->options->dest, run->name, run->files,
                                  &begin_error)) {
        g_autoptr(JsonValue) abort_args = json_object_new();
        g_autoptr(GError) abort_error = NULL;

        json_object_set_string(abort_args, "session", session ? session : "");
        json_value_free(virt_domain_agent(run->domain, "guest-snapshot-abort",
                                          g_steal_pointer(&abort_args),
                                          run->options->command_timeout_s, &abort_error));
        virt_discard(run);
        run->reason = g_strdup_printf("backup-begin: %s", begin_error->message);
        return FALSE;
    }
    report_set_ms(run->report, "begin-ms", g_get_monotonic_time() - t0);
    virt_output_say(run->out, run->name, "backup job started while frozen (%s ms): the point in "
                    "time of every disk", report_get(run->report, "begin-ms"));
    if (run->options->hold_frozen_ms > 0) {
        virt_output_say(run->out, run->name, "holding the guest frozen %d ms (--hold-frozen)",
                        run->options->hold_frozen_ms);
        g_usleep((gulong)run->options->hold_frozen_ms * 1000);
    }
    json_object_set_string(post_args, "session", session ? session : "");
    t0 = g_get_monotonic_time();
    /* From prepare's answer to post's request: frozen for all of it. */
    report_set_ms(run->report, "window-inner-ms", t0 - answered);
    posted = virt_domain_agent(run->domain, "guest-snapshot-post", g_steal_pointer(&post_args),
                               run->options->command_timeout_s, &post_error);
    t1 = g_get_monotonic_time();
    report_set_ms(run->report, "post-ms", t1 - t0);
    if (!posted) {
        report_set(run->report, "child-copy", "discarded");
        virt_output_say(run->out, run->name, "post failed, the copy is not consistent: %s",
                        post_error->message);
        virt_discard(run);
        run->reason = g_strdup_printf("post-failed: %s", post_error->message);
        return FALSE;
    }
    json_value_get_int(json_object_get(posted, "frozen-ms"), &frozen_ms);
    report_set(run->report, "frozen-ms", "%" G_GINT64_FORMAT, (gint64)frozen_ms);
    virt_output_say(run->out, run->name, "post: thawed, frozen %" G_GINT64_FORMAT " ms by the "
                    "agent's count", (gint64)frozen_ms);
    virt_files_report(run);
    return virt_wait_copy(run, error);
}

/* Hyper-V's Saved State: memory and disks at one instant of a paused guest.
 * The disks are copied while the guest stays paused, before the memory save:
 * with QEMU 7.2 a backup job begun after the memory save (which leaves the
 * block nodes inactive until the resume) failed with "Illegal seek" once the
 * resumed guest wrote during the copy. So the pause costs the copy plus the
 * memory save. */
static gboolean virt_saved_state(VirtRun *run, GError **error)
{
    g_autofree char *prefix = NULL;
    g_autofree char *memory = NULL;
    g_autoptr(GError) resume_error = NULL;
    gboolean was_paused = virt_domain_is_paused(run->domain);
    gboolean ok;
    gint64 paused;
    gint64 t0;

    report_set(run->report, "method", "saved-state");
    report_set(run->report, "fallback-reason", "%s", run->reason);
    virt_output_say(run->out, run->name, "fallback to saved state: %s", run->reason);
    /* A discarded copy that could not be deleted keeps its names. */
    prefix = report_get(run->report, "discarded-left")
                 ? g_strdup_printf("%s.saved-state", run->name)
                 : g_strdup(run->name);
    memory = g_strdup_printf("%s/%s.memory", run->options->dest, prefix);
    if (!was_paused && !virt_domain_suspend(run->domain, error)) {
        return FALSE;
    }
    paused = g_get_monotonic_time();
    ok = virt_domain_backup_begin(run->domain, run->options->dest, prefix, run->files, error);
    report_set_ms(run->report, "begin-ms", g_get_monotonic_time() - paused);
    ok = ok && virt_wait_copy(run, error);
    t0 = g_get_monotonic_time();
    if (ok) {
        g_ptr_array_add(run->files, g_strdup(memory));
        ok = virt_domain_save_memory(run->domain, memory, error);
        report_set_ms(run->report, "memory-save-ms", g_get_monotonic_time() - t0);
    }
    if (!was_paused && !virt_domain_resume(run->domain, &resume_error)) {
        if (ok) {
            g_propagate_error(error, g_steal_pointer(&resume_error));
        }
        ok = FALSE;
    }
    report_set_ms(run->report, "pause-ms", g_get_monotonic_time() - paused);
    if (!ok) {
        virt_discard(run);
        return FALSE;
    }
    report_set(run->report, "memory-file", "%s", memory);
    virt_output_say(run->out, run->name, "paused %s ms: disks copied in %s ms, memory saved in %s "
                    "ms; resumed", report_get(run->report, "pause-ms"),
                    report_get(run->report, "copy-ms"), report_get(run->report, "memory-save-ms"));
    virt_files_report(run);
    return TRUE;
}

/* check, prepare. Returns prepare's child-snapshot answer, or NULL with
 * run->reason set. */
static JsonValue *virt_prepare(VirtRun *run, gint64 *answered)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonValue) check = NULL;
    g_autoptr(JsonValue) prepared = NULL;
    g_autofree char *frozen = NULL;
    g_autofree char *reasons = NULL;
    const char *method;
    gint64 t0 = g_get_monotonic_time();

    check = virt_domain_agent(run->domain, "guest-snapshot-check", NULL,
                              run->options->agent_timeout_s, &error);
    report_set_ms(run->report, "check-ms", g_get_monotonic_time() - t0);
    if (!check) {
        run->reason = virt_agent_reason("guest-snapshot-check", error);
        return NULL;
    }
    method = json_object_get_string(check, "method");
    report_set(run->report, "check-method", "%s", method ? method : "?");
    t0 = g_get_monotonic_time();
    prepared = virt_domain_agent(run->domain, "guest-snapshot-prepare", NULL,
                                 run->options->prepare_timeout_s, &error);
    *answered = g_get_monotonic_time();
    report_set_ms(run->report, "prepare-ms", *answered - t0);
    if (!prepared) {
        run->reason = virt_agent_reason("guest-snapshot-prepare", error);
        if (g_error_matches(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND)) {
            /* It may still freeze later: call it off (its window bounds it
             * anyway). */
            g_autoptr(GError) abort_error = NULL;
            json_value_free(virt_domain_agent(run->domain, "guest-snapshot-abort", NULL,
                                              run->options->command_timeout_s, &abort_error));
        }
        return NULL;
    }
    method = json_object_get_string(prepared, "method");
    frozen = agent_reply_mountpoints(json_object_get(prepared, "frozen"));
    report_set(run->report, "prepare-method", "%s", method ? method : "?");
    if (method && strcmp(method, "child-snapshot") == 0) {
        g_autofree char *excluded = agent_reply_mountpoints(json_object_get(prepared, "excluded"));

        report_set(run->report, "session", "%s", json_object_get_string(prepared, "session"));
        report_set(run->report, "frozen", "%s", frozen);
        report_set(run->report, "excluded", "%s", excluded);
        virt_output_say(run->out, run->name, "prepare: child-snapshot, frozen [%s] (%s ms)", frozen,
                        report_get(run->report, "prepare-ms"));
        return g_steal_pointer(&prepared);
    }
    reasons = agent_reply_reasons(prepared);
    report_set(run->report, "reasons", "%s", reasons);
    run->reason = g_strdup_printf("guest: %s", reasons);
    return NULL;
}

VirtOutcome virt_backup_domain(const VirtOptions *options, const char *name, VirtOutput *out,
                               Report *report)
{
    VirtRun run = { .options = options, .name = name, .out = out, .report = report };
    g_autoptr(VirtDomain) domain = NULL;
    g_autoptr(JsonValue) prepared = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *disks = NULL;
    gint64 answered = 0;
    VirtOutcome outcome = VIRT_OUTCOME_FAILED;

    run.started = g_get_monotonic_time();
    run.files = g_ptr_array_new_with_free_func(g_free);
    report_set(report, "domain", "%s", name);
    domain = virt_domain_open(options->uri, name, &error);
    if (domain) {
        run.domain = domain;
        disks = virt_domain_describe(domain);
        report_set(report, "disks", "%s", disks);
        virt_output_say(out, name, "disks %s", disks);
        prepared = virt_prepare(&run, &answered);
        if (prepared) {
            report_set(report, "method", "child-snapshot");
            if (virt_child(&run, prepared, answered, &error)) {
                outcome = VIRT_OUTCOME_CHILD_SNAPSHOT;
            }
        }
        if (outcome == VIRT_OUTCOME_FAILED && !error && virt_saved_state(&run, &error)) {
            outcome = VIRT_OUTCOME_SAVED_STATE;
        }
    }
    report_set_ms(report, "total-ms", g_get_monotonic_time() - run.started);
    switch (outcome) {
    case VIRT_OUTCOME_CHILD_SNAPSHOT:
        report_set(report, "result", "application-consistent");
        break;
    case VIRT_OUTCOME_SAVED_STATE:
        report_set(report, "result", "saved-state");
        break;
    case VIRT_OUTCOME_FAILED:
        report_set(report, "result", "failed");
        report_set(report, "error", "%s", error ? error->message : "unknown");
        break;
    }
    g_ptr_array_unref(run.files);
    g_free(run.reason);
    return outcome;
}
