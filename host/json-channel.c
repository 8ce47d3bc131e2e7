/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-channel.c — see the header. Blocking-with-deadline I/O on one
 * non-blocking socket with poll(); no main loop, because the driver is a
 * straight-line script of requests and each step has its own time limit.
 */
#include "host/json-channel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol/json-stream.h"
#include "protocol/json-writer.h"
#include "common/quiesce-error.h"

#define JSON_CHANNEL_READ_SIZE 4096
#define JSON_CHANNEL_MAX_LINE (10u * 1024 * 1024) /* libvirt's QEMU_AGENT_MAX_RESPONSE */

struct JsonChannel {
    int fd;
    JsonChannelFraming framing;
    JsonStream *stream;   /* STREAM framing */
    GByteArray *line;     /* LINES framing: the partial line */
    GQueue values;        /* parsed, not yet received (JsonValue *) */
    char *bad_line;       /* LINES framing: first line that did not parse */
    gboolean awaiting_sentinel;
    gboolean closed;
    guint garbage;
};

static void channel_emit(void *opaque, JsonValue *value, ProtoError *error)
{
    JsonChannel *channel = opaque;

    if (error) {
        channel->garbage++;
        proto_error_free(error);
        return;
    }
    g_queue_push_tail(&channel->values, value);
}

static int channel_remaining_ms(gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();

    return left <= 0 ? 0 : (int)MIN((left + 999) / 1000, G_MAXINT);
}

static gboolean channel_set_timeout(GError **error, const char *what)
{
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT, "timed out %s", what);
    return FALSE;
}

JsonChannel *json_channel_connect(const char *path, JsonChannelFraming framing,
                                  gint64 deadline, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autoptr(JsonChannel) channel = g_new0(JsonChannel, 1);

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "socket path too long: %s", path);
        return NULL;
    }
    strcpy(addr.sun_path, path);
    channel->fd = -1;
    channel->framing = framing;
    g_queue_init(&channel->values);
    channel->stream = json_stream_new(NULL, channel_emit, channel);
    channel->line = g_byte_array_new();
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            channel->fd = fd;
            return g_steal_pointer(&channel);
        }
        int saved = errno;
        if (fd >= 0) {
            close(fd);
        }
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot connect to %s: %s",
                        path, g_strerror(saved));
            return NULL;
        }
        g_usleep(50 * 1000);
    }
}

void json_channel_free(JsonChannel *channel)
{
    if (!channel) {
        return;
    }
    if (channel->fd >= 0) {
        close(channel->fd);
    }
    g_queue_clear_full(&channel->values, (GDestroyNotify)json_value_free);
    json_stream_free(channel->stream);
    g_byte_array_unref(channel->line);
    g_free(channel->bad_line);
    g_free(channel);
}

gboolean json_channel_send(JsonChannel *channel, const char *bytes, gsize len,
                           gint64 deadline, GError **error)
{
    while (len > 0) {
        ssize_t n = send(channel->fd, bytes, len, MSG_NOSIGNAL);

        if (n > 0) {
            bytes += n;
            len -= (gsize)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "send: %s", g_strerror(errno));
            return FALSE;
        }
        struct pollfd pfd = { .fd = channel->fd, .events = POLLOUT };
        if (poll(&pfd, 1, channel_remaining_ms(deadline)) == 0) {
            return channel_set_timeout(error, "sending");
        }
    }
    return TRUE;
}

gboolean json_channel_send_value(JsonChannel *channel, const JsonValue *value,
                                 gint64 deadline, GError **error)
{
    size_t len = 0;
    g_autofree char *wire = json_value_to_wire(value, &len);
    g_autofree char *line = g_strconcat(wire, "\n", NULL);

    return json_channel_send(channel, line, len + 1, deadline, error);
}

/* LINES framing: each complete line must be exactly one JSON value. */
static void channel_feed_lines(JsonChannel *channel, const char *bytes, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (bytes[i] != '\n') {
            if (channel->line->len < JSON_CHANNEL_MAX_LINE) {
                g_byte_array_append(channel->line, (const guint8 *)&bytes[i], 1);
            }
            continue;
        }
        ProtoError *perror = NULL;
        JsonValue *value = json_parse_string((const char *)channel->line->data,
                                             channel->line->len, &perror);
        if (value && json_value_type(value) == JSON_TYPE_OBJECT) {
            g_queue_push_tail(&channel->values, value);
        } else {
            json_value_free(value);
            if (!channel->bad_line) {
                channel->bad_line = g_strndup((const char *)channel->line->data,
                                              MIN(channel->line->len, 200));
            }
        }
        if (perror) {
            proto_error_free(perror);
        }
        g_byte_array_set_size(channel->line, 0);
    }
}

static void channel_feed(JsonChannel *channel, const char *bytes, gsize len)
{
    if (channel->awaiting_sentinel) {
        const char *sentinel = memchr(bytes, 0xFF, len);

        if (!sentinel) {
            return;
        }
        channel->awaiting_sentinel = FALSE;
        json_stream_reset(channel->stream);
        g_byte_array_set_size(channel->line, 0);
        len -= (gsize)(sentinel + 1 - bytes);
        bytes = sentinel + 1;
    }
    if (channel->framing == JSON_CHANNEL_LINES) {
        channel_feed_lines(channel, bytes, len);
    } else {
        json_stream_feed(channel->stream, bytes, len);
    }
}

/* Reads what is there (waiting until deadline for something); FALSE at the
 * deadline or on EOF. */
static gboolean channel_read_some(JsonChannel *channel, gint64 deadline, GError **error)
{
    char buf[JSON_CHANNEL_READ_SIZE];

    for (;;) {
        ssize_t n = recv(channel->fd, buf, sizeof(buf), 0);

        if (n > 0) {
            channel_feed(channel, buf, (gsize)n);
            return TRUE;
        }
        if (n == 0) {
            channel->closed = TRUE;
            g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                                "the peer closed the connection");
            return FALSE;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "recv: %s", g_strerror(errno));
            return FALSE;
        }
        struct pollfd pfd = { .fd = channel->fd, .events = POLLIN };
        if (poll(&pfd, 1, channel_remaining_ms(deadline)) == 0) {
            return channel_set_timeout(error, "waiting for a reply");
        }
    }
}

JsonValue *json_channel_receive(JsonChannel *channel, gint64 deadline, GError **error)
{
    for (;;) {
        if (!g_queue_is_empty(&channel->values)) {
            return g_queue_pop_head(&channel->values);
        }
        if (channel->bad_line) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "a reply line is not one JSON object: '%s'", channel->bad_line);
            g_clear_pointer(&channel->bad_line, g_free);
            return NULL;
        }
        if (channel->closed) {
            g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                                "the peer closed the connection");
            return NULL;
        }
        if (!channel_read_some(channel, deadline, error)) {
            return NULL;
        }
    }
}

void json_channel_await_sentinel(JsonChannel *channel)
{
    g_queue_clear_full(&channel->values, (GDestroyNotify)json_value_free);
    g_queue_init(&channel->values);
    channel->awaiting_sentinel = TRUE;
}

guint json_channel_garbage_count(const JsonChannel *channel)
{
    return channel->garbage;
}
