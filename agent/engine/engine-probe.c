/*
 * engine-probe.c — everything the engine learns before a session starts:
 * the mounts and devices (fsfreeze/inventory.h), systemd's running state,
 * the writers' trust check, and the eligibility verdict over them. Nothing
 * here freezes or writes; it runs before the first FIFREEZE, never inside
 * the window.
 */
#include "agent/engine/engine-private.h"

#include <unistd.h>

#include "agent/writers/writer-output.h"
#include "agent/writers/writer-spawn.h"

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

EligibilityReport *engine_probe(const EngineConfig *config, Writers *writers,
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
