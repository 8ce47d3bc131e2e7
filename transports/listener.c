/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * listener.c — see the header.
 */
#include "transports/listener.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    Listener *listener; /* borrowed: the owner */
    TransportConn conn;
    int fd;
    FdStream *stream;
    gboolean gone;      /* hung up; freed from the listener's idle */
} ListenerClient;

static gboolean listener_accept(int fd, GIOCondition condition, gpointer user_data);

static void listener_client_free(ListenerClient *client)
{
    fd_stream_free(client->stream);
    close(client->fd);
    g_free(client);
}

static void listener_watch(Listener *listener)
{
    listener->listen_watch =
        g_unix_fd_add(listener->listen_fd, G_IO_IN, listener_accept, listener);
}

static gboolean listener_reap(gpointer user_data)
{
    Listener *listener = user_data;

    listener->reap_idle = 0;
    for (guint i = listener->clients->len; i > 0; i--) {
        if (((ListenerClient *)g_ptr_array_index(listener->clients, i - 1))->gone) {
            g_ptr_array_remove_index(listener->clients, i - 1);
        }
    }
    /* A place is free again: accept the next client, unless paused. */
    if (!listener->listen_watch && !listener->retry_timer &&
        listener->clients->len < LISTENER_MAX_CLIENTS) {
        listener_watch(listener);
    }
    return G_SOURCE_REMOVE;
}

static void listener_client_data(void *opaque, const char *bytes, gsize len)
{
    ListenerClient *client = opaque;
    Transport *transport = client->listener->transport;

    transport->events.data(transport->opaque, client->conn, bytes, len);
}

static void listener_client_closed(void *opaque)
{
    ListenerClient *client = opaque;
    Listener *listener = client->listener;
    Transport *transport = listener->transport;

    client->gone = TRUE;
    transport->events.disconnected(transport->opaque, client->conn);
    /* The stream is inside its own callback: free it from an idle. */
    if (!listener->reap_idle) {
        listener->reap_idle = g_idle_add(listener_reap, listener);
    }
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
    int client_fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int err = client_fd < 0 ? errno : 0;
    ListenerClient *client;

    if (client_fd < 0 && listener_error_is_transient(err)) {
        return G_SOURCE_CONTINUE;
    }
    if (client_fd < 0) {
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
    client = g_new0(ListenerClient, 1);
    client->listener = listener;
    client->conn = ++listener->last_conn;
    client->fd = client_fd;
    g_ptr_array_add(listener->clients, client);
    transport->events.connected(transport->opaque, client->conn);
    client->stream =
        fd_stream_new(client_fd, listener_client_data, listener_client_closed, client);
    if (listener->clients->len >= LISTENER_MAX_CLIENTS) {
        listener->listen_watch = 0; /* full: the next ones wait in the backlog */
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void listener_start(Listener *listener, Transport *transport, int listen_fd)
{
    listener->transport = transport;
    listener->listen_fd = listen_fd;
    listener->clients = g_ptr_array_new_with_free_func((GDestroyNotify)listener_client_free);
    listener_watch(listener);
}

void listener_write(Listener *listener, TransportConn conn, const char *bytes, gsize len)
{
    for (guint i = 0; listener->clients && i < listener->clients->len; i++) {
        ListenerClient *client = g_ptr_array_index(listener->clients, i);
        if (client->conn == conn) {
            if (!client->gone) {
                fd_stream_write(client->stream, bytes, len);
            }
            return;
        }
    }
}

void listener_stop(Listener *listener)
{
    if (!listener->transport) {
        return;
    }
    g_clear_handle_id(&listener->reap_idle, g_source_remove);
    g_clear_handle_id(&listener->listen_watch, g_source_remove);
    g_clear_handle_id(&listener->retry_timer, g_source_remove);
    g_clear_pointer(&listener->clients, g_ptr_array_unref);
    if (listener->listen_fd >= 0) {
        close(listener->listen_fd);
        listener->listen_fd = -1;
    }
    listener->transport = NULL;
}
