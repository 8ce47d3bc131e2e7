/*
 * listener.c — see the header.
 */
#include "transports/listener.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

static gboolean listener_accept(int fd, GIOCondition condition, gpointer user_data);

static void listener_watch(Listener *listener)
{
    listener->listen_watch =
        g_unix_fd_add(listener->listen_fd, G_IO_IN, listener_accept, listener);
}

static void listener_drop_client(Listener *listener)
{
    g_clear_pointer(&listener->stream, fd_stream_free);
    if (listener->client_fd >= 0) {
        close(listener->client_fd);
        listener->client_fd = -1;
    }
}

static gboolean listener_drop_idle(gpointer user_data)
{
    Listener *listener = user_data;

    listener_drop_client(listener);
    listener_watch(listener);
    return G_SOURCE_REMOVE;
}

static void listener_client_data(void *opaque, const char *bytes, gsize len)
{
    Listener *listener = opaque;
    Transport *transport = listener->transport;

    transport->events.data(transport->opaque, bytes, len);
}

static void listener_client_closed(void *opaque)
{
    Listener *listener = opaque;
    Transport *transport = listener->transport;

    transport->events.disconnected(transport->opaque);
    /* The stream is inside its own callback: free it from an idle. */
    g_idle_add(listener_drop_idle, listener);
}

static gboolean listener_accept(int fd, GIOCondition condition, gpointer user_data)
{
    Listener *listener = user_data;
    Transport *transport = listener->transport;
    int client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (client < 0) {
        /* EAGAIN, ECONNABORTED, EMFILE...: keep listening; nothing to hand on. */
        return G_SOURCE_CONTINUE;
    }
    listener->client_fd = client;
    listener->listen_watch = 0;
    transport->events.connected(transport->opaque);
    listener->stream =
        fd_stream_new(client, listener_client_data, listener_client_closed, listener);
    return G_SOURCE_REMOVE;
}

void listener_start(Listener *listener, Transport *transport, int listen_fd)
{
    listener->transport = transport;
    listener->listen_fd = listen_fd;
    listener->client_fd = -1;
    listener_watch(listener);
}

void listener_write(Listener *listener, const char *bytes, gsize len)
{
    if (listener->stream) {
        fd_stream_write(listener->stream, bytes, len);
    }
}

void listener_stop(Listener *listener)
{
    if (!listener->transport) {
        return;
    }
    g_idle_remove_by_data(listener);
    g_clear_handle_id(&listener->listen_watch, g_source_remove);
    listener_drop_client(listener);
    if (listener->listen_fd >= 0) {
        close(listener->listen_fd);
        listener->listen_fd = -1;
    }
    listener->transport = NULL;
}
