/*
 * qga-channel.c — see the header.
 */
#include "agent/channels/qga-channel.h"

#include "protocol/proto-session.h"

typedef struct {
    Channel *channel; /* the handle the agent knows us by (borrowed) */
    const char *spec; /* borrowed from channel */
    Transport *transport;
    ProtoSession *session;
    const ChannelEvents *events;
    gpointer owner;
} QgaChannel;

static void qga_channel_free(gpointer conversation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QgaChannel, qga_channel_free)

static void qga_channel_connected(void *opaque)
{
    QgaChannel *channel = opaque;

    g_debug("%s: host connected", channel->spec);
    proto_session_reset(channel->session);
    if (channel->events->host_connected) {
        channel->events->host_connected(channel->channel, channel->owner);
    }
}

static void qga_channel_data(void *opaque, const char *bytes, gsize len)
{
    QgaChannel *channel = opaque;

    if (channel->events->feeding) {
        channel->events->feeding(channel->channel, TRUE, channel->owner);
    }
    proto_session_feed(channel->session, bytes, len);
    if (channel->events->feeding) {
        channel->events->feeding(channel->channel, FALSE, channel->owner);
    }
}

static void qga_channel_disconnected(void *opaque)
{
    QgaChannel *channel = opaque;

    g_debug("%s: host disconnected", channel->spec);
    proto_session_reset(channel->session);
    if (channel->events->host_disconnected) {
        channel->events->host_disconnected(channel->channel, channel->owner);
    }
}

static void qga_channel_reply(void *opaque, const char *bytes, size_t len)
{
    QgaChannel *channel = opaque;

    transport_write(channel->transport, bytes, len);
    if (channel->events->replied) {
        channel->events->replied(channel->owner);
    }
}

static const TransportEvents qga_channel_transport_events = {
    .connected = qga_channel_connected,
    .data = qga_channel_data,
    .disconnected = qga_channel_disconnected,
};

static gpointer qga_channel_new(Channel *handle, const char *spec, const ChannelContext *context,
                                GError **error)
{
    g_autoptr(QgaChannel) channel = g_new0(QgaChannel, 1);

    channel->channel = handle;
    channel->spec = channel_spec(handle);
    channel->events = context->events;
    channel->owner = context->owner;
    channel->transport = transport_new(spec, &qga_channel_transport_events, channel, error);
    if (!channel->transport) {
        return NULL;
    }
    channel->session =
        proto_session_new(context->dispatcher, &context->limits, qga_channel_reply, channel);
    return g_steal_pointer(&channel);
}

static gboolean qga_channel_open(gpointer conversation, GError **error)
{
    QgaChannel *channel = conversation;

    return transport_open(channel->transport, error);
}

static void qga_channel_free(gpointer conversation)
{
    QgaChannel *channel = conversation;

    if (!channel) {
        return;
    }
    transport_free(channel->transport);
    proto_session_free(channel->session);
    g_free(channel);
}

const ChannelKind channel_kind_qga = {
    .framing = TRANSPORT_FRAMING_STREAM,
    .serves = "QGA requests",
    .new = qga_channel_new,
    .open = qga_channel_open,
    .free = qga_channel_free,
};
