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

static gboolean listener_retry(gpointer user_data)
{
    Listener *listener = user_data;

    listener->retry_timer = 0;
    listener_watch(listener);
    return G_SOURCE_REMOVE;
}

/* Errors that concern one connection, which is gone from the queue: keep
 * listening. Anything else (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...) leaves the
 * connection queued and the socket readable. */
static gboolean listener_error_is_transient(int err)
{
    return err == EAGAIN || err == EINTR || err == ECONNABORTED || err == EPROTO || err == EPERM;
}

static gboolean listener_accept(int fd, GIOCondition condition, gpointer user_data)
{
    Listener *listener = user_data;
    Transport *transport = listener->transport;
    int client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int err = client < 0 ? errno : 0;

    if (client < 0 && listener_error_is_transient(err)) {
        return G_SOURCE_CONTINUE;
    }
    if (client < 0) {
        /* Said once, not every LISTENER_RETRY_MS while it lasts. */
        if (err != listener->accept_errno) {
            g_warning("%s:%s: accept: %s; pausing, retrying every %u ms", transport->ops->kind,
                      transport->address, g_strerror(err), LISTENER_RETRY_MS);
        }
        listener->accept_errno = err;
        listener->listen_watch = 0;
        listener->retry_timer = g_timeout_add(LISTENER_RETRY_MS, listener_retry, listener);
        return G_SOURCE_REMOVE;
    }
    if (listener->accept_errno) {
        g_info("%s:%s: accepting again", transport->ops->kind, transport->address);
        listener->accept_errno = 0;
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
    g_clear_handle_id(&listener->retry_timer, g_source_remove);
    listener_drop_client(listener);
    if (listener->listen_fd >= 0) {
        close(listener->listen_fd);
        listener->listen_fd = -1;
    }
    listener->transport = NULL;
}
