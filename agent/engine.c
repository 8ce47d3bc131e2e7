/*
 * engine.c — the engine's public operations: configuration, recovery on
 * start, eligibility checks, and the QGA and session requests, which decide
 * what to freeze and hand it to engine-session.c (one session's life:
 * writers, freeze, state file, watchdog, thaw). Everything is probed here,
 * before a session starts (docs/design.md §7).
 */
#include "agent/engine-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/writers/writer-output.h"
#include "agent/writers/writer-spawn.h"
#include "common/quiesce-error.h"
#include "fsfreeze/frozen-state.h"


EngineConfig *engine_config_new(void)
{
    EngineConfig *config = g_new0(EngineConfig, 1);

    config->state_dir = g_strdup(ENGINE_DEFAULT_STATE_DIR);
    config->state_lock_fd = -1;
    config->window_seconds = ENGINE_DEFAULT_WINDOW_SECONDS;
    config->host_lost_grace_seconds = ENGINE_DEFAULT_HOST_LOST_GRACE_SECONDS;
    config->policy = eligibility_policy_new();
    config->running_state_command = g_strdup(ENGINE_DEFAULT_RUNNING_STATE_COMMAND);
    writers_config_init(&config->writers);
    return config;
}

void engine_config_free(EngineConfig *config)
{
    if (!config) {
        return;
    }
    g_free(config->state_dir);
    if (config->state_lock_fd >= 0) {
        close(config->state_lock_fd);
    }
    eligibility_policy_free(config->policy);
    g_free(config->running_state_command);
    writers_config_clear(&config->writers);
    g_free(config);
}

gboolean engine_config_lock(EngineConfig *config, GError **error)
{
    g_autofree char *path = g_build_filename(config->state_dir, ENGINE_STATE_LOCK_NAME, NULL);
    gint64 give_up = g_get_monotonic_time() + ENGINE_STATE_LOCK_WAIT_MS * 1000;
    int fd;

    if (config->state_lock_fd >= 0) {
        return TRUE;
    }
    if (g_mkdir_with_parents(config->state_dir, 0700) != 0) {
        int err = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot create %s: %s",
                    config->state_dir, g_strerror(err));
        return FALSE;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int err = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot open %s: %s", path,
                    g_strerror(err));
        return FALSE;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err == EINTR) {
            continue;
        }
        if (err != EWOULDBLOCK || g_get_monotonic_time() >= give_up) {
            close(fd);
            g_set_error(error, QUIESCE_ERROR,
                        err == EWOULDBLOCK ? QUIESCE_ERROR_BUSY : QUIESCE_ERROR_FAILED,
                        "%s: %s", path,
                        err == EWOULDBLOCK ? "another quiesced is running with this state "
                                             "directory (only one agent may run per guest)"
                                           : g_strerror(err));
            return FALSE;
        }
        g_usleep(50000);
    }
    config->state_lock_fd = fd;
    return TRUE;
}

void engine_ended_free(EngineEnded *ended)
{
    if (!ended) {
        return;
    }
    g_free(ended->session_id);
    g_free(ended->message);
    g_free(ended);
}

void engine_set_ended(Engine *engine, EngineEnd end, const char *session_id,
                             char *message /* transfer full */)
{
    engine_ended_free(engine->ended);
    engine->ended = g_new0(EngineEnded, 1);
    engine->ended->end = end;
    engine->ended->session_id = g_strdup(session_id);
    engine->ended->message = message;
}

static FsFreezeOptions engine_freeze_options(const Engine *engine, gint64 deadline_mono)
{
    return (FsFreezeOptions){
        .confine_dir = engine->config->policy->confine,
        .deadline = deadline_mono,
        .ops = engine->config->ops,
    };
}

static void engine_recover(Engine *engine, GError **error)
{
    g_autoptr(FrozenStateBroken) broken = NULL;
    FsFreezeOptions options = engine_freeze_options(engine, 0);

    frozen_state_recover(engine->config->state_dir, &options, &broken, error);
    if (broken) {
        engine_set_ended(engine, ENGINE_END_BROKEN, broken->session_id,
                         g_strdup_printf("snapshot session %s is invalid: %s; the agent thawed "
                                         "%u filesystem(s) on restart, so the snapshot must be "
                                         "discarded",
                                         broken->session_id, broken->reason, broken->thawed));
    }
}

Engine *engine_new(EngineConfig *config, Writers *writers, EngineFrozenChanged frozen_changed,
                   gpointer user_data, GError **recovery_error)
{
    Engine *engine = g_new0(Engine, 1);

    engine->config = config;
    engine->writers = writers;
    engine->frozen_changed = frozen_changed;
    engine->user_data = user_data;
    engine_recover(engine, recovery_error);
    return engine;
}

const EngineConfig *engine_get_config(const Engine *engine)
{
    return engine->config;
}

gboolean engine_is_frozen(const Engine *engine)
{
    return engine->frozen && fs_frozen_set_get_length(engine->frozen) > 0;
}

const EngineSession *engine_get_session(const Engine *engine)
{
    return engine->session;
}

const EngineEnded *engine_get_ended(const Engine *engine)
{
    return engine->ended;
}

const char *engine_get_failure_code(const Engine *engine)
{
    return engine->failure_code;
}

GStrv engine_dup_frozen(const Engine *engine)
{
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    guint length = engine->frozen ? fs_frozen_set_get_length(engine->frozen) : 0;

    for (guint i = 0; i < length; i++) {
        g_strv_builder_add(builder, fs_frozen_set_get_target(engine->frozen, i)->mountpoint);
    }
    return g_strv_builder_end(builder);
}

/* A child killed at its deadline that was not reaped in time (stuck in the
 * kernel) is reaped by the main loop whenever it dies. */
static void engine_reap_late(GPid pid, gint status, gpointer user_data)
{
    g_spawn_close_pid(pid);
}

/*
 * Runs argv with the writers' runner (writer-spawn.h: its own session and
 * process group, a clean signal mask, killed with its group at the
 * deadline) and returns what it printed on stdout, or NULL when it could not
 * start or did not finish within timeout_ms: a hung systemctl (a stuck
 * D-Bus) must not hang the agent.
 */
static char *engine_capture(char **argv, int timeout_ms)
{
    g_autofree char *path = g_find_program_in_path(argv[0]);
    g_auto(GStrv) env = g_get_environ();
    g_autoptr(WriterRun) run = NULL;
    WriterSpawnRequest request = {
        .path = path,
        .argv = (const char *const *)argv,
        .discard_stderr = TRUE,
        .envp = env,
        .deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000,
        .output_cap = 4096,
    };
    int linger_fd = -1;
    pid_t unreaped = 0;

    if (!path) {
        return NULL;
    }
    run = writer_spawn_run(&request, &linger_fd, &unreaped);
    if (linger_fd >= 0) {
        close(linger_fd); /* something it started still holds stdout: not waited for */
    }
    if (unreaped > 0) {
        g_child_watch_add(unreaped, engine_reap_late, NULL);
    }
    if (run->outcome != WRITER_OUTCOME_OK && run->outcome != WRITER_OUTCOME_EXITED) {
        return NULL;
    }
    return run->output ? writer_output_dup_tail(run->output, 0) : g_strdup("");
}

/* systemd's system state, or NULL when there is no systemd to ask;
 * "unknown" when the command fails to start or answer in time. */
static char *engine_running_state(const EngineConfig *config)
{
    const char *command = config->running_state_command;
    g_auto(GStrv) argv = NULL;
    char *out;

    if (!command || !*command) {
        return NULL;
    }
    if (g_str_equal(command, ENGINE_DEFAULT_RUNNING_STATE_COMMAND) &&
        !g_file_test("/run/systemd/system", G_FILE_TEST_IS_DIR)) {
        return NULL; /* sd_booted()'s test: not running under systemd */
    }
    if (!g_shell_parse_argv(command, NULL, &argv, NULL) ||
        !(out = engine_capture(argv, ENGINE_RUNNING_STATE_TIMEOUT_MS))) {
        g_warning("running-state-command '%s' failed or did not answer within %d ms", command,
                  ENGINE_RUNNING_STATE_TIMEOUT_MS);
        return g_strdup("unknown");
    }
    /* is-system-running exits non-zero for every state but running: the
     * state is what it prints. */
    return g_strstrip(out);
}

/* An untrusted writer script would make an inconsistent backup look
 * consistent if it were skipped: it blocks the child snapshot. */
static void engine_check_writers(Writers *writers, EligibilityReport *report)
{
    g_autoptr(GPtrArray) problems = NULL;

    if (!writers || writers_check(writers, &problems, NULL)) {
        return;
    }
    for (guint i = 0; problems && i < problems->len; i++) {
        const WriterProblem *problem = g_ptr_array_index(problems, i);
        g_autofree char *message =
            g_strdup_printf("writer %s refused: %s", problem->path, problem->reason);
        eligibility_report_block(report, WRITERS_REASON_UNTRUSTED_WRITER, NULL, message);
    }
}

/* with_state: ask the running-state command (guest-fsfreeze-freeze does
 * not: it makes no eligibility verdict). */
static EligibilityReport *engine_probe(const EngineConfig *config, Writers *writers,
                                       gboolean with_state, GError **error)
{
    g_autoptr(InventoryOptions) options = inventory_options_new();
    g_autoptr(Inventory) inventory = inventory_probe(options, error);
    g_autofree char *state = NULL;
    EligibilityReport *report;

    if (!inventory) {
        return NULL;
    }
    state = with_state ? engine_running_state(config) : NULL;
    report = eligibility_evaluate(inventory, config->policy, state);
    engine_check_writers(writers, report);
    return report;
}

EligibilityReport *engine_config_check(const EngineConfig *config, Writers *writers,
                                       GError **error)
{
    return engine_probe(config, writers, TRUE, error);
}

/* Refuses while a session holds anything frozen (filesystems or writers). */
static gboolean engine_check_thawed(const Engine *engine, GError **error)
{
    if (engine->session && (engine->frozen || engine->writers_frozen)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                    "snapshot session %s is active and holds the guest frozen; "
                    "post, thaw or abort it first",
                    engine->session->id);
        return FALSE;
    }
    return TRUE;
}

EligibilityReport *engine_check(Engine *engine, GError **error)
{
    if (!engine_check_thawed(engine, error)) {
        return NULL;
    }
    return engine_probe(engine->config, engine->writers, TRUE, error);
}

/* freezable targets matching the requested paths, in freeze order. */
static GPtrArray *engine_select_targets(const EligibilityReport *report,
                                        const char *const *mountpoints, GError **error)
{
    GPtrArray *all = report->freezable_targets;
    g_autoptr(GPtrArray) chosen = freeze_target_array_new();

    for (gsize i = 0; mountpoints && mountpoints[i]; i++) {
        const MountReport *mount = eligibility_report_find_mount(report, mountpoints[i]);
        gboolean found = FALSE;
        for (guint t = 0; mount && t < all->len && !found; t++) {
            const FreezeTarget *target = g_ptr_array_index(all, t);
            found = g_str_equal(target->mountpoint, mount->mount->mountpoint);
        }
        if (!found) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND,
                        "%s is not a mounted filesystem that can be frozen%s%s", mountpoints[i],
                        mount ? ": " : "", mount ? mount->reason : "");
            return NULL;
        }
    }
    for (guint t = 0; t < all->len; t++) {
        const FreezeTarget *target = g_ptr_array_index(all, t);
        for (gsize i = 0; mountpoints && mountpoints[i]; i++) {
            const MountReport *mount = eligibility_report_find_mount(report, mountpoints[i]);
            if (g_str_equal(target->mountpoint, mount->mount->mountpoint)) {
                g_ptr_array_add(chosen, freeze_target_copy(target));
                break;
            }
        }
    }
    return g_steal_pointer(&chosen);
}

gboolean engine_freeze(Engine *engine, const char *const *mountpoints, guint *count,
                       GError **error)
{
    g_autoptr(EligibilityReport) report = NULL;
    g_autoptr(GPtrArray) targets = NULL;

    *count = 0;
    if (engine->session) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                    "snapshot session %s is active; thaw it first", engine->session->id);
        return FALSE;
    }
    report = engine_probe(engine->config, engine->writers, FALSE, error);
    if (!report) {
        return FALSE;
    }
    if (report->freezable_order_error) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "cannot order the freeze: %s", report->freezable_order_error);
        return FALSE;
    }
    targets = mountpoints ? engine_select_targets(report, mountpoints, error)
                          : g_ptr_array_ref(report->freezable_targets);
    if (!targets) {
        return FALSE;
    }
    if (targets->len == 0) {
        return TRUE; /* qemu-ga: 0 frozen, the state stays thawed */
    }
    if (!engine_session_start(engine, targets, TRUE, error)) {
        return FALSE;
    }
    *count = targets->len;
    return TRUE;
}

/* Fails with the ended session's message and forgets it (told once). */
static gboolean engine_report_ended(Engine *engine, GError **error)
{
    int code = QUIESCE_ERROR_EXPIRED;

    g_set_error_literal(error, QUIESCE_ERROR, code, engine->ended->message);
    if (engine->ended->end == ENGINE_END_BROKEN) {
        frozen_state_clear_broken(engine->config->state_dir, NULL);
    }
    g_clear_pointer(&engine->ended, engine_ended_free);
    return FALSE;
}

gboolean engine_thaw(Engine *engine, guint *count, GError **error)
{
    *count = 0;
    if (engine->session) {
        return engine_session_end(engine, ENGINE_END_MODE_THAW, count, error);
    }
    if (engine->ended) {
        return engine_report_ended(engine, error);
    }
    return TRUE;
}

gboolean engine_prepare(Engine *engine, EligibilityReport **report_out, GError **failure_out,
                        GError **error)
{
    g_autoptr(EligibilityReport) report = NULL;

    *report_out = NULL;
    if (engine->session) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                    "snapshot session %s is already active", engine->session->id);
        return FALSE;
    }
    report = engine_check(engine, error);
    if (!report) {
        return FALSE;
    }
    if (report->method == SNAPSHOT_METHOD_CHILD_SNAPSHOT) {
        g_autoptr(GError) failure = NULL;
        if (!engine_session_start(engine, report->targets, TRUE, &failure)) {
            g_propagate_error(failure_out, g_steal_pointer(&failure));
        }
    }
    *report_out = g_steal_pointer(&report);
    return TRUE;
}

static gboolean engine_end_by_id(Engine *engine, const char *session_id, gboolean abort,
                                 guint *thawed, GError **error)
{
    *thawed = 0;
    if (engine->session && (!session_id || g_str_equal(engine->session->id, session_id))) {
        return engine_session_end(engine, abort ? ENGINE_END_MODE_ABORT : ENGINE_END_MODE_POST,
                                  thawed, error);
    }
    if (engine->ended && (!session_id || g_str_equal(engine->ended->session_id, session_id))) {
        if (abort) {
            /* Already thawed: what abort asks for is done. */
            if (engine->ended->end == ENGINE_END_BROKEN) {
                frozen_state_clear_broken(engine->config->state_dir, NULL);
            }
            g_clear_pointer(&engine->ended, engine_ended_free);
            return TRUE;
        }
        return engine_report_ended(engine, error);
    }
    if (abort && !session_id) {
        return TRUE; /* nothing to abort: done, like a thaw of nothing */
    }
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND,
                "no snapshot session %s is active%s%s", session_id ? session_id : "",
                engine->session ? "; the active one is " : "",
                engine->session ? engine->session->id : "");
    return FALSE;
}

gboolean engine_post(Engine *engine, const char *session_id, guint *thawed, GError **error)
{
    return engine_end_by_id(engine, session_id, FALSE, thawed, error);
}

gboolean engine_abort(Engine *engine, const char *session_id, guint *thawed, GError **error)
{
    return engine_end_by_id(engine, session_id, TRUE, thawed, error);
}

void engine_shutdown(Engine *engine)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *id = NULL;
    guint thawed = 0;

    if (!engine->session) {
        return;
    }
    id = g_strdup(engine->session->id);
    if (!engine_session_end(engine, ENGINE_END_MODE_ABORT, &thawed, &error) &&
        engine->session) {
        g_critical("stopping: thaw of session %s failed: %s", id, error->message);
        return;
    }
    if (thawed > 0) {
        g_warning("stopping: thawed %u filesystem(s) of session %s before the host's post", thawed,
                  id);
    }
}

void engine_free(Engine *engine)
{
    if (!engine) {
        return;
    }
    engine_shutdown(engine);
    g_clear_handle_id(&engine->watchdog, g_source_remove);
    g_clear_handle_id(&engine->host_lost, g_source_remove);
    fs_frozen_set_free(engine->frozen);
    engine_session_free(engine->session);
    engine_ended_free(engine->ended);
    g_free(engine->expiring_why);
    writers_free(engine->writers);
    engine_config_free(engine->config);
    g_free(engine);
}
