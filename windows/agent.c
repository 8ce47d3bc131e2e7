/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent.c — see the header. One thread: it waits on every open channel's
 * event and the stop event, with the engine's next deadline (or a closed
 * channel's retry) as the timeout, so a session's window is kept even
 * when no host says anything.
 */
#include "windows/agent.h"

#include <stdlib.h>

#include "protocol/proto-alloc.h"
#include "protocol/proto-session.h"
#include "windows/channel.h"
#include "windows/commands.h"

typedef struct {
    struct WinAgent *agent;
    WinChannel *channel;
} ReplyTarget;

struct WinAgent {
    WinLog *log;
    HANDLE stop;
    WinEngine *engine;
    Dispatcher *dispatcher;
    WinCommandContext commands;
    WinChannel *channels[WIN_AGENT_MAX_CHANNELS];
    ProtoSession *sessions[WIN_AGENT_MAX_CHANNELS];
    ReplyTarget targets[WIN_AGENT_MAX_CHANNELS];
    size_t n_channels;
};

static void agent_reply(void *opaque, const char *bytes, size_t len)
{
    ReplyTarget *target = opaque;

    if (!win_channel_write(target->channel, bytes, len)) {
        win_log(target->agent->log, WIN_LOG_WARNING, "%s: reply dropped: the host is gone or "
                "does not read", win_channel_name(target->channel));
    }
}

static void on_received(void *owner, WinChannel *channel, const char *bytes, size_t len)
{
    WinAgent *agent = owner;
    int index = win_channel_index(channel);

    /* A request on the preparing host's channel means it is back. */
    win_engine_host_back(agent->engine, index);
    agent->commands.channel = index;
    proto_session_feed(agent->sessions[index], bytes, len);
}

static void on_connected(void *owner, WinChannel *channel)
{
    WinAgent *agent = owner;
    int index = win_channel_index(channel);

    win_log(agent->log, WIN_LOG_DEBUG, "%s: host connected", win_channel_name(channel));
    proto_session_reset(agent->sessions[index]);
    win_engine_host_back(agent->engine, index);
}

static void on_disconnected(void *owner, WinChannel *channel)
{
    WinAgent *agent = owner;

    win_log(agent->log, WIN_LOG_DEBUG, "%s: host left", win_channel_name(channel));
    win_engine_host_lost(agent->engine, win_channel_index(channel));
}

static const WinChannelEvents channel_events = { on_received, on_connected, on_disconnected };

static bool agent_is_frozen(void *context)
{
    WinCommandContext *commands = context;
    return win_engine_is_frozen(commands->engine);
}

WinAgent *win_agent_new(const WinAgentConfig *config, WinLog *log, VssBackendFactory factory,
                        ProtoError **error)
{
    WinAgent *agent = proto_xcalloc(1, sizeof(*agent));

    agent->log = log;
    agent->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    agent->engine = win_engine_new(&config->engine, win_probe_default(), factory, log);
    agent->commands.engine = agent->engine;
    agent->commands.log = log;
    agent->dispatcher = dispatcher_new(&agent->commands, agent_is_frozen);
    agent->commands.dispatcher = agent->dispatcher;
    dispatcher_add_commands(agent->dispatcher, win_commands_basic, win_commands_basic_count);
    dispatcher_add_commands(agent->dispatcher, win_commands_snapshot,
                            win_commands_snapshot_count);
    for (size_t i = 0; i < config->n_channels; i++) {
        WinChannel *channel = win_channel_new(config->channels[i], (int)i, &channel_events,
                                              agent, error);
        if (!channel) {
            win_agent_free(agent);
            return NULL;
        }
        agent->channels[i] = channel;
        agent->targets[i].agent = agent;
        agent->targets[i].channel = channel;
        agent->sessions[i] =
            proto_session_new(agent->dispatcher, NULL, agent_reply, &agent->targets[i]);
        agent->n_channels = i + 1;
    }
    return agent;
}

void win_agent_free(WinAgent *agent)
{
    if (!agent) {
        return;
    }
    /* The engine first: thaw before anything else goes away. */
    win_engine_free(agent->engine);
    for (size_t i = 0; i < agent->n_channels; i++) {
        win_channel_free(agent->channels[i]);
        proto_session_free(agent->sessions[i]);
    }
    dispatcher_free(agent->dispatcher);
    CloseHandle(agent->stop);
    free(agent);
}

HANDLE win_agent_stop_event(WinAgent *agent)
{
    return agent->stop;
}

void win_agent_run(WinAgent *agent)
{
    for (;;) {
        HANDLE handles[WIN_AGENT_MAX_CHANNELS + 1];
        WinChannel *owners[WIN_AGENT_MAX_CHANNELS + 1];
        DWORD n = 0;
        DWORD timeout = win_engine_tick(agent->engine);
        DWORD woke;

        handles[n++] = agent->stop;
        for (size_t i = 0; i < agent->n_channels; i++) {
            DWORD retry;
            win_channel_retry(agent->channels[i]);
            retry = win_channel_timeout(agent->channels[i]);
            timeout = retry < timeout ? retry : timeout;
            if (win_channel_event(agent->channels[i])) {
                owners[n] = agent->channels[i];
                handles[n++] = win_channel_event(agent->channels[i]);
            }
        }
        woke = WaitForMultipleObjects(n, handles, FALSE, timeout);
        if (woke == WAIT_OBJECT_0) {
            win_log(agent->log, WIN_LOG_INFO, "stopping");
            return;
        }
        if (woke > WAIT_OBJECT_0 && woke < WAIT_OBJECT_0 + n) {
            win_channel_dispatch(owners[woke - WAIT_OBJECT_0]);
        } else if (woke == WAIT_FAILED) {
            win_log(agent->log, WIN_LOG_ERROR, "wait failed (%lu)", GetLastError());
            Sleep(100);
        }
    }
}
