/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writers.c — sessions over script and socket writers: ordering, time
 * limits, rollback, the held log. See writers.h for the contract; the
 * pieces live in writer-script.c (discovery, trust), writer-spawn.c (one
 * script run), writer-conn.c / writer-server.c (socket writers) and
 * writer-linger.c (output of scripts' background children).
 */
#include "agent/writers/writers.h"
#include "agent/writers/writers-private.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "agent/writers/writer-conn.h"
#include "agent/writers/writer-linger.h"
#include "agent/writers/writer-output.h"
#include "agent/writers/writer-server.h"
#include "agent/writers/writer-spawn.h"
#include "client/quiesce-writer.h"
#include "common/quiesce-error.h"

/* One writer taking part in a phase. */
typedef struct {
    WriterKind kind;
    WriterScript *script; /* WRITER_KIND_SCRIPT: owned */
    WriterConn *conn;     /* WRITER_KIND_SOCKET: a reference */
} WriterEntry;

struct Writers {
    WritersConfig config;  /* owned copy */
    MemLog *log;           /* the held log */
    GMainContext *context; /* where the listener and linger pipes run */
    WriterServer *server;  /* NULL without socket writers */
    WriterLinger *linger;
    GPtrArray *frozen;     /* WriterEntry*, freeze order; NULL when no session */
    GPtrArray *thawed;     /* WriterEntry* (sockets) of the last thawed session */
    GArray *unreaped;      /* pid_t: killed scripts not reaped yet */
};

static void writer_entry_free(WriterEntry *entry)
{
    if (!entry) {
        return;
    }
    writer_script_free(entry->script);
    writer_conn_unref(entry->conn);
    g_free(entry);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterEntry, writer_entry_free)

static GPtrArray *writer_entry_array_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)writer_entry_free);
}

static const char *writer_entry_get_name(const WriterEntry *entry)
{
    return entry->kind == WRITER_KIND_SCRIPT ? entry->script->path
                                             : writer_conn_get_name(entry->conn);
}

Writers *writers_new(const WritersConfig *config, GError **error)
{
    if (config->writer_timeout_ms == 0 || config->total_timeout_ms == 0 ||
        config->output_cap == 0 || config->log_cap < MEMLOG_MIN_CAP) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "writers: timeouts and caps must be positive (log cap >= %d)",
                    MEMLOG_MIN_CAP);
        return NULL;
    }
    g_autoptr(Writers) writers = g_new0(Writers, 1);
    writers_config_copy(&writers->config, config);
    writers->log = memlog_new(config->log_cap);
    writers->context = g_main_context_ref_thread_default();
    writers->linger = writer_linger_new(writers->context, writers->log, config->output_cap);
    writers->unreaped = g_array_new(FALSE, FALSE, sizeof(pid_t));
    if (config->socket_path &&
        !(writers->server = writer_server_new(config->socket_path, config->socket_group,
                                              writers->context, writers->log, error))) {
        return NULL;
    }
    return g_steal_pointer(&writers);
}

/* Reaps killed scripts that were stuck when their time ran out. */
static void writers_reap(Writers *writers)
{
    for (guint i = writers->unreaped->len; i > 0; i--) {
        pid_t pid = g_array_index(writers->unreaped, pid_t, i - 1);
        if (waitpid(pid, NULL, WNOHANG) != 0) {
            g_array_remove_index(writers->unreaped, i - 1);
        }
    }
}

void writers_free(Writers *writers)
{
    if (!writers) {
        return;
    }
    g_clear_pointer(&writers->frozen, g_ptr_array_unref);
    g_clear_pointer(&writers->thawed, g_ptr_array_unref);
    writer_server_free(writers->server);
    writer_linger_free(writers->linger);
    if (writers->unreaped) {
        writers_reap(writers);
        g_array_unref(writers->unreaped);
    }
    memlog_free(writers->log);
    if (writers->context) {
        g_main_context_unref(writers->context);
    }
    writers_config_clear(&writers->config);
    g_free(writers);
}

static WriterRun *writers_run_script(Writers *writers, const WriterScript *script,
                                     WriterPhase phase, const WriterContext *context,
                                     gint64 deadline)
{
    g_autoptr(GError) error = NULL;
    if (!writer_script_check(script, writers->config.trusted_uid, &error)) {
        WriterRun *run = writer_run_new(WRITER_OUTCOME_REFUSED);
        run->detail = g_strdup_printf("untrusted: %s", error->message);
        return run;
    }
    /* qemu-ga hook scripts know only freeze and thaw; see writers.h. */
    gboolean as_thaw = script->compat && phase == WRITER_PHASE_FREEZE_FAIL;
    g_auto(GStrv) env = writers_context_build_env(context, phase);
    WriterSpawnRequest request = {
        .path = script->path,
        .arg = as_thaw ? "thaw" : writer_phase_to_string(phase),
        .envp = env,
        .deadline = deadline,
        .output_cap = writers->config.output_cap,
    };
    int linger_fd = -1;
    pid_t unreaped = 0;
    WriterRun *run = writer_spawn_run(&request, &linger_fd, &unreaped);
    if (linger_fd >= 0) {
        g_autofree char *prefix = g_strdup_printf("writer %s %s (background): ", script->path,
                                                  writer_phase_to_string(phase));
        writer_linger_add(writers->linger, linger_fd, prefix);
    }
    if (unreaped > 0) {
        g_array_append_val(writers->unreaped, unreaped);
    }
    return run;
}

/* The deadline for the next writer of a phase ending at @phase_deadline;
 * see writers.h for why releasing phases get a grace. */
static gint64 writers_next_deadline(Writers *writers, WriterPhase phase, gint64 phase_deadline)
{
    gint64 now = g_get_monotonic_time();
    gint64 own = (gint64)writers->config.writer_timeout_ms * 1000;
    gint64 left = MAX(phase_deadline - now, 0);
    if (phase == WRITER_PHASE_PREPARE || phase == WRITER_PHASE_FREEZE) {
        return now + MIN(own, left);
    }
    return now + MAX(MIN(own, left), MIN(own, (gint64)WRITERS_RELEASE_GRACE_MS * 1000));
}

/* Runs one writer for @phase. Returns: (transfer full) the run. */
static WriterRun *writers_run_entry(Writers *writers, WriterEntry *entry, WriterPhase phase,
                                    const WriterContext *context, gint64 phase_deadline)
{
    gint64 deadline = writers_next_deadline(writers, phase, phase_deadline);
    if (deadline <= g_get_monotonic_time()) {
        WriterRun *run = writer_run_new(WRITER_OUTCOME_TIMED_OUT);
        run->detail = g_strdup_printf("not run: the phase's time limit (%u ms) ran out first",
                                      writers->config.total_timeout_ms);
        return run;
    }
    if (entry->kind == WRITER_KIND_SCRIPT) {
        return writers_run_script(writers, entry->script, phase, context, deadline);
    }
    return writer_conn_exchange(entry->conn, phase, context->session_id, deadline);
}

/*
 * Logs @run (its output, then a summary) into the held log. Returns:
 * (transfer full) the failure when the run failed, else NULL.
 */
static WriterFailure *writers_judge(Writers *writers, const WriterEntry *entry,
                                    WriterPhase phase, WriterRun *run)
{
    const char *name = writer_entry_get_name(entry);
    const char *phase_name = writer_phase_to_string(phase);
    WriterFailure *failure = NULL;
    if (run->outcome != WRITER_OUTCOME_OK) {
        failure = writer_failure_new(entry->kind, name, phase, run);
    }
    if (run->output) {
        g_autofree char *prefix = g_strdup_printf("writer %s %s: ", name, phase_name);
        writer_output_emit(run->output, writers->log, G_LOG_LEVEL_INFO, prefix, TRUE);
    }
    if (failure) {
        memlog_append(writers->log, G_LOG_LEVEL_WARNING, "writer failed: %s (%s, %"
                      G_GINT64_FORMAT " ms)", failure->message,
                      writer_outcome_to_string(run->outcome), run->elapsed_us / 1000);
    } else {
        memlog_append(writers->log, G_LOG_LEVEL_INFO, "writer %s %s: %s ok (%" G_GINT64_FORMAT
                      " ms)", writer_kind_to_string(entry->kind), name, phase_name,
                      run->elapsed_us / 1000);
    }
    return failure;
}

/* (transfer full) WriterEntry* of the script writers, in order, or NULL
 * with the refusal (and every problem in the held log) when any is
 * untrusted. */
static GPtrArray *writers_collect_scripts(Writers *writers, WriterFailure **out_failure,
                                          GError **error)
{
    g_autoptr(GPtrArray) scripts = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    writer_scripts_scan((const char *const *)writers->config.script_dirs,
                        (const char *const *)writers->config.compat_script_dirs,
                        writers->config.trusted_uid, &scripts, &problems);
    if (problems->len == 0) {
        GPtrArray *entries = writer_entry_array_new();
        for (guint i = 0; i < scripts->len; i++) {
            WriterEntry *entry = g_new0(WriterEntry, 1);
            entry->kind = WRITER_KIND_SCRIPT;
            entry->script = writer_script_copy(scripts->pdata[i]);
            g_ptr_array_add(entries, entry);
        }
        return entries;
    }
    for (guint i = 0; i < problems->len; i++) {
        const WriterProblem *problem = problems->pdata[i];
        memlog_append(writers->log, G_LOG_LEVEL_WARNING, "writer %s refused: %s",
                      problem->path, problem->reason);
    }
    const WriterProblem *first = problems->pdata[0];
    g_autoptr(WriterRun) run = writer_run_new(WRITER_OUTCOME_REFUSED);
    run->detail = g_strdup_printf("untrusted: %s", first->reason);
    g_autoptr(WriterFailure) failure = writer_failure_new(WRITER_KIND_SCRIPT, first->path,
                                                          WRITER_PHASE_FREEZE, run);
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                "no writer was run: %s%s", failure->message,
                problems->len > 1 ? " (and more untrusted scripts)" : "");
    if (out_failure) {
        *out_failure = g_steal_pointer(&failure);
    }
    return NULL;
}

/* Appends the registered socket writers to @entries. */
static void writers_add_sockets(Writers *writers, GPtrArray *entries)
{
    if (!writers->server) {
        return;
    }
    g_autoptr(GPtrArray) conns = writer_server_dup_writers(writers->server);
    for (guint i = 0; i < conns->len; i++) {
        WriterEntry *entry = g_new0(WriterEntry, 1);
        entry->kind = WRITER_KIND_SOCKET;
        entry->conn = writer_conn_ref(conns->pdata[i]);
        g_ptr_array_add(entries, entry);
    }
}

gboolean writers_check(Writers *writers, GPtrArray **out_problems, GError **error)
{
    g_autoptr(GPtrArray) scripts = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    writers_reap(writers);
    writer_scripts_scan((const char *const *)writers->config.script_dirs,
                        (const char *const *)writers->config.compat_script_dirs,
                        writers->config.trusted_uid, &scripts, &problems);
    gboolean ok = problems->len == 0;
    if (!ok) {
        g_autoptr(GString) text = g_string_new(NULL);
        for (guint i = 0; i < problems->len; i++) {
            const WriterProblem *problem = problems->pdata[i];
            g_string_append_printf(text, "%s%s: %s", i ? "; " : "", problem->path,
                                   problem->reason);
        }
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "%u untrusted writer script%s: %s", problems->len,
                    problems->len == 1 ? "" : "s", text->str);
    }
    if (out_problems) {
        *out_problems = g_steal_pointer(&problems);
    }
    return ok;
}

/* Sets @error for a failed prepare or freeze from @failure. */
static void writers_set_phase_error(const WriterFailure *failure, GError **error)
{
    g_set_error(error, QUIESCE_ERROR,
                failure->outcome == WRITER_OUTCOME_TIMED_OUT ? QUIESCE_ERROR_TIMED_OUT
                                                             : QUIESCE_ERROR_FAILED,
                "%s", failure->message);
}

gboolean writers_prepare(Writers *writers, const WriterContext *context,
                         WriterFailure **out_failure, GError **error)
{
    writers_reap(writers);
    if (!writers_context_validate(context, error)) {
        return FALSE;
    }
    g_autoptr(GPtrArray) entries = writer_entry_array_new();
    writers_add_sockets(writers, entries);
    gint64 phase_deadline = g_get_monotonic_time() +
                            (gint64)writers->config.total_timeout_ms * 1000;
    for (guint i = 0; i < entries->len; i++) {
        g_autoptr(WriterRun) run = writers_run_entry(writers, entries->pdata[i],
                                                     WRITER_PHASE_PREPARE, context,
                                                     phase_deadline);
        g_autoptr(WriterFailure) failure = writers_judge(writers, entries->pdata[i],
                                                         WRITER_PHASE_PREPARE, run);
        if (failure) {
            writers_set_phase_error(failure, error);
            if (out_failure) {
                *out_failure = g_steal_pointer(&failure);
            }
            return FALSE;
        }
    }
    return TRUE;
}

/*
 * Runs @phase (freeze-fail or thaw) on every entry of @entries in reverse
 * order, whatever fails. Socket writers lost in the window are failures
 * without a run. Returns: (transfer full) WriterFailure*, maybe empty.
 */
static GPtrArray *writers_release(Writers *writers, GPtrArray *entries, WriterPhase phase,
                                  const WriterContext *context)
{
    GPtrArray *failures = g_ptr_array_new_with_free_func((GDestroyNotify)writer_failure_free);
    gint64 phase_deadline = g_get_monotonic_time() +
                            (gint64)writers->config.total_timeout_ms * 1000;
    for (guint i = entries->len; i > 0; i--) {
        WriterEntry *entry = entries->pdata[i - 1];
        const char *lost = entry->conn ? writer_conn_get_lost_reason(entry->conn) : NULL;
        g_autoptr(WriterRun) run = NULL;
        if (lost) {
            run = writer_run_new(WRITER_OUTCOME_DISCONNECTED);
            run->detail = g_strdup_printf("lost during the freeze window (%s); not told to %s",
                                          lost, writer_phase_to_string(phase));
        } else {
            run = writers_run_entry(writers, entry, phase, context, phase_deadline);
        }
        if (entry->conn) {
            writer_conn_set_in_session(entry->conn, FALSE);
        }
        WriterFailure *failure = writers_judge(writers, entry, phase, run);
        if (failure) {
            g_ptr_array_add(failures, failure);
        }
    }
    return failures;
}

gboolean writers_freeze(Writers *writers, const WriterContext *context,
                        WriterFailure **out_failure, GError **error)
{
    writers_reap(writers);
    if (writers->frozen) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                    "writers are already frozen; thaw them first");
        return FALSE;
    }
    g_autoptr(GPtrArray) order = NULL;
    if (!writers_context_validate(context, error) ||
        !(order = writers_collect_scripts(writers, out_failure, error))) {
        return FALSE;
    }
    writers_add_sockets(writers, order);
    g_clear_pointer(&writers->thawed, g_ptr_array_unref);
    writers->frozen = writer_entry_array_new();
    gint64 phase_deadline = g_get_monotonic_time() +
                            (gint64)writers->config.total_timeout_ms * 1000;
    for (guint i = 0; i < order->len; i++) {
        WriterEntry *entry = order->pdata[i];
        g_autoptr(WriterRun) run = writers_run_entry(writers, entry, WRITER_PHASE_FREEZE,
                                                     context, phase_deadline);
        g_autoptr(WriterFailure) failure = writers_judge(writers, entry, WRITER_PHASE_FREEZE,
                                                         run);
        if (failure) {
            writers_set_phase_error(failure, error);
            if (out_failure) {
                *out_failure = g_steal_pointer(&failure);
            }
            writers_freeze_fail(writers, context);
            return FALSE;
        }
        if (entry->conn) {
            writer_conn_set_in_session(entry->conn, TRUE);
        }
        order->pdata[i] = NULL; /* moves to the frozen set */
        g_ptr_array_add(writers->frozen, entry);
    }
    return TRUE;
}

void writers_freeze_fail(Writers *writers, const WriterContext *context)
{
    if (!writers->frozen) {
        return;
    }
    g_autoptr(GPtrArray) frozen = g_steal_pointer(&writers->frozen);
    /* Failures of freeze-fail are logged by writers_release(); nobody is
     * left to tell. */
    g_ptr_array_unref(writers_release(writers, frozen, WRITER_PHASE_FREEZE_FAIL, context));
}

void writers_release_orphaned(Writers *writers, const WriterContext *given)
{
    WriterContext safe = *given;
    const WriterContext *context = &safe;
    g_autoptr(GPtrArray) scripts = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    g_autoptr(GPtrArray) entries = writer_entry_array_new();
    writer_scripts_scan((const char *const *)writers->config.script_dirs,
                        (const char *const *)writers->config.compat_script_dirs,
                        writers->config.trusted_uid, &scripts, &problems);
    for (guint i = 0; i < problems->len; i++) {
        const WriterProblem *problem = problems->pdata[i];
        memlog_append(writers->log, G_LOG_LEVEL_WARNING, "writer %s refused: %s", problem->path,
                      problem->reason);
    }
    if (!writers_context_validate(&safe, NULL)) {
        safe.session_id = NULL; /* read from a state file, not trusted */
    }
    /* The trusted ones: writers_run_script() checks each again. */
    for (guint i = 0; i < scripts->len; i++) {
        WriterEntry *entry = g_new0(WriterEntry, 1);
        entry->kind = WRITER_KIND_SCRIPT;
        entry->script = writer_script_copy(scripts->pdata[i]);
        g_ptr_array_add(entries, entry);
    }
    memlog_append(writers->log, G_LOG_LEVEL_MESSAGE,
                  "releasing %u script writer(s) a previous run may have left frozen "
                  "(session %s)",
                  entries->len, context->session_id ? context->session_id : "unknown");
    /* Failures are logged by writers_release(); nobody is left to tell. */
    g_ptr_array_unref(writers_release(writers, entries, WRITER_PHASE_FREEZE_FAIL, context));
}

gboolean writers_is_frozen(Writers *writers)
{
    return writers->frozen != NULL;
}

gboolean writers_window_intact(Writers *writers, GError **error)
{
    if (!writers->frozen) {
        return TRUE;
    }
    g_autoptr(GString) lost = g_string_new(NULL);
    for (guint i = 0; i < writers->frozen->len; i++) {
        WriterEntry *entry = writers->frozen->pdata[i];
        if (!entry->conn) {
            continue;
        }
        writer_conn_check_alive(entry->conn);
        const char *reason = writer_conn_get_lost_reason(entry->conn);
        if (reason) {
            g_string_append_printf(lost, "%s%s (%s)", lost->len ? ", " : "",
                                   writer_conn_get_name(entry->conn), reason);
        }
    }
    if (lost->len > 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "socket writer left during the freeze window: %s", lost->str);
        return FALSE;
    }
    return TRUE;
}

gboolean writers_thaw(Writers *writers, const WriterContext *context,
                      GPtrArray **out_failures, GError **error)
{
    writers_reap(writers);
    g_autoptr(GPtrArray) frozen = g_steal_pointer(&writers->frozen);
    g_autoptr(GPtrArray) failures = frozen
        ? writers_release(writers, frozen, WRITER_PHASE_THAW, context)
        : g_ptr_array_new_with_free_func((GDestroyNotify)writer_failure_free);
    if (frozen) {
        /* Keep the socket writers for post-snapshot. */
        writers->thawed = writer_entry_array_new();
        for (guint i = 0; i < frozen->len; i++) {
            WriterEntry *entry = frozen->pdata[i];
            if (entry->conn && writer_conn_is_open(entry->conn)) {
                WriterEntry *copy = g_new0(WriterEntry, 1);
                copy->kind = WRITER_KIND_SOCKET;
                copy->conn = writer_conn_ref(entry->conn);
                g_ptr_array_add(writers->thawed, copy);
            }
        }
    }
    gboolean ok = failures->len == 0;
    if (!ok) {
        g_autoptr(GString) text = g_string_new(NULL);
        for (guint i = 0; i < failures->len; i++) {
            const WriterFailure *failure = failures->pdata[i];
            g_string_append_printf(text, "%s%s", i ? "; " : "", failure->message);
        }
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%u writer%s failed to thaw: %s",
                    failures->len, failures->len == 1 ? "" : "s", text->str);
    }
    if (out_failures) {
        *out_failures = g_steal_pointer(&failures);
    }
    return ok;
}

void writers_post_snapshot(Writers *writers, const WriterContext *context)
{
    g_autoptr(GPtrArray) thawed = g_steal_pointer(&writers->thawed);
    if (!thawed || !writers_context_validate(context, NULL)) {
        return;
    }
    gint64 phase_deadline = g_get_monotonic_time() +
                            (gint64)writers->config.total_timeout_ms * 1000;
    for (guint i = 0; i < thawed->len; i++) {
        WriterEntry *entry = thawed->pdata[i];
        if (!writer_conn_is_open(entry->conn)) {
            continue;
        }
        g_autoptr(WriterRun) run = writers_run_entry(writers, entry, WRITER_PHASE_POST_SNAPSHOT,
                                                     context, phase_deadline);
        /* Judged for the log only: the snapshot is already consistent. */
        writer_failure_free(writers_judge(writers, entry, WRITER_PHASE_POST_SNAPSHOT, run));
    }
}

void writers_flush_log(Writers *writers, MemLogFunc func, gpointer user_data)
{
    writers_reap(writers);
    writer_linger_drain(writers->linger);
    memlog_flush(writers->log, func, user_data);
}

void writers_set_log_notify(Writers *writers, MemLogNotify notify, gpointer user_data)
{
    memlog_set_notify(writers->log, notify, user_data);
}

GStrv writers_dup_socket_writer_names(Writers *writers)
{
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    if (writers->server) {
        g_autoptr(GPtrArray) conns = writer_server_dup_writers(writers->server);
        for (guint i = 0; i < conns->len; i++) {
            g_strv_builder_add(builder, writer_conn_get_name(conns->pdata[i]));
        }
    }
    return g_strv_builder_end(builder);
}

const char *writers_get_socket_path(Writers *writers)
{
    return writers->server ? writer_server_get_path(writers->server) : NULL;
}
