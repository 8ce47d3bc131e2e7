/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quiesce-backup.c — the host-side driver: backs up a running QEMU VM through
 * QMP and the guest agent (backup.h), or sends one agent or QMP command (for
 * tests and operators). Reads options, runs one command, prints what it did.
 *
 *   quiesce-backup --qmp QMP.sock --agent QGA.sock backup [--mode libvirt]
 *   quiesce-backup --qmp QMP.sock --no-quiesce backup   (tests: crash-consistent)
 *   quiesce-backup --agent QGA.sock agent '{"execute":"guest-snapshot-status"}'
 *   quiesce-backup --qmp QMP.sock qmp '{"execute":"query-block"}'
 *
 *   quiesce-backup --connect URI backup DOMAIN... --dest DIR [-j N] [--json]
 *
 * Exit status (virt-backup.h): 0 backed up by child snapshot (or without
 * quiescing, --no-quiesce), 3 backed up by the saved-state fallback, 1 no
 * backup, 2 usage; with --connect, 0 every domain by child snapshot, 3
 * every domain backed up but some by saved state, 1 some domain has no
 * backup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json-stream.h"
#include "protocol/json-writer.h"
#include "common/protocol-glib.h"
#include "common/quiesce-error.h"
#include "host/agent-client.h"
#include "host/backup.h"
#include "host/virt-backup.h"

/* Command-line option variables: the one allowed kind of global (docs/style.md §5). */
static char *opt_qmp;
static char *opt_agent;
static char *opt_mode = NULL;
static char *opt_overlay_dir;
static char *opt_backup_dir;
static char *opt_report;
static double opt_agent_timeout = 10;
static double opt_prepare_timeout = 60;
static double opt_command_timeout = 10;
static gboolean opt_keep_overlays;
static gboolean opt_vanish;
static gboolean opt_no_quiesce;
static double opt_linger;
static double opt_hold_frozen;
static gboolean opt_quiet;
static gboolean opt_version;
static char *opt_connect;
static char *opt_dest;
static int opt_jobs = 1;
static gboolean opt_json;

static const GOptionEntry main_options[] = {
    { "qmp", 'q', 0, G_OPTION_ARG_FILENAME, &opt_qmp, "QEMU's QMP unix socket", "PATH" },
    { "agent", 'a', 0, G_OPTION_ARG_FILENAME, &opt_agent,
      "The guest agent's chardev unix socket", "PATH" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &opt_mode,
      "backup: session (default; Hyper-V's flow) or libvirt (virsh snapshot-create --quiesce)",
      "MODE" },
    { "overlay-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_overlay_dir,
      "Where the snapshot overlays go (default: next to each image)", "DIR" },
    { "backup-dir", 'o', 0, G_OPTION_ARG_FILENAME, &opt_backup_dir,
      "Copy the snapshot set here as DEVICE.img", "DIR" },
    { "report", 'r', 0, G_OPTION_ARG_FILENAME, &opt_report,
      "Write what was done as key=value lines", "FILE" },
    { "agent-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opt_agent_timeout,
      "Seconds the agent has to answer a sync before the fallback (10)", "S" },
    { "prepare-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opt_prepare_timeout,
      "Seconds prepare (writers and freeze) may take before the fallback (60)", "S" },
    { "command-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opt_command_timeout,
      "Seconds for every other agent and QMP call (10)", "S" },
    { "keep-overlays", 0, 0, G_OPTION_ARG_NONE, &opt_keep_overlays,
      "Do not merge the overlays back after the backup", NULL },
    { "vanish-after-prepare", 0, 0, G_OPTION_ARG_NONE, &opt_vanish,
      "Tests: exit after a child-snapshot prepare without post (a host that died)", NULL },
    { "no-quiesce", 0, 0, G_OPTION_ARG_NONE, &opt_no_quiesce,
      "Tests and diagnostics: the same atomic snapshot of every disk with no agent, no "
      "prepare/post and no pause: a crash-consistent copy of a running guest (the vm "
      "tests' negative control)",
      NULL },
    { "linger", 0, 0, G_OPTION_ARG_DOUBLE, &opt_linger,
      "Tests: with --vanish-after-prepare, stay connected and silent S seconds first", "S" },
    { "hold-frozen", 0, 0, G_OPTION_ARG_DOUBLE, &opt_hold_frozen,
      "Tests: wait S seconds after the snapshot before post/thaw (the guest stays frozen)", "S" },
    { "quiet", 0, 0, G_OPTION_ARG_NONE, &opt_quiet, "Print only the summary", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
    { "connect", 'c', 0, G_OPTION_ARG_STRING, &opt_connect,
      "libvirt: back up the DOMAINs named after \"backup\" through libvirtd at URI "
      "(qemu:///system, qemu+ssh://HOST/system)", "URI" },
    { "dest", 'd', 0, G_OPTION_ARG_FILENAME, &opt_dest,
      "libvirt: the directory for the copies, on libvirtd's host", "DIR" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt_jobs, "libvirt: domains backed up at once (1)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "libvirt: print the reports as JSON", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static int main_ms(double seconds)
{
    return (int)(seconds * 1000);
}

static gboolean main_parse_request(const char *text, char **command, JsonValue **arguments,
                                   GError **error)
{
    ProtoError *perror = NULL;
    g_autoptr(JsonValue) request = json_parse_string(text, strlen(text), &perror);
    const char *name;

    if (!request) {
        quiesce_error_take_proto(error, perror, "bad request");
        return FALSE;
    }
    name = json_object_get_string(request, "execute");
    if (!name) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                            "the request has no \"execute\"");
        return FALSE;
    }
    *command = g_strdup(name);
    *arguments = json_object_has(request, "arguments")
                     ? json_value_copy(json_object_get(request, "arguments"))
                     : NULL;
    return TRUE;
}

static void main_print_value(const JsonValue *value)
{
    g_autofree char *wire = json_value_to_wire(value, NULL);

    printf("%s\n", wire);
}

/* agent JSON: sync, then one command; prints its return. */
static gboolean main_agent_command(const char *text, GError **error)
{
    g_autofree char *command = NULL;
    JsonValue *arguments = NULL;
    g_autoptr(AgentClient) agent = NULL;
    g_autoptr(JsonValue) result = NULL;

    if (!opt_agent) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT, "--agent is required");
        return FALSE;
    }
    if (!main_parse_request(text, &command, &arguments, error)) {
        return FALSE;
    }
    agent = agent_client_connect(opt_agent, JSON_CHANNEL_STREAM, main_ms(opt_command_timeout), error);
    if (!agent || !agent_client_sync(agent, main_ms(opt_agent_timeout), NULL, error)) {
        json_value_free(arguments);
        return FALSE;
    }
    result = agent_client_execute(agent, command, arguments, TRUE, main_ms(opt_command_timeout), error);
    if (result) {
        main_print_value(result);
    }
    return result != NULL;
}

/* qmp JSON: one QMP command; prints its return. */
static gboolean main_qmp_command(const char *text, GError **error)
{
    g_autofree char *command = NULL;
    JsonValue *arguments = NULL;
    g_autoptr(QmpClient) qmp = NULL;
    g_autoptr(JsonValue) result = NULL;

    if (!opt_qmp) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT, "--qmp is required");
        return FALSE;
    }
    if (!main_parse_request(text, &command, &arguments, error)) {
        return FALSE;
    }
    qmp = qmp_client_connect(opt_qmp, main_ms(opt_command_timeout), error);
    if (!qmp) {
        json_value_free(arguments);
        return FALSE;
    }
    result = qmp_client_execute(qmp, command, arguments, main_ms(opt_command_timeout), error);
    if (result) {
        main_print_value(result);
    }
    return result != NULL;
}

/* *saved_state: backed up, but by the saved-state fallback (exit 3). */
static gboolean main_backup(gboolean *saved_state, GError **error)
{
    BackupOptions options = {
        .qmp_path = opt_qmp,
        .agent_path = opt_agent,
        .overlay_dir = opt_overlay_dir,
        .backup_dir = opt_backup_dir,
        .agent_timeout_ms = main_ms(opt_agent_timeout),
        .prepare_timeout_ms = main_ms(opt_prepare_timeout),
        .command_timeout_ms = main_ms(opt_command_timeout),
        .keep_overlays = opt_keep_overlays,
        .vanish_after_prepare = opt_vanish,
        .linger_ms = main_ms(opt_linger),
        .hold_frozen_ms = main_ms(opt_hold_frozen),
        .quiet = opt_quiet,
    };
    g_autoptr(Report) report = report_new();
    g_autoptr(GError) write_error = NULL;
    gint64 t0 = g_get_monotonic_time();
    gboolean ok;

    if (!opt_qmp || (!opt_agent && !opt_no_quiesce)) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                            "backup needs --qmp and --agent (or --no-quiesce)");
        return FALSE;
    }
    if (opt_no_quiesce && (opt_mode || opt_vanish)) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                            "--no-quiesce takes no --mode and no --vanish-after-prepare");
        return FALSE;
    }
    if (opt_no_quiesce) {
        ok = backup_unquiesced_run(&options, report, error);
    } else if (!opt_mode || strcmp(opt_mode, "session") == 0) {
        ok = backup_session_run(&options, report, error);
    } else if (strcmp(opt_mode, "libvirt") == 0) {
        ok = backup_libvirt_run(&options, report, error);
    } else {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "unknown mode %s (session, libvirt)", opt_mode);
        return FALSE;
    }
    report_set_ms(report, "total-ms", g_get_monotonic_time() - t0);
    if (!ok) {
        report_set(report, "error", "%s", (*error)->message);
    }
    printf("%s\n", ok ? "backup done:" : "NO BACKUP:");
    report_print(report, stdout);
    *saved_state = ok && g_strcmp0(report_get(report, "method"), "saved-state") == 0;
    if (opt_report && !report_write(report, opt_report, &write_error)) {
        fprintf(stderr, "quiesce-backup: %s\n", write_error->message);
    }
    return ok;
}

/* backup DOMAIN... with --connect: the libvirt backend. */
static int main_virt_backup(char **domains)
{
    VirtOptions options = {
        .uri = opt_connect,
        .dest = opt_dest,
        .agent_timeout_s = MAX(1, (int)opt_agent_timeout),
        .prepare_timeout_s = MAX(1, (int)opt_prepare_timeout),
        .command_timeout_s = MAX(1, (int)opt_command_timeout),
        .hold_frozen_ms = main_ms(opt_hold_frozen),
        .jobs = opt_jobs,
        .quiet = opt_quiet,
        .json = opt_json,
        .report_path = opt_report,
    };

    if (!opt_dest || !g_path_is_absolute(opt_dest)) {
        fprintf(stderr, "quiesce-backup: --connect needs --dest with an absolute directory\n");
        return VIRT_EXIT_USAGE;
    }
    if (opt_jobs < 1 || opt_qmp || opt_agent || opt_mode || opt_no_quiesce || opt_vanish) {
        fprintf(stderr, "quiesce-backup: --connect takes -j >= 1 and none of --qmp, --agent, "
                        "--mode, --no-quiesce, --vanish-after-prepare\n");
        return VIRT_EXIT_USAGE;
    }
    return virt_backup_run(&options, domains);
}

static const char main_description[] =
    "libvirt (--connect URI backup DOMAIN... --dest DIR): for each domain, the agent's\n"
    "guest-snapshot-prepare through libvirt; when the guest froze (child snapshot), a\n"
    "push-mode backup job of every disk starts while it is frozen, guest-snapshot-post\n"
    "thaws it, and the disks are copied in the background to DIR/DOMAIN.TARGET.img on\n"
    "libvirtd's host. When the guest answers saved-state, the agent is missing or slow,\n"
    "or post fails (the copy is then discarded), the domain is paused, its disks copied\n"
    "and its memory saved to DIR/DOMAIN.memory (a `virsh restore` image), then resumed.\n"
    "-j N backs up N domains at once. Exit status: 0 every domain by child\n"
    "snapshot, 3 every domain backed up but some by saved state, 1 some domain has no\n"
    "backup, 2 usage.";

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) context = g_option_context_new(
        "backup [DOMAIN...] | agent JSON | qmp JSON - back up a VM through its agent");
    g_autoptr(GError) error = NULL;
    gboolean ok;
    gboolean saved_state = FALSE;

    g_option_context_add_main_entries(context, main_options, NULL);
    g_option_context_set_description(context, main_description);
    if (g_option_context_parse(context, &argc, &argv, &error) && opt_version) {
        printf("quiesce-backup %s\n", QUIESCE_VERSION);
        return 0;
    }
    if (error || argc < 2) {
        fprintf(stderr, "quiesce-backup: %s\n", error ? error->message : "no command (backup, agent, qmp)");
        return 2;
    }
    if (opt_connect) {
        if (strcmp(argv[1], "backup") != 0 || argc < 3) {
            fprintf(stderr, "quiesce-backup: usage: --connect URI backup DOMAIN... --dest DIR\n");
            return VIRT_EXIT_USAGE;
        }
        return main_virt_backup(argv + 2);
    }
    if (strcmp(argv[1], "backup") == 0 && argc == 2) {
        ok = main_backup(&saved_state, &error);
    } else if (strcmp(argv[1], "agent") == 0 && argc == 3) {
        ok = main_agent_command(argv[2], &error);
    } else if (strcmp(argv[1], "qmp") == 0 && argc == 3) {
        ok = main_qmp_command(argv[2], &error);
    } else {
        fprintf(stderr, "quiesce-backup: usage: backup | agent JSON | qmp JSON\n");
        return 2;
    }
    if (!ok) {
        fprintf(stderr, "quiesce-backup: %s\n", error->message);
        return g_error_matches(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT) ? 2 : 1;
    }
    return saved_state ? VIRT_EXIT_SAVED_STATE : VIRT_EXIT_CHILD_SNAPSHOT;
}
