/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qga-channel.c — see the header.
 */
#include "agent/channels/qga-channel.h"

#include "protocol/proto-session.h"

typedef struct QgaChannel QgaChannel;

/* One host connection's conversation. */
typedef struct {
    QgaChannel *channel; /* borrowed: the owner */
    TransportConn conn;
    ProtoSession *session;
    gboolean feeding; /* inside proto_session_feed(): freeing waits */
    gboolean gone;    /* disconnected while feeding */
} QgaConn;

struct QgaChannel {
    Channel *channel; /* the handle the agent knows us by (borrowed) */
    const char *spec; /* borrowed from channel */
    Transport *transport;
    GHashTable *conns; /* TransportConn -> QgaConn, owned */
    Dispatcher *dispatcher;
    JsonStreamLimits limits;
    const ChannelEvents *events;
    gpointer owner;
};

static void qga_channel_free(gpointer conversation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QgaChannel, qga_channel_free)

static void qga_conn_free(QgaConn *conn)
{
    proto_session_free(conn->session);
    g_free(conn);
}

static void qga_channel_reply(void *opaque, const char *bytes, size_t len)
{
    QgaConn *conn = opaque;
    QgaChannel *channel = conn->channel;

    transport_write(channel->transport, conn->conn, bytes, len);
    if (channel->events->replied) {
        channel->events->replied(channel->owner);
    }
}

/* The conversation of conn, made on first use (the serial transports have
 * one, TRANSPORT_CONN_SOLE, for as long as they are open). */
static QgaConn *qga_channel_conn(QgaChannel *channel, TransportConn id)
{
    QgaConn *conn = g_hash_table_lookup(channel->conns, GUINT_TO_POINTER(id));

    if (!conn) {
        conn = g_new0(QgaConn, 1);
        conn->channel = channel;
        conn->conn = id;
        conn->session =
            proto_session_new(channel->dispatcher, &channel->limits, qga_channel_reply, conn);
        g_hash_table_insert(channel->conns, GUINT_TO_POINTER(id), conn);
    }
    return conn;
}

static void qga_channel_connected(void *opaque, TransportConn id)
{
    QgaChannel *channel = opaque;

    g_debug("%s: host connected (connection %u)", channel->spec, id);
    proto_session_reset(qga_channel_conn(channel, id)->session);
    if (channel->events->host_connected) {
        channel->events->host_connected(channel->channel, id, channel->owner);
    }
}

static void qga_channel_data(void *opaque, TransportConn id, const char *bytes, gsize len)
{
    QgaChannel *channel = opaque;
    QgaConn *conn = qga_channel_conn(channel, id);

    if (channel->events->feeding) {
        channel->events->feeding(channel->channel, id, TRUE, channel->owner);
    }
    conn->feeding = TRUE;
    proto_session_feed(conn->session, bytes, len);
    conn->feeding = FALSE;
    if (channel->events->feeding) {
        channel->events->feeding(channel->channel, id, FALSE, channel->owner);
    }
    if (conn->gone) {
        g_hash_table_remove(channel->conns, GUINT_TO_POINTER(id));
    }
}

static void qga_channel_disconnected(void *opaque, TransportConn id)
{
    QgaChannel *channel = opaque;
    QgaConn *conn = g_hash_table_lookup(channel->conns, GUINT_TO_POINTER(id));

    g_debug("%s: host disconnected (connection %u)", channel->spec, id);
    if (conn && conn->feeding) {
        /* The rest of what it sent is still dispatched (its replies are
         * dropped); the parser goes when the feed returns. */
        conn->gone = TRUE;
    } else if (conn) {
        g_hash_table_remove(channel->conns, GUINT_TO_POINTER(id));
    }
    if (channel->events->host_disconnected) {
        channel->events->host_disconnected(channel->channel, id, channel->owner);
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
    channel->dispatcher = context->dispatcher;
    channel->limits = context->limits;
    channel->conns =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)qga_conn_free);
    channel->transport = transport_new(spec, &qga_channel_transport_events, channel, error);
    if (!channel->transport) {
        return NULL;
    }
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
    g_clear_pointer(&channel->conns, g_hash_table_unref);
    g_free(channel);
}

const ChannelKind channel_kind_qga = {
    .framing = TRANSPORT_FRAMING_STREAM,
    .serves = "QGA requests",
    .new = qga_channel_new,
    .open = qga_channel_open,
    .free = qga_channel_free,
};
