/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c — reads options and the configuration file, builds the Agent, runs
 * the loop. `--check` prints the eligibility report instead and exits, after
 * the whole configuration was validated (exit 2 naming the bad key, as at
 * start); `--print-config` prints the effective configuration.
 *
 * quiesced runs in the foreground (systemd style) and logs to stderr.
 * SIGTERM and SIGINT stop it cleanly; anything still frozen is thawed first.
 * If that thaw fails it exits with status 1, and the log lines held while
 * frozen go to <state dir>/shutdown-log rather than being lost.
 */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/agent.h"
#include "agent/commands/report-json.h"
#include "agent/config.h"
#include "agent/log.h"
#include "agent/service-notify.h"
#include "agent/writers/writer-qga-hooks.h"
#include "protocol/json-writer.h"
#include "fsfreeze/report-table.h"
#include "transports/transport.h"

#define DEFAULT_CHANNEL "virtio-serial:/dev/virtio-ports/org.qemu.guest_agent.0"
#define DEFAULT_MAX_REQUEST_BYTES (1024u * 1024) /* our requests are tiny */
#define DEFAULT_MAX_DEPTH 64

/* Command-line option variables: the one allowed kind of global (docs/style.md §5). */
static char **opt_channels;
static char *opt_allow_rpcs;
static char *opt_block_rpcs;
static char *opt_config;
static char *opt_confine;
static char *opt_state_dir;
static char **opt_exclude;
static gboolean opt_strict;
static gboolean opt_check;
static gboolean opt_json;
static gboolean opt_print_config;
static gboolean opt_verbose;
static gboolean opt_version;
/* Numeric options: 0 = not given (every range starts at 1 or more). */
static gint64 opt_window;
static gint64 opt_max_request_bytes;
static gint64 opt_max_depth;

typedef struct {
    const char *long_name;
    char short_name; /* 0: none */
    gint64 min;
    gint64 max;
    gint64 *value;
} MainNumberOption;

/* The ranges are config.h's, so the command line and the file agree. */
static const MainNumberOption main_number_options[] = {
    { "freeze-window", 'w', CONFIG_WINDOW_SECONDS_MIN, CONFIG_WINDOW_SECONDS_MAX, &opt_window },
    { "max-request-bytes", 0, CONFIG_MAX_REQUEST_BYTES_MIN, CONFIG_MAX_REQUEST_BYTES_MAX,
      &opt_max_request_bytes },
    { "max-depth", 0, CONFIG_MAX_DEPTH_MIN, CONFIG_MAX_DEPTH_MAX, &opt_max_depth },
};

/* GOptionArgFunc for the numeric options: range-checked at parse time, so a
 * negative or zero value is an error (exit status 2), never a silent
 * default or a huge unsigned number. */
static gboolean main_parse_number(const char *option_name, const char *value, gpointer data,
                                  GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(main_number_options); i++) {
        const MainNumberOption *option = &main_number_options[i];
        g_autofree char *long_name = g_strconcat("--", option->long_name, NULL);
        char short_name[3] = { '-', option->short_name, '\0' };
        g_autoptr(GError) cause = NULL;

        if (!g_str_equal(option_name, long_name) &&
            !(option->short_name && g_str_equal(option_name, short_name))) {
            continue;
        }
        if (!config_parse_number(value, option->min, option->max, option->value, &cause)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s", long_name,
                        cause->message);
            return FALSE;
        }
        return TRUE;
    }
    g_assert_not_reached();
}

static const GOptionEntry main_options[] = {
    { "channel", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &opt_channels,
      "Serve the host on KIND:ADDRESS (repeatable; default " DEFAULT_CHANNEL ")",
      "KIND:ADDRESS" },
    { "config", 'f', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "Configuration file (default " CONFIG_DEFAULT_PATH " when it exists)", "FILE" },
    { "allow-rpcs", 'a', 0, G_OPTION_ARG_STRING, &opt_allow_rpcs,
      "Comma-separated commands to allow; all others are disabled", "LIST" },
    { "block-rpcs", 'b', 0, G_OPTION_ARG_STRING, &opt_block_rpcs,
      "Comma-separated commands to disable (wins over --allow-rpcs)", "LIST" },
    { "confine", 0, 0, G_OPTION_ARG_FILENAME, &opt_confine,
      "Only consider filesystems mounted at or under DIR", "DIR" },
    { "exclude", 'x', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_exclude,
      "Leave the filesystem mounted at PATH out of every freeze (repeatable)", "PATH" },
    { "freeze-window", 'w', 0, G_OPTION_ARG_CALLBACK, main_parse_number,
      "Thaw on our own after N seconds frozen (" G_STRINGIFY(CONFIG_WINDOW_SECONDS_MIN) " to "
      G_STRINGIFY(CONFIG_WINDOW_SECONDS_MAX) ", default 60)", "N" },
    { "state-dir", 't', 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
      "Where the frozen state is kept (default " ENGINE_DEFAULT_STATE_DIR ")", "DIR" },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &opt_strict,
      "Hyper-V's rule: anything but basic disks means saved-state", NULL },
    { "check", 0, 0, G_OPTION_ARG_NONE, &opt_check,
      "Print the eligibility report and exit (0 eligible, 1 not)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "With --check: print JSON", NULL },
    { "print-config", 0, 0, G_OPTION_ARG_NONE, &opt_print_config,
      "Print the effective configuration (file and command line) and exit", NULL },
    { "max-request-bytes", 0, 0, G_OPTION_ARG_CALLBACK, main_parse_number,
      "Largest request accepted, in bytes (" G_STRINGIFY(CONFIG_MAX_REQUEST_BYTES_MIN) " to "
      G_STRINGIFY(CONFIG_MAX_REQUEST_BYTES_MAX) ", default 1 MiB)", "N" },
    { "max-depth", 0, 0, G_OPTION_ARG_CALLBACK, main_parse_number,
      "Deepest JSON nesting accepted (" G_STRINGIFY(CONFIG_MAX_DEPTH_MIN) " to "
      G_STRINGIFY(CONFIG_MAX_DEPTH_MAX) ", default 64)", "N" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Log debug messages", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
};

typedef struct {
    Agent *agent;
    ServiceNotify *notify;
} MainStop;

static gboolean main_on_signal(gpointer user_data)
{
    MainStop *stop = user_data;

    g_info("stopping on signal");
    service_notify_stopping(stop->notify, "stopping: thawing first");
    agent_quit(stop->agent);
    return G_SOURCE_CONTINUE;
}

/*
 * SIGIO is how the virtio-serial port announces a host (dis)connect; it is
 * read from a signalfd, which needs it blocked in every thread, so block it
 * before anything can start a thread. Writes to a vanished socket peer must
 * return EPIPE, not kill us.
 */
static void main_setup_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Command-line settings win over the configuration file. */
static gboolean main_apply_options(AgentConfig *config, EngineConfig *engine, GError **error)
{
    if (opt_channels) {
        g_strfreev(config->channels);
        config->channels = g_strdupv(opt_channels);
    }
    if (opt_allow_rpcs) {
        g_strfreev(config->allow_rpcs);
        config->allow_rpcs = g_strsplit(opt_allow_rpcs, ",", 0);
    }
    if (opt_block_rpcs) {
        g_strfreev(config->block_rpcs);
        config->block_rpcs = g_strsplit(opt_block_rpcs, ",", 0);
    }
    if (opt_max_request_bytes) {
        config->max_request_bytes = (gsize)opt_max_request_bytes;
    }
    if (opt_max_depth) {
        config->max_depth = (guint)opt_max_depth;
    }
    if (opt_window) {
        engine->window_seconds = (guint)opt_window;
    }
    if (opt_state_dir) {
        g_free(engine->state_dir);
        engine->state_dir = g_strdup(opt_state_dir);
    }
    engine->policy->strict = engine->policy->strict || opt_strict;
    for (char **path = opt_exclude; path && *path; path++) {
        if (!eligibility_policy_add_exclude(engine->policy, *path, error)) {
            return FALSE;
        }
    }
    if (engine->writers.compat_detect) {
        /* qemu-ga's hooks run only where qemu-ga would have run them. */
        g_strfreev(engine->writers.compat_script_dirs);
        engine->writers.compat_script_dirs = writer_qga_hooks_detect("/", NULL);
    }
    return !opt_confine || (config_check_confine(opt_confine, error) &&
                            eligibility_policy_set_confine(engine->policy, opt_confine, error));
}

static gboolean main_parse(int *argc, char ***argv, AgentConfig *config, EngineConfig *engine,
                           GError **error)
{
    g_autoptr(GOptionContext) context = g_option_context_new("- the quiesce guest agent");
    g_autofree char *kinds = transport_kinds_describe();
    g_autofree char *description = g_strdup_printf("Channel kinds: %s.", kinds);

    g_option_context_add_main_entries(context, main_options, NULL);
    g_option_context_set_description(context, description);
    if (!g_option_context_parse(context, argc, argv, error)) {
        return FALSE;
    }
    if (opt_version) {
        return TRUE; /* main() prints it: no configuration needed, or read */
    }
    if (opt_json && !opt_check) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "--json goes with --check");
        return FALSE;
    }
    config->channels = g_strsplit(DEFAULT_CHANNEL, "\n", 0);
    config->max_request_bytes = DEFAULT_MAX_REQUEST_BYTES;
    config->max_depth = DEFAULT_MAX_DEPTH;
    return config_load(opt_config ? opt_config : CONFIG_DEFAULT_PATH, opt_config != NULL, config,
                       engine, error) &&
           main_apply_options(config, engine, error) && config_validate(config, engine, error);
}

/* --check: the report for a person (a table) or a program (--json). */
static int main_check(EngineConfig *engine)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(Writers) writers = NULL;
    g_autoptr(EligibilityReport) report = NULL;

    /* Only the scripts' trust check: no socket, a running agent owns it. */
    g_clear_pointer(&engine->writers.socket_path, g_free);
    writers = writers_new(&engine->writers, &error);
    report = writers ? engine_config_check(engine, writers, &error) : NULL;
    if (!report) {
        fprintf(stderr, "quiesced: %s\n", error->message);
        return 2;
    }
    if (opt_json) {
        json_autoptr *json = report_json_eligibility(report);
        char *text = json_value_to_pretty(json, NULL);
        printf("%s\n", text);
        free(text);
    } else {
        g_autoptr(GString) out = g_string_new(NULL);
        report_table_render(report, REPORT_TABLE_FLAG_DISKS, out);
        fputs(out->str, stdout);
    }
    return report->method == SNAPSHOT_METHOD_CHILD_SNAPSHOT ? 0 : 1;
}

/*
 * A thaw failed while stopping, so filesystems stay frozen: exit status 1.
 * Freeing the agent tries the thaw once more; what that logs is held too and
 * joins the saved log. Said on stderr directly, not through the held log.
 */
static int main_stop_frozen(AgentLog *log, Agent **agent, const GError *error)
{
    g_autofree char *path = agent_shutdown_log_path(*agent);

    gboolean still_frozen;

    g_clear_pointer(agent, agent_free);
    still_frozen = agent_log_holding_frozen(log); /* the thaw ends holding */
    agent_log_release(log, path);
    fprintf(stderr, "quiesced: %s; %s\n", error->message,
            still_frozen ? "they are still frozen" : "a last attempt at exit thawed them");
    return 1;
}

int main(int argc, char **argv)
{
    AgentLog log = { 0 };
    g_auto(AgentConfig) config = { 0 };
    g_autoptr(EngineConfig) engine = engine_config_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(Writers) writers = NULL;
    g_autoptr(Agent) agent = NULL;
    g_autoptr(ServiceNotify) notify = NULL;
    MainStop stop = { 0 };
    guint64 busy_usec;

    main_setup_signals();
    if (!main_parse(&argc, &argv, &config, engine, &error)) {
        fprintf(stderr, "quiesced: %s\n", error->message);
        return 2;
    }
    if (opt_version) {
        printf("quiesced %s\n", QUIESCE_VERSION);
        return 0;
    }
    if (opt_print_config) {
        g_autofree char *text = config_to_string(&config, engine);
        fputs(text, stdout);
        return 0;
    }
    if (opt_check) {
        return main_check(engine);
    }
    log.verbose = opt_verbose;
    agent_log_install(&log);

    /* Before any socket: a second agent must not take over the first's. */
    if (!engine_config_lock(engine, &error)) {
        g_critical("%s", error->message);
        return 1;
    }
    writers = writers_new(&engine->writers, &error);
    if (!writers) {
        g_critical("writers: %s", error->message);
        return 1;
    }
    notify = service_notify_new();
    busy_usec = engine_config_longest_busy_usec(engine);
    agent = agent_new(&config, g_steal_pointer(&engine), g_steal_pointer(&writers), &log, notify);
    stop = (MainStop){ .agent = agent, .notify = notify };
    /* Before the channels: a host (or test) may connect and send SIGTERM as
     * soon as a socket listens, and the default action would kill us. */
    g_unix_signal_add(SIGTERM, main_on_signal, &stop);
    g_unix_signal_add(SIGINT, main_on_signal, &stop);
    if (!agent_open_channels(agent, &error)) {
        g_critical("%s", error->message);
        return 1;
    }
    service_notify_watchdog_start(notify, busy_usec);
    service_notify_ready(notify, AGENT_STATUS_THAWED);
    if (!agent_run(agent, &error)) {
        return main_stop_frozen(&log, &agent, error);
    }
    /* The thaw at stop left the held lines queued for a main loop that no
     * longer runs (agent/log.h). */
    agent_log_release(&log, NULL);
    g_info("stopped");
    return 0;
}
