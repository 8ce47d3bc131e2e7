/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fd-stream.c — see the header.
 */
#include "transports/fd-stream.h"

#include <errno.h>
#include <glib-unix.h>
#include <unistd.h>

#define FD_STREAM_READ_SIZE 4096

/* Debug-level traces of the rare paths, timestamped (µs, monotonic). */
#define STREAM_TRACE(fmt, ...) \
    g_debug("fd-stream %" G_GINT64_FORMAT " us: " fmt, g_get_monotonic_time(), __VA_ARGS__)

struct FdStream {
    int fd;
    guint in_watch;
    guint out_watch;
    GByteArray *queue;
    gsize sent; /* bytes at the queue's head already written */
    gboolean closed;
    FdStreamData data;
    FdStreamClosed on_closed;
    void *opaque;
};

static void stream_remove_watches(FdStream *stream)
{
    g_clear_handle_id(&stream->in_watch, g_source_remove);
    g_clear_handle_id(&stream->out_watch, g_source_remove);
}

/* keep_unsent: the peer hung up; what it did not get stays for
 * fd_stream_take_unsent(). Otherwise (a write error, an overfull queue) it is
 * dropped. */
static void stream_end(FdStream *stream, gboolean keep_unsent)
{
    if (stream->closed) {
        return;
    }
    stream->closed = TRUE;
    stream_remove_watches(stream);
    if (stream->sent < stream->queue->len) {
        STREAM_TRACE("fd %d ends with %u bytes unsent, %s", stream->fd,
                     (guint)(stream->queue->len - stream->sent), keep_unsent ? "kept" : "dropped");
    }
    if (!keep_unsent) {
        g_byte_array_set_size(stream->queue, 0);
        stream->sent = 0;
    }
    stream->on_closed(stream->opaque);
}

static gboolean stream_readable(int fd, GIOCondition condition, gpointer user_data)
{
    FdStream *stream = user_data;
    char buf[FD_STREAM_READ_SIZE];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n > 0) {
        stream->data(stream->opaque, buf, (gsize)n);
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(condition & (G_IO_HUP | G_IO_ERR))) {
        return G_SOURCE_CONTINUE;
    }
    /* EOF, a read error or a hang-up with nothing left to read. */
    stream->in_watch = 0;
    stream_end(stream, TRUE);
    return G_SOURCE_REMOVE;
}

/* Writes as much of the queue as the fd takes; FALSE when the stream ended.
 * Written bytes are only counted, not moved: a reply of tens of MiB
 * (guest-file-read, guest-exec-status) goes out in socket-buffer-sized
 * writes, and moving the rest after each would be quadratic. */
static gboolean stream_flush(FdStream *stream)
{
    while (stream->sent < stream->queue->len) {
        ssize_t n = write(stream->fd, stream->queue->data + stream->sent,
                          stream->queue->len - stream->sent);
        if (n > 0) {
            stream->sent += (gsize)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            STREAM_TRACE("fd %d write: EAGAIN, %u bytes queued", stream->fd,
                         (guint)(stream->queue->len - stream->sent));
            return TRUE;
        } else {
            stream_end(stream, FALSE);
            return FALSE;
        }
    }
    g_byte_array_set_size(stream->queue, 0);
    stream->sent = 0;
    return TRUE;
}

static gboolean stream_writable(int fd, GIOCondition condition, gpointer user_data)
{
    FdStream *stream = user_data;

    if (!stream_flush(stream)) {
        return G_SOURCE_REMOVE; /* stream_end() cleared out_watch */
    }
    if (stream->sent < stream->queue->len) {
        return G_SOURCE_CONTINUE;
    }
    stream->out_watch = 0;
    return G_SOURCE_REMOVE;
}

FdStream *fd_stream_new(int fd, FdStreamData data, FdStreamClosed closed, void *opaque)
{
    FdStream *stream = g_new0(FdStream, 1);

    stream->fd = fd;
    stream->data = data;
    stream->on_closed = closed;
    stream->opaque = opaque;
    stream->queue = g_byte_array_new();
    stream->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, stream_readable, stream);
    return stream;
}

void fd_stream_write(FdStream *stream, const char *bytes, gsize len)
{
    gsize pending = stream->queue->len - stream->sent;

    if (stream->closed) {
        return;
    }
    /* The peer stopped reading: a limit on what a peer controls. One reply
     * alone may be larger (see the header). */
    if (pending > 0 && pending + len > FD_STREAM_MAX_QUEUED) {
        stream_end(stream, FALSE);
        return;
    }
    if (stream->sent > 0) {
        g_byte_array_remove_range(stream->queue, 0, (guint)stream->sent);
        stream->sent = 0;
    }
    g_byte_array_append(stream->queue, (const guint8 *)bytes, (guint)len);
    if (!stream_flush(stream)) {
        return;
    }
    if (stream->sent < stream->queue->len && !stream->out_watch) {
        stream->out_watch = g_unix_fd_add(stream->fd, G_IO_OUT, stream_writable, stream);
    }
}

void fd_stream_take_unsent(FdStream *stream, GByteArray *into)
{
    g_byte_array_append(into, stream->queue->data + stream->sent,
                        (guint)(stream->queue->len - stream->sent));
    g_byte_array_set_size(stream->queue, 0);
    stream->sent = 0;
}

void fd_stream_free(FdStream *stream)
{
    if (!stream) {
        return;
    }
    stream_remove_watches(stream);
    g_byte_array_unref(stream->queue);
    g_free(stream);
}
