/*
 * channel.c — see the header.
 */
#include "agent/channel.h"

#include "protocol/proto-session.h"
#include "transports/transport.h"

struct AgentChannel {
    char *spec;
    Transport *transport;
    ProtoSession *session;
    const AgentChannelEvents *events;
    gpointer user_data;
};

static void channel_connected(void *opaque)
{
    AgentChannel *channel = opaque;

    g_debug("%s: host connected", channel->spec);
    proto_session_reset(channel->session);
    if (channel->events->host_connected) {
        channel->events->host_connected(channel, channel->user_data);
    }
}

static void channel_data(void *opaque, const char *bytes, gsize len)
{
    AgentChannel *channel = opaque;

    if (channel->events->feeding) {
        channel->events->feeding(channel, TRUE, channel->user_data);
    }
    proto_session_feed(channel->session, bytes, len);
    if (channel->events->feeding) {
        channel->events->feeding(channel, FALSE, channel->user_data);
    }
}

static void channel_disconnected(void *opaque)
{
    AgentChannel *channel = opaque;

    g_debug("%s: host disconnected", channel->spec);
    proto_session_reset(channel->session);
    if (channel->events->host_disconnected) {
        channel->events->host_disconnected(channel, channel->user_data);
    }
}

static void channel_reply(void *opaque, const char *bytes, size_t len)
{
    AgentChannel *channel = opaque;

    transport_write(channel->transport, bytes, len);
    if (channel->events->replied) {
        channel->events->replied(channel->user_data);
    }
}

static const TransportEvents channel_events = {
    .connected = channel_connected,
    .data = channel_data,
    .disconnected = channel_disconnected,
};

AgentChannel *agent_channel_new(const char *spec, Dispatcher *dispatcher,
                                const JsonStreamLimits *limits, const AgentChannelEvents *events,
                                gpointer user_data, GError **error)
{
    g_autoptr(AgentChannel) channel = g_new0(AgentChannel, 1);

    channel->spec = g_strdup(spec);
    channel->events = events;
    channel->user_data = user_data;
    channel->transport = transport_new(spec, &channel_events, channel, error);
    if (!channel->transport) {
        return NULL;
    }
    channel->session = proto_session_new(dispatcher, limits, channel_reply, channel);
    return g_steal_pointer(&channel);
}

gboolean agent_channel_open(AgentChannel *channel, GError **error)
{
    return transport_open(channel->transport, error);
}

const char *agent_channel_spec(const AgentChannel *channel)
{
    return channel->spec;
}

void agent_channel_free(AgentChannel *channel)
{
    if (!channel) {
        return;
    }
    transport_free(channel->transport);
    proto_session_free(channel->session);
    g_free(channel->spec);
    g_free(channel);
}
