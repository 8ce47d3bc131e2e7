/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isa-serial.c — isa-serial:PATH (default /dev/ttyS0), Proxmox's
 * "agent: type=isa".
 *
 * Set up as qemu-ga does (qga/channel-posix.c): raw termios, 38400 baud,
 * VMIN=1 VTIME=0, input flushed on open. A serial line has no notion of a
 * host connecting, so the host is "connected" from the start; a hang-up or
 * read error reopens the line (a host can recover with the 0xFF resync).
 */
#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "transports/fd-stream.h"
#include "transports/transport.h"

typedef struct {
    int fd;
    FdStream *stream;
    Transport *transport;
} IsaSerial;

static gboolean isa_configure(int fd)
{
    struct termios tio;

    if (tcgetattr(fd, &tio) < 0) {
        return FALSE;
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, B38400);
    cfsetospeed(&tio, B38400);
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    return tcsetattr(fd, TCSANOW, &tio) == 0 && tcflush(fd, TCIFLUSH) == 0;
}

static void isa_data(void *opaque, const char *bytes, gsize len)
{
    IsaSerial *line = opaque;

    line->transport->events.data(line->transport->opaque, TRANSPORT_CONN_SOLE, bytes, len);
}

static void isa_closed(void *opaque);

static gboolean isa_reattach_idle(gpointer user_data)
{
    IsaSerial *line = user_data;

    g_clear_pointer(&line->stream, fd_stream_free);
    line->transport->events.connected(line->transport->opaque, TRANSPORT_CONN_SOLE);
    line->stream = fd_stream_new(line->fd, isa_data, isa_closed, line);
    return G_SOURCE_REMOVE;
}

static void isa_closed(void *opaque)
{
    IsaSerial *line = opaque;

    line->transport->events.disconnected(line->transport->opaque, TRANSPORT_CONN_SOLE);
    /* A tty that reports hang-up keeps doing so; retry after a pause. */
    g_timeout_add_seconds(1, isa_reattach_idle, line);
}

static gboolean isa_open(Transport *transport, GError **error)
{
    IsaSerial *line = transport->priv;

    line->transport = transport;
    line->fd = open(transport->address, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (line->fd < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot open %s: %s",
                    transport->address, g_strerror(errno));
        return FALSE;
    }
    if (!isa_configure(line->fd)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "cannot set %s to raw 38400 baud: %s", transport->address,
                    g_strerror(errno));
        return FALSE;
    }
    transport->events.connected(transport->opaque, TRANSPORT_CONN_SOLE);
    line->stream = fd_stream_new(line->fd, isa_data, isa_closed, line);
    return TRUE;
}

static void isa_write(Transport *transport, TransportConn conn, const char *bytes, gsize len)
{
    IsaSerial *line = transport->priv;

    if (line->stream) {
        fd_stream_write(line->stream, bytes, len);
    }
}

static void isa_close(Transport *transport)
{
    IsaSerial *line = transport->priv;

    if (!line->transport) {
        return;
    }
    while (g_source_remove_by_user_data(line)) {
    }
    g_clear_pointer(&line->stream, fd_stream_free);
    if (line->fd >= 0) {
        close(line->fd);
    }
    line->transport = NULL;
}

const TransportOps transport_isa_serial_ops = {
    .kind = "isa-serial",
    .framing = TRANSPORT_FRAMING_STREAM,
    .default_address = "/dev/ttyS0",
    .priv_size = sizeof(IsaSerial),
    .open = isa_open,
    .write = isa_write,
    .close = isa_close,
};
