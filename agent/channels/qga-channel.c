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
    gboolean feeding; /* inside proto_session_feed() or _resume(): freeing waits */
    gboolean gone;    /* disconnected while feeding */
    GByteArray *later; /* input that arrived while feeding (a request of
                        * this connection waits in the engine): fed after */
    gboolean reset_later; /* a host (re)connected while feeding */
} QgaConn;

struct QgaChannel {
    Channel *channel; /* the handle the agent knows us by (borrowed) */
    const char *spec; /* borrowed from channel */
    Transport *transport;
    GHashTable *conns; /* TransportConn -> QgaConn, owned */
    Engine *engine;    /* borrowed: its operation in flight makes requests wait */
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
    if (conn->later) {
        g_byte_array_unref(conn->later);
    }
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

/* While the engine runs an operation, only the commands that answer at
 * once pass; the rest wait, in order (proto-session.h). */
static bool qga_channel_gate(void *opaque, const JsonValue *request)
{
    QgaConn *conn = opaque;
    QgaChannel *channel = conn->channel;

    return !engine_get_busy(channel->engine) ||
           dispatcher_answers_while_busy(channel->dispatcher, request);
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
        proto_session_set_gate(conn->session, qga_channel_gate);
        g_hash_table_insert(channel->conns, GUINT_TO_POINTER(id), conn);
    }
    return conn;
}

static void qga_channel_connected(void *opaque, TransportConn id)
{
    QgaChannel *channel = opaque;

    QgaConn *conn = qga_channel_conn(channel, id);

    g_debug("%s: host connected (connection %u)", channel->spec, id);
    if (conn->feeding) {
        /* A serial port's new host while the last one's request runs: its
         * input starts afresh once that request returns. */
        conn->gone = FALSE;
        conn->reset_later = TRUE;
        g_clear_pointer(&conn->later, g_byte_array_unref);
    } else {
        proto_session_reset(conn->session);
    }
    if (channel->events->host_connected) {
        channel->events->host_connected(channel->channel, id, channel->owner);
    }
}

/* Feeds bytes (may be NULL) to conn's session after what waited in it,
 * then what arrived meanwhile; conn may be freed on return. */
static void qga_conn_serve(QgaConn *conn, const char *bytes, gsize len)
{
    QgaChannel *channel = conn->channel;
    TransportConn id = conn->conn;

    if (conn->feeding) {
        /* Re-entered from a wait of this connection's own request (its
         * transport was not the source being dispatched): keep it for
         * after, so replies stay in request order. */
        if (!conn->later) {
            conn->later = g_byte_array_new();
        }
        g_byte_array_append(conn->later, (const guint8 *)bytes, (guint)len);
        return;
    }
    if (channel->events->feeding) {
        channel->events->feeding(channel->channel, id, TRUE, channel->owner);
    }
    conn->feeding = TRUE;
    proto_session_resume(conn->session);
    if (bytes) {
        proto_session_feed(conn->session, bytes, len);
    }
    if (conn->reset_later && !conn->gone) {
        conn->reset_later = FALSE;
        proto_session_reset(conn->session);
    }
    while (conn->later && conn->later->len > 0 && !conn->gone) {
        g_autoptr(GByteArray) later = g_steal_pointer(&conn->later);
        proto_session_feed(conn->session, (const char *)later->data, later->len);
    }
    conn->feeding = FALSE;
    if (channel->events->feeding) {
        channel->events->feeding(channel->channel, id, FALSE, channel->owner);
    }
    if (conn->gone) {
        g_hash_table_remove(channel->conns, GUINT_TO_POINTER(id));
    }
}

static void qga_channel_data(void *opaque, TransportConn id, const char *bytes, gsize len)
{
    QgaChannel *channel = opaque;

    qga_conn_serve(qga_channel_conn(channel, id), bytes, len);
}

static void qga_channel_resume(gpointer conversation)
{
    QgaChannel *channel = conversation;
    g_autoptr(GList) ids = g_hash_table_get_keys(channel->conns);

    /* A request served here may start another operation (then the others
     * keep waiting) or end a connection: look each one up again. */
    for (GList *l = ids; l && !engine_get_busy(channel->engine); l = l->next) {
        QgaConn *conn = g_hash_table_lookup(channel->conns, l->data);
        if (conn && !conn->feeding && proto_session_is_waiting(conn->session)) {
            qga_conn_serve(conn, NULL, 0);
        }
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
    channel->engine = context->engine;
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
    .resume = qga_channel_resume,
    .free = qga_channel_free,
};
