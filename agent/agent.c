/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent.c — building the context, opening channels, running the loop. It
 * knows no command and no channel kind: the families register themselves
 * (agent/commands/commands.c) and the transport picks the channel kind
 * (agent/channels/channel.c).
 */
#include "agent/agent.h"

#include "agent/channels/channel.h"
#include "agent/commands/commands.h"
#include "common/quiesce-error.h"
#include "common/wait-pump.h"

/* The request being dispatched on one connection. Feeds nest: a long
 * engine operation lets the main loop answer other connections meanwhile
 * (common/wait-pump.h), so several can be on the stack at once. */
typedef struct {
    Channel *channel;  /* borrowed */
    TransportConn conn;
    gboolean gone;     /* that connection hung up during the feed */
} AgentFeed;

/* Main-loop events dispatched per slice of a long wait, at most: enough for
 * every waiting host's request, bounded so the wait's own deadline holds. */
#define AGENT_PUMP_MAX_EVENTS 64

struct Agent {
    AgentConfig config;
    Engine *engine; /* owned: the freeze engine all channels share */
    Dispatcher *dispatcher;
    CommandContext commands; /* what command handlers see */
    GPtrArray *channels;     /* Channel, owned */
    GMainLoop *loop;
    AgentLog *log;           /* borrowed: held in memory while frozen */
    ServiceNotify *notify;   /* borrowed, may be NULL: the service manager */
    GArray *feeds;           /* AgentFeed: the innermost is the last */
    Channel *session_host;   /* the channel that prepared session_id */
    TransportConn session_conn; /* the connection on it that did */
    gboolean session_lost;   /* that connection is gone; grace running */
    char *session_id;        /* owned; the session bound to it, or NULL */
    guint flush_idle;        /* writes the writers' held log soon */
    guint release_idle;      /* writes the log held while frozen, after the
                              * thaw's reply */
    guint resume_idle;       /* serves the requests that waited for the
                              * engine's operation in flight */
};

static void agent_bind_session(gpointer owner, const char *session_id);

/* Low priority: runs once the thaw's reply has been written, so a slow
 * console (a serial port under emulation) does not delay it. */
static gboolean agent_release_idle(gpointer user_data)
{
    Agent *agent = user_data;

    agent->release_idle = 0;
    agent_log_hold(agent->log, FALSE);
    return G_SOURCE_REMOVE;
}

static void agent_frozen_changed(gboolean frozen, gpointer user_data)
{
    Agent *agent = user_data;

    if (agent->log && frozen) {
        g_clear_handle_id(&agent->release_idle, g_source_remove);
        agent_log_hold(agent->log, TRUE);
    } else if (agent->log) {
        agent_log_thawed(agent->log);
        if (!agent->release_idle) {
            agent->release_idle =
                g_idle_add_full(G_PRIORITY_LOW, agent_release_idle, agent, NULL);
        }
    }
    if (agent->notify) {
        service_notify_status(agent->notify, frozen ? AGENT_STATUS_FROZEN : AGENT_STATUS_THAWED);
    }
}

/* What is logged while a session is active says so (QUIESCE_SESSION= in
 * the journal, agent/log.h). */
static void agent_session_changed(const char *session_id, gpointer user_data)
{
    Agent *agent = user_data;

    if (agent->log) {
        agent_log_set_session(agent->log, session_id);
    }
}

/* wait_pump_set(): while one request's writers or freezer wait, the other
 * connections are answered (what may run meanwhile: docs/internals.md,
 * "One request in flight"). Not once the loop was told to quit. */
static void agent_pump(gpointer user_data)
{
    Agent *agent = user_data;

    for (int i = 0; i < AGENT_PUMP_MAX_EVENTS && g_main_loop_is_running(agent->loop) &&
                    g_main_context_iteration(NULL, FALSE);
         i++) {
    }
}

static gboolean agent_resume_idle(gpointer user_data)
{
    Agent *agent = user_data;

    agent->resume_idle = 0;
    for (guint i = 0; i < agent->channels->len; i++) {
        channel_resume(g_ptr_array_index(agent->channels, i));
    }
    return G_SOURCE_REMOVE;
}

/* The engine's operation ended: once its reply is out, serve what waited. */
static void agent_engine_idle(gpointer user_data)
{
    Agent *agent = user_data;

    if (!agent->resume_idle) {
        agent->resume_idle = g_idle_add(agent_resume_idle, agent);
    }
}

static void agent_apply_rpc_lists(Agent *agent)
{
    g_autofree char *unknown_allowed = NULL;
    g_autofree char *unknown_blocked = NULL;

    if (agent->config.allow_rpcs) {
        dispatcher_set_allowed(agent->dispatcher,
                               (const char *const *)agent->config.allow_rpcs, &unknown_allowed);
    }
    if (agent->config.block_rpcs) {
        dispatcher_set_blocked(agent->dispatcher,
                               (const char *const *)agent->config.block_rpcs, &unknown_blocked);
    }
    if (unknown_allowed) {
        g_warning("--allow-rpcs names unknown commands: %s", unknown_allowed);
    }
    if (unknown_blocked) {
        g_warning("--block-rpcs names unknown commands: %s", unknown_blocked);
    }
}

static gboolean agent_flush_idle(gpointer user_data)
{
    Agent *agent = user_data;

    agent->flush_idle = 0;
    engine_flush_logs(agent->engine); /* a no-op while frozen; the thaw flushes */
    return G_SOURCE_REMOVE;
}

/* A writer's line arrived in the held log outside any request (a socket
 * writer registered or was refused): write it out without waiting for the
 * next reply, which may never come before SIGTERM. */
static void agent_writers_logged(gpointer user_data)
{
    Agent *agent = user_data;

    if (!agent->flush_idle) {
        agent->flush_idle = g_idle_add(agent_flush_idle, agent);
    }
}

Agent *agent_new(const AgentConfig *config, EngineConfig *engine_config, Writers *writers,
                 AgentLog *log, ServiceNotify *notify)
{
    Agent *agent = g_new0(Agent, 1);
    g_autoptr(GError) recovery_error = NULL;

    agent->config.channels = g_strdupv(config->channels);
    agent->config.allow_rpcs = g_strdupv(config->allow_rpcs);
    agent->config.block_rpcs = g_strdupv(config->block_rpcs);
    agent->config.max_request_bytes = config->max_request_bytes;
    agent->config.max_depth = config->max_depth;
    agent->log = log;
    agent->notify = notify;
    if (writers) {
        writers_set_log_notify(writers, agent_writers_logged, agent);
    }
    agent->engine =
        engine_new(engine_config, writers, agent_frozen_changed, agent, &recovery_error);
    engine_set_session_changed(agent->engine, agent_session_changed);
    engine_set_idle(agent->engine, agent_engine_idle);
    agent->feeds = g_array_new(FALSE, FALSE, sizeof(AgentFeed));
    if (recovery_error) {
        g_critical("recovering the frozen state: %s", recovery_error->message);
    }
    if (engine_get_ended(agent->engine)) {
        g_warning("%s", engine_get_ended(agent->engine)->message);
    }
    agent->commands = (CommandContext){
        .engine = agent->engine,
        .bind_session = agent_bind_session,
        .owner = agent,
    };
    agent->dispatcher = dispatcher_new(&agent->commands, commands_is_frozen);
    agent->commands.dispatcher = agent->dispatcher;
    commands_register(agent->dispatcher);
    commands_context_init(&agent->commands);
    agent_apply_rpc_lists(agent);
    agent->channels = g_ptr_array_new_with_free_func((GDestroyNotify)channel_free);
    agent->loop = g_main_loop_new(NULL, FALSE);
    return agent;
}

static void agent_replied(gpointer user_data)
{
    Agent *agent = user_data;

    engine_flush_logs(agent->engine);
}

/* The bound session's host lost: the engine starts the grace. */
static void agent_session_host_lost(Agent *agent)
{
    agent->session_lost = TRUE;
    engine_host_lost(agent->engine, agent->session_id);
}

/* A host on the bound session's channel while its own connection is gone:
 * the host came back (one that connects per command does so on a new
 * connection), and the session is bound to this one now. Other clients of
 * the channel do not matter while the preparing connection is there. */
static void agent_session_host_seen(Agent *agent, Channel *channel, TransportConn conn)
{
    if (channel == agent->session_host && agent->session_lost) {
        agent->session_conn = conn;
        agent->session_lost = FALSE;
        engine_host_back(agent->engine, agent->session_id);
    }
}

/* CommandContext.bind_session: the active session was prepared by the
 * request being dispatched; bind it to that request's connection. If that
 * connection already hung up (it sent its requests and left, or it was
 * dropped for not reading its replies), it is lost now: the grace runs,
 * not the whole window. */
static void agent_bind_session(gpointer owner, const char *session_id)
{
    Agent *agent = owner;
    AgentFeed *feed = agent->feeds->len
        ? &g_array_index(agent->feeds, AgentFeed, agent->feeds->len - 1)
        : NULL;

    g_free(agent->session_id);
    agent->session_id = g_strdup(session_id);
    agent->session_host = feed ? feed->channel : NULL;
    agent->session_conn = feed ? feed->conn : 0;
    agent->session_lost = FALSE;
    if (feed && feed->gone) {
        agent_session_host_lost(agent);
    }
}

static void agent_feeding(Channel *channel, TransportConn conn, gboolean begin,
                          gpointer user_data)
{
    Agent *agent = user_data;
    AgentFeed feed = { .channel = channel, .conn = conn };

    if (!begin) {
        g_assert(agent->feeds->len > 0);
        g_array_set_size(agent->feeds, agent->feeds->len - 1);
        return;
    }
    g_array_append_val(agent->feeds, feed);
    engine_retry_recovery(agent->engine); /* "on the next command" */
    agent_session_host_seen(agent, channel, conn);
}

static void agent_host_connected(Channel *channel, TransportConn conn, gpointer user_data)
{
    agent_session_host_seen(user_data, channel, conn);
}

static void agent_host_disconnected(Channel *channel, TransportConn conn, gpointer user_data)
{
    Agent *agent = user_data;

    for (guint i = 0; i < agent->feeds->len; i++) {
        AgentFeed *feed = &g_array_index(agent->feeds, AgentFeed, i);
        if (feed->channel == channel && feed->conn == conn) {
            feed->gone = TRUE;
        }
    }
    if (channel == agent->session_host && conn == agent->session_conn && !agent->session_lost) {
        agent_session_host_lost(agent);
    }
}

static const ChannelEvents agent_channel_events = {
    .replied = agent_replied,
    .feeding = agent_feeding,
    .host_connected = agent_host_connected,
    .host_disconnected = agent_host_disconnected,
};

gboolean agent_open_channels(Agent *agent, GError **error)
{
    ChannelContext context = {
        .engine = agent->engine,
        .dispatcher = agent->dispatcher,
        .limits = {
            .max_message_bytes = agent->config.max_request_bytes,
            .max_tokens = JSON_STREAM_DEFAULT_MAX_TOKENS,
            .max_depth = agent->config.max_depth,
        },
        .events = &agent_channel_events,
        .owner = agent,
    };

    for (char **spec = agent->config.channels; spec && *spec; spec++) {
        g_autoptr(Channel) channel = channel_new(*spec, &context, error);

        if (!channel || !channel_open(channel, error)) {
            return FALSE;
        }
        g_info("serving %s on %s", channel_serves(channel), *spec);
        g_ptr_array_add(agent->channels, g_steal_pointer(&channel));
    }
    return TRUE;
}

char *agent_shutdown_log_path(const Agent *agent)
{
    return g_build_filename(engine_get_config(agent->engine)->state_dir, AGENT_SHUTDOWN_LOG_NAME,
                            NULL);
}

gboolean agent_run(Agent *agent, GError **error)
{
    const EngineSession *session;
    g_autofree char *path = NULL;
    g_autoptr(GError) save_error = NULL;

    wait_pump_set(agent_pump, agent);
    g_main_loop_run(agent->loop);
    wait_pump_set(NULL, NULL);
    engine_shutdown(agent->engine);
    if (!engine_is_frozen(agent->engine)) {
        return TRUE;
    }
    /* engine_shutdown() logged why, into the held log: save it. The state
     * file stays, so a restarted agent thaws at once. */
    session = engine_get_session(agent->engine);
    path = agent_shutdown_log_path(agent);
    if (!agent->log || agent_log_save_held(agent->log, path, &save_error)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "stopping: a thaw failed with filesystems of snapshot session %s frozen; the "
                    "log held while frozen is in %s",
                    session ? session->id : "-", path);
    } else {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "stopping: a thaw failed with filesystems of snapshot session %s frozen; the "
                    "log held while frozen could not be saved (%s) and goes to stderr",
                    session ? session->id : "-", save_error->message);
    }
    return FALSE;
}

void agent_quit(Agent *agent)
{
    g_main_loop_quit(agent->loop);
}

void agent_config_clear(AgentConfig *config)
{
    g_clear_pointer(&config->channels, g_strfreev);
    g_clear_pointer(&config->allow_rpcs, g_strfreev);
    g_clear_pointer(&config->block_rpcs, g_strfreev);
}

void agent_free(Agent *agent)
{
    if (!agent) {
        return;
    }
    g_clear_pointer(&agent->channels, g_ptr_array_unref);
    commands_context_clear(&agent->commands);
    dispatcher_free(agent->dispatcher);
    engine_free(agent->engine);
    g_clear_handle_id(&agent->flush_idle, g_source_remove);
    g_clear_handle_id(&agent->release_idle, g_source_remove);
    g_clear_handle_id(&agent->resume_idle, g_source_remove);
    g_array_unref(agent->feeds);
    g_main_loop_unref(agent->loop);
    agent_config_clear(&agent->config);
    g_free(agent->session_id);
    g_free(agent);
}
