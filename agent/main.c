/*
 * main.c — reads options, builds the Agent, runs the loop.
 *
 * quiesced runs in the foreground (systemd Type=simple/notify style) and logs
 * to stderr. SIGTERM and SIGINT stop it cleanly.
 */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/agent.h"
#include "agent/log.h"
#include "transports/transport.h"

#define DEFAULT_CHANNEL "virtio-serial:/dev/virtio-ports/org.qemu.guest_agent.0"
#define DEFAULT_MAX_REQUEST_BYTES (1024u * 1024) /* our requests are tiny */

/* Command-line option variables: the one allowed kind of global (STYLE.md). */
static char **opt_channels;
static char *opt_allow_rpcs;
static char *opt_block_rpcs;
static gboolean opt_verbose;
static gboolean opt_version;
static gint64 opt_max_request_bytes = DEFAULT_MAX_REQUEST_BYTES;
static gint opt_max_depth = 64;

static const GOptionEntry main_options[] = {
    { "channel", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &opt_channels,
      "Serve the host on KIND:ADDRESS (repeatable; default " DEFAULT_CHANNEL ")",
      "KIND:ADDRESS" },
    { "allow-rpcs", 'a', 0, G_OPTION_ARG_STRING, &opt_allow_rpcs,
      "Comma-separated commands to allow; all others are disabled", "LIST" },
    { "block-rpcs", 'b', 0, G_OPTION_ARG_STRING, &opt_block_rpcs,
      "Comma-separated commands to disable (wins over --allow-rpcs)", "LIST" },
    { "max-request-bytes", 0, 0, G_OPTION_ARG_INT64, &opt_max_request_bytes,
      "Largest request accepted, in bytes (default 1 MiB)", "N" },
    { "max-depth", 0, 0, G_OPTION_ARG_INT, &opt_max_depth,
      "Deepest JSON nesting accepted (default 64)", "N" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Log debug messages", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static gboolean main_on_signal(gpointer user_data)
{
    Agent *agent = user_data;

    g_info("stopping on signal");
    agent_quit(agent);
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

static gboolean main_parse(int *argc, char ***argv, AgentConfig *config, GError **error)
{
    g_autoptr(GOptionContext) context = g_option_context_new("- the quiesce guest agent");
    g_autofree char *kinds = transport_kinds_describe();
    g_autofree char *description = g_strdup_printf("Channel kinds: %s.", kinds);

    g_option_context_add_main_entries(context, main_options, NULL);
    g_option_context_set_description(context, description);
    if (!g_option_context_parse(context, argc, argv, error)) {
        return FALSE;
    }
    if (opt_max_request_bytes < 64 || opt_max_depth < 2) {
        g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--max-request-bytes must be >= 64 and --max-depth >= 2");
        return FALSE;
    }
    config->channels = opt_channels ? g_strdupv(opt_channels) : g_strsplit(DEFAULT_CHANNEL, "\n", 0);
    config->allow_rpcs = opt_allow_rpcs ? g_strsplit(opt_allow_rpcs, ",", 0) : NULL;
    config->block_rpcs = opt_block_rpcs ? g_strsplit(opt_block_rpcs, ",", 0) : NULL;
    config->max_request_bytes = (gsize)opt_max_request_bytes;
    config->max_depth = (guint)opt_max_depth;
    return TRUE;
}

int main(int argc, char **argv)
{
    AgentLog log = { 0 };
    g_auto(AgentConfig) config = { 0 };
    g_autoptr(GError) error = NULL;
    g_autoptr(Agent) agent = NULL;

    main_setup_signals();
    if (!main_parse(&argc, &argv, &config, &error)) {
        fprintf(stderr, "quiesced: %s\n", error->message);
        return 2;
    }
    if (opt_version) {
        printf("quiesced %s\n", QUIESCE_VERSION);
        return 0;
    }
    log.verbose = opt_verbose;
    agent_log_install(&log);

    agent = agent_new(&config);
    if (!agent_open_channels(agent, &error)) {
        g_critical("%s", error->message);
        return 1;
    }
    g_unix_signal_add(SIGTERM, main_on_signal, agent);
    g_unix_signal_add(SIGINT, main_on_signal, agent);
    agent_run(agent);
    g_info("stopped");
    return 0;
}
