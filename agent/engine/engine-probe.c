/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine-probe.c — everything the engine learns before a session starts:
 * the mounts and devices (fsfreeze/inventory.h), systemd's running state,
 * the writers' trust check, and the eligibility verdict over them. The
 * inventory may be the one kept from an earlier request when nothing it
 * read has changed (engine-inventory.c). Nothing
 * here freezes or writes; it runs before the first FIFREEZE, never inside
 * the window.
 */
#include "agent/engine/engine-private.h"

#include <unistd.h>

#include "agent/writers/writer-output.h"
#include "agent/writers/writer-spawn.h"
#include "fsfreeze/freeze-order.h"
#include "fsfreeze/fs-type.h"
#include "fsfreeze/mountinfo.h"

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

/* A child snapshot that froze nothing would look like a consistent one: a
 * verdict says there is nothing to make consistent instead. */
static void engine_check_targets(EligibilityReport *report)
{
    if (report->method != SNAPSHOT_METHOD_CHILD_SNAPSHOT || report->targets->len > 0) {
        return;
    }
    eligibility_report_block(report, ENGINE_REASON_NOTHING_TO_FREEZE, NULL,
                             report->confine
                                 ? "nothing to freeze: no writable filesystem on the host's disks "
                                   "is mounted in the confinement, or every one is excluded"
                                 : "nothing to freeze: no writable filesystem on the host's disks "
                                   "is mounted, or every one is excluded");
}

EligibilityReport *engine_probe(const EngineConfig *config, Writers *writers,
                                EngineInventoryCache *cache, gboolean with_state,
                                gboolean *out_cached, GError **error)
{
    gboolean cached = FALSE;
    g_autoptr(InventoryOptions) options = cache ? NULL : engine_config_inventory_options(config);
    g_autoptr(Inventory) inventory = cache ? engine_inventory_get(cache, &cached, error)
                                           : inventory_probe(options, error);
    g_autofree char *state = NULL;
    EligibilityReport *report;

    if (out_cached) {
        *out_cached = cached;
    }
    if (!inventory) {
        return NULL;
    }
    state = with_state ? engine_running_state(config) : NULL;
    report = eligibility_evaluate(inventory, config->policy, state);
    engine_check_writers(writers, report);
    if (with_state) {
        engine_check_targets(report);
    }
    return report;
}

EligibilityReport *engine_config_check(const EngineConfig *config, Writers *writers,
                                       GError **error)
{
    return engine_probe(config, writers, NULL, TRUE, NULL, error);
}

/* Strictly below the confinement, as the freezer's guard wants it, with
 * every alias inside: nothing else can have been frozen. */
static gboolean engine_recovery_confines(const char *confine, const InventoryMount *mount)
{
    if (!confine) {
        return TRUE;
    }
    if (!mountinfo_path_contains(confine, mount->mountpoint) ||
        g_str_equal(confine, mount->mountpoint)) {
        return FALSE;
    }
    for (guint i = 0; i < mount->aliases->len; i++) {
        if (!mountinfo_path_contains(confine, g_ptr_array_index(mount->aliases, i))) {
            return FALSE;
        }
    }
    return TRUE;
}

GPtrArray *engine_probe_recovery_targets(const EngineConfig *config,
                                         EngineInventoryCache *cache, GError **error)
{
    gboolean cached;
    g_autoptr(InventoryOptions) options = cache ? NULL : engine_config_inventory_options(config);
    g_autoptr(Inventory) inventory = cache ? engine_inventory_get(cache, &cached, error)
                                           : inventory_probe(options, error);
    g_autoptr(GPtrArray) mounts = g_ptr_array_new();
    g_autoptr(GError) order_error = NULL;
    GPtrArray *targets;

    if (!inventory) {
        return NULL;
    }
    for (guint i = 0; i < inventory->mounts->len; i++) {
        const InventoryMount *mount = g_ptr_array_index(inventory->mounts, i);
        if (mount->stack && !mount->read_only &&
            fs_type_get_kind(mount->fstype) == FS_TYPE_KIND_FREEZABLE &&
            engine_recovery_confines(config->policy->confine, mount)) {
            g_ptr_array_add(mounts, (gpointer)mount);
        }
    }
    targets = freeze_order_compute(mounts, &order_error);
    if (targets) {
        return targets;
    }
    /* No order (a loop cycle): reversed mount order, children first as in a
     * freeze order, so that the thaw from the end reaches parents first. */
    targets = freeze_target_array_new();
    for (guint i = mounts->len; i-- > 0;) {
        const InventoryMount *mount = g_ptr_array_index(mounts, i);
        g_ptr_array_add(targets, freeze_target_new(mount->mountpoint,
                                                   inventory_mount_get_dev(mount), mount->fstype));
    }
    return targets;
}
